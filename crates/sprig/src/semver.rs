//! Masterminds/semver v3 as Sprig exposes it: `semver` returns a
//! `*semver.Version` object, `semverCompare` checks a constraint. The
//! constraint rules are the shared `ferroflux-semver` crate's, the same ones
//! Flux's `spec.ref.semver` uses.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use ::semver::{BuildMetadata, Prerelease, Version};
use ferroflux_gotemplate::{FuncError, IntType, Object, Value};
use ferroflux_semver::Constraints;

use crate::conv::{err, str_arg};
use crate::{Arity, Reg};

/// Masterminds' `NewVersion`: optional `v`, one to three numeric parts,
/// pre-release (no leading zeros in numeric identifiers) and build metadata.
pub(crate) fn parse_version(s: &str) -> Result<Version, String> {
    let invalid = || "invalid semantic version".to_string();
    let t = s.strip_prefix('v').unwrap_or(s);
    let (t, build) = match t.split_once('+') {
        Some((a, b)) => (a, Some(b)),
        None => (t, None),
    };
    let (core, pre) = match t.split_once('-') {
        Some((a, b)) => (a, Some(b)),
        None => (t, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return Err(invalid());
    }
    let mut nums = [0u64; 3];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        nums[i] = p.parse().map_err(|_| invalid())?;
    }
    let ident_ok = |x: &str| {
        !x.is_empty()
            && x.split('.').all(|id| {
                !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    };
    let mut v = Version::new(nums[0], nums[1], nums[2]);
    if let Some(pre) = pre {
        if !ident_ok(pre) {
            return Err(invalid());
        }
        for id in pre.split('.') {
            if id.len() > 1 && id.starts_with('0') && id.bytes().all(|b| b.is_ascii_digit()) {
                return Err("version segment starts with 0".into());
            }
        }
        v.pre = Prerelease::new(pre).map_err(|_| invalid())?;
    }
    if let Some(build) = build {
        if !ident_ok(build) {
            return Err(invalid());
        }
        v.build = BuildMetadata::new(build).map_err(|_| invalid())?;
    }
    Ok(v)
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
