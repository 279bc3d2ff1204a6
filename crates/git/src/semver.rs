//! Semver tag selection compatible with Masterminds/semver v3, which Flux uses for
//! `spec.ref.semver`.
//!
//! Why not the `semver` crate's `VersionReq`: its Cargo semantics differ (a bare `1.2` means
//! `^1.2`, no `||`, no hyphen ranges, other pre-release rules). Masterminds' rules are encoded
//! here and the `semver` crate only provides version precedence.

use ::semver::Version;
use ferroflux_semver::Constraints;

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
    let constraints = Constraints::parse(constraint).map_err(|e| Error::Semver(e.0))?;
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

/// Masterminds' `NewVersion` (the shared crate's), as Flux parses tags; `None` for tags that
/// are not versions.
pub fn parse_version(s: &str) -> Option<Version> {
    ferroflux_semver::parse_version(s).ok()
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
