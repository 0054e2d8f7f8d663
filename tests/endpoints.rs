//! Every user-facing endpoint against a local server: method, path, query or body, and
//! the typed result; pagination (pages, limit, short last page, errors, cursors).

mod support;

use futures::{StreamExt, TryStreamExt};
use httpmock::Method::{GET, POST, PUT};
use httpmock::MockServer;
use serde_json::json;
use stravalib::params::{ExploreBounds, StreamKeys};
use stravalib::types::{
    ExploreActivityType, SportType, StreamResolution, StreamSeriesType, StreamType,
    UpdatableActivity,
};
use stravalib::{Client, Id};

const TOKEN: &str = "endpoint-test-token";

fn client(server: &MockServer) -> Client {
    support::client(server, TOKEN)
}

async fn get_json<'a>(
    server: &'a MockServer,
    path: &str,
    body: serde_json::Value,
) -> httpmock::Mock<'a> {
    let path = format!("/api/v3{path}");
    server
        .mock_async(move |when, then| {
            when.method(GET)
                .path(path)
                .header("authorization", format!("Bearer {TOKEN}"));
            then.status(200).json_body(body);
        })
        .await
}

#[tokio::test]
async fn athlete_endpoints() {
    let server = MockServer::start_async().await;
    let zones = get_json(
        &server,
        "/athlete/zones",
        json!({"heart_rate": {"custom_zones": false,
        "zones": [{"min": 0, "max": 120}, {"min": 120, "max": -1}]}}),
    )
    .await;
    let stats = get_json(
        &server,
        "/athletes/77/stats",
        json!({"biggest_ride_distance": 123456.7,
        "all_run_totals": {"count": 3, "distance": 30000.0, "moving_time": 9000.0}}),
    )
    .await;
    let weight = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path("/api/v3/athlete")
                .form_urlencoded_tuple("weight", "68.25");
            then.status(200)
                .json_body(json!({"id": 77, "weight": 68.25}));
        })
        .await;
    let c = client(&server);
    let z = c.get_athlete_zones().await.unwrap();
    assert_eq!(z.heart_rate.unwrap().zones.unwrap().0[1].max, Some(-1.0));
    let s = c.get_athlete_stats(77u32).await.unwrap();
    assert_eq!(s.all_run_totals.unwrap().count, Some(3));
    assert_eq!(
        c.update_athlete_weight(68.25).await.unwrap().weight,
        Some(68.25)
    );
    // Values are Strava's to validate: the request is sent and its answer (here, no mock
    // matches) comes back as an error.
    assert!(c.update_athlete_weight(-1.0).await.is_err());
    zones.assert_async().await;
    stats.assert_async().await;
    weight.assert_async().await;
}

