//! The two pattern languages charts use: Go's `filepath.Match` (`.helmignore`) and
//! gobwas/glob with `/` as separator (`.Files.Glob`).

/// Go's `ErrBadPattern`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPattern;

/// Go's `path/filepath.Match` on `/`-separated names. `Err` for a malformed pattern.
pub fn filepath_match(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Validate the whole pattern first, as Go reports a bad pattern even after a mismatch.
    validate(&p)?;
    Ok(match_from(&p, &n))
}

/// A `filepath.Match` pattern decoded once, for matching many names.
#[derive(Debug, Clone)]
pub(crate) struct FilepathPattern {
    chars: Vec<char>,
    /// A malformed pattern matches nothing (Go returns `ErrBadPattern`, Helm reads `false`).
    valid: bool,
}

impl FilepathPattern {
    pub(crate) fn new(pattern: &str) -> Self {
        let chars: Vec<char> = pattern.chars().collect();
        let valid = validate(&chars).is_ok();
        FilepathPattern { chars, valid }
    }

    /// `filepath_match(pattern, name).unwrap_or(false)` for a name already split into chars.
    pub(crate) fn is_match(&self, name: &[char]) -> bool {
        self.valid && match_from(&self.chars, name)
    }
}

fn validate(p: &[char]) -> Result<(), BadPattern> {
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' => {
                if i + 1 >= p.len() {
                    return Err(BadPattern);
                }
                i += 2;
            }
            '[' => {
                let (_, next) = class(p, i, None)?;
                i = next;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Parses the class starting at `p[i] == '['`; with `c`, whether `c` matches. Returns the
/// match and the index after `]`.
fn class(p: &[char], mut i: usize, c: Option<char>) -> Result<(bool, usize), BadPattern> {
    i += 1;
    let negated = p.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let ch = *p.get(i).ok_or(BadPattern)?;
        if ch == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        let (lo, next) = class_char(p, i)?;
        i = next;
        let mut hi = lo;
        if p.get(i) == Some(&'-') {
            let (h, next) = class_char(p, i + 1)?;
            hi = h;
            i = next;
        }
        if let Some(c) = c
            && lo <= c
            && c <= hi
        {
            matched = true;
        }
    }
    Ok((matched != negated, i))
}

fn class_char(p: &[char], i: usize) -> Result<(char, usize), BadPattern> {
    match p.get(i) {
        None | Some('-') | Some(']') => Err(BadPattern),
        Some('\\') => p.get(i + 1).map(|c| (*c, i + 2)).ok_or(BadPattern),
        Some(c) => Ok((*c, i + 1)),
    }
}

fn match_from(p: &[char], n: &[char]) -> bool {
    if p.is_empty() {
        return n.is_empty();
    }
    match p[0] {
        '*' => {
            let rest = &p[1..];
            for k in 0..=n.len() {
                if match_from(rest, &n[k..]) {
                    return true;
                }
                if k < n.len() && n[k] == '/' {
                    return false;
                }
            }
            false
        }
        '?' => !n.is_empty() && n[0] != '/' && match_from(&p[1..], &n[1..]),
        '[' => {
            let Some(&c) = n.first() else { return false };
            if c == '/' {
                return false;
            }
            match class(p, 0, Some(c)) {
                Ok((true, next)) => match_from(&p[next..], &n[1..]),
                _ => false,
            }
        }
        '\\' => p.len() > 1 && n.first() == Some(&p[1]) && match_from(&p[2..], &n[1..]),
        c => n.first() == Some(&c) && match_from(&p[1..], &n[1..]),
    }
}

/// A compiled gobwas/glob pattern with `/` as the only separator.
#[derive(Debug, Clone)]
pub struct Glob(regex::Regex);

impl Glob {
    /// Compiles `pattern`; `None` when gobwas would refuse it.
    pub fn new(pattern: &str) -> Option<Glob> {
        let mut re = String::from("^");
        let chars: Vec<char> = pattern.chars().collect();
        let mut i = 0;
        let mut depth = 0usize;
        while i < chars.len() {
            let c = chars[i];
            match c {
                '*' => {
                    if chars.get(i + 1) == Some(&'*') {
                        re.push_str("(?s:.*)");
                        i += 1;
                    } else {
                        re.push_str("[^/]*");
                    }
                }
                '?' => re.push_str("[^/]"),
                '[' => {
                    let end = chars[i + 1..].iter().position(|&x| x == ']')? + i + 1;
                    let body: String = chars[i + 1..end].iter().collect();
                    let (neg, body) = match body.strip_prefix('!') {
                        Some(b) => (true, b.to_string()),
                        None => (false, body),
                    };
                    if body.is_empty() {
                        return None;
                    }
                    re.push('[');
                    if neg {
                        re.push('^');
                    }
                    for b in body.chars() {
                        if b == '-' {
                            re.push('-');
                        } else {
                            re.push_str(&regex::escape(&b.to_string()));
                        }
                    }
                    re.push(']');
                    i = end;
                }
                '{' => {
                    depth += 1;
                    re.push_str("(?:");
                }
                '}' if depth > 0 => {
                    depth -= 1;
                    re.push(')');
                }
                ',' if depth > 0 => re.push('|'),
                '\\' => {
                    i += 1;
                    let e = chars.get(i)?;
                    re.push_str(&regex::escape(&e.to_string()));
                }
                _ => re.push_str(&regex::escape(&c.to_string())),
            }
            i += 1;
        }
        if depth != 0 {
            return None;
        }
        re.push('$');
        regex::Regex::new(&re).ok().map(Glob)
    }

    pub fn is_match(&self, name: &str) -> bool {
        self.0.is_match(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filepath_match_follows_go() {
        assert_eq!(filepath_match("*.txt", "a.txt"), Ok(true));
        assert_eq!(filepath_match("*.txt", "d/a.txt"), Ok(false));
        assert_eq!(filepath_match("a?c", "abc"), Ok(true));
        assert_eq!(filepath_match("[a-c]x", "bx"), Ok(true));
        assert_eq!(filepath_match("[^a-c]x", "bx"), Ok(false));
        assert_eq!(filepath_match("\\*", "*"), Ok(true));
        assert_eq!(filepath_match("[", "a"), Err(BadPattern));
        assert_eq!(filepath_match("templates/.?*", "templates/.git"), Ok(true));
        assert_eq!(filepath_match("templates/.?*", "templates/a"), Ok(false));
    }

    #[test]
    fn gobwas_glob_separates_on_slash() {
        let g = Glob::new("files/*").unwrap();
        assert!(g.is_match("files/a.conf"));
        assert!(!g.is_match("files/d/a.conf"));
        let g = Glob::new("files/**").unwrap();
        assert!(g.is_match("files/d/a.conf"));
        let g = Glob::new("**.{yaml,json}").unwrap();
        assert!(g.is_match("x/y.json"));
        assert!(!g.is_match("x/y.txt"));
        assert!(Glob::new("{a,b").is_none());
    }
}
