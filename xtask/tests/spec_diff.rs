//! Integration tests of `cargo xtask spec-diff`: small descriptions written to a temporary
//! directory, the compiled xtask binary run on them, exit status and output checked.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

/// What one run of the binary produced.
struct Outcome {
    /// Exit status.
    code: i32,
    /// Standard output.
    stdout: String,
    /// Standard error.
    stderr: String,
}

impl Outcome {
    /// Both streams, for assertion messages and searches.
    fn all(&self) -> String {
        format!("--- stdout\n{}--- stderr\n{}", self.stdout, self.stderr)
    }
}

/// Writes `value` as JSON to `dir/name` and returns the path.
fn write(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path
}

/// The `xtask spec-diff` command, without further arguments.
fn spec_diff() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.arg("spec-diff");
    command
}

/// Runs `spec-diff --ours OURS --deviations DEVIATIONS [extra] THEIRS`.
fn run(theirs: &Path, ours: &Path, deviations: &Path, extra: &[&str]) -> Outcome {
    let output = spec_diff()
        .arg("--ours")
        .arg(ours)
        .arg("--deviations")
        .arg(deviations)
        .args(extra)
        .arg(theirs)
        .output()
        .expect("spec-diff runs");
    Outcome {
        code: output.status.code().expect("exit code"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// Compares two documents with the given deviations (none when `None`).
fn compare(theirs: &Value, ours: &Value, deviations: Option<&Value>, extra: &[&str]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let theirs = write(dir.path(), "theirs.json", theirs);
    let ours = write(dir.path(), "ours.json", ours);
    let deviations = write(
        dir.path(),
        "deviations.json",
        deviations.unwrap_or(&json!([])),
    );
    run(&theirs, &ours, &deviations, extra)
}

/// A small OpenAPI 3 description in the style of ours.
fn oas3() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "test", "version": "1"},
        "paths": {
            "/athletes/{id}": {
                "get": {
                    "operationId": "getAthlete",
                    "parameters": [
                        {"name": "id", "in": "path", "required": true,
                         "schema": {"type": "integer", "format": "int64"}}
                    ],
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Athlete"}}}}
                    }
                }
            }
        },
        "components": {"schemas": {
            "Athlete": {"type": "object", "properties": {
                "id": {"type": "integer", "format": "int64"},
                "firstname": {"type": "string", "description": "prose is ignored"},
                "sport": {"$ref": "#/components/schemas/SportType"}
            }},
            "SportType": {"type": "string", "enum": ["Ride", "Run", "Swim"]}
        }}
    })
}

/// The difference lines of an outcome (not the summary, stale or info lines).
fn difference_lines(outcome: &Outcome) -> Vec<&str> {
    outcome
        .stdout
        .lines()
        .filter(|l| !l.starts_with("spec-diff:") && !l.starts_with("stale"))
        .collect()
}

#[test]
fn identical_documents_exit_0() {
    let outcome = compare(&oas3(), &oas3(), None, &[]);
    assert_eq!(outcome.code, 0, "{}", outcome.all());
    assert!(
        outcome
            .stdout
            .contains("spec-diff: 0 differences, 0 explained, 0 unexplained"),
        "{}",
        outcome.all()
    );
}

#[test]
fn renamed_property_exits_1_and_names_it() {
    let mut theirs = oas3();
    let props = theirs
        .pointer_mut("/components/schemas/Athlete/properties")
        .unwrap()
        .as_object_mut()
        .unwrap();
    let first = props.remove("firstname").unwrap();
    props.insert("first_name".into(), first);

    let outcome = compare(&theirs, &oas3(), None, &[]);
    assert_eq!(outcome.code, 1, "{}", outcome.all());
    let lines = difference_lines(&outcome);
    assert!(
        lines.iter().any(|l| l.starts_with("property-missing")
            && l.contains("Athlete.first_name: in theirs, not in ours")),
        "{}",
        outcome.all()
    );
    assert!(
        lines.iter().any(|l| l.starts_with("property-missing")
            && l.contains("Athlete.firstname: in ours, not in theirs")),
        "{}",
        outcome.all()
    );
    assert!(
        outcome.stdout.contains("2 unexplained"),
        "{}",
        outcome.all()
    );
}