#[tokio::test]
async fn activity_endpoints() {
    let server = MockServer::start_async().await;
    let one = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/activities/16204873519")
                .query_param("include_all_efforts", "true");
            then.status(200)
                .json_body(json!({"id": 16204873519u64, "sport_type": "GravelRide",
                "segment_efforts": [{"id": 1, "name": "Dike"}]}));
        })
        .await;
    let laps = get_json(
        &server,
        "/activities/5/laps",
        json!([{"id": 10, "lap_index": 1}, {"id": 11, "lap_index": 2}]),
    )
    .await;
    let zones = get_json(
        &server,
        "/activities/5/zones",
        json!([{"type": "heartrate", "score": 12.0,
        "distribution_buckets": [{"min": 0, "max": 100, "time": 30.0}]}]),
    )
    .await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v3/activities")
                .form_urlencoded_tuple("name", "Evening swim")
                .form_urlencoded_tuple("sport_type", "Swim")
                .form_urlencoded_tuple("elapsed_time", "1800")
                .form_urlencoded_tuple("trainer", "1")
                .form_urlencoded_tuple("description", "laps");
            then.status(201)
                .json_body(json!({"id": 99, "name": "Evening swim", "sport_type": "Swim"}));
        })
        .await;
    let update = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path("/api/v3/activities/99")
                .header("content-type", "application/json")
                .json_body(json!({"name": "Renamed", "commute": true}));
            then.status(200)
                .json_body(json!({"id": 99, "name": "Renamed", "commute": true}));
        })
        .await;
    let c = client(&server);
    let a = c
        .get_activity(16_204_873_519u64)
        .include_all_efforts(true)
        .send()
        .await
        .unwrap();
    assert_eq!(a.sport_type, Some(SportType::GravelRide));
    assert_eq!(a.segment_efforts.unwrap()[0].name.as_deref(), Some("Dike"));
    assert_eq!(c.get_activity_laps(5u32).await.unwrap().len(), 2);
    assert_eq!(
        c.get_activity_zones(5u32).await.unwrap()[0].score,
        Some(12.0)
    );
    let created = c
        .create_activity()
        .body_map(|b| {
            b.name("Evening swim".to_owned())
                .sport_type(SportType::Swim)
                .start_date_local(chrono::Utc::now())
                .elapsed_time(1800)
                .trainer(1)
                .description("laps".to_owned())
        })
        .send()
        .await
        .unwrap();
    assert_eq!(created.id, Some(Id::from(99u32)));
    let changes: UpdatableActivity = UpdatableActivity::builder()
        .name(Some("Renamed".to_owned()))
        .commute(Some(true))
        .try_into()
        .unwrap();
    assert_eq!(
        c.update_activity(99u32)
            .body(changes)
            .await
            .unwrap()
            .name
            .as_deref(),
        Some("Renamed")
    );
    let bad = c
        .create_activity()
        .body_map(|b| {
            b.name(" ".to_owned())
                .sport_type(SportType::Run)
                .start_date_local(chrono::Utc::now())
                .elapsed_time(10)
        })
        .send()
        .await;
    // Strava validates the body; its error comes back (here, no mock matches).
    assert!(bad.is_err());
    for m in [one, laps, zones, create, update] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn club_gear_route_segment_endpoints() {
    let server = MockServer::start_async().await;
    let club = get_json(
        &server,
        "/clubs/12",
        json!({"id": 12, "name": "Polder Riders", "sport_type": "cycling", "membership": "member"}),
    )
    .await;
    let gear = get_json(
        &server,
        "/gear/b1234",
        json!({"id": "b1234", "name": "Gravel bike", "distance": 1234.5}),
    )
    .await;
    let route = get_json(
        &server,
        "/routes/3401129876543210987",
        json!({"id": 3401129876543210987u64, "name": "Loop"}),
    )
    .await;
    let gpx = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/routes/8/export_gpx");
            then.status(200)
                .header("content-type", "application/gpx+xml")
                .body("<gpx><trk/></gpx>");
        })
        .await;
    let tcx = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/routes/8/export_tcx");
            then.status(200)
                .header("content-type", "application/tcx+xml")
                .body("<TrainingCenterDatabase/>");
        })
        .await;
    let segment = get_json(&server, "/segments/44", json!({"id": 44, "name": "Dike climb", "athlete_segment_stats": {"pr_elapsed_time": 200, "pr_date": "2024-05-17", "effort_count": 4}})).await;
    let star = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path("/api/v3/segments/44/starred")
                .form_urlencoded_tuple("starred", "false");
            then.status(200)
                .json_body(json!({"id": 44, "starred": false}));
        })
        .await;
    let explore = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/segments/explore")
                .query_param("bounds", "52,4.5,52.5,5")
                .query_param("activity_type", "riding")
                .query_param("min_cat", "1")
                .query_param("max_cat", "3");
            then.status(200).json_body(
                json!({"segments": [{"id": 1, "climb_category": 2, "climb_category_desc": "2"}]}),
            );
        })
        .await;
    let effort = get_json(
        &server,
        "/segment_efforts/6",
        json!({"id": 6, "elapsed_time": 300, "kom_rank": null}),
    )
    .await;
    let efforts = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/segment_efforts")
                .query_param("segment_id", "44")
                .query_param("start_date_local", "2024-01-01T00:00:00Z")
                .query_param("per_page", "50");
            then.status(200).json_body(json!([{"id": 6}, {"id": 7}]));
        })
        .await;
    let c = client(&server);
    assert_eq!(
        c.get_club(12u32).await.unwrap().name.as_deref(),
        Some("Polder Riders")
    );
    assert_eq!(c.get_gear("b1234").await.unwrap().distance, Some(1234.5));
    // An empty path parameter would ask for another resource (`/gear/`): refused locally.
    let empty = c.get_gear("").await.unwrap_err();
    assert!(empty.is_invalid_input() && empty.is_local(), "{empty:?}");
    assert_eq!(
        c.get_route(3_401_129_876_543_210_987u64)
            .await
            .unwrap()
            .id
            .unwrap()
            .to_string(),
        "3401129876543210987"
    );
    assert_eq!(
        &c.export_route_gpx(8u32).await.unwrap()[..],
        b"<gpx><trk/></gpx>"
    );
    assert_eq!(
        &c.export_route_tcx(8u32).await.unwrap()[..],
        b"<TrainingCenterDatabase/>"
    );
    let s = c.get_segment(44u32).await.unwrap();
    assert_eq!(
        s.athlete_segment_stats
            .unwrap()
            .pr_date
            .unwrap()
            .to_string(),
        "2024-05-17"
    );
    assert_eq!(
        c.star_segment(44u32)
            .body_map(|b| b.starred(false))
            .await
            .unwrap()
            .id,
        Some(Id::from(44u32))
    );
    let found = c
        .explore_segments(ExploreBounds::new(52.0, 4.5, 52.5, 5.0).unwrap())
        .activity_type(ExploreActivityType::Riding)
        .min_cat(1)
        .max_cat(3)
        .send()
        .await
        .unwrap();
    assert_eq!(found.segments.unwrap().len(), 1);
    let too_high = c
        .explore_segments(ExploreBounds::new(0.0, 0.0, 1.0, 1.0).unwrap())
        .max_cat(9)
        .send()
        .await;
    // Strava validates the category; its error comes back (no mock for `max_cat=9`).
    assert!(too_high.is_err());
    assert_eq!(
        c.get_segment_effort(6u32).await.unwrap().elapsed_time,
        Some(300)
    );
    let list = c
        .get_segment_efforts(44u32)
        .start_date_local(
            "2024-01-01T00:00:00Z"
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap(),
        )
        .per_page(50)
        .send()
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
    for m in [
        club, gear, route, gpx, tcx, segment, star, explore, effort, efforts,
    ] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn stream_endpoints_are_typed() {
    let server = MockServer::start_async().await;
    let streams_body = json!({
        "time": {"data": [0, 5, 10], "series_type": "time", "original_size": 3, "resolution": "high"},
        "heartrate": {"data": [120, 131, 140], "series_type": "time", "original_size": 3, "resolution": "high"},
        "moving": {"data": [false, true, true], "series_type": "time", "original_size": 3, "resolution": "high"},
        "latlng": {"data": [[52.0, 4.0], [52.1, 4.1], [52.2, 4.2]], "series_type": "time", "original_size": 3, "resolution": "high"}
    });
    let body = streams_body.clone();
    let activity = server
        .mock_async(move |when, then| {
            when.method(GET)
                .path("/api/v3/activities/5/streams")
                .query_param("keys", "time,heartrate,moving,latlng")
                .query_param("key_by_type", "true")
                .query_param("resolution", "medium")
                .query_param("series_type", "time");
            then.status(200).json_body(body);
        })
        .await;
    let effort = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/segment_efforts/6/streams")
                .query_param("key_by_type", "true")
                .query_param(
                    "keys",
                    "time,distance,latlng,altitude,velocity_smooth,heartrate,cadence,watts,temp,moving,grade_smooth",
                );
            then.status(200)
                .json_body(json!({"distance": {"data": [0.0, 10.5]}}));
        })
        .await;
    let segment = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/segments/44/streams")
                .query_param("keys", "distance,latlng,altitude");
            then.status(200)
                .json_body(json!({"altitude": {"data": [1.5, 2.5]}}));
        })
        .await;
    let route = get_json(&server, "/routes/8/streams", json!([
        {"type": "latlng", "data": [[52.0, 4.0], [52.1, 4.1]], "series_type": "distance", "original_size": 2, "resolution": "high"},
        {"type": "distance", "data": [0.0, 1500.25], "series_type": "distance", "original_size": 2, "resolution": "high"},
        {"type": "altitude", "data": [1.0, 4.0], "series_type": "distance", "original_size": 2, "resolution": "high"}
    ])).await;
    let c = client(&server);
    let set = c
        .get_activity_streams(5u32)
        .keys([
            StreamType::Time,
            StreamType::Heartrate,
            StreamType::Moving,
            StreamType::Latlng,
        ])
        .resolution(StreamResolution::Medium)
        .series_type(StreamSeriesType::Time)
        .send()
        .await
        .unwrap();
    assert_eq!(set.time.unwrap().data.unwrap(), vec![0, 5, 10]);
    assert_eq!(set.heartrate.unwrap().data.unwrap(), vec![120, 131, 140]);
    assert_eq!(set.moving.unwrap().data.unwrap(), vec![false, true, true]);
    assert_eq!(
        set.latlng.unwrap().data.unwrap()[2].pair(),
        Some((52.2, 4.2))
    );
    assert_eq!(
        c.get_effort_streams(6u32)
            .send()
            .await
            .unwrap()
            .distance
            .unwrap()
            .data
            .unwrap(),
        vec![0.0, 10.5]
    );
    let seg = c
        .get_segment_streams(44u32)
        .keys(StreamKeys::new([
            StreamType::Distance,
            StreamType::Latlng,
            StreamType::Altitude,
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(seg.altitude.unwrap().data.unwrap(), vec![1.5, 2.5]);
    let r = c
        .get_route_streams(8u32)
        .await
        .unwrap()
        .into_stream_set()
        .unwrap();
    assert_eq!(r.distance.unwrap().data.unwrap(), vec![0.0, 1500.25]);
    assert_eq!(r.latlng.unwrap().data.unwrap()[1].pair(), Some((52.1, 4.1)));
    assert_eq!(r.altitude.unwrap().data.unwrap(), vec![1.0, 4.0]);
    for m in [activity, effort, segment, route] {
        m.assert_async().await;
    }
}

fn activity_page(start: u64, count: u64) -> serde_json::Value {
    json!(
        (start..start + count)
            .map(|i| json!({"id": i + 1, "name": format!("A{}", i + 1), "sport_type": "Run"}))
            .collect::<Vec<_>>()
    )
}

async fn page_mock(
    server: &MockServer,
    page: u32,
    per_page: u32,
    count: u64,
) -> httpmock::Mock<'_> {
    let body = activity_page(u64::from((page - 1) * per_page), count);
    server
        .mock_async(move |when, then| {
            when.method(GET)
                .path("/api/v3/athlete/activities")
                .query_param("page", page.to_string())
                .query_param("per_page", per_page.to_string());
            then.status(200).json_body(body);
        })
        .await
}

#[tokio::test]
async fn activities_stream_pages_until_a_short_page() {
    let server = MockServer::start_async().await;
    let p1 = page_mock(&server, 1, 200, 200).await;
    let p2 = page_mock(&server, 2, 200, 200).await;
    let p3 = page_mock(&server, 3, 200, 37).await;
    let p4 = page_mock(&server, 4, 200, 0).await;
    let all: Vec<_> = client(&server)
        .get_activities()
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 437);
    assert_eq!(all[436].id, Some(Id::from(437u32)));
    for m in [&p1, &p2, &p3] {
        assert_eq!(m.calls_async().await, 1);
    }
    assert_eq!(p4.calls_async().await, 0, "a short page is the last");
}

