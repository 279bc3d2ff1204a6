//! String functions (Sprig's strings.go, goutils, xstrings, Go's strings).

use ferroflux_gotemplate::Value;
use rand::Rng;
use sha1::Digest;

use crate::conv::{err, int_arg, str_arg, str_list, strslice, strval};
use crate::fmtv::sprint_v;
use crate::{Arity, Reg};

use Arity::{AtLeast, Exact};

fn s1(r: &mut Reg<'_>, name: &'static str, f: fn(&str) -> String) {
    r.add(name, Exact(1), move |a| Ok(Value::from(f(str_arg(&a[0])?))));
}

pub(crate) fn register(r: &mut Reg<'_>) {
    s1(r, "trim", |s| go_trim_space(s).to_string());
    s1(r, "upper", |s| s.chars().map(go_upper).collect());
    s1(r, "lower", |s| s.chars().map(go_lower).collect());
    s1(r, "title", title);
    s1(r, "untitle", untitle);
    s1(r, "nospace", nospace);
    s1(r, "initials", initials);
    s1(r, "swapcase", swapcase);
    s1(r, "shuffle", shuffle);
    s1(r, "snakecase", |s| camel_to_lower(s, '_'));
    s1(r, "kebabcase", |s| camel_to_lower(s, '-'));
    s1(r, "camelcase", pascal_case);
    s1(r, "sha1sum", |s| {
        hex::encode(sha1::Sha1::digest(s.as_bytes()))
    });
    s1(r, "sha256sum", |s| {
        hex::encode(sha2::Sha256::digest(s.as_bytes()))
    });
    s1(r, "sha512sum", |s| {
        hex::encode(sha2::Sha512::digest(s.as_bytes()))
    });
    s1(r, "adler32sum", |s| adler32(s.as_bytes()).to_string());
    r.add("abbrev", Exact(2), |a| {
        let w = int_arg(&a[0])?;
        let s = str_arg(&a[1])?;
        if w < 4 {
            return Ok(Value::from(s));
        }
        Ok(Value::from(abbreviate_full(s, 0, w).unwrap_or_default()))
    });
    r.add("abbrevboth", Exact(3), |a| {
        let left = int_arg(&a[0])?;
        let right = int_arg(&a[1])?;
        let s = str_arg(&a[2])?;
        if right < 4 || left > 0 && right < 7 {
            return Ok(Value::from(s));
        }
        Ok(Value::from(
            abbreviate_full(s, left, right).unwrap_or_default(),
        ))
    });
    r.add("trunc", Exact(2), |a| {
        let c = int_arg(&a[0])?;
        let s = str_arg(&a[1])?;
        let n = s.len() as i64;
        let out = if c < 0 && n + c > 0 {
            byte_slice(s, (n + c) as usize, s.len())
        } else if c >= 0 && n > c {
            byte_slice(s, 0, c as usize)
        } else {
            s.to_string()
        };
        Ok(Value::from(out))
    });
    r.add("substr", Exact(3), |a| {
        let start = int_arg(&a[0])?;
        let end = int_arg(&a[1])?;
        let s = str_arg(&a[2])?;
        let n = s.len() as i64;
        let (lo, hi) = if start < 0 {
            (0, end)
        } else if end < 0 || end > n {
            (start, n)
        } else {
            (start, end)
        };
        if hi < 0 || hi > n {
            return Err(err(format!(
                "runtime error: slice bounds out of range [:{hi}] with length {n}"
            )));
        }
        if lo > hi {
            return Err(err(format!(
                "runtime error: slice bounds out of range [{lo}:{hi}]"
            )));
        }
        Ok(Value::from(byte_slice(s, lo as usize, hi as usize)))
    });
    r.add("repeat", Exact(2), |a| {
        let count = int_arg(&a[0])?;
        let s = str_arg(&a[1])?;
        if count < 0 {
            return Err(err("strings: negative Repeat count"));
        }
        if (s.len() as u64)
            .checked_mul(count as u64)
            .is_none_or(|n| n > isize::MAX as u64)
        {
            return Err(err("strings: Repeat output length overflow"));
        }
        Ok(Value::from(s.repeat(count as usize)))
    });
    for name in ["trimall", "trimAll"] {
        r.add(name, Exact(2), |a| {
            let cut = str_arg(&a[0])?;
            let s = str_arg(&a[1])?;
            Ok(Value::from(s.trim_matches(|c| cut.contains(c))))
        });
    }
    r.add("trimSuffix", Exact(2), |a| {
        let suf = str_arg(&a[0])?;
        let s = str_arg(&a[1])?;
        Ok(Value::from(s.strip_suffix(suf).unwrap_or(s)))
    });
    r.add("trimPrefix", Exact(2), |a| {
        let pre = str_arg(&a[0])?;
        let s = str_arg(&a[1])?;
        Ok(Value::from(s.strip_prefix(pre).unwrap_or(s)))
    });
    r.add("contains", Exact(2), |a| {
        Ok(Value::Bool(str_arg(&a[1])?.contains(str_arg(&a[0])?)))
    });
    r.add("hasPrefix", Exact(2), |a| {
        Ok(Value::Bool(str_arg(&a[1])?.starts_with(str_arg(&a[0])?)))
    });
    r.add("hasSuffix", Exact(2), |a| {
        Ok(Value::Bool(str_arg(&a[1])?.ends_with(str_arg(&a[0])?)))
    });
    for (name, f) in [
        ("randAlphaNum", rand_alnum as fn(usize) -> String),
        ("randAlpha", rand_alpha),
        ("randAscii", rand_ascii),
        ("randNumeric", rand_numeric),
    ] {
        r.add(name, Exact(1), move |a| {
            let n = int_arg(&a[0])?;
            Ok(Value::from(if n <= 0 {
                String::new()
            } else {
                f(n as usize)
            }))
        });
    }
    r.add("wrap", Exact(2), |a| {
        let l = int_arg(&a[0])?;
        let s = str_arg(&a[1])?;
        Ok(Value::from(wrap_custom(s, l, "", false)))
    });
    r.add("wrapWith", Exact(3), |a| {
        let l = int_arg(&a[0])?;
        let sep = str_arg(&a[1])?;
        let s = str_arg(&a[2])?;
        Ok(Value::from(wrap_custom(s, l, sep, true)))
    });
    r.add("quote", AtLeast(0), |a| {
        let parts: Vec<String> = a
            .iter()
            .filter(|v| !v.is_nil())
            .map(|v| go_quote(&strval(v)))
            .collect();
        Ok(Value::from(parts.join(" ")))
    });
    r.add("squote", AtLeast(0), |a| {
        let parts: Vec<String> = a
            .iter()
            .filter(|v| !v.is_nil())
            .map(|v| format!("'{}'", sprint_v(v)))
            .collect();
        Ok(Value::from(parts.join(" ")))
    });
    r.add("cat", AtLeast(0), |a| {
        let parts: Vec<String> = a.iter().filter(|v| !v.is_nil()).map(sprint_v).collect();
        Ok(Value::from(parts.join(" ")))
    });
    r.add("indent", Exact(2), |a| {
        let n = int_arg(&a[0])?;
        Ok(Value::from(indent(n, str_arg(&a[1])?)?))
    });
    r.add("nindent", Exact(2), |a| {
        let n = int_arg(&a[0])?;
        Ok(Value::from(format!("\n{}", indent(n, str_arg(&a[1])?)?)))
    });
    r.add("replace", Exact(3), |a| {
        let old = str_arg(&a[0])?;
        let new = str_arg(&a[1])?;
        let src = str_arg(&a[2])?;
        Ok(Value::from(go_replace(src, old, new)))
    });
    r.add("plural", Exact(3), |a| {
        let one = str_arg(&a[0])?;
        let many = str_arg(&a[1])?;
        let n = int_arg(&a[2])?;
        Ok(Value::from(if n == 1 { one } else { many }))
    });
    r.add("toString", Exact(1), |a| Ok(Value::from(strval(&a[0]))));
    r.add("split", Exact(2), |a| {
        let sep = str_arg(&a[0])?;
        let s = str_arg(&a[1])?;
        Ok(parts_map(go_split(s, sep, -1)))
    });
    r.add("splitList", Exact(2), |a| {
        let sep = str_arg(&a[0])?;
        let s = str_arg(&a[1])?;
        Ok(str_list(go_split(s, sep, -1)))
    });
    r.add("splitn", Exact(3), |a| {
        let sep = str_arg(&a[0])?;
        let n = int_arg(&a[1])?;
        let s = str_arg(&a[2])?;
        Ok(parts_map(go_split(s, sep, n)))
    });
    r.add("toStrings", Exact(1), |a| Ok(str_list(strslice(&a[0]))));
    r.add("join", Exact(2), |a| {
        let sep = str_arg(&a[0])?;
        Ok(Value::from(strslice(&a[1]).join(sep)))
    });
    r.add("hello", Exact(0), |_| Ok(Value::from("Hello!")));
}

