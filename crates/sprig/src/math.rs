//! Integer and float math (Sprig's numeric.go). Integer functions go through
//! cast's `ToInt64`; the `*f` ones through shopspring/decimal, so
//! `addf 1.1 2.2` is exactly 3.3.

use ferroflux_gotemplate::Value;
use rand::Rng;

use crate::conv::{err, int_arg, to_float64, to_int64};
use crate::fmtv::sprint_v;
use crate::{Arity, Reg};

use Arity::{AtLeast, Exact};

pub(crate) fn register(r: &mut Reg<'_>) {
    r.add("add1", Exact(1), |a| {
        Ok(Value::int64(to_int64(&a[0]).wrapping_add(1)))
    });
    r.add("add", AtLeast(0), |a| {
        Ok(Value::int64(
            a.iter().fold(0i64, |s, v| s.wrapping_add(to_int64(v))),
        ))
    });
    r.add("sub", Exact(2), |a| {
        Ok(Value::int64(to_int64(&a[0]).wrapping_sub(to_int64(&a[1]))))
    });
    r.add("div", Exact(2), |a| {
        let b = to_int64(&a[1]);
        if b == 0 {
            return Err(err("runtime error: integer divide by zero"));
        }
        Ok(Value::int64(to_int64(&a[0]).wrapping_div(b)))
    });
    r.add("mod", Exact(2), |a| {
        let b = to_int64(&a[1]);
        if b == 0 {
            return Err(err("runtime error: integer divide by zero"));
        }
        Ok(Value::int64(to_int64(&a[0]).wrapping_rem(b)))
    });
    r.add("mul", AtLeast(1), |a| {
        Ok(Value::int64(
            a[1..]
                .iter()
                .fold(to_int64(&a[0]), |s, v| s.wrapping_mul(to_int64(v))),
        ))
    });
    r.add("randInt", Exact(2), |a| {
        let (min, max) = (int_arg(&a[0])?, int_arg(&a[1])?);
        if max.checked_sub(min).is_none_or(|d| d <= 0) {
            return Err(err("invalid argument to Intn"));
        }
        Ok(Value::int(rand::thread_rng().gen_range(min..max)))
    });
    for name in ["max", "biggest"] {
        r.add(name, AtLeast(1), |a| {
            Ok(Value::int64(
                a[1..].iter().map(to_int64).fold(to_int64(&a[0]), i64::max),
            ))
        });
    }
    r.add("min", AtLeast(1), |a| {
        Ok(Value::int64(
            a[1..].iter().map(to_int64).fold(to_int64(&a[0]), i64::min),
        ))
    });
    r.add("maxf", AtLeast(1), |a| {
        Ok(Value::Float(
            a[1..]
                .iter()
                .map(to_float64)
                .fold(to_float64(&a[0]), go_max),
        ))
    });
    r.add("minf", AtLeast(1), |a| {
        Ok(Value::Float(
            a[1..]
                .iter()
                .map(to_float64)
                .fold(to_float64(&a[0]), go_min),
        ))
    });
    r.add("floor", Exact(1), |a| {
        Ok(Value::Float(to_float64(&a[0]).floor()))
    });
    r.add("ceil", Exact(1), |a| {
        Ok(Value::Float(to_float64(&a[0]).ceil()))
    });
    r.add("round", AtLeast(2), |a| {
        let places = int_arg(&a[1])?;
        let round_on = match a.get(2) {
            None => 0.5,
            Some(Value::Float(x)) => *x,
            Some(Value::Int(x, _)) => *x as f64,
            Some(other) => return Err(crate::conv::wrong_type("float64", other)),
        };
        let val = to_float64(&a[0]);
        let pow = 10f64.powf(places as f64);
        let digit = pow * val;
        let frac = digit - digit.trunc();
        let rounded = if frac >= round_on {
            digit.ceil()
        } else {
            digit.floor()
        };
        Ok(Value::Float(rounded / pow))
    });
    r.add("int64", Exact(1), |a| Ok(Value::int64(to_int64(&a[0]))));
    r.add("int", Exact(1), |a| Ok(Value::int(to_int64(&a[0]))));
    r.add("float64", Exact(1), |a| Ok(Value::Float(to_float64(&a[0]))));
    r.add("atoi", Exact(1), |a| {
        let s = crate::conv::str_arg(&a[0])?;
        Ok(Value::int(crate::conv::atoi(s).unwrap_or(0)))
    });
    r.add("toDecimal", Exact(1), |a| {
        let s = sprint_v(&a[0]);
        Ok(Value::int64(parse_octal(&s).unwrap_or(0)))
    });
    r.add("add1f", Exact(1), |a| {
        Ok(Value::Float(dec_op(&a[0], &[Value::int(1)], Op::Add)))
    });
    r.add("addf", AtLeast(0), |a| {
        Ok(Value::Float(dec_op(&Value::Float(0.0), a, Op::Add)))
    });
    r.add("subf", AtLeast(1), |a| {
        Ok(Value::Float(dec_op(&a[0], &a[1..], Op::Sub)))
    });
    r.add("mulf", AtLeast(1), |a| {
        Ok(Value::Float(dec_op(&a[0], &a[1..], Op::Mul)))
    });
    r.add("divf", AtLeast(1), |a| {
        if a[1..].iter().any(|v| to_float64(v) == 0.0) {
            return Err(err("decimal division by 0"));
        }
        Ok(Value::Float(dec_op(&a[0], &a[1..], Op::Div)))
    });
}

