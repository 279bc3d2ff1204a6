//! Dates (Sprig's date.go over Go's `time`): Go layout strings
//! ("2006-01-02"), durations printed like Go's `Duration.String`, and
//! `time.Time` as a template object.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use ferroflux_gotemplate::{FuncError, IntType, Object, Value};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use crate::conv::{err, str_arg};
use crate::{Arity, Reg};

use Arity::Exact;

/// Go's `time.Time`.
#[derive(Clone, Debug)]
pub struct GoTime {
    pub zoned: Zoned,
    /// Go's zero `time.Time`.
    zero: bool,
    /// Go's monotonic clock reading in seconds since process start, which
    /// `time.Now()` carries (and `Add` keeps); `String()` prints it as `m=+…`.
    mono: Option<f64>,
    /// A zone name Go would print for a fabricated zone (BurntSushi/toml's
    /// `date-local`, `datetime-local`, `time-local`).
    label: Option<String>,
}

/// Where Go's monotonic clock starts: the first time a template asks.
static PROCESS_START: std::sync::LazyLock<std::time::Instant> =
    std::sync::LazyLock::new(std::time::Instant::now);

impl GoTime {
    pub fn new(zoned: Zoned) -> Self {
        Self {
            zoned,
            zero: false,
            mono: None,
            label: None,
        }
    }

    /// Go's zero `time.Time` (what `toDate` returns on a parse error).
    pub fn zero() -> Self {
        let ts = Timestamp::from_second(-62135596800).unwrap_or(Timestamp::UNIX_EPOCH);
        Self {
            zoned: ts.to_zoned(TimeZone::UTC),
            zero: true,
            mono: None,
            label: None,
        }
    }

    /// A time in a zone with a fabricated name at UTC+0.
    pub fn labelled(zoned: Zoned, label: &str) -> Self {
        let mut t = Self::new(zoned);
        t.label = Some(label.to_string());
        t
    }

    pub fn value(self) -> Value {
        Value::Object(Arc::new(self))
    }

    pub fn format(&self, layout: &str) -> String {
        match &self.label {
            Some(l) => format_go_named(&self.zoned, layout, Some(l)),
            None => format_go(&self.zoned, layout),
        }
    }

    fn unix(&self) -> i64 {
        self.zoned.timestamp().as_second()
    }
}

impl Object for GoTime {
    fn type_name(&self) -> &str {
        "time.Time"
    }

