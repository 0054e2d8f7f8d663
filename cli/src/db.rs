//! The local mirror: a SQLite database of the athlete's activities.
//!
//! | table | holds |
//! |---|---|
//! | `activities` | one row per activity: primary key `id`, the summary fields as columns, the full summary JSON in `json` |
//! | `activity_details` | one row per activity whose details were fetched: a few columns and the full JSON |
//! | `stream_sets` | one row per activity whose streams were fetched (even when it has none): the types and the number of points |
//! | `streams` | one row per activity and stream type: its data as a JSON array |
//! | `sync_runs` | one row per `strava sync`: when, how it ended, what it did |
//! | `meta` | the schema version and the athlete the mirror belongs to |
//!
//! Every change a sync makes — a page of the list, one activity's details and streams —
//! is one transaction, and the database runs in WAL mode: a sync killed at any point
//! leaves every committed page and activity in place and nothing half-written, and the
//! next sync continues from what is there. Only `sync_runs` records when things happened,
//! so two mirrors of the same data are equal row for row in every other table.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension as _, params};
use serde_json::Value;

/// The schema this version writes.
const SCHEMA_VERSION: &str = "1";

/// The columns of `activities` besides `id`, `start_epoch` and `json`: (column, SQL type,
/// path in the summary JSON).
const COLUMNS: &[(&str, &str, &[&str])] = &[
    ("athlete_id", "INTEGER", &["athlete", "id"]),
    ("name", "TEXT", &["name"]),
    ("sport_type", "TEXT", &["sport_type"]),
    ("type", "TEXT", &["type"]),
    ("start_date", "TEXT", &["start_date"]),
    ("start_date_local", "TEXT", &["start_date_local"]),
    ("timezone", "TEXT", &["timezone"]),
    ("utc_offset", "REAL", &["utc_offset"]),
    ("distance", "REAL", &["distance"]),
    ("moving_time", "INTEGER", &["moving_time"]),
    ("elapsed_time", "INTEGER", &["elapsed_time"]),
    ("total_elevation_gain", "REAL", &["total_elevation_gain"]),
    ("elev_high", "REAL", &["elev_high"]),
    ("elev_low", "REAL", &["elev_low"]),
    ("average_speed", "REAL", &["average_speed"]),
    ("max_speed", "REAL", &["max_speed"]),
    ("has_heartrate", "INTEGER", &["has_heartrate"]),
    ("average_heartrate", "REAL", &["average_heartrate"]),
    ("max_heartrate", "REAL", &["max_heartrate"]),
    ("average_cadence", "REAL", &["average_cadence"]),
    ("average_watts", "REAL", &["average_watts"]),
    (
        "weighted_average_watts",
        "INTEGER",
        &["weighted_average_watts"],
    ),
    ("max_watts", "INTEGER", &["max_watts"]),
    ("device_watts", "INTEGER", &["device_watts"]),
    ("kilojoules", "REAL", &["kilojoules"]),
    ("average_temp", "REAL", &["average_temp"]),
    ("suffer_score", "REAL", &["suffer_score"]),
    ("achievement_count", "INTEGER", &["achievement_count"]),
    ("kudos_count", "INTEGER", &["kudos_count"]),
    ("comment_count", "INTEGER", &["comment_count"]),
    ("athlete_count", "INTEGER", &["athlete_count"]),
    ("photo_count", "INTEGER", &["photo_count"]),
    ("total_photo_count", "INTEGER", &["total_photo_count"]),
    ("pr_count", "INTEGER", &["pr_count"]),
    ("trainer", "INTEGER", &["trainer"]),
    ("commute", "INTEGER", &["commute"]),
    ("manual", "INTEGER", &["manual"]),
    ("private", "INTEGER", &["private"]),
    ("flagged", "INTEGER", &["flagged"]),
    ("visibility", "TEXT", &["visibility"]),
    ("workout_type", "INTEGER", &["workout_type"]),
    ("gear_id", "TEXT", &["gear_id"]),
    ("device_name", "TEXT", &["device_name"]),
    ("external_id", "TEXT", &["external_id"]),
    ("upload_id", "INTEGER", &["upload_id"]),
    ("start_latlng", "TEXT", &["start_latlng"]),
    ("end_latlng", "TEXT", &["end_latlng"]),
    ("summary_polyline", "TEXT", &["map", "summary_polyline"]),
    ("location_city", "TEXT", &["location_city"]),
    ("location_state", "TEXT", &["location_state"]),
    ("location_country", "TEXT", &["location_country"]),
];

/// What saving a page did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageOutcome {
    /// Activities new to the mirror.
    pub added: usize,
    /// Activities whose summary changed (their details and streams are fetched again).
    pub updated: usize,
    /// Activities already mirrored as they are.
    pub unchanged: usize,
}