/// Theirs with one more sport type.
fn theirs_with_new_sport() -> Value {
    let mut theirs = oas3();
    theirs
        .pointer_mut("/components/schemas/SportType/enum")
        .unwrap()
        .as_array_mut()
        .unwrap()
        .push(json!("Pickleball"));
    theirs
}

#[test]
fn added_enum_value_exits_1_and_names_the_value() {
    let outcome = compare(&theirs_with_new_sport(), &oas3(), None, &[]);
    assert_eq!(outcome.code, 1, "{}", outcome.all());
    let lines = difference_lines(&outcome);
    assert_eq!(lines.len(), 1, "{}", outcome.all());
    assert!(lines[0].starts_with("enum-values"), "{}", outcome.all());
    assert!(
        lines[0].contains("SportType: theirs adds [Pickleball]"),
        "{}",
        outcome.all()
    );
}

#[test]
fn listed_deviation_exits_0() {
    let deviations = json!([
        {"kind": "enum-values", "at": "SportType", "why": "we support it on our own schedule"}
    ]);
    let outcome = compare(&theirs_with_new_sport(), &oas3(), Some(&deviations), &[]);
    assert_eq!(outcome.code, 0, "{}", outcome.all());
    assert!(difference_lines(&outcome).is_empty(), "{}", outcome.all());
    assert!(
        outcome
            .stdout
            .contains("spec-diff: 1 difference, 1 explained, 0 unexplained"),
        "{}",
        outcome.all()
    );

    // --verbose shows the explained difference and its reason.
    let outcome = compare(
        &theirs_with_new_sport(),
        &oas3(),
        Some(&deviations),
        &["--verbose"],
    );
    assert_eq!(outcome.code, 0, "{}", outcome.all());
    assert!(
        outcome.stdout.contains("Pickleball") && outcome.stdout.contains("on our own schedule"),
        "{}",
        outcome.all()
    );
}

#[test]
fn wildcard_deviation_covers_every_property_of_a_schema() {
    let mut theirs = oas3();
    let props = theirs
        .pointer_mut("/components/schemas/Athlete/properties")
        .unwrap();
    props["id"]["format"] = json!("int32");
    props["firstname"]["type"] = json!("integer");
    let deviations = json!([
        {"kind": "property-type", "at": "Athlete.*", "why": "ours is right"}
    ]);
    let outcome = compare(&theirs, &oas3(), Some(&deviations), &[]);
    assert_eq!(outcome.code, 0, "{}", outcome.all());
    assert!(outcome.stdout.contains("2 explained"), "{}", outcome.all());

    // With `detail`, a wildcard only covers differences with exactly that detail.
    let deviations = json!([
        {"kind": "property-type", "at": "Athlete.*",
         "detail": "theirs integer/int32, ours integer/int64", "why": "ids are 64-bit"}
    ]);
    let outcome = compare(&theirs, &oas3(), Some(&deviations), &[]);
    assert_eq!(outcome.code, 1, "{}", outcome.all());
    let lines = difference_lines(&outcome);
    assert_eq!(lines.len(), 1, "{}", outcome.all());
    assert!(lines[0].contains("Athlete.firstname"), "{}", outcome.all());
}

#[test]
fn stale_deviation_is_a_warning_only() {
    let deviations = json!([
        {"kind": "property-type", "at": "Athlete.weight", "why": "no longer differs"}
    ]);
    let outcome = compare(&oas3(), &oas3(), Some(&deviations), &[]);
    assert_eq!(outcome.code, 0, "{}", outcome.all());
    assert!(
        outcome
            .stdout
            .lines()
            .any(|l| l.starts_with("stale") && l.contains("property-type Athlete.weight")),
        "{}",
        outcome.all()
    );
    assert!(
        outcome.stdout.contains("1 stale deviation"),
        "{}",
        outcome.all()
    );
}

