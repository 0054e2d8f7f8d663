//! A hostile-server matrix: scripted raw HTTP over a tokio `TcpListener` on 127.0.0.1.
//! Each case is what a broken proxy or a misbehaving server may send; each must end in a
//! typed error (or a correct value), never a panic or a hang, and idempotent requests are
//! retried exactly when the error says it is retryable.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use stravalib::rate_limit::RateLimitPolicy;
use stravalib::{Client, RetryPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves every connection with `answer` (raw bytes, then close) and counts connections.
async fn serve(answer: Vec<u8>) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        // Bounded: a test makes at most a handful of connections.
        for _ in 0..32 {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            seen.fetch_add(1, Ordering::SeqCst);
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut head = vec![0u8; 16 * 1024];
                let _ = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut head)).await;
                let _ = socket.write_all(&answer).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (port, count)
}

fn client(port: u16, attempts: u32) -> Client {
    Client::builder()
        .base_url(format!("http://127.0.0.1:{port}/api/v3"))
        .access_token("hostile-test-token-0123456789")
        .rate_limit(RateLimitPolicy::None)
        .timeout(Duration::from_secs(2))
        .retry(
            RetryPolicy::default()
                .max_attempts(attempts)
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(2)),
        )
        .max_response_size(1024 * 1024)
        .build()
        .unwrap()
}

fn http(status_line: &str, headers: &[&str], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{status_line}\r\n").into_bytes();
    for h in headers {
        out.extend_from_slice(format!("{h}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// Runs `GET /athlete` against `answer` with 3 attempts; returns the error and how many
/// connections the server saw.
async fn athlete_error(answer: Vec<u8>) -> (stravalib::Error, usize) {
    let (port, count) = serve(answer).await;
    let err = client(port, 3)
        .get_athlete()
        .await
        .expect_err("a hostile answer");
    (err, count.load(Ordering::SeqCst))
}

fn assert_names_host(err: &stravalib::Error) {
    assert!(err.to_string().contains("127.0.0.1:"), "{err}");
    assert!(
        !format!("{err:?}").contains("hostile-test-token"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_reset_mid_headers_is_a_retried_transport_error() {
    let (err, connections) = athlete_error(b"HTTP/1.1 200 OK\r\nContent-Ty".to_vec()).await;
    assert!(err.is_retryable(), "{err:?}");
    assert!(err.status().is_none());
    assert_names_host(&err);
    assert_eq!(connections, 3, "retried as is_retryable says");
}

#[tokio::test]
async fn a_malformed_status_line_is_a_retried_transport_error() {
    let (err, connections) = athlete_error(b"HTTP/1.1 abc nonsense\r\n\r\n".to_vec()).await;
    assert!(err.is_retryable(), "{err:?}");
    assert_names_host(&err);
    assert_eq!(connections, 3);
}

#[tokio::test]
async fn an_oversized_header_is_a_transport_error_naming_the_host() {
    let huge = format!("X-Junk: {}", "a".repeat(512 * 1024));
    let (err, _) = athlete_error(http("HTTP/1.1 200 OK", &[&huge], b"{}")).await;
    assert!(err.status().is_none(), "{err:?}");
    assert_names_host(&err);
    let chain = std::error::Error::source(&err).map(|s| s.to_string());
    assert!(chain.is_some(), "keeps the cause");
}

#[tokio::test]
async fn an_html_502_page_is_retried_then_excerpted() {
    let page = b"<html><body><h1>502 Bad Gateway</h1></body></html>";
    let (err, connections) = athlete_error(http(
        "HTTP/1.1 502 Bad Gateway",
        &[
            "Content-Type: text/html",
            &format!("Content-Length: {}", page.len()),
        ],
        page,
    ))
    .await;
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert!(err.is_server_error());
    assert!(err.body_excerpt().unwrap().contains("Bad Gateway"));
    assert_eq!(connections, 3);
}

#[tokio::test]
async fn a_truncated_json_body_is_a_transport_or_decode_error() {
    let body = br#"{"id": 12, "firstname": "Ad"#;
    let (err, _) = athlete_error(http(
        "HTTP/1.1 200 OK",
        &["Content-Type: application/json", "Content-Length: 200"],
        body,
    ))
    .await;
    assert!(
        err.is_decode() || err.kind() == stravalib::ErrorKind::Transport,
        "{err:?}"
    );
    assert_names_host(&err);
}

#[tokio::test]
async fn a_complete_but_cut_json_body_is_a_decode_error_with_an_excerpt() {
    let body = br#"{"id": 12, "firstname": "Ad"#;
    let (err, connections) = athlete_error(http(
        "HTTP/1.1 200 OK",
        &[
            "Content-Type: application/json",
            &format!("Content-Length: {}", body.len()),
        ],
        body,
    ))
    .await;
    assert!(err.is_decode(), "{err:?}");
    assert!(err.body_excerpt().unwrap().contains("firstname"));
    assert_eq!(connections, 1, "a decode error is not retried");
}

#[tokio::test]
async fn deeply_nested_json_is_a_decode_error_not_a_stack_overflow() {
    let body = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let (err, _) = athlete_error(http(
        "HTTP/1.1 200 OK",
        &[
            "Content-Type: application/json",
            &format!("Content-Length: {}", body.len()),
        ],
        body.as_bytes(),
    ))
    .await;
    assert!(err.is_decode(), "{err:?}");
}

#[tokio::test]
async fn a_body_beyond_the_limit_without_a_length_is_refused_while_reading() {
    // Chunked, no Content-Length: the limit is enforced as the body arrives.
    let chunk = "x".repeat(64 * 1024);
    let mut body = Vec::new();
    for _ in 0..40 {
        body.extend_from_slice(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes());
    }
    body.extend_from_slice(b"0\r\n\r\n");
    let (err, _) = athlete_error(http(
        "HTTP/1.1 200 OK",
        &[
            "Content-Type: application/json",
            "Transfer-Encoding: chunked",
        ],
        &body,
    ))
    .await;
    assert!(err.is_response_too_large(), "{err:?}");
}

#[tokio::test]
async fn garbage_rate_limit_headers_are_ignored() {
    let body = br#"{"id": 5}"#;
    let (port, _) = serve(http(
        "HTTP/1.1 200 OK",
        &[
            "Content-Type: application/json",
            &format!("Content-Length: {}", body.len()),
            "X-RateLimit-Limit: banana",
            "X-RateLimit-Usage: -1,99999999999999999999",
        ],
        body,
    ))
    .await;
    let client = client(port, 1);
    let athlete = client.get_athlete().await.expect("a normal answer");
    assert_eq!(athlete.id.unwrap().to_string(), "5");
    assert!(client.rate_limit().is_none());
}

#[tokio::test]
async fn a_silent_server_is_a_retried_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        for _ in 0..4 {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            seen.fetch_add(1, Ordering::SeqCst);
            held.push(socket); // never answers
        }
    });
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}/api/v3"))
        .access_token("hostile-test-token-0123456789")
        .rate_limit(RateLimitPolicy::None)
        .timeout(Duration::from_millis(300))
        .retry(
            RetryPolicy::default()
                .max_attempts(2)
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(2)),
        )
        .build()
        .unwrap();
    let err = client.get_athlete().await.expect_err("silence");
    assert!(err.is_timeout(), "{err:?}");
    assert_names_host(&err);
    assert_eq!(count.load(Ordering::SeqCst), 2);
}