/// An activity still missing its details or streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pending {
    /// Its id.
    pub id: i64,
    /// Its details are missing.
    pub details: bool,
    /// Its streams are missing (and were asked for).
    pub streams: bool,
}

/// What one sync did, kept in `sync_runs`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunCounts {
    /// Activities listed.
    pub listed: usize,
    /// New activities.
    pub added: usize,
    /// Changed activities.
    pub updated: usize,
    /// Activities gone from Strava (removed from the mirror).
    pub removed: usize,
    /// Details fetched.
    pub details: usize,
    /// Stream sets fetched.
    pub streams: usize,
}

/// An open mirror.
pub struct Mirror {
    conn: Connection,
}

impl Mirror {
    /// Opens (creating it and its directory if needed) the mirror at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let conn = Connection::open(path)
            .with_context(|| format!("cannot open the database {}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mirror = Self { conn };
        mirror
            .create_schema()
            .with_context(|| format!("{} is not a strava mirror", path.display()))?;
        Ok(mirror)
    }

    fn create_schema(&self) -> Result<()> {
        let columns: Vec<String> = COLUMNS
            .iter()
            .map(|(name, ty, _)| format!("  {name} {ty}"))
            .collect();
        let sql = format!(
            "BEGIN;
             CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS activities (
               id INTEGER PRIMARY KEY,
               start_epoch INTEGER NOT NULL,
             {},
               json TEXT NOT NULL
             );
             CREATE INDEX IF NOT EXISTS activities_start ON activities (start_epoch);
             CREATE TABLE IF NOT EXISTS activity_details (
               id INTEGER PRIMARY KEY REFERENCES activities (id) ON DELETE CASCADE,
               description TEXT,
               calories REAL,
               lap_count INTEGER,
               segment_effort_count INTEGER,
               json TEXT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS stream_sets (
               activity_id INTEGER PRIMARY KEY REFERENCES activities (id) ON DELETE CASCADE,
               types TEXT NOT NULL,
               points INTEGER NOT NULL
             );
             CREATE TABLE IF NOT EXISTS streams (
               activity_id INTEGER NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
               type TEXT NOT NULL,
               series_type TEXT,
               original_size INTEGER,
               resolution TEXT,
               data TEXT NOT NULL,
               PRIMARY KEY (activity_id, type)
             );
             CREATE TABLE IF NOT EXISTS sync_runs (
               id INTEGER PRIMARY KEY AUTOINCREMENT,
               started_at TEXT NOT NULL,
               finished_at TEXT,
               outcome TEXT NOT NULL,
               listed INTEGER NOT NULL DEFAULT 0,
               added INTEGER NOT NULL DEFAULT 0,
               updated INTEGER NOT NULL DEFAULT 0,
               removed INTEGER NOT NULL DEFAULT 0,
               details INTEGER NOT NULL DEFAULT 0,
               streams INTEGER NOT NULL DEFAULT 0
             );
             INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '{SCHEMA_VERSION}');
             COMMIT;",
            columns.join(",\n")
        );
        self.conn.execute_batch(&sql)?;
        let version: String = self.conn.query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |row| row.get(0),
        )?;
        if version != SCHEMA_VERSION {
            bail!("its schema is version {version}; this strava writes version {SCHEMA_VERSION}");
        }
        Ok(())
    }

