//! `.helmignore`: Helm's rules, including its quirks (a negated pattern that does not match
//! ignores the file; `**` is refused; `templates/.?*` is always ignored).

use crate::glob::{FilepathPattern, filepath_match};
use crate::{Error, Result};

/// Parsed `.helmignore` rules.
#[derive(Debug, Default, Clone)]
pub struct Rules {
    patterns: Vec<Pattern>,
}

#[derive(Debug, Clone)]
struct Pattern {
    rule: FilepathPattern,
    kind: Kind,
    negate: bool,
    must_dir: bool,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Leading `/`: matched against the whole relative path.
    Rooted,
    /// Contains `/`: matched against the whole relative path.
    Path,
    /// Plain: matched against the base name.
    Base,
}

impl Rules {
    /// Parses the text of a `.helmignore` file.
    pub fn parse(text: &str) -> Result<Rules> {
        let mut r = Rules::default();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for line in text.lines() {
            r.add(line)?;
        }
        Ok(r)
    }

    /// Adds Helm's default rule (dot files under `templates/`).
    pub fn add_defaults(&mut self) {
        // A constant, valid rule: cannot fail.
        let _ = self.add("templates/.?*");
    }

    fn add(&mut self, rule: &str) -> Result<()> {
        let rule = rule.trim();
        if rule.is_empty() || rule.starts_with('#') {
            return Ok(());
        }
        if rule.contains("**") {
            return Err(Error::Chart(
                "double-star (**) syntax is not supported".into(),
            ));
        }
        if filepath_match(rule, "abc").is_err() {
            return Err(Error::Chart("syntax error in pattern".into()));
        }
        let (negate, rule) = match rule.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, rule),
        };
        let (must_dir, rule) = match rule.strip_suffix('/') {
            Some(r) => (true, r),
            None => (false, rule),
        };
        let (kind, rule) = if let Some(r) = rule.strip_prefix('/') {
            (Kind::Rooted, r)
        } else if rule.contains('/') {
            (Kind::Path, rule)
        } else {
            (Kind::Base, rule)
        };
        self.patterns.push(Pattern {
            rule: FilepathPattern::new(rule),
            kind,
            negate,
            must_dir,
        });
        Ok(())
    }

    /// Whether the chart-relative `path` (a directory when `is_dir`) is ignored.
    pub fn ignore(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        let path_chars: Vec<char> = path.chars().collect();
        let base_start = path_chars
            .iter()
            .rposition(|&c| c == '/')
            .map_or(0, |i| i + 1);
        for p in &self.patterns {
            let target = match p.kind {
                Kind::Rooted | Kind::Path => &path_chars[..],
                Kind::Base => &path_chars[base_start..],
            };
            let matched = p.rule.is_match(target);
            if p.negate {
                if p.must_dir && !is_dir {
                    return true;
                }
                if !matched {
                    return true;
                }
                continue;
            }
            if p.must_dir && !is_dir {
                continue;
            }
            if matched {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helmignore_rules_match_like_helm() {
        let mut r = Rules::parse("# c\n*.bak\n/top.txt\nsub/*.md\nci/\n").unwrap();
        r.add_defaults();
        assert!(r.ignore("a/b.bak", false));
        assert!(r.ignore("top.txt", false));
        assert!(!r.ignore("x/top.txt", false));
        assert!(r.ignore("sub/r.md", false));
        assert!(r.ignore("ci", true));
        assert!(!r.ignore("ci", false));
        assert!(r.ignore("templates/.hidden", false));
        assert!(!r.ignore("templates/ok.yaml", false));
    }

    #[test]
    fn double_star_is_refused() {
        assert!(Rules::parse("**/x").is_err());
    }
}
