//! Flux's artifact exclusion rules (fluxcd/pkg/sourceignore + source-controller's
//! `SourceIgnoreFilter`), with go-git's gitignore matcher semantics.
//!
//! Why a hand-written matcher rather than the `ignore` crate: Flux matches with go-git's
//! `gitignore` package, whose semantics differ from git's in ways that change which files end
//! up in an artifact (a pattern also matches when it matches any *parent* path, and the last
//! matching pattern in the whole list wins). Reproducing go-git keeps artifacts byte-identical
//! with Flux's.
//!
//! Rules, as source-controller applies them:
//! * patterns come from `.sourceignore` files at any depth (scoped to their directory; the
//!   walk skips `.git`), followed by `spec.ignore` (scoped to the root);
//! * with no such patterns, the default exclusions apply (VCS, media/archives, CI files,
//!   `**/.goreleaser.yml`, `**/.sops.yaml`, `**/.flux.yaml`);
//! * with any such patterns, they *replace* the defaults except the VCS ones (`.git/`,
//!   `.gitignore`, `.gitmodules`, `.gitattributes`), which stay first (lowest priority).

use std::path::{Component, Path};

use crate::Result;

/// The name of the per-directory ignore file.
pub const IGNORE_FILE: &str = ".sourceignore";
/// `sourceignore.ExcludeVCS`.
pub const EXCLUDE_VCS: &str = ".git/,.gitignore,.gitmodules,.gitattributes";
/// `sourceignore.ExcludeExt`.
pub const EXCLUDE_EXT: &str = "*.jpg,*.jpeg,*.gif,*.png,*.wmv,*.flv,*.tar.gz,*.zip";
/// `sourceignore.ExcludeCI`.
pub const EXCLUDE_CI: &str = ".github/,.circleci/,.travis.yml,.gitlab-ci.yml,appveyor.yml,.drone.yml,cloudbuild.yaml,codeship-services.yml,codeship-steps.yml";
/// `sourceignore.ExcludeExtra`.
pub const EXCLUDE_EXTRA: &str = "**/.goreleaser.yml,**/.sops.yaml,**/.flux.yaml";

/// One go-git gitignore pattern.
#[derive(Debug, Clone)]
struct Pattern {
    domain: Vec<String>,
    parts: Vec<String>,
    inclusion: bool,
    dir_only: bool,
    is_glob: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MatchResult {
    NoMatch,
    Exclude,
    Include,
}

impl Pattern {
    /// go-git `gitignore.ParsePattern`.
    fn parse(p: &str, domain: &[String]) -> Pattern {
        let mut p = p;
        let mut inclusion = false;
        if let Some(rest) = p.strip_prefix('!') {
            inclusion = true;
            p = rest;
        }
        let trimmed;
        if !p.ends_with("\\ ") {
            trimmed = p.trim_end_matches(' ');
            p = trimmed;
        }
        let mut dir_only = false;
        if let Some(rest) = p.strip_suffix('/') {
            dir_only = true;
            p = rest;
        }
        Pattern {
            domain: domain.to_vec(),
            is_glob: p.contains('/'),
            parts: p.split('/').map(str::to_owned).collect(),
            inclusion,
            dir_only,
        }
    }

    fn matches(&self, path: &[&str], is_dir: bool) -> MatchResult {
        if path.len() <= self.domain.len() {
            return MatchResult::NoMatch;
        }
        if self.domain.iter().zip(path).any(|(d, p)| d != p) {
            return MatchResult::NoMatch;
        }
        let path = &path[self.domain.len()..];
        let ok = if self.is_glob {
            self.glob_match(path, is_dir)
        } else {
            self.simple_name_match(path, is_dir)
        };
        match (ok, self.inclusion) {
            (false, _) => MatchResult::NoMatch,
            (true, true) => MatchResult::Include,
            (true, false) => MatchResult::Exclude,
        }
    }

    fn simple_name_match(&self, path: &[&str], is_dir: bool) -> bool {
        let Some(pattern) = self.parts.first() else {
            return false;
        };
        for (i, name) in path.iter().enumerate() {
            match fnmatch(pattern, name) {
                None => return false,
                Some(false) => continue,
                Some(true) => {}
            }
            if self.dir_only && !is_dir && i == path.len() - 1 {
                return false;
            }
            return true;
        }
        false
    }