    fn field(&self, name: &str) -> Option<Value> {
        let z = &self.zoned;
        Some(match name {
            "Unix" => Value::int64(self.unix()),
            "UnixMilli" => Value::int64(z.timestamp().as_millisecond()),
            "UnixNano" => Value::int64(z.timestamp().as_nanosecond() as i64),
            "Year" => Value::int(i64::from(z.year())),
            "YearDay" => Value::int(i64::from(z.day_of_year())),
            "Day" => Value::int(i64::from(z.day())),
            "Hour" => Value::int(i64::from(z.hour())),
            "Minute" => Value::int(i64::from(z.minute())),
            "Second" => Value::int(i64::from(z.second())),
            "Nanosecond" => Value::int(i64::from(z.subsec_nanosecond())),
            // time.Month and time.Weekday print their names
            "Month" => Value::from(MONTHS[z.month() as usize - 1]),
            "Weekday" => Value::from(DAYS[z.weekday().to_sunday_zero_offset() as usize]),
            "String" => Value::from(crate::fmtv::sprint_v(&self.clone().value())),
            "UTC" => GoTime::new(z.with_time_zone(TimeZone::UTC)).value(),
            "Local" => GoTime::new(z.with_time_zone(TimeZone::system())).value(),
            "IsZero" => Value::Bool(self.zero),
            _ => return None,
        })
    }

    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        match name {
            "Format" => Some(match args {
                [Value::String(l)] => Ok(Value::from(self.format(l))),
                _ => Err(err("wrong arguments for Format")),
            }),
            _ => None,
        }
    }

    fn fmt_go(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format(GO_STRING_LAYOUT))?;
        if let Some(m) = self.mono {
            let sign = if m < 0.0 { '-' } else { '+' };
            write!(f, " m={sign}{:.9}", m.abs())?;
        }
        Ok(())
    }

    fn to_data(&self) -> Option<Value> {
        Some(Value::from(
            self.format("2006-01-02T15:04:05.999999999Z07:00"),
        ))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

const GO_STRING_LAYOUT: &str = "2006-01-02 15:04:05.999999999 -0700 MST";

fn as_time(v: &Value) -> Option<GoTime> {
    match v {
        Value::Object(o) => o.as_any().downcast_ref::<GoTime>().cloned(),
        _ => None,
    }
}

fn time_arg(v: &Value) -> Result<GoTime, FuncError> {
    as_time(v).ok_or_else(|| crate::conv::wrong_type("time.Time", v))
}

fn now() -> GoTime {
    let start = *PROCESS_START;
    let mut t = GoTime::new(Zoned::now().with_time_zone(TimeZone::system()));
    t.mono = Some(start.elapsed().as_secs_f64());
    t
}

/// Sprig's conversion of a `date` argument: a time, Unix seconds, or now.
fn date_of(v: &Value) -> GoTime {
    match v {
        // Sprig's type switch takes int, int32 and int64 as Unix seconds;
        // other integer types (uint64, uint8…) fall to its default: now
        Value::Int(i, IntType::Int | IntType::Int32 | IntType::Int64) => Timestamp::from_second(*i)
            .map(|t| GoTime::new(t.to_zoned(TimeZone::system())))
            .unwrap_or_else(|_| now()),
        other => as_time(other).unwrap_or_else(now),
    }
}

fn load_zone(name: &str) -> TimeZone {
    match name {
        "" | "UTC" => TimeZone::UTC,
        "Local" => TimeZone::system(),
        n => TimeZone::get(n).unwrap_or(TimeZone::UTC),
    }
}

fn date_in_zone(layout: &str, date: &Value, zone: &str) -> String {
    let t = date_of(date);
    format_go(&t.zoned.with_time_zone(load_zone(zone)), layout)
}

pub(crate) fn register(r: &mut Reg<'_>) {
    r.add("now", Exact(0), |_| Ok(now().value()));
    r.add("date", Exact(2), |a| {
        Ok(Value::from(date_in_zone(str_arg(&a[0])?, &a[1], "Local")))
    });
    for name in ["dateInZone", "date_in_zone"] {
        r.add(name, Exact(3), |a| {
            let (l, z) = (str_arg(&a[0])?, str_arg(&a[2])?);
            Ok(Value::from(date_in_zone(l, &a[1], z)))
        });
    }
    r.add("htmlDate", Exact(1), |a| {
        Ok(Value::from(date_in_zone("2006-01-02", &a[0], "Local")))
    });
    r.add("htmlDateInZone", Exact(2), |a| {
        Ok(Value::from(date_in_zone(
            "2006-01-02",
            &a[0],
            str_arg(&a[1])?,
        )))
    });
    for (name, must) in [
        ("dateModify", false),
        ("date_modify", false),
        ("mustDateModify", true),
        ("must_date_modify", true),
    ] {
        r.add(name, Exact(2), move |a| {
            let d = str_arg(&a[0])?;
            let t = time_arg(&a[1])?;
            match parse_duration(d) {
                Ok(ns) => {
                    let ts = t.zoned.timestamp().as_nanosecond() + i128::from(ns);
                    let ts = Timestamp::from_nanosecond(ts).map_err(|e| err(e.to_string()))?;
                    let mut moved = GoTime::new(ts.to_zoned(t.zoned.time_zone().clone()));
                    moved.mono = t.mono.map(|m| m + ns as f64 / 1e9);
                    Ok(moved.value())
                }
                Err(e) if must => Err(err(e)),
                Err(_) => Ok(t.value()),
            }
        });
    }
    for (name, must) in [("toDate", false), ("mustToDate", true)] {
        r.add(name, Exact(2), move |a| {
            let (layout, s) = (str_arg(&a[0])?, str_arg(&a[1])?);
            match parse_go_named(layout, s, &TimeZone::system()) {
                Ok(t) => Ok(t.value()),
                Err(e) if must => Err(err(e)),
                Err(_) => Ok(GoTime::zero().value()),
            }
        });
    }
    r.add("unixEpoch", Exact(1), |a| {
        Ok(Value::from(time_arg(&a[0])?.unix().to_string()))
    });
    r.add("ago", Exact(1), |a| {
        let t = date_of(&a[0]);
        let since = Timestamp::now().as_nanosecond() - t.zoned.timestamp().as_nanosecond();
        let ns = i64::try_from(since).unwrap_or(i64::MAX);
        Ok(Value::from(duration_string(round_duration(
            ns,
            1_000_000_000,
        ))))
    });
    r.add("duration", Exact(1), |a| {
        let n: i64 = match &a[0] {
            Value::String(s) => s.parse().unwrap_or(0),
            // Sprig's type switch takes int64 only: a literal (int) is 0s.
            Value::Int(i, IntType::Int64) => *i,
            _ => 0,
        };
        Ok(Value::from(duration_string(n.wrapping_mul(1_000_000_000))))
    });
    r.add("durationRound", Exact(1), |a| {
        let d: i64 = match &a[0] {
            Value::String(s) => parse_duration(s).unwrap_or(0),
            Value::Int(i, IntType::Int64) => *i,
            Value::Int(..) => 0,
            v => match as_time(v) {
                Some(t) => {
                    let since =
                        Timestamp::now().as_nanosecond() - t.zoned.timestamp().as_nanosecond();
                    i64::try_from(since).unwrap_or(i64::MAX)
                }
                None => 0,
            },
        };
        Ok(Value::from(duration_round(d)))
    });
}

fn duration_round(d: i64) -> String {
    let u = d.unsigned_abs();
    const S: u64 = 1_000_000_000;
    const M: u64 = 60 * S;
    const H: u64 = 60 * M;
    const D: u64 = 24 * H;
    for (unit, suffix) in [
        (365 * D, "y"),
        (30 * D, "mo"),
        (D, "d"),
        (H, "h"),
        (M, "m"),
        (S, "s"),
    ] {
        if u > unit {
            return format!("{}{suffix}", u / unit);
        }
    }
    "0s".into()
}

/// Go's `Duration.Round(m)`.
fn round_duration(d: i64, m: i64) -> i64 {
    let r = d % m;
    if d < 0 {
        let r = -r;
        if r + r < m { d + r } else { d - m + r }
    } else if r + r < m {
        d - r
    } else {
        d + m - r
    }
}

/// Go's `Duration.String()`.
pub fn duration_string(d: i64) -> String {
    if d == 0 {
        return "0s".into();
    }
    let neg = d < 0;
    let u = d.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        let (unit, div) = if u < 1_000 {
            ("ns", 1u64)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        out.push_str(&frac(u, div));
        out.push_str(unit);
    } else {
        let secs_total = u / 1_000_000_000;
        let h = secs_total / 3600;
        let m = secs_total / 60 % 60;
        let s_ns = u % 60_000_000_000;
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&frac(s_ns, 1_000_000_000));
        out.push('s');
    }
    if neg { format!("-{out}") } else { out }
}

