//! The authenticated athlete: profile, weight, zones, totals.

use crate::api_v3::ApiV3;
use crate::error::Result;
use crate::types::{ActivityStats, DetailedAthlete, Zones};
use crate::{Client, Id};

impl Client {
    /// Sets the athlete's weight in kilograms (scope `profile:write`).
    pub async fn update_athlete_weight(&self, kilograms: f64) -> Result<DetailedAthlete> {
        if !kilograms.is_finite() || kilograms <= 0.0 {
            return Err(crate::Error::invalid_input(format!(
                "weight must be a positive number of kilograms, not {kilograms}"
            )));
        }
        ApiV3::call(
            "updateLoggedInAthlete",
            self.generated()
                .update_logged_in_athlete()
                .body_map(|b| b.weight(kilograms))
                .send(),
        )
        .await
    }

    /// The athlete's heart-rate and power zones (scope `profile:read_all`).
    pub async fn get_athlete_zones(&self) -> Result<Zones> {
        ApiV3::call(
            "getLoggedInAthleteZones",
            self.generated().get_logged_in_athlete_zones().send(),
        )
        .await
    }

    /// Totals of the athlete `athlete_id`, which must be the authenticated athlete.
    pub async fn get_athlete_stats(&self, athlete_id: impl Into<Id>) -> Result<ActivityStats> {
        ApiV3::call(
            "getStats",
            self.generated().get_stats().id(athlete_id.into()).send(),
        )
        .await
    }
}