    fn glob_match(&self, mut path: &[&str], is_dir: bool) -> bool {
        let mut matched = false;
        let mut can_traverse = false;
        for (i, pattern) in self.parts.iter().enumerate() {
            if pattern.is_empty() {
                can_traverse = false;
                continue;
            }
            if pattern == "**" {
                if i == self.parts.len() - 1 {
                    break;
                }
                can_traverse = true;
                continue;
            }
            if pattern.contains("**") {
                return false;
            }
            if path.is_empty() {
                return false;
            }
            if can_traverse {
                can_traverse = false;
                while let Some((e, rest)) = path.split_first() {
                    path = rest;
                    match fnmatch(pattern, e) {
                        None => return false,
                        Some(true) => {
                            matched = true;
                            break;
                        }
                        Some(false) if path.is_empty() => matched = false,
                        Some(false) => {}
                    }
                }
            } else {
                match fnmatch(pattern, path[0]) {
                    Some(true) => {}
                    _ => return false,
                }
                matched = true;
                path = &path[1..];
            }
        }
        if matched && self.dir_only && !is_dir && path.is_empty() {
            matched = false;
        }
        matched
    }
}

/// Go's `filepath.Match` for a single path component: `Some(matched)`, or `None` for a
/// malformed pattern (which go-git treats as "no match").
fn fnmatch(pattern: &str, name: &str) -> Option<bool> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    fn go(p: &[char], n: &[char]) -> Option<bool> {
        let Some((&c, rest)) = p.split_first() else {
            return Some(n.is_empty());
        };
        match c {
            '*' => {
                // Try every split; `*` does not cross '/' (names have none).
                for k in 0..=n.len() {
                    if n[..k].contains(&'/') {
                        break;
                    }
                    if go(rest, &n[k..])? {
                        return Some(true);
                    }
                }
                Some(false)
            }
            '?' => match n.split_first() {
                Some((&ch, nrest)) if ch != '/' => go(rest, nrest),
                _ => {
                    // Validate the rest of the pattern so malformed ones still error.
                    go(rest, &[]).map(|_| false)
                }
            },
            '[' => {
                let (matched, consumed) = class(rest, n.first().copied())?;
                let after = &rest[consumed..];
                match (matched, n.split_first()) {
                    (true, Some((_, nrest))) => go(after, nrest),
                    _ => go(after, &[]).map(|_| false),
                }
            }
            '\\' => {
                let (&lit, rest) = rest.split_first()?;
                match n.split_first() {
                    Some((&ch, nrest)) if ch == lit => go(rest, nrest),
                    _ => go(rest, &[]).map(|_| false),
                }
            }
            lit => match n.split_first() {
                Some((&ch, nrest)) if ch == lit => go(rest, nrest),
                _ => go(rest, &[]).map(|_| false),
            },
        }
    }
    /// Parse a `[...]` class (after the `[`) against `ch`: (matched, chars consumed incl. `]`).
    fn class(p: &[char], ch: Option<char>) -> Option<(bool, usize)> {
        let mut i = 0;
        let negated = p.first() == Some(&'^');
        if negated {
            i += 1;
        }
        let mut matched = false;
        let mut first = true;
        loop {
            let c = *p.get(i)?;
            if c == ']' && !first {
                i += 1;
                break;
            }
            first = false;
            let lo = if c == '\\' {
                i += 1;
                *p.get(i)?
            } else {
                c
            };
            i += 1;
            let mut hi = lo;
            if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|c| *c != ']') {
                i += 1;
                hi = if p[i] == '\\' {
                    i += 1;
                    *p.get(i)?
                } else {
                    p[i]
                };
                i += 1;
                if hi < lo {
                    return None;
                }
            }
            if let Some(ch) = ch
                && lo <= ch
                && ch <= hi
            {
                matched = true;
            }
        }
        Some((ch.is_some() && matched != negated && ch != Some('/'), i))
    }
    go(&p, &n)
}

/// `sourceignore.ReadPatterns`: one pattern per line, `#` comments, blank lines skipped.
fn read_patterns(text: &str, domain: &[String]) -> Vec<Pattern> {
    text.lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| Pattern::parse(l, domain))
        .collect()
}

fn csv_patterns(csv: &str) -> Vec<Pattern> {
    csv.split(',').map(|p| Pattern::parse(p, &[])).collect()
}

