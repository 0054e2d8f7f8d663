//! Uploads: the multipart request, the handle's polling until ready, and every way an
//! upload ends badly (duplicate, processing error, deletion, timeout), on a paused clock.

mod support;

use std::time::Duration;

use httpmock::Method::{GET, POST};
use httpmock::MockServer;
use serde_json::{Value, json};
use stravalib::rate_limit::RateLimitPolicy;
use stravalib::upload::{DataType, UploadError, UploadFile, UploadStatus};
use stravalib::{Client, ErrorKind, Id};

const TOKEN: &str = "upload-test-token-4b1d";
const UPLOAD_ID: u64 = 5_550_001;
const ACTIVITY_ID: u64 = 7_770_042;

const PROCESSING: &str = "Your activity is still being processed.";
const READY: &str = "Your activity is ready.";
const FAILED: &str = "There was an error processing your activity.";
const DELETED: &str = "The created activity has been deleted.";

/// A client for paused-clock tests: no request timeout and no idle-connection timers
/// (both would fire while a request is in flight once the clock auto-advances).
fn paused_client(server: &MockServer) -> Client {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("HTTP client");
    Client::builder()
        .http_client(http)
        .base_url(server.url("/api/v3"))
        .access_token(TOKEN)
        .rate_limit(RateLimitPolicy::None)
        .build()
        .expect("client")
}

fn upload_body(status: &str, error: Option<&str>, activity_id: Option<u64>) -> Value {
    json!({
        "id": UPLOAD_ID,
        "id_str": UPLOAD_ID.to_string(),
        "external_id": "morning.fit",
        "error": error,
        "status": status,
        "activity_id": activity_id,
    })
}

async fn mock_create<'a>(server: &'a MockServer, body: Value) -> httpmock::Mock<'a> {
    server
        .mock_async(move |when, then| {
            when.method(POST).path("/api/v3/uploads");
            then.status(201).json_body(body);
        })
        .await
}

/// Answers `GET /uploads/{id}` with `body`, `times` times (then the next mock answers).
async fn mock_poll<'a>(
    server: &'a MockServer,
    body: Value,
    times: Option<usize>,
) -> httpmock::Mock<'a> {
    server
        .mock_async(move |when, then| {
            when.method(GET)
                .path(format!("/api/v3/uploads/{UPLOAD_ID}"))
                .header("authorization", format!("Bearer {TOKEN}"));
            let then = then.status(200).json_body(body);
            if let Some(n) = times {
                then.up_to_n_times(n);
            }
        })
        .await
}

fn file() -> UploadFile {
    UploadFile::from_bytes("morning.fit", b"FIT-bytes-\x00\x01\x02-end".to_vec())
}

#[tokio::test]
async fn multipart_request_carries_every_field_and_the_file() {
    let server = MockServer::start_async().await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v3/uploads")
                .header("authorization", format!("Bearer {TOKEN}"))
                .header_includes("content-type", "multipart/form-data; boundary=")
                .body_includes("name=\"data_type\"\r\n\r\nfit.gz\r\n")
                .body_includes("name=\"name\"\r\n\r\nEvening ride\r\n")
                .body_includes("name=\"description\"\r\n\r\nSunset loop\r\n")
                .body_includes("name=\"trainer\"\r\n\r\n1\r\n")
                .body_includes("name=\"commute\"\r\n\r\n0\r\n")
                .body_includes("name=\"external_id\"\r\n\r\nride-2026-01-01\r\n")
                .body_includes("name=\"file\"; filename=\"evening.fit.gz\"")
                .body_includes("gzipped-fit-content-0123");
            then.status(201)
                .json_body(upload_body(PROCESSING, None, None));
        })
        .await;
    let client = support::client(&server, TOKEN);
    let file = UploadFile::from_bytes("evening.fit.gz", &b"gzipped-fit-content-0123"[..]);
    assert_eq!(file.inferred_data_type(), Some(DataType::FitGz));
    let handle = client
        .upload_activity(file, DataType::FitGz)
        .name("Evening ride")
        .description("Sunset loop")
        .trainer(true)
        .commute(false)
        .external_id("ride-2026-01-01")
        .send()
        .await
        .expect("upload accepted");
    create.assert_calls_async(1).await;
    assert_eq!(handle.id(), Id::from(UPLOAD_ID));
    assert_eq!(handle.upload().status.as_deref(), Some(PROCESSING));
    assert!(matches!(handle.status(), UploadStatus::Processing { .. }));
}