/// Go's `math.Max` (NaN wins, +0 over -0).
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

/// `strconv.ParseInt(s, 8, 64)`.
fn parse_octal(s: &str) -> Option<i64> {
    let (neg, d) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if d.is_empty() || !d.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    let v = i64::from_str_radix(d, 8).ok()?;
    Some(if neg { -v } else { v })
}

#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// A decimal `m × 10^-scale`, exact for the shortest repr of a float64.
#[derive(Clone, Copy)]
struct Dec {
    m: i128,
    scale: u32,
}

impl Dec {
    fn from_f64(f: f64) -> Option<Dec> {
        if !f.is_finite() {
            return None;
        }
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e')?;
        let exp: i32 = exp.parse().ok()?;
        let neg = mant.starts_with('-');
        let mant = mant.trim_start_matches('-');
        let (ip, fp) = mant.split_once('.').unwrap_or((mant, ""));
        let digits = format!("{ip}{fp}");
        let mut m: i128 = digits.parse().ok()?;
        let mut scale = fp.len() as i32 - exp;
        if scale < 0 {
            m = m.checked_mul(10i128.checked_pow((-scale) as u32)?)?;
            scale = 0;
        }
        if scale > 30 {
            return None;
        }
        Some(Dec {
            m: if neg { -m } else { m },
            scale: scale as u32,
        })
    }

    fn rescale(self, scale: u32) -> Option<i128> {
        self.m.checked_mul(10i128.checked_pow(scale - self.scale)?)
    }

    fn to_f64(self) -> f64 {
        let s = self.m.abs().to_string();
        let scale = self.scale as usize;
        let txt = if scale == 0 {
            s
        } else if s.len() > scale {
            format!("{}.{}", &s[..s.len() - scale], &s[s.len() - scale..])
        } else {
            format!("0.{}{}", "0".repeat(scale - s.len()), s)
        };
        let v: f64 = txt.parse().unwrap_or(0.0);
        if self.m < 0 { -v } else { v }
    }

    fn apply(self, o: Dec, op: Op) -> Option<Dec> {
        match op {
            Op::Add | Op::Sub => {
                let scale = self.scale.max(o.scale);
                let (a, b) = (self.rescale(scale)?, o.rescale(scale)?);
                let m = if matches!(op, Op::Add) {
                    a.checked_add(b)?
                } else {
                    a.checked_sub(b)?
                };
                Some(Dec { m, scale })
            }
            Op::Mul => Some(Dec {
                m: self.m.checked_mul(o.m)?,
                scale: self.scale + o.scale,
            }),
            Op::Div => {
                // shopspring: 16 fractional digits, half away from zero
                const PREC: u32 = 16;
                if o.m == 0 {
                    return None;
                }
                let shift = PREC + o.scale;
                let num = self
                    .m
                    .checked_mul(10i128.checked_pow(shift.saturating_sub(self.scale))?)?;
                let extra = self.scale.saturating_sub(shift);
                let den = o.m.checked_mul(10i128.checked_pow(extra)?)?;
                let q = num / den;
                let rem = num % den;
                let q = if 2 * rem.abs() >= den.abs() {
                    if (num < 0) != (den < 0) { q - 1 } else { q + 1 }
                } else {
                    q
                };
                Some(Dec { m: q, scale: PREC })
            }
        }
    }
}

fn dec_op(first: &Value, rest: &[Value], op: Op) -> f64 {
    let mut acc_f = to_float64(first);
    let mut acc = Dec::from_f64(acc_f);
    for v in rest {
        let x = to_float64(v);
        acc = match (acc, Dec::from_f64(x)) {
            (Some(a), Some(b)) => a.apply(b, op),
            _ => None,
        };
        acc_f = match op {
            Op::Add => acc_f + x,
            Op::Sub => acc_f - x,
            Op::Mul => acc_f * x,
            Op::Div => acc_f / x,
        };
        if let Some(a) = acc {
            acc_f = a.to_f64();
        }
    }
    acc.map(Dec::to_f64).unwrap_or(acc_f)
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;

    #[test]
    fn float_math_is_decimal_exact() {
        assert_eq!(out("addf", &[f(1.1), f(2.2)]), "3.3");
        assert_eq!(out("mulf", &[f(1.1), i(3)]), "3.3");
        assert_eq!(out("divf", &[i(10), i(3)]), "3.3333333333333335");
        assert_eq!(out("subf", &[f(0.3), f(0.1)]), "0.2");
    }
}
