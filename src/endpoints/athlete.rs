//! The authenticated athlete: the weight as one argument.

use crate::Client;
use crate::operations::UpdateLoggedInAthlete;

impl Client {
    /// Sets the athlete's weight in kilograms (scope `profile:write`): the
    /// [`update_logged_in_athlete`](Client::update_logged_in_athlete) builder with its
    /// body set.
    ///
    /// ```no_run
    /// # async fn run(client: stravalib::Client) -> stravalib::Result<()> {
    /// let athlete = client.update_athlete_weight(71.5).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn update_athlete_weight(&self, kilograms: f64) -> UpdateLoggedInAthlete<'_> {
        self.update_logged_in_athlete()
            .body_map(move |body| body.weight(kilograms))
    }
}
