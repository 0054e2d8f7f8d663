//! The errors the tool says something particular about, and how an error is told in one
//! line.

/// The run was interrupted (Ctrl-C, SIGTERM) after saving what it had (exit code 130).
#[derive(Debug)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Interrupted {}

/// The error and its causes on one line, `outer: inner`, up to the first library error
/// (whose message already names its own cause); a cause already quoted by the message
/// before it is not repeated.
pub fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
        if cause.is::<stravalib::Error>() {
            break;
        }
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_joins_and_dedupes() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "permission denied");
        let e = anyhow::Error::new(io).context("cannot write out.gpx");
        assert_eq!(one_line(&e), "cannot write out.gpx: permission denied");
        let inner = anyhow::anyhow!("404 Record Not Found");
        let e = inner.context("activity 1: 404 Record Not Found");
        assert_eq!(one_line(&e), "activity 1: 404 Record Not Found");
    }
}
