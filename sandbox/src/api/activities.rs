//! `/activities...`: create, read and update activities; their laps, zones, comments,
//! kudos and streams.

use std::collections::HashMap;

use axum::extract::Request;
use axum::http::Method;
use axum::response::Response;
use chrono::TimeZone;
use serde_json::{Value, json};
use stravalib::auth::Scope;

use super::ctx::{Ctx, Reply, key_by_type, known_sport, known_type, ok, page, stream_keys};
use crate::render;
use crate::request::{params, parse_local, truthy};
use crate::respond::{bad_request, json_bytes, record_not_found, resource_not_found};
use crate::state::{self, ActivityFields, Created, Patch};
use crate::world;

/// Answers `/activities...`.
pub(crate) async fn dispatch(ctx: &Ctx<'_>, method: &Method, seg: &[&str], req: Request) -> Reply {
    match (method.as_str(), seg) {
        ("POST", ["activities"]) => create_activity(ctx, params(req).await?),
        ("GET", ["activities", id]) => {
            ctx.require(Scope::ActivityRead)?;
            let v = ctx.activity(id)?;
            let state = ctx.inner.lock();
            let d = render::detailed(ctx.world(), &state, &v);
            Ok(json_bytes(200, d.1.activity.clone()))
        }
        ("PUT", ["activities", id]) => update_activity(ctx, id, params(req).await?),
        ("GET", ["activities", id, "laps"]) => {
            ctx.require(Scope::ActivityRead)?;
            let v = ctx.activity(id)?;
            let d = render::detailed(ctx.world(), &ctx.inner.lock(), &v);
            Ok(json_bytes(200, d.1.laps.clone()))
        }
        ("GET", ["activities", id, "zones"]) => {
            ctx.require(Scope::ActivityRead)?;
            let v = ctx.activity(id)?;
            ok(&render::activity_zones(ctx.world(), &v))
        }
        ("GET", ["activities", id, "comments"]) => comments(ctx, id),
        ("GET", ["activities", id, "kudos"]) => {
            ctx.require(Scope::ActivityRead)?;
            let v = ctx.activity(id)?;
            ok(&Value::Array(page(
                &render::kudoers(ctx.world(), &v),
                ctx.paging()?,
            )))
        }
        ("GET", ["activities", id, "photos"]) => {
            ctx.require(Scope::ActivityRead)?;
            let v = ctx.activity(id)?;
            // `urls` and `sizes` are keyed by the edge length asked for (100 by default).
            let size = ctx.int("size")?.unwrap_or(100).clamp(1, 10_000) as u32;
            ok(&Value::Array(render::activity_photos(
                ctx.world(),
                &v,
                size,
            )))
        }
        ("GET", ["activities", id, "streams"]) => {
            ctx.require(Scope::ActivityRead)?;
            let v = ctx.activity(id)?;
            let s = render::activity_streams(ctx.world(), &v).unwrap_or_default();
            let keys = stream_keys(ctx, false);
            ok(&render::streams_json(
                &s,
                0..s.len(),
                &keys,
                key_by_type(ctx),
            ))
        }
        _ => Err(resource_not_found()),
    }
}

fn create_activity(ctx: &Ctx<'_>, p: HashMap<String, String>) -> Reply {
    ctx.require(Scope::ActivityWrite)?;
    let field = |k: &str| p.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let name = field("name").ok_or_else(|| bad_request("Activity", "name", "missing"))?;
    let sport_type = match (field("sport_type"), field("type")) {
        (Some(s), _) if known_sport(s) => s.to_owned(),
        (Some(_), _) => return Err(bad_request("Activity", "sport_type", "invalid")),
        (None, Some(t)) if known_type(t) => t.to_owned(),
        (None, Some(_)) => return Err(bad_request("Activity", "type", "invalid")),
        (None, None) => return Err(bad_request("Activity", "sport_type", "missing")),
    };
    let local = field("start_date_local")
        .ok_or_else(|| bad_request("Activity", "start_date_local", "missing"))
        .and_then(|s| {
            parse_local(s).ok_or_else(|| bad_request("Activity", "start_date_local", "invalid"))
        })?;
    let elapsed_time = field("elapsed_time")
        .ok_or_else(|| bad_request("Activity", "elapsed_time", "missing"))?
        .parse::<f64>()
        .ok()
        // At most a year.
        .filter(|t| t.is_finite() && *t >= 1.0 && *t <= 366.0 * 86_400.0)
        .ok_or_else(|| bad_request("Activity", "elapsed_time", "invalid"))?
        as i64;
    let distance = match field("distance") {
        None => 0.0,
        Some(d) => d
            .parse::<f64>()
            .ok()
            .filter(|d| d.is_finite() && *d >= 0.0 && *d <= 1e8)
            .ok_or_else(|| bad_request("Activity", "distance", "invalid"))?,
    };
    let flag = |k: &str| -> Result<bool, Response> {
        match field(k) {
            None => Ok(false),
            Some(v) => truthy(v).ok_or_else(|| bad_request("Activity", k, "invalid")),
        }
    };
    let (trainer, commute) = (flag("trainer")?, flag("commute")?);
    let athlete = &ctx.world().athletes[ctx.athlete];
    // Strava fills in the athlete's default gear for the sport.
    let gear_id = athlete.default_gear(&sport_type);
    let tz = athlete.city().tz;
    let start = tz
        .from_local_datetime(&local)
        .earliest()
        .map_or(local.and_utc().timestamp(), |t| t.timestamp());
    let mut state = ctx.inner.lock();
    let id = state.next_created;
    state.next_created += 1;
    let created = Created {
        fields: ActivityFields {
            id,
            athlete: ctx.athlete,
            name: name.to_owned(),
            description: field("description").map(str::to_owned),
            sport_type,
            start,
            utc_offset: (local.and_utc().timestamp() - start) as i32,
            distance,
            moving_time: elapsed_time,
            elapsed_time,
            elevation_gain: 0.0,
            trainer,
            commute,
            manual: true,
            private: false,
            hide_from_home: false,
            gear_id,
            upload_id: None,
            external_id: None,
            device_name: None,
        },
        points: None,
    };
    let view = state::created_view(&created);
    state.insert_created(created);
    ctx.inner.emit(
        &mut state,
        "activity",
        id,
        "create",
        serde_json::Map::new(),
        athlete.id,
    );
    let d = render::detailed(ctx.world(), &state, &view);
    Ok(json_bytes(201, d.1.activity.clone()))
}

