//! `strava upload`: a generated GPX file becomes an activity (and again, a duplicate);
//! empty and unknown files are refused before anything is sent.

mod common;

use std::path::Path;

use common::{TestSandbox, temp_dir};
use stravalib_sandbox::Fault;

/// A GPX track of `points` points, one every 5 s, starting `hours_ago` hours ago.
fn write_gpx(path: &Path, points: u32, hours_ago: i64) {
    let start = chrono::Utc::now() - chrono::Duration::hours(hours_ago);
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gpx version=\"1.1\" creator=\"test\" \
         xmlns=\"http://www.topografix.com/GPX/1/1\">\n<trk><name>Test</name><trkseg>\n",
    );
    for i in 0..points {
        let angle = f64::from(i) / f64::from(points) * std::f64::consts::TAU;
        let time = start + chrono::Duration::seconds(i64::from(i) * 5);
        out.push_str(&format!(
            "<trkpt lat=\"{:.6}\" lon=\"{:.6}\"><ele>{:.1}</ele><time>{}</time></trkpt>\n",
            52.37 + 0.004 * angle.sin(),
            4.89 + 0.006 * angle.cos(),
            2.0 + angle.sin(),
            time.format("%Y-%m-%dT%H:%M:%SZ")
        ));
    }
    out.push_str("</trkseg></trk>\n</gpx>\n");
    std::fs::write(path, out).unwrap();
}

/// The activity id at the end of a `FILE: activity ID` line.
fn activity_id(line: &str) -> u64 {
    line.rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("an id in {line:?}"))
}

#[test]
fn a_generated_gpx_becomes_an_activity_then_a_duplicate() {
    let t = TestSandbox::start(3);
    let dir = temp_dir();
    let secrets = t.secrets();
    let file = dir.path().join("lunch-loop.gpx");
    write_gpx(&file, 180, 3);
    let file = file.to_str().unwrap();

    let first = t
        .strava(
            dir.path(),
            &["upload", file, "--name", "Lunch loop", "--type", "TrailRun"],
        )
        .ok()
        .clean(&secrets);
    let line = first.stdout.trim();
    assert!(line.starts_with(&format!("{file}: activity ")), "{line}");
    let id = activity_id(line);
    assert!(
        first.stderr.contains("1 file(s): 1 uploaded"),
        "{}",
        first.stderr
    );
    let activity = t
        .block_on(t.sandbox.client().get_activity(id).send())
        .expect("the new activity");
    assert_eq!(activity.name.as_deref(), Some("Lunch loop"));
    assert_eq!(
        activity.sport_type.map(|s| s.to_string()).as_deref(),
        Some("TrailRun")
    );

    let again = t.strava(dir.path(), &["upload", file]).ok().clean(&secrets);
    assert_eq!(
        again.stdout.trim(),
        format!("{file}: duplicate of activity {id}")
    );
    assert!(
        again.stderr.contains("0 uploaded, 1 duplicate(s)"),
        "{}",
        again.stderr
    );

    // Without waiting: the upload's id.
    let other = dir.path().join("second.gpx");
    write_gpx(&other, 60, 30);
    let sent = t
        .strava(
            dir.path(),
            &["upload", other.to_str().unwrap(), "--no-wait"],
        )
        .ok();
    assert!(
        sent.stdout.contains(": upload ") && sent.stdout.contains("(processing)"),
        "{}",
        sent.stdout
    );
}

#[test]
fn bad_files_are_refused_before_anything_is_sent() {
    let t = TestSandbox::start(3);
    let dir = temp_dir();
    // Anything sent to /uploads would fire this fault.
    t.sandbox
        .faults()
        .inject(Fault::status(500).on("POST", "/uploads"));

    let empty = dir.path().join("empty.gpx");
    std::fs::write(&empty, b"").unwrap();
    let refused = t
        .strava(dir.path(), &["upload", empty.to_str().unwrap()])
        .expect_code(1);
    assert!(refused.stdout.is_empty());
    assert!(
        refused.stderr.contains("refused") && refused.stderr.contains("empty"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("nothing was sent"),
        "{}",
        refused.stderr
    );

    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, b"not an activity").unwrap();
    let fake = dir.path().join("fake.fit");
    std::fs::write(&fake, b"<gpx></gpx>").unwrap();
    let refused = t
        .strava(
            dir.path(),
            &[
                "upload",
                notes.to_str().unwrap(),
                fake.to_str().unwrap(),
                "missing.tcx",
            ],
        )
        .expect_code(1);
    let lines: Vec<&str> = refused.stderr.lines().collect();
    let refusals = lines.iter().filter(|l| l.starts_with("refused ")).count();
    assert_eq!(refusals, 3, "{}", refused.stderr);
    assert!(lines[3].starts_with("error: nothing to upload: 3 file(s) refused"));
    assert_eq!(t.sandbox.faults().fired(), 0, "nothing reached Strava");

    // A directory: the good file is sent, the bad ones refused, the exit code says so.
    t.sandbox.faults().clear();
    let folder = dir.path().join("batch");
    std::fs::create_dir(&folder).unwrap();
    write_gpx(&folder.join("good.gpx"), 90, 50);
    std::fs::write(folder.join("broken.gpx"), b"").unwrap();
    std::fs::write(folder.join("README.md"), b"skip me").unwrap();
    let mixed = t
        .strava(dir.path(), &["upload", folder.to_str().unwrap()])
        .expect_code(1);
    assert_eq!(mixed.stdout.lines().count(), 1, "{}", mixed.stdout);
    assert!(
        mixed.stdout.contains("good.gpx: activity "),
        "{}",
        mixed.stdout
    );
    assert!(
        mixed.stderr.contains("broken.gpx") && mixed.stderr.contains("skipped 1"),
        "{}",
        mixed.stderr
    );
    assert!(
        mixed
            .stderr
            .contains("2 file(s): 1 uploaded, 0 duplicate(s), 0 failed, 1 refused"),
        "{}",
        mixed.stderr
    );
}
