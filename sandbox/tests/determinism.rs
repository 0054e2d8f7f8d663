//! State is deterministic per seed, renderings kept for speed are the renderings, and
//! writes (create and update an activity, star a segment, upload) are visible to the
//! reads after them, kept renderings included.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use stravalib::auth::Scope;
use stravalib_sandbox::Sandbox;

const WAIT: Duration = Duration::from_secs(20);

fn start_time() -> DateTime<Utc> {
    "2026-03-10T12:00:00Z".parse().unwrap()
}

async fn sandbox(seed: u64) -> Sandbox {
    Sandbox::builder()
        .seed(seed)
        .activities_per_athlete(150)
        .start_time(start_time())
        .frozen_clock(true)
        .upload_processing(0, Duration::ZERO)
        .rate_limits(10_000, 10_000, 10_000, 10_000)
        .start()
        .await
        .unwrap()
}

struct Raw {
    http: reqwest::Client,
    api: String,
    token: String,
}

impl Raw {
    fn new(s: &Sandbox) -> Raw {
        Raw {
            http: reqwest::Client::builder().timeout(WAIT).build().unwrap(),
            api: s.api_base(),
            token: s
                .issue_tokens(0, Scope::ALL)
                .access_token
                .expose()
                .to_owned(),
        }
    }

    async fn bytes(&self, method: Method, path: &str, form: &[(&str, &str)]) -> (u16, Vec<u8>) {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.api))
            .bearer_auth(&self.token);
        if !form.is_empty() {
            r = r.form(form);
        }
        let r = r.send().await.unwrap();
        (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
    }

    async fn get(&self, path: &str) -> Vec<u8> {
        let (status, body) = self.bytes(Method::GET, path, &[]).await;
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        body
    }

    async fn json(&self, path: &str) -> Value {
        serde_json::from_slice(&self.get(path).await).unwrap()
    }

    async fn write(&self, method: Method, path: &str, form: &[(&str, &str)]) -> Value {
        let (status, body) = self.bytes(method.clone(), path, form).await;
        assert!(
            status == 200 || status == 201,
            "{method} {path}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        serde_json::from_slice(&body).unwrap()
    }
}

/// The paths compared between sandboxes: the athlete, a page, and for a few activities
/// the detailed activity (twice: rendered, then kept), laps, zones, streams, photos.
async fn paths(raw: &Raw) -> Vec<String> {
    let list = raw.json("/athlete/activities?per_page=12").await;
    let mut paths = vec![
        "/athlete".to_owned(),
        "/athlete/activities?per_page=12".to_owned(),
        "/athlete/zones".to_owned(),
    ];
    for a in list.as_array().unwrap() {
        let id = &a["id"];
        for suffix in [
            "",
            "",
            "/laps",
            "/zones",
            "/photos",
            "/streams?keys=latlng,heartrate,altitude&key_by_type=true",
        ] {
            paths.push(format!("/activities/{id}{suffix}"));
        }
    }
    paths
}

#[tokio::test]
async fn the_same_seed_gives_the_same_answers_kept_or_not() {
    let (a, b, c) = (sandbox(21).await, sandbox(21).await, sandbox(22).await);
    let (ra, rb, rc) = (Raw::new(&a), Raw::new(&b), Raw::new(&c));
    let list = paths(&ra).await;
    assert!(list.len() > 50);
    for path in &list {
        assert_eq!(ra.get(path).await, rb.get(path).await, "{path}");
    }
    // The second sandbox again, in another order: what was kept is what is rendered.
    for path in list.iter().rev() {
        assert_eq!(ra.get(path).await, rb.get(path).await, "{path} (again)");
    }
    // Another seed, another world.
    assert_ne!(
        ra.get("/athlete/activities?per_page=12").await,
        rc.get("/athlete/activities?per_page=12").await
    );
}

const GPX: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="determinism-test" xmlns="http://www.topografix.com/GPX/1/1">
 <trk><name>Harbour loop</name><type>running</type><trkseg>
  <trkpt lat="52.3600" lon="4.8800"><ele>0.5</ele><time>2026-03-02T06:00:00Z</time></trkpt>
  <trkpt lat="52.3610" lon="4.8815"><ele>0.7</ele><time>2026-03-02T06:00:40Z</time></trkpt>
  <trkpt lat="52.3622" lon="4.8830"><ele>1.2</ele><time>2026-03-02T06:01:20Z</time></trkpt>
 </trkseg></trk>
</gpx>"#;

