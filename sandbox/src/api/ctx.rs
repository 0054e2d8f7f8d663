//! What the handlers of `/api/v3` share: the authenticated caller and its query, paging,
//! and the answer type.

use std::collections::HashMap;

use axum::response::Response;
use serde_json::Value;
use stravalib::auth::Scope;

use crate::inner::Inner;
use crate::request::truthy;
use crate::respond::{bad_request, json_response, record_not_found, unauthorized};
use crate::state::{self, View};
use crate::streams::STREAM_TYPES;
use crate::world::World;

/// A handler's answer: the error is an answer too (a fault).
pub(crate) type Reply = Result<Response, Response>;

/// The authenticated caller.
pub(crate) struct Ctx<'a> {
    pub(crate) inner: &'a Inner,
    pub(crate) athlete: usize,
    pub(crate) scopes: Vec<Scope>,
    pub(crate) query: HashMap<String, String>,
}

impl Ctx<'_> {
    pub(crate) fn world(&self) -> &World {
        &self.inner.world
    }

    pub(crate) fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
            || match scope {
                Scope::Read => self.scopes.contains(&Scope::ReadAll),
                Scope::ActivityRead => self.scopes.contains(&Scope::ActivityReadAll),
                _ => false,
            }
    }

    /// Strava's 401 for a missing scope: `{resource: AccessToken, field: <scope>_permission,
    /// code: missing}`.
    pub(crate) fn require(&self, scope: Scope) -> Result<(), Response> {
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

    pub(crate) fn int(&self, name: &str) -> Result<Option<i64>, Response> {
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
    pub(crate) fn paging(&self) -> Result<(usize, usize), Response> {
        let page = self.int("page")?.unwrap_or(1).max(1) as usize;
        let per_page = match self.int("per_page")? {
            Some(n) if n >= 1 => (n as usize).min(200),
            _ => 30,
        };
        Ok(((page - 1).saturating_mul(per_page), per_page))
    }

    /// Can the caller see this activity?
    pub(crate) fn visible(&self, v: &View) -> bool {
        !v.private || (v.athlete == self.athlete && self.has(Scope::ActivityReadAll))
    }

    pub(crate) fn activity(&self, id: &str) -> Result<View, Response> {
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

/// The page at `offset` of at most `limit` items.
pub(crate) fn page<T: Clone>(items: &[T], (offset, limit): (usize, usize)) -> Vec<T> {
    items.iter().skip(offset).take(limit).cloned().collect()
}

/// 200 with `body`.
pub(crate) fn ok(body: &Value) -> Reply {
    Ok(json_response(200, body))
}

/// Is `s` a sport type Strava knows?
pub(crate) fn known_sport(s: &str) -> bool {
    stravalib::types::SportType::KNOWN_VALUES.contains(&s)
}

/// Is `s` an activity type Strava knows?
pub(crate) fn known_type(s: &str) -> bool {
    stravalib::types::ActivityType::KNOWN_VALUES.contains(&s)
}

/// The stream types asked for with `keys`.
pub(crate) fn stream_keys(ctx: &Ctx<'_>, all_by_default: bool) -> Vec<&'static str> {
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

/// `key_by_type=true`: streams as an object keyed by type.
pub(crate) fn key_by_type(ctx: &Ctx<'_>) -> bool {
    ctx.query
        .get("key_by_type")
        .and_then(|v| truthy(v))
        .unwrap_or(false)
}