/// `sourceignore.LoadIgnorePatterns`: depth-first, a directory's file before its children's.
fn load_ignore_files(dir: &Path, domain: &mut Vec<String>, out: &mut Vec<Pattern>) -> Result<()> {
    let file = dir.join(IGNORE_FILE);
    match std::fs::read(&file) {
        Ok(bytes) => out.extend(read_patterns(&String::from_utf8_lossy(&bytes), domain)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<std::io::Result<_>>()?;
    // os.ReadDir returns entries sorted by name.
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type()?.is_dir() && name != ".git" {
            domain.push(name);
            load_ignore_files(&entry.path(), domain, out)?;
            domain.pop();
        }
    }
    Ok(())
}

/// The exclusion rules for one checked-out source.
#[derive(Debug, Clone)]
pub struct Filter {
    patterns: Vec<Pattern>,
}

impl Filter {
    /// Rules for the tree at `root` (reads its `.sourceignore` files) plus `spec.ignore`.
    pub fn new(root: &Path, spec_ignore: Option<&str>) -> Result<Filter> {
        let mut user = Vec::new();
        load_ignore_files(root, &mut Vec::new(), &mut user)?;
        if let Some(spec) = spec_ignore {
            user.extend(read_patterns(spec, &[]));
        }
        Ok(Filter::from_user_patterns(user))
    }

    /// Rules from `spec.ignore` alone, without reading any directory.
    pub fn from_spec(spec_ignore: Option<&str>) -> Filter {
        Filter::from_user_patterns(
            spec_ignore
                .map(|s| read_patterns(s, &[]))
                .unwrap_or_default(),
        )
    }

    fn from_user_patterns(user: Vec<Pattern>) -> Filter {
        let mut patterns = csv_patterns(EXCLUDE_VCS);
        if user.is_empty() {
            patterns.extend(csv_patterns(EXCLUDE_EXT));
            patterns.extend(csv_patterns(EXCLUDE_CI));
            patterns.extend(csv_patterns(EXCLUDE_EXTRA));
        } else {
            patterns.extend(user);
        }
        Filter { patterns }
    }

    /// Whether `rel_path` (relative to the root) is excluded; the last matching pattern wins.
    pub fn is_ignored(&self, rel_path: &Path, is_dir: bool) -> bool {
        let parts: Vec<String> = rel_path
            .components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        if parts.is_empty() {
            return false;
        }
        for p in self.patterns.iter().rev() {
            match p.matches(&parts, is_dir) {
                MatchResult::NoMatch => continue,
                MatchResult::Exclude => return true,
                MatchResult::Include => return false,
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ig(f: &Filter, p: &str) -> bool {
        f.is_ignored(Path::new(p), false)
    }
    fn ig_dir(f: &Filter, p: &str) -> bool {
        f.is_ignored(Path::new(p), true)
    }

    #[test]
    fn go_filepath_match_semantics() {
        assert_eq!(fnmatch("*.yaml", "a.yaml"), Some(true));
        assert_eq!(fnmatch("*.yaml", "a.yml"), Some(false));
        assert_eq!(fnmatch("a?c", "abc"), Some(true));
        assert_eq!(fnmatch("[a-c]x", "bx"), Some(true));
        assert_eq!(fnmatch("[^a-c]x", "bx"), Some(false));
        assert_eq!(fnmatch("[^a-c]x", "dx"), Some(true));
        assert_eq!(fnmatch("\\*", "*"), Some(true));
        assert_eq!(fnmatch("[", "a"), None);
        assert_eq!(fnmatch("*.tar.gz", "x.tar.gz"), Some(true));
    }

    #[test]
    fn defaults_exclude_vcs_media_ci_and_extras() {
        let f = Filter::from_spec(None);
        for p in [
            ".git/config",
            ".gitignore",
            "sub/.gitmodules",
            ".gitattributes",
            "img/logo.png",
            "a.jpg",
            "a.jpeg",
            "a.gif",
            "v.wmv",
            "v.flv",
            "dist/x.tar.gz",
            "x.zip",
            ".github/workflows/ci.yaml",
            ".circleci/config.yml",
            ".travis.yml",
            ".gitlab-ci.yml",
            "appveyor.yml",
            ".drone.yml",
            "cloudbuild.yaml",
            "codeship-services.yml",
            "codeship-steps.yml",
            ".goreleaser.yml",
            "deep/er/.sops.yaml",
            "x/.flux.yaml",
        ] {
            assert!(ig(&f, p), "{p} should be ignored by default");
        }
        for p in [
            "deploy.yaml",
            "apps/kustomization.yaml",
            "README.md",
            "charts/x/values.yaml",
        ] {
            assert!(!ig(&f, p), "{p} should be kept by default");
        }
        assert!(ig_dir(&f, ".git"));
        assert!(ig_dir(&f, ".github"));
        // Checked-out submodules carry their own repository directory.
        assert!(ig_dir(&f, "vendor/lib/.git"));
        assert!(ig(&f, "vendor/lib/.gitmodules"));
        assert!(!ig(&f, "vendor/lib/lib.txt"));
    }

    #[test]
    fn spec_ignore_replaces_defaults_but_keeps_vcs() {
        let f = Filter::from_spec(Some("*.txt\n"));
        assert!(ig(&f, "notes.txt"));
        assert!(ig(&f, "a/b/notes.txt"));
        assert!(!ig(&f, "logo.png"), "defaults are replaced");
        assert!(
            !ig(&f, ".github/workflows/ci.yaml"),
            "defaults are replaced"
        );
        assert!(ig(&f, ".git/HEAD"), "VCS stays excluded");
        assert!(ig(&f, ".gitignore"), "VCS stays excluded");
    }

    #[test]
    fn walkthrough_block_keeps_only_manifests() {
        let f = Filter::from_spec(Some("/*\n!/manifests/\n"));
        assert!(!ig(&f, "manifests/deploy.yaml"));
        assert!(!ig(&f, "manifests/nested/svc.yaml"));
        assert!(!ig_dir(&f, "manifests"));
        assert!(ig(&f, "README.md"));
        assert!(ig(&f, "apps/app.yaml"));
        assert!(ig_dir(&f, "apps"));
        assert!(ig(&f, ".git/config"));
        // A *file* named manifests is not the manifests directory.
        assert!(ig(&f, "manifests"));
    }

    #[test]
    fn comments_blank_lines_and_negation() {
        let f = Filter::from_spec(Some("# comment\n\n*.yaml\n!keep.yaml\n"));
        assert!(ig(&f, "a.yaml"));
        assert!(!ig(&f, "keep.yaml"));
        assert!(!ig(&f, "dir/keep.yaml"));
        assert!(!ig(&f, "# comment"));
    }

    #[test]
    fn dir_only_patterns_match_dirs_and_their_contents() {
        let f = Filter::from_spec(Some("build/\n"));
        assert!(ig_dir(&f, "build"));
        assert!(ig(&f, "build/out.yaml"));
        assert!(ig(&f, "sub/build/out.yaml"));
        assert!(!ig(&f, "build"), "a file called build is not a directory");
    }

    #[test]
    fn anchored_and_double_star_patterns() {
        let f = Filter::from_spec(Some("/top.yaml\ndocs/*.md\n**/secret.yaml\na/**/z.yaml\n"));
        assert!(ig(&f, "top.yaml"));
        assert!(!ig(&f, "sub/top.yaml"));
        assert!(ig(&f, "docs/x.md"));
        assert!(!ig(&f, "other/docs/x.md"));
        assert!(ig(&f, "secret.yaml"));
        assert!(ig(&f, "a/b/c/secret.yaml"));
        assert!(ig(&f, "a/b/c/z.yaml"));
        assert!(ig(&f, "a/z.yaml"));
    }

    #[test]
    fn nested_sourceignore_files_are_scoped_to_their_directory() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path();
        std::fs::create_dir_all(root.join("apps/dev")).expect("mkdir");
        std::fs::create_dir_all(root.join("infra")).expect("mkdir");
        std::fs::create_dir_all(root.join(".git")).expect("mkdir");
        std::fs::write(root.join(".sourceignore"), "*.md\n").expect("write");
        std::fs::write(root.join("apps/.sourceignore"), "/local.yaml\n!README.md\n")
            .expect("write");
        std::fs::write(root.join("apps/dev/.sourceignore"), "*.txt\n").expect("write");
        // Must not be read: .git is skipped by the walk.
        std::fs::write(root.join(".git/.sourceignore"), "*.yaml\n").expect("write");
        let f = Filter::new(root, None).expect("filter");
        assert!(ig(&f, "README.md"));
        assert!(ig(&f, "infra/README.md"));
        assert!(
            !ig(&f, "apps/README.md"),
            "nested negation wins for its subtree"
        );
        assert!(ig(&f, "apps/local.yaml"));
        assert!(
            !ig(&f, "local.yaml"),
            "apps/.sourceignore is scoped to apps/"
        );
        assert!(!ig(&f, "apps/dev/local.yaml"), "anchored to apps/");
        assert!(ig(&f, "apps/dev/notes.txt"));
        assert!(!ig(&f, "apps/notes.txt"));
        assert!(!ig(&f, "infra/x.yaml"));
        // User patterns replace the defaults (except VCS), as source-controller does.
        assert!(!ig(&f, "logo.png"));
        assert!(ig(&f, ".git/config"));
    }

    #[test]
    fn spec_ignore_has_priority_over_sourceignore_files() {
        let tmp = tempfile::tempdir().expect("tmp");
        std::fs::write(tmp.path().join(".sourceignore"), "*.yaml\n").expect("write");
        let f = Filter::new(tmp.path(), Some("!important.yaml\n")).expect("filter");
        assert!(ig(&f, "a.yaml"));
        assert!(!ig(&f, "important.yaml"));
    }

    #[test]
    fn no_sourceignore_and_no_spec_means_defaults() {
        let tmp = tempfile::tempdir().expect("tmp");
        let f = Filter::new(tmp.path(), None).expect("filter");
        assert!(ig(&f, "logo.png"));
        assert!(!ig(&f, "deploy.yaml"));
    }
}
