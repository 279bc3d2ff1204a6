//! go-yaml v2's `resolve` for untagged plain scalars (YAML 1.1: `yes`/`on` booleans,
//! `0777` octal, `1_000`, base-60 floats, timestamps).

/// What go-yaml v2 decodes a plain scalar as.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Timestamp,
    Merge,
    Str,
}

/// Go's `strconv.ParseInt`/`ParseUint` with base 0 on text whose underscores are already
/// removed: sign, then `0x`/`0o`/`0b`/leading-`0` octal or decimal; `None` beyond 64 bits.
pub fn go_parse_int(s: &str) -> Option<i128> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(h) = lower.strip_prefix("0x") {
        (16, h)
    } else if let Some(o) = lower.strip_prefix("0o") {
        (8, o)
    } else if let Some(b) = lower.strip_prefix("0b") {
        (2, b)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, &lower[..])
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = u128::from_str_radix(digits, radix).ok()?;
    if v > u64::MAX as u128 {
        return None;
    }
    let v = v as i128;
    Some(if neg { -v } else { v })
}

/// go-yaml's `yamlStyleFloat` (the same in v2 and v3):
/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
pub fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - st
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

fn go_parse_float(s: &str) -> Option<f64> {
    // strconv.ParseFloat accepts what Rust does for decimal forms, plus
    // inf/infinity/nan spellings which Rust also accepts.
    let t = s.strip_prefix('+').unwrap_or(s);
    if t.starts_with(['+', '-']) && s.starts_with('+') {
        return None;
    }
    let f = t.parse::<f64>().ok()?;
    // Go reports out-of-range literals as errors (go-yaml then keeps a string).
    let spelled_inf = t
        .trim_start_matches('-')
        .to_ascii_lowercase()
        .starts_with("inf");
    if f.is_infinite() && !spelled_inf {
        return None;
    }
    Some(f)
}

/// go-yaml v2's `parseTimestamp`: text starting `YYYY-` that Go's `time.Parse` accepts in one
/// of the layouts `2006-1-2T15:4:5.999999999Z07:00` (or with `t`), `2006-1-2 15:4:5.999999999`
/// (no zone) or `2006-1-2`, range checks included: the day exists in its month, the hour is
/// below 24, a zone offset is at most 24:60 (Go allows those).
fn looks_like_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    // Go's `getnum`: one or two digits.
    let num = |p: &mut usize| -> Option<u32> {
        let st = *p;
        while *p < b.len() && b[*p].is_ascii_digit() && *p - st < 2 {
            *p += 1;
        }
        if *p == st {
            return None;
        }
        s[st..*p].parse().ok()
    };
    let mut p = 5;
    let Some(month) = num(&mut p) else {
        return false;
    };
    if !(1..=12).contains(&month) || b.get(p) != Some(&b'-') {
        return false;
    }
    p += 1;
    let Some(day) = num(&mut p) else {
        return false;
    };
    let year: u32 = s[..4].parse().unwrap_or(0);
    if day < 1 || day > days_in(month, year) {
        return false;
    }
    if p == b.len() {
        return true;
    }
    let sep = b[p];
    p += 1;
    match sep {
        b'T' | b't' => {}
        // A space in a Go layout matches a run of spaces.
        b' ' => {
            while b.get(p) == Some(&b' ') {
                p += 1;
            }
        }
        _ => return false,
    }
    for (max, next) in [(24, Some(b':')), (60, Some(b':')), (60, None)] {
        let Some(v) = num(&mut p) else {
            return false;
        };
        if v >= max {
            return false;
        }
        if let Some(c) = next {
            if b.get(p) != Some(&c) {
                return false;
            }
            p += 1;
        }
    }
    // Fractional seconds, after `.` or `,`; without a digit the separator is not taken.
    if matches!(b.get(p), Some(b'.' | b',')) && b.get(p + 1).is_some_and(u8::is_ascii_digit) {
        p += 1;
        while b.get(p).is_some_and(u8::is_ascii_digit) {
            p += 1;
        }
    }
    let zone = &b[p..];
    if sep == b' ' {
        return zone.is_empty();
    }
    if zone == b"Z" {
        return true;
    }
    let two = |i: usize| -> Option<u32> {
        (zone[i].is_ascii_digit() && zone[i + 1].is_ascii_digit())
            .then(|| u32::from(zone[i] - b'0') * 10 + u32::from(zone[i + 1] - b'0'))
    };
    zone.len() == 6
        && matches!(zone[0], b'+' | b'-')
        && zone[3] == b':'
        && two(1).is_some_and(|h| h <= 24)
        && two(4).is_some_and(|m| m <= 60)
}

fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// go-yaml v2 `resolve("", s)` for a plain scalar.
pub fn resolve_plain(s: &str) -> Resolved {
    let hint = match s.as_bytes().first() {
        None => b'N',
        Some(c) => match c {
            b'0'..=b'9' => b'D',
            b'+' | b'-' => b'S',
            b'.' => b'.',
            b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => b'M',
            _ => 0,
        },
    };
    if hint == 0 {
        return Resolved::Str;
    }
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Resolved::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Resolved::Bool(false);
        }
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        "<<" => return Resolved::Merge,
        _ => {}
    }
    match hint {
        b'.' => {
            if let Some(f) = go_parse_float(s) {
                return Resolved::Float(f);
            }
        }
        b'D' | b'S' => {
            if looks_like_timestamp(s) {
                return Resolved::Timestamp;
            }
            let plain = s.replace('_', "");
            if let Some(v) = go_parse_int(&plain) {
                if v >= i64::MIN as i128 && v <= i64::MAX as i128 {
                    return Resolved::Int(v as i64);
                }
                if v >= 0 {
                    return Resolved::Uint(v as u64);
                }
            }
            if yaml_style_float(&plain)
                && let Some(f) = go_parse_float(&plain)
            {
                return Resolved::Float(f);
            }
            // `strconv.ParseInt(plain[2:], 2, 64)`, then `ParseUint`: the digits may carry a
            // sign (`0b-101` is -5).
            if let Some(b) = plain.strip_prefix("0b") {
                if let Ok(v) = i64::from_str_radix(b, 2) {
                    return Resolved::Int(v);
                }
                if let Ok(v) = u64::from_str_radix(b, 2) {
                    return Resolved::Uint(v);
                }
            } else if let Some(b) = plain.strip_prefix("-0b")
                && let Ok(v) = i64::from_str_radix(&format!("-{b}"), 2)
            {
                return Resolved::Int(v);
            }
        }
        _ => {}
    }
    Resolved::Str
}

