//! Everything that changes while the sandbox runs: tokens, rate-limit counters, created
//! and edited activities, uploads, push subscriptions, stars, weights.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use stravalib::rate_limit::{daily_window_reset, short_window_reset};

use super::points::RecordedPoint;
use super::world::{self, Core, World};
use stravalib::auth::Scope;

/// One athlete's authorization of the app.
#[derive(Clone, Debug)]
pub(crate) struct Grant {
    pub(crate) athlete: usize,
    pub(crate) scopes: Vec<Scope>,
    pub(crate) revoked: bool,
    /// The refresh token last used (or first issued).
    pub(crate) refresh: String,
    /// A newer refresh token, issued but not used yet: using it retires `refresh`.
    pub(crate) pending_refresh: Option<String>,
    pub(crate) access_tokens: Vec<String>,
}

/// An access token.
#[derive(Clone, Debug)]
pub(crate) struct AccessToken {
    pub(crate) grant: u64,
    pub(crate) expires_at: i64,
}

/// An authorization code waiting to be exchanged.
#[derive(Clone, Debug)]
pub(crate) struct Code {
    pub(crate) athlete: usize,
    pub(crate) scopes: Vec<Scope>,
    pub(crate) expires_at: i64,
}

/// Rate-limit usage in the current windows.
#[derive(Clone, Debug, Default)]
pub(crate) struct RateCounter {
    /// When the current 15-minute window ends (which names it).
    pub(crate) short_reset: DateTime<Utc>,
    /// When the current day ends (which names it).
    pub(crate) daily_reset: DateTime<Utc>,
    pub(crate) short: u32,
    pub(crate) daily: u32,
    pub(crate) read_short: u32,
    pub(crate) read_daily: u32,
}

impl RateCounter {
    /// Starts new windows when `now` is in others than the current ones (later, or earlier
    /// after the clock was set back), by stravalib's window arithmetic.
    pub(crate) fn roll(&mut self, now: DateTime<Utc>) {
        let short_reset = short_window_reset(now);
        if short_reset != self.short_reset {
            self.short_reset = short_reset;
            self.short = 0;
            self.read_short = 0;
        }
        let daily_reset = daily_window_reset(now);
        if daily_reset != self.daily_reset {
            self.daily_reset = daily_reset;
            self.daily = 0;
            self.read_daily = 0;
        }
    }
}

/// Changes made with `updateActivityById` to a generated activity.
#[derive(Clone, Debug, Default)]
pub(crate) struct Patch {
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) sport_type: Option<String>,
    pub(crate) gear_id: Option<Option<String>>,
    pub(crate) commute: Option<bool>,
    pub(crate) trainer: Option<bool>,
    pub(crate) hide_from_home: Option<bool>,
    pub(crate) private: Option<bool>,
}

/// What every activity the API shows has, whether generated or created.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ActivityFields {
    pub(crate) id: u64,
    pub(crate) athlete: usize,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) sport_type: String,
    pub(crate) start: i64,
    /// For manual activities: the local start exactly as given.
    pub(crate) utc_offset: i32,
    pub(crate) distance: f64,
    pub(crate) moving_time: i64,
    pub(crate) elapsed_time: i64,
    pub(crate) elevation_gain: f64,
    pub(crate) trainer: bool,
    pub(crate) commute: bool,
    pub(crate) manual: bool,
    pub(crate) private: bool,
    pub(crate) hide_from_home: bool,
    pub(crate) gear_id: Option<String>,
    pub(crate) upload_id: Option<u64>,
    pub(crate) external_id: Option<String>,
    pub(crate) device_name: Option<String>,
}

/// An activity created with `createActivity` or by an upload.
#[derive(Clone, Debug)]
pub(crate) struct Created {
    pub(crate) fields: ActivityFields,
    /// The samples of an uploaded file.
    pub(crate) points: Option<Arc<Vec<RecordedPoint>>>,
}