fn update_activity(ctx: &Ctx<'_>, id: &str, p: HashMap<String, String>) -> Reply {
    ctx.require(Scope::ActivityWrite)?;
    let v = ctx.activity(id)?;
    if v.athlete != ctx.athlete {
        return Err(record_not_found("Activity"));
    }
    let field = |k: &str| p.get(k).map(|s| s.trim().to_owned());
    let mut patch = Patch::default();
    if let Some(name) = field("name").filter(|n| !n.is_empty()) {
        patch.name = Some(name);
    }
    if let Some(d) = field("description") {
        patch.description = Some(d);
    }
    match (field("sport_type"), field("type")) {
        (Some(s), _) if known_sport(&s) => patch.sport_type = Some(s),
        (Some(_), _) => return Err(bad_request("Activity", "sport_type", "invalid")),
        (None, Some(t)) if known_type(&t) => patch.sport_type = Some(t),
        (None, Some(_)) => return Err(bad_request("Activity", "type", "invalid")),
        (None, None) => {}
    }
    if let Some(g) = field("gear_id") {
        patch.gear_id = Some(if g.is_empty() || g == "none" {
            None
        } else {
            let athlete = &ctx.world().athletes[ctx.athlete];
            if !athlete
                .bikes
                .iter()
                .chain(&athlete.shoes)
                .any(|x| x.id == g)
            {
                return Err(bad_request("Activity", "gear_id", "invalid"));
            }
            Some(g)
        });
    }
    for (k, slot) in [
        ("commute", &mut patch.commute),
        ("trainer", &mut patch.trainer),
        ("hide_from_home", &mut patch.hide_from_home),
    ] {
        if let Some(x) = field(k) {
            *slot = Some(truthy(&x).ok_or_else(|| bad_request("Activity", k, "invalid"))?);
        }
    }
    let mut updates = serde_json::Map::new();
    if let Some(n) = &patch.name
        && *n != v.name
    {
        updates.insert("title".into(), json!(n));
    }
    if let Some(s) = &patch.sport_type
        && *s != v.sport_type
    {
        updates.insert("type".into(), json!(world::activity_type_of(s)));
    }
    let mut state = ctx.inner.lock();
    if let Some(c) = state.created.get_mut(&v.id) {
        if let Some(x) = patch.name {
            c.name = x;
        }
        if let Some(x) = patch.description {
            c.description = Some(x);
        }
        if let Some(x) = patch.sport_type {
            c.sport_type = x;
        }
        if let Some(x) = patch.gear_id {
            c.gear_id = x;
        }
        if let Some(x) = patch.commute {
            c.commute = x;
        }
        if let Some(x) = patch.trainer {
            c.trainer = x;
        }
        if let Some(x) = patch.hide_from_home {
            c.hide_from_home = x;
        }
    } else {
        let entry = state.patches.entry(v.id).or_default();
        macro_rules! merge {
            ($($f:ident),*) => {$( if patch.$f.is_some() { entry.$f = patch.$f; } )*};
        }
        merge!(
            name,
            description,
            sport_type,
            gear_id,
            commute,
            trainer,
            hide_from_home
        );
    }
    if !updates.is_empty() {
        let owner = ctx.world().athletes[ctx.athlete].id;
        ctx.inner
            .emit(&mut state, "activity", v.id, "update", updates, owner);
    }
    let v = state::view(ctx.world(), &state, v.id).ok_or_else(|| record_not_found("Activity"))?;
    let d = render::detailed(ctx.world(), &state, &v);
    Ok(json_bytes(200, d.1.activity.clone()))
}

fn comments(ctx: &Ctx<'_>, id: &str) -> Reply {
    ctx.require(Scope::ActivityRead)?;
    let v = ctx.activity(id)?;
    let all = render::comments(ctx.world(), &v);
    let cursor_mode = ctx.query.contains_key("page_size")
        || ctx.query.contains_key("after_cursor")
        || !(ctx.query.contains_key("page") || ctx.query.contains_key("per_page"));
    if !cursor_mode {
        return ok(&Value::Array(page(&all, ctx.paging()?)));
    }
    let size = match ctx.int("page_size")? {
        Some(n) if n >= 1 => (n as usize).min(200),
        _ => 30,
    };
    let from = match ctx.query.get("after_cursor").filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => render::parse_cursor(v.id, c)
            .ok_or_else(|| bad_request("Comment", "after_cursor", "invalid"))?
            .saturating_add(1),
    };
    ok(&Value::Array(page(&all, (from, size))))
}
