//! DATE arguments: `2025-06-01` (local midnight), `2025-06-01T07:30` (local),
//! RFC 3339 times, Unix seconds, and ages such as `7d`, `2w` or `12h`.

use anyhow::{Result, anyhow};
use chrono::{DateTime, Duration, Local, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// `text` as a UTC instant, ages counted back from `now`.
pub fn parse_date(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let text = text.trim();
    let bad = || {
        anyhow!(
            "`{text}` is not a date: use YYYY-MM-DD, an RFC 3339 time, Unix seconds, or an age \
             such as 7d, 2w or 12h"
        )
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return local(day.and_hms_opt(0, 0, 0).ok_or_else(bad)?).ok_or_else(bad);
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return local(t).ok_or_else(bad);
        }
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: i64 = text.parse().map_err(|_| bad())?;
        return DateTime::from_timestamp(seconds, 0).ok_or_else(bad);
    }
    if let Some(unit) = text.chars().last()
        && let Ok(n) = text[..text.len() - unit.len_utf8()].parse::<i64>()
        && n >= 0
    {
        let age = match unit {
            'h' => Duration::try_hours(n),
            'd' => Duration::try_days(n),
            'w' => Duration::try_weeks(n),
            _ => None,
        };
        if let Some(t) = age.and_then(|age| now.checked_sub_signed(age)) {
            return Ok(t);
        }
    }
    Err(bad())
}

/// A wall-clock time in the machine's zone (the earlier instant when it happens twice).
fn local(t: NaiveDateTime) -> Option<DateTime<Utc>> {
    Local
        .from_local_datetime(&t)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let now: DateTime<Utc> = "2026-03-10T12:00:00Z".parse().unwrap();
        let at = |s: &str| parse_date(s, now).unwrap();
        assert_eq!(at("2026-03-01T08:00:00Z").timestamp(), 1_772_352_000);
        assert_eq!(at("1772352000").timestamp(), 1_772_352_000);
        assert_eq!(at("7d"), now - Duration::days(7));
        assert_eq!(at("2w"), now - Duration::weeks(2));
        assert_eq!(at("12h"), now - Duration::hours(12));
        let day = at("2026-03-01");
        assert_eq!(
            day.with_timezone(&Local)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            "2026-03-01 00:00"
        );
        for bad in ["", "yesterday", "2026-13-01", "7y", "-3d", "d"] {
            assert!(parse_date(bad, now).is_err(), "{bad}");
        }
    }
}
