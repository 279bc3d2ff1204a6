//! Masterminds/semver v3 versions and constraints, as Flux (`spec.ref.semver`), Sprig
//! (`semverCompare`) and Helm (`kubeVersion`, dependency `version` ranges, chart version
//! validation) evaluate them.
//!
//! Why not the `semver` crate's `VersionReq`: its Cargo semantics differ (a bare `1.2` means
//! `^1.2`, no `||`, no hyphen ranges, other pre-release rules). Masterminds' rules are encoded
//! here and the `semver` crate only provides version precedence.
#![forbid(unsafe_code)]

use ::semver::{BuildMetadata, Prerelease, Version};

/// A constraint Masterminds would refuse; the text is Masterminds' wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Error(pub String);

pub type Result<T> = std::result::Result<T, Error>;

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
    fn parse(op: Op, ver: &str) -> Result<Comparator> {
        let bad = || Error(format!("improper constraint: {ver}"));
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
        let num = |i: usize| -> Result<Option<u64>> {
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

/// OR (`||`) of ANDs of comparators.
#[derive(Debug, Clone)]
pub struct Constraints {
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
    pub fn parse(input: &str) -> Result<Constraints> {
        let mut any_of = Vec::new();
        if input.trim().is_empty() {
            return Err(Error("improper constraint: empty".into()));
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
                return Err(Error(format!("improper constraint: {input}")));
            }
            let mut all_of = Vec::new();
            let mut i = 0;
            while i < glued.len() {
                if glued.get(i + 1).map(String::as_str) == Some("-") {
                    let (Some(lo), Some(hi)) = (glued.get(i), glued.get(i + 2)) else {
                        return Err(Error(format!("improper constraint: {input}")));
                    };
                    all_of.push(Comparator::parse(Op::Ge, lo)?);
                    all_of.push(Comparator::parse(Op::Le, hi)?);
                    i += 3;
                    continue;
                }
                let (op, ver) = split_op(&glued[i]);
                if ver.is_empty() || ver == "-" {
                    return Err(Error(format!("improper constraint: {input}")));
                }
                all_of.push(Comparator::parse(op, ver)?);
                i += 1;
            }
            if all_of.is_empty() {
                return Err(Error(format!("improper constraint: {input}")));
            }
            any_of.push(all_of);
        }
        Ok(Constraints { any_of })
    }

    pub fn check(&self, v: &Version) -> bool {
        self.any_of.iter().any(|all| all.iter().all(|c| c.check(v)))
    }
}

/// Masterminds' `NewVersion`: optional lowercase `v`, one to three numeric parts (missing
/// ones are 0), pre-release (no leading zeros in numeric identifiers) and build metadata.
/// Errors carry Masterminds' wording.
pub fn parse_version(s: &str) -> Result<Version> {
    let invalid = || Error("invalid semantic version".into());
    let t = s.strip_prefix('v').unwrap_or(s);
    let (t, build) = t.split_once('+').map_or((t, None), |(a, b)| (a, Some(b)));
    let (core, pre) = t.split_once('-').map_or((t, None), |(a, b)| (a, Some(b)));
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() > 3 {
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
        x.split('.')
            .all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    };
    let mut v = Version::new(nums[0], nums[1], nums[2]);
    if let Some(pre) = pre {
        if !ident_ok(pre) {
            return Err(invalid());
        }
        if pre
            .split('.')
            .any(|id| id.len() > 1 && id.starts_with('0') && id.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(Error("version segment starts with 0".into()));
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

/// Helm's `chartutil.IsCompatibleRange`: whether `version` satisfies `constraint`; false
/// when either does not parse.
pub fn is_compatible_range(constraint: &str, version: &str) -> bool {
    match (Constraints::parse(constraint), parse_version(version)) {
        (Ok(c), Ok(v)) => c.check(&v),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    /// Expectations checked against Masterminds/semver v3.5.0 (Helm 3.22's).
    fn versions_parse_like_masterminds_new_version() {
        assert_eq!(parse_version("v1.2").unwrap(), Version::new(1, 2, 0));
        assert_eq!(parse_version("3").unwrap(), Version::new(3, 0, 0));
        assert_eq!(parse_version("01.2.3").unwrap(), Version::new(1, 2, 3));
        let v = parse_version("1.2.3-rc.1+build.5").unwrap();
        assert_eq!((v.pre.as_str(), v.build.as_str()), ("rc.1", "build.5"));
        assert_eq!(
            parse_version("1.2.3-01").unwrap_err().to_string(),
            "version segment starts with 0"
        );
        for bad in [
            "",
            "V1.2.3",
            "1.2.3.4",
            "1..2",
            "x.1",
            "1.2.3-",
            "1.2.3-a..b",
            " 1.2.3",
        ] {
            assert_eq!(
                parse_version(bad).map_err(|e| e.to_string()),
                Err("invalid semantic version".to_string()),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn helm_ranges_match_like_masterminds() {
        assert!(is_compatible_range("2.x.x", "2.31.4"));
        assert!(!is_compatible_range("2.x.x", "3.0.0"));
        assert!(is_compatible_range(">=1.16.0-0", "v1.20.0"));
        assert!(!is_compatible_range(">= 1.25.0-0", "v1.20.0"));
        assert!(is_compatible_range(">= 1.19.0-0, < 1.40.0-0", "v1.33.0"));
        assert!(is_compatible_range("~1.2.3", "1.2.9"));
        assert!(!is_compatible_range("~1.2.3", "1.3.0"));
        assert!(is_compatible_range("^0.2.3", "0.2.9"));
        assert!(!is_compatible_range("^0.2.3", "0.3.0"));
        assert!(is_compatible_range(">1.0, <2.0 || 3.x", "3.4.0"));
        assert!(is_compatible_range("1.0 - 2.0", "1.5.0"));
        assert!(!is_compatible_range(">=1.0.0", "1.5.0-rc.1"));
        assert!(is_compatible_range("*", "0.1.0"));
        assert!(!is_compatible_range("", "0.1.0"));
        assert!(!is_compatible_range(">=1.0.0", "not-a-version"));
    }
}