fn parts_map(parts: Vec<String>) -> Value {
    Value::map(
        parts
            .into_iter()
            .enumerate()
            .map(|(i, p)| (format!("_{i}"), Value::from(p))),
    )
}

/// A byte-range slice of a Go string; a cut inside a UTF-8 sequence keeps the
/// bytes (lossily, as our strings must be UTF-8).
fn byte_slice(s: &str, lo: usize, hi: usize) -> String {
    String::from_utf8_lossy(&s.as_bytes()[lo..hi]).into_owned()
}

/// Go's `unicode.IsSpace`.
pub(crate) fn go_is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{85}' | '\u{A0}'
    ) || (c as u32 > 0xFF && c.is_whitespace())
}

pub(crate) fn go_trim_space(s: &str) -> &str {
    s.trim_matches(go_is_space)
}

/// Go's `unicode.ToUpper`: one rune in, one rune out.
fn go_upper(c: char) -> char {
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// Go's `unicode.ToLower` (simple mapping: `İ` becomes `i`).
fn go_lower(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// Go's `unicode.ToTitle`: like upper case except for the four Latin
/// digraphs, whose title case is a letter of its own.
fn go_title(c: char) -> char {
    match c {
        'Ǆ' | 'ǅ' | 'ǆ' => 'ǅ',
        'Ǉ' | 'ǈ' | 'ǉ' => 'ǈ',
        'Ǌ' | 'ǋ' | 'ǌ' => 'ǋ',
        'Ǳ' | 'ǲ' | 'ǳ' => 'ǲ',
        c => go_upper(c),
    }
}

/// Unicode's titlecase letters (category Lt), which Go's `unicode.IsTitle`
/// reports and Rust has no predicate for.
fn is_titlecase(c: char) -> bool {
    matches!(c as u32,
        0x1C5 | 0x1C8 | 0x1CB | 0x1F2 | 0x1F88..=0x1F8F | 0x1F98..=0x1F9F | 0x1FA8..=0x1FAF
        | 0x1FBC | 0x1FCC | 0x1FFC)
}

/// Go's deprecated `strings.Title`.
fn title(s: &str) -> String {
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let sep = if (prev as u32) <= 0x7F {
                !(prev.is_ascii_alphanumeric() || prev == '_')
            } else if prev.is_alphabetic() || prev.is_numeric() {
                false
            } else {
                go_is_space(prev)
            };
            prev = c;
            if sep { go_title(c) } else { c }
        })
        .collect()
}

