//! Compressed answers (features `gzip` and `brotli`, on by default): the client asks for
//! them, decodes them before decoding the JSON, and its response-size limit applies to the
//! decoded bytes, whatever `Content-Length` says about the compressed ones.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Response, header};
use axum::routing::get;
use stravalib::ErrorKind;
use stravalib_sandbox::Sandbox;

/// What the server saw: the `Accept-Encoding` of every request.
#[derive(Default)]
struct Seen {
    accept_encoding: Mutex<Vec<String>>,
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(body).expect("gzip");
    encoder.finish().expect("gzip")
}

fn brotli(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        writer.write_all(body).expect("brotli");
    }
    out
}

/// An activity whose description is `size` bytes: compresses to almost nothing.
fn activity(size: usize) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "id": 16_181_809_559u64,
        "name": "Morning Run",
        "sport_type": "Run",
        "start_date": "2024-05-02T06:12:33Z",
        "description": "a".repeat(size),
    }))
    .expect("serializable")
}

/// `body` encoded as `encoding` (`gzip`, `br` or `identity`), with the `Content-Length`
/// of the encoded bytes, as a server sends a precompressed file.
fn encoded(encoding: &str, body: &[u8]) -> Response<Body> {
    let bytes = match encoding {
        "gzip" => gzip(body),
        "br" => brotli(body),
        _ => body.to_vec(),
    };
    let mut response = Response::new(Body::from(bytes.clone()));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    if encoding != "identity" {
        headers.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_str(encoding).expect("a header value"),
        );
    }
    response
}

/// `/{encoding}/{size}/activities/{id}`: an activity with a `size`-byte description.
async fn serve(
    State(seen): State<Arc<Seen>>,
    Path((encoding, size, _id)): Path<(String, usize, u64)>,
    headers: HeaderMap,
) -> Response<Body> {
    let accept = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    seen.accept_encoding.lock().expect("lock").push(accept);
    encoded(&encoding, &activity(size))
}

async fn server() -> (SocketAddr, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let app = Router::new()
        .route("/{encoding}/{size}/activities/{id}", get(serve))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    (addr, seen)
}

fn client(addr: SocketAddr, encoding: &str, size: usize, limit: usize) -> stravalib::Client {
    stravalib::Client::builder()
        .base_url(format!("http://{addr}/{encoding}/{size}"))
        .access_token("compression-test")
        .max_response_size(limit)
        .build()
        .expect("a client")
}

#[tokio::test]
async fn asks_for_gzip_and_brotli_and_decodes_both() {
    let (addr, seen) = server().await;
    for encoding in ["gzip", "br", "identity"] {
        let activity = client(addr, encoding, 50_000, 1 << 20)
            .get_activity(16_181_809_559u64)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{encoding}: {e}"));
        assert_eq!(activity.name.as_deref(), Some("Morning Run"), "{encoding}");
        assert_eq!(
            activity.description.as_deref().map(str::len),
            Some(50_000),
            "{encoding}"
        );
    }
    for accept in seen.accept_encoding.lock().expect("lock").iter() {
        assert!(accept.contains("gzip"), "Accept-Encoding: {accept}");
        assert!(accept.contains("br"), "Accept-Encoding: {accept}");
    }
}

/// A body that is small on the wire but larger than the limit once decoded is refused;
/// `Content-Length` (the compressed size, far below the decoded one) neither refuses a
/// body that fits nor cuts one short.
#[tokio::test]
async fn the_size_limit_applies_to_the_decoded_body() {
    let (addr, _) = server().await;
    let decoded = activity(3_000_000).len();
    for encoding in ["gzip", "br"] {
        let on_the_wire = encoded(encoding, &activity(3_000_000))
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
            .expect("a length");
        assert!(on_the_wire < 100_000, "{encoding}: {on_the_wire} bytes");

        // Limit between the compressed and the decoded size: refused.
        let err = client(addr, encoding, 3_000_000, 1_000_000)
            .get_activity(1u64)
            .send()
            .await
            .expect_err("larger than the limit once decoded");
        assert_eq!(err.kind(), ErrorKind::ResponseTooLarge, "{encoding}: {err}");

        // Limit just above the decoded size: read whole.
        let activity = client(addr, encoding, 3_000_000, decoded + 1)
            .get_activity(1u64)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{encoding}: {e}"));
        assert_eq!(
            activity.description.as_deref().map(str::len),
            Some(3_000_000),
            "{encoding}"
        );
    }
}

/// The sandbox compresses when asked, and the client reads the same answers from it.
#[tokio::test]
async fn a_compressing_sandbox_gives_the_same_answers() {
    let start = chrono::DateTime::parse_from_rfc3339("2025-06-01T08:00:00Z")
        .expect("a date")
        .with_timezone(&chrono::Utc);
    let mut answers = Vec::new();
    for compression in [false, true] {
        let sandbox = Sandbox::builder()
            .seed(7)
            .start_time(start)
            .frozen_clock(true)
            .compression(compression)
            .start()
            .await
            .expect("a sandbox");
        let client = sandbox.client();
        let list = client
            .get_activities()
            .per_page(30)
            .send()
            .await
            .expect("a page");
        let id = list[0].id.expect("an id");
        let detail = client.get_activity(id).send().await.expect("an activity");
        // As JSON values (ordered maps): the models' maps (photo urls) are hash maps.
        answers.push(serde_json::to_value((list, detail)).expect("serializable"));
    }
    assert_eq!(answers[0], answers[1]);
}