#[test]
fn invalid_json_exits_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let theirs = dir.path().join("broken-upstream.json");
    std::fs::write(&theirs, "{\"swagger\": \"2.0\", \"paths\": {").unwrap();
    let ours = write(dir.path(), "ours.json", &oas3());
    let deviations = write(dir.path(), "deviations.json", &json!([]));
    let outcome = run(&theirs, &ours, &deviations, &[]);
    assert_eq!(outcome.code, 2, "{}", outcome.all());
    assert!(
        outcome.stderr.contains("broken-upstream.json") && outcome.stderr.contains("invalid JSON"),
        "{}",
        outcome.all()
    );
    assert!(!outcome.stderr.contains("panicked"), "{}", outcome.all());
}

#[test]
fn bad_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let ours = write(dir.path(), "ours.json", &oas3());
    let deviations = write(dir.path(), "deviations.json", &json!([]));

    // A file that does not exist.
    let missing = dir.path().join("no-such-file.json");
    let outcome = run(&missing, &ours, &deviations, &[]);
    assert_eq!(outcome.code, 2, "{}", outcome.all());
    assert!(
        outcome.stderr.contains("no-such-file.json"),
        "{}",
        outcome.all()
    );

    // JSON that is no API description.
    let not_a_spec = write(dir.path(), "not-a-spec.json", &json!({"hello": "world"}));
    let outcome = run(&not_a_spec, &ours, &deviations, &[]);
    assert_eq!(outcome.code, 2, "{}", outcome.all());
    assert!(
        outcome.stderr.contains("not-a-spec.json")
            && outcome.stderr.contains("unrecognised format"),
        "{}",
        outcome.all()
    );

    // A deviations entry of an unknown kind.
    let bad = write(
        dir.path(),
        "bad-deviations.json",
        &json!([{"kind": "typo", "at": "X", "why": "y"}]),
    );
    let outcome = run(&ours, &ours, &bad, &[]);
    assert_eq!(outcome.code, 2, "{}", outcome.all());
    assert!(
        outcome.stderr.contains("bad-deviations.json") && outcome.stderr.contains("typo"),
        "{}",
        outcome.all()
    );

    // No upstream file on the command line.
    let output = spec_diff().output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn hoisted_enum_is_not_a_difference() {
    let mut theirs = oas3();
    theirs["components"]["schemas"]["Athlete"]["properties"]["sex"] =
        json!({"type": "string", "enum": ["M", "F"]});
    let mut ours = oas3();
    ours["components"]["schemas"]["Athlete"]["properties"]["sex"] =
        json!({"allOf": [{"$ref": "#/components/schemas/AthleteSex"}], "nullable": true});
    ours["components"]["schemas"]["AthleteSex"] = json!({"type": "string", "enum": ["F", "M"]});
    let outcome = compare(&theirs, &ours, None, &[]);
    assert_eq!(outcome.code, 0, "{}", outcome.all());

    // ... unless the values differ.
    ours["components"]["schemas"]["AthleteSex"] =
        json!({"type": "string", "enum": ["F", "M", "X"]});
    let outcome = compare(&theirs, &ours, None, &[]);
    assert_eq!(outcome.code, 1, "{}", outcome.all());
    assert!(
        outcome.stdout.contains("Athlete.sex: ours adds [X]"),
        "{}",
        outcome.all()
    );
}

