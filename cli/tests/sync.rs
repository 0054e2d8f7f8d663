//! `strava sync`: a seeded athlete mirrored into a temporary database; a second sync adds
//! nothing; edits and new activities are picked up; syncs killed with SIGKILL at random
//! points (several seeds) and resumed end in a database equal, row for row, to a clean
//! sync; the rate limit stops a `--no-wait` sync cleanly and a waiting one counts down.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{TestSandbox, strava, temp_dir, wait_bounded};
use futures::TryStreamExt as _;
use rand::{Rng as _, SeedableRng as _};
use rusqlite::Connection;
use stravalib_sandbox::Sandbox;

/// The tables a mirror is compared by (`sync_runs` records when things happened).
const TABLES: [(&str, &str); 5] = [
    ("meta", "key"),
    ("activities", "id"),
    ("activity_details", "id"),
    ("stream_sets", "activity_id"),
    ("streams", "activity_id, type"),
];

type Dump = BTreeMap<&'static str, Vec<Vec<String>>>;

/// Every row of the compared tables, in primary-key order.
fn dump(db: &Path) -> Dump {
    let conn = Connection::open(db).expect("the mirror opens");
    let mut out = Dump::new();
    for (table, key) in TABLES {
        let mut statement = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY {key}"))
            .unwrap();
        let columns = statement.column_count();
        let rows = statement
            .query_map([], |row| {
                (0..columns)
                    .map(|i| {
                        row.get::<_, rusqlite::types::Value>(i)
                            .map(|v| format!("{v:?}"))
                    })
                    .collect::<rusqlite::Result<Vec<String>>>()
            })
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        out.insert(table, rows);
    }
    out
}

/// Rows counted by `sql`; a table the sync had not created yet (killed before) has none.
fn count(db: &Path, sql: &str) -> i64 {
    match Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
    {
        Ok(n) => n,
        Err(e) if e.to_string().contains("no such table") => 0,
        Err(e) => panic!("{sql}: {e}"),
    }
}

fn activity_ids(t: &TestSandbox) -> Vec<i64> {
    let client = t.sandbox.client();
    let mut ids: Vec<i64> = t
        .block_on(
            client
                .get_activities()
                .into_stream()
                .try_collect::<Vec<_>>(),
        )
        .unwrap()
        .iter()
        .map(|a| a.id.unwrap().as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

#[test]
fn sync_mirrors_then_adds_nothing_then_picks_up_changes() {
    let t = TestSandbox::start(14);
    let dir = temp_dir();
    let db = dir.path().join("mirror.sqlite");
    let db_arg = db.to_str().unwrap();
    let expected = activity_ids(&t);
    let n = expected.len();

    let first = t
        .strava(dir.path(), &["sync", "--db", db_arg, "--streams"])
        .ok()
        .clean(&t.secrets());
    assert!(first.stdout.is_empty());
    assert!(
        first.stderr.contains(&format!("sync complete: {n} listed ({n} new, 0 updated), {n} details and {n} stream sets fetched")),
        "{}",
        first.stderr
    );
    let conn = Connection::open(&db).unwrap();
    let ids: Vec<i64> = conn
        .prepare("SELECT id FROM activities ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(ids, expected);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM activity_details"),
        n as i64
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM stream_sets"), n as i64);
    assert!(count(&db, "SELECT COUNT(*) FROM streams") >= n as i64);
    // The summary fields are columns, the full JSON is kept.
    let (distance, from_json, sport, json_sport): (f64, f64, String, String) = conn
        .query_row(
            "SELECT distance, json_extract(json, '$.distance'), sport_type, json_extract(json, '$.sport_type')
             FROM activities ORDER BY start_epoch DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!((distance, sport.as_str()), (from_json, json_sport.as_str()));
    let points: i64 = conn
        .query_row(
            "SELECT json_array_length(data) FROM streams WHERE type = 'time' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(points > 100);
    drop(conn);

    // Nothing changed: nothing added, nothing fetched, the mirror is as it was.
    let before = dump(&db);
    let second = t
        .strava(dir.path(), &["sync", "--db", db_arg, "--streams"])
        .ok();
    assert!(
        second
            .stderr
            .contains("(0 new, 0 updated), nothing to fetch"),
        "{}",
        second.stderr
    );
    assert_eq!(dump(&db), before);

    // An edit on Strava to an older activity: seen when listing again since its start.
    let client = t.sandbox.client();
    let edited = expected[n / 2];
    let start = t
        .block_on(client.get_activity(edited).send())
        .unwrap()
        .start_date
        .unwrap();
    t.block_on(
        client
            .update_activity_by_id(edited)
            .body_map(|b| b.name(Some("Renamed on Strava".to_owned())))
            .send(),
    )
    .unwrap();
    let since = (start - chrono::Duration::seconds(1))
        .timestamp()
        .to_string();
    let third = t
        .strava(dir.path(), &["sync", "--db", db_arg, "--since", &since])
        .ok();
    assert!(third.stderr.contains("1 updated"), "{}", third.stderr);
    assert!(
        third.stderr.contains("1 details fetched"),
        "{}",
        third.stderr
    );
    let name: String = Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT a.name || '|' || json_extract(d.json, '$.name') FROM activities a JOIN activity_details d USING (id) WHERE id = ?1",
            [edited],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(name, "Renamed on Strava|Renamed on Strava");

    // A new activity: the plain incremental sync finds it.
    let created = t
        .block_on(
            client
                .create_activity()
                .body_map(|b| {
                    b.name("Evening walk".to_owned())
                        .sport_type("Walk".to_owned())
                        .start_date_local(chrono::Utc::now() - chrono::Duration::hours(1))
                        .elapsed_time(1800)
                        .distance(Some(2500.0))
                })
                .send(),
        )
        .unwrap();
    let fourth = t.strava(dir.path(), &["sync", "--db", db_arg]).ok();
    assert!(
        fourth
            .stderr
            .contains("(1 new, 0 updated), 1 details fetched"),
        "{}",
        fourth.stderr
    );
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT COUNT(*) FROM activities WHERE id = {}",
                created.id.unwrap()
            )
        ),
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM sync_runs WHERE outcome = 'complete'"
        ),
        4
    );
}