#[tokio::test]
async fn limit_caps_the_total_and_the_requests() {
    let server = MockServer::start_async().await;
    let p1 = page_mock(&server, 1, 50, 50).await;
    let p2 = page_mock(&server, 2, 50, 50).await;
    let p3 = page_mock(&server, 3, 50, 50).await;
    let got: Vec<_> = client(&server)
        .get_activities()
        .per_page(50)
        .limit(60)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(got.len(), 60);
    assert_eq!(p1.calls_async().await + p2.calls_async().await, 2);
    assert_eq!(p3.calls_async().await, 0);
}

#[tokio::test]
async fn filters_and_single_page_form() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/athlete/activities")
                .query_param("before", "1700000000")
                .query_param("after", "1600000000")
                .query_param("page", "3")
                .query_param("per_page", "10");
            then.status(200).json_body(activity_page(20, 10));
        })
        .await;
    let page = client(&server)
        .get_activities()
        .before(
            chrono::DateTime::from_timestamp(1_700_000_000, 0)
                .unwrap()
                .timestamp(),
        )
        .after(
            chrono::DateTime::from_timestamp(1_600_000_000, 0)
                .unwrap()
                .timestamp(),
        )
        .page(3)
        .per_page(10)
        .send()
        .await
        .unwrap();
    assert_eq!(page.len(), 10);
    assert_eq!(page[0].id, Some(Id::from(21u32)));
    mock.assert_async().await;
}