/// goutils `Uncapitalize` without delimiters: the first rune of each
/// whitespace-separated word is lowered.
fn untitle(s: &str) -> String {
    let mut next = true;
    s.chars()
        .map(|c| {
            if go_is_space(c) {
                next = true;
                c
            } else if next {
                next = false;
                go_lower(c)
            } else {
                c
            }
        })
        .collect()
}

/// goutils `DeleteWhiteSpace`: walks bytes, so non-ASCII text comes out as
/// Latin-1 runes whenever anything was deleted.
fn nospace(s: &str) -> String {
    let bytes = s.as_bytes();
    let kept: Vec<char> = bytes
        .iter()
        .map(|b| char::from(*b))
        .filter(|c| !go_is_space(*c))
        .collect();
    if kept.len() == bytes.len() {
        return s.to_string();
    }
    kept.into_iter().collect()
}

/// goutils `Initials`: byte-wise like `nospace`.
fn initials(s: &str) -> String {
    let mut out = String::new();
    let mut gap = true;
    for b in s.bytes() {
        let c = char::from(b);
        if go_is_space(c) {
            gap = true;
        } else if gap {
            out.push(c);
            gap = false;
        }
    }
    out
}

/// goutils `SwapCase`.
fn swapcase(s: &str) -> String {
    let mut ws = true;
    s.chars()
        .map(|c| {
            if c.is_uppercase() || is_titlecase(c) {
                ws = false;
                go_lower(c)
            } else if c.is_lowercase() {
                if ws {
                    ws = false;
                    go_title(c)
                } else {
                    go_upper(c)
                }
            } else {
                ws = go_is_space(c);
                c
            }
        })
        .collect()
}