/// A Swagger 2.0 description using the 2.0-only spellings.
fn swagger2() -> Value {
    json!({
        "swagger": "2.0",
        "info": {"title": "upstream", "version": "3.0.0", "description": "prose"},
        "host": "www.strava.com",
        "basePath": "/api/v3",
        "parameters": {
            "page": {"name": "page", "in": "query", "type": "integer", "description": "Page."}
        },
        "paths": {
            "/athlete": {
                "put": {
                    "operationId": "updateAthlete",
                    "summary": "ignored",
                    "consumes": ["multipart/form-data"],
                    "parameters": [
                        {"name": "weight", "in": "formData", "required": true,
                         "type": "number", "format": "double"},
                        {"name": "sex", "in": "formData", "type": "string", "enum": ["M", "F"]}
                    ],
                    "responses": {
                        "200": {"description": "ok", "schema": {"$ref": "#/definitions/Athlete"}},
                        "default": {"description": "err", "schema": {"$ref": "#/definitions/Fault"}}
                    }
                }
            },
            "/activities/{id}/streams": {
                "parameters": [
                    {"name": "id", "in": "path", "required": true, "type": "integer", "format": "int64"}
                ],
                "get": {
                    "operationId": "getStreams",
                    "parameters": [
                        {"name": "keys", "in": "query", "required": true, "type": "array",
                         "items": {"type": "string", "enum": ["time", "distance"]},
                         "collectionFormat": "csv", "minItems": 1},
                        {"$ref": "#/parameters/page"}
                    ],
                    "responses": {
                        "200": {"description": "ok", "schema": {"type": "array",
                            "items": {"$ref": "#/definitions/Stream"}}}
                    }
                }
            },
            "/activities/{id}": {
                "put": {
                    "operationId": "updateActivity",
                    "parameters": [
                        {"name": "id", "in": "path", "required": true, "type": "integer", "format": "int64"},
                        {"name": "body", "in": "body", "schema": {"$ref": "#/definitions/Athlete"}}
                    ],
                    "responses": {"200": {"description": "ok"}}
                }
            },
            "/uploads": {
                "post": {
                    "operationId": "createUpload",
                    "consumes": ["multipart/form-data"],
                    "parameters": [
                        {"name": "file", "in": "formData", "type": "file"},
                        {"name": "name", "in": "formData", "type": "string"}
                    ],
                    "responses": {"201": {"description": "ok", "schema": {"$ref": "#/definitions/Upload"}}}
                }
            }
        },
        "definitions": {
            "MetaAthlete": {"type": "object", "properties": {
                "id": {"type": "integer", "format": "int64"}
            }},
            "Athlete": {"allOf": [
                {"$ref": "#/definitions/MetaAthlete"},
                {"properties": {
                    "weight": {"type": "number", "format": "double", "minimum": 0},
                    "sex": {"type": "string", "enum": ["M", "F"]},
                    "bikes": {"type": "array", "items": {"$ref": "#/definitions/Gear"}}
                }}
            ]},
            "Gear": {"type": "object", "properties": {"id": {"type": "string"}}},
            "Stream": {"type": "object", "properties": {
                "data": {"type": "array", "items": {"type": "number"}},
                "zones": {"$ref": "#/Zone"}
            }},
            "Zone": {"type": "object", "properties": {"min": {"type": "integer"}}},
            "Upload": {"type": "object", "properties": {"id": {"type": "integer", "format": "int64"}}},
            "Fault": {"type": "object", "properties": {"message": {"type": "string"}}}
        }
    })
}