#[tokio::test]
async fn optional_fields_are_left_out_and_the_data_type_is_open() {
    let server = MockServer::start_async().await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v3/uploads")
                .body_includes("name=\"data_type\"\r\n\r\nkml\r\n")
                .body_excludes("name=\"name\"")
                .body_excludes("name=\"trainer\"")
                .body_excludes("name=\"commute\"")
                .body_excludes("name=\"external_id\"");
            then.status(201)
                .json_body(upload_body(PROCESSING, None, None));
        })
        .await;
    support::client(&server, TOKEN)
        .upload_activity(file(), DataType::from("kml"))
        .send()
        .await
        .expect("upload accepted");
    create.assert_calls_async(1).await;
}

#[test]
fn data_type_from_file_names() {
    for (name, expected) in [
        ("a.fit", Some(DataType::Fit)),
        ("a.FIT.GZ", Some(DataType::FitGz)),
        ("dir.gpx/a.tcx", Some(DataType::Tcx)),
        ("a.tcx.gz", Some(DataType::TcxGz)),
        ("a.gpx", Some(DataType::Gpx)),
        ("a.gpx.gz", Some(DataType::GpxGz)),
        ("a.gz", None),
        ("fit", None),
    ] {
        assert_eq!(DataType::from_file_name(name), expected, "{name}");
    }
    assert_eq!(DataType::TcxGz.as_str(), "tcx.gz");
}

#[tokio::test(start_paused = true)]
async fn processing_then_ready_returns_the_activity_id() {
    let server = MockServer::start_async().await;
    mock_create(&server, upload_body(PROCESSING, None, None)).await;
    let processing = mock_poll(&server, upload_body(PROCESSING, None, None), Some(2)).await;
    let ready = mock_poll(&server, upload_body(READY, None, Some(ACTIVITY_ID)), None).await;
    let activity = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("/api/v3/activities/{ACTIVITY_ID}"));
            then.status(200)
                .json_body(json!({"id": ACTIVITY_ID, "name": "Morning run", "resource_state": 3}));
        })
        .await;

    let client = paused_client(&server);
    let mut handle = client
        .upload_activity(file(), DataType::Fit)
        .send()
        .await
        .expect("upload accepted");
    let started = tokio::time::Instant::now();
    let id = handle
        .wait(Duration::from_secs(60), Duration::from_secs(2))
        .await
        .expect("ready");
    assert_eq!(id, Id::from(ACTIVITY_ID));
    // Three polls, two seconds apart.
    assert_eq!(started.elapsed(), Duration::from_secs(6));
    processing.assert_calls_async(2).await;
    ready.assert_calls_async(1).await;
    assert_eq!(
        handle.status(),
        UploadStatus::Ready {
            activity_id: Id::from(ACTIVITY_ID)
        }
    );

    // Waiting again on a ready upload sends nothing more; the activity is fetched once.
    let detailed = handle
        .wait_for_activity(Duration::from_secs(60), Duration::from_secs(2))
        .await
        .expect("the activity");
    assert_eq!(detailed.name.as_deref(), Some("Morning run"));
    ready.assert_calls_async(1).await;
    activity.assert_calls_async(1).await;
}

#[tokio::test(start_paused = true)]
async fn poll_reports_each_state_once() {
    let server = MockServer::start_async().await;
    mock_create(&server, upload_body(PROCESSING, None, None)).await;
    mock_poll(&server, upload_body(PROCESSING, None, None), Some(1)).await;
    mock_poll(&server, upload_body(READY, None, Some(ACTIVITY_ID)), None).await;
    let client = paused_client(&server);
    let mut handle = client
        .upload_activity(file(), DataType::Fit)
        .send()
        .await
        .unwrap();
    let first = handle.poll().await.unwrap();
    assert_eq!(
        first,
        UploadStatus::Processing {
            status: PROCESSING.to_owned()
        }
    );
    assert!(!first.is_finished());
    let second = handle.poll().await.unwrap();
    assert!(second.is_finished());
    assert_eq!(second.activity_id(), Some(Id::from(ACTIVITY_ID)));

    // The same upload, picked up again by id.
    let resumed = client.resume_upload(UPLOAD_ID).await.unwrap();
    assert_eq!(resumed.id(), Id::from(UPLOAD_ID));
    assert_eq!(resumed.status().activity_id(), Some(Id::from(ACTIVITY_ID)));
}