#[tokio::test]
async fn writes_are_visible_to_the_reads_after_them() {
    let s = sandbox(23).await;
    let raw = Raw::new(&s);
    let athlete = raw.json("/athlete").await;

    // Update a generated activity after its detailed rendering was kept.
    let list = raw.json("/athlete/activities?per_page=60").await;
    let run = list
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["sport_type"] == "Run" && a["distance"].as_f64() > Some(3_000.0))
        .expect("a run")
        .clone();
    let id = run["id"].as_u64().unwrap();
    let before = raw.json(&format!("/activities/{id}")).await;
    let laps_before = raw.json(&format!("/activities/{id}/laps")).await;
    assert!(laps_before.as_array().unwrap().len() > 1, "laps per km");
    let bike = athlete["bikes"][0]["id"].as_str().map(str::to_owned);
    let mut form = vec![
        ("name", "Edited"),
        ("sport_type", "Ride"),
        ("commute", "true"),
    ];
    if let Some(bike) = &bike {
        form.push(("gear_id", bike.as_str()));
    }
    let answered = raw
        .write(Method::PUT, &format!("/activities/{id}"), &form)
        .await;
    let after = raw.json(&format!("/activities/{id}")).await;
    assert_eq!(answered, after);
    assert_eq!(after["name"], "Edited");
    assert_eq!(after["sport_type"], "Ride");
    assert_eq!(after["type"], "Ride");
    assert_eq!(after["commute"], json!(true));
    assert_ne!(after, before);
    if let Some(bike) = &bike {
        assert_eq!(after["gear"]["id"], json!(bike));
    }
    // Laps follow the new sport: a ride has one lap, a run one per kilometer.
    let laps_after = raw.json(&format!("/activities/{id}/laps")).await;
    assert_eq!(laps_after.as_array().unwrap().len(), 1);
    // And the summary in the list.
    let listed = raw.json("/athlete/activities?per_page=60").await;
    let entry = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == json!(id))
        .unwrap();
    assert_eq!(entry["name"], "Edited");

    // Create an activity: listed first, readable, then edited and read again.
    let created = raw
        .write(
            Method::POST,
            "/activities",
            &[
                ("name", "Manual"),
                ("sport_type", "Run"),
                ("start_date_local", "2026-03-10T07:00:00Z"),
                ("elapsed_time", "1800"),
                ("distance", "5000"),
            ],
        )
        .await;
    let created_id = created["id"].as_u64().unwrap();
    assert_eq!(
        raw.json(&format!("/activities/{created_id}")).await,
        created
    );
    let first = raw.json("/athlete/activities?per_page=1").await;
    assert_eq!(first[0]["id"], json!(created_id));
    raw.write(
        Method::PUT,
        &format!("/activities/{created_id}"),
        &[("name", "Manual, renamed")],
    )
    .await;
    let read = raw.json(&format!("/activities/{created_id}")).await;
    assert_eq!(read["name"], "Manual, renamed");

    // Star a segment: it is in the starred list and starred when read.
    let segment = after["segment_efforts"]
        .as_array()
        .and_then(|e| e.first())
        .map(|e| e["segment"]["id"].clone())
        .unwrap_or_else(|| json!(6_100_000));
    let sid = segment.as_u64().unwrap();
    let read = raw.json(&format!("/segments/{sid}")).await;
    let target = !read["starred"].as_bool().unwrap_or(false);
    raw.write(
        Method::PUT,
        &format!("/segments/{sid}/starred"),
        &[("starred", if target { "true" } else { "false" })],
    )
    .await;
    let read = raw.json(&format!("/segments/{sid}")).await;
    assert_eq!(read["starred"], json!(target));
    let starred = raw.json("/segments/starred").await;
    assert_eq!(
        starred
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == segment),
        target
    );

    // Upload: the activity appears with the file's track.
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(GPX.as_bytes().to_vec()).file_name("harbour.gpx"),
        )
        .text("data_type", "gpx");
    let r = raw
        .http
        .post(format!("{}/uploads", raw.api))
        .bearer_auth(&raw.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let upload: Value = r.json().await.unwrap();
    let status = raw
        .json(&format!("/uploads/{}", upload["id"].as_u64().unwrap()))
        .await;
    let uploaded = status["activity_id"].as_u64().expect("processed");
    let activity = raw.json(&format!("/activities/{uploaded}")).await;
    assert_eq!(activity["name"], "Harbour loop");
    assert_eq!(activity["start_latlng"], json!([52.36, 4.88]));
    let streams = raw
        .json(&format!(
            "/activities/{uploaded}/streams?keys=latlng&key_by_type=true"
        ))
        .await;
    assert_eq!(streams["latlng"]["data"].as_array().unwrap().len(), 3);
}