fn frac(v: u64, div: u64) -> String {
    let int = v / div;
    let mut rem = v % div;
    if rem == 0 {
        return int.to_string();
    }
    let mut digits = String::new();
    let mut d = div;
    while rem > 0 && d > 1 {
        d /= 10;
        digits.push(char::from(b'0' + (rem / d) as u8));
        rem %= d;
    }
    format!("{int}.{}", digits.trim_end_matches('0'))
}

/// Go's `time.ParseDuration`, in nanoseconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let orig = s;
    let bad = || format!("time: invalid duration {}", crate::strings::go_quote(orig));
    let (neg, mut s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(bad());
    }
    let mut total: f64 = 0.0;
    let mut total_i: i128 = 0;
    while !s.is_empty() {
        let num_len = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let num = &s[..num_len];
        if num.is_empty() || num == "." {
            return Err(bad());
        }
        s = &s[num_len..];
        let unit_len = s
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(s.len());
        let unit = &s[..unit_len];
        s = &s[unit_len..];
        let mult: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => {
                return Err(format!(
                    "time: missing unit in duration {}",
                    crate::strings::go_quote(orig)
                ));
            }
            u => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    crate::strings::go_quote(u),
                    crate::strings::go_quote(orig)
                ));
            }
        };
        let (ip, fp) = num.split_once('.').unwrap_or((num, ""));
        let ipv: i128 = if ip.is_empty() {
            0
        } else {
            ip.parse().map_err(|_| bad())?
        };
        total_i += ipv * mult;
        if !fp.is_empty() {
            let f: f64 = format!("0.{fp}").parse().map_err(|_| bad())?;
            total += f * mult as f64;
        }
        if total_i > i128::from(i64::MAX) {
            return Err(bad());
        }
    }
    let v = total_i + total as i128;
    let v = i64::try_from(v).map_err(|_| bad())?;
    Ok(if neg { -v } else { v })
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    Year4,
    Year2,
    MonthLong,
    MonthShort,
    Month2,
    Month1,
    DayLong,
    DayShort,
    Day2,
    Day1,
    DayUnder,
    YearDay3,
    YearDayUnder,
    Hour24,
    Hour12,
    Hour12_2,
    Min1,
    Min2,
    Sec1,
    Sec2,
    PmUpper,
    PmLower,
    TzName,
    /// `Z` prefix: print Z for UTC; colon; seconds; hours only
    Offset {
        z: bool,
        colon: bool,
        secs: bool,
        hours_only: bool,
    },
    /// fractional seconds: digits, trailing zeros trimmed (`9`)
    Frac {
        n: usize,
        trim: bool,
        sep: char,
    },
}

