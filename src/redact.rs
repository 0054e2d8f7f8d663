//! Secrets out of error text: every echo of a token, client secret or code that a server
//! put in an error body is replaced before the body becomes part of an [`Error`]
//! (message, excerpt, `Debug`).
//!
//! [`Error`]: crate::Error

use bytes::Bytes;

/// What an echoed secret is replaced with.
pub(crate) const REDACTED: &str = "[redacted]";

/// `body` with every occurrence of each non-empty secret (as is, and form-encoded)
/// replaced by [`REDACTED`].
pub(crate) fn scrub(body: Bytes, secrets: &[&str]) -> Bytes {
    let mut needles: Vec<String> = Vec::new();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        needles.push((*secret).to_owned());
        let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        if encoded != *secret {
            needles.push(encoded);
        }
    }
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    if !needles.iter().any(|n| contains(&body, n.as_bytes())) {
        return body;
    }
    let mut text = String::from_utf8_lossy(&body).into_owned();
    // Longest first, so a secret inside another one is not half replaced.
    needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    for needle in &needles {
        text = text.replace(needle.as_str(), REDACTED);
    }
    Bytes::from(text)
}