#[tokio::test(start_paused = true)]
async fn duplicate_names_the_existing_activity() {
    let server = MockServer::start_async().await;
    mock_create(&server, upload_body(PROCESSING, None, None)).await;
    let message = "morning.fit duplicate of activity 9988776655";
    mock_poll(&server, upload_body(FAILED, Some(message), None), None).await;
    let mut handle = paused_client(&server)
        .upload_activity(file(), DataType::Fit)
        .send()
        .await
        .unwrap();
    let err = handle
        .wait(Duration::from_secs(30), Duration::from_secs(1))
        .await
        .expect_err("a duplicate");
    match &err {
        UploadError::Duplicate {
            existing_activity_id,
            message: text,
        } => {
            assert_eq!(*existing_activity_id, Some(Id::from(9_988_776_655u64)));
            assert_eq!(text, message);
        }
        other => panic!("expected a duplicate, got {other:?}"),
    }
    assert_eq!(err.existing_activity_id(), Some(Id::from(9_988_776_655u64)));
    assert!(err.to_string().contains("activity 9988776655"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn duplicate_as_an_html_link_and_in_the_first_answer() {
    let server = MockServer::start_async().await;
    let message =
        "morning.fit duplicate of <a href='/activities/31415926' target='_blank'>Lunch Ride</a>";
    mock_create(&server, upload_body(FAILED, Some(message), None)).await;
    let polls = mock_poll(&server, upload_body(PROCESSING, None, None), None).await;
    let mut handle = paused_client(&server)
        .upload_activity(file(), DataType::Fit)
        .send()
        .await
        .unwrap();
    let err = handle
        .wait(Duration::from_secs(30), Duration::from_secs(1))
        .await
        .expect_err("a duplicate");
    assert_eq!(err.existing_activity_id(), Some(Id::from(31_415_926u32)));
    // The state Strava already gave is used without asking again.
    polls.assert_calls_async(0).await;
}

#[tokio::test(start_paused = true)]
async fn processing_error_keeps_stravas_message() {
    let server = MockServer::start_async().await;
    mock_create(&server, upload_body(PROCESSING, None, None)).await;
    mock_poll(&server, upload_body(PROCESSING, None, None), Some(1)).await;
    mock_poll(
        &server,
        upload_body(FAILED, Some("Improperly formatted data."), None),
        None,
    )
    .await;
    let mut handle = paused_client(&server)
        .upload_activity(file(), DataType::Fit)
        .send()
        .await
        .unwrap();
    let err = handle
        .wait(Duration::from_secs(30), Duration::from_secs(1))
        .await
        .expect_err("a processing error");
    assert!(
        matches!(&err, UploadError::Processing { message } if message == "Improperly formatted data."),
        "{err:?}"
    );
    assert_eq!(err.existing_activity_id(), None);
}

#[tokio::test(start_paused = true)]
async fn deleted_activity() {
    let server = MockServer::start_async().await;
    mock_create(&server, upload_body(PROCESSING, None, None)).await;
    mock_poll(&server, upload_body(DELETED, None, None), None).await;
    let mut handle = paused_client(&server)
        .upload_activity(file(), DataType::Fit)
        .send()
        .await
        .unwrap();
    let err = handle
        .wait(Duration::from_secs(30), Duration::from_secs(1))
        .await
        .expect_err("deleted");
    assert!(matches!(err, UploadError::ActivityDeleted), "{err:?}");
    assert_eq!(handle.status(), UploadStatus::Deleted);
}

#[tokio::test(start_paused = true)]
async fn timeout_bounds_the_number_of_polls() {
    let server = MockServer::start_async().await;
    mock_create(&server, upload_body(PROCESSING, None, None)).await;
    let polls = mock_poll(&server, upload_body(PROCESSING, None, None), None).await;
    let mut handle = paused_client(&server)
        .upload_activity(file(), DataType::Fit)
        .send()
        .await
        .unwrap();
    let (timeout, interval) = (Duration::from_secs(10), Duration::from_secs(2));
    let started = tokio::time::Instant::now();
    let err = handle.wait(timeout, interval).await.expect_err("timed out");
    match &err {
        UploadError::TimedOut {
            waited,
            last_status,
        } => {
            assert_eq!(*waited, timeout);
            assert_eq!(last_status, PROCESSING);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(started.elapsed(), timeout);
    let calls = polls.calls_async().await;
    let bound = (timeout.as_secs() / interval.as_secs() + 1) as usize;
    assert!(calls <= bound, "{calls} polls, at most {bound} allowed");
    assert_eq!(calls, 5, "one poll every 2 s, the last at the timeout");

    // A timeout that is not a multiple of the interval: the last poll is at the timeout.
    let polls_before = polls.calls_async().await;
    let err = handle
        .wait(Duration::from_secs(5), Duration::from_secs(2))
        .await
        .expect_err("timed out again");
    assert!(matches!(err, UploadError::TimedOut { .. }));
    assert_eq!(polls.calls_async().await - polls_before, 3);

    // An interval below one second is raised to one second.
    let polls_before = polls.calls_async().await;
    handle
        .wait(Duration::from_secs(3), Duration::ZERO)
        .await
        .expect_err("timed out again");
    assert_eq!(polls.calls_async().await - polls_before, 3);

    // Converted into the crate's error, a timeout keeps its kind and its details.
    let as_error = stravalib::Error::from(err);
    assert_eq!(as_error.kind(), ErrorKind::Timeout);
    let source = std::error::Error::source(&as_error).expect("the upload error");
    assert!(source.downcast_ref::<UploadError>().is_some());
}

#[tokio::test(start_paused = true)]
async fn a_failed_poll_is_an_api_error() {
    let server = MockServer::start_async().await;
    mock_create(&server, upload_body(PROCESSING, None, None)).await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("/api/v3/uploads/{UPLOAD_ID}"));
            then.status(404).json_body(json!({
                "message": "Record Not Found",
                "errors": [{"resource": "Upload", "field": "id", "code": "invalid"}]
            }));
        })
        .await;
    let mut handle = paused_client(&server)
        .upload_activity(file(), DataType::Fit)
        .send()
        .await
        .unwrap();
    let err = handle
        .wait(Duration::from_secs(30), Duration::from_secs(1))
        .await
        .expect_err("not found");
    let UploadError::Api(api) = err else {
        panic!("expected an API error, got {err:?}");
    };
    assert!(api.is_not_found());
    assert_eq!(api.operation(), Some("getUploadById"));
    // And back: an `Api` upload error is the API error itself.
    let back = stravalib::Error::from(UploadError::Api(api));
    assert!(back.is_not_found());
}

#[tokio::test]
async fn upload_rejected_by_strava_is_an_error_of_the_operation() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v3/uploads");
            then.status(400).json_body(json!({
                "message": "Bad Request",
                "errors": [{"resource": "Upload", "field": "data", "code": "empty"}]
            }));
        })
        .await;
    let err = support::client(&server, TOKEN)
        .upload_activity(
            // Not empty: an empty file is refused before sending (tests/upload_refusals.rs).
            UploadFile::from_bytes("empty.gpx", b"<gpx/>".to_vec()),
            DataType::Gpx,
        )
        .send()
        .await
        .expect_err("rejected");
    assert_eq!(err.kind(), ErrorKind::ClientFault);
    assert_eq!(err.operation(), Some("createUpload"));
    assert_eq!(err.errors()[0].code.as_deref(), Some("empty"));
}

