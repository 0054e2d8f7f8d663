//! What other Strava clients see: the sandbox's raw JSON has Strava's shapes where
//! clients built on Strava's published description (or on its recorded answers) look,
//! `GET /activities/{id}/photos` is served, uploads read their fields from the query
//! string too, and OAuth answers under the API base as well. Plain HTTP throughout, the
//! way a client in another language calls the sandbox.

use std::time::Duration;

use reqwest::redirect::Policy;
use serde_json::{Value, json};
use stravalib::auth::Scope;
use stravalib::types::ActivityType;
use stravalib_sandbox::Sandbox;

/// Upper bound for every request of these tests.
const WAIT: Duration = Duration::from_secs(20);

struct Raw {
    sandbox: Sandbox,
    http: reqwest::Client,
    token: String,
}

impl Raw {
    async fn start() -> Raw {
        Self::with(Sandbox::builder().seed(5).activities_per_athlete(300)).await
    }

    async fn with(builder: stravalib_sandbox::SandboxBuilder) -> Raw {
        let sandbox = builder.start().await.expect("the sandbox starts");
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

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.api_base())
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// Outdoor activities of athlete 0 (from the first 200).
    async fn activities(&self) -> Vec<Value> {
        let list = self.ok("/athlete/activities?per_page=200").await;
        list.as_array().unwrap().clone()
    }
}

fn is_whole(v: &Value) -> bool {
    v.is_i64() || v.is_u64()
}

