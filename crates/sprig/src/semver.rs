//! Masterminds/semver v3 as Sprig exposes it: `semver` returns a
//! `*semver.Version` object, `semverCompare` checks a constraint. The
//! constraint rules are the shared `ferroflux-semver` crate's, the same ones
//! Flux's `spec.ref.semver` uses.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use ::semver::Version;
use ferroflux_gotemplate::{FuncError, IntType, Object, Value};
use ferroflux_semver::Constraints;

use crate::conv::{err, str_arg};
use crate::{Arity, Reg};

/// Masterminds' `NewVersion`, shared with Flux's tag selection and Helm's chart versions.
fn parse_version(s: &str) -> Result<Version, String> {
    ferroflux_semver::parse_version(s).map_err(|e| overflow_error(s).unwrap_or(e.0))
}

/// Masterminds' error for a well-formed version whose number does not fit
/// `uint64` (it parses each with `strconv.ParseUint`), which the shared
/// parser reports as an invalid version.
fn overflow_error(s: &str) -> Option<String> {
    let t = s.strip_prefix('v').unwrap_or(s);
    let end = t.find(['-', '+']).unwrap_or(t.len());
    let (core, rest) = t.split_at(end);
    let parts: Vec<&str> = core.split('.').collect();
    let big = |p: &str| {
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u64>().is_err()
    };
    let first = parts.iter().find(|p| big(p))?;
    // the same version with those numbers small must be valid
    let small: Vec<&str> = parts.iter().map(|p| if big(p) { "0" } else { p }).collect();
    ferroflux_semver::parse_version(&format!("{}{rest}", small.join("."))).ok()?;
    Some(format!(
        "error parsing version segment: strconv.ParseUint: parsing {first:?}: value out of range"
    ))
}

/// `*semver.Version`.
#[derive(Debug)]
pub struct SemverVersion {
    pub version: Version,
    pub original: String,
}

impl Object for SemverVersion {
    fn type_name(&self) -> &str {
        "*semver.Version"
    }

    fn field(&self, name: &str) -> Option<Value> {
        let v = &self.version;
        Some(match name {
            "Major" => Value::Int(v.major as i64, IntType::Uint64),
            "Minor" => Value::Int(v.minor as i64, IntType::Uint64),
            "Patch" => Value::Int(v.patch as i64, IntType::Uint64),
            "Prerelease" => Value::from(v.pre.as_str()),
            "Metadata" => Value::from(v.build.as_str()),
            "Original" => Value::from(self.original.as_str()),
            "String" => Value::from(v.to_string()),
            _ => return None,
        })
    }

    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        let other = || -> Result<Version, FuncError> {
            match args.first() {
                Some(Value::Object(o)) => o
                    .as_any()
                    .downcast_ref::<SemverVersion>()
                    .map(|s| s.version.clone())
                    .ok_or_else(|| err("expected *semver.Version")),
                _ => Err(err("expected *semver.Version")),
            }
        };
        let cmp = |f: fn(std::cmp::Ordering) -> Value| -> Result<Value, FuncError> {
            Ok(f(self.version.cmp_precedence(&other()?)))
        };
        Some(match name {
            "Compare" => cmp(|o| Value::int(o as i64)),
            "LessThan" => cmp(|o| Value::Bool(o.is_lt())),
            "GreaterThan" => cmp(|o| Value::Bool(o.is_gt())),
            "Equal" => cmp(|o| Value::Bool(o.is_eq())),
            _ => return None,
        })
    }

    fn fmt_go(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.version)
    }

    fn to_data(&self) -> Option<Value> {
        Some(Value::from(self.version.to_string()))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

pub(crate) fn register(r: &mut Reg<'_>) {
    r.add("semver", Arity::Exact(1), |a| {
        let s = str_arg(&a[0])?;
        let version = parse_version(s).map_err(err)?;
        Ok(Value::Object(Arc::new(SemverVersion {
            version,
            original: s.to_string(),
        })))
    });
    r.add("semverCompare", Arity::Exact(2), |a| {
        let (c, v) = (str_arg(&a[0])?, str_arg(&a[1])?);
        let c = Constraints::parse(c).map_err(|_| {
            // Masterminds names the `||` group that failed, quoted
            let bad = c
                .split("||")
                .find(|g| Constraints::parse(g).is_err())
                .unwrap_or(c);
            err(format!(
                "improper constraint: {}",
                crate::strings::go_quote(bad)
            ))
        })?;
        let v = parse_version(v).map_err(err)?;
        Ok(Value::Bool(c.check(&v)))
    });
}