#[tokio::test]
async fn an_error_on_page_three_is_yielded_after_the_first_pages() {
    let server = MockServer::start_async().await;
    page_mock(&server, 1, 100, 100).await;
    page_mock(&server, 2, 100, 100).await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/athlete/activities")
                .query_param("page", "3");
            then.status(404)
                .json_body(json!({"message": "Record Not Found", "errors": []}));
        })
        .await;
    let items: Vec<_> = client(&server)
        .get_activities()
        .per_page(100)
        .into_stream()
        .collect()
        .await;
    assert_eq!(items.len(), 201);
    assert!(items[..200].iter().all(|r| r.is_ok()));
    assert!(items[200].as_ref().unwrap_err().is_not_found());
}

#[tokio::test]
async fn pages_are_fetched_lazily() {
    let server = MockServer::start_async().await;
    let p1 = page_mock(&server, 1, 200, 200).await;
    let p2 = page_mock(&server, 2, 200, 200).await;
    let c = client(&server);
    let stream = c.get_activities().into_stream();
    let mut stream = std::pin::pin!(stream);
    for _ in 0..150 {
        stream.next().await.unwrap().unwrap();
    }
    assert_eq!(p1.calls_async().await, 1);
    assert_eq!(
        p2.calls_async().await,
        0,
        "page 2 waits until page 1 is consumed"
    );
    for _ in 0..51 {
        stream.next().await.unwrap().unwrap();
    }
    assert_eq!(p2.calls_async().await, 1);
}

