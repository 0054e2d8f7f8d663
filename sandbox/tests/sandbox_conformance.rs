//! Every operation the sandbox answers, driven through the generated client (so it
//! deserializes into the generated types) and its raw JSON validated twice: against the
//! JSON Schema `schemars` derives from the generated type, and with the schema registry's
//! `check_json`. The list of operations is read from `openapi/strava.json`, so a new
//! operation there fails this test until the sandbox serves it: the sandbox cannot drift
//! from the description.

use std::collections::BTreeSet;

use reqwest::Method;
use schemars::JsonSchema;
use serde_json::{Value, json};
use stravalib::Client;
use stravalib::auth::Scope;
use stravalib::params::{ExploreBounds, StreamKeys};
use stravalib::registry::check_json;
use stravalib::types::{self, ExploreActivityType, SportType, StreamType};
use stravalib_sandbox::Sandbox;

// ---------------------------------------------------------------------------------------
// A validator for the JSON Schema subset schemars 0.8 emits
// ---------------------------------------------------------------------------------------

/// Errors of `value` against `root` (a `schemars::schema::RootSchema` as JSON).
fn validate(root: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(root, root, value, "$", &mut errors);
    errors
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64(),
        other => panic!("unknown JSON Schema type {other}"),
    }
}

fn check(root: &Value, schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    let s = match schema {
        Value::Bool(true) => return,
        Value::Bool(false) => {
            errors.push(format!("{path}: no value is allowed here"));
            return;
        }
        Value::Object(s) => s,
        other => panic!("not a schema: {other}"),
    };
    if let Some(reference) = s.get("$ref").and_then(Value::as_str) {
        let name = reference
            .strip_prefix("#/definitions/")
            .unwrap_or_else(|| panic!("non-local $ref {reference}"));
        let target = &root["definitions"][name];
        assert!(!target.is_null(), "dangling $ref {reference}");
        check(root, target, v, path, errors);
    }
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            other => panic!("bad type {other}"),
        };
        if !types.iter().any(|t| type_matches(t, v)) {
            errors.push(format!("{path}: expected {types:?}, found {v}"));
            return;
        }
    }
    if let Some(values) = s.get("enum").and_then(Value::as_array)
        && !values.contains(v)
    {
        errors.push(format!("{path}: {v} is not one of {values:?}"));
    }
    if let Some(c) = s.get("const")
        && c != v
    {
        errors.push(format!("{path}: expected {c}, found {v}"));
    }
    if let (Some(format), Some(text)) = (s.get("format").and_then(Value::as_str), v.as_str()) {
        let ok = match format {
            "date-time" => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
            "date" => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
            _ => true,
        };
        if !ok {
            errors.push(format!("{path}: `{text}` is not a {format}"));
        }
    }
    if let (Some(min), Some(x)) = (s.get("minimum").and_then(Value::as_f64), v.as_f64())
        && x < min
    {
        errors.push(format!("{path}: {x} < minimum {min}"));
    }
    if let Some(obj) = v.as_object() {
        let props = s.get("properties").and_then(Value::as_object);
        if let Some(props) = props {
            for (k, ps) in props {
                if let Some(x) = obj.get(k) {
                    check(root, ps, x, &format!("{path}.{k}"), errors);
                }
            }
        }
        if let Some(required) = s.get("required").and_then(Value::as_array) {
            for r in required.iter().filter_map(Value::as_str) {
                if !obj.contains_key(r) {
                    errors.push(format!("{path}: missing required `{r}`"));
                }
            }
        }
        if let Some(extra) = s.get("additionalProperties") {
            for (k, x) in obj {
                if props.is_some_and(|p| p.contains_key(k)) {
                    continue;
                }
                check(root, extra, x, &format!("{path}.{k}"), errors);
            }
        }
    }
    if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
        match items {
            Value::Array(tuple) => {
                for (i, (sub, x)) in tuple.iter().zip(arr).enumerate() {
                    check(root, sub, x, &format!("{path}[{i}]"), errors);
                }
            }
            sub => {
                for (i, x) in arr.iter().enumerate() {
                    check(root, sub, x, &format!("{path}[{i}]"), errors);
                }
            }
        }
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        for sub in all {
            check(root, sub, v, path, errors);
        }
    }
    let matching = |subs: &Vec<Value>| {
        subs.iter()
            .filter(|sub| {
                let mut e = Vec::new();
                check(root, sub, v, path, &mut e);
                e.is_empty()
            })
            .count()
    };
    if let Some(any) = s.get("anyOf").and_then(Value::as_array)
        && matching(any) == 0
    {
        errors.push(format!("{path}: matches none of anyOf: {v}"));
    }
    if let Some(one) = s.get("oneOf").and_then(Value::as_array) {
        let n = matching(one);
        if n != 1 {
            errors.push(format!(
                "{path}: matches {n} of oneOf (exactly 1 needed): {v}"
            ));
        }
    }
}

