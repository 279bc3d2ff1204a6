//! Masterminds/semver v3 as Sprig exposes it: `semver` returns a
//! `*semver.Version` object, `semverCompare` checks a constraint. The
//! constraint rules are the same ones `crates/git` implements for Flux's
//! `spec.ref.semver` (copied here so the template engine does not depend on
//! the git stack); the `semver` crate supplies precedence.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use ::semver::{BuildMetadata, Prerelease, Version};
use ferroflux_gotemplate::{FuncError, Object, Value};

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
            "Major" => Value::Int(v.major as i64),
            "Minor" => Value::Int(v.minor as i64),
            "Patch" => Value::Int(v.patch as i64),
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
            "Compare" => cmp(|o| Value::Int(o as i64)),
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Tilde,
    Caret,
}

/// One comparator, with Masterminds' notion of "dirty" (wildcard/missing) parts.
#[derive(Debug, Clone)]
struct Comparator {
    op: Op,
    v: Version,
    dirty: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

impl Comparator {
    fn parse(op: Op, ver: &str) -> Result<Comparator, String> {
        let bad = || format!("improper constraint: {ver}");
        let ver = ver.trim();
        let ver = ver
            .strip_prefix('v')
            .or_else(|| ver.strip_prefix('V'))
            .unwrap_or(ver);
        let (ver, _build) = ver
            .split_once('+')
            .map_or((ver, None), |(a, b)| (a, Some(b)));
        let (core, pre) = ver
            .split_once('-')
            .map_or((ver, None), |(a, b)| (a, Some(b)));
        let parts: Vec<&str> = core.split('.').collect();
        if parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
            return Err(bad());
        }
        let num = |i: usize| -> Result<Option<u64>, String> {
            match parts.get(i) {
                None => Ok(None),
                Some(p) if is_x(p) => Ok(None),
                Some(p) => p.parse().map(Some).map_err(|_| bad()),
            }
        };
        let (major, minor, patch) = (num(0)?, num(1)?, num(2)?);
        let (mut dirty, mut minor_dirty, mut patch_dirty) = (false, false, false);
        let v = match (major, minor, patch) {
            (None, _, _) => {
                dirty = true;
                Version::new(0, 0, 0)
            }
            (Some(m), None, _) => {
                dirty = true;
                minor_dirty = true;
                Version::new(m, 0, 0)
            }
            (Some(m), Some(n), None) => {
                dirty = true;
                patch_dirty = true;
                Version::new(m, n, 0)
            }
            (Some(m), Some(n), Some(p)) => Version::new(m, n, p),
        };
        let mut v = v;
        if let Some(pre) = pre {
            v.pre = Prerelease::new(pre).map_err(|_| bad())?;
        }
        Ok(Comparator {
            op,
            v,
            dirty,
            minor_dirty,
            patch_dirty,
        })
    }

