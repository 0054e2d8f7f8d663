//! `/api/v3/...`: authentication, rate limits, and every operation.
// Handlers return `Result<_, Response>`: the error is the HTTP answer to send, and it is
// not worth boxing on this path.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderMap, Method, header};
use axum::response::Response;
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use serde_json::{Value, json};

use super::render;
use super::server::{
    Inner, add_rate_headers, bad_request, bytes_response, fault, json_response, params, query_map,
    record_not_found, resource_not_found, truthy, unauthorized,
};
use super::state::{
    self, ActivityFields, Created, ListQuery, Parsed, Patch, Subscription, Upload, UploadState,
    View,
};
use super::streams::{self, STREAM_TYPES};
use super::world::{self, ACTIVITY_BASE, EFFORT_BASE, World};
use stravalib::auth::Scope;

type Reply = Result<Response, Response>;

/// The authenticated caller.
struct Ctx<'a> {
    inner: &'a Inner,
    athlete: usize,
    scopes: Vec<Scope>,
    query: HashMap<String, String>,
}

impl Ctx<'_> {
    fn world(&self) -> &World {
        &self.inner.world
    }

    fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
            || match scope {
                Scope::Read => self.scopes.contains(&Scope::ReadAll),
                Scope::ActivityRead => self.scopes.contains(&Scope::ActivityReadAll),
                _ => false,
            }
    }

    /// Strava's 401 for a missing scope: `{resource: AccessToken, field: <scope>_permission,
    /// code: missing}`.
    fn require(&self, scope: Scope) -> Result<(), Response> {
        if self.has(scope) {
            Ok(())
        } else {
            Err(unauthorized(
                "AccessToken",
                &format!("{}_permission", scope.as_str()),
                "missing",
            ))
        }
    }

    fn int(&self, name: &str) -> Result<Option<i64>, Response> {
        match self
            .query
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        {
            None => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .or_else(|_| v.parse::<f64>().map(|f| f as i64))
                .map(Some)
                .map_err(|_| bad_request("Application", name, "invalid")),
        }
    }

    /// `page` (from 1) and `per_page` (default 30, at most 200) as offset and limit.
    fn paging(&self) -> Result<(usize, usize), Response> {
        let page = self.int("page")?.unwrap_or(1).max(1) as usize;
        let per_page = match self.int("per_page")? {
            Some(n) if n >= 1 => (n as usize).min(200),
            _ => 30,
        };
        Ok(((page - 1).saturating_mul(per_page), per_page))
    }

    /// Can the caller see this activity?
    fn visible(&self, v: &View) -> bool {
        !v.private || (v.athlete == self.athlete && self.has(Scope::ActivityReadAll))
    }

    fn activity(&self, id: &str) -> Result<View, Response> {
        let id: u64 = id.parse().map_err(|_| record_not_found("Activity"))?;
        let state = self.inner.lock();
        let v =
            state::view(self.world(), &state, id).ok_or_else(|| record_not_found("Activity"))?;
        drop(state);
        if self.visible(&v) {
            Ok(v)
        } else {
            Err(record_not_found("Activity"))
        }
    }
}

fn page<T: Clone>(items: &[T], (offset, limit): (usize, usize)) -> Vec<T> {
    items.iter().skip(offset).take(limit).cloned().collect()
}

fn ok(body: &Value) -> Reply {
    Ok(json_response(200, body))
}

fn usage(inner: &Inner) -> (u32, u32, u32, u32) {
    let now = inner.now();
    let mut state = inner.lock();
    state.rate.roll(now);
    let r = &state.rate;
    (r.short, r.daily, r.read_short, r.read_daily)
}

fn with_usage(inner: &Inner, mut r: Response) -> Response {
    add_rate_headers(r.headers_mut(), inner.config.limits, usage(inner));
    r
}

