//! `/routes/{id}...`: routes, their GPX and TCX exports and streams.

use axum::http::Method;
use axum::response::Response;
use stravalib::auth::Scope;

use super::ctx::{Ctx, Reply, ok};
use crate::render;
use crate::request::truthy;
use crate::respond::{bytes_response, record_not_found, resource_not_found};
use crate::streams;

/// Answers `GET /routes/{id}...`.
pub(crate) fn dispatch(ctx: &Ctx<'_>, method: &Method, seg: &[&str]) -> Reply {
    match (method.as_str(), seg) {
        ("GET", ["routes", id]) => {
            let r = route_spec(ctx, id)?;
            ok(&render::route_json(
                ctx.world(),
                &ctx.inner.lock(),
                &r,
                ctx.athlete,
            ))
        }
        ("GET", ["routes", id, "export_gpx"]) => {
            let r = route_spec(ctx, id)?;
            Ok(bytes_response(
                200,
                "application/gpx+xml",
                render::route_gpx(&r).into_bytes(),
            ))
        }
        ("GET", ["routes", id, "export_tcx"]) => {
            let r = route_spec(ctx, id)?;
            Ok(bytes_response(
                200,
                "application/tcx+xml",
                render::route_tcx(&r).into_bytes(),
            ))
        }
        ("GET", ["routes", id, "streams"]) => {
            let r = route_spec(ctx, id)?;
            let n = ((r.distance / 25.0) as usize).clamp(50, 3_000);
            let s = streams::along(&r.track, r.distance, n);
            // Keyed by type (a `StreamSet`), as Strava's description says; a list of
            // typed streams with `key_by_type=false`, like the other stream endpoints.
            let keyed = ctx
                .query
                .get("key_by_type")
                .and_then(|v| truthy(v))
                .unwrap_or(true);
            ok(&render::streams_json(
                &s,
                0..s.len(),
                &["latlng", "distance", "altitude"],
                keyed,
            ))
        }
        _ => Err(resource_not_found()),
    }
}

fn route_spec(ctx: &Ctx<'_>, id: &str) -> Result<render::RouteSpec, Response> {
    ctx.require(Scope::Read)?;
    let r = id
        .parse::<u64>()
        .ok()
        .and_then(|id| render::route_by_id(ctx.world(), id))
        .ok_or_else(|| record_not_found("Route"))?;
    if r.private && !(r.athlete == ctx.athlete && ctx.has(Scope::ReadAll)) {
        return Err(record_not_found("Route"));
    }
    Ok(r)
}
