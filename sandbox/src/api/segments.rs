//! `/segments...` and `/segment_efforts...`: segments (starred, explored, starring),
//! efforts and their streams.

use std::collections::HashMap;

use axum::extract::Request;
use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};
use stravalib::auth::Scope;

use super::ctx::{Ctx, Reply, key_by_type, ok, page, stream_keys};
use crate::render;
use crate::request::{params, parse_local, truthy};
use crate::respond::{bad_request, record_not_found, resource_not_found};
use crate::state::{self, View};
use crate::streams;
use crate::world::{self, ACTIVITY_BASE, EFFORT_BASE};

/// Answers `/segments...` and `GET /segment_efforts...`.
pub(crate) async fn dispatch(ctx: &Ctx<'_>, method: &Method, seg: &[&str], req: Request) -> Reply {
    match (method.as_str(), seg) {
        ("GET", ["segments", "starred"]) => starred_segments(ctx),
        ("GET", ["segments", "explore"]) => explore(ctx),
        ("GET", ["segments", id]) => {
            ctx.require(Scope::Read)?;
            let s = segment(ctx, id)?;
            ok(&render::detailed_segment(
                ctx.world(),
                &ctx.inner.lock(),
                s,
                ctx.athlete,
            ))
        }
        ("PUT", ["segments", id, "starred"]) => star_segment(ctx, id, params(req).await?),
        ("GET", ["segments", id, "streams"]) => {
            ctx.require(Scope::Read)?;
            let s = segment(ctx, id)?;
            let n = ((s.distance / 12.0) as usize).clamp(10, 1_000);
            let st = streams::along(&s.track, s.distance, n);
            let keys = stream_keys(ctx, true);
            ok(&render::streams_json(
                &st,
                0..st.len(),
                &keys,
                key_by_type(ctx),
            ))
        }
        ("GET", ["segment_efforts"]) => segment_efforts(ctx),
        ("GET", ["segment_efforts", id]) => {
            ctx.require(Scope::ActivityRead)?;
            let (v, j) = effort(ctx, id)?;
            let core = v.core().ok_or_else(|| record_not_found("SegmentEffort"))?;
            ok(&render::segment_effort(
                ctx.world(),
                &ctx.inner.lock(),
                core,
                j,
                &v,
            ))
        }
        ("GET", ["segment_efforts", id, "streams"]) => {
            ctx.require(Scope::ActivityRead)?;
            let (v, j) = effort(ctx, id)?;
            let core = v.core().ok_or_else(|| record_not_found("SegmentEffort"))?;
            let (from, to, _) = render::effort_timing(ctx.world(), core, j);
            let s = render::generated_streams(ctx.world(), core);
            let keys = stream_keys(ctx, false);
            ok(&render::streams_json(
                &s,
                from..to + 1,
                &keys,
                key_by_type(ctx),
            ))
        }
        _ => Err(resource_not_found()),
    }
}

fn segment<'a>(ctx: &'a Ctx<'_>, id: &str) -> Result<&'a world::Segment, Response> {
    id.parse::<u64>()
        .ok()
        .and_then(|id| ctx.world().segment_by_id(id))
        .ok_or_else(|| record_not_found("Segment"))
}

fn starred_segments(ctx: &Ctx<'_>) -> Reply {
    ctx.require(Scope::Read)?;
    let state = ctx.inner.lock();
    let mut starred = state.starred[ctx.athlete].clone();
    starred.sort_by_key(|(_, at)| std::cmp::Reverse(*at));
    let list: Vec<Value> = page(&starred, ctx.paging()?)
        .iter()
        .map(|(s, _)| {
            render::summary_segment(
                ctx.world(),
                &state,
                &ctx.world().segments[*s],
                Some(ctx.athlete),
            )
        })
        .collect();
    ok(&Value::Array(list))
}

fn star_segment(ctx: &Ctx<'_>, id: &str, p: HashMap<String, String>) -> Reply {
    ctx.require(Scope::ProfileWrite)?;
    let s = segment(ctx, id)?;
    let starred = p
        .get("starred")
        .ok_or_else(|| bad_request("Segment", "starred", "missing"))
        .and_then(|v| truthy(v).ok_or_else(|| bad_request("Segment", "starred", "invalid")))?;
    let now = ctx.inner.now();
    let mut state = ctx.inner.lock();
    let list = &mut state.starred[ctx.athlete];
    let present = list.iter().position(|(x, _)| *x == s.index);
    match (starred, present) {
        (true, None) => list.push((s.index, now)),
        (false, Some(i)) => {
            list.remove(i);
        }
        _ => {}
    }
    ok(&render::detailed_segment(
        ctx.world(),
        &state,
        s,
        ctx.athlete,
    ))
}