fn schema_of<T: JsonSchema>() -> Value {
    serde_json::to_value(schemars::schema_for!(T)).expect("a schema is JSON")
}

#[test]
fn the_validator_catches_what_it_should() {
    let activity = schema_of::<types::SummaryActivity>();
    assert!(
        validate(
            &activity,
            &json!({"id": 1, "name": "x", "start_latlng": []})
        )
        .is_empty()
    );
    assert!(validate(&activity, &json!({"id": 1, "start_date": null})).is_empty());
    let bad = [
        json!({"id": "1"}),
        json!({"id": -4}),
        json!({"name": 5}),
        json!({"start_date": "yesterday"}),
        json!({"athlete": {"id": "x"}}),
        json!({"map": []}),
        json!({"start_latlng": ["a"]}),
        json!({"sport_type": 7}),
    ];
    for b in bad {
        assert!(!validate(&activity, &b).is_empty(), "{b} passed");
    }
    let stats = schema_of::<types::SummaryPrSegmentEffort>();
    assert!(validate(&stats, &json!({"pr_date": "2026-01-02"})).is_empty());
    assert!(!validate(&stats, &json!({"pr_date": "2026-01-02T00:00:00Z"})).is_empty());
    let fault = schema_of::<types::Fault>();
    assert!(
        validate(
            &fault,
            &json!({"message": "x", "errors": "Rate Limit Exceeded"})
        )
        .is_empty()
    );
    assert!(
        validate(
            &fault,
            &json!({"message": "x", "errors": [{"resource": "a"}]})
        )
        .is_empty()
    );
    assert!(!validate(&fault, &json!({"errors": 5})).is_empty());
}

// ---------------------------------------------------------------------------------------
// The probe
// ---------------------------------------------------------------------------------------

struct Probe {
    sandbox: Sandbox,
    client: Client,
    http: reqwest::Client,
    token: String,
    covered: BTreeSet<String>,
}

impl Probe {
    async fn new(sandbox: Sandbox) -> Self {
        let tokens = sandbox.issue_tokens(0, Scope::ALL);
        let client = sandbox
            .client_builder()
            .tokens(tokens.clone())
            .build()
            .unwrap();
        Self {
            sandbox,
            client,
            http: reqwest::Client::new(),
            token: tokens.access_token.expose().to_owned(),
            covered: BTreeSet::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.api_base())
    }

    async fn raw(&self, method: Method, path: &str, body: Body) -> (u16, Vec<u8>) {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        request = match body {
            Body::None => request,
            Body::Form(pairs) => request.form(&pairs),
            Body::Json(v) => request.json(&v),
        };
        let response = request.send().await.expect("the sandbox answers");
        let status = response.status().as_u16();
        (status, response.bytes().await.unwrap().to_vec())
    }

    /// GETs `path` and validates the body as `T` / schema `schema`.
    async fn get<T: JsonSchema>(
        &mut self,
        op: &str,
        schema: &str,
        list: bool,
        path: &str,
    ) -> Value {
        let (status, body) = self.raw(Method::GET, path, Body::None).await;
        assert_eq!(
            status,
            200,
            "{op} {path}: {}",
            String::from_utf8_lossy(&body)
        );
        self.validate::<T>(op, schema, list, &body)
    }

    fn validate<T: JsonSchema>(
        &mut self,
        op: &str,
        schema: &str,
        list: bool,
        body: &[u8],
    ) -> Value {
        match check_json(schema, list, body) {
            Some(Ok(())) => {}
            Some(Err(e)) => panic!("{op}: does not deserialize as {schema}: {e}"),
            None => panic!("{op}: no generated type for schema {schema}"),
        }
        let value: Value = serde_json::from_slice(body).expect("JSON");
        let errors = validate(&schema_of::<T>(), &value);
        assert!(errors.is_empty(), "{op}: schema violations: {errors:#?}");
        if list {
            assert!(
                value.as_array().is_some_and(|a| !a.is_empty()),
                "{op}: an empty list proves little"
            );
        }
        self.covered.insert(op.to_owned());
        value
    }
}