#[tokio::test]
async fn from_path_reads_the_file_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long-run.GPX");
    tokio::fs::write(&path, b"<gpx>track-points-xyz</gpx>")
        .await
        .unwrap();
    let file = UploadFile::from_path(&path).await.expect("readable");
    assert_eq!(file.file_name(), "long-run.GPX");
    assert_eq!(file.inferred_data_type(), Some(DataType::Gpx));

    let server = MockServer::start_async().await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v3/uploads")
                .body_includes("filename=\"long-run.GPX\"")
                .body_includes("<gpx>track-points-xyz</gpx>")
                .body_includes("name=\"data_type\"\r\n\r\ngpx\r\n");
            then.status(201)
                .json_body(upload_body(PROCESSING, None, None));
        })
        .await;
    support::client(&server, TOKEN)
        .upload_activity(file, DataType::Gpx)
        .send()
        .await
        .expect("uploaded");
    create.assert_calls_async(1).await;
}

#[tokio::test]
async fn from_path_missing_file_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-ride.fit");
    let err = UploadFile::from_path(&path).await.expect_err("missing");
    match &err {
        UploadError::File { path: p, source } => {
            assert_eq!(p, &path);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected a file error, got {other:?}"),
    }
    assert!(err.to_string().contains("no-such-ride.fit"), "{err}");
    let as_error = stravalib::Error::from(err);
    assert!(as_error.is_invalid_input());
    assert!(as_error.to_string().contains("no-such-ride.fit"));
}

