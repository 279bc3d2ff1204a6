//! Go's `%v` for template values, as Sprig's `strval`, `cat`, `squote` and
//! `toString` print non-strings.

use std::fmt::Write;

use ferroflux_gotemplate::Value;

/// `fmt.Sprint(v)` / `fmt.Sprintf("%v", v)`.
pub fn sprint_v(v: &Value) -> String {
    let mut out = String::new();
    write_v(&mut out, v);
    out
}

fn write_v(out: &mut String, v: &Value) {
    match v {
        Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => out.push_str(&format_float_v(*f)),
        Value::String(s) => out.push_str(s),
        Value::Bytes(b) => {
            out.push('[');
            for (i, x) in b.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                let _ = write!(out, "{x}");
            }
            out.push(']');
        }
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_v(out, x);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push_str("map[");
            for (i, (k, x)) in m.snapshot().iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_v(out, x);
            }
            out.push(']');
        }
        Value::Object(o) => {
            struct D<'a>(&'a dyn ferroflux_gotemplate::Object);
            impl std::fmt::Display for D<'_> {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    self.0.fmt_go(f)
                }
            }
            let _ = write!(out, "{}", D(o.as_ref()));
        }
    }
}

/// Shortest decimal digits and decimal-point position of `f` (> 0, finite).
fn shortest_digits(f: f64) -> (String, i32) {
    let s = format!("{f:e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    (digits, exp + 1)
}

/// Go's `%v` (= `strconv.FormatFloat(f, 'g', -1, 64)`): shortest digits,
/// exponent form when the exponent is < -4 or >= 6.
pub fn format_float_v(f: f64) -> String {
    format_float_g(f, 6)
}

/// `strconv.FormatFloat(f, 'g', -1, 64)` with the exponent threshold `eprec`.
pub fn format_float_g(f: f64, eprec: i32) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let neg = f < 0.0;
    let (digits, dp) = shortest_digits(f.abs());
    let exp = dp - 1;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if exp < -4 || exp >= eprec {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let _ = write!(out, "{:02}", exp.abs());
    } else if dp <= 0 {
        out.push_str("0.");
        for _ in 0..(-dp) {
            out.push('0');
        }
        out.push_str(&digits);
    } else if dp as usize >= digits.len() {
        out.push_str(&digits);
        for _ in 0..(dp as usize - digits.len()) {
            out.push('0');
        }
    } else {
        out.push_str(&digits[..dp as usize]);
        out.push('.');
        out.push_str(&digits[dp as usize..]);
    }
    out
}

/// `strconv.FormatFloat(f, 'f', -1, 64)` (cast's `ToString` of a float64).
#[allow(dead_code)]
pub fn format_float_f(f: f64) -> String {
    format_float_g(f, i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_go_percent_v() {
        assert_eq!(format_float_v(3.0), "3");
        assert_eq!(format_float_v(1e6), "1e+06");
        assert_eq!(format_float_v(123456.0), "123456");
        assert_eq!(format_float_v(0.0001), "0.0001");
        assert_eq!(format_float_v(0.00001), "1e-05");
        assert_eq!(format_float_v(1.5), "1.5");
        assert_eq!(format_float_f(1e21), "1000000000000000000000");
    }
}