#[tokio::test]
async fn other_lists_page_too() {
    let server = MockServer::start_async().await;
    let kudos = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/activities/5/kudos")
                .query_param("page", "1")
                .query_param("per_page", "200");
            then.status(200)
                .json_body(json!([{"firstname": "Ada"}, {"firstname": "Bo"}]));
        })
        .await;
    let clubs = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/athlete/clubs")
                .query_param("page", "2")
                .query_param("per_page", "5");
            then.status(200)
                .json_body(json!([{"id": 1, "name": "Club"}]));
        })
        .await;
    let starred = get_json(
        &server,
        "/segments/starred",
        json!([{"id": 3, "name": "S"}]),
    )
    .await;
    let routes = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/athletes/77/routes")
                .query_param("per_page", "200");
            then.status(200)
                .json_body(json!([{"id": 8, "name": "Loop"}]));
        })
        .await;
    let c = client(&server);
    let k: Vec<_> = c
        .get_activity_kudoers(5u32)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(k.len(), 2);
    assert_eq!(
        c.get_athlete_clubs()
            .page(2)
            .per_page(5)
            .send()
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        c.get_starred_segments().send().await.unwrap()[0].id,
        Some(Id::from(3u32))
    );
    let r: Vec<_> = c
        .get_routes(77u32)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(r[0].name.as_deref(), Some("Loop"));
    for m in [kudos, clubs, starred, routes] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn comments_page_by_cursor() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/activities/5/comments").query_param("page_size", "2").query_param_missing("after_cursor");
            then.status(200).json_body(json!([{"id": 1, "text": "nice", "cursor": "c1"}, {"id": 2, "text": "wow", "cursor": "c2"}]));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/activities/5/comments")
                .query_param("page_size", "2")
                .query_param("after_cursor", "c2");
            then.status(200)
                .json_body(json!([{"id": 3, "text": "!", "cursor": "c3"}]));
        })
        .await;
    let third = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/activities/5/comments")
                .query_param("after_cursor", "c3");
            then.status(200).json_body(json!([]));
        })
        .await;
    let c = client(&server);
    let all: Vec<_> = c
        .get_activity_comments(5u32)
        .page_size(2)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        all.iter()
            .map(|c| c.text.clone().unwrap())
            .collect::<Vec<_>>(),
        ["nice", "wow", "!"]
    );
    assert_eq!(first.calls_async().await, 1);
    assert_eq!(second.calls_async().await, 1);
    assert_eq!(third.calls_async().await, 0, "a short page is the last");
    let limited: Vec<_> = c
        .get_activity_comments(5u32)
        .page_size(2)
        .limit(2)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(limited.len(), 2);
    assert_eq!(
        second.calls_async().await,
        1,
        "limit reached on the first page"
    );
    let one_page = c
        .get_activity_comments(5u32)
        .page_size(2)
        .after_cursor("c2")
        .send()
        .await
        .unwrap();
    assert_eq!(one_page[0].id, Some(Id::from(3u32)));
}