impl std::ops::Deref for Created {
    type Target = ActivityFields;
    fn deref(&self) -> &ActivityFields {
        &self.fields
    }
}

impl std::ops::DerefMut for Created {
    fn deref_mut(&mut self) -> &mut ActivityFields {
        &mut self.fields
    }
}

/// Where an upload stands.
#[derive(Clone, Debug)]
pub(crate) enum UploadState {
    Processing,
    Ready(u64),
    Failed(String),
}

/// What parsing an uploaded file found.
#[derive(Clone, Debug)]
pub(crate) enum Parsed {
    Activity(ParsedActivity),
    Malformed,
}

/// The activity an uploaded file describes.
#[derive(Clone, Debug, Default)]
pub(crate) struct ParsedActivity {
    pub(crate) sport_type: Option<String>,
    pub(crate) name: Option<String>,
    /// Epoch seconds of the first sample, when the file says.
    pub(crate) start: Option<i64>,
    pub(crate) points: Vec<RecordedPoint>,
    pub(crate) device_name: Option<String>,
}

/// An upload.
#[derive(Clone, Debug)]
pub(crate) struct Upload {
    pub(crate) id: u64,
    pub(crate) athlete: usize,
    pub(crate) file_name: String,
    pub(crate) external_id: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) trainer: bool,
    pub(crate) commute: bool,
    pub(crate) sport_type: Option<String>,
    pub(crate) digest: u64,
    pub(crate) parsed: Parsed,
    pub(crate) created_at: i64,
    pub(crate) polls: u32,
    pub(crate) state: UploadState,
}

/// The app's push subscription.
#[derive(Clone, Debug)]
pub(crate) struct Subscription {
    pub(crate) id: u64,
    pub(crate) callback_url: String,
    pub(crate) created_at: i64,
}

/// A webhook event the sandbox sent (or would have sent, without a subscription).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    /// `activity` or `athlete`.
    pub object_type: String,
    /// The activity or athlete id.
    pub object_id: u64,
    /// `create`, `update` or `delete`.
    pub aspect_type: String,
    /// What changed (`title`, `type`, `private`, or `authorized: "false"`).
    pub updates: serde_json::Map<String, serde_json::Value>,
    /// The athlete who owns the object.
    pub owner_id: u64,
    /// The push subscription, when one exists.
    pub subscription_id: Option<u64>,
    /// When it happened, by the sandbox clock (epoch seconds).
    pub event_time: i64,
}

/// All mutable state.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) grants: HashMap<u64, Grant>,
    pub(crate) next_grant: u64,
    pub(crate) access: HashMap<String, AccessToken>,
    pub(crate) refresh: HashMap<String, u64>,
    pub(crate) codes: HashMap<String, Code>,
    pub(crate) rate: RateCounter,
    pub(crate) patches: HashMap<u64, Patch>,
    pub(crate) deleted: HashSet<u64>,
    pub(crate) created: BTreeMap<u64, Created>,
    /// Per athlete: created activity ids sorted by (start, id).
    pub(crate) created_by_athlete: Vec<Vec<u64>>,
    pub(crate) next_created: u64,
    pub(crate) uploads: BTreeMap<u64, Upload>,
    pub(crate) next_upload: u64,
    pub(crate) subscription: Option<Subscription>,
    pub(crate) next_subscription: u64,
    /// Per athlete: starred segment indexes with when they were starred.
    pub(crate) starred: Vec<Vec<(usize, i64)>>,
    pub(crate) weights: HashMap<usize, f64>,
    pub(crate) authorizing_athlete: usize,
    pub(crate) events: Vec<WebhookEvent>,
}

impl State {
    pub(crate) fn new(world: &World) -> Self {
        Self {
            next_grant: 1,
            created_by_athlete: vec![Vec::new(); world.athletes.len()],
            next_created: world.created_base(),
            next_upload: 15_000_000_000,
            next_subscription: 210_000,
            starred: world
                .athletes
                .iter()
                .map(|a| {
                    a.starred
                        .iter()
                        .enumerate()
                        .map(|(i, s)| (*s, world.data_end - 86_400 * (40 + 97 * i as i64)))
                        .collect()
                })
                .collect(),
            ..Self::default()
        }
    }