/// Counts the request, or answers 429 when a window it counts against is used up.
fn rate_limit(inner: &Inner, method: &Method) -> Result<(), Response> {
    let now = inner.now();
    let l = inner.config.limits;
    let read = method == Method::GET;
    let mut state = inner.lock();
    let r = &mut state.rate;
    r.roll(now);
    let exceeded = r.short >= l.short
        || r.daily >= l.daily
        || (read && (r.read_short >= l.read_short || r.read_daily >= l.read_daily));
    if exceeded {
        let mut resp = fault(
            429,
            "Rate Limit Exceeded",
            &[("Application", "rate limit", "exceeded")],
        );
        add_rate_headers(
            resp.headers_mut(),
            l,
            (r.short, r.daily, r.read_short, r.read_daily),
        );
        return Err(resp);
    }
    r.short += 1;
    r.daily += 1;
    if read {
        r.read_short += 1;
        r.read_daily += 1;
    }
    Ok(())
}

/// The athlete and scopes of the bearer token.
fn authenticate(
    inner: &Inner,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<(usize, Vec<Scope>), Response> {
    // Tokens travel in the Authorization header only.
    if query.contains_key("access_token") {
        return Err(unauthorized("Athlete", "access_token", "invalid"));
    }
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(unauthorized("Application", "", "invalid"));
    };
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => return Err(unauthorized("Athlete", "access_token", "invalid")),
    };
    let now = inner.now();
    let state = inner.lock();
    let grant = state
        .access
        .get(token)
        .filter(|t| t.expires_at > now)
        .and_then(|t| state.grants.get(&t.grant))
        .filter(|g| !g.revoked)
        .ok_or_else(|| unauthorized("Athlete", "access_token", "invalid"))?;
    Ok((grant.athlete, grant.scopes.clone()))
}

pub(crate) async fn handle(inner: &Arc<Inner>, rest: &str, req: Request) -> Response {
    let method = req.method().clone();
    let segs: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    {
        let mut state = inner.lock();
        inner.settle_uploads(&mut state);
    }
    if segs.first().map(String::as_str) == Some("push_subscriptions") {
        let r = webhooks(inner, &method, &segs, req)
            .await
            .unwrap_or_else(|e| e);
        return with_usage(inner, r);
    }
    let query = query_map(req.uri().query());
    let (athlete, scopes) = match authenticate(inner, req.headers(), &query) {
        Ok(a) => a,
        Err(r) => return with_usage(inner, r),
    };
    if let Err(r) = rate_limit(inner, &method) {
        return r;
    }
    let ctx = Ctx {
        inner,
        athlete,
        scopes,
        query,
    };
    let seg: Vec<&str> = segs.iter().map(String::as_str).collect();
    let r = route(&ctx, &method, &seg, req).await.unwrap_or_else(|e| e);
    with_usage(inner, r)
}

async fn route(ctx: &Ctx<'_>, method: &Method, seg: &[&str], req: Request) -> Reply {
    let retired = ctx.inner.config.retired_endpoints;
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
        ("POST", ["activities"]) => create_activity(ctx, params(req).await?),
        ("GET", ["activities", id]) => {
            ctx.require(Scope::ActivityRead)?;
            let v = ctx.activity(id)?;
            let state = ctx.inner.lock();
            ok(&render::detailed_activity(ctx.world(), &state, &v))
        }
        ("PUT", ["activities", id]) => update_activity(ctx, id, params(req).await?),
        ("GET", ["activities", id, "laps"]) => {
            ctx.require(Scope::ActivityRead)?;
            let v = ctx.activity(id)?;
            let detailed = render::detailed_activity(ctx.world(), &ctx.inner.lock(), &v);
            ok(&detailed["laps"])
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
        ("GET", ["gear", id]) => {
            ctx.require(Scope::Read)?;
            let g = ctx
                .world()
                .gear_by_id(id)
                .ok_or_else(|| record_not_found("Gear"))?;
            ok(&render::detailed_gear(g))
        }
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
            // The live endpoint answers with a list of typed streams.
            ok(&render::streams_json(
                &s,
                0..s.len(),
                &["latlng", "distance", "altitude"],
                false,
            ))
        }
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
            let s = streams::generate(ctx.world(), core);
            let keys = stream_keys(ctx, false);
            ok(&render::streams_json(
                &s,
                from..to + 1,
                &keys,
                key_by_type(ctx),
            ))
        }
        ("POST", ["uploads"]) => create_upload(ctx, req).await,
        ("GET", ["uploads", id]) => get_upload(ctx, id),
        _ => Err(resource_not_found()),
    }
}

// ---------------------------------------------------------------------------------------
// Athletes
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Activities
// ---------------------------------------------------------------------------------------

