//! Routes: one, an athlete's list, and GPX/TCX exports.

use bytes::Bytes;
use futures::TryStreamExt;

use super::{ListRequest, paged_by_id};
use crate::api_v3::ApiV3;
use crate::error::{Error, Result};
use crate::types::Route;
use crate::{Client, Id};

impl Client {
    /// A route by id.
    pub async fn get_route(&self, route_id: impl Into<Id>) -> Result<Route> {
        ApiV3::call(
            "getRouteById",
            self.generated()
                .get_route_by_id()
                .id(route_id.into())
                .send(),
        )
        .await
    }

    /// The routes an athlete created.
    pub fn get_routes(&self, athlete_id: impl Into<Id>) -> ListRequest<Route> {
        paged_by_id!(
            self,
            athlete_id.into(),
            "getRoutesByAthleteId",
            get_routes_by_athlete_id
        )
    }

    /// The route as a GPX document.
    pub async fn export_route_gpx(&self, route_id: impl Into<Id>) -> Result<Bytes> {
        let call = self
            .generated()
            .get_route_as_gpx()
            .id(route_id.into())
            .send();
        collect_bytes("getRouteAsGPX", call).await
    }

    /// The route as a TCX document.
    pub async fn export_route_tcx(&self, route_id: impl Into<Id>) -> Result<Bytes> {
        let call = self
            .generated()
            .get_route_as_tcx()
            .id(route_id.into())
            .send();
        collect_bytes("getRouteAsTCX", call).await
    }
}

async fn collect_bytes(
    operation: &'static str,
    call: impl Future<
        Output = std::result::Result<
            progenitor_client::ResponseValue<progenitor_client::ByteStream>,
            progenitor_client::Error<crate::types::Fault>,
        >,
    >,
) -> Result<Bytes> {
    let stream = call
        .await
        .map_err(|e| Error::from(e).with_operation(operation))?
        .into_inner();
    let chunks: Vec<Bytes> = stream
        .into_inner()
        .try_collect()
        .await
        .map_err(|e| Error::from_reqwest(e).with_operation(operation))?;
    Ok(Bytes::from(chunks.concat()))
}
