//! Float text as Go writes it.

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`: the shortest digits that read back as `f`,
/// with an exponent (`1e+06`, `1e-05`) below 1e-4 and from 1e6 on.
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    // Rust's `{:e}` also gives the shortest round-trip digits; only the layout differs.
    let e = format!("{f:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    format!("{f}")
}

/// A float as go-yaml v2's encoder writes it (`encoder.floatv`): `.inf`, `-.inf`, `.nan`,
/// else [`format_float`].
pub fn float_scalar(f: f64) -> String {
    if f.is_nan() {
        ".nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { ".inf" } else { "-.inf" }.into()
    } else {
        format_float(f)
    }
}

/// A float64 after `sigs.k8s.io/yaml`'s round trip: `encoding/json` writes it (integral
/// values below 1e21 without a fraction or exponent), go-yaml v2 reads that text back (an
/// integer when it fits int64 or uint64, `-0` included) and writes it. JSON has no
/// infinities or NaN: callers report those before; here they get [`float_scalar`].
pub fn json_float_scalar(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e21 {
        // Rust's `{}` is encoding/json's 'f' form: shortest digits, zero-padded.
        let text = format!("{f}");
        if let Ok(i) = text.parse::<i64>() {
            return i.to_string();
        }
        if let Ok(u) = text.parse::<u64>() {
            return u.to_string();
        }
    }
    float_scalar(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_format_switches_to_exponent_like_go() {
        let cases = [
            (1.5, "1.5"),
            (1000.0, "1000"),
            (1e6, "1e+06"),
            (123456789.5, "1.234567895e+08"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e100, "1e+100"),
            (-2.5e-300, "-2.5e-300"),
            (-0.0, "-0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::INFINITY, "+Inf"),
        ];
        for (f, want) in cases {
            assert_eq!(format_float(f), want, "{f}");
        }
        assert_eq!(float_scalar(f64::INFINITY), ".inf");
        assert_eq!(float_scalar(f64::NEG_INFINITY), "-.inf");
        assert_eq!(float_scalar(f64::NAN), ".nan");
    }

    #[test]
    fn json_round_trip_makes_integral_floats_integers() {
        // Each expectation is what kustomize 5.8.2 prints for the float.
        let cases = [
            (1.0, "1"),
            (1e6, "1000000"),
            (-0.0, "0"),
            (1e19, "10000000000000000000"),
            (1e20, "1e+20"),
            (1152921504606846976.0, "1152921504606847000"),
            (123456789.125, "1.23456789125e+08"),
            (1e-7, "1e-07"),
            (0.5, "0.5"),
        ];
        for (f, want) in cases {
            assert_eq!(json_float_scalar(f), want, "{f}");
        }
    }
}