enum Body {
    None,
    Form(Vec<(&'static str, String)>),
    Json(Value),
}

fn operation_ids() -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/strava.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut ids = BTreeSet::new();
    for (_, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                assert!(["get", "put", "post", "delete"].contains(&method.as_str()));
                ids.insert(id.to_owned());
            }
        }
    }
    ids
}

const GPX_FILE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="conformance-test" xmlns="http://www.topografix.com/GPX/1/1">
 <trk><name>Canal loop</name><type>running</type><trkseg>
  <trkpt lat="52.3600" lon="4.8800"><ele>0.5</ele><time>2026-04-02T06:00:00Z</time></trkpt>
  <trkpt lat="52.3610" lon="4.8815"><ele>0.7</ele><time>2026-04-02T06:00:40Z</time></trkpt>
  <trkpt lat="52.3622" lon="4.8830"><ele>1.2</ele><time>2026-04-02T06:01:20Z</time></trkpt>
  <trkpt lat="52.3630" lon="4.8850"><ele>0.9</ele><time>2026-04-02T06:02:00Z</time></trkpt>
 </trkseg></trk>
</gpx>"#;

#[tokio::test]
async fn every_operation_matches_the_generated_types_and_their_schemas() {
    let sandbox = Sandbox::builder()
        .seed(11)
        .athletes(4)
        .activities_per_athlete(300)
        .retired_endpoints(false)
        .upload_processing(1, std::time::Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    let mut p = Probe::new(sandbox).await;
    let me = p.sandbox.athlete_id(0).unwrap();
    let g = p.client.clone();

    // -- athlete ----------------------------------------------------------------------
    let athlete = p
        .get::<types::DetailedAthlete>("getLoggedInAthlete", "DetailedAthlete", false, "/athlete")
        .await;
    let typed = g.get_logged_in_athlete().send().await.unwrap();
    assert_eq!(typed.id.unwrap().as_u64(), Some(me));
    assert_eq!(athlete["id"], json!(me));

    let (status, body) = p
        .raw(
            Method::PUT,
            "/athlete",
            Body::Form(vec![("weight", "68.2".into())]),
        )
        .await;
    assert_eq!(status, 200);
    p.validate::<types::DetailedAthlete>("updateLoggedInAthlete", "DetailedAthlete", false, &body);
    let typed = g
        .update_logged_in_athlete()
        .body_map(|b| b.weight(70.5))
        .send()
        .await
        .unwrap();
    assert_eq!(typed.weight, Some(70.5));

    // Without profile:read_all, the athlete is a summary: still a DetailedAthlete.
    let summary_token = p.sandbox.issue_tokens(0, &[Scope::Read]);
    let body = p
        .http
        .get(p.url("/athlete"))
        .bearer_auth(summary_token.access_token.expose())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let summary =
        p.validate::<types::DetailedAthlete>("getLoggedInAthlete", "DetailedAthlete", false, &body);
    assert_eq!(summary["resource_state"], 2);

    p.get::<types::Zones>("getLoggedInAthleteZones", "Zones", false, "/athlete/zones")
        .await;
    let zones = g.get_logged_in_athlete_zones().send().await.unwrap();
    assert!(zones.heart_rate.is_some());

    p.get::<types::ActivityStats>(
        "getStats",
        "ActivityStats",
        false,
        &format!("/athletes/{me}/stats"),
    )
    .await;
    let stats = g.get_stats(me).send().await.unwrap();
    assert!(
        stats.all_run_totals.unwrap().count.unwrap()
            + stats.all_ride_totals.unwrap().count.unwrap()
            > 0
    );

    let clubs = p
        .get::<Vec<types::SummaryClub>>(
            "getLoggedInAthleteClubs",
            "SummaryClub",
            true,
            "/athlete/clubs",
        )
        .await;
    g.get_logged_in_athlete_clubs().send().await.unwrap();
    let club_id = clubs[0]["id"].as_u64().unwrap();

    // -- activities -------------------------------------------------------------------
    let list = p
        .get::<Vec<types::SummaryActivity>>(
            "getLoggedInAthleteActivities",
            "SummaryActivity",
            true,
            "/athlete/activities?per_page=200",
        )
        .await;
    let typed = g
        .get_logged_in_athlete_activities()
        .per_page(200)
        .send()
        .await
        .unwrap();
    assert_eq!(typed.len(), 200);
    // An outdoor activity with comments, kudos and segment efforts.
    let mut chosen = None;
    for a in list.as_array().unwrap() {
        let id = a["id"].as_u64().unwrap();
        if a["comment_count"].as_u64() > Some(1)
            && a["kudos_count"].as_u64() > Some(1)
            && !a["start_latlng"].as_array().unwrap().is_empty()
        {
            let (_, body) = p
                .raw(Method::GET, &format!("/activities/{id}"), Body::None)
                .await;
            let detail: Value = serde_json::from_slice(&body).unwrap();
            if !detail["segment_efforts"].as_array().unwrap().is_empty() {
                chosen = Some(id);
                break;
            }
        }
    }
    let id = chosen.expect("an activity with comments, kudos and efforts in 200");
    let detail = p
        .get::<types::DetailedActivity>(
            "getActivityById",
            "DetailedActivity",
            false,
            &format!("/activities/{id}"),
        )
        .await;
    let typed = g
        .get_activity_by_id(id)
        .include_all_efforts(true)
        .send()
        .await
        .unwrap();
    assert_eq!(typed.id.unwrap().as_u64(), Some(id));
    assert!(!typed.map.unwrap().polyline.unwrap().is_empty());

    p.get::<Vec<types::Lap>>(
        "getLapsByActivityId",
        "Lap",
        true,
        &format!("/activities/{id}/laps"),
    )
    .await;
    g.get_laps_by_activity_id(id).send().await.unwrap();
    p.get::<Vec<types::ActivityZone>>(
        "getZonesByActivityId",
        "ActivityZone",
        true,
        &format!("/activities/{id}/zones"),
    )
    .await;
    g.get_zones_by_activity_id(id).send().await.unwrap();
    p.get::<Vec<types::Comment>>(
        "getCommentsByActivityId",
        "Comment",
        true,
        &format!("/activities/{id}/comments"),
    )
    .await;
    g.get_comments_by_activity_id(id)
        .page_size(2)
        .send()
        .await
        .unwrap();
    p.get::<Vec<types::SummaryAthlete>>(
        "getKudoersByActivityId",
        "SummaryAthlete",
        true,
        &format!("/activities/{id}/kudos"),
    )
    .await;
    g.get_kudoers_by_activity_id(id).send().await.unwrap();
    let with_photos = list
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["total_photo_count"].as_u64() > Some(1))
        .and_then(|a| a["id"].as_u64())
        .expect("an activity with photos in 200");
    let photos = p
        .get::<Vec<types::ActivityPhoto>>(
            "getActivityPhotos",
            "ActivityPhoto",
            true,
            &format!("/activities/{with_photos}/photos?size=600"),
        )
        .await;
    assert!(photos[0]["urls"]["600"].is_string(), "{photos}");
    let typed = g
        .get_activity_photos(with_photos)
        .size(600)
        .send()
        .await
        .unwrap();
    assert_eq!(typed[0].activity_id.unwrap().as_u64(), Some(with_photos));
    let streams = p
        .get::<types::StreamSet>(
            "getActivityStreams",
            "StreamSet",
            false,
            &format!("/activities/{id}/streams?keys=time,distance,latlng,altitude,velocity_smooth,heartrate,cadence,watts,temp,moving,grade_smooth&key_by_type=true"),
        )
        .await;
    assert!(streams["time"]["data"].as_array().unwrap().len() > 100);
    let typed = g
        .get_activity_streams(id)
        .keys(StreamKeys::all())
        .key_by_type(true)
        .send()
        .await
        .unwrap();
    let n = typed.time.unwrap().data.unwrap().len();
    assert_eq!(typed.latlng.unwrap().data.unwrap().len(), n);
    assert_eq!(typed.moving.unwrap().data.unwrap().len(), n);

    let (status, body) = p
        .raw(
            Method::PUT,
            &format!("/activities/{id}"),
            Body::Json(json!({"name": "Renamed", "description": "edited"})),
        )
        .await;
    assert_eq!(status, 200);
    let updated = p.validate::<types::DetailedActivity>(
        "updateActivityById",
        "DetailedActivity",
        false,
        &body,
    );
    assert_eq!(updated["name"], "Renamed");
    let typed = g
        .update_activity_by_id(id)
        .body_map(|b| b.name(Some("Renamed again".to_owned())).commute(Some(true)))
        .send()
        .await
        .unwrap();
    assert_eq!(typed.name.as_deref(), Some("Renamed again"));
    assert_eq!(typed.commute, Some(true));

    let (status, body) = p
        .raw(
            Method::POST,
            "/activities",
            Body::Form(vec![
                ("name", "Evening yoga".into()),
                ("sport_type", "Yoga".into()),
                ("start_date_local", "2026-04-01T19:00:00Z".into()),
                ("elapsed_time", "3600".into()),
            ]),
        )
        .await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    p.validate::<types::DetailedActivity>("createActivity", "DetailedActivity", false, &body);
    let created = g
        .create_activity()
        .body_map(|b| {
            b.name("Lunch run")
                .sport_type(SportType::Run)
                .start_date_local(
                    "2026-04-01T12:30:00Z"
                        .parse::<chrono::DateTime<chrono::Utc>>()
                        .unwrap(),
                )
                .elapsed_time(1800)
                .distance(Some(5200.0))
                .commute(Some(0))
        })
        .send()
        .await
        .unwrap();
    assert_eq!(created.sport_type, Some(SportType::Run));
    assert_eq!(created.manual, Some(true));
    assert_eq!(
        created.start_date_local.unwrap().to_rfc3339(),
        "2026-04-01T12:30:00+00:00"
    );

    // -- segments and efforts -----------------------------------------------------------
    let effort = &detail["segment_efforts"][0];
    let effort_id = effort["id"].as_u64().unwrap();
    let segment_id = effort["segment"]["id"].as_u64().unwrap();
    p.get::<types::DetailedSegmentEffort>(
        "getSegmentEffortById",
        "DetailedSegmentEffort",
        false,
        &format!("/segment_efforts/{effort_id}"),
    )
    .await;
    g.get_segment_effort_by_id(effort_id).send().await.unwrap();
    p.get::<types::StreamSet>(
        "getSegmentEffortStreams",
        "StreamSet",
        false,
        &format!(
            "/segment_efforts/{effort_id}/streams?keys=latlng,altitude,heartrate&key_by_type=true"
        ),
    )
    .await;
    let typed = g
        .get_segment_effort_streams(effort_id)
        .keys(StreamKeys::from([StreamType::Latlng, StreamType::Altitude]))
        .key_by_type(true)
        .send()
        .await
        .unwrap();
    assert!(typed.distance.is_some() && typed.latlng.is_some());
    p.get::<Vec<types::DetailedSegmentEffort>>(
        "getEffortsBySegmentId",
        "DetailedSegmentEffort",
        true,
        &format!("/segment_efforts?segment_id={segment_id}"),
    )
    .await;
    g.get_efforts_by_segment_id(segment_id)
        .per_page(5)
        .send()
        .await
        .unwrap();
    let segment = p
        .get::<types::DetailedSegment>(
            "getSegmentById",
            "DetailedSegment",
            false,
            &format!("/segments/{segment_id}"),
        )
        .await;
    assert!(segment["athlete_segment_stats"]["effort_count"].as_u64() >= Some(1));
    let typed = g.get_segment_by_id(segment_id).send().await.unwrap();
    assert!(
        typed
            .athlete_segment_stats
            .unwrap()
            .pr_elapsed_time
            .is_some()
    );
    p.get::<types::StreamSet>(
        "getSegmentStreams",
        "StreamSet",
        false,
        &format!("/segments/{segment_id}/streams?key_by_type=true"),
    )
    .await;
    g.get_segment_streams(segment_id)
        .key_by_type(true)
        .send()
        .await
        .unwrap();
    let (status, body) = p
        .raw(
            Method::PUT,
            &format!("/segments/{segment_id}/starred"),
            Body::Form(vec![("starred", "true".into())]),
        )
        .await;
    assert_eq!(status, 200);
    p.validate::<types::DetailedSegment>("starSegment", "DetailedSegment", false, &body);
    let typed = g
        .star_segment(segment_id)
        .body_map(|b| b.starred(true))
        .send()
        .await
        .unwrap();
    assert_eq!(typed.id.unwrap().as_u64(), Some(segment_id));
    p.get::<Vec<types::SummarySegment>>(
        "getLoggedInAthleteStarredSegments",
        "SummarySegment",
        true,
        "/segments/starred",
    )
    .await;
    let starred = g
        .get_logged_in_athlete_starred_segments()
        .send()
        .await
        .unwrap();
    assert!(
        starred
            .iter()
            .any(|s| s.id.unwrap().as_u64() == Some(segment_id))
    );
    let (lat, lng) = (
        segment["start_latlng"][0].as_f64().unwrap(),
        segment["start_latlng"][1].as_f64().unwrap(),
    );
    let bounds = format!("{},{},{},{}", lat - 0.2, lng - 0.2, lat + 0.2, lng + 0.2);
    let kind = if segment["activity_type"] == "Run" {
        "running"
    } else {
        "riding"
    };
    let found = p
        .get::<types::ExplorerResponse>(
            "exploreSegments",
            "ExplorerResponse",
            false,
            &format!("/segments/explore?bounds={bounds}&activity_type={kind}"),
        )
        .await;
    assert!(!found["segments"].as_array().unwrap().is_empty());
    g.explore_segments(ExploreBounds::new(lat - 0.2, lng - 0.2, lat + 0.2, lng + 0.2).unwrap())
        .activity_type(if kind == "running" {
            ExploreActivityType::Running
        } else {
            ExploreActivityType::Riding
        })
        .send()
        .await
        .unwrap();

    // -- clubs (the retired endpoints served: retired_endpoints(false)) ----------------------
    p.get::<types::DetailedClub>(
        "getClubById",
        "DetailedClub",
        false,
        &format!("/clubs/{club_id}"),
    )
    .await;
    g.get_club_by_id(club_id).send().await.unwrap();
    p.get::<Vec<types::ClubAthlete>>(
        "getClubMembersById",
        "ClubAthlete",
        true,
        &format!("/clubs/{club_id}/members"),
    )
    .await;
    #[allow(deprecated)]
    g.get_club_members_by_id(club_id).send().await.unwrap();
    p.get::<Vec<types::SummaryAthlete>>(
        "getClubAdminsById",
        "SummaryAthlete",
        true,
        &format!("/clubs/{club_id}/admins"),
    )
    .await;
    #[allow(deprecated)]
    g.get_club_admins_by_id(club_id).send().await.unwrap();
    p.get::<Vec<types::ClubActivity>>(
        "getClubActivitiesById",
        "ClubActivity",
        true,
        &format!("/clubs/{club_id}/activities"),
    )
    .await;
    #[allow(deprecated)]
    g.get_club_activities_by_id(club_id).send().await.unwrap();

    // -- gear and routes --------------------------------------------------------------------
    let gear_id = athlete["shoes"][0]["id"].as_str().unwrap().to_owned();
    p.get::<types::DetailedGear>(
        "getGearById",
        "DetailedGear",
        false,
        &format!("/gear/{gear_id}"),
    )
    .await;
    let gear = g.get_gear_by_id(gear_id.clone()).send().await.unwrap();
    assert_eq!(gear.id.as_deref(), Some(gear_id.as_str()));
    let routes = p
        .get::<Vec<types::Route>>(
            "getRoutesByAthleteId",
            "Route",
            true,
            &format!("/athletes/{me}/routes"),
        )
        .await;
    g.get_routes_by_athlete_id(me).send().await.unwrap();
    let route_id = routes[0]["id"].as_u64().unwrap();
    p.get::<types::Route>(
        "getRouteById",
        "Route",
        false,
        &format!("/routes/{route_id}"),
    )
    .await;
    let route = g.get_route_by_id(route_id).send().await.unwrap();
    assert_eq!(route.id_str.as_deref(), Some(route_id.to_string().as_str()));
    p.get::<types::RouteStreams>(
        "getRouteStreams",
        "RouteStreams",
        false,
        &format!("/routes/{route_id}/streams"),
    )
    .await;
    let typed = g.get_route_streams(route_id).send().await.unwrap();
    assert!(
        matches!(typed, types::RouteStreams::StreamSet(ref set) if set.latlng.is_some() && set.altitude.is_some()),
        "{typed:?}"
    );
    for (op, suffix, marker) in [
        ("getRouteAsGPX", "export_gpx", "<gpx"),
        ("getRouteAsTCX", "export_tcx", "<TrainingCenterDatabase"),
    ] {
        let response = if suffix == "export_gpx" {
            g.get_route_as_gpx(route_id).send().await
        } else {
            g.get_route_as_tcx(route_id).send().await
        };
        let bytes = response.unwrap_or_else(|e| panic!("{op}: {e}"));
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(text.starts_with("<?xml") && text.contains(marker), "{op}");
        assert!(text.matches("<trkpt").count() + text.matches("<Trackpoint>").count() >= 50);
        p.covered.insert(op.to_owned());
    }

    // -- uploads ----------------------------------------------------------------------------
    let form = || {
        reqwest::multipart::Form::new()
            .part(
                "file",
                reqwest::multipart::Part::bytes(GPX_FILE.as_bytes().to_vec())
                    .file_name("canal.gpx"),
            )
            .text("data_type", "gpx")
            .text("external_id", "canal-1")
    };
    let response = p
        .http
        .post(p.url("/uploads"))
        .bearer_auth(&p.token)
        .multipart(form())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body = response.bytes().await.unwrap();
    let upload = p.validate::<types::Upload>("createUpload", "Upload", false, &body);
    assert!(upload["error"].is_null() && upload["activity_id"].is_null());
    let upload_id = upload["id"].as_u64().unwrap();
    let ready = p
        .get::<types::Upload>(
            "getUploadById",
            "Upload",
            false,
            &format!("/uploads/{upload_id}"),
        )
        .await;
    assert_eq!(ready["status"], "Your activity is ready.");
    let typed = g.get_upload_by_id(upload_id).send().await.unwrap();
    assert_eq!(
        typed.activity_id,
        Some(stravalib::Id::from(ready["activity_id"].as_u64().unwrap()))
    );
    // The handwritten way through the pipeline, as a user of the crate would send it.
    let second: types::Upload = p
        .client
        .api()
        .request(Method::POST, "/uploads")
        .multipart(form())
        .operation("createUpload")
        .send_json()
        .await
        .unwrap();
    assert!(second.id.is_some());

    // -- every operation of openapi/strava.json was exercised ---------------------------------
    let expected = operation_ids();
    let missing: Vec<_> = expected.difference(&p.covered).collect();
    assert!(
        missing.is_empty(),
        "operations the sandbox was not checked on: {missing:?}"
    );
    assert_eq!(expected.len(), 35);
}

