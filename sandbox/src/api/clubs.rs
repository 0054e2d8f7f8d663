//! `/clubs/{id}...`: clubs, and the members, admins and activities endpoints Strava
//! retired (404 unless the sandbox serves them).

use axum::http::Method;
use axum::response::Response;
use serde_json::Value;
use stravalib::auth::Scope;

use super::ctx::{Ctx, Reply, ok, page};
use crate::render;
use crate::respond::{record_not_found, resource_not_found};
use crate::state::{self, ListQuery, View};
use crate::world;

/// Answers `GET /clubs/{id}...`.
pub(crate) fn dispatch(ctx: &Ctx<'_>, method: &Method, seg: &[&str]) -> Reply {
    let retired = ctx.inner.config.retired_endpoints;
    match (method.as_str(), seg) {
        ("GET", ["clubs", id]) => {
            ctx.require(Scope::Read)?;
            let c = club(ctx, id)?;
            ok(&render::detailed_club(c, ctx.athlete))
        }
        ("GET", ["clubs", _, "members" | "admins" | "activities"]) if retired => {
            Err(resource_not_found())
        }
        ("GET", ["clubs", id, "members"]) => {
            ctx.require(Scope::Read)?;
            let c = club(ctx, id)?;
            let members: Vec<Value> = c
                .members
                .iter()
                .map(|&a| render::club_athlete(ctx.world(), c, a))
                .collect();
            ok(&Value::Array(page(&members, ctx.paging()?)))
        }
        ("GET", ["clubs", id, "admins"]) => {
            ctx.require(Scope::Read)?;
            let c = club(ctx, id)?;
            let admins: Vec<Value> = c
                .owner
                .iter()
                .map(|&a| render::public_athlete(&ctx.world().athletes[a]))
                .collect();
            ok(&Value::Array(page(&admins, ctx.paging()?)))
        }
        ("GET", ["clubs", id, "activities"]) => club_activities(ctx, id),
        _ => Err(resource_not_found()),
    }
}

fn club<'a>(ctx: &'a Ctx<'_>, id: &str) -> Result<&'a world::Club, Response> {
    id.parse::<u64>()
        .ok()
        .filter(|id| render::club_id_ok(*id))
        .and_then(|id| ctx.world().club_by_id(id))
        .ok_or_else(|| record_not_found("Club"))
}

fn club_activities(ctx: &Ctx<'_>, id: &str) -> Reply {
    ctx.require(Scope::Read)?;
    let c = club(ctx, id)?;
    let (offset, limit) = ctx.paging()?;
    let want = offset + limit;
    let state = ctx.inner.lock();
    let mut all: Vec<View> = Vec::new();
    for &m in &c.members {
        all.extend(state::list_activities(
            ctx.world(),
            &state,
            m,
            ListQuery {
                before: None,
                after: None,
                include_private: false,
                offset: 0,
                limit: want.min(200),
            },
        ));
    }
    all.sort_by_key(|v| std::cmp::Reverse((v.start, v.id)));
    ok(&Value::Array(
        all.iter()
            .skip(offset)
            .take(limit)
            .map(|v| render::club_activity(ctx.world(), v))
            .collect(),
    ))
}