    /// Masterminds v3's per-operator checks (`constraints.go`).
    fn check(&self, v: &Version) -> bool {
        let c = &self.v;
        // A pre-release only satisfies comparators that mention a pre-release.
        if !v.pre.is_empty() && c.pre.is_empty() {
            return false;
        }
        let cmp = v.cmp_precedence(c);
        match self.op {
            Op::Eq => {
                if self.dirty {
                    self.tilde(v)
                } else {
                    cmp.is_eq()
                }
            }
            Op::Ne => {
                if self.dirty {
                    if c.major != v.major {
                        return true;
                    }
                    if self.minor_dirty {
                        return false;
                    }
                    if c.minor != v.minor {
                        return true;
                    }
                    return false;
                }
                !cmp.is_eq()
            }
            Op::Gt => {
                if !self.dirty {
                    return cmp.is_gt();
                }
                if v.major != c.major {
                    return v.major > c.major;
                }
                if self.minor_dirty {
                    return false;
                }
                if self.patch_dirty {
                    return v.minor > c.minor;
                }
                cmp.is_gt()
            }
            Op::Lt => cmp.is_lt(),
            Op::Ge => cmp.is_ge(),
            Op::Le => {
                if !self.dirty {
                    return cmp.is_le();
                }
                if v.major != c.major {
                    return v.major < c.major;
                }
                if self.minor_dirty {
                    return true;
                }
                if self.patch_dirty {
                    return v.minor <= c.minor;
                }
                cmp.is_le()
            }
            Op::Tilde => self.tilde(v),
            Op::Caret => {
                if cmp.is_lt() {
                    return false;
                }
                if c.major > 0 || self.minor_dirty {
                    return v.major == c.major;
                }
                if v.major > 0 {
                    return false;
                }
                if c.minor > 0 || self.patch_dirty {
                    return v.minor == c.minor;
                }
                v.patch == c.patch
            }
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.v;
        if v.cmp_precedence(c).is_lt() {
            return false;
        }
        // `~0`, `*`, `x`: everything (that passed the pre-release rule).
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        if v.major != c.major {
            return false;
        }
        if v.minor != c.minor && !self.minor_dirty {
            return false;
        }
        true
    }
}

/// OR of ANDs of comparators.
#[derive(Debug, Clone)]
pub(crate) struct Constraints {
    any_of: Vec<Vec<Comparator>>,
}

const OPS: [(&str, Op); 12] = [
    (">=", Op::Ge),
    ("=>", Op::Ge),
    ("<=", Op::Le),
    ("=<", Op::Le),
    ("!=", Op::Ne),
    ("~>", Op::Tilde),
    ("~", Op::Tilde),
    ("^", Op::Caret),
    (">", Op::Gt),
    ("<", Op::Lt),
    ("=", Op::Eq),
    ("==", Op::Eq),
];

fn split_op(token: &str) -> (Op, &str) {
    // Longest operators first ("==" is listed after "=" but "=" would leave "=1", so check it).
    if let Some(rest) = token.strip_prefix("==") {
        return (Op::Eq, rest);
    }
    for (s, op) in OPS {
        if let Some(rest) = token.strip_prefix(s) {
            return (op, rest);
        }
    }
    (Op::Eq, token)
}

impl Constraints {
    pub(crate) fn parse(input: &str) -> Result<Constraints, String> {
        let mut any_of = Vec::new();
        if input.trim().is_empty() {
            return Err("improper constraint: empty".into());
        }
        for group in input.split("||") {
            let tokens: Vec<&str> = group
                .split([' ', ',', '\t'])
                .filter(|t| !t.is_empty())
                .collect();
            // Glue bare operators to their version ("> = 1", ">= 1.2").
            let mut glued: Vec<String> = Vec::new();
            let mut pending = String::new();
            for t in tokens {
                if t != "-"
                    && t.chars()
                        .all(|c| matches!(c, '<' | '>' | '=' | '!' | '~' | '^'))
                {
                    pending.push_str(t);
                } else {
                    glued.push(format!("{pending}{t}"));
                    pending.clear();
                }
            }
            if !pending.is_empty() {
                return Err(format!("improper constraint: {input}"));
            }
            let mut all_of = Vec::new();
            let mut i = 0;
            while i < glued.len() {
                if glued.get(i + 1).map(String::as_str) == Some("-") {
                    let (Some(lo), Some(hi)) = (glued.get(i), glued.get(i + 2)) else {
                        return Err(format!("improper constraint: {input}"));
                    };
                    all_of.push(Comparator::parse(Op::Ge, lo)?);
                    all_of.push(Comparator::parse(Op::Le, hi)?);
                    i += 3;
                    continue;
                }
                let (op, ver) = split_op(&glued[i]);
                if ver.is_empty() || ver == "-" {
                    return Err(format!("improper constraint: {input}"));
                }
                all_of.push(Comparator::parse(op, ver)?);
                i += 1;
            }
            if all_of.is_empty() {
                return Err(format!("improper constraint: {input}"));
            }
            any_of.push(all_of);
        }
        Ok(Constraints { any_of })
    }

    pub(crate) fn check(&self, v: &Version) -> bool {
        self.any_of.iter().any(|all| all.iter().all(|c| c.check(v)))
    }
}