#[tokio::test]
async fn club_activity_types_are_legacy_activity_types() {
    let raw = Raw::with(Sandbox::builder().seed(5).athletes(12)).await;
    let mut seen = 0;
    let check = |where_: &str, club: &Value| -> usize {
        let types = club["activity_types"].as_array().expect("activity_types");
        assert!(!types.is_empty(), "{where_}: {club}");
        for t in types {
            let t = t.as_str().unwrap();
            assert!(
                ActivityType::KNOWN_VALUES.contains(&t),
                "{where_}: `{t}` is a sport type, not an ActivityType"
            );
        }
        types.len()
    };
    for index in 0..12 {
        let token = raw.sandbox.issue_tokens(index, Scope::ALL);
        let get = |path: &str| {
            raw.http
                .get(raw.url(path))
                .bearer_auth(token.access_token.expose())
                .send()
        };
        let athlete: Value = get("/athlete").await.unwrap().json().await.unwrap();
        for club in athlete["clubs"].as_array().unwrap() {
            seen += check("GET /athlete", club);
        }
        let clubs: Value = get("/athlete/clubs").await.unwrap().json().await.unwrap();
        for club in clubs.as_array().unwrap() {
            seen += check("GET /athlete/clubs", club);
            let id = club["id"].as_u64().unwrap();
            let detailed: Value = get(&format!("/clubs/{id}"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            seen += check("GET /clubs/{id}", &detailed);
        }
    }
    assert!(seen > 20, "too few clubs checked: {seen}");
}

#[tokio::test]
async fn activity_zones_carry_whole_scores_and_seconds() {
    let raw = Raw::start().await;
    let mut zones_seen = 0;
    for a in raw.activities().await.iter().take(40) {
        let id = a["id"].as_u64().unwrap();
        let zones = raw.ok(&format!("/activities/{id}/zones")).await;
        for zone in zones.as_array().unwrap() {
            zones_seen += 1;
            assert!(is_whole(&zone["score"]), "score {}", zone["score"]);
            for bucket in zone["distribution_buckets"].as_array().unwrap() {
                assert!(is_whole(&bucket["time"]), "time {}", bucket["time"]);
            }
        }
    }
    assert!(zones_seen > 10, "{zones_seen}");
}

#[tokio::test]
async fn athlete_stats_totals_count_whole_seconds() {
    let raw = Raw::start().await;
    let me = raw.sandbox.athlete_id(0).unwrap();
    let stats = raw.ok(&format!("/athletes/{me}/stats")).await;
    let mut totals = 0;
    for (name, total) in stats.as_object().unwrap() {
        if !name.ends_with("_totals") {
            continue;
        }
        totals += 1;
        for field in ["count", "moving_time", "elapsed_time"] {
            assert!(is_whole(&total[field]), "{name}.{field}: {}", total[field]);
        }
        if let Some(a) = total.get("achievement_count") {
            assert!(is_whole(a), "{name}.achievement_count: {a}");
        }
    }
    assert_eq!(totals, 9);
    assert!(stats["all_run_totals"]["moving_time"].as_u64() > Some(0));
}

#[tokio::test]
async fn activity_photos_are_served() {
    let raw = Raw::start().await;
    let list = raw.activities().await;
    let with = list
        .iter()
        .find(|a| a["total_photo_count"].as_u64() > Some(1))
        .expect("an activity with photos");
    let id = with["id"].as_u64().unwrap();
    let count = with["total_photo_count"].as_u64().unwrap() as usize;

    let detailed = raw.ok(&format!("/activities/{id}")).await;
    assert_eq!(detailed["photos"]["count"], json!(count));
    let primary = detailed["photos"]["primary"]["unique_id"].clone();

    let photos = raw.ok(&format!("/activities/{id}/photos?size=5000")).await;
    let photos = photos.as_array().unwrap();
    assert_eq!(photos.len(), count);
    assert_eq!(photos[0]["unique_id"], primary);
    assert_eq!(photos[0]["default_photo"], json!(true));
    for p in photos {
        assert_eq!(p["activity_id"], json!(id));
        assert_eq!(p["activity_name"], detailed["name"]);
        assert!(p["urls"]["5000"].as_str().unwrap().starts_with("https://"));
        assert_eq!(p["sizes"]["5000"], json!([3750, 5000]));
        // Where the photo was taken, for activities with a track.
        let outdoor = !with["start_latlng"].as_array().unwrap().is_empty();
        assert_eq!(p.get("location").is_some(), outdoor, "{p}");
        if outdoor {
            assert_eq!(p["location"].as_array().unwrap().len(), 2);
        }
    }
    // Without `size`, 100-pixel URLs; an activity without photos has an empty list.
    let small = raw.ok(&format!("/activities/{id}/photos")).await;
    assert!(small[0]["urls"]["100"].is_string());
    let without = list
        .iter()
        .find(|a| a["total_photo_count"] == json!(0))
        .expect("an activity without photos");
    let none = raw
        .ok(&format!("/activities/{}/photos", without["id"]))
        .await;
    assert_eq!(none, json!([]));
    let (status, _) = raw.get("/activities/1/photos").await;
    assert_eq!(status, 404);
    // Through the generated client.
    let typed = raw
        .sandbox
        .client()
        .get_activity_photos(id)
        .size(600)
        .send()
        .await
        .unwrap();
    assert_eq!(typed.len(), count);
    assert!(typed[0].urls.contains_key("600"));
}

const GPX: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="fidelity-test" xmlns="http://www.topografix.com/GPX/1/1">
 <trk><name>File name</name><trkseg>
  <trkpt lat="52.3600" lon="4.8800"><ele>0.5</ele><time>2026-04-02T06:00:00Z</time></trkpt>
  <trkpt lat="52.3610" lon="4.8815"><ele>0.7</ele><time>2026-04-02T06:00:40Z</time></trkpt>
  <trkpt lat="52.3622" lon="4.8830"><ele>1.2</ele><time>2026-04-02T06:01:20Z</time></trkpt>
 </trkseg></trk>
</gpx>"#;

#[tokio::test]
async fn an_upload_of_several_megabytes_is_accepted() {
    let raw = Raw::with(
        Sandbox::builder()
            .seed(6)
            .upload_processing(0, Duration::ZERO),
    )
    .await;
    // About 40,000 one-second samples (11 hours): some 3.5 MB of GPX.
    let mut gpx = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1"><trk><name>Long</name><trkseg>"#,
    );
    for i in 0..40_000u32 {
        let (h, m, s) = (6 + i / 3600, (i / 60) % 60, i % 60);
        gpx.push_str(&format!(
            "<trkpt lat=\"{:.6}\" lon=\"4.880000\"><ele>1.0</ele><time>2026-04-02T{h:02}:{m:02}:{s:02}Z</time></trkpt>\n",
            52.36 + f64::from(i) * 0.00002
        ));
    }
    gpx.push_str("</trkseg></trk></gpx>\n");
    assert!(gpx.len() > 3_000_000, "{} bytes", gpx.len());
    let r = raw
        .http
        .post(raw.url("/uploads"))
        .bearer_auth(&raw.token)
        .multipart(
            reqwest::multipart::Form::new()
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(gpx.into_bytes()).file_name("long.gpx"),
                )
                .text("data_type", "gpx"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let status = raw
        .ok(&format!("/uploads/{}", created["id"].as_u64().unwrap()))
        .await;
    assert!(status["error"].is_null(), "{status}");
    let activity = raw
        .ok(&format!(
            "/activities/{}",
            status["activity_id"].as_u64().unwrap()
        ))
        .await;
    assert_eq!(activity["elapsed_time"], json!(39_999), "{activity}");
}

#[tokio::test]
async fn uploads_read_their_fields_from_the_query_string_too() {
    let raw = Raw::with(
        Sandbox::builder()
            .seed(5)
            .upload_processing(0, Duration::ZERO),
    )
    .await;
    let upload = |query: &'static str, form: reqwest::multipart::Form| {
        raw.http
            .post(format!("{}{query}", raw.url("/uploads")))
            .bearer_auth(&raw.token)
            .multipart(form)
            .send()
    };
    let file = || reqwest::multipart::Part::bytes(GPX.as_bytes().to_vec()).file_name("morning.gpx");
    // Only the file in the body: everything else in the query string.
    let r = upload(
        "?data_type=gpx&name=From%20the%20query&description=q&external_id=q-1&trainer=1&commute=true",
        reqwest::multipart::Form::new().part("file", file()),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let status = raw
        .ok(&format!("/uploads/{}", created["id"].as_u64().unwrap()))
        .await;
    assert_eq!(status["external_id"], "q-1", "{status}");
    let activity = raw
        .ok(&format!(
            "/activities/{}",
            status["activity_id"].as_u64().unwrap()
        ))
        .await;
    assert_eq!(activity["name"], "From the query");
    assert_eq!(activity["description"], "q");
    assert_eq!(activity["trainer"], json!(true));
    assert_eq!(activity["commute"], json!(true));
    // A multipart field wins over the query parameter of the same name.
    let r = upload(
        "?data_type=tcx&name=Query",
        reqwest::multipart::Form::new()
            .part("file", file())
            .text("data_type", "gpx")
            .text("name", "Form")
            .text("external_id", "q-2"),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let status = raw
        .ok(&format!("/uploads/{}", created["id"].as_u64().unwrap()))
        .await;
    // The same file again is a duplicate: processed as gpx, it was parsed.
    assert!(
        status["error"]
            .as_str()
            .is_some_and(|e| e.contains("duplicate")),
        "{status}"
    );
    // Without a data type anywhere, Strava's 400.
    let r = upload("", reqwest::multipart::Form::new().part("file", file()))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn oauth_answers_under_the_api_base_too() {
    let raw = Raw::start().await;
    let s = &raw.sandbox;
    for base in [s.oauth_base(), format!("{}/oauth", s.api_base())] {
        let r = raw
            .http
            .get(format!("{base}/authorize"))
            .query(&[
                ("client_id", s.client_id().to_string()),
                ("redirect_uri", "http://localhost/callback".into()),
                ("response_type", "code".into()),
                ("scope", "read,activity:read".into()),
                ("state", "xyz".into()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302, "{base}/authorize");
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        let url = url::Url::parse(&location).unwrap();
        let code = url
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let r = raw
            .http
            .post(format!("{base}/token"))
            .form(&[
                ("client_id", s.client_id().to_string()),
                ("client_secret", s.client_secret().to_owned()),
                ("code", code),
                ("grant_type", "authorization_code".into()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{base}/token");
        let tokens: Value = r.json().await.unwrap();
        let access = tokens["access_token"].as_str().unwrap().to_owned();
        let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
        let r = raw
            .http
            .post(format!("{base}/token"))
            .form(&[
                ("client_id", s.client_id().to_string()),
                ("client_secret", s.client_secret().to_owned()),
                ("refresh_token", refresh),
                ("grant_type", "refresh_token".into()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{base}/token (refresh)");
        let r = raw
            .http
            .post(format!("{base}/deauthorize"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{base}/deauthorize");
        let r = raw
            .http
            .get(raw.url("/athlete"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "deauthorized through {base}");
    }
    // The library's client, given the API base's OAuth URL, refreshes through it.
    let tokens = s.issue_tokens(0, Scope::ALL);
    let client = s
        .client_builder()
        .oauth_base(format!("{}/oauth", s.api_base()))
        .tokens(tokens.clone())
        .build()
        .unwrap();
    let fresh = client
        .refresh_access_token(
            s.client_id(),
            s.client_secret(),
            tokens.refresh_token.expose(),
        )
        .await
        .unwrap();
    assert_ne!(fresh.access_token.expose(), tokens.access_token.expose());
    client.get_athlete().await.unwrap();
}

#[tokio::test]
async fn manual_activities_look_like_stravas() {
    let raw = Raw::start().await;
    let athlete = raw.ok("/athlete").await;
    let r = raw
        .http
        .post(raw.url("/activities"))
        .bearer_auth(&raw.token)
        .form(&[
            ("name", "Manual run"),
            ("sport_type", "Run"),
            ("start_date_local", "2025-10-18 19:04:26 -0400"),
            ("elapsed_time", "1234"),
            ("distance", "1000"),
            ("photo_ids", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    // Strava omits them rather than sending null.
    assert!(created.get("device_name").is_none(), "{created}");
    assert!(created.get("upload_id_str").is_none(), "{created}");
    assert_eq!(created["upload_id"], Value::Null);
    assert_eq!(created["start_date_local"], "2025-10-18T19:04:26Z");
    // The athlete's default shoes, filled in.
    let primary_shoes = athlete["shoes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["primary"] == json!(true))
        .unwrap();
    assert_eq!(created["gear_id"], primary_shoes["id"]);
    assert_eq!(created["gear"]["id"], primary_shoes["id"]);
    assert_eq!(created["gear"]["name"], primary_shoes["name"]);
    let id = created["id"].as_u64().unwrap();
    let again = raw.ok(&format!("/activities/{id}")).await;
    assert_eq!(again["gear"], created["gear"]);
    // Yoga gets no gear.
    let r = raw
        .http
        .post(raw.url("/activities"))
        .bearer_auth(&raw.token)
        .form(&[
            ("name", "Stretch"),
            ("sport_type", "Yoga"),
            ("start_date_local", "2025-10-18T07:00:00Z"),
            ("elapsed_time", "1800"),
        ])
        .send()
        .await
        .unwrap();
    let yoga: Value = r.json().await.unwrap();
    assert_eq!(yoga["gear"], Value::Null);
    assert_eq!(yoga["gear_id"], Value::Null);
    // Generated activities have their upload and device.
    let list = raw.activities().await;
    let generated = raw
        .ok(&format!("/activities/{}", list.last().unwrap()["id"]))
        .await;
    assert!(generated["device_name"].is_string());
    assert!(generated["upload_id_str"].is_string());
}