#[tokio::test]
async fn error_answers_are_strava_faults() {
    let sandbox = Sandbox::builder()
        .rate_limits(200, 2000, 4, 1000)
        .start()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let api = sandbox.api_base();
    let read_only = sandbox.issue_tokens(0, &[Scope::Read]);
    let get = |path: &str, token: &str| http.get(format!("{api}{path}")).bearer_auth(token).send();
    let fault_schema = schema_of::<types::Fault>();
    let check_fault = |status: u16, expected_status: u16, body: &[u8]| -> Value {
        assert_eq!(status, expected_status, "{}", String::from_utf8_lossy(body));
        check_json("Fault", false, body).unwrap().unwrap();
        let v: Value = serde_json::from_slice(body).unwrap();
        assert!(validate(&fault_schema, &v).is_empty());
        v
    };
    let token = read_only.access_token.expose().to_owned();
    let r = get("/activities/1", &token).await.unwrap();
    let v = check_fault(r.status().as_u16(), 401, &r.bytes().await.unwrap());
    assert_eq!(
        v,
        json!({"message": "Authorization Error", "errors": [{"resource": "AccessToken", "field": "activity:read_permission", "code": "missing"}]})
    );
    let full = sandbox.issue_tokens(0, Scope::ALL);
    let r = get("/activities/1", full.access_token.expose())
        .await
        .unwrap();
    let v = check_fault(r.status().as_u16(), 404, &r.bytes().await.unwrap());
    assert_eq!(
        v,
        json!({"message": "Record Not Found", "errors": [{"resource": "Activity", "field": "id", "code": "not found"}]})
    );
    let r = get("/clubs/1/members", full.access_token.expose())
        .await
        .unwrap();
    let v = check_fault(r.status().as_u16(), 404, &r.bytes().await.unwrap());
    assert_eq!(
        v,
        json!({"message": "Resource Not Found", "errors": [{"resource": "resource", "field": "path", "code": "invalid"}]})
    );
    let r = get("/athlete", "not-a-token").await.unwrap();
    let v = check_fault(r.status().as_u16(), 401, &r.bytes().await.unwrap());
    assert_eq!(
        v,
        json!({"message": "Authorization Error", "errors": [{"resource": "Athlete", "field": "access_token", "code": "invalid"}]})
    );
    // The read limit is 4 per 15 minutes here (the 401 of a bad token does not count): the fifth read is refused.
    let r = get("/athlete", full.access_token.expose()).await.unwrap();
    assert_eq!(r.status(), 200);
    let r = get("/athlete", full.access_token.expose()).await.unwrap();
    let v = check_fault(r.status().as_u16(), 429, &r.bytes().await.unwrap());
    assert_eq!(v["message"], "Rate Limit Exceeded");
}

