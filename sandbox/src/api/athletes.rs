//! `/athlete`, `/athletes/{id}/...` and `/gear/{id}`: the caller, other athletes' stats and
//! routes, gear.

use std::collections::HashMap;

use axum::extract::Request;
use axum::http::Method;
use axum::response::Response;
use serde_json::Value;
use stravalib::auth::Scope;

use super::ctx::{Ctx, Reply, ok, page};
use crate::render;
use crate::request::params;
use crate::respond::{bad_request, record_not_found, resource_not_found};
use crate::state::{self, ListQuery};

/// Answers `GET/PUT /athlete...`, `GET /athletes/{id}/...` and `GET /gear/{id}`.
pub(crate) async fn dispatch(ctx: &Ctx<'_>, method: &Method, seg: &[&str], req: Request) -> Reply {
    match (method.as_str(), seg) {
        ("GET", ["athlete"]) => {
            let athlete = &ctx.world().athletes[ctx.athlete];
            // The detailed representation needs profile:read_all; others get a summary.
            if ctx.has(Scope::ProfileReadAll) {
                ok(&render::detailed_athlete(
                    ctx.world(),
                    &ctx.inner.lock(),
                    athlete,
                ))
            } else {
                ok(&render::summary_athlete(athlete))
            }
        }
        ("PUT", ["athlete"]) => update_athlete(ctx, params(req).await?),
        ("GET", ["athlete", "zones"]) => {
            ctx.require(Scope::ProfileReadAll)?;
            ok(&render::athlete_zones(&ctx.world().athletes[ctx.athlete]))
        }
        ("GET", ["athlete", "activities"]) => athlete_activities(ctx),
        ("GET", ["athlete", "clubs"]) => {
            ctx.require(Scope::Read)?;
            let a = &ctx.world().athletes[ctx.athlete];
            let clubs: Vec<Value> = a
                .clubs
                .iter()
                .map(|&c| render::summary_club(&ctx.world().clubs[c], Some(ctx.athlete)))
                .collect();
            ok(&Value::Array(page(&clubs, ctx.paging()?)))
        }
        ("GET", ["athletes", id, "stats"]) => {
            ctx.require(Scope::Read)?;
            let a = athlete_by_id(ctx, id)?;
            let state = ctx.inner.lock();
            ok(&render::stats(ctx.world(), &state, a, ctx.inner.now()))
        }
        ("GET", ["athletes", id, "routes"]) => athlete_routes(ctx, id),
        ("GET", ["gear", id]) => {
            ctx.require(Scope::Read)?;
            let g = ctx
                .world()
                .gear_by_id(id)
                .ok_or_else(|| record_not_found("Gear"))?;
            ok(&render::detailed_gear(g))
        }
        _ => Err(resource_not_found()),
    }
}

fn athlete_by_id(ctx: &Ctx<'_>, id: &str) -> Result<usize, Response> {
    id.parse::<u64>()
        .ok()
        .and_then(|id| ctx.world().athlete_by_id(id))
        .map(|a| a.index)
        .ok_or_else(|| record_not_found("Athlete"))
}

fn update_athlete(ctx: &Ctx<'_>, p: HashMap<String, String>) -> Reply {
    ctx.require(Scope::ProfileWrite)?;
    let weight = p
        .get("weight")
        .and_then(|w| w.trim().parse::<f64>().ok())
        .filter(|w| w.is_finite() && *w > 0.0 && *w < 1_000.0)
        .ok_or_else(|| bad_request("Athlete", "weight", "invalid"))?;
    let mut state = ctx.inner.lock();
    state.weights.insert(ctx.athlete, weight);
    ok(&render::detailed_athlete(
        ctx.world(),
        &state,
        &ctx.world().athletes[ctx.athlete],
    ))
}

fn athlete_activities(ctx: &Ctx<'_>) -> Reply {
    ctx.require(Scope::ActivityRead)?;
    let before = ctx.int("before")?;
    let after = ctx.int("after")?;
    let (offset, limit) = ctx.paging()?;
    let state = ctx.inner.lock();
    let list = state::list_activities(
        ctx.world(),
        &state,
        ctx.athlete,
        ListQuery {
            before,
            after,
            include_private: ctx.has(Scope::ActivityReadAll),
            offset,
            limit,
        },
    );
    drop(state);
    ok(&Value::Array(
        list.iter()
            .map(|v| render::summary_activity(ctx.world(), v))
            .collect(),
    ))
}

fn athlete_routes(ctx: &Ctx<'_>, id: &str) -> Reply {
    ctx.require(Scope::Read)?;
    let a = athlete_by_id(ctx, id)?;
    let own = a == ctx.athlete && ctx.has(Scope::ReadAll);
    let routes: Vec<render::RouteSpec> = (0..ctx.world().athletes[a].routes)
        .map(|j| render::route(ctx.world(), a, j))
        .filter(|r| !r.private || own)
        .collect();
    let (offset, limit) = ctx.paging()?;
    let state = ctx.inner.lock();
    ok(&Value::Array(
        routes
            .iter()
            .skip(offset)
            .take(limit)
            .map(|r| render::route_json(ctx.world(), &state, r, ctx.athlete))
            .collect(),
    ))
}