/// Splits a Go layout into literal text and tokens (Go's `nextStdChunk`).
fn lex(layout: &str) -> Vec<Result<Tok, String>> {
    let mut out: Vec<Result<Tok, String>> = Vec::new();
    let b = layout.as_bytes();
    let mut lit = String::new();
    let mut i = 0;
    let starts = |i: usize, p: &str| layout[i..].starts_with(p);
    while i < b.len() {
        let mut tok = None;
        let mut len = 0;
        let c = b[i];
        match c {
            b'J' if starts(i, "January") => (tok, len) = (Some(Tok::MonthLong), 7),
            b'J' if starts(i, "Jan") => (tok, len) = (Some(Tok::MonthShort), 3),
            b'M' if starts(i, "Monday") => (tok, len) = (Some(Tok::DayLong), 6),
            b'M' if starts(i, "Mon") => (tok, len) = (Some(Tok::DayShort), 3),
            b'M' if starts(i, "MST") => (tok, len) = (Some(Tok::TzName), 3),
            b'0' if i + 1 < b.len() && (b'1'..=b'6').contains(&b[i + 1]) => {
                tok = Some(match b[i + 1] {
                    b'1' => Tok::Month2,
                    b'2' => Tok::Day2,
                    b'3' => Tok::Hour12_2,
                    b'4' => Tok::Min2,
                    b'5' => Tok::Sec2,
                    _ => Tok::Year2,
                });
                len = 2;
            }
            b'0' if starts(i, "002") => (tok, len) = (Some(Tok::YearDay3), 3),
            b'1' if starts(i, "15") => (tok, len) = (Some(Tok::Hour24), 2),
            b'1' => (tok, len) = (Some(Tok::Month1), 1),
            b'2' if starts(i, "2006") => (tok, len) = (Some(Tok::Year4), 4),
            b'2' => (tok, len) = (Some(Tok::Day1), 1),
            b'_' if starts(i, "_2") && !starts(i, "_2006") => {
                if starts(i, "__2") {
                    (tok, len) = (Some(Tok::YearDayUnder), 3)
                } else {
                    (tok, len) = (Some(Tok::DayUnder), 2)
                }
            }
            b'_' if starts(i, "__2") => (tok, len) = (Some(Tok::YearDayUnder), 3),
            b'3' => (tok, len) = (Some(Tok::Hour12), 1),
            b'4' => (tok, len) = (Some(Tok::Min1), 1),
            b'5' => (tok, len) = (Some(Tok::Sec1), 1),
            b'P' if starts(i, "PM") => (tok, len) = (Some(Tok::PmUpper), 2),
            b'p' if starts(i, "pm") => (tok, len) = (Some(Tok::PmLower), 2),
            b'-' | b'Z' => {
                let z = c == b'Z';
                for (p, colon, secs, hours_only) in [
                    ("07:00:00", true, true, false),
                    ("070000", false, true, false),
                    ("07:00", true, false, false),
                    ("0700", false, false, false),
                    ("07", false, false, true),
                ] {
                    if starts(i + 1, p) {
                        tok = Some(Tok::Offset {
                            z,
                            colon,
                            secs,
                            hours_only,
                        });
                        len = 1 + p.len();
                        break;
                    }
                }
            }
            b'.' | b',' if i + 1 < b.len() && (b[i + 1] == b'0' || b[i + 1] == b'9') => {
                let d = b[i + 1];
                let mut j = i + 1;
                while j < b.len() && b[j] == d {
                    j += 1;
                }
                // only when not followed by a digit
                if !(j < b.len() && b[j].is_ascii_digit()) {
                    tok = Some(Tok::Frac {
                        n: j - i - 1,
                        trim: d == b'9',
                        sep: char::from(c),
                    });
                    len = j - i;
                }
            }
            _ => {}
        }
        match tok {
            Some(t) => {
                if !lit.is_empty() {
                    out.push(Err(std::mem::take(&mut lit)));
                }
                out.push(Ok(t));
                i += len;
            }
            None => {
                let ch = layout[i..].chars().next().unwrap_or(' ');
                lit.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    if !lit.is_empty() {
        out.push(Err(lit));
    }
    out
}

fn zone_abbrev(z: &Zoned) -> String {
    let tz = z.time_zone();
    let info = tz.to_offset_info(z.timestamp());
    let abbr = info.abbreviation().to_string();
    let unnamed = tz.iana_name().is_none() && abbr != "UTC";
    if abbr.is_empty() || unnamed || abbr.contains(':') {
        // Go prints -0700 when the zone has no name
        let secs = info.offset().seconds();
        let (sign, a) = if secs < 0 { ('-', -secs) } else { ('+', secs) };
        return format!("{sign}{:02}{:02}", a / 3600, a / 60 % 60);
    }
    abbr
}

/// Go's `Time.Format(layout)`.
pub fn format_go(z: &Zoned, layout: &str) -> String {
    format_go_named(z, layout, None)
}

fn format_go_named(z: &Zoned, layout: &str, zone_name: Option<&str>) -> String {
    let mut out = String::new();
    let year = z.year();
    let hour = z.hour();
    for t in lex(layout) {
        let t = match t {
            Err(lit) => {
                out.push_str(&lit);
                continue;
            }
            Ok(t) => t,
        };
        match t {
            Tok::Year4 => out.push_str(&format!("{year:04}")),
            Tok::Year2 => out.push_str(&format!("{:02}", year.rem_euclid(100))),
            Tok::MonthLong => out.push_str(MONTHS[z.month() as usize - 1]),
            Tok::MonthShort => out.push_str(&MONTHS[z.month() as usize - 1][..3]),
            Tok::Month2 => out.push_str(&format!("{:02}", z.month())),
            Tok::Month1 => out.push_str(&z.month().to_string()),
            Tok::DayLong => out.push_str(DAYS[z.weekday().to_sunday_zero_offset() as usize]),
            Tok::DayShort => out.push_str(&DAYS[z.weekday().to_sunday_zero_offset() as usize][..3]),
            Tok::Day2 => out.push_str(&format!("{:02}", z.day())),
            Tok::Day1 => out.push_str(&z.day().to_string()),
            Tok::DayUnder => out.push_str(&format!("{:>2}", z.day())),
            Tok::YearDay3 => out.push_str(&format!("{:03}", z.day_of_year())),
            Tok::YearDayUnder => out.push_str(&format!("{:>3}", z.day_of_year())),
            Tok::Hour24 => out.push_str(&format!("{hour:02}")),
            Tok::Hour12 => out.push_str(&h12(hour).to_string()),
            Tok::Hour12_2 => out.push_str(&format!("{:02}", h12(hour))),
            Tok::Min1 => out.push_str(&z.minute().to_string()),
            Tok::Min2 => out.push_str(&format!("{:02}", z.minute())),
            Tok::Sec1 => out.push_str(&z.second().to_string()),
            Tok::Sec2 => out.push_str(&format!("{:02}", z.second())),
            Tok::PmUpper => out.push_str(if hour >= 12 { "PM" } else { "AM" }),
            Tok::PmLower => out.push_str(if hour >= 12 { "pm" } else { "am" }),
            Tok::TzName => match zone_name {
                Some(n) => out.push_str(n),
                None => out.push_str(&zone_abbrev(z)),
            },
            Tok::Offset {
                z: zflag,
                colon,
                secs,
                hours_only,
            } => {
                let off = z.offset().seconds();
                if zflag && off == 0 {
                    out.push('Z');
                    continue;
                }
                let (sign, a) = if off < 0 { ('-', -off) } else { ('+', off) };
                out.push(sign);
                out.push_str(&format!("{:02}", a / 3600));
                if !hours_only {
                    if colon {
                        out.push(':');
                    }
                    out.push_str(&format!("{:02}", a / 60 % 60));
                }
                if secs {
                    if colon {
                        out.push(':');
                    }
                    out.push_str(&format!("{:02}", a % 60));
                }
            }
            Tok::Frac { n, trim, sep } => {
                let ns = format!("{:09}", z.subsec_nanosecond());
                let digits = &ns[..n.min(9)];
                if trim {
                    let d = digits.trim_end_matches('0');
                    if !d.is_empty() {
                        out.push(sep);
                        out.push_str(d);
                    }
                } else {
                    out.push(sep);
                    out.push_str(digits);
                }
            }
        }
    }
    out
}

fn h12(h: i8) -> i8 {
    match h % 12 {
        0 => 12,
        x => x,
    }
}

/// Go's `time.ParseInLocation(layout, value, loc)`, with the error text
/// Go's. A zone abbreviation the location does not know gives a zone of that
/// name at offset 0, as Go fabricates one.
pub fn parse_go_named(layout: &str, value: &str, loc: &TimeZone) -> Result<GoTime, String> {
    let fail = |elem: &str, rest: &str| {
        format!(
            "parsing time {} as {}: cannot parse {} as {}",
            crate::strings::go_quote(value),
            crate::strings::go_quote(layout),
            crate::strings::go_quote(rest),
            crate::strings::go_quote(elem)
        )
    };
    let mut s = value;
    // omitted elements are zero, or one where zero is impossible (year 0)
    let (mut year, mut month, mut day) = (0i16, 1i8, 1i8);
    let (mut hour, mut min, mut sec, mut nanos) = (0i8, 0i8, 0i8, 0i32);
    let mut pm: Option<bool> = None;
    let mut offset: Option<i32> = None;
    let mut zone_name: Option<String> = None;
    let mut yday: Option<i16> = None;
    let take_num = |s: &mut &str, min: usize, max: usize| -> Option<i64> {
        let n = s
            .bytes()
            .take(max)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if n < min {
            return None;
        }
        let v = s[..n].parse().ok();
        *s = &s[n..];
        v
    };
    let lexed = lex(layout);
    for (idx, t) in lexed.iter().enumerate() {
        let before = s;
        let elem_name = |t: &Tok| -> String {
            // the layout element as Go names it in errors
            match t {
                Tok::Year4 => "2006".into(),
                Tok::Year2 => "06".into(),
                Tok::MonthLong => "January".into(),
                Tok::MonthShort => "Jan".into(),
                Tok::Month2 => "01".into(),
                Tok::Month1 => "1".into(),
                Tok::DayLong => "Monday".into(),
                Tok::DayShort => "Mon".into(),
                Tok::Day2 => "02".into(),
                Tok::Day1 => "2".into(),
                Tok::DayUnder => "_2".into(),
                Tok::YearDay3 => "002".into(),
                Tok::YearDayUnder => "__2".into(),
                Tok::Hour24 => "15".into(),
                Tok::Hour12 => "3".into(),
                Tok::Hour12_2 => "03".into(),
                Tok::Min1 => "4".into(),
                Tok::Min2 => "04".into(),
                Tok::Sec1 => "5".into(),
                Tok::Sec2 => "05".into(),
                Tok::PmUpper => "PM".into(),
                Tok::PmLower => "pm".into(),
                Tok::TzName => "MST".into(),
                Tok::Offset {
                    z,
                    colon,
                    secs,
                    hours_only,
                } => {
                    let mut n = String::from(if *z { "Z07" } else { "-07" });
                    if !hours_only {
                        n.push_str(if *colon { ":00" } else { "00" });
                        if *secs {
                            n.push_str(if *colon { ":00" } else { "00" });
                        }
                    }
                    n
                }
                Tok::Frac { n, trim, sep } => {
                    format!("{sep}{}", if *trim { "9" } else { "0" }.repeat(*n))
                }
            }
        };
        match t {
            Err(lit) => {
                let lit_trim = lit.as_str();
                if let Some(r) = s.strip_prefix(lit_trim) {
                    s = r;
                } else {
                    return Err(fail(lit_trim, s));
                }
            }
            Ok(t) => {
                let ok = match t {
                    Tok::Year4 => take_num(&mut s, 4, 4).map(|v| year = v as i16),
                    Tok::Year2 => take_num(&mut s, 2, 2).map(|v| {
                        year = if v >= 69 {
                            1900 + v as i16
                        } else {
                            2000 + v as i16
                        }
                    }),
                    Tok::Month2 => take_num(&mut s, 2, 2).map(|v| month = v as i8),
                    Tok::Month1 => take_num(&mut s, 1, 2).map(|v| month = v as i8),
                    Tok::MonthLong | Tok::MonthShort => {
                        let long = matches!(t, Tok::MonthLong);
                        MONTHS.iter().enumerate().find_map(|(i, m)| {
                            let name = if long { *m } else { &m[..3] };
                            let hit =
                                s.len() >= name.len() && s[..name.len()].eq_ignore_ascii_case(name);
                            hit.then(|| {
                                s = &s[name.len()..];
                                month = i as i8 + 1;
                            })
                        })
                    }
                    Tok::DayLong | Tok::DayShort => {
                        let long = matches!(t, Tok::DayLong);
                        DAYS.iter().find_map(|d| {
                            let name = if long { *d } else { &d[..3] };
                            let hit =
                                s.len() >= name.len() && s[..name.len()].eq_ignore_ascii_case(name);
                            hit.then(|| s = &s[name.len()..])
                        })
                    }
                    Tok::Day2 => take_num(&mut s, 2, 2).map(|v| day = v as i8),
                    Tok::Day1 => take_num(&mut s, 1, 2).map(|v| day = v as i8),
                    Tok::DayUnder => {
                        if s.starts_with(' ') {
                            s = &s[1..];
                        }
                        take_num(&mut s, 1, 2).map(|v| day = v as i8)
                    }
                    Tok::YearDay3 => take_num(&mut s, 3, 3).map(|v| yday = Some(v as i16)),
                    Tok::YearDayUnder => {
                        s = s.trim_start_matches(' ');
                        take_num(&mut s, 1, 3).map(|v| yday = Some(v as i16))
                    }
                    Tok::Hour24 => take_num(&mut s, 1, 2).map(|v| hour = v as i8),
                    Tok::Hour12 => take_num(&mut s, 1, 2).map(|v| hour = v as i8),
                    Tok::Hour12_2 => take_num(&mut s, 2, 2).map(|v| hour = v as i8),
                    Tok::Min1 => take_num(&mut s, 1, 2).map(|v| min = v as i8),
                    Tok::Min2 => take_num(&mut s, 2, 2).map(|v| min = v as i8),
                    Tok::Sec1 | Tok::Sec2 => {
                        let r = if matches!(t, Tok::Sec2) {
                            take_num(&mut s, 2, 2)
                        } else {
                            take_num(&mut s, 1, 2)
                        };
                        r.map(|v| {
                            sec = v as i8;
                            // Go accepts fractional seconds after the seconds
                            // field even when the layout has none
                            let next_is_frac =
                                matches!(lexed.get(idx + 1), Some(Ok(Tok::Frac { .. })));
                            if !next_is_frac
                                && (s.starts_with('.') || s.starts_with(','))
                                && s[1..].starts_with(|c: char| c.is_ascii_digit())
                            {
                                let n = s[1..].bytes().take_while(u8::is_ascii_digit).count();
                                nanos = frac_nanos(&s[1..1 + n]);
                                s = &s[1 + n..];
                            }
                        })
                    }
                    Tok::Frac { n, trim, .. } => {
                        if s.starts_with('.') || s.starts_with(',') {
                            let k = s[1..].bytes().take_while(u8::is_ascii_digit).count();
                            if !trim && k != *n {
                                None
                            } else {
                                nanos = frac_nanos(&s[1..1 + k]);
                                s = &s[1 + k..];
                                Some(())
                            }
                        } else if *trim {
                            Some(())
                        } else {
                            None
                        }
                    }
                    Tok::PmUpper | Tok::PmLower => {
                        // case-sensitive, as Go: `PM` wants PM/AM, `pm` wants pm/am
                        let (pm_s, am_s) = if matches!(t, Tok::PmLower) {
                            ("pm", "am")
                        } else {
                            ("PM", "AM")
                        };
                        match s.get(..2) {
                            Some(p) if p == pm_s => {
                                pm = Some(true);
                                s = &s[2..];
                                Some(())
                            }
                            Some(p) if p == am_s => {
                                pm = Some(false);
                                s = &s[2..];
                                Some(())
                            }
                            _ => None,
                        }
                    }
                    Tok::TzName => {
                        let n = s.bytes().take_while(|b| b.is_ascii_uppercase()).count();
                        if n >= 3 {
                            let name = &s[..n];
                            if name == "UTC" {
                                offset = Some(0);
                            } else {
                                zone_name = Some(name.to_string());
                            }
                            s = &s[n..];
                            Some(())
                        } else {
                            None
                        }
                    }
                    Tok::Offset {
                        z,
                        colon,
                        secs,
                        hours_only,
                    } => {
                        if *z && s.starts_with('Z') {
                            s = &s[1..];
                            offset = Some(0);
                            Some(())
                        } else {
                            parse_offset(&mut s, *colon, *secs, *hours_only)
                                .map(|o| offset = Some(o))
                        }
                    }
                };
                if ok.is_none() {
                    return Err(fail(&elem_name(t), before));
                }
            }
        }
    }
    if !s.is_empty() {
        return Err(format!(
            "parsing time {}: extra text: {}",
            crate::strings::go_quote(value),
            crate::strings::go_quote(s)
        ));
    }
    let range_err = |what: &str| {
        format!(
            "parsing time {}: {what} out of range",
            crate::strings::go_quote(value)
        )
    };
    if !(1..=12).contains(&month) {
        return Err(range_err("month"));
    }
    if hour > 23 || (pm.is_some() && hour > 12) {
        return Err(range_err("hour"));
    }
    if min > 59 {
        return Err(range_err("minute"));
    }
    if sec > 59 {
        return Err(range_err("second"));
    }
    if let Some(p) = pm {
        if p && hour < 12 {
            hour += 12;
        } else if !p && hour == 12 {
            hour = 0;
        }
    }
    let mut date = jiff::civil::Date::new(year, month, day).map_err(|_| {
        format!(
            "parsing time {}: day out of range",
            crate::strings::go_quote(value)
        )
    })?;
    if let Some(yd) = yday {
        date = date
            .with()
            .day_of_year(yd)
            .build()
            .map_err(|_| range_err("day-of-year"))?;
    }
    let dt = date.at(hour, min, sec, nanos);
    let tz = match offset {
        Some(0) => TimeZone::UTC,
        Some(o) => TimeZone::fixed(jiff::tz::Offset::from_seconds(o).map_err(|e| e.to_string())?),
        None => loc.clone(),
    };
    let zoned = dt.to_zoned(tz).map_err(|e| e.to_string())?;
    if offset.is_none()
        && let Some(name) = zone_name
    {
        // the location's own abbreviation keeps the location; any other
        // name becomes a zone of that name at UTC (GMT+N at N hours)
        if zone_abbrev(&zoned) != name {
            let utc = dt.to_zoned(TimeZone::UTC).map_err(|e| e.to_string())?;
            return Ok(GoTime::labelled(utc, &name));
        }
    }
    Ok(GoTime::new(zoned))
}

fn frac_nanos(d: &str) -> i32 {
    let mut s = d.to_string();
    s.truncate(9);
    while s.len() < 9 {
        s.push('0');
    }
    s.parse().unwrap_or(0)
}

fn parse_offset(s: &mut &str, colon: bool, secs: bool, hours_only: bool) -> Option<i32> {
    let b = s.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let mut i = 1;
    let two = |i: usize| -> Option<i32> {
        let p = s.get(i..i + 2)?;
        if p.bytes().all(|c| c.is_ascii_digit()) {
            p.parse().ok()
        } else {
            None
        }
    };
    let h = two(i)?;
    i += 2;
    let mut m = 0;
    let mut sec = 0;
    if !hours_only {
        if colon {
            if b.get(i) != Some(&b':') {
                return None;
            }
            i += 1;
        }
        m = two(i)?;
        i += 2;
        if secs {
            if colon {
                if b.get(i) != Some(&b':') {
                    return None;
                }
                i += 1;
            }
            sec = two(i)?;
            i += 2;
        }
    }
    *s = &s[i..];
    Some(sign * (h * 3600 + m * 60 + sec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_go() {
        assert_eq!(duration_string(90_000_000_000), "1m30s");
        assert_eq!(duration_string(3_600_000_000_000), "1h0m0s");
        assert_eq!(duration_string(1_500_000), "1.5ms");
        assert_eq!(duration_string(-2_000_000_000), "-2s");
        assert_eq!(parse_duration("1h30m").ok(), Some(5_400_000_000_000));
        assert_eq!(parse_duration("-1.5h").ok(), Some(-5_400_000_000_000));
        assert!(parse_duration("3x").is_err());
    }

    #[test]
    fn go_layouts_format_and_parse() {
        let z = parse_go_named("2006-01-02 15:04:05", "2024-03-05 07:08:09", &TimeZone::UTC)
            .unwrap()
            .zoned;
        assert_eq!(
            format_go(&z, "Jan _2 3:04PM Monday 06 002 .000 Z07:00 MST"),
            "Mar  5 7:08AM Tuesday 24 065 .000 Z UTC"
        );
    }
}