    /// Adds a created activity.
    pub(crate) fn insert_created(&mut self, activity: Created) {
        let list = &mut self.created_by_athlete[activity.athlete];
        let key = (activity.start, activity.id);
        let created = &self.created;
        let at = list.partition_point(|id| {
            let c = &created[id];
            (c.start, c.id) < key
        });
        list.insert(at, activity.id);
        self.created.insert(activity.id, activity);
    }
}

/// Where an activity comes from.
#[derive(Clone, Debug)]
pub(crate) enum Source {
    Generated(Box<Core>),
    /// Created through the API or an upload, with the upload's samples if any.
    Created {
        points: Option<Arc<Vec<RecordedPoint>>>,
    },
}

/// An activity as the API shows it: generated or created, with edits applied.
#[derive(Clone, Debug)]
pub(crate) struct View {
    pub(crate) fields: ActivityFields,
    pub(crate) source: Source,
}

impl std::ops::Deref for View {
    type Target = ActivityFields;
    fn deref(&self) -> &ActivityFields {
        &self.fields
    }
}

impl std::ops::DerefMut for View {
    fn deref_mut(&mut self) -> &mut ActivityFields {
        &mut self.fields
    }
}

impl View {
    pub(crate) fn activity_type(&self) -> String {
        world::activity_type_of(&self.sport_type)
    }

    pub(crate) fn core(&self) -> Option<&Core> {
        match &self.source {
            Source::Generated(c) => Some(c),
            Source::Created { .. } => None,
        }
    }
}

/// Is generated activity `k` of `athlete` private? (Cheap: used while paging.)
pub(crate) fn generated_private(world: &World, athlete: usize, k: usize) -> bool {
    world::mix(&[world.seed, 0x9B1, athlete as u64, k as u64]).is_multiple_of(25)
}

/// The view of generated activity `(athlete, k)`.
pub(crate) fn generated_view(world: &World, state: &State, athlete: usize, k: usize) -> View {
    let core = world.core(athlete, k);
    let city = world.athletes[athlete].city();
    let fields = ActivityFields {
        id: core.id,
        athlete,
        name: core.name.clone(),
        description: None,
        sport_type: core.sport.sport_type().to_owned(),
        start: core.start,
        utc_offset: city.utc_offset(core.start),
        distance: core.distance,
        moving_time: core.moving_time,
        elapsed_time: core.elapsed_time,
        elevation_gain: core.elevation_gain,
        trainer: core.sport == world::Sport::VirtualRide,
        commute: core.commute,
        manual: false,
        private: generated_private(world, athlete, k),
        hide_from_home: false,
        gear_id: core.gear_id.clone(),
        upload_id: Some(core.upload_id),
        external_id: Some(format!("{}.fit", core.upload_id + 7_000_000_000)),
        device_name: Some(core.device_name.to_owned()),
    };
    let mut view = View {
        fields,
        source: Source::Generated(Box::new(core)),
    };
    if let Some(p) = state.patches.get(&view.id) {
        apply(&mut view, p);
    }
    view
}

fn apply(view: &mut View, p: &Patch) {
    if let Some(x) = &p.name {
        view.name = x.clone();
    }
    if let Some(x) = &p.description {
        view.description = Some(x.clone());
    }
    if let Some(x) = &p.sport_type {
        view.sport_type = x.clone();
    }
    if let Some(x) = &p.gear_id {
        view.gear_id = x.clone();
    }
    if let Some(x) = p.commute {
        view.commute = x;
    }
    if let Some(x) = p.trainer {
        view.trainer = x;
    }
    if let Some(x) = p.hide_from_home {
        view.hide_from_home = x;
    }
    if let Some(x) = p.private {
        view.private = x;
    }
}

