//! `urlParse` / `urlJoin` over Go's `net/url` rules.

use ferroflux_gotemplate::{Dict, FuncError, Value};

use crate::conv::{err, kind_name, map_arg, str_arg};
use crate::strings::go_quote;
use crate::{Arity, Reg};

pub(crate) fn register(r: &mut Reg<'_>) {
    r.add("urlParse", Arity::Exact(1), |a| {
        let s = str_arg(&a[0])?;
        let u = parse(s)
            .map_err(|e| err(format!("unable to parse url: parse {}: {e}", go_quote(s))))?;
        let d = Dict::new();
        d.insert("scheme", Value::from(u.scheme.as_str()));
        let hostname = hostname(&u.host);
        d.insert("host", Value::from(u.host));
        d.insert("hostname", Value::from(hostname));
        d.insert("path", Value::from(u.path));
        d.insert("query", Value::from(u.query));
        d.insert("opaque", Value::from(u.opaque));
        d.insert("fragment", Value::from(u.fragment));
        d.insert(
            "userinfo",
            Value::from(
                u.userinfo
                    .map(|(n, p)| user_string(&n, p.as_deref()))
                    .unwrap_or_default(),
            ),
        );
        Ok(Value::Map(d))
    });
    r.add("urlJoin", Arity::Exact(1), |a| {
        let d = map_arg(&a[0])?;
        let get = |k: &str| -> Result<String, FuncError> {
            match d.get(k) {
                None => Ok(String::new()),
                Some(Value::String(s)) => Ok(s.to_string()),
                Some(v) => Err(err(format!(
                    "unable to parse {k} key, must be of type string, but {} found",
                    kind_name(&v)
                ))),
            }
        };
        let userinfo = get("userinfo")?;
        let user = if userinfo.is_empty() {
            None
        } else {
            let probe = format!("proto://{userinfo}@host");
            let u = parse(&probe).map_err(|e| {
                err(format!(
                    "unable to parse userinfo in dict: parse {}: {e}",
                    go_quote(&probe)
                ))
            })?;
            u.userinfo
        };
        let u = Url {
            scheme: get("scheme")?,
            opaque: get("opaque")?,
            userinfo: user,
            host: get("host")?,
            path: get("path")?,
            query: get("query")?,
            fragment: get("fragment")?,
        };
        Ok(Value::from(u.to_string_go()))
    });
}

#[derive(Default)]
struct Url {
    scheme: String,
    opaque: String,
    userinfo: Option<(String, Option<String>)>,
    host: String,
    path: String,
    query: String,
    fragment: String,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Path,
    Host,
    User,
    Fragment,
}

fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if mode == Mode::Host && b"!$&'()*+,;=:[]<>\"".contains(&c) {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => c == b'?',
            Mode::User => matches!(c, b'@' | b'/' | b'?' | b':'),
            Mode::Fragment => false,
            Mode::Host => true,
        },
        b'!' | b'(' | b')' | b'*' if mode == Mode::Fragment => false,
        _ => true,
    }
}

fn escape(s: &str, mode: Mode) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if should_escape(b, mode) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(char::from(b));
        }
    }
    out
}

fn unescape(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()));
            let Some(h) = hex else {
                let bad: String = s[i..].chars().take(3).collect();
                return Err(format!("invalid URL escape {}", go_quote(&bad)));
            };
            out.push(u8::from_str_radix(h, 16).map_err(|e| e.to_string())?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn user_string(name: &str, pass: Option<&str>) -> String {
    let mut s = escape(name, Mode::User);
    if let Some(p) = pass {
        s.push(':');
        s.push_str(&escape(p, Mode::User));
    }
    s
}

fn hostname(host: &str) -> String {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("").to_string();
    }
    match host.rfind(':') {
        Some(i) if host[i + 1..].bytes().all(|c| c.is_ascii_digit()) => host[..i].to_string(),
        _ => host.to_string(),
    }
}

fn parse(raw: &str) -> Result<Url, String> {
    let mut u = Url::default();
    let (rest, frag) = match raw.split_once('#') {
        Some((a, f)) => (a, Some(f)),
        None => (raw, None),
    };
    if let Some(f) = frag {
        u.fragment = unescape(f)?;
    }
    let mut rest = rest;
    // scheme
    for (i, c) in rest.char_indices() {
        if c.is_ascii_alphabetic() {
            continue;
        }
        if i > 0 && (c.is_ascii_digit() || c == '+' || c == '-' || c == '.') {
            continue;
        }
        if c == ':' {
            if i == 0 {
                return Err("missing protocol scheme".into());
            }
            u.scheme = rest[..i].to_ascii_lowercase();
            rest = &rest[i + 1..];
        }
        break;
    }
    if rest.ends_with('?') && rest.matches('?').count() == 1 {
        rest = &rest[..rest.len() - 1];
    } else if let Some((a, q)) = rest.split_once('?') {
        u.query = q.to_string();
        rest = a;
    }
    if !rest.starts_with('/') {
        if !u.scheme.is_empty() {
            u.opaque = rest.to_string();
            return Ok(u);
        }
        let seg = rest.split('/').next().unwrap_or("");
        if seg.contains(':') {
            return Err("first path segment in URL cannot contain colon".into());
        }
    }
    if (!u.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let after = &rest[2..];
        let (auth, tail) = match after.find('/') {
            Some(i) => (&after[..i], &after[i..]),
            None => (after, ""),
        };
        rest = tail;
        let (userinfo, host) = match auth.rfind('@') {
            Some(i) => (Some(&auth[..i]), &auth[i + 1..]),
            None => (None, auth),
        };
        if let Some(ui) = userinfo {
            let (n, p) = match ui.split_once(':') {
                Some((n, p)) => (unescape(n)?, Some(unescape(p)?)),
                None => (unescape(ui)?, None),
            };
            u.userinfo = Some((n, p));
        }
        u.host = unescape(host)?;
    }
    u.path = unescape(rest)?;
    Ok(u)
}

impl Url {
    fn to_string_go(&self) -> String {
        let mut buf = String::new();
        if !self.scheme.is_empty() {
            buf.push_str(&self.scheme);
            buf.push(':');
        }
        if !self.opaque.is_empty() {
            buf.push_str(&self.opaque);
        } else {
            if !self.scheme.is_empty() || !self.host.is_empty() || self.userinfo.is_some() {
                if !self.host.is_empty() || !self.path.is_empty() || self.userinfo.is_some() {
                    buf.push_str("//");
                }
                if let Some((n, p)) = &self.userinfo {
                    buf.push_str(&user_string(n, p.as_deref()));
                    buf.push('@');
                }
                buf.push_str(&escape(&self.host, Mode::Host));
            }
            let path = escape(&self.path, Mode::Path);
            if !path.is_empty() && !path.starts_with('/') && !self.host.is_empty() {
                buf.push('/');
            }
            if buf.is_empty() && path.split('/').next().unwrap_or("").contains(':') {
                buf.push_str("./");
            }
            buf.push_str(&path);
        }
        if !self.query.is_empty() {
            buf.push('?');
            buf.push_str(&self.query);
        }
        if !self.fragment.is_empty() {
            buf.push('#');
            buf.push_str(&escape(&self.fragment, Mode::Fragment));
        }
        buf
    }
}