#[tokio::test]
#[allow(deprecated)]
async fn retired_club_endpoints_answer_with_stravas_error() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/clubs/12/members");
            then.status(404)
                .json_body(json!({"message": "Resource Not Found",
                "errors": [{"resource": "resource", "field": "path", "code": "invalid"}]}));
        })
        .await;
    let err = client(&server)
        .get_club_members(12u32)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.errors()[0].field.as_deref(), Some("path"));
}

#[tokio::test]
#[allow(deprecated)]
async fn retired_club_lists_still_page_when_served() {
    let server = MockServer::start_async().await;
    let admins = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/clubs/12/admins")
                .query_param("page", "1")
                .query_param("per_page", "200");
            then.status(200)
                .json_body(json!([{"firstname": "Ada", "lastname": "L."}]));
        })
        .await;
    let activities = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/clubs/12/activities")
                .query_param("page", "1")
                .query_param("per_page", "30");
            then.status(200).json_body(
                json!([{"name": "Club ride", "distance": 40000.5, "sport_type": "Ride"}]),
            );
        })
        .await;
    let c = client(&server);
    let a: Vec<_> = c
        .get_club_admins(12u32)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(a[0].firstname.as_deref(), Some("Ada"));
    // The builder sends only the parameters that were set.
    let acts = c
        .get_club_activities(12u32)
        .page(1)
        .per_page(30)
        .send()
        .await
        .unwrap();
    assert_eq!(acts[0].distance, Some(40000.5));
    assert_eq!(acts[0].sport_type, Some(SportType::Ride));
    admins.assert_async().await;
    activities.assert_async().await;
}

#[derive(serde::Deserialize, Debug, PartialEq)]
struct Brief {
    id: u64,
    name: String,
}

#[tokio::test]
async fn your_own_types_through_the_same_pipeline() {
    let server = MockServer::start_async().await;
    let p1 = page_mock(&server, 1, 2, 2).await;
    let p2 = page_mock(&server, 2, 2, 1).await;
    let one = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/activities/7")
                .query_param("include_all_efforts", "true")
                .header("authorization", format!("Bearer {TOKEN}"));
            then.status(200)
                .json_body(json!({"id": 7, "name": "Seven", "laps": [{"id": 1}]}));
        })
        .await;
    let streams = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/activities/7/streams")
                .query_param("keys", "time")
                .query_param("key_by_type", "true");
            then.status(200)
                .json_body(json!({"time": {"data": [0, 1]}}));
        })
        .await;
    let c = client(&server);
    let briefs: Vec<Brief> = c
        .get_activities()
        .per_page(2)
        .into_stream_as()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        briefs,
        [
            Brief {
                id: 1,
                name: "A1".into()
            },
            Brief {
                id: 2,
                name: "A2".into()
            },
            Brief {
                id: 3,
                name: "A3".into()
            }
        ]
    );
    let brief: Brief = c
        .get_activity(7u32)
        .include_all_efforts(true)
        .send_as()
        .await
        .unwrap();
    assert_eq!(
        brief,
        Brief {
            id: 7,
            name: "Seven".into()
        }
    );
    #[derive(serde::Deserialize)]
    struct Times {
        time: serde_json::Value,
    }
    let t: Times = c
        .get_activity_streams(7u32)
        .keys([StreamType::Time])
        .send_as()
        .await
        .unwrap();
    assert_eq!(t.time["data"], json!([0, 1]));
    // A body that does not fit the caller's type is a decode error naming the path.
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Wrong {
        id: String,
    }
    let err = c
        .get_activity(7u32)
        .include_all_efforts(true)
        .send_as::<Wrong>()
        .await
        .unwrap_err();
    assert!(err.is_decode(), "{err:?}");
    assert_eq!(err.operation(), Some("getActivityById"));
    for m in [p1, p2] {
        m.assert_async().await;
    }
    assert_eq!(one.calls_async().await, 2);
    streams.assert_async().await;
}
