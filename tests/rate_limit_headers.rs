//! Property tests: Strava's rate-limit headers are parsed without ever panicking, and
//! anything but two comma-separated numbers is ignored.

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use reqwest::header::{HeaderMap, HeaderValue};
use stravalib::rate_limit::{
    RATE_LIMIT_LIMIT, RATE_LIMIT_USAGE, READ_RATE_LIMIT_LIMIT, READ_RATE_LIMIT_USAGE,
    RateLimitStatus, daily_window_reset, parse_pair, short_window_reset,
};

const NAMES: [&str; 4] = [
    RATE_LIMIT_LIMIT,
    RATE_LIMIT_USAGE,
    READ_RATE_LIMIT_LIMIT,
    READ_RATE_LIMIT_USAGE,
];

/// Header values that look almost right as well as pure noise.
fn value_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<Vec<u8>>(),
        "[0-9 ,\t+-]{0,12}".prop_map(String::into_bytes),
        (any::<u64>(), any::<u64>()).prop_map(|(a, b)| format!("{a},{b}").into_bytes()),
        (0u32..5000, 0u32..5000).prop_map(|(a, b)| format!("{a},{b}").into_bytes()),
        ".*".prop_map(String::into_bytes),
    ]
}

fn headers_from(values: &[Option<Vec<u8>>]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in NAMES.iter().zip(values) {
        // Bytes a header value cannot hold never reach us from reqwest.
        if let Some(value) = value.as_ref().and_then(|v| HeaderValue::from_bytes(v).ok()) {
            headers.insert(*name, value);
        }
    }
    headers
}

fn parsed(headers: &HeaderMap, name: &str) -> Option<(u32, u32)> {
    headers.get(name)?.to_str().ok().and_then(parse_pair)
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    // 1970 to 2100.
    (0i64..4_102_444_800, 0u32..1_000_000_000)
        .prop_map(|(secs, nanos)| Utc.timestamp_opt(secs, nanos).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_pair_never_panics(value in ".*") {
        let _ = parse_pair(&value);
    }

    #[test]
    fn anything_but_digits_spaces_and_one_comma_is_rejected(value in ".*") {
        let suspicious = value.chars().any(|c| !matches!(c, '0'..='9' | ' ' | '\t' | ','))
            || value.matches(',').count() != 1;
        if suspicious {
            prop_assert_eq!(parse_pair(&value), None);
        }
    }

    #[test]
    fn accepted_values_read_back_what_they_say(value in "[0-9 ,\t]{0,24}") {
        if let Some((a, b)) = parse_pair(&value) {
            let (left, right) = value.split_once(',').unwrap();
            prop_assert_eq!(left.trim().parse::<u64>().ok(), Some(u64::from(a)));
            prop_assert_eq!(right.trim().parse::<u64>().ok(), Some(u64::from(b)));
        }
    }

    #[test]
    fn two_numbers_parse_when_they_fit(a in any::<u64>(), b in any::<u64>(), pad in "[ \t]{0,3}") {
        let value = format!("{pad}{a}{pad},{pad}{b}{pad}");
        let expected = u32::try_from(a).ok().zip(u32::try_from(b).ok());
        prop_assert_eq!(parse_pair(&value), expected);
    }

    #[test]
    fn garbage_headers_never_panic_and_are_ignored(
        values in proptest::collection::vec(proptest::option::of(value_strategy()), 4),
        now in instant(),
    ) {
        let headers = headers_from(&values);
        let status = RateLimitStatus::from_headers_at(&headers, now);
        let overall = parsed(&headers, RATE_LIMIT_LIMIT)
            .zip(parsed(&headers, RATE_LIMIT_USAGE))
            .filter(|(limit, _)| limit.0 > 0 && limit.1 > 0);
        let read = parsed(&headers, READ_RATE_LIMIT_LIMIT)
            .zip(parsed(&headers, READ_RATE_LIMIT_USAGE))
            .filter(|(limit, _)| limit.0 > 0 && limit.1 > 0);
        match &status {
            None => prop_assert!(overall.is_none() && read.is_none()),
            Some(status) => {
                prop_assert_eq!(status.observed_at(), now);
                let short = status.overall_short().map(|w| (w.limit, w.usage));
                prop_assert_eq!(short, overall.map(|(l, u)| (l.0, u.0)));
                let daily = status.overall_daily().map(|w| (w.limit, w.usage));
                prop_assert_eq!(daily, overall.map(|(l, u)| (l.1, u.1)));
                let short = status.read_short().map(|w| (w.limit, w.usage));
                prop_assert_eq!(short, read.map(|(l, u)| (l.0, u.0)));
                let daily = status.read_daily().map(|w| (w.limit, w.usage));
                prop_assert_eq!(daily, read.map(|(l, u)| (l.1, u.1)));
                // Whatever was parsed, these stay total.
                let _ = status.next_reset();
                let _ = status.usage_summary();
                let _ = status.as_of(now);
            }
        }
        // The crate's error conversion goes through the same parser.
        let err = stravalib::Error::from_response(
            reqwest::StatusCode::TOO_MANY_REQUESTS,
            &headers,
            b"",
        );
        prop_assert!(err.is_rate_limited());
    }

    #[test]
    fn resets_are_the_next_quarter_hour_and_midnight(now in instant()) {
        let short = short_window_reset(now);
        prop_assert!(short > now);
        prop_assert!(short - now <= chrono::TimeDelta::minutes(15));
        prop_assert_eq!(short.timestamp() % 900, 0);
        let daily = daily_window_reset(now);
        prop_assert!(daily > now);
        prop_assert!(daily - now <= chrono::TimeDelta::days(1));
        prop_assert_eq!(daily.timestamp() % 86_400, 0);
        prop_assert!(short <= daily);
    }
}
