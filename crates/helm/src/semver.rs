//! Masterminds/semver v3 as Helm uses it: loose version parsing and constraint ranges
//! (`kubeVersion`, dependency `version`). Only what charts need: comparisons, x-ranges,
//! `~`, `^`, hyphen ranges, `,`/space AND, `||` OR, and Masterminds' pre-release rule.

use std::cmp::Ordering;

/// A parsed version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
}

fn version_re() -> Option<&'static regex::Regex> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    crate::cached_regex(
        &RE,
        r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$",
    )
}

impl Version {
    /// Masterminds' `NewVersion` (missing minor/patch are 0; a `v` prefix is allowed).
    pub fn parse(s: &str) -> Option<Version> {
        let caps = version_re()?.captures(s)?;
        let num = |i: usize| -> Option<u64> {
            match caps.get(i) {
                Some(m) => m.as_str().trim_start_matches('.').parse().ok(),
                None => Some(0),
            }
        };
        Some(Version {
            major: num(1)?,
            minor: num(2)?,
            patch: num(3)?,
            pre: caps
                .get(5)
                .map(|m| m.as_str().to_string())
                .unwrap_or_default(),
        })
    }

    fn cmp_semver(&self, o: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(o.major, o.minor, o.patch))
            .then_with(|| cmp_pre(&self.pre, &o.pre))
    }
}

