//! Clubs. Club members, admins and activities were retired by Strava on 2026-09-01: the
//! methods stay, deprecated, so old code compiles and gets Strava's answer as an error.

use super::{ListRequest, paged_by_id, wire};
use crate::api_v3::ApiV3;
use crate::error::Result;
use crate::types::{ClubActivity, ClubAthlete, DetailedClub, SummaryAthlete, SummaryClub};
use crate::{Client, Id};

impl Client {
    /// A club by id.
    pub async fn get_club(&self, club_id: impl Into<Id>) -> Result<DetailedClub> {
        ApiV3::call(
            "getClubById",
            self.generated().get_club_by_id().id(club_id.into()).send(),
        )
        .await
    }

    /// The clubs the athlete belongs to.
    pub fn get_athlete_clubs(&self) -> ListRequest<SummaryClub> {
        ListRequest::new(self, |client, page, per_page| async move {
            ApiV3::call(
                "getLoggedInAthleteClubs",
                client
                    .generated()
                    .get_logged_in_athlete_clubs()
                    .page(wire(page))
                    .per_page(wire(per_page))
                    .send(),
            )
            .await
        })
    }

    /// A club's members.
    #[deprecated(note = "retired by Strava on 2026-09-01: live calls answer 404 or 401")]
    pub fn get_club_members(&self, club_id: impl Into<Id>) -> ListRequest<ClubAthlete> {
        paged_by_id!(
            self,
            club_id.into(),
            "getClubMembersById",
            get_club_members_by_id
        )
    }

    /// A club's administrators.
    #[deprecated(note = "retired by Strava on 2026-09-01: live calls answer 404 or 401")]
    pub fn get_club_admins(&self, club_id: impl Into<Id>) -> ListRequest<SummaryAthlete> {
        paged_by_id!(
            self,
            club_id.into(),
            "getClubAdminsById",
            get_club_admins_by_id
        )
    }

    /// A club's recent activities.
    #[deprecated(note = "retired by Strava on 2026-09-01: live calls answer 404 or 401")]
    pub fn get_club_activities(&self, club_id: impl Into<Id>) -> ListRequest<ClubActivity> {
        paged_by_id!(
            self,
            club_id.into(),
            "getClubActivitiesById",
            get_club_activities_by_id
        )
    }
}
