//! Generated operations against a local server: method, path, query and form encoding,
//! the bearer header, and typed results.

mod support;

use httpmock::Method::{GET, POST, PUT};
use httpmock::MockServer;
use serde_json::json;
use stravalib::Id;
use stravalib::params::{ExploreBounds, StreamKeys};
use stravalib::types::{ExploreActivityType, SportType, StreamType};

const TOKEN: &str = "test-access-token-0123";

#[tokio::test]
async fn get_athlete_sends_bearer_and_no_api_version_header() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/athlete")
                .header("authorization", format!("Bearer {TOKEN}"))
                .header_missing("api-version");
            then.status(200).json_body(
                json!({"id": 9_007_199_254_740_993u64, "firstname": "Ada", "sex": null}),
            );
        })
        .await;
    let client = support::client(&server, TOKEN);
    let athlete = client.get_athlete().await.expect("athlete");
    mock.assert_async().await;
    // Beyond 2^53: exact, not rounded through a float.
    assert_eq!(athlete.id.unwrap().to_string(), "9007199254740993");
    assert_eq!(athlete.firstname.as_deref(), Some("Ada"));
    assert_eq!(athlete.sex, None);
}

#[tokio::test]
async fn stream_keys_are_comma_joined() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/activities/16204873519/streams")
                .query_param("keys", "time,latlng,heartrate")
                .query_param("key_by_type", "true")
                .header("authorization", format!("Bearer {TOKEN}"));
            then.status(200).json_body(json!({
                "time": {"data": [0, 1, 2], "series_type": "distance", "original_size": 3, "resolution": "high"},
                "latlng": {"data": [[52.1, 4.3], [52.2, 4.4], []], "series_type": "distance", "original_size": 3, "resolution": "high"}
            }));
        })
        .await;
    let client = support::client(&server, TOKEN);
    let streams = client
        .get_activity_streams(16_204_873_519u64)
        .keys(StreamKeys::from([
            StreamType::Time,
            StreamType::Latlng,
            StreamType::Heartrate,
        ]))
        .key_by_type(true)
        .send()
        .await
        .expect("streams");
    mock.assert_async().await;
    assert_eq!(streams.time.unwrap().data, Some(vec![0, 1, 2]));
    let latlng = streams.latlng.unwrap().data.unwrap();
    assert_eq!(latlng[1].pair(), Some((52.2, 4.4)));
    assert!(latlng[2].is_empty());
}

#[tokio::test]
async fn explore_bounds_and_activity_type() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/segments/explore")
                .query_param("bounds", "37.7,-122.5,37.8,-122.3")
                .query_param("activity_type", "running");
            then.status(200).json_body(json!({"segments": [
                {"id": 1, "name": "Climb", "climb_category": 0, "climb_category_desc": "NC",
                 "start_latlng": [37.71, -122.45], "end_latlng": [37.72, -122.44]}
            ]}));
        })
        .await;
    let client = support::client(&server, TOKEN);
    let found = client
        .explore_segments(ExploreBounds::new(37.7, -122.5, 37.8, -122.3).unwrap())
        .activity_type(ExploreActivityType::Running)
        .send()
        .await
        .expect("segments");
    mock.assert_async().await;
    let segment = &found.segments.unwrap()[0];
    assert_eq!(segment.climb_category_desc.as_ref().unwrap().as_str(), "NC");
}

#[tokio::test]
async fn create_activity_sends_a_form_body() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v3/activities")
                .header("content-type", "application/x-www-form-urlencoded")
                .form_urlencoded_tuple("name", "Lunch run")
                .form_urlencoded_tuple("sport_type", "TrailRun")
                .form_urlencoded_tuple("start_date_local", "2026-11-21T12:30:00Z")
                .form_urlencoded_tuple("elapsed_time", "3600")
                .form_urlencoded_tuple("distance", "10500.5")
                .form_urlencoded_tuple("commute", "0");
            then.status(201)
                .json_body(json!({"id": 123, "name": "Lunch run", "sport_type": "TrailRun"}));
        })
        .await;
    let client = support::client(&server, TOKEN);
    let created = client
        .create_activity()
        .body_map(|b| {
            b.name("Lunch run")
                .sport_type(SportType::TrailRun)
                .start_date_local(
                    "2026-11-21T12:30:00Z"
                        .parse::<chrono::DateTime<chrono::Utc>>()
                        .unwrap(),
                )
                .elapsed_time(3600)
                .distance(Some(10500.5))
                .commute(Some(0))
        })
        .send()
        .await
        .expect("created");
    mock.assert_async().await;
    assert_eq!(created.id, Some(Id::from(123u32)));
    assert_eq!(created.sport_type, Some(SportType::TrailRun));
}

#[tokio::test]
async fn star_segment_sends_starred_in_the_form() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path("/api/v3/segments/229781/starred")
                .form_urlencoded_tuple("starred", "true");
            then.status(200)
                .json_body(json!({"id": 229781, "name": "Hill", "starred": true}));
        })
        .await;
    let client = support::client(&server, TOKEN);
    let segment = client
        .star_segment(229_781u32)
        .body_map(|b| b.starred(true))
        .send()
        .await
        .expect("segment");
    mock.assert_async().await;
    assert_eq!(segment.id, Some(Id::from(229_781u32)));
}

#[tokio::test]
async fn update_athlete_sends_weight_in_the_form() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path("/api/v3/athlete")
                .form_urlencoded_tuple("weight", "71.5")
                .query_param_missing("weight");
            then.status(200).json_body(json!({"id": 7, "weight": 71.5}));
        })
        .await;
    let client = support::client(&server, TOKEN);
    let athlete = client
        .update_logged_in_athlete()
        .body_map(|b| b.weight(71.5))
        .send()
        .await
        .expect("athlete");
    mock.assert_async().await;
    assert_eq!(athlete.weight, Some(71.5));
}

#[tokio::test]
async fn athlete_activities_query_parameters() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/athlete/activities")
                .query_param("after", "1700000000")
                .query_param("page", "2")
                .query_param("per_page", "200");
            then.status(200).json_body(json!([
                {"id": 1, "sport_type": "Run", "start_latlng": []},
                {"id": 2, "sport_type": "Kitefoil", "start_latlng": [1.5, 2.5]}
            ]));
        })
        .await;
    let client = support::client(&server, TOKEN);
    let page = client
        .get_logged_in_athlete_activities()
        .after(1_700_000_000)
        .page(2)
        .per_page(200)
        .send()
        .await
        .expect("page");
    mock.assert_async().await;
    assert_eq!(page.len(), 2);
    assert_eq!(
        page[1].sport_type,
        Some(SportType::Unknown("Kitefoil".to_owned()))
    );
}