/// The view of a created activity.
pub(crate) fn created_view(c: &Created) -> View {
    View {
        fields: c.fields.clone(),
        source: Source::Created {
            points: c.points.clone(),
        },
    }
}

/// Any activity by id (deleted ones are gone).
pub(crate) fn view(world: &World, state: &State, id: u64) -> Option<View> {
    if state.deleted.contains(&id) {
        return None;
    }
    if let Some((athlete, k)) = world.decode_activity(id) {
        return Some(generated_view(world, state, athlete, k));
    }
    state.created.get(&id).map(created_view)
}

/// Filters and paging for an athlete's activities.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ListQuery {
    pub(crate) before: Option<i64>,
    pub(crate) after: Option<i64>,
    pub(crate) include_private: bool,
    pub(crate) offset: usize,
    pub(crate) limit: usize,
}

/// An athlete's activities, newest first; oldest first when only `after` is given (as
/// Strava does).
pub(crate) fn list_activities(
    world: &World,
    state: &State,
    athlete: usize,
    q: ListQuery,
) -> Vec<View> {
    let in_range = |t: i64| q.before.is_none_or(|b| t < b) && q.after.is_none_or(|a| t > a);
    let lo = q
        .after
        .map_or(0, |a| world.count_before(athlete, a.saturating_add(1)));
    let hi = q
        .before
        .map_or(world.per_athlete, |b| world.count_before(athlete, b));
    let hi = hi.max(lo);
    let created: Vec<&Created> = state.created_by_athlete[athlete]
        .iter()
        .map(|id| &state.created[id])
        .filter(|c| in_range(c.start) && !state.deleted.contains(&c.id))
        .collect();
    let ascending = q.after.is_some() && q.before.is_none();

    // Merge the generated range [lo, hi) with the created list, in order.
    enum Item<'a> {
        Generated(usize),
        Created(&'a Created),
    }
    let visible_generated = |k: usize| {
        let id = world.activity_id(athlete, k);
        let private = state
            .patches
            .get(&id)
            .and_then(|p| p.private)
            .unwrap_or_else(|| generated_private(world, athlete, k));
        !state.deleted.contains(&id) && (q.include_private || !private)
    };
    let mut out = Vec::with_capacity(q.limit.min(200));
    let mut skipped = 0usize;
    let (mut g_next, mut c_next) = if ascending {
        (lo, 0usize)
    } else {
        (hi, created.len())
    };
    loop {
        if out.len() >= q.limit {
            break;
        }
        let g = if ascending {
            (g_next < hi).then_some(g_next)
        } else {
            (g_next > lo).then(|| g_next - 1)
        };
        let c = if ascending {
            created.get(c_next).copied()
        } else {
            c_next.checked_sub(1).map(|i| created[i])
        };
        let item = match (g, c) {
            (None, None) => break,
            (Some(k), None) => Item::Generated(k),
            (None, Some(c)) => Item::Created(c),
            (Some(k), Some(c)) => {
                let gkey = (world.start_of(athlete, k), world.activity_id(athlete, k));
                let ckey = (c.start, c.id);
                if (gkey < ckey) == ascending {
                    Item::Generated(k)
                } else {
                    Item::Created(c)
                }
            }
        };
        let visible = match &item {
            Item::Generated(k) => {
                if ascending {
                    g_next += 1;
                } else {
                    g_next -= 1;
                }
                visible_generated(*k)
            }
            Item::Created(c) => {
                if ascending {
                    c_next += 1;
                } else {
                    c_next -= 1;
                }
                q.include_private || !c.private
            }
        };
        if !visible {
            continue;
        }
        if skipped < q.offset {
            skipped += 1;
            continue;
        }
        out.push(match item {
            Item::Generated(k) => generated_view(world, state, athlete, k),
            Item::Created(c) => created_view(c),
        });
    }
    out
}