fn known_sport(s: &str) -> bool {
    stravalib::types::SportType::KNOWN_VALUES.contains(&s)
}

fn known_type(s: &str) -> bool {
    stravalib::types::ActivityType::KNOWN_VALUES.contains(&s)
}

/// A local date-time as Strava accepts it (`2026-03-01T09:30:00Z`, with an offset, or
/// without a zone): the wall-clock part.
fn parse_local(text: &str) -> Option<NaiveDateTime> {
    let t = text.trim();
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return Some(dt.naive_local());
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, f) {
            return Some(dt);
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
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
            gear_id: None,
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
    Ok(json_response(
        201,
        &render::detailed_activity(ctx.world(), &state, &view),
    ))
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
    ok(&render::detailed_activity(ctx.world(), &state, &v))
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

fn stream_keys(ctx: &Ctx<'_>, all_by_default: bool) -> Vec<&'static str> {
    match ctx.query.get("keys").filter(|k| !k.trim().is_empty()) {
        Some(keys) => {
            // The series type (distance) always comes along, as on the live API.
            STREAM_TYPES
                .iter()
                .copied()
                .filter(|t| *t == "distance" || keys.split(',').any(|k| k.trim() == *t))
                .collect()
        }
        None if all_by_default => STREAM_TYPES.to_vec(),
        None => vec!["distance"],
    }
}

fn key_by_type(ctx: &Ctx<'_>) -> bool {
    ctx.query
        .get("key_by_type")
        .and_then(|v| truthy(v))
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------------------
// Clubs, routes, segments, efforts
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Uploads
// ---------------------------------------------------------------------------------------

const DATA_TYPES: [&str; 6] = ["fit", "fit.gz", "tcx", "tcx.gz", "gpx", "gpx.gz"];

fn digest(bytes: &[u8]) -> u64 {
    // FNV-1a: identical files have identical digests.
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

async fn create_upload(ctx: &Ctx<'_>, req: Request) -> Reply {
    ctx.require(Scope::ActivityWrite)?;
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(bad_request("Upload", "file", "missing"));
    }
    let mut multipart = Multipart::from_request(req, &())
        .await
        .map_err(|_| bad_request("Upload", "file", "invalid"))?;
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => return Err(bad_request("Upload", "file", "invalid")),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = field.file_name().unwrap_or("upload").to_owned();
            let bytes = field
                .bytes()
                .await
                .map_err(|_| bad_request("Upload", "file", "invalid"))?;
            file = Some((file_name, bytes.to_vec()));
        } else if let Ok(text) = field.text().await {
            fields.insert(name, text);
        }
    }
    let field = |k: &str| {
        fields
            .get(k)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let data_type = field("data_type")
        .map(|d| d.to_ascii_lowercase())
        .filter(|d| DATA_TYPES.contains(&d.as_str()))
        .ok_or_else(|| bad_request("Upload", "data_type", "invalid"))?;
    let (file_name, bytes) = file
        .filter(|(_, b)| !b.is_empty())
        .ok_or_else(|| bad_request("Upload", "file", "missing"))?;
    let parsed = super::parse::parse(&data_type, &bytes);
    let sport_type = field("sport_type")
        .filter(|s| known_sport(s))
        .or_else(|| field("activity_type").filter(|s| known_type(s)));
    let now = ctx.inner.now();
    let mut state = ctx.inner.lock();
    let id = state.next_upload;
    state.next_upload += 1;
    let upload = Upload {
        id,
        athlete: ctx.athlete,
        file_name,
        external_id: field("external_id"),
        name: field("name"),
        description: field("description"),
        trainer: field("trainer").and_then(|v| truthy(&v)).unwrap_or(false),
        commute: field("commute").and_then(|v| truthy(&v)).unwrap_or(false),
        sport_type,
        digest: digest(&bytes),
        parsed,
        created_at: now,
        polls: 0,
        state: UploadState::Processing,
    };
    let body = render::upload_json(&upload);
    state.uploads.insert(id, upload);
    if ctx.inner.config.upload_polls == 0 && ctx.inner.config.upload_time.is_zero() {
        finish_upload(ctx.inner, &mut state, id);
    }
    Ok(json_response(201, &body))
}

fn get_upload(ctx: &Ctx<'_>, id: &str) -> Reply {
    ctx.require(Scope::ActivityWrite)?;
    let id: u64 = id.parse().map_err(|_| record_not_found("Upload"))?;
    let mut state = ctx.inner.lock();
    match state.uploads.get_mut(&id) {
        Some(u) if u.athlete == ctx.athlete => u.polls += 1,
        _ => return Err(record_not_found("Upload")),
    }
    ctx.inner.settle_uploads(&mut state);
    ok(&render::upload_json(&state.uploads[&id]))
}

/// Ends an upload's processing: a duplicate, a bad file, or a new activity.
pub(crate) fn finish_upload(inner: &Inner, state: &mut state::State, id: u64) {
    let Some(u) = state.uploads.get(&id).cloned() else {
        return;
    };
    let Parsed::Activity(p) = &u.parsed else {
        if let Some(x) = state.uploads.get_mut(&id) {
            x.state = UploadState::Failed("Improperly formatted data".to_owned());
        }
        return;
    };
    let external = u.external_id.clone().unwrap_or_else(|| u.file_name.clone());
    let duplicate = state.uploads.values().find_map(|other| match other.state {
        UploadState::Ready(activity)
            if other.id != u.id
                && other.athlete == u.athlete
                && !state.deleted.contains(&activity)
                && (other.digest == u.digest
                    || other
                        .external_id
                        .clone()
                        .unwrap_or_else(|| other.file_name.clone())
                        == external) =>
        {
            Some(activity)
        }
        _ => None,
    });
    if let Some(activity) = duplicate {
        if let Some(x) = state.uploads.get_mut(&id) {
            x.state =
                UploadState::Failed(format!("{} duplicate of activity {activity}", u.file_name));
        }
        return;
    }
    let world = &inner.world;
    let athlete = &world.athletes[u.athlete];
    let s = streams::recorded(&p.points);
    let start = p.start.unwrap_or(u.created_at);
    let elapsed = p.points.last().map_or(0, |x| x.t);
    let distance = s
        .distance
        .as_ref()
        .and_then(|d| d.last().copied())
        .unwrap_or(0.0);
    let moving = match &s.distance {
        Some(d) => (1..s.len())
            .filter(|&i| {
                let dt = s.time[i] - s.time[i - 1];
                dt > 0 && dt <= 30 && (d[i] - d[i - 1]) / dt as f64 > 0.5
            })
            .map(|i| s.time[i] - s.time[i - 1])
            .sum(),
        None => elapsed,
    };
    let gain = s
        .altitude
        .as_ref()
        .map_or(0.0, |a| streams::climbing(a, 2.0));
    let utc_offset = athlete.city().utc_offset(start);
    let sport_type = u
        .sport_type
        .clone()
        .or_else(|| p.sport_type.clone())
        .unwrap_or_else(|| "Ride".to_owned());
    let name = u
        .name
        .clone()
        .or_else(|| p.name.clone())
        .unwrap_or_else(|| {
            let hour = ((start + i64::from(utc_offset)).rem_euclid(86_400) / 3600) as u32;
            let label = world::Sport::from_sport_type(&sport_type)
                .map_or(sport_type.as_str(), |s| s.label());
            format!("{} {label}", world::part_of_day(hour))
        });
    let activity_id = state.next_created;
    state.next_created += 1;
    state.insert_created(Created {
        fields: ActivityFields {
            id: activity_id,
            athlete: u.athlete,
            name,
            description: u.description.clone(),
            sport_type,
            start,
            utc_offset,
            distance,
            moving_time: moving.min(elapsed),
            elapsed_time: elapsed,
            elevation_gain: gain,
            trainer: u.trainer,
            commute: u.commute,
            manual: false,
            private: false,
            hide_from_home: false,
            gear_id: None,
            upload_id: Some(u.id),
            external_id: Some(external),
            device_name: p.device_name.clone(),
        },
        points: Some(Arc::new(p.points.clone())),
    });
    if let Some(x) = state.uploads.get_mut(&id) {
        x.state = UploadState::Ready(activity_id);
    }
    inner.emit(
        state,
        "activity",
        activity_id,
        "create",
        serde_json::Map::new(),
        athlete.id,
    );
}

// ---------------------------------------------------------------------------------------
// Push subscriptions
// ---------------------------------------------------------------------------------------

fn subscription_json(inner: &Inner, s: &Subscription) -> Value {
    json!({
        "id": s.id,
        "resource_state": 2,
        "application_id": inner.config.client_id,
        "callback_url": s.callback_url,
        "created_at": render::iso(s.created_at),
        "updated_at": render::iso(s.created_at),
    })
}

fn check_app(inner: &Inner, p: &HashMap<String, String>) -> Result<(), Response> {
    let id_ok = p
        .get("client_id")
        .and_then(|i| i.trim().parse::<u64>().ok())
        == Some(inner.config.client_id);
    let secret_ok =
        p.get("client_secret").map(String::as_str) == Some(inner.config.client_secret.as_str());
    if id_ok && secret_ok {
        Ok(())
    } else {
        Err(unauthorized("Application", "client_id", "invalid"))
    }
}

async fn webhooks(inner: &Arc<Inner>, method: &Method, segs: &[String], req: Request) -> Reply {
    let seg: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (method.as_str(), &seg[..]) {
        ("POST", ["push_subscriptions"]) => {
            let p = params(req).await?;
            check_app(inner, &p)?;
            let callback = p
                .get("callback_url")
                .filter(|c| !c.trim().is_empty())
                .ok_or_else(|| bad_request("PushSubscription", "callback_url", "missing"))?
                .trim()
                .to_owned();
            let verify_token = p.get("verify_token").cloned().unwrap_or_default();
            if inner.lock().subscription.is_some() {
                return Err(bad_request("PushSubscription", "", "already exists"));
            }
            let mut url = url::Url::parse(&callback)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| bad_request("PushSubscription", "callback url", "invalid"))?;
            let challenge: String = {
                use rand::Rng;
                let mut rng = rand::rng();
                (0..16)
                    .map(|_| format!("{:02x}", rng.random::<u8>()))
                    .collect()
            };
            url.query_pairs_mut()
                .append_pair("hub.verify_token", &verify_token)
                .append_pair("hub.challenge", &challenge)
                .append_pair("hub.mode", "subscribe");
            let answer = inner
                .http
                .get(url)
                .timeout(std::time::Duration::from_secs(2))
                .send()
                .await;
            let answer = match answer {
                Ok(r) if r.status().as_u16() == 200 => r.bytes().await.ok(),
                _ => None,
            }
            .ok_or_else(|| {
                bad_request(
                    "PushSubscription",
                    "callback url",
                    "GET to callback URL does not return 200",
                )
            })?;
            let echoed = serde_json::from_slice::<Value>(&answer).ok().and_then(|v| {
                v.get("hub.challenge")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
            if echoed.as_deref() != Some(challenge.as_str()) {
                return Err(bad_request(
                    "PushSubscription",
                    "callback url",
                    "not verifiable",
                ));
            }
            let mut state = inner.lock();
            if state.subscription.is_some() {
                return Err(bad_request("PushSubscription", "", "already exists"));
            }
            let id = state.next_subscription;
            state.next_subscription += 1;
            let sub = Subscription {
                id,
                callback_url: callback,
                created_at: inner.now(),
            };
            let body = subscription_json(inner, &sub);
            state.subscription = Some(sub);
            Ok(json_response(201, &body))
        }
        ("GET", ["push_subscriptions"]) => {
            let p = query_map(req.uri().query());
            check_app(inner, &p)?;
            let state = inner.lock();
            ok(&Value::Array(
                state
                    .subscription
                    .iter()
                    .map(|s| subscription_json(inner, s))
                    .collect(),
            ))
        }
        ("DELETE", ["push_subscriptions", id]) => {
            let p = params(req).await?;
            check_app(inner, &p)?;
            let id: u64 = id
                .parse()
                .map_err(|_| record_not_found("PushSubscription"))?;
            let mut state = inner.lock();
            if state.subscription.as_ref().map(|s| s.id) != Some(id) {
                return Err(record_not_found("PushSubscription"));
            }
            state.subscription = None;
            Ok(bytes_response(
                204,
                "application/json; charset=utf-8",
                Vec::new(),
            ))
        }
        _ => Err(resource_not_found()),
    }
}
