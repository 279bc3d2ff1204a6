//! Go's `path` and (Linux) `path/filepath` functions.

use ferroflux_gotemplate::Value;

use crate::conv::str_arg;
use crate::{Arity, Reg};

pub(crate) fn register(r: &mut Reg<'_>) {
    for (name, f) in [
        ("base", base as fn(&str) -> String),
        ("dir", dir),
        ("clean", clean),
        ("ext", ext),
        ("osBase", base),
        ("osDir", dir),
        ("osClean", clean),
        ("osExt", ext),
    ] {
        r.add(name, Arity::Exact(1), move |a| {
            Ok(Value::from(f(str_arg(&a[0])?)))
        });
    }
    for name in ["isAbs", "osIsAbs"] {
        r.add(name, Arity::Exact(1), |a| {
            Ok(Value::Bool(str_arg(&a[0])?.starts_with('/')))
        });
    }
}

/// Go's `path.Clean`.
pub(crate) fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

fn dir(p: &str) -> String {
    let i = p.rfind('/').map(|i| i + 1).unwrap_or(0);
    clean(&p[..i])
}

fn ext(p: &str) -> String {
    for (i, c) in p.char_indices().rev() {
        if c == '/' {
            break;
        }
        if c == '.' {
            return p[i..].to_string();
        }
    }
    String::new()
}
