//! A local stand-in for Strava: an axum server on 127.0.0.1 (random port) handing out the
//! precomputed answers with Strava's headers.
//!
//! The first path segment is the list's length, so one server can end the athlete's
//! activity list after 2,000 (`/n2000/...`) or 20,000 (`/n20000/...`) activities. Every
//! answer is counted, so the benchmark can check both clients send the same requests.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use axum::routing::get;
use bytes::Bytes;

use super::payloads::{PAGES, PER_PAGE, Payloads};

/// The running server.
pub struct Server {
    pub addr: SocketAddr,
    requests: Arc<AtomicUsize>,
}

impl Server {
    /// `http://127.0.0.1:port/n{total}`: a base URL whose activity list has `total` items.
    pub fn base_url(&self, total: usize) -> String {
        format!("http://{}/n{total}", self.addr)
    }

    /// Requests answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

struct AppState {
    payloads: Payloads,
    /// The same answers compressed once, up front (as a server sends precompressed
    /// files), for requests that accept them; `None`: every answer as it is.
    compressed: Option<Compressed>,
    requests: Arc<AtomicUsize>,
}

/// The answers gzip- and brotli-compressed, by their uncompressed bytes' address.
struct Compressed {
    gzip: HashMap<usize, Bytes>,
    brotli: HashMap<usize, Bytes>,
}

impl Compressed {
    fn new(payloads: &Payloads) -> Self {
        use std::io::Write;
        let bodies = payloads.pages.iter().chain([
            &payloads.empty_page,
            &payloads.activity,
            &payloads.streams,
        ]);
        let (mut gzip, mut brotli) = (HashMap::new(), HashMap::new());
        for body in bodies {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(body).expect("gzip");
            gzip.insert(
                body.as_ptr() as usize,
                Bytes::from(encoder.finish().expect("gzip")),
            );
            let mut out = Vec::new();
            {
                // Quality 5 of 11: what servers use for answers made on the fly.
                let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                writer.write_all(body).expect("brotli");
            }
            brotli.insert(body.as_ptr() as usize, Bytes::from(out));
        }
        Self { gzip, brotli }
    }
}

/// Bytes on the wire of `body` as sent identity, gzip and brotli.
pub fn wire_sizes(body: &Bytes) -> (usize, usize, usize) {
    let payloads = Payloads {
        pages: vec![body.clone()],
        empty_page: Bytes::from_static(b"[]"),
        activity: Bytes::new(),
        streams: Bytes::new(),
    };
    let c = Compressed::new(&payloads);
    let key = body.as_ptr() as usize;
    (body.len(), c.gzip[&key].len(), c.brotli[&key].len())
}

/// Starts the server on the current tokio runtime.
pub async fn start(payloads: Payloads) -> Server {
    start_with(payloads, false).await
}

/// Starts a server that answers gzip or brotli when the request accepts it (brotli first).
pub async fn start_compressed(payloads: Payloads) -> Server {
    start_with(payloads, true).await
}

async fn start_with(payloads: Payloads, compress: bool) -> Server {
    let requests = Arc::new(AtomicUsize::new(0));
    let compressed = compress.then(|| Compressed::new(&payloads));
    let state = Arc::new(AppState {
        payloads,
        compressed,
        requests: requests.clone(),
    });
    let app = Router::new()
        .route("/{scope}/athlete/activities", get(list))
        .route("/{scope}/activities/{id}", get(activity))
        .route("/{scope}/activities/{id}/streams", get(streams))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    Server { addr, requests }
}

/// A `200 OK` JSON answer with Strava's rate-limit headers (usage far below the limits,
/// so no limiter ever waits), compressed if the server compresses and the request accepts.
fn json(state: &AppState, accept: &HeaderMap, body: Bytes) -> Response<Body> {
    state.requests.fetch_add(1, Ordering::Relaxed);
    let accepts = |coding: &str| {
        accept
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|c| c.trim().starts_with(coding)))
    };
    let key = body.as_ptr() as usize;
    let (body, encoding) = match &state.compressed {
        Some(c) if accepts("br") => (c.brotli[&key].clone(), Some("br")),
        Some(c) if accepts("gzip") => (c.gzip[&key].clone(), Some("gzip")),
        _ => (body, None),
    };
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    for (name, value) in [
        (
            header::CONTENT_TYPE.as_str(),
            "application/json; charset=utf-8",
        ),
        ("x-ratelimit-limit", "200,2000"),
        ("x-ratelimit-usage", "14,312"),
        ("x-readratelimit-limit", "100,1000"),
        ("x-readratelimit-usage", "9,171"),
    ] {
        headers.insert(
            header::HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}

fn bad_request(message: String) -> Response<Body> {
    let mut response = Response::new(Body::from(format!(
        r#"{{"message":"Bad Request","errors":[{{"resource":"Bench","field":"query","code":"{message}"}}]}}"#
    )));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response
}

async fn list(
    State(state): State<Arc<AppState>>,
    accept: HeaderMap,
    Path(scope): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response<Body> {
    let number = |key: &str, default: usize| {
        query
            .get(key)
            .map_or(Some(default), |v| v.parse::<usize>().ok())
    };
    let total = scope
        .strip_prefix('n')
        .and_then(|n| n.parse::<usize>().ok());
    let (Some(total), Some(page), Some(per_page)) =
        (total, number("page", 1), number("per_page", 30))
    else {
        return bad_request(format!("cannot read {scope:?} {query:?}"));
    };
    if per_page != PER_PAGE || total % PER_PAGE != 0 || page == 0 {
        return bad_request(format!("only full pages of {PER_PAGE} are served"));
    }
    let body = if page * PER_PAGE <= total {
        state.payloads.pages[(page - 1) % PAGES].clone()
    } else {
        state.payloads.empty_page.clone()
    };
    json(&state, &accept, body)
}

async fn activity(State(state): State<Arc<AppState>>, accept: HeaderMap) -> Response<Body> {
    json(&state, &accept, state.payloads.activity.clone())
}

async fn streams(State(state): State<Arc<AppState>>, accept: HeaderMap) -> Response<Body> {
    json(&state, &accept, state.payloads.streams.clone())
}
