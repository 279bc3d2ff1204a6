//! Semver tag selection compatible with Masterminds/semver v3, which Flux uses for
//! `spec.ref.semver`.
//!
//! Why not the `semver` crate's `VersionReq`: its Cargo semantics differ (a bare `1.2` means
//! `^1.2`, no `||`, no hyphen ranges, other pre-release rules). Masterminds' rules are encoded
//! here and the `semver` crate only provides version precedence.

use ::semver::{BuildMetadata, Prerelease, Version};

use crate::{Error, Result};

/// Pick the highest tag in `tags` that satisfies `constraint` (Masterminds syntax:
/// `>=1.0.0 <2.0.0`, `~1.2`, `^1`, `1.x`, `*`, `||`, `1.0 - 2.0`, commas as AND).
///
/// Tags may carry a leading `v` and may be partial (`v1.2`), as Masterminds' `NewVersion`
/// accepts; tags that are not versions are skipped. Pre-release tags only match comparators
/// that themselves carry a pre-release, as in Flux.
pub fn select_tag<'a>(
    constraint: &str,
    tags: impl IntoIterator<Item = &'a str>,
) -> Result<Option<&'a str>> {
    let constraints = Constraints::parse(constraint)?;
    let mut best: Option<(Version, &'a str)> = None;
    for tag in tags {
        let Some(v) = parse_version(tag) else {
            continue;
        };
        if !constraints.check(&v) {
            continue;
        }
        let better = match &best {
            None => true,
            Some((bv, bt)) => v.cmp_precedence(bv).then_with(|| tag.cmp(bt)).is_gt(),
        };
        if better {
            best = Some((v, tag));
        }
    }
    Ok(best.map(|(_, t)| t))
}