fn cmp_pre(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let (pa, pb): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    for i in 0..pa.len().max(pb.len()) {
        let (Some(x), Some(y)) = (pa.get(i), pb.get(i)) else {
            return pa.len().cmp(&pb.len());
        };
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(n), Ok(m)) => n.cmp(&m),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            _ => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

#[derive(Debug, Clone, Copy, PartialEq)]
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

#[derive(Debug, Clone)]
struct Term {
    op: Op,
    v: Version,
    /// How many leading components were given as numbers (a wildcard or absence ends it).
    exact: usize,
    /// Whether the term has a pre-release (then pre-release versions may match).
    has_pre: bool,
}

/// A parsed constraint: OR of AND groups.
#[derive(Debug, Clone)]
pub struct Constraint(Vec<Vec<Term>>);

impl Constraint {
    pub fn parse(s: &str) -> Option<Constraint> {
        static TERM: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
        static HYPHEN: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
        static GLUE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
        let term_re = crate::cached_regex(
            &TERM,
            r"^(!=|>=|=>|<=|=<|~>|>|<|=|~|\^)?\s*v?((?:[0-9]+|[xX*])(?:\.(?:[0-9]+|[xX*]))?(?:\.(?:[0-9]+|[xX*]))?(?:-[0-9A-Za-z\-.]+)?(?:\+[0-9A-Za-z\-.]+)?)$",
        )?;
        let hyphen = crate::cached_regex(&HYPHEN, r"(\S+)\s+-\s+(\S+)")?;
        let glue = crate::cached_regex(&GLUE, r"(!=|>=|=>|<=|=<|~>|>|<|=|~|\^)\s+")?;
        let mut groups = Vec::new();
        for group in s.split("||") {
            let group = hyphen.replace_all(group.trim(), ">= $1, <= $2").to_string();
            // Operators may be separated from their version by spaces: glue them first.
            let group = glue.replace_all(&group, "$1").to_string();
            let mut terms = Vec::new();
            for t in group
                .split([',', ' '])
                .map(str::trim)
                .filter(|t| !t.is_empty())
            {
                let caps = term_re.captures(t)?;
                let op = match caps.get(1).map(|m| m.as_str()).unwrap_or("") {
                    "" | "=" => Op::Eq,
                    "!=" => Op::Ne,
                    ">" => Op::Gt,
                    "<" => Op::Lt,
                    ">=" | "=>" => Op::Ge,
                    "<=" | "=<" => Op::Le,
                    "~" | "~>" => Op::Tilde,
                    _ => Op::Caret,
                };
                let vs = caps.get(2)?.as_str();
                let (core, pre) = match vs.split_once('-') {
                    Some((c, p)) => (c, p.split('+').next().unwrap_or("").to_string()),
                    None => (vs.split('+').next().unwrap_or(vs), String::new()),
                };
                let mut nums = [0u64; 3];
                let mut exact = 0;
                for (i, part) in core.split('.').enumerate() {
                    match part.parse::<u64>() {
                        Ok(n) if exact == i => {
                            nums[i] = n;
                            exact += 1;
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
                terms.push(Term {
                    op,
                    has_pre: !pre.is_empty(),
                    v: Version {
                        major: nums[0],
                        minor: nums[1],
                        patch: nums[2],
                        pre,
                    },
                    exact,
                });
            }
            if terms.is_empty() {
                return None;
            }
            groups.push(terms);
        }
        Some(Constraint(groups))
    }

    pub fn check(&self, v: &Version) -> bool {
        self.0.iter().any(|g| g.iter().all(|t| t.check(v)))
    }
}

impl Term {
    /// The version just above the wildcard range (`1.2.x` → 1.3.0).
    fn bump(&self) -> Version {
        let v = &self.v;
        let (major, minor, patch) = match self.exact {
            0 => (u64::MAX, 0, 0),
            1 => (v.major + 1, 0, 0),
            2 => (v.major, v.minor + 1, 0),
            _ => (v.major, v.minor, v.patch + 1),
        };
        Version {
            major,
            minor,
            patch,
            pre: String::new(),
        }
    }

    fn check(&self, v: &Version) -> bool {
        if !v.pre.is_empty() && !self.has_pre {
            return false;
        }
        let lo = Version {
            pre: self.v.pre.clone(),
            ..self.v.clone()
        };
        let ge_lo = v.cmp_semver(&lo) != Ordering::Less;
        let lt = |x: &Version| v.cmp_semver(x) == Ordering::Less;
        match self.op {
            Op::Eq if self.exact < 3 => ge_lo && lt(&self.bump()),
            Op::Eq => v.cmp_semver(&lo) == Ordering::Equal,
            Op::Ne if self.exact < 3 => !(ge_lo && lt(&self.bump())),
            Op::Ne => v.cmp_semver(&lo) != Ordering::Equal,
            Op::Gt if self.exact < 3 => !lt(&self.bump()),
            Op::Gt => v.cmp_semver(&lo) == Ordering::Greater,
            Op::Ge => ge_lo,
            Op::Lt => lt(&lo),
            Op::Le if self.exact < 3 => lt(&self.bump()),
            Op::Le => v.cmp_semver(&lo) != Ordering::Greater,
            Op::Tilde => {
                let hi = if self.exact <= 1 {
                    Version {
                        major: self.v.major + 1,
                        minor: 0,
                        patch: 0,
                        pre: String::new(),
                    }
                } else {
                    Version {
                        major: self.v.major,
                        minor: self.v.minor + 1,
                        patch: 0,
                        pre: String::new(),
                    }
                };
                ge_lo && lt(&hi)
            }
            Op::Caret => {
                let hi = if self.v.major > 0 || self.exact <= 1 {
                    Version {
                        major: self.v.major + 1,
                        minor: 0,
                        patch: 0,
                        pre: String::new(),
                    }
                } else if self.v.minor > 0 || self.exact == 2 {
                    Version {
                        major: 0,
                        minor: self.v.minor + 1,
                        patch: 0,
                        pre: String::new(),
                    }
                } else {
                    Version {
                        major: 0,
                        minor: 0,
                        patch: self.v.patch + 1,
                        pre: String::new(),
                    }
                };
                ge_lo && lt(&hi)
            }
        }
    }
}

/// Helm's `IsCompatibleRange`: false when either side does not parse.
pub fn is_compatible_range(constraint: &str, version: &str) -> bool {
    match (Version::parse(version), Constraint::parse(constraint)) {
        (Some(v), Some(c)) => c.check(&v),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_match_like_masterminds() {
        assert!(is_compatible_range("2.x.x", "2.31.4"));
        assert!(!is_compatible_range("2.x.x", "3.0.0"));
        assert!(is_compatible_range(">=1.16.0-0", "v1.20.0"));
        assert!(!is_compatible_range(">= 1.25.0-0", "v1.20.0"));
        assert!(is_compatible_range("~1.2.3", "1.2.9"));
        assert!(!is_compatible_range("~1.2.3", "1.3.0"));
        assert!(is_compatible_range("^0.2.3", "0.2.9"));
        assert!(!is_compatible_range("^0.2.3", "0.3.0"));
        assert!(is_compatible_range(">1.0, <2.0 || 3.x", "3.4.0"));
        assert!(is_compatible_range("1.0 - 2.0", "1.5.0"));
        assert!(!is_compatible_range(">=1.0.0", "1.5.0-rc.1"));
        assert!(is_compatible_range("*", "0.1.0"));
        assert!(!is_compatible_range("", "0.1.0"));
    }
}
