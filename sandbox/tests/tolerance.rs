//! The sandbox takes what real clients send, as Strava does: booleans spelled
//! `true`/`false`/`True`/`False`/`1`/`0`, form-encoded or JSON bodies on writes, parameters
//! in the query string or the body, trailing slashes, and upper-case hex tokens.

use std::time::Duration;

use reqwest::Method;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use stravalib::auth::Scope;
use stravalib_sandbox::Sandbox;

/// Upper bound for every request of these tests.
const WAIT: Duration = Duration::from_secs(20);

struct Raw {
    sandbox: Sandbox,
    http: reqwest::Client,
    token: String,
}

enum Body {
    None,
    Form(Vec<(&'static str, String)>),
    Json(Value),
}

impl Raw {
    async fn start() -> Raw {
        let sandbox = Sandbox::builder()
            .seed(9)
            .activities_per_athlete(200)
            .start()
            .await
            .unwrap();
        let token = sandbox
            .issue_tokens(0, Scope::ALL)
            .access_token
            .expose()
            .to_owned();
        let http = reqwest::Client::builder()
            .redirect(Policy::none())
            .timeout(WAIT)
            .build()
            .unwrap();
        Raw {
            sandbox,
            http,
            token,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Body) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.sandbox.api_base()))
            .bearer_auth(&self.token);
        request = match body {
            Body::None => request,
            Body::Form(pairs) => request.form(&pairs),
            Body::Json(v) => request.json(&v),
        };
        let r = request.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn ok(&self, method: Method, path: &str, body: Body) -> Value {
        let (status, value) = self.call(method.clone(), path, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {value}"
        );
        value
    }

    /// An outdoor activity of athlete 0 and a segment to star.
    async fn an_activity(&self) -> u64 {
        let list = self
            .ok(Method::GET, "/athlete/activities?per_page=50", Body::None)
            .await;
        list.as_array()
            .unwrap()
            .iter()
            .find(|a| !a["start_latlng"].as_array().unwrap().is_empty())
            .and_then(|a| a["id"].as_u64())
            .unwrap()
    }

    async fn a_segment(&self) -> u64 {
        let starred = self.ok(Method::GET, "/segments/starred", Body::None).await;
        starred[0]["id"].as_u64().unwrap()
    }
}

fn form(pairs: &[(&'static str, &str)]) -> Body {
    Body::Form(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect())
}

fn manual(extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut pairs = vec![
        ("name", "Tolerant".to_owned()),
        ("sport_type", "Run".to_owned()),
        ("start_date_local", "2026-02-01T08:00:00Z".to_owned()),
        ("elapsed_time", "1800".to_owned()),
        ("distance", "5000".to_owned()),
    ];
    pairs.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    pairs
}

#[tokio::test]
async fn booleans_in_every_spelling_clients_use() {
    let raw = Raw::start().await;
    for (text, expected) in [
        ("true", true),
        ("True", true),
        ("TRUE", true),
        ("1", true),
        ("false", false),
        ("False", false),
        ("0", false),
    ] {
        // createActivity (form).
        let created = raw
            .ok(
                Method::POST,
                "/activities",
                Body::Form(manual(&[("trainer", text), ("commute", text)])),
            )
            .await;
        assert_eq!(created["trainer"], json!(expected), "trainer={text}");
        assert_eq!(created["commute"], json!(expected), "commute={text}");
        // updateActivityById (form).
        let id = created["id"].as_u64().unwrap();
        let updated = raw
            .ok(
                Method::PUT,
                &format!("/activities/{id}"),
                form(&[("commute", if expected { "False" } else { "True" })]),
            )
            .await;
        assert_eq!(updated["commute"], json!(!expected), "commute flipped");
        // starSegment (form).
        let segment = raw.a_segment().await;
        let starred = raw
            .ok(
                Method::PUT,
                &format!("/segments/{segment}/starred"),
                form(&[("starred", text)]),
            )
            .await;
        assert_eq!(starred["starred"], json!(expected), "starred={text}");
        // key_by_type (query).
        let activity = raw.an_activity().await;
        let streams = raw
            .ok(
                Method::GET,
                &format!("/activities/{activity}/streams?keys=time&key_by_type={text}"),
                Body::None,
            )
            .await;
        assert_eq!(streams.is_object(), expected, "key_by_type={text}");
        // Re-star the segment for the next round.
        raw.ok(
            Method::PUT,
            &format!("/segments/{segment}/starred"),
            form(&[("starred", "true")]),
        )
        .await;
    }
    // Anything else is Strava's 400.
    let (status, body) = raw
        .call(
            Method::POST,
            "/activities",
            Body::Form(manual(&[("trainer", "maybe")])),
        )
        .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn json_bodies_on_every_write() {
    let raw = Raw::start().await;
    // createActivity with JSON (numbers and booleans as JSON values).
    let created = raw
        .ok(
            Method::POST,
            "/activities",
            Body::Json(json!({"name": "JSON run", "sport_type": "Run",
                "start_date_local": "2026-02-02T07:30:00Z", "elapsed_time": 1500,
                "distance": 4200.5, "trainer": true, "commute": false})),
        )
        .await;
    assert_eq!(created["name"], "JSON run");
    assert_eq!(created["elapsed_time"], json!(1500));
    assert_eq!(created["distance"], json!(4200.5));
    assert_eq!(created["trainer"], json!(true));
    // updateActivityById with JSON.
    let id = created["id"].as_u64().unwrap();
    let updated = raw
        .ok(
            Method::PUT,
            &format!("/activities/{id}"),
            Body::Json(json!({"name": "Renamed", "commute": true, "hide_from_home": true})),
        )
        .await;
    assert_eq!(updated["name"], "Renamed");
    assert_eq!(updated["commute"], json!(true));
    assert_eq!(updated["hide_from_home"], json!(true));
    // updateLoggedInAthlete with JSON.
    let athlete = raw
        .ok(Method::PUT, "/athlete", Body::Json(json!({"weight": 71.5})))
        .await;
    assert_eq!(athlete["weight"], json!(71.5));
    // starSegment with JSON.
    let segment = raw.a_segment().await;
    let s = raw
        .ok(
            Method::PUT,
            &format!("/segments/{segment}/starred"),
            Body::Json(json!({"starred": false})),
        )
        .await;
    assert_eq!(s["starred"], json!(false));
    // A JSON body sent without a content type is read as JSON too.
    let r = raw
        .http
        .put(format!("{}/athlete", raw.sandbox.api_base()))
        .bearer_auth(&raw.token)
        .body(r#"{"weight": 64.25}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let athlete: Value = r.json().await.unwrap();
    assert_eq!(athlete["weight"], json!(64.25));
    // A form body is still a form.
    let athlete = raw
        .ok(Method::PUT, "/athlete", form(&[("weight", "66")]))
        .await;
    assert_eq!(athlete["weight"], json!(66.0));
}

#[tokio::test]
async fn parameters_in_the_query_string_or_the_body() {
    let raw = Raw::start().await;
    // createActivity with every field in the query string and no body.
    let created = raw
        .ok(
            Method::POST,
            "/activities?name=Query%20ride&sport_type=Ride&start_date_local=2026-02-03T09:00:00Z&elapsed_time=3600&distance=25000&commute=1",
            Body::None,
        )
        .await;
    assert_eq!(created["name"], "Query ride");
    assert_eq!(created["sport_type"], "Ride");
    assert_eq!(created["commute"], json!(true));
    // Some in the query, some in the form.
    let created = raw
        .ok(
            Method::POST,
            "/activities?name=Split&sport_type=Walk",
            form(&[
                ("start_date_local", "2026-02-03T12:00:00Z"),
                ("elapsed_time", "900"),
            ]),
        )
        .await;
    assert_eq!(created["name"], "Split");
    assert_eq!(created["sport_type"], "Walk");
    let id = created["id"].as_u64().unwrap();
    let updated = raw
        .ok(
            Method::PUT,
            &format!("/activities/{id}?name=From%20query"),
            Body::None,
        )
        .await;
    assert_eq!(updated["name"], "From query");
    let athlete = raw
        .ok(Method::PUT, "/athlete?weight=70.25", Body::None)
        .await;
    assert_eq!(athlete["weight"], json!(70.25));
    let segment = raw.a_segment().await;
    let s = raw
        .ok(
            Method::PUT,
            &format!("/segments/{segment}/starred?starred=false"),
            Body::None,
        )
        .await;
    assert_eq!(s["starred"], json!(false));
}

#[tokio::test]
async fn trailing_slashes_are_the_same_path() {
    let raw = Raw::start().await;
    let activity = raw.an_activity().await;
    let me = raw.sandbox.athlete_id(0).unwrap();
    for (plain, slashed) in [
        ("/athlete".to_owned(), "/athlete/".to_owned()),
        (
            format!("/activities/{activity}"),
            format!("/activities/{activity}/"),
        ),
        (
            format!("/activities/{activity}/laps"),
            format!("/activities/{activity}/laps/"),
        ),
        (
            format!("/athletes/{me}/stats"),
            format!("/athletes/{me}/stats/"),
        ),
        (
            "/athlete/activities?per_page=5".to_owned(),
            "/athlete/activities/?per_page=5".to_owned(),
        ),
    ] {
        let a = raw.ok(Method::GET, &plain, Body::None).await;
        let b = raw.ok(Method::GET, &slashed, Body::None).await;
        assert_eq!(a, b, "{plain} and {slashed}");
    }
    let created = raw
        .ok(Method::POST, "/activities/", Body::Form(manual(&[])))
        .await;
    assert_eq!(created["name"], "Tolerant");
    // OAuth too.
    let s = &raw.sandbox;
    let tokens = s.issue_tokens(0, &[Scope::Read]);
    let r = raw
        .http
        .post(format!("{}/token/", s.oauth_base()))
        .form(&[
            ("client_id", s.client_id().to_string()),
            ("client_secret", s.client_secret().to_owned()),
            ("refresh_token", tokens.refresh_token.expose().to_owned()),
            ("grant_type", "refresh_token".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn hex_tokens_in_upper_case() {
    let raw = Raw::start().await;
    let s = &raw.sandbox;
    let tokens = s.issue_tokens(0, Scope::ALL);
    let access = tokens.access_token.expose().to_owned();
    assert!(access.bytes().all(|b| b.is_ascii_hexdigit()));
    let upper = access.to_ascii_uppercase();
    let r = raw
        .http
        .get(format!("{}/athlete", s.api_base()))
        .bearer_auth(&upper)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // An upper-case refresh token refreshes.
    let r = raw
        .http
        .post(format!("{}/token", s.oauth_base()))
        .form(&[
            ("client_id", s.client_id().to_string()),
            ("client_secret", s.client_secret().to_owned()),
            (
                "refresh_token",
                tokens.refresh_token.expose().to_ascii_uppercase(),
            ),
            ("grant_type", "refresh_token".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // An upper-case access token deauthorizes; afterwards neither spelling works.
    let r = raw
        .http
        .post(format!("{}/deauthorize", s.oauth_base()))
        .bearer_auth(&upper)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for t in [&access, &upper] {
        let r = raw
            .http
            .get(format!("{}/athlete", s.api_base()))
            .bearer_auth(t)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    // Not hex: not a token, whatever its case.
    let r = raw
        .http
        .get(format!("{}/athlete", s.api_base()))
        .bearer_auth("NOT-A-TOKEN")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn start_dates_as_ruby_and_python_clients_write_them() {
    let raw = Raw::start().await;
    for (text, local) in [
        ("2025-10-18 19:04:26 -0400", "2025-10-18T19:04:26Z"),
        ("2025-10-18T19:04:26+02:00", "2025-10-18T19:04:26Z"),
        ("2025-10-18T19:04:26", "2025-10-18T19:04:26Z"),
        ("2025-10-18T19:04:26.250000", "2025-10-18T19:04:26Z"),
        ("2025-10-18 19:04:26", "2025-10-18T19:04:26Z"),
    ] {
        let mut pairs = manual(&[]);
        pairs[2].1 = text.to_owned();
        let created = raw.ok(Method::POST, "/activities", Body::Form(pairs)).await;
        assert_eq!(created["start_date_local"], local, "{text}");
    }
}