/// Lenient version parsing like Masterminds' `NewVersion`: optional `v`, 1–3 numeric parts.
pub fn parse_version(s: &str) -> Option<Version> {
    let s = s.trim();
    let s = s
        .strip_prefix('v')
        .or_else(|| s.strip_prefix('V'))
        .unwrap_or(s);
    let (s, build) = match s.split_once('+') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let (core, pre) = match s.split_once('-') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let mut nums = [0u64; 3];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        nums[i] = p.parse().ok()?;
    }
    let mut v = Version::new(nums[0], nums[1], nums[2]);
    if let Some(pre) = pre {
        v.pre = Prerelease::new(pre).ok()?;
    }
    if let Some(build) = build {
        v.build = BuildMetadata::new(build).ok()?;
    }
    Some(v)
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
    fn parse(op: Op, ver: &str) -> Result<Comparator> {
        let bad = || Error::Semver(format!("improper constraint: {ver}"));
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

/// OR of ANDs of comparators.
#[derive(Debug, Clone)]
struct Constraints {
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
    fn parse(input: &str) -> Result<Constraints> {
        let mut any_of = Vec::new();
        if input.trim().is_empty() {
            return Err(Error::Semver("improper constraint: empty".into()));
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
                return Err(Error::Semver(format!("improper constraint: {input}")));
            }
            let mut all_of = Vec::new();
            let mut i = 0;
            while i < glued.len() {
                if glued.get(i + 1).map(String::as_str) == Some("-") {
                    let (Some(lo), Some(hi)) = (glued.get(i), glued.get(i + 2)) else {
                        return Err(Error::Semver(format!("improper constraint: {input}")));
                    };
                    all_of.push(Comparator::parse(Op::Ge, lo)?);
                    all_of.push(Comparator::parse(Op::Le, hi)?);
                    i += 3;
                    continue;
                }
                let (op, ver) = split_op(&glued[i]);
                if ver.is_empty() || ver == "-" {
                    return Err(Error::Semver(format!("improper constraint: {input}")));
                }
                all_of.push(Comparator::parse(op, ver)?);
                i += 1;
            }
            if all_of.is_empty() {
                return Err(Error::Semver(format!("improper constraint: {input}")));
            }
            any_of.push(all_of);
        }
        Ok(Constraints { any_of })
    }

    fn check(&self, v: &Version) -> bool {
        self.any_of.iter().any(|all| all.iter().all(|c| c.check(v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAGS: &[&str] = &[
        "v0.1.0",
        "v0.1.5",
        "v0.2.0",
        "v1.0.0",
        "v1.0.1",
        "v1.1.0",
        "v1.2.0",
        "v1.2.3",
        "v1.2.9",
        "v1.3.0",
        "v2.0.0-rc.1",
        "v2.0.0",
        "v2.1.0-alpha",
        "3.0.0",
        "not-a-version",
        "latest",
    ];

    fn pick(c: &str) -> Option<&'static str> {
        select_tag(c, TAGS.iter().copied()).expect("valid constraint")
    }

    #[test]
    fn selection_table_matches_masterminds() {
        let cases: &[(&str, Option<&str>)] = &[
            ("*", Some("3.0.0")),
            ("x", Some("3.0.0")),
            (">=1.0.0 <2.0.0", Some("v1.3.0")),
            (">=1.0.0, <2.0.0", Some("v1.3.0")),
            (">= 1.0.0 < 2.0.0", Some("v1.3.0")),
            ("<2.0.0", Some("v1.3.0")),
            ("~1.2", Some("v1.2.9")),
            ("~1.2.3", Some("v1.2.9")),
            ("~>1.2", Some("v1.2.9")),
            ("~1", Some("v1.3.0")),
            ("^1", Some("v1.3.0")),
            ("^1.2.3", Some("v1.3.0")),
            ("^0.1.0", Some("v0.1.5")),
            ("^0.2", Some("v0.2.0")),
            ("1.x", Some("v1.3.0")),
            ("1.2.x", Some("v1.2.9")),
            ("1.2", Some("v1.2.9")),
            ("1", Some("v1.3.0")),
            ("=1.0.0", Some("v1.0.0")),
            ("1.0.0", Some("v1.0.0")),
            ("v1.0.1", Some("v1.0.1")),
            ("!=3.0.0", Some("v2.0.0")),
            ("1.0 - 1.2", Some("v1.2.9")),
            ("1.0.0 - 1.2.0", Some("v1.2.0")),
            ("<1.0.0 || >=2.0.0 <3.0.0", Some("v2.0.0")),
            ("~0.1 || ~1.1", Some("v1.1.0")),
            (">1.2", Some("3.0.0")),
            (">1.2 <2", Some("v1.3.0")),
            (">1.x <3", Some("v2.0.0")),
            ("<=1.2", Some("v1.2.9")),
            ("<=1.x", Some("v1.3.0")),
            (">3.0.0", None),
            ("~4", None),
            // pre-releases only when the constraint has one
            (">=2.0.0-0 <2.0.0", None),
            (">=2.0.0-rc.0", Some("3.0.0")),
            ("2.0.0-rc.1", Some("v2.0.0-rc.1")),
            (">=2.1.0-0", Some("3.0.0")),
            (">=2.1.0-0 <3.0.0", None),
            ("~2.1.0-0", Some("v2.1.0-alpha")),
        ];
        for (c, want) in cases {
            assert_eq!(pick(c), *want, "constraint {c:?}");
        }
    }

    #[test]
    fn prereleases_are_excluded_without_prerelease_constraint() {
        let tags = ["v1.0.0", "v1.1.0", "v2.0.0-rc.1"];
        assert_eq!(select_tag(">=1.0.0", tags).ok().flatten(), Some("v1.1.0"));
        assert_eq!(select_tag("*", tags).ok().flatten(), Some("v1.1.0"));
        assert_eq!(
            select_tag(">=2.0.0-rc.0", tags).ok().flatten(),
            Some("v2.0.0-rc.1")
        );
        assert_eq!(select_tag("<2.0.0", tags).ok().flatten(), Some("v1.1.0"));
    }

    #[test]
    fn invalid_constraints_are_errors() {
        for c in ["", "   ", ">=", "foo", ">=1.2.3.4", "1.0 -", "~a.b"] {
            assert!(
                matches!(select_tag(c, ["v1.0.0"]), Err(Error::Semver(_))),
                "{c:?}"
            );
        }
    }

    #[test]
    fn versions_parse_leniently() {
        assert_eq!(parse_version("v1.2"), Some(Version::new(1, 2, 0)));
        assert_eq!(parse_version("1"), Some(Version::new(1, 0, 0)));
        assert!(parse_version("v1.2.3-rc.1+build.5").is_some());
        assert_eq!(parse_version("release-1"), None);
        assert_eq!(parse_version("1.2.3.4"), None);
    }

    #[test]
    fn highest_wins_regardless_of_order_and_v_prefix() {
        let tags = ["1.0.0", "v1.5.0", "v1.10.0", "1.9.0"];
        assert_eq!(select_tag("^1", tags).ok().flatten(), Some("v1.10.0"));
        assert_eq!(
            select_tag("^1", tags.into_iter().rev()).ok().flatten(),
            Some("v1.10.0")
        );
    }
}
