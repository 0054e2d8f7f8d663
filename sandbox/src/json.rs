//! Compact JSON text of a [`Value`], byte for byte what `serde_json::to_vec` writes, but
//! with the standard library's number formatting and a byte loop for strings.
//!
//! Users' test suites run the sandbox in debug builds, where `serde_json`'s serializer is
//! unoptimized and writes each byte of a string through several calls: serializing a
//! detailed activity cost more than rendering it. The standard library comes compiled
//! with optimizations, so formatting numbers with it and copying runs of plain bytes with
//! `push_str` is several times cheaper there.

use std::fmt::Write as _;

use serde_json::{Number, Value};

/// `value` as compact JSON text.
pub(crate) fn to_vec(value: &Value) -> Vec<u8> {
    let mut out = String::with_capacity(1024);
    write_value(&mut out, value);
    out.into_bytes()
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push('[');
            let mut first = true;
            for item in items {
                if !first {
                    out.push(',');
                }
                first = false;
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            let mut first = true;
            for (key, item) in map {
                if !first {
                    out.push(',');
                }
                first = false;
                write_str(out, key);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

fn write_number(out: &mut String, n: &Number) {
    if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(f) = n.as_f64().filter(|f| plain_float(*f)) {
        // The shortest digits that read back as `f`, as serde_json's ryu writes them; ryu
        // adds `.0` to a whole number.
        let start = out.len();
        let _ = write!(out, "{f}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
    } else {
        // Exponents (tiny or huge numbers): serde_json's own text.
        out.push_str(&n.to_string());
    }
}

/// Whether ryu writes `f` without an exponent (it does from 1e-5 up to 1e16; a margin
/// either side).
fn plain_float(f: f64) -> bool {
    f == 0.0 || (1e-4..1e15).contains(&f.abs())
}

/// A JSON string: plain runs copied at once, the rest escaped as serde_json does.
fn write_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.push('"');
    let mut run = 0;
    // A `while` loop over a slice: no calls per byte in a debug build.
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b >= 0x20 && b != b'"' && b != b'\\' {
            i += 1;
            continue;
        }
        // Escapes are ASCII, so `run..i` ends on a character boundary.
        out.push_str(&s[run..i]);
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0C => out.push_str("\\f"),
            _ => {
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xF)]));
            }
        }
        i += 1;
        run = i;
    }
    out.push_str(&s[run..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::to_vec;

    #[test]
    fn writes_what_serde_json_writes() {
        let floats = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            12.3,
            1000.0,
            52.370_216,
            4.895_168,
            -123.456_789,
            1e-4,
            1.5e-4,
            9.99e14,
            1e15,
            1e16,
            1.2e20,
            1e-5,
            1e-6,
            3.5e-7,
            1e300,
            5e-324,
            0.30000000000000004,
            2.0f64.powi(53),
            299_792.458,
        ];
        for f in floats {
            let v = json!(f);
            assert_eq!(
                String::from_utf8(to_vec(&v)).unwrap(),
                serde_json::to_string(&v).unwrap(),
                "{f:e}"
            );
        }
        let v = json!({
            "b": [1, -2, u64::MAX, i64::MIN, 2.5, null, true, false, [], {}],
            "a": "plain",
            "esc": "q\"uote\\ back\u{1}\u{1f}\n\r\t\u{8}\u{c}\u{7f}/",
            "uni": "Café 💪 \u{200b}\u{fe0f}",
            "poly": "_p~iF~ps|U_ulLnnqC_mqNvxq`@\\\\",
            "weird \"key\"": {"nested": [{"x": 1.0}]},
            "": "",
        });
        assert_eq!(
            String::from_utf8(to_vec(&v)).unwrap(),
            serde_json::to_string(&v).unwrap()
        );
    }
}