/// The same description, spelled as OpenAPI 3 the way ours is.
fn swagger2_as_oas3() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "ours", "version": "1"},
        "servers": [{"url": "https://www.strava.com/api/v3"}],
        "components": {
            "parameters": {
                "page": {"name": "page", "in": "query", "schema": {"type": "integer"}}
            },
            "schemas": {
                "MetaAthlete": {"type": "object", "properties": {
                    "id": {"type": "integer", "format": "int64"}
                }},
                "Athlete": {"allOf": [
                    {"$ref": "#/components/schemas/MetaAthlete"},
                    {"type": "object", "properties": {
                        "weight": {"type": "number", "format": "double", "nullable": true},
                        "sex": {"$ref": "#/components/schemas/Sex"},
                        "bikes": {"type": "array", "nullable": true,
                            "items": {"$ref": "#/components/schemas/Gear"}}
                    }}
                ]},
                "Sex": {"type": "string", "enum": ["F", "M"]},
                "Gear": {"type": "object", "properties": {"id": {"type": "string"}}},
                "Stream": {"type": "object", "properties": {
                    "data": {"type": "array", "items": {"type": "number"}},
                    "zones": {"$ref": "#/components/schemas/Zone"}
                }},
                "Zone": {"type": "object", "properties": {"min": {"type": "integer"}}},
                "Upload": {"type": "object", "properties": {"id": {"type": "integer", "format": "int64"}}},
                "Fault": {"type": "object", "properties": {"message": {"type": "string"}}}
            }
        },
        "paths": {
            "/athlete": {
                "put": {
                    "operationId": "updateAthlete",
                    "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {
                        "schema": {"type": "object", "required": ["weight"], "properties": {
                            "weight": {"type": "number", "format": "double"},
                            "sex": {"$ref": "#/components/schemas/Sex"}
                        }}
                    }}},
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Athlete"}}}},
                        "4XX": {"description": "err", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Fault"}}}}
                    }
                }
            },
            "/activities/{id}/streams": {
                "get": {
                    "operationId": "getStreams",
                    "parameters": [
                        {"name": "id", "in": "path", "required": true,
                         "schema": {"type": "integer", "format": "int64"}},
                        {"name": "keys", "in": "query", "required": true,
                         "style": "form", "explode": false,
                         "schema": {"type": "array",
                            "items": {"type": "string", "enum": ["time", "distance"]}}},
                        {"$ref": "#/components/parameters/page"}
                    ],
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": {
                            "schema": {"type": "array",
                                "items": {"$ref": "#/components/schemas/Stream"}}}}}
                    }
                }
            },
            "/activities/{id}": {
                "put": {
                    "operationId": "updateActivity",
                    "parameters": [
                        {"name": "id", "in": "path", "required": true,
                         "schema": {"type": "integer", "format": "int64"}}
                    ],
                    "requestBody": {"content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Athlete"}}}},
                    "responses": {"200": {"description": "ok"}}
                }
            },
            "/uploads": {
                "post": {
                    "operationId": "createUpload",
                    "requestBody": {"content": {"multipart/form-data": {
                        "schema": {"type": "object", "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "name": {"type": "string"}
                        }}
                    }}},
                    "responses": {"201": {"description": "ok", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Upload"}}}}}
                }
            }
        }
    })
}

#[test]
fn swagger2_and_equivalent_oas3_do_not_differ() {
    let outcome = compare(&swagger2(), &swagger2_as_oas3(), None, &[]);
    assert_eq!(outcome.code, 0, "{}", outcome.all());
    assert!(
        outcome.stdout.contains("spec-diff: 0 differences"),
        "{}",
        outcome.all()
    );
}

#[test]
fn swagger2_changes_are_found_against_oas3() {
    let mut theirs = swagger2();
    // weight moves from the form body to the path; keys becomes a repeated parameter.
    theirs["paths"]["/athlete"]["put"]["parameters"][0]["in"] = json!("path");
    theirs["paths"]["/activities/{id}/streams"]["get"]["parameters"][0]["collectionFormat"] =
        json!("multi");
    // A new operation, and a changed 2xx response.
    theirs["paths"]["/gear/{id}"] = json!({"get": {"operationId": "getGear",
        "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Gear"}}}}});
    theirs["paths"]["/uploads"]["post"]["responses"]["201"]["schema"] = json!({"type": "string"});

    let outcome = compare(&theirs, &swagger2_as_oas3(), None, &[]);
    assert_eq!(outcome.code, 1, "{}", outcome.all());
    let lines = difference_lines(&outcome);
    let expect = [
        "parameter-location updateAthlete.weight: theirs path, ours body",
        "parameter-type     getStreams.keys: theirs array<string enum>(multi), ours array<string enum>(csv)",
        "operation-missing  GET /gear/{id} (getGear): in theirs, not in ours",
        "response-type      createUpload.(201): theirs string, ours ref:Upload",
    ];
    for line in expect {
        assert!(
            lines.contains(&line),
            "missing {line:?} in\n{}",
            outcome.all()
        );
    }
    assert_eq!(lines.len(), expect.len(), "{}", outcome.all());
}
