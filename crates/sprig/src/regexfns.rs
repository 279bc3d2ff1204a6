//! Regular expressions (Sprig's regex.go over Go's RE2 `regexp`).
//!
//! The `regex` crate speaks RE2's syntax; Go's `\d \w \s \b` are ASCII-only
//! where the crate's are Unicode, so patterns are translated first.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use ferroflux_gotemplate::{FuncError, Value};
use regex::Regex;

use crate::conv::{err, int_arg, str_arg, str_list};
use crate::{Arity, Reg};

use Arity::Exact;

/// Compiled patterns: charts call `regexReplaceAll` with the same pattern in
/// loops over many values and templates.
static CACHE: LazyLock<Mutex<HashMap<String, Result<Regex, FuncError>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
const CACHE_MAX: usize = 512;

/// Go's `regexp.Compile`, with Go's error prefix.
pub(crate) fn compile(pat: &str) -> Result<Regex, FuncError> {
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(r) = cache.get(pat) {
        return r.clone();
    }
    if cache.len() >= CACHE_MAX {
        cache.clear();
    }
    let r = compile_uncached(pat);
    cache.insert(pat.to_string(), r.clone());
    r
}

fn compile_uncached(pat: &str) -> Result<Regex, FuncError> {
    Regex::new(&translate(pat)).map_err(|e| {
        let msg = e.to_string();
        let detail = msg.lines().last().unwrap_or(&msg).trim();
        let detail = detail.strip_prefix("error: ").unwrap_or(detail);
        // Go's wording for the common mistakes
        let detail = match detail {
            "unclosed group" => "missing closing )",
            "unopened group" => "unexpected )",
            "unclosed character class" => "missing closing ]",
            d => d,
        };
        err(format!("error parsing regexp: {detail}: `{pat}`"))
    })
}

/// `regexp.MustCompile` panics with this text.
fn must_compile(pat: &str) -> Result<Regex, FuncError> {
    compile(pat).map_err(|e| err(format!("regexp: Compile({}): {e}", go_backquote(pat))))
}

fn go_backquote(s: &str) -> String {
    if s.contains('`') {
        crate::strings::go_quote(s)
    } else {
        format!("`{s}`")
    }
}

/// Rewrites Go's ASCII Perl classes for the Unicode-by-default crate.
fn translate(pat: &str) -> String {
    let mut out = String::with_capacity(pat.len() + 8);
    let mut chars = pat.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let rep = match (n, in_class) {
                    ('d', false) => Some("[0-9]"),
                    ('D', false) => Some("[^0-9]"),
                    ('w', false) => Some("[0-9A-Za-z_]"),
                    ('W', false) => Some("[^0-9A-Za-z_]"),
                    ('s', false) => Some("[\\t\\n\\f\\r ]"),
                    ('S', false) => Some("[^\\t\\n\\f\\r ]"),
                    ('b', false) => Some("(?-u:\\b)"),
                    ('B', false) => Some("(?-u:\\B)"),
                    ('d', true) => Some("0-9"),
                    ('w', true) => Some("0-9A-Za-z_"),
                    ('s', true) => Some("\\t\\n\\f\\r "),
                    _ => None,
                };
                match rep {
                    Some(r) => out.push_str(r),
                    None => {
                        out.push('\\');
                        out.push(n);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push_str("\\]");
                    chars.next();
                }
            }
            '[' if in_class && chars.peek() == Some(&':') => {
                // POSIX class [:alpha:] inside a bracket expression
                out.push('[');
                for c2 in chars.by_ref() {
                    out.push(c2);
                    if c2 == ']' {
                        break;
                    }
                }
            }
            '[' if in_class => out.push_str("\\["),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn register(r: &mut Reg<'_>) {
    r.add("regexMatch", Exact(2), |a| {
        let (p, s) = (str_arg(&a[0])?, str_arg(&a[1])?);
        Ok(Value::Bool(
            compile(p).map(|re| re.is_match(s)).unwrap_or(false),
        ))
    });
    r.add("mustRegexMatch", Exact(2), |a| {
        let (p, s) = (str_arg(&a[0])?, str_arg(&a[1])?);
        Ok(Value::Bool(compile(p)?.is_match(s)))
    });
    for (name, must) in [("regexFindAll", false), ("mustRegexFindAll", true)] {
        r.add(name, Exact(3), move |a| {
            let (p, s, n) = (str_arg(&a[0])?, str_arg(&a[1])?, int_arg(&a[2])?);
            let re = if must { compile(p)? } else { must_compile(p)? };
            Ok(str_list(
                find_all(&re, s, n).into_iter().map(|(x, y)| &s[x..y]),
            ))
        });
    }
    for (name, must) in [("regexFind", false), ("mustRegexFind", true)] {
        r.add(name, Exact(2), move |a| {
            let (p, s) = (str_arg(&a[0])?, str_arg(&a[1])?);
            let re = if must { compile(p)? } else { must_compile(p)? };
            Ok(Value::from(re.find(s).map(|m| m.as_str()).unwrap_or("")))
        });
    }
    for (name, must, literal) in [
        ("regexReplaceAll", false, false),
        ("mustRegexReplaceAll", true, false),
        ("regexReplaceAllLiteral", false, true),
        ("mustRegexReplaceAllLiteral", true, true),
    ] {
        r.add(name, Exact(3), move |a| {
            let (p, s, repl) = (str_arg(&a[0])?, str_arg(&a[1])?, str_arg(&a[2])?);
            let re = if must { compile(p)? } else { must_compile(p)? };
            Ok(Value::from(replace_all(&re, s, repl, literal)))
        });
    }
    for (name, must) in [("regexSplit", false), ("mustRegexSplit", true)] {
        r.add(name, Exact(3), move |a| {
            let (p, s, n) = (str_arg(&a[0])?, str_arg(&a[1])?, int_arg(&a[2])?);
            let re = if must { compile(p)? } else { must_compile(p)? };
            Ok(str_list(split(&re, p, s, n)))
        });
    }
    r.add("regexQuoteMeta", Exact(1), |a| {
        let s = str_arg(&a[0])?;
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            if "\\.+*?()|[]{}^$".contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
        Ok(Value::from(out))
    });
}

/// Go's `FindAllStringIndex(s, n)`: an empty match right after a previous
/// match is skipped.
fn find_all(re: &Regex, s: &str, n: i64) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    if n == 0 {
        return out;
    }
    let mut prev_end: Option<usize> = None;
    for m in re.find_iter(s) {
        if m.start() == m.end() && Some(m.start()) == prev_end {
            continue;
        }
        out.push((m.start(), m.end()));
        prev_end = Some(m.end());
        if n > 0 && out.len() as i64 >= n {
            break;
        }
    }
    out
}