fn shuffle(s: &str) -> String {
    let mut runes: Vec<char> = s.chars().collect();
    let mut rng = rand::thread_rng();
    for i in (1..runes.len()).rev() {
        let j = rng.gen_range(0..=i);
        runes.swap(i, j);
    }
    runes.into_iter().collect()
}

fn is_connector(c: char) -> bool {
    c == '-' || c == '_' || go_is_space(c)
}

fn is_alphabet(c: char) -> bool {
    c.is_alphabetic() && !is_cjk(c)
}

/// xstrings' notion of a CJK ideograph (kana and hangul count as letters).
fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FCC | 0x3400..=0x4D85 | 0x20000..=0x2B81D)
}

fn is_punct(c: char) -> bool {
    c.is_ascii_punctuation() && !matches!(c, '$' | '+' | '<' | '=' | '>' | '^' | '`' | '|' | '~')
        || (!c.is_ascii() && !c.is_alphanumeric() && !c.is_whitespace() && !c.is_control())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Word {
    Invalid,
    Number,
    Upper,
    Alpha,
    Connector,
    Punct,
    Other,
}

/// xstrings' word splitter.
fn next_word(s: &str) -> (Word, &str, &str) {
    let mut chars = s.char_indices().peekable();
    let Some((_, first)) = chars.next() else {
        return (Word::Invalid, "", "");
    };
    let mut offset = first.len_utf8();
    let take_while = |offset: &mut usize, pred: &dyn Fn(char) -> bool| {
        for c in s[*offset..].chars() {
            if !pred(c) {
                break;
            }
            *offset += c.len_utf8();
        }
    };
    let wt = if is_connector(first) {
        take_while(&mut offset, &is_connector);
        Word::Connector
    } else if is_punct(first) {
        take_while(&mut offset, &is_punct);
        Word::Punct
    } else if first.is_uppercase() {
        let rest = &s[offset..];
        if let Some(second) = rest.chars().next() {
            if second.is_uppercase() {
                let mut prev_size = second.len_utf8();
                offset += prev_size;
                let mut stopped_on = None;
                for c in s[offset..].chars() {
                    if !c.is_uppercase() {
                        stopped_on = Some(c);
                        break;
                    }
                    prev_size = c.len_utf8();
                    offset += prev_size;
                }
                if let Some(c) = stopped_on
                    && is_alphabet(c)
                {
                    offset -= prev_size;
                }
            } else if is_alphabet(second) {
                offset += second.len_utf8();
                take_while(&mut offset, &|c| is_alphabet(c) && !c.is_uppercase());
            }
        }
        Word::Upper
    } else if is_alphabet(first) {
        take_while(&mut offset, &|c| is_alphabet(c) && !c.is_uppercase());
        Word::Alpha
    } else if first.is_numeric() {
        take_while(&mut offset, &|c| c.is_numeric());
        Word::Number
    } else {
        take_while(&mut offset, &|c| {
            !(is_connector(c) || is_alphabet(c) || c.is_numeric() || is_punct(c))
        });
        Word::Other
    };
    (wt, &s[..offset], &s[offset..])
}

fn word_lower(out: &mut String, wt: Word, w: &str, conn: char) {
    if wt != Word::Upper && wt != Word::Connector {
        out.push_str(w);
        return;
    }
    for c in w.chars() {
        if is_connector(c) {
            out.push(conn);
        } else if c.is_uppercase() {
            out.push(go_lower(c));
        } else {
            out.push(c);
        }
    }
}

/// xstrings `ToSnakeCase` / `ToKebabCase`.
fn camel_to_lower(s: &str, conn: char) -> String {
    let mut out = String::new();
    if s.is_empty() {
        return out;
    }
    let (mut wt, mut word, mut rem) = next_word(s);
    while !rem.is_empty() {
        if wt != Word::Connector {
            word_lower(&mut out, wt, word, conn);
        }
        let prev = wt;
        let last = word;
        (wt, word, rem) = next_word(rem);
        match prev {
            Word::Number => {
                while wt == Word::Alpha || wt == Word::Number {
                    word_lower(&mut out, wt, word, conn);
                    (wt, word, rem) = next_word(rem);
                }
                if wt != Word::Invalid && wt != Word::Punct && wt != Word::Connector {
                    out.push(conn);
                }
            }
            Word::Connector => word_lower(&mut out, prev, last, conn),
            Word::Punct => {}
            _ => {
                if wt != Word::Number {
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(conn);
                    }
                    continue;
                }
                if rem.is_empty() {
                    continue;
                }
                let last = word;
                (wt, word, rem) = next_word(rem);
                if wt != Word::Alpha {
                    word_lower(&mut out, Word::Number, last, conn);
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(conn);
                    }
                    continue;
                }
                out.push(conn);
                word_lower(&mut out, Word::Number, last, conn);
                while wt == Word::Alpha || wt == Word::Number {
                    word_lower(&mut out, wt, word, conn);
                    (wt, word, rem) = next_word(rem);
                }
                if wt != Word::Invalid && wt != Word::Connector && wt != Word::Punct {
                    out.push(conn);
                }
            }
        }
    }
    word_lower(&mut out, wt, word, conn);
    out
}

