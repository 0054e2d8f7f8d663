//! Uploads refused locally, before anything is sent (issue "Hardening", item 4): an empty
//! file (in memory or on disk), and a file whose name does not say which of Strava's data
//! types it is when no data type is given. Every test checks the server got no request.

mod support;

use std::path::PathBuf;

use httpmock::Method::POST;
use httpmock::MockServer;
use serde_json::json;
use stravalib::upload::{DataType, UploadError, UploadFile};
use stravalib::{ErrorKind, Id};

const TOKEN: &str = "upload-refusal-token-77aa";

/// A `POST /uploads` mock that would accept anything (so a request reaching it is visible
/// as a call, never as an error from the server).
async fn accepting_mock(server: &MockServer) -> httpmock::Mock<'_> {
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v3/uploads");
            then.status(201).json_body(json!({
                "id": 42,
                "id_str": "42",
                "status": "Your activity is still being processed.",
            }));
        })
        .await
}

/// The [`UploadError`] an API error was made from.
fn upload_error(err: &stravalib::Error) -> &UploadError {
    std::error::Error::source(err)
        .and_then(|s| s.downcast_ref::<UploadError>())
        .unwrap_or_else(|| panic!("expected an UploadError source, got {err:?}"))
}

#[tokio::test]
async fn empty_bytes_are_refused_locally_naming_the_file() {
    let server = MockServer::start_async().await;
    let create = accepting_mock(&server).await;
    let err = support::client(&server, TOKEN)
        .upload_activity(UploadFile::from_bytes("ride.gpx", vec![]), DataType::Gpx)
        .send()
        .await
        .expect_err("an empty file is refused");
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
    assert!(err.is_local(), "refused before sending: {err:?}");
    assert_eq!(err.status(), None);
    assert_eq!(err.operation(), Some("createUpload"));
    assert!(err.to_string().contains("ride.gpx"), "{err}");
    assert!(err.to_string().contains("empty"), "{err}");
    match upload_error(&err) {
        UploadError::File { path, source } => {
            assert_eq!(path, &PathBuf::from("ride.gpx"));
            assert_eq!(source.kind(), std::io::ErrorKind::InvalidData);
        }
        other => panic!("expected UploadError::File, got {other:?}"),
    }
    create.assert_calls_async(0).await;
}

#[tokio::test]
async fn an_empty_file_on_disk_is_refused_naming_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty-ride.gpx");
    std::fs::write(&path, b"").unwrap();
    let server = MockServer::start_async().await;
    let create = accepting_mock(&server).await;

    let err = UploadFile::from_path(&path)
        .await
        .expect_err("an empty file is refused when read");
    match &err {
        UploadError::File { path: p, source } => {
            assert_eq!(p, &path);
            assert_eq!(source.kind(), std::io::ErrorKind::InvalidData);
        }
        other => panic!("expected UploadError::File, got {other:?}"),
    }
    let shown = err.to_string();
    assert!(shown.contains(&path.display().to_string()), "{shown}");
    assert!(shown.contains("empty"), "{shown}");
    let as_error = stravalib::Error::from(err);
    assert!(as_error.is_invalid_input());

    // Read by other means and handed over as bytes, it is still refused at `send`.
    let bytes = std::fs::read(&path).unwrap();
    let err = support::client(&server, TOKEN)
        .upload(UploadFile::from_bytes("empty-ride.gpx", bytes))
        .send()
        .await
        .expect_err("refused");
    assert!(err.is_invalid_input() && err.is_local(), "{err:?}");
    assert!(err.to_string().contains("empty-ride.gpx"), "{err}");
    create.assert_calls_async(0).await;
}

#[tokio::test]
async fn the_data_type_is_inferred_from_the_file_name() {
    let server = MockServer::start_async().await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v3/uploads")
                .body_includes("name=\"data_type\"\r\n\r\ntcx.gz\r\n")
                .body_includes("filename=\"Evening.TCX.gz\"");
            then.status(201)
                .json_body(json!({"id": 43, "status": "processing"}));
        })
        .await;
    let file = UploadFile::from_bytes("Evening.TCX.gz", &b"\x1f\x8b-gzipped-tcx"[..]);
    assert_eq!(
        file.data_type().expect("a known extension"),
        DataType::TcxGz
    );
    let handle = support::client(&server, TOKEN)
        .upload(file)
        .name("Evening")
        .send()
        .await
        .expect("uploaded");
    assert_eq!(handle.id(), Id::from(43u32));
    create.assert_calls_async(1).await;
}

#[tokio::test]
async fn an_explicit_data_type_wins_over_the_file_name() {
    let server = MockServer::start_async().await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v3/uploads")
                .body_includes("name=\"data_type\"\r\n\r\nfit\r\n");
            then.status(201)
                .json_body(json!({"id": 44, "status": "processing"}));
        })
        .await;
    support::client(&server, TOKEN)
        .upload(UploadFile::from_bytes("export.bin", &b"FIT"[..]))
        .data_type(DataType::Fit)
        .send()
        .await
        .expect("uploaded with the given type");
    create.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_file_name_of_no_strava_data_type_is_refused_when_inferring() {
    let server = MockServer::start_async().await;
    let create = accepting_mock(&server).await;
    for name in ["notes.txt", "ride.kml", "ride.gz", "ride", "ride.fit.zip"] {
        let file = UploadFile::from_bytes(name, &b"content"[..]);
        assert_eq!(file.inferred_data_type(), None, "{name}");
        match file.data_type() {
            Err(UploadError::UnsupportedFileType { file_name }) => assert_eq!(file_name, name),
            other => panic!("{name}: expected UnsupportedFileType, got {other:?}"),
        }
        let err = support::client(&server, TOKEN)
            .upload(file)
            .send()
            .await
            .expect_err("refused");
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
        assert!(err.is_local(), "{err:?}");
        assert_eq!(err.status(), None);
        let shown = err.to_string();
        assert!(shown.contains(name), "{shown}");
        assert!(shown.contains(".gpx"), "names the accepted types: {shown}");
        assert!(
            matches!(upload_error(&err), UploadError::UnsupportedFileType { file_name } if file_name == name)
        );
    }
    create.assert_calls_async(0).await;
}

#[tokio::test]
async fn an_empty_file_with_an_unknown_extension_is_refused_as_empty_first() {
    let server = MockServer::start_async().await;
    let create = accepting_mock(&server).await;
    let err = support::client(&server, TOKEN)
        .upload(UploadFile::from_bytes("notes.txt", Vec::new()))
        .send()
        .await
        .expect_err("refused");
    assert!(
        matches!(upload_error(&err), UploadError::File { .. }),
        "{err:?}"
    );
    create.assert_calls_async(0).await;
}

/// A reader's length is unknown until it is read: an empty reader is sent (documented), and
/// the answer is Strava's.
#[tokio::test]
async fn an_empty_reader_cannot_be_checked_and_is_sent() {
    let server = MockServer::start_async().await;
    let create = accepting_mock(&server).await;
    support::client(&server, TOKEN)
        .upload(UploadFile::from_reader("stream.gpx", tokio::io::empty()))
        .send()
        .await
        .expect("sent; the mock accepts it");
    create.assert_calls_async(1).await;
}
