//! The rules `build.rs` applies to the OpenAPI document, run on broken documents.

#[allow(dead_code)]
#[path = "../build/rules.rs"]
mod rules;

use std::path::PathBuf;

use serde_json::json;

fn write_temp(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn our_spec() -> openapiv3::OpenAPI {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("openapi/strava.json");
    rules::read_spec(&path).expect("our document is valid")
}

fn minimal(paths: serde_json::Value, schemas: serde_json::Value) -> openapiv3::OpenAPI {
    serde_json::from_value(json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas}
    }))
    .unwrap()
}

#[test]
fn invalid_json_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_temp(&dir, "broken.json", "{\"openapi\": \"3.0.3\",");
    let err = rules::read_spec(&path).unwrap_err();
    assert!(err.contains("broken.json"), "{err}");
    assert!(err.contains("not valid JSON"), "{err}");
}

#[test]
fn a_swagger_document_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_temp(&dir, "swagger.json", r#"{"swagger": "2.0", "paths": {}}"#);
    let err = rules::read_spec(&path).unwrap_err();
    assert!(err.contains("swagger.json"), "{err}");
    assert!(err.contains("expected an OpenAPI 3.0.x document"), "{err}");
}

#[test]
fn a_malformed_openapi_document_names_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_temp(
        &dir,
        "bad.json",
        r#"{"openapi": "3.0.3", "info": {"title": 5}}"#,
    );
    let err = rules::read_spec(&path).unwrap_err();
    assert!(
        err.contains("bad.json") && err.contains("not a valid OpenAPI 3.0 document"),
        "{err}"
    );
}

#[test]
fn a_missing_file_names_the_file() {
    let err = rules::read_spec(std::path::Path::new("/nonexistent/strava.json")).unwrap_err();
    assert!(err.contains("/nonexistent/strava.json"), "{err}");
}

#[test]
fn inline_enums_fail_naming_where_they_are() {
    let spec = minimal(
        json!({}),
        json!({"Athlete": {"type": "object", "properties": {
            "sex": {"type": "string", "enum": ["M", "F"]}
        }}}),
    );
    let err = rules::check_no_inline_enums(&spec).unwrap_err();
    assert!(
        err.contains("/components/schemas/Athlete/properties/sex"),
        "{err}"
    );
    assert!(rules::check_no_inline_enums(&our_spec()).is_ok());
}

#[test]
fn multipart_operations_are_excluded_by_rule() {
    let mut spec = our_spec();
    let excluded = rules::exclude_multipart_operations(&mut spec);
    let ids: Vec<&str> = excluded.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["createUpload"]);
    assert!(excluded[0].1.contains("multipart/form-data"));
    // Excluded operations are gone from the document progenitor sees.
    let again = rules::exclude_multipart_operations(&mut spec);
    assert!(again.is_empty());

    let form = |id: &str| {
        json!({"post": {"operationId": id, "requestBody": {"content": {
            "multipart/form-data": {"schema": {"type": "object"}}}},
            "responses": {"200": {"description": "ok"}}}})
    };
    let mut spec = minimal(json!({"/a": form("one"), "/b": form("two")}), json!({}));
    let mut ids: Vec<String> = rules::exclude_multipart_operations(&mut spec)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["one", "two"]);
}

#[test]
fn open_enums_are_collected_with_variant_names() {
    let enums = rules::collect_open_enums(&our_spec()).unwrap();
    let sport = enums
        .iter()
        .find(|e| e.name == "SportType")
        .expect("SportType");
    assert!(
        sport
            .variants
            .iter()
            .any(|(v, n)| v == "GravelRide" && n == "GravelRide")
    );
    let climb = enums
        .iter()
        .find(|e| e.name == "ClimbCategoryDesc")
        .unwrap();
    assert!(
        climb
            .variants
            .contains(&("HC".to_owned(), "HorsCategorie".to_owned()))
    );
    let upload = enums.iter().find(|e| e.name == "UploadDataType").unwrap();
    assert!(
        upload
            .variants
            .contains(&("fit.gz".to_owned(), "FitGz".to_owned()))
    );
}

#[test]
fn clashing_or_miscounted_variant_names_fail() {
    let clash = minimal(
        json!({}),
        json!({"E": {"type": "string", "enum": ["a-b", "a_b"]}}),
    );
    let err = rules::collect_open_enums(&clash).err().unwrap();
    assert!(err.contains("clashing"), "{err}");
    let unknown = minimal(
        json!({}),
        json!({"E": {"type": "string", "enum": ["unknown"]}}),
    );
    assert!(
        rules::collect_open_enums(&unknown).is_err(),
        "`Unknown` is reserved"
    );
    let miscounted = minimal(
        json!({}),
        json!({"E": {"type": "string", "enum": ["a", "b"], "x-enum-varnames": ["A"]}}),
    );
    let err = rules::collect_open_enums(&miscounted).err().unwrap();
    assert!(
        err.contains("x-enum-varnames has 1 names for 2 values"),
        "{err}"
    );
}

#[test]
fn variant_names_are_rust_identifiers() {
    assert_eq!(rules::variant_name("velocity_smooth"), "VelocitySmooth");
    assert_eq!(rules::variant_name("fit.gz"), "FitGz");
    assert_eq!(rules::variant_name("4"), "X4");
    assert_eq!(rules::variant_name("EBikeRide"), "EBikeRide");
    assert_eq!(rules::variant_name(""), "X");
}

#[test]
fn replacements_must_be_crate_paths() {
    let bad = minimal(
        json!({}),
        json!({"K": {"type": "string", "x-stravalib-replace": "std::string::String"}}),
    );
    assert!(rules::collect_replacements(&bad).is_err());
    let ours = rules::collect_replacements(&our_spec()).unwrap();
    assert!(ours.contains(&(
        "StreamKeys".to_owned(),
        "crate::params::StreamKeys".to_owned()
    )));
}