fn explore(ctx: &Ctx<'_>) -> Reply {
    ctx.require(Scope::Read)?;
    let bounds: Vec<f64> = ctx
        .query
        .get("bounds")
        .ok_or_else(|| bad_request("Segment", "bounds", "missing"))?
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad_request("Segment", "bounds", "invalid"))?;
    let [sw_lat, sw_lng, ne_lat, ne_lng] = bounds[..] else {
        return Err(bad_request("Segment", "bounds", "invalid"));
    };
    let ride = match ctx.query.get("activity_type").map(String::as_str) {
        None | Some("riding") => true,
        Some("running") => false,
        Some(_) => return Err(bad_request("Segment", "activity_type", "invalid")),
    };
    let min_cat = ctx.int("min_cat")?.unwrap_or(0);
    let max_cat = ctx.int("max_cat")?.unwrap_or(5);
    let state = ctx.inner.lock();
    let starred = &state.starred[ctx.athlete];
    let found: Vec<Value> = ctx
        .world()
        .segments
        .iter()
        .filter(|s| s.ride == ride)
        .filter(|s| !ride || (min_cat..=max_cat).contains(&s.climb_category))
        .filter(|s| {
            let (lat, lng) = s.start();
            lat >= sw_lat && lat <= ne_lat && lng >= sw_lng && lng <= ne_lng
        })
        .take(10)
        .map(|s| render::explorer_segment(s, starred.iter().any(|(x, _)| *x == s.index)))
        .collect();
    ok(&json!({"segments": found}))
}

/// The activity and index of a segment effort id.
fn effort(ctx: &Ctx<'_>, id: &str) -> Result<(View, usize), Response> {
    let id: u64 = id.parse().map_err(|_| record_not_found("SegmentEffort"))?;
    let offset = id
        .checked_sub(EFFORT_BASE)
        .ok_or_else(|| record_not_found("SegmentEffort"))?;
    let (activity, j) = (ACTIVITY_BASE + offset / 4, (offset % 4) as usize);
    let v = ctx
        .activity(&activity.to_string())
        .map_err(|_| record_not_found("SegmentEffort"))?;
    match v.core() {
        Some(core) if j < core.efforts.len() => Ok((v, j)),
        _ => Err(record_not_found("SegmentEffort")),
    }
}

fn segment_efforts(ctx: &Ctx<'_>) -> Reply {
    ctx.require(Scope::ActivityRead)?;
    let segment_id = ctx
        .int("segment_id")?
        .ok_or_else(|| bad_request("Segment", "segment_id", "missing"))?;
    let seg = segment(ctx, &segment_id.to_string())?;
    let bound = |name: &str| -> Result<Option<i64>, Response> {
        match ctx.query.get(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => parse_local(v)
                .map(|t| Some(t.and_utc().timestamp()))
                .ok_or_else(|| bad_request("SegmentEffort", name, "invalid")),
        }
    };
    let (from, to) = (bound("start_date_local")?, bound("end_date_local")?);
    let paging = ctx.paging()?;
    let world = ctx.world();
    let state = ctx.inner.lock();
    let include_private = ctx.has(Scope::ActivityReadAll);
    let mut found: Vec<(i64, usize, usize)> = Vec::new();
    for (k, brief) in world.briefs(ctx.athlete).iter().enumerate() {
        let Some(j) = brief.efforts.iter().position(|&s| s == seg.index as u32) else {
            continue;
        };
        let id = world.activity_id(ctx.athlete, k);
        if state.deleted.contains(&id)
            || (!include_private && state::generated_private(world, ctx.athlete, k))
        {
            continue;
        }
        // Local start of the activity (efforts start within it).
        let local =
            brief.start + i64::from(world.athletes[ctx.athlete].city().utc_offset(brief.start));
        if from.is_some_and(|f| local + i64::from(brief.elapsed_time) < f)
            || to.is_some_and(|t| local > t)
        {
            continue;
        }
        found.push((brief.start, k, j));
    }
    found.sort_by_key(|(start, _, _)| std::cmp::Reverse(*start));
    let list: Vec<Value> = page(&found, paging)
        .into_iter()
        .map(|(_, k, j)| {
            let v = state::generated_view(world, &state, ctx.athlete, k);
            let core = v.core().expect("generated");
            render::segment_effort(world, &state, core, j, &v)
        })
        .collect();
    ok(&Value::Array(list))
}