/// go-yaml's `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
pub fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() {
        return false;
    }
    let c = b[0];
    if !(c == b'+' || c == b'-' || c.is_ascii_digit()) || !s.contains(':') {
        return false;
    }
    let mut i = 0;
    if b[0] == b'+' || b[0] == b'-' {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let st = i;
        if i < b.len()
            && (b'0'..=b'5').contains(&b[i])
            && i + 1 < b.len()
            && b[i + 1].is_ascii_digit()
        {
            i += 2;
        } else if i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == st {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// go-yaml v2's encoder check before it writes a string: plain only when the text reads
/// back as the same string (else it would turn into a bool, number, null, timestamp...).
pub fn can_use_plain(s: &str) -> bool {
    resolve_plain(s) == Resolved::Str && !is_base60_float(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_words_resolve_to_bool_and_null() {
        for s in ["y", "Yes", "ON", "true"] {
            assert_eq!(resolve_plain(s), Resolved::Bool(true), "{s}");
        }
        for s in ["n", "NO", "off", "False"] {
            assert_eq!(resolve_plain(s), Resolved::Bool(false), "{s}");
        }
        for s in ["", "~", "null", "NULL"] {
            assert_eq!(resolve_plain(s), Resolved::Null, "{s:?}");
        }
        for s in ["yEs", "nil", "none", "tRUE", "o"] {
            assert_eq!(resolve_plain(s), Resolved::Str, "{s}");
        }
    }

    #[test]
    fn numbers_resolve_like_go_strconv() {
        assert_eq!(resolve_plain("0755"), Resolved::Int(0o755));
        assert_eq!(resolve_plain("0x1F"), Resolved::Int(31));
        assert_eq!(resolve_plain("0o17"), Resolved::Int(15));
        assert_eq!(resolve_plain("1_000"), Resolved::Int(1000));
        assert_eq!(resolve_plain("-0b101"), Resolved::Int(-5));
        assert_eq!(resolve_plain("0b+101"), Resolved::Int(5));
        assert_eq!(resolve_plain("0b-101"), Resolved::Int(-5));
        assert_eq!(
            resolve_plain("18446744073709551615"),
            Resolved::Uint(u64::MAX)
        );
        assert_eq!(resolve_plain("1.5"), Resolved::Float(1.5));
        assert_eq!(resolve_plain(".5"), Resolved::Float(0.5));
        assert_eq!(resolve_plain("+.inf"), Resolved::Float(f64::INFINITY));
        assert!(matches!(resolve_plain(".NaN"), Resolved::Float(f) if f.is_nan()));
        // Out of range for float64: Go's ParseFloat fails, go-yaml keeps a string.
        for s in ["1e999", ".5e999", "++5", "0x+1", "0b", "0x", "1.2.3", "0b2"] {
            assert_eq!(resolve_plain(s), Resolved::Str, "{s}");
        }
        assert_eq!(
            resolve_plain("-0b11111111111111111111111111111111111111111111111111111111111111111"),
            Resolved::Str
        );
    }

    /// Each case as kustomize 5.8.2 (go-yaml v2 built with Go's `time.Parse`) quotes it.
    #[test]
    fn timestamps_follow_go_yaml_formats() {
        for s in [
            "2020-01-01",
            "2020-1-2",
            "2020-01-01T10:00:00Z",
            "2020-01-01t10:00:00.5+01:00",
            "2020-01-01 10:00:00.5",
            "2020-01-01  10:00:00",
            "2020-01-01t10:00:00,123Z",
            "2020-01-01T1:2:3-01:30",
            "2020-01-01T10:00:00+24:00",
            "2020-01-01T10:00:00+01:60",
            "2020-02-29",
            "2000-02-29",
        ] {
            assert_eq!(resolve_plain(s), Resolved::Timestamp, "{s}");
        }
        for s in [
            "2020-13-01",
            "2020-01-32",
            "2020-01-01T25:00:00",
            "2020-01-01 10:00:00Z",
            "2020-01-01T10:00:00+0100",
            "202-01-01",
            "2020-01-01T10:00:00",
            "2020-1-1t1:2:3",
            "2020-01-01T10:00:00.Z",
            "2020-01-01T10:00:00z",
            "2020-01-01T10:00:00+01:61",
            "2020-01-01T10:00:00+25:00",
            "2020-01-01 10:00:00. ",
            "2021-02-29",
            "1900-02-29",
            "2020-04-31",
        ] {
            assert_eq!(resolve_plain(s), Resolved::Str, "{s}");
        }
    }

    #[test]
    fn base60_floats_need_quoting() {
        for s in ["1:20", "-1:20:30", "190:20:30.15", "1_0:5"] {
            assert!(is_base60_float(s), "{s}");
            assert!(!can_use_plain(s), "{s}");
        }
        for s in ["1:60", "1:", ":1", "a:1", "1:2.3.4", "1"] {
            assert!(!is_base60_float(s), "{s}");
        }
        assert!(can_use_plain("1:60"));
    }

    #[test]
    fn plain_only_when_read_back_as_the_same_string() {
        for s in [
            "hello",
            "<<",
            "it's",
            "${PORT}",
            "1:60",
            "2020-13-01",
            "1e999",
        ] {
            assert!(can_use_plain(s), "{s}");
        }
        for s in [
            "",
            "8080",
            "0755",
            "yes",
            "1_000",
            "2020-01-01",
            "0o17",
            ".inf",
            "~",
        ] {
            assert!(!can_use_plain(s), "{s:?}");
        }
    }
}
