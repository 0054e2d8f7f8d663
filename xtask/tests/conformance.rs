//! `cargo xtask conformance` on small recordings of our own, written to a temporary
//! directory: exit status and report checked.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

/// Runs `xtask conformance DIR` (against the project's `openapi/strava.json`).
fn conformance(dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("conformance")
        .arg(dir)
        .output()
        .expect("xtask runs")
}

fn recording(path: &str, status: u16, body: Value) -> Value {
    json!({"interactions": [{
        "request": {"method": "GET", "path": path},
        "response": {"status": status, "body": body}
    }]})
}

fn write(dir: &Path, name: &str, value: &Value) {
    std::fs::write(dir.join(name), serde_json::to_vec(value).unwrap()).unwrap();
}

#[test]
fn conforming_and_failing_interactions_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let gear = json!({"id": "b12345", "name": "Road bike", "distance": 1234.5,
        "brand_name": "Acme", "weight": 8.2});
    write(
        dir.path(),
        "gear.json",
        &recording("/api/v3/gear/b12345", 200, gear),
    );
    let fault = json!({"message": "Record Not Found",
        "errors": [{"resource": "Gear", "field": "id", "code": "not found"}]});
    write(
        dir.path(),
        "missing.json",
        &recording("/api/v3/gear/b9", 404, fault),
    );
    write(
        dir.path(),
        "elsewhere.json",
        &recording("/not/an/operation", 200, json!({})),
    );

    let out = conformance(dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("2 of 2 interactions conform"), "{stdout}");
    assert!(
        stdout.contains("skip") && stdout.contains("/not/an/operation"),
        "{stdout}"
    );

    // A body that does not deserialize into the operation's type fails the run.
    let wrong = json!({"id": "b12345", "distance": "far"});
    write(
        dir.path(),
        "wrong.json",
        &recording("/api/v3/gear/b1", 200, wrong),
    );
    let out = conformance(dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("2 of 3 interactions conform"), "{stdout}");
    assert!(
        stdout.contains("FAIL") && stdout.contains("wrong.json") && stdout.contains("distance"),
        "{stdout}"
    );
}

#[test]
fn unusable_input_is_exit_status_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("conformance")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: cargo xtask conformance"));
}