/// xstrings `ToPascalCase` (Sprig's `camelcase`).
fn pascal_case(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    let mut first_upper = false;
    let mut r0 = None;
    for c in chars.by_ref() {
        if !is_connector(c) {
            first_upper = c.is_uppercase();
            r0 = Some(go_upper(c));
            break;
        }
        out.push(c);
    }
    let Some(mut r0) = r0 else {
        return out;
    };
    for c in chars {
        let r1 = r0;
        r0 = c;
        if is_connector(r0) && is_connector(r1) {
            out.push(r1);
            continue;
        }
        if is_connector(r1) {
            first_upper = r0.is_uppercase();
            r0 = go_upper(r0);
        } else {
            if first_upper {
                if r0.is_uppercase() {
                    r0 = go_lower(r0);
                } else {
                    first_upper = false;
                }
            }
            out.push(r1);
        }
    }
    out.push(r0);
    out
}

/// goutils `AbbreviateFull` (byte offsets, like Go).
fn abbreviate_full(s: &str, offset: i64, max: i64) -> Option<String> {
    if s.is_empty() {
        return Some(String::new());
    }
    if max < 4 {
        return None;
    }
    let n = s.len() as i64;
    if n <= max {
        return Some(s.to_string());
    }
    let mut offset = offset.min(n);
    if n - offset < max - 3 {
        offset = n - (max - 3);
    }
    if offset <= 4 {
        return Some(format!("{}...", byte_slice(s, 0, (max - 3) as usize)));
    }
    if max < 7 {
        return None;
    }
    if offset + max - 3 < n {
        let rest = byte_slice(s, offset as usize, s.len());
        return Some(format!("...{}", abbreviate_full(&rest, 0, max - 3)?));
    }
    Some(format!(
        "...{}",
        byte_slice(s, (n - (max - 3)) as usize, s.len())
    ))
}