#[tokio::test]
async fn odd_requests_get_strava_faults_never_server_errors() {
    let sandbox = Sandbox::start().await.unwrap();
    let token = sandbox.issue_tokens(0, Scope::ALL).access_token;
    let http = reqwest::Client::new();
    let api = sandbox.api_base();
    let big = "1".repeat(40);
    type Case = (Method, String, Option<Vec<(&'static str, &'static str)>>);
    let cases: Vec<Case> = vec![
        (Method::GET, "/activities/abc".into(), None),
        (Method::GET, format!("/activities/{big}"), None),
        (Method::GET, "/activities/14000000000/comments?after_cursor=c2J4OjE0MDAwMDAwMDAwOjE4NDQ2NzQ0MDczNzA5NTUxNjE1".into(), None),
        (Method::GET, "/athlete/activities?before=yesterday".into(), None),
        (Method::GET, "/athlete/activities?page=-5&per_page=0&after=-99999999999".into(), None),
        (Method::GET, "/athlete/activities?before=9223372036854775807&after=-9223372036854775808".into(), None),
        (Method::GET, "/segments/explore?bounds=1,2".into(), None),
        (Method::GET, "/segments/explore".into(), None),
        (Method::GET, "/segment_efforts?segment_id=x".into(), None),
        (Method::GET, "/segment_efforts".into(), None),
        (Method::GET, "/segment_efforts/18446744073709551615".into(), None),
        (Method::GET, "/routes/1/streams".into(), None),
        (Method::GET, "/routes/18446744073709551615/export_gpx".into(), None),
        (Method::GET, "/uploads/1".into(), None),
        (Method::GET, "/gear/b".into(), None),
        (Method::GET, "/gear/\u{e9}t\u{e9}".into(), None),
        (Method::GET, "/clubs/0".into(), None),
        (Method::GET, "/athletes/0/stats".into(), None),
        (Method::GET, "/no/such/path".into(), None),
        (Method::DELETE, "/athlete".into(), None),
        (Method::PUT, "/segments/1/starred".into(), Some(vec![])),
        (Method::PUT, "/athlete".into(), Some(vec![("weight", "heavy")])),
        (Method::POST, "/activities".into(), Some(vec![("name", "x"), ("sport_type", "Run"), ("start_date_local", "soon"), ("elapsed_time", "1")])),
        (Method::POST, "/activities".into(), Some(vec![("name", "x"), ("sport_type", "Kitefoil"), ("start_date_local", "2026-01-01T00:00:00Z"), ("elapsed_time", "1")])),
        (Method::POST, "/activities".into(), Some(vec![("name", "x"), ("sport_type", "Run"), ("start_date_local", "2026-01-01T00:00:00Z"), ("elapsed_time", "1e300")])),
        (Method::POST, "/uploads".into(), Some(vec![("data_type", "gpx")])),
    ];
    for (method, path, form) in cases {
        let mut request = http
            .request(method.clone(), format!("{api}{path}"))
            .bearer_auth(token.expose());
        if let Some(form) = &form {
            request = request.form(form);
        }
        let r = request.send().await.unwrap();
        let status = r.status().as_u16();
        let body = r.bytes().await.unwrap();
        assert!(
            (400..500).contains(&status) || status == 200,
            "{method} {path}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        if status != 200 {
            check_json("Fault", false, &body)
                .unwrap()
                .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        }
    }
    // Still serving.
    let r = http
        .get(format!("{api}/athlete"))
        .bearer_auth(token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