/// Go's `ReplaceAllString` (with `$1`/`${name}` expansion) or
/// `ReplaceAllLiteralString`.
fn replace_all(re: &Regex, s: &str, repl: &str, literal: bool) -> String {
    let mut out = String::new();
    let mut last = 0;
    let mut prev_end: Option<usize> = None;
    for caps in re.captures_iter(s) {
        let Some(m) = caps.get(0) else { continue };
        if m.start() == m.end() && Some(m.start()) == prev_end {
            continue;
        }
        out.push_str(&s[last..m.start()]);
        if literal {
            out.push_str(repl);
        } else {
            expand(re, &caps, repl, &mut out);
        }
        last = m.end();
        prev_end = Some(m.end());
    }
    out.push_str(&s[last..]);
    out
}

/// Go's `Regexp.expand`: `$name` takes the longest run of letters, digits
/// and `_`; `${name}`; `$$`; a malformed `$` stays literal.
fn expand(re: &Regex, caps: &regex::Captures<'_>, tpl: &str, out: &mut String) {
    let mut rest = tpl;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with("$$") {
            out.push('$');
            rest = &rest[2..];
            continue;
        }
        let (name, after) = if let Some(inner) = rest.strip_prefix("${") {
            match inner.find('}') {
                Some(end)
                    if end > 0
                        && inner[..end]
                            .chars()
                            .all(|c| c.is_alphanumeric() || c == '_') =>
                {
                    (&inner[..end], &inner[end + 1..])
                }
                _ => ("", rest),
            }
        } else {
            let body = &rest[1..];
            let len = body
                .char_indices()
                .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
                .map(|(i, _)| i)
                .unwrap_or(body.len());
            (&body[..len], &body[len..])
        };
        if name.is_empty() {
            out.push('$');
            rest = &rest[1..];
            continue;
        }
        rest = after;
        let value = if let Ok(num) = name.parse::<usize>() {
            if name.starts_with('+') || name.starts_with('-') {
                None
            } else {
                caps.get(num)
            }
        } else {
            let _ = re;
            caps.name(name)
        };
        if let Some(m) = value {
            out.push_str(m.as_str());
        }
    }
    out.push_str(rest);
}

/// Go's `Regexp.Split`.
fn split(re: &Regex, pat: &str, s: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if !pat.is_empty() && s.is_empty() {
        return vec![String::new()];
    }
    let matches = find_all(re, s, n);
    let mut out = Vec::new();
    let (mut beg, mut end) = (0usize, 0usize);
    for (a, b) in matches {
        if n > 0 && out.len() as i64 == n - 1 {
            break;
        }
        end = a;
        if b != 0 {
            out.push(s[beg..end].to_string());
        }
        beg = b;
    }
    if end != s.len() {
        out.push(s[beg..].to_string());
    }
    out
}