/// goutils `WrapCustom` (byte offsets).
fn wrap_custom(s: &str, len: i64, nl: &str, long_words: bool) -> String {
    if s.is_empty() {
        return String::new();
    }
    let nl = if nl.is_empty() { "\n" } else { nl };
    let len = len.max(1) as usize;
    let b = s.as_bytes();
    let n = b.len();
    let mut offset = 0usize;
    let mut out: Vec<u8> = Vec::new();
    while n - offset > len {
        if b[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = (len + offset + 1).min(n);
        let space = b[offset..end].iter().rposition(|c| *c == b' ');
        if let Some(p) = space {
            let at = p + offset;
            out.extend_from_slice(&b[offset..at]);
            out.extend_from_slice(nl.as_bytes());
            offset = at + 1;
        } else if long_words {
            let end = len + offset;
            out.extend_from_slice(&b[offset..end]);
            out.extend_from_slice(nl.as_bytes());
            offset += len;
        } else {
            let end = len + offset;
            match b[end..].iter().position(|c| *c == b' ') {
                None => {
                    out.extend_from_slice(&b[offset..]);
                    offset = n;
                }
                Some(i) => {
                    let at = i + end;
                    out.extend_from_slice(&b[offset..at]);
                    out.extend_from_slice(nl.as_bytes());
                    offset = at + 1;
                }
            }
        }
    }
    out.extend_from_slice(&b[offset..]);
    String::from_utf8_lossy(&out).into_owned()
}

fn indent(n: i64, s: &str) -> Result<String, ferroflux_gotemplate::FuncError> {
    if n < 0 {
        return Err(err("strings: negative Repeat count"));
    }
    let pad = " ".repeat(n as usize);
    Ok(format!("{pad}{}", s.replace('\n', &format!("\n{pad}"))))
}

/// Go's `strings.Replace(s, old, new, -1)`.
fn go_replace(s: &str, old: &str, new: &str) -> String {
    s.replace(old, new)
}

/// Go's `strings.SplitN` (n < 0: all; n == 0: none).
pub(crate) fn go_split(s: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if sep.is_empty() {
        let chars: Vec<String> = s.chars().map(String::from).collect();
        if n > 0 && chars.len() > n as usize {
            let k = n as usize - 1;
            let head_len: usize = chars[..k].iter().map(String::len).sum();
            let mut v = chars[..k].to_vec();
            v.push(s[head_len..].to_string());
            return v;
        }
        return chars;
    }
    if n < 0 {
        s.split(sep).map(String::from).collect()
    } else {
        s.splitn(n as usize, sep).map(String::from).collect()
    }
}

/// Go's `strconv.Quote` (what `%q` does with a string), from the engine's fmt.
pub(crate) fn go_quote(s: &str) -> String {
    ferroflux_gotemplate::go_quote(s)
}

fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for x in chunk {
            a += u32::from(*x);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const NUM: &[u8] = b"0123456789";

fn rand_from(set: &[u8], n: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| char::from(set[rng.gen_range(0..set.len())]))
        .collect()
}

fn rand_alnum(n: usize) -> String {
    let set: Vec<u8> = ALPHA.iter().chain(NUM).copied().collect();
    rand_from(&set, n)
}

fn rand_alpha(n: usize) -> String {
    rand_from(ALPHA, n)
}

fn rand_numeric(n: usize) -> String {
    rand_from(NUM, n)
}

fn rand_ascii(n: usize) -> String {
    let set: Vec<u8> = (32u8..=126).collect();
    rand_from(&set, n)
}