#[test]
fn syncs_killed_at_random_points_resume_to_a_clean_mirror() {
    let t = TestSandbox::start(10);
    let dir = temp_dir();
    let clean = dir.path().join("clean.sqlite");
    let full = t
        .strava(
            dir.path(),
            &["sync", "--db", clean.to_str().unwrap(), "--streams"],
        )
        .ok();
    let expected = dump(&clean);
    let took = full.elapsed;
    let mut partial_seen = 0;
    for seed in [1u64, 2, 3] {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let db = dir.path().join(format!("killed-{seed}.sqlite"));
        let db_arg = db.to_str().unwrap();
        for _ in 0..2 {
            let mut command = strava(dir.path(), &["sync", "--db", db_arg, "--streams"]);
            command
                .envs(t.env())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let mut child = command.spawn().unwrap();
            let at = took.mul_f64(rng.random_range(0.05..0.8));
            std::thread::sleep(at);
            // SIGKILL: no handler runs, nothing gets flushed.
            let _ = child.kill();
            let _ = wait_bounded(&mut child, Duration::from_secs(30));
            // Killed early, the file may exist without its tables yet: that is partial too.
            let read_only = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
            let have = Connection::open_with_flags(&db, read_only)
                .and_then(|c| {
                    c.query_row("SELECT COUNT(*) FROM stream_sets", [], |r| {
                        r.get::<_, i64>(0)
                    })
                })
                .unwrap_or(0);
            if have < expected["stream_sets"].len() as i64 {
                partial_seen += 1;
            }
        }
        let resumed = t
            .strava(dir.path(), &["sync", "--db", db_arg, "--streams"])
            .ok();
        assert!(
            resumed.stderr.contains("sync complete"),
            "{}",
            resumed.stderr
        );
        assert_eq!(
            dump(&db),
            expected,
            "seed {seed}: the resumed mirror differs"
        );
        let outcomes: Vec<String> = Connection::open(&db)
            .unwrap()
            .prepare("SELECT outcome FROM sync_runs")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            outcomes.iter().all(|o| o == "abandoned" || o == "complete"),
            "{outcomes:?}"
        );
        assert_eq!(outcomes.last().map(String::as_str), Some("complete"));
    }
    assert!(
        partial_seen >= 2,
        "the kills should interrupt syncs mid-way"
    );
}

