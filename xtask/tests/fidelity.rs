//! `cargo xtask fidelity` on a small description, recordings and ledgers of our own,
//! written to a temporary directory: the walk, violations, the ledger and its proofs, and
//! shape differences from recordings.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

/// A description of two operations; `Athlete.weight` is wrongly an integer (the sandbox,
/// like Strava, sends `68.5`).
fn description() -> Value {
    let answer = |schema: &str| {
        json!({"200": {"description": "", "content": {"application/json": {"schema":
            {"$ref": format!("#/components/schemas/{schema}")}}}}})
    };
    json!({
        "openapi": "3.0.3",
        "info": {"title": "test", "version": "1"},
        "paths": {
            "/athlete": {"get": {"operationId": "getLoggedInAthlete", "responses": answer("Athlete")}},
            "/gear/{id}": {"get": {"operationId": "getGearById", "responses": answer("Gear")}}
        },
        "components": {"schemas": {
            "Athlete": {"type": "object", "properties": {
                "id": {"type": "integer", "format": "int64"},
                "firstname": {"type": "string"},
                "sex": {"type": "string", "enum": ["M", "F"]},
                "weight": {"type": "integer"}
            }},
            "Gear": {"type": "object", "properties": {
                "id": {"type": "string"},
                "distance": {"type": "number", "format": "float"}
            }}
        }}
    })
}

fn interaction(path: &str, body: Value) -> Value {
    json!({"interactions": [{
        "request": {"method": "GET", "path": path, "query": {}},
        "response": {"status": 200, "headers": {}, "body": body}
    }]})
}

fn write(path: &Path, value: &Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
}

/// Runs `xtask fidelity` on `dir` (description, recordings) with the ledger `ledger`.
fn fidelity(dir: &Path, ledger: Option<Value>) -> (Output, String) {
    write(
        &dir.join("reference/strava-oas3-facts.json"),
        &description(),
    );
    std::fs::create_dir_all(dir.join("recordings")).unwrap();
    let ledger_path = dir.join("ledger.json");
    match ledger {
        Some(l) => write(&ledger_path, &l),
        None => {
            let _ = std::fs::remove_file(&ledger_path);
        }
    }
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("fidelity")
        .arg(dir)
        .arg("--ledger")
        .arg(&ledger_path)
        .output()
        .expect("xtask runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, stdout)
}

fn weight_entry(recording: &str) -> Value {
    json!([{"kind": "type", "at": "Athlete.weight",
        "why": "the description says integer; Strava sends fractional kilograms",
        "recording": recording}])
}

#[test]
fn a_wrong_description_is_a_violation_until_a_recording_proves_it() {
    let dir = tempfile::tempdir().unwrap();

    // No ledger: the integer weight is a violation.
    let (out, stdout) = fidelity(dir.path(), None);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("VIOLATION type Athlete.weight: expected integer"),
        "{stdout}"
    );
    // Every operation of ours was walked; two are in this description.
    let ours: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../openapi/strava.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let n = ours["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter(|op| op.get("operationId").is_some())
        .count();
    assert!(
        stdout.contains(&format!("fidelity: {n} operations walked")),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 validated against the description"),
        "{stdout}"
    );
    assert!(stdout.contains("note      getActivityById: not in the description"));

    // A ledger entry whose recording shows the same violation allows it.
    write(
        &dir.path().join("recordings/client/athlete.json"),
        &interaction(
            "/api/v3/athlete",
            json!({"id": 7, "firstname": "Ada", "weight": 61.2}),
        ),
    );
    let (out, stdout) = fidelity(dir.path(), Some(weight_entry("client/athlete.json")));
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("(1 allowed by the ledger, 0 unexplained)"),
        "{stdout}"
    );

    // A recording that does not show it proves nothing.
    write(
        &dir.path().join("recordings/client/athlete.json"),
        &interaction("/api/v3/athlete", json!({"id": 7, "weight": 61})),
    );
    let (out, stdout) = fidelity(dir.path(), Some(weight_entry("client/athlete.json")));
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("unproven  type Athlete.weight: client/athlete.json does not show it"),
        "{stdout}"
    );
    // ... and the recorded whole kilograms make the sandbox's fraction a shape difference.
    assert!(
        stdout.contains("SHAPE     getLoggedInAthlete $.weight: the sandbox sends fraction, the recordings integer"),
        "{stdout}"
    );
}

#[test]
fn recorded_shapes_and_stale_entries() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("recordings/client/athlete.json"),
        &interaction(
            "/api/v3/athlete",
            json!({"id": 7, "firstname": "Ada", "weight": 61.2}),
        ),
    );
    // Gear ids are strings in the recordings; the sandbox agrees. A bare body (no request)
    // of a name we know counts too.
    write(
        &dir.path().join("recordings/client/gear.json"),
        &interaction(
            "/api/v3/gear/b1",
            json!({"id": "b1", "distance": 1234.5, "primary": true}),
        ),
    );
    write(
        &dir.path().join("recordings/bare/athlete.3.json"),
        &json!({"id": 7, "firstname": "Ada", "weight": 61.5, "premium": "yes"}),
    );
    let mut ledger = weight_entry("client/athlete.json");
    ledger.as_array_mut().unwrap().push(json!({"kind": "enum",
        "at": "Athlete.sex", "why": "never needed", "recording": "bare/athlete.3.json"}));
    let (out, stdout) = fidelity(dir.path(), Some(ledger));
    // `premium` is a string in the bare recording, a boolean from the sandbox.
    assert!(
        stdout.contains("SHAPE     getLoggedInAthlete $.premium: the sandbox sends boolean, the recordings string"),
        "{stdout}"
    );
    // The enum entry is not shown by its recording (sex is absent there).
    assert!(stdout.contains("unproven  enum Athlete.sex"), "{stdout}");
    assert!(stdout.contains("stale     enum Athlete.sex"), "{stdout}");
    assert!(!stdout.contains("getGearById $.id"), "{stdout}");
    assert_eq!(out.status.code(), Some(1), "{stdout}");

    // A malformed ledger is unusable input.
    let (out, _) = fidelity(
        dir.path(),
        Some(json!([{"kind": "type", "at": "Athlete.weight", "why": "no recording"}])),
    );
    assert_eq!(out.status.code(), Some(2));
}
