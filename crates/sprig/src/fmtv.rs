//! Go's `%v` for template values (Sprig's `strval`, `cat`, `squote`,
//! `toString`) comes from the engine's `fmt`; the float formats Sprig's
//! encoders need on their own (`strconv.FormatFloat` with `'g'`/`'f'`) live
//! here.

use std::fmt::Write;

use ferroflux_gotemplate::Value;

/// `fmt.Sprint(v)` / `fmt.Sprintf("%v", v)`: the template engine's Go `fmt`.
pub fn sprint_v(v: &Value) -> String {
    ferroflux_gotemplate::fmt_v(v)
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
#[cfg(test)]
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