#[test]
fn ctrl_c_stops_between_requests_and_says_what_was_kept() {
    let t = TestSandbox::start(30);
    let dir = temp_dir();
    let db = dir.path().join("mirror.sqlite");
    let mut command = strava(
        dir.path(),
        &["sync", "--db", db.to_str().unwrap(), "--streams"],
    );
    command
        .envs(t.env())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let (_, stderr) = common::drain(&mut child);
    // Once the first activity is saved, the handler is in place: interrupt.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(db.exists()
        && Connection::open(&db)
            .and_then(|c| {
                c.query_row("SELECT COUNT(*) FROM stream_sets", [], |r| {
                    r.get::<_, i64>(0)
                })
            })
            .is_ok_and(|n| n > 0))
    {
        assert!(Instant::now() < deadline, "the sync saves something");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = wait_bounded(&mut child, Duration::from_secs(60));
    let stderr = stderr.join().unwrap();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains("sync interrupted (run `strava sync` again to continue)"),
        "{stderr}"
    );
    let kept = count(&db, "SELECT COUNT(*) FROM stream_sets");
    assert!(kept > 0 && kept < 30, "{kept}");
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM sync_runs WHERE outcome = 'interrupted'"
        ),
        1
    );
}

/// Two sandboxes with the same data: one with room to spare, one with a tiny read limit.
fn twins(read_limit: u32) -> (TestSandbox, TestSandbox) {
    let start = "2026-03-10T09:00:00Z".parse().unwrap();
    let make = |read: u32| {
        TestSandbox::with(
            Sandbox::builder()
                .seed(5)
                .athletes(1)
                .activities_per_athlete(9)
                .start_time(start)
                .rate_limits(100_000, 1_000_000, read, 1_000_000),
        )
    };
    (make(100_000), make(read_limit))
}

#[test]
fn no_wait_stops_at_the_rate_limit_and_resumes() {
    let (roomy, tight) = twins(5);
    let dir = temp_dir();
    let clean = dir.path().join("clean.sqlite");
    roomy
        .strava(dir.path(), &["sync", "--db", clean.to_str().unwrap()])
        .ok();
    let db = dir.path().join("limited.sqlite");
    let db_arg = db.to_str().unwrap();
    let stopped = tight
        .strava(dir.path(), &["sync", "--db", db_arg, "--no-wait"])
        .expect_code(75);
    assert!(
        stopped.stderr.contains("sync stopped at the rate limit"),
        "{}",
        stopped.stderr
    );
    assert!(
        stopped
            .stderr
            .contains("error: Strava's rate limit is spent (read 5/5 per 15 minutes)"),
        "{}",
        stopped.stderr
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM sync_runs WHERE outcome = 'rate-limited'"
        ),
        1
    );
    // Each new window lets it go further; bounded.
    let mut finished = false;
    for _ in 0..5 {
        tight.sandbox.reset_rate_limits();
        let run = tight.strava(dir.path(), &["sync", "--db", db_arg, "--no-wait"]);
        match run.code {
            Some(0) => {
                finished = true;
                break;
            }
            Some(75) => continue,
            _ => panic!("{}\n{}", run.stdout, run.stderr),
        }
    }
    assert!(finished, "the sync finishes over a few windows");
    assert_eq!(dump(&db), dump(&clean));
}

#[test]
fn a_spent_window_is_counted_down_then_the_sync_goes_on() {
    let dir = temp_dir();
    let db = dir.path().join("sandbox.sqlite");
    // The sandbox clock starts 15 s before a quarter hour (room for a slow start); 6 reads fit in its window.
    let run = common::run(strava(
        dir.path(),
        &[
            "--sandbox",
            "--sandbox-activities",
            "6",
            "--sandbox-limits",
            "100000,1000000,6,1000000",
            "--sandbox-start",
            "2026-03-10T12:14:45Z",
            "sync",
            "--db",
            db.to_str().unwrap(),
        ],
    ))
    .ok();
    assert!(
        run.stderr
            .contains("rate limit reached (read 6/6 per 15 minutes): waiting"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("until 12:15:01 UTC"), "{}", run.stderr);
    assert!(run.stderr.contains("sync complete"), "{}", run.stderr);
    assert!(
        run.elapsed >= Duration::from_secs(2),
        "it waited: {:?}",
        run.elapsed
    );
    assert!(run.elapsed < Duration::from_secs(60));
    let activities = count(&db, "SELECT COUNT(*) FROM activities");
    assert!(activities >= 5);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM activity_details"),
        activities
    );
    // The default database of --sandbox is apart from the real one.
    let default = common::run(strava(
        dir.path(),
        &["--sandbox", "--sandbox-activities", "3", "sync"],
    ))
    .ok();
    assert!(
        default.stderr.contains("sandbox.sqlite"),
        "{}",
        default.stderr
    );
}