    /// Records the athlete the mirror belongs to, or fails when it belongs to another.
    pub fn claim(&self, athlete_id: i64) -> Result<()> {
        let owner: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'athlete_id'", [], |r| {
                r.get(0)
            })
            .optional()?;
        match owner {
            None => {
                self.conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('athlete_id', ?1)",
                    [athlete_id.to_string()],
                )?;
                Ok(())
            }
            Some(owner) if owner == athlete_id.to_string() => Ok(()),
            Some(owner) => bail!(
                "this database mirrors athlete {owner}, not {athlete_id}: use --db for another one"
            ),
        }
    }

    /// The start (Unix seconds) of the newest activity mirrored.
    pub fn newest_start(&self) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row("SELECT MAX(start_epoch) FROM activities", [], |r| r.get(0))?)
    }

    /// How many activities the mirror holds.
    pub fn count(&self) -> Result<usize> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM activities", [], |r| r.get(0))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Saves a page of summary activities in one transaction: new ones are inserted,
    /// changed ones updated (and their details and streams dropped, to be fetched again).
    pub fn save_page(&mut self, page: &[Value]) -> Result<PageOutcome> {
        let tx = self.conn.transaction()?;
        let mut outcome = PageOutcome::default();
        {
            let names: Vec<&str> = COLUMNS.iter().map(|c| c.0).collect();
            let placeholders: Vec<String> =
                (1..=names.len() + 3).map(|i| format!("?{i}")).collect();
            let updates: Vec<String> = names
                .iter()
                .chain(["start_epoch", "json"].iter())
                .map(|n| format!("{n} = excluded.{n}"))
                .collect();
            let upsert = format!(
                "INSERT INTO activities (id, start_epoch, {}, json) VALUES ({})
                 ON CONFLICT (id) DO UPDATE SET {}",
                names.join(", "),
                placeholders.join(", "),
                updates.join(", ")
            );
            let mut upsert = tx.prepare_cached(&upsert)?;
            let mut existing = tx.prepare_cached("SELECT json FROM activities WHERE id = ?1")?;
            let mut drop_details =
                tx.prepare_cached("DELETE FROM activity_details WHERE id = ?1")?;
            let mut drop_streams =
                tx.prepare_cached("DELETE FROM streams WHERE activity_id = ?1")?;
            let mut drop_sets =
                tx.prepare_cached("DELETE FROM stream_sets WHERE activity_id = ?1")?;
            for activity in page {
                let Some(id) = activity.get("id").and_then(Value::as_i64) else {
                    bail!("Strava listed an activity without an id");
                };
                let json = serde_json::to_string(activity)?;
                let before: Option<String> = existing.query_row([id], |r| r.get(0)).optional()?;
                match before {
                    Some(before) if before == json => {
                        outcome.unchanged += 1;
                        continue;
                    }
                    Some(_) => {
                        outcome.updated += 1;
                        drop_details.execute([id])?;
                        drop_streams.execute([id])?;
                        drop_sets.execute([id])?;
                    }
                    None => outcome.added += 1,
                }
                let mut values: Vec<SqlValue> = Vec::with_capacity(COLUMNS.len() + 3);
                values.push(SqlValue::Integer(id));
                values.push(SqlValue::Integer(start_epoch(activity)));
                values.extend(
                    COLUMNS
                        .iter()
                        .map(|(_, _, path)| sql_value(lookup(activity, path))),
                );
                values.push(SqlValue::Text(json));
                upsert.execute(rusqlite::params_from_iter(values))?;
            }
        }
        tx.commit()?;
        Ok(outcome)
    }

    /// Activities missing their details (unless `details` is false) or, with `streams`,
    /// their streams; oldest first.
    pub fn pending(&self, details: bool, streams: bool) -> Result<Vec<Pending>> {
        let mut statement = self.conn.prepare(
            "SELECT a.id, d.id IS NULL, s.activity_id IS NULL
             FROM activities a
             LEFT JOIN activity_details d ON d.id = a.id
             LEFT JOIN stream_sets s ON s.activity_id = a.id
             WHERE (?1 AND d.id IS NULL) OR (?2 AND s.activity_id IS NULL)
             ORDER BY a.start_epoch, a.id",
        )?;
        let rows = statement.query_map(params![details, streams], |r| {
            Ok(Pending {
                id: r.get(0)?,
                details: details && r.get::<_, bool>(1)?,
                streams: streams && r.get::<_, bool>(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Saves one activity's details and streams (each when given) in one transaction.
    /// `streams` is Strava's stream set keyed by type.
    pub fn save_extras(
        &mut self,
        id: i64,
        details: Option<&Value>,
        streams: Option<&Value>,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        if let Some(details) = details {
            let count = |key: &str| {
                details
                    .get(key)
                    .and_then(Value::as_array)
                    .map(|a| i64::try_from(a.len()).unwrap_or(i64::MAX))
            };
            tx.execute(
                "INSERT INTO activity_details (id, description, calories, lap_count, segment_effort_count, json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (id) DO UPDATE SET description = excluded.description,
                   calories = excluded.calories, lap_count = excluded.lap_count,
                   segment_effort_count = excluded.segment_effort_count, json = excluded.json",
                params![
                    id,
                    details.get("description").and_then(Value::as_str),
                    details.get("calories").and_then(Value::as_f64),
                    count("laps"),
                    count("segment_efforts"),
                    serde_json::to_string(details)?,
                ],
            )?;
        }
        if let Some(streams) = streams {
            tx.execute("DELETE FROM streams WHERE activity_id = ?1", [id])?;
            let mut types = Vec::new();
            let mut points = 0usize;
            if let Some(map) = streams.as_object() {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO streams (activity_id, type, series_type, original_size, resolution, data)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?;
                for (kind, stream) in map {
                    let data = stream
                        .get("data")
                        .cloned()
                        .unwrap_or(Value::Array(Vec::new()));
                    points = points.max(data.as_array().map_or(0, Vec::len));
                    insert.execute(params![
                        id,
                        kind,
                        stream.get("series_type").and_then(Value::as_str),
                        stream.get("original_size").and_then(Value::as_i64),
                        stream.get("resolution").and_then(Value::as_str),
                        serde_json::to_string(&data)?,
                    ])?;
                    types.push(kind.as_str());
                }
            }
            tx.execute(
                "INSERT INTO stream_sets (activity_id, types, points) VALUES (?1, ?2, ?3)
                 ON CONFLICT (activity_id) DO UPDATE SET types = excluded.types, points = excluded.points",
                params![id, types.join(","), i64::try_from(points).unwrap_or(i64::MAX)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Removes an activity Strava no longer has (with its details and streams).
    pub fn remove(&mut self, id: i64) -> Result<()> {
        self.conn
            .execute("DELETE FROM activities WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Starts a `sync_runs` row; returns its id. Rows of runs that never finished (killed)
    /// are marked `abandoned`.
    pub fn begin_run(&self, started_at: &str) -> Result<i64> {
        self.conn.execute(
            "UPDATE sync_runs SET outcome = 'abandoned' WHERE outcome = 'running'",
            [],
        )?;
        self.conn.execute(
            "INSERT INTO sync_runs (started_at, outcome) VALUES (?1, 'running')",
            [started_at],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Closes a `sync_runs` row with its outcome and counts.
    pub fn finish_run(
        &self,
        run: i64,
        finished_at: &str,
        outcome: &str,
        c: &RunCounts,
    ) -> Result<()> {
        let n = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        self.conn.execute(
            "UPDATE sync_runs SET finished_at = ?2, outcome = ?3, listed = ?4, added = ?5,
               updated = ?6, removed = ?7, details = ?8, streams = ?9 WHERE id = ?1",
            params![
                run,
                finished_at,
                outcome,
                n(c.listed),
                n(c.added),
                n(c.updated),
                n(c.removed),
                n(c.details),
                n(c.streams)
            ],
        )?;
        Ok(())
    }
}

/// `start_date` in Unix seconds (0 when missing or unreadable).
fn start_epoch(activity: &Value) -> i64 {
    activity
        .get("start_date")
        .and_then(Value::as_str)
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map_or(0, |t| t.timestamp())
}

fn lookup<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(*key))
}

/// A JSON value as an SQL value: booleans as 0/1, arrays and objects as JSON text.
fn sql_value(value: Option<&Value>) -> SqlValue {
    match value {
        None | Some(Value::Null) => SqlValue::Null,
        Some(Value::Bool(b)) => SqlValue::Integer(i64::from(*b)),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => n.as_f64().map_or(SqlValue::Null, SqlValue::Real),
        },
        Some(Value::String(s)) => SqlValue::Text(s.clone()),
        Some(other) => SqlValue::Text(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn activity(id: i64, start: &str, kudos: i64) -> Value {
        json!({"id": id, "name": format!("A{id}"), "start_date": start, "kudos_count": kudos,
               "athlete": {"id": 7}, "distance": 1234.5, "trainer": false,
               "map": {"summary_polyline": "abc"}})
    }

    #[test]
    fn pages_upsert_and_invalidate() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = Mirror::open(&dir.path().join("m.sqlite")).unwrap();
        m.claim(7).unwrap();
        assert!(m.claim(8).is_err());
        let page = [
            activity(1, "2026-01-01T10:00:00Z", 0),
            activity(2, "2026-01-02T10:00:00Z", 0),
        ];
        assert_eq!(m.save_page(&page).unwrap().added, 2);
        assert_eq!(m.save_page(&page).unwrap().unchanged, 2);
        assert_eq!(m.newest_start().unwrap(), Some(1_767_348_000));
        assert_eq!(m.pending(true, true).unwrap().len(), 2);
        m.save_extras(
            1,
            Some(&json!({"id": 1, "laps": [1, 2]})),
            Some(&json!({"time": {"data": [0, 1, 2]}})),
        )
        .unwrap();
        assert_eq!(
            m.pending(true, true).unwrap(),
            [Pending {
                id: 2,
                details: true,
                streams: true
            }]
        );
        // A changed summary drops what was fetched for it.
        let changed = [activity(1, "2026-01-01T10:00:00Z", 3)];
        assert_eq!(m.save_page(&changed).unwrap().updated, 1);
        assert_eq!(m.pending(true, false).unwrap().len(), 2);
        let (kudos, trainer, polyline): (i64, i64, String) = m
            .conn
            .query_row(
                "SELECT kudos_count, trainer, summary_polyline FROM activities WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((kudos, trainer, polyline.as_str()), (3, 0, "abc"));
        m.remove(2).unwrap();
        assert_eq!(m.count().unwrap(), 1);
    }
}