#[tokio::test]
async fn streamed_reader_upload_is_sent_in_full() {
    let server = MockServer::start_async().await;
    // Larger than one read chunk, so the body arrives in several pieces.
    let mut content = b"STREAM-START-".to_vec();
    content.extend(std::iter::repeat_n(b'x', 200 * 1024));
    content.extend_from_slice(b"-STREAM-END");
    let create = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v3/uploads")
                .body_includes("filename=\"streamed.tcx\"")
                .body_includes("STREAM-START-xxxx")
                .body_includes("xxxx-STREAM-END\r\n")
                .body_includes("name=\"data_type\"\r\n\r\ntcx\r\n");
            then.status(201)
                .json_body(upload_body(PROCESSING, None, None));
        })
        .await;
    let reader = std::io::Cursor::new(content);
    let handle = support::client(&server, TOKEN)
        .upload_activity(
            UploadFile::from_reader("streamed.tcx", reader),
            DataType::Tcx,
        )
        .send()
        .await
        .expect("uploaded");
    assert_eq!(handle.id(), Id::from(UPLOAD_ID));
    create.assert_calls_async(1).await;
}

#[tokio::test]
async fn streamed_upload_is_not_retried_on_503() {
    let server = MockServer::start_async().await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v3/uploads");
            then.status(503).body("<html>Service Unavailable</html>");
        })
        .await;
    let reader = std::io::Cursor::new(b"tcx-content".to_vec());
    let err = support::client(&server, TOKEN)
        .upload_activity(
            UploadFile::from_reader("streamed.tcx", reader),
            DataType::Tcx,
        )
        .send()
        .await
        .expect_err("503");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(err.operation(), Some("createUpload"));
    create.assert_calls_async(1).await;
}

#[tokio::test]
async fn reader_error_fails_the_upload() {
    struct Broken;
    impl tokio::io::AsyncRead for Broken {
        fn poll_read(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            _: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Err(std::io::Error::other("disk gone")))
        }
    }
    let server = MockServer::start_async().await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v3/uploads");
            then.status(201)
                .json_body(upload_body(PROCESSING, None, None));
        })
        .await;
    let err = support::client(&server, TOKEN)
        .upload_activity(UploadFile::from_reader("broken.fit", Broken), DataType::Fit)
        .send()
        .await
        .expect_err("the body could not be read");
    assert_eq!(err.operation(), Some("createUpload"));
    assert_eq!(create.calls_async().await, 0);
}

/// A multipart body is a stream, sent once: a 429 or 503 on an upload is returned as the
/// error, never answered by re-sending an empty request.
#[tokio::test]
async fn an_upload_answered_429_is_the_rate_limited_error() {
    let server = httpmock::MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(httpmock::Method::POST).path("/api/v3/uploads");
            then.status(429)
                .header("x-ratelimit-limit", "200,2000")
                .header("x-ratelimit-usage", "201,900")
                .json_body(serde_json::json!({"message": "Rate Limit Exceeded", "errors": []}));
        })
        .await;
    let client = stravalib::Client::builder()
        .base_url(server.url("/api/v3"))
        .access_token("upload-token")
        .build()
        .unwrap();
    let err = client
        .upload_activity(
            stravalib::upload::UploadFile::from_bytes("ride.gpx", b"<gpx/>".to_vec()),
            stravalib::upload::DataType::Gpx,
        )
        .send()
        .await
        .expect_err("429");
    assert!(err.is_rate_limited(), "{err:?}");
    assert_eq!(mock.calls_async().await, 1);
}
