//! A fast path for the YAML manifests are written in.
//!
//! Most of a large build was spent in the general YAML parser (serde-saphyr's event stream
//! and serde layer, then a second event pass for blank values). Manifests use a small part of
//! YAML: block mappings and sequences, plain and quoted scalars, literal and folded blocks,
//! one-line flow collections. This reader handles exactly that part, straight from bytes to
//! [`Value`] in one pass, and records blank values (`key:` with nothing after it) as it goes.
//!
//! It never decides a hard case: anything outside that part (anchors, aliases, tags, complex
//! keys, directives, tabs in indentation, multi-line flow collections, duplicate keys, odd
//! indentation, non-printable characters…) makes it decline, and the caller parses the text
//! with serde-saphyr as before, which also produces the error message for invalid input.
//! Plain scalars that could be anything but a string (numbers, booleans, nulls) are resolved
//! by serde-saphyr itself with the caller's options, so typing cannot drift from it.
//! `tests` compares both readers on every corpus file.

use crate::value::{Mapping, Value};

/// Documents and, per document, the paths of blank mapping values.
pub(crate) struct Parsed {
    pub docs: Vec<Value>,
    pub blanks: Vec<Vec<Vec<String>>>,
}

/// The fast path does not handle this input; parse it with serde-saphyr.
/// Carries where the fast path gave up, for tests and debugging.
#[derive(Debug)]
pub(crate) struct Decline(#[allow(dead_code)] &'static std::panic::Location<'static>);

#[track_caller]
fn dec() -> Decline {
    Decline(std::panic::Location::caller())
}

type R<T> = Result<T, Decline>;

/// Deeper nesting goes to the general parser (which enforces its own budget).
const MAX_DEPTH: usize = 128;

/// Parse `text` if it stays within the supported part of YAML; `None` means "use the general
/// parser". `opts` are the options the general parser would use (they decide how plain
/// scalars such as `yes` or `0755` resolve).
pub(crate) fn parse(text: &str, opts: &serde_saphyr::Options) -> Option<Parsed> {
    parse_or_decline(text, opts).ok()
}

fn parse_or_decline(text: &str, opts: &serde_saphyr::Options) -> R<Parsed> {
    if !printable(text.as_bytes()) {
        return Err(dec());
    }
    let mut p = P {
        t: text,
        b: text.as_bytes(),
        i: 0,
        opts,
        path: Vec::new(),
        blanks: Vec::new(),
        fi: 0,
    };
    p.stream()
}

/// Whether every character is one the fast path treats plainly: no carriage returns, no
/// control characters but tab and newline, no BOM, no Unicode line separators or C1 controls.
fn printable(b: &[u8]) -> bool {
    // Nearly always plain ASCII text: one vectorisable pass decides.
    if b.iter()
        .all(|&c| (0x20..0x7f).contains(&c) || c == b'\n' || c == b'\t')
    {
        return true;
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            if (c < 0x20 && c != b'\n' && c != b'\t') || c == 0x7f {
                return false;
            }
            i += 1;
            continue;
        }
        let next = b.get(i + 1).copied().unwrap_or(0);
        let next2 = b.get(i + 2).copied().unwrap_or(0);
        match c {
            0xc2 if (0x80..=0x9f).contains(&next) => return false,
            0xe2 if next == 0x80 && (next2 == 0xa8 || next2 == 0xa9) => return false,
            0xef if (next == 0xbb && next2 == 0xbf) || (next == 0xbf && next2 >= 0xbe) => {
                return false;
            }
            _ => {}
        }
        i += 1;
    }
    true
}

/// A step of the path to the current node, for blank-value paths.
enum Seg {
    /// A plain key: a range of the source.
    Src(usize, usize),
    /// A quoted key, unescaped.
    Owned(String),
    /// A sequence index.
    Idx(usize),
}

struct P<'a> {
    t: &'a str,
    b: &'a [u8],
    i: usize,
    opts: &'a serde_saphyr::Options,
    path: Vec<Seg>,
    /// Blank paths of the current document.
    blanks: Vec<Vec<String>>,
    /// Indentation of the block holding the current flow collection: its continuation
    /// lines must be indented more.
    fi: usize,
}

fn is_ws(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

impl<'a> P<'a> {
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(b'\n')
    }

    fn eof(&self) -> bool {
        self.i >= self.b.len()
    }

    fn line_end(&self, from: usize) -> usize {
        self.b[from.min(self.b.len())..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(self.b.len(), |p| from + p)
    }

    /// Start of the line holding byte `i`.
    fn line_start(&self, i: usize) -> usize {
        self.b[..i]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |p| p + 1)
    }

    /// From a line start: skip lines that are blank or hold only a comment.
    fn skip_blank_lines(&mut self) {
        while self.i < self.b.len() {
            let mut j = self.i;
            while j < self.b.len() && is_ws(self.b[j]) {
                j += 1;
            }
            if j < self.b.len() && self.b[j] != b'\n' && self.b[j] != b'#' {
                return;
            }
            self.i = self.line_end(j) + 1;
        }
        self.i = self.b.len();
    }

    /// Spaces at the start of the line beginning at `ls`; a tab there declines.
    fn indent(&self, ls: usize) -> R<usize> {
        let mut j = ls;
        while self.at(j) == b' ' {
            j += 1;
        }
        if self.at(j) == b'\t' {
            return Err(dec());
        }
        Ok(j - ls)
    }

    /// `---` or `...` at a line start, followed by a separator.
    fn doc_marker(&self, ls: usize) -> bool {
        let m = &self.b[ls.min(self.b.len())..];
        (m.starts_with(b"---") || m.starts_with(b"..."))
            && matches!(self.at(ls + 3), b' ' | b'\n' | b'\t')
    }

    /// `-` followed by a separator: a block sequence entry.
    fn seq_entry(&self, p: usize) -> bool {
        self.at(p) == b'-' && matches!(self.at(p + 1), b' ' | b'\n')
    }

    /// After a value on its line: only spaces, then an optional comment (after a space).
    fn finish_line(&mut self) -> R<()> {
        let start = self.i;
        while matches!(self.at(self.i), b' ' | b'\t') {
            self.i += 1;
        }
        match self.at(self.i) {
            b'\n' => {}
            b'#' if self.i > start => self.i = self.line_end(self.i),
            _ => return Err(dec()),
        }
        self.i = (self.i + 1).min(self.b.len());
        Ok(())
    }

    fn stream(&mut self) -> R<Parsed> {
        let mut docs = Vec::new();
        let mut blanks = Vec::new();
        self.skip_blank_lines();
        if self.eof() {
            return Ok(Parsed { docs, blanks });
        }
        loop {
            if self.b[self.i] == b'%' {
                return Err(dec());
            }
            if self.doc_marker(self.i) {
                if self.b[self.i] == b'.' {
                    return Err(dec());
                }
                self.i += 3;
                // `--- value` on the marker line is left to the general parser.
                while self.at(self.i) == b' ' {
                    self.i += 1;
                }
                if self.at(self.i) != b'\n' {
                    return Err(dec());
                }
                self.i = (self.i + 1).min(self.b.len());
            }
            self.blanks.clear();
            self.path.clear();
            // Empty documents are skipped, as the general parser skips them.
            if let Some(v) = self.block_node(-1, false, 0)? {
                docs.push(v);
                blanks.push(std::mem::take(&mut self.blanks));
            }
            self.skip_blank_lines();
            if self.eof() {
                break;
            }
            if !(self.doc_marker(self.i) && self.b[self.i] == b'-') {
                return Err(dec());
            }
        }
        Ok(Parsed { docs, blanks })
    }

    /// A node on the lines that follow (the current line is consumed): a block mapping or
    /// sequence indented more than `parent`, or a sequence at `parent` itself when it is a
    /// mapping's value (`key:` then `- item` at the key's indentation). `None`: empty.
    fn block_node(&mut self, parent: isize, map_value: bool, depth: usize) -> R<Option<Value>> {
        if depth > MAX_DEPTH {
            return Err(dec());
        }
        self.skip_blank_lines();
        if self.eof() || self.doc_marker(self.i) {
            return Ok(None);
        }
        let n = self.indent(self.i)?;
        let p = self.i + n;
        let ni = n as isize;
        if self.seq_entry(p) && (ni > parent || (map_value && ni == parent)) {
            self.i = p;
            return self.block_seq(n, depth + 1).map(Some);
        }
        if ni > parent {
            if self.scan_key(p)?.is_none() {
                // A scalar or flow collection on the lines after its key.
                if parent < 0 {
                    return Err(dec());
                }
                self.i = p;
                return self.inline(parent as usize, map_value, depth).map(Some);
            }
            self.i = p;
            return self.block_map(n, depth + 1).map(Some);
        }
        Ok(None)
    }

    /// A block sequence whose first `-` is at the cursor, at column `n`.
    fn block_seq(&mut self, n: usize, depth: usize) -> R<Value> {
        let mut items = Vec::new();
        loop {
            self.i += 1; // the `-`
            self.path.push(Seg::Idx(items.len()));
            let v = self.seq_item(n, depth)?;
            self.path.pop();
            items.push(v);
            self.skip_blank_lines();
            if self.eof() || self.doc_marker(self.i) {
                break;
            }
            let k = self.indent(self.i)?;
            if k < n {
                break;
            }
            if k > n {
                return Err(dec());
            }
            let p = self.i + k;
            if !self.seq_entry(p) {
                break;
            }
            self.i = p;
        }
        Ok(Value::Seq(items))
    }

    /// The item after a `-` of a sequence at column `n`.
    fn seq_item(&mut self, n: usize, depth: usize) -> R<Value> {
        while self.at(self.i) == b' ' {
            self.i += 1;
        }
        match self.at(self.i) {
            b'\t' => Err(dec()),
            b'\n' => {
                self.i = (self.i + 1).min(self.b.len());
                Ok(self
                    .block_node(n as isize, false, depth)?
                    .unwrap_or(Value::Null))
            }
            b'#' => {
                self.i = (self.line_end(self.i) + 1).min(self.b.len());
                Ok(self
                    .block_node(n as isize, false, depth)?
                    .unwrap_or(Value::Null))
            }
            _ => {
                let col = self.i - self.line_start(self.i);
                if self.seq_entry(self.i) {
                    return self.block_seq(col, depth + 1);
                }
                if self.scan_key(self.i)?.is_some() {
                    return self.block_map(col, depth + 1);
                }
                self.inline(n, false, depth)
            }
        }
    }

    /// A block mapping whose first key is at the cursor, at column `n`.
    fn block_map(&mut self, n: usize, depth: usize) -> R<Value> {
        let mut m = Mapping::default();
        loop {
            let Some((key, seg, after)) = self.scan_key(self.i)? else {
                return Err(dec());
            };
            self.i = after;
            self.path.push(seg);
            while matches!(self.at(self.i), b' ' | b'\t') {
                self.i += 1;
            }
            let v = match self.at(self.i) {
                b'\n' | b'#' => {
                    self.i = (self.line_end(self.i) + 1).min(self.b.len());
                    match self.block_node(n as isize, true, depth)? {
                        Some(v) => v,
                        None => {
                            let p = self.path_strings();
                            self.blanks.push(p);
                            Value::Null
                        }
                    }
                }
                _ => self.inline(n, true, depth)?,
            };
            self.path.pop();
            if m.insert(key, v).is_some() {
                return Err(dec());
            }
            self.skip_blank_lines();
            if self.eof() || self.doc_marker(self.i) {
                break;
            }
            let k = self.indent(self.i)?;
            if k < n {
                break;
            }
            if k > n || self.seq_entry(self.i + k) {
                return Err(dec());
            }
            self.i += k;
        }
        Ok(Value::Map(m))
    }

    fn path_strings(&self) -> Vec<String> {
        self.path
            .iter()
            .map(|s| match s {
                Seg::Src(a, b) => self.t[*a..*b].to_string(),
                Seg::Owned(k) => k.clone(),
                Seg::Idx(i) => i.to_string(),
            })
            .collect()
    }

    /// Whether a mapping entry starts at `p`: its key, the key's path step and the position
    /// after the `:`. `None`: not a key (a scalar). Keys that could resolve to anything but a
    /// string, and complex or decorated keys, decline.
    fn scan_key(&self, p: usize) -> R<Option<(String, Seg, usize)>> {
        let c = self.at(p);
        match c {
            b'\'' | b'"' => {
                let mut q = P {
                    t: self.t,
                    b: self.b,
                    i: p,
                    opts: self.opts,
                    path: Vec::new(),
                    blanks: Vec::new(),
                    fi: 0,
                };
                // A key is a one-line scalar; a quoted value may span lines.
                let Ok(k) = (if c == b'\'' {
                    q.single_quoted(None)
                } else {
                    q.double_quoted(None)
                }) else {
                    return Ok(None);
                };
                let mut j = q.i;
                while self.at(j) == b' ' {
                    j += 1;
                }
                if self.at(j) == b':' && matches!(self.at(j + 1), b' ' | b'\n') {
                    return Ok(Some((k.clone(), Seg::Owned(k), j + 1)));
                }
                Ok(None)
            }
            // Flow collections and block scalars: values, not keys.
            b'[' | b'{' | b'|' | b'>' => Ok(None),
            b'?' | b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b'#' | b',' | b']' | b'}' | b'\t'
            | b'\n' => Err(dec()),
            b'-' | b':' if matches!(self.at(p + 1), b' ' | b'\n' | b'\t') => Err(dec()),
            _ => {
                let end = self.line_end(p);
                let mut j = p;
                while j < end {
                    match self.b[j] {
                        b':' if matches!(self.at(j + 1), b' ' | b'\n' | b'\t') => {
                            let mut e = j;
                            while e > p && self.b[e - 1] == b' ' {
                                e -= 1;
                            }
                            let k = &self.t[p..e];
                            if k == "<<" || maybe_special(k) && !self.resolves_to_itself(k) {
                                return Err(dec());
                            }
                            return Ok(Some((k.to_string(), Seg::Src(p, e), j + 1)));
                        }
                        b'#' if self.b[j - 1] == b' ' => return Ok(None),
                        b'\t' => return Err(dec()),
                        _ => {}
                    }
                    j += 1;
                }
                Ok(None)
            }
        }
    }

    /// A value that starts on the current line, in a block whose indentation is `n`.
    /// `map_value`: the value of a mapping entry (whose block scalars may give an explicit
    /// indentation, relative to `n`).
    fn inline(&mut self, n: usize, map_value: bool, depth: usize) -> R<Value> {
        match self.at(self.i) {
            b'|' | b'>' => self.block_scalar(n, map_value).map(Value::String),
            b'\'' => {
                let s = self.single_quoted(Some(n))?;
                self.finish_line()?;
                Ok(Value::String(s))
            }
            b'"' => {
                let s = self.double_quoted(Some(n))?;
                self.finish_line()?;
                Ok(Value::String(s))
            }
            b'[' | b'{' => {
                self.fi = n;
                let v = self.flow(depth + 1)?;
                self.finish_line()?;
                Ok(v)
            }
            b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b'?' | b',' | b']' | b'}' | b'#' => {
                Err(dec())
            }
            b'-' | b':' if matches!(self.at(self.i + 1), b' ' | b'\n' | b'\t') => Err(dec()),
            _ => self.plain(n),
        }
    }

    /// A plain scalar in block context, possibly continued on more-indented lines.
    fn plain(&mut self, n: usize) -> R<Value> {
        let (s, e, comment) = self.plain_line(self.i)?;
        let line_end = self.line_end(self.i);
        self.i = (line_end + 1).min(self.b.len());
        if comment {
            // A comment follows on this line: the scalar ends here.
            return self.resolve(&self.t[s..e]);
        }
        let mut text: Option<String> = None;
        loop {
            // Look ahead for a continuation line.
            let mut j = self.i;
            let mut empties = 0;
            let cont = loop {
                if j >= self.b.len() {
                    break None;
                }
                let le = self.line_end(j);
                let mut k = j;
                while k < le && self.b[k] == b' ' {
                    k += 1;
                }
                if k < le && self.b[k] == b'\t' {
                    return Err(dec());
                }
                if k == le {
                    empties += 1;
                    j = le + 1;
                    continue;
                }
                if self.b[k] == b'#' || k - j <= n || (k == j && self.doc_marker(j)) {
                    break None;
                }
                break Some((k, le));
            };
            let Some((k, le)) = cont else { break };
            let (cs, ce, comment) = self.plain_line(k)?;
            if comment || self.seq_entry(k) {
                return Err(dec());
            }
            let t = text.get_or_insert_with(|| self.t[s..e].to_string());
            if empties == 0 {
                t.push(' ');
            } else {
                for _ in 0..empties {
                    t.push('\n');
                }
            }
            t.push_str(&self.t[cs..ce]);
            self.i = (le + 1).min(self.b.len());
        }
        match text {
            None => self.resolve(&self.t[s..e]),
            Some(t) if !t.contains('\n') => self.resolve(&t),
            Some(t) => {
                if maybe_special(&t) {
                    return Err(dec());
                }
                Ok(Value::String(t))
            }
        }
    }

    /// The text of a plain scalar's line from `p`: the range up to a comment or the line end,
    /// trailing spaces dropped, and whether a comment follows. `: ` inside (a mapping where
    /// none may start) declines.
    fn plain_line(&self, p: usize) -> R<(usize, usize, bool)> {
        let end = self.line_end(p);
        let mut j = p;
        let mut comment = false;
        while j < end {
            match self.b[j] {
                b':' if matches!(self.at(j + 1), b' ' | b'\n' | b'\t') => return Err(dec()),
                b'#' if j > p && matches!(self.b[j - 1], b' ' | b'\t') => {
                    comment = true;
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        let mut e = j;
        while e > p && matches!(self.b[e - 1], b' ' | b'\t') {
            e -= 1;
        }
        if e == p {
            return Err(dec());
        }
        Ok((p, e, comment))
    }

    /// Whether a plain key reads back as the same string (`n` does under YAML 1.2 rules, not
    /// under 1.1; `80` never does).
    fn resolves_to_itself(&self, k: &str) -> bool {
        matches!(self.resolve(k), Ok(Value::String(s)) if s == k)
    }

    /// Type a plain scalar as the general parser does: text that can only be a string is
    /// taken as is; anything that might be a number, boolean or null is resolved by it.
    fn resolve(&self, s: &str) -> R<Value> {
        let b = s.as_bytes();
        if b.first().is_some_and(u8::is_ascii_digit)
            && b.len() <= 18
            && b.iter().all(u8::is_ascii_digit)
            && (b.len() == 1 || b[0] != b'0')
        {
            return s.parse::<i64>().map(Value::Int).map_err(|_| dec());
        }
        if !maybe_special(s) {
            return Ok(Value::String(s.to_string()));
        }
        if s.starts_with("---") || s.starts_with("...") {
            return Err(dec());
        }
        match serde_saphyr::from_str_with_options::<Value>(s, self.opts.clone()) {
            Ok(v) if !matches!(v, Value::Map(_) | Value::Seq(_)) => Ok(v),
            _ => Err(dec()),
        }
    }

    /// A single-quoted scalar at the cursor. `fold`: the enclosing block indentation when
    /// the scalar may continue on following lines; `None` for one-line scalars (keys).
    fn single_quoted(&mut self, fold: Option<usize>) -> R<String> {
        self.i += 1;
        let start = self.i;
        // One-line fast path: no `''` escape and no line break before the closing quote.
        if let Some(q) = self.b[start..]
            .iter()
            .position(|&c| c == b'\'' || c == b'\n')
        {
            let q = start + q;
            if self.b[q] == b'\'' && self.at(q + 1) != b'\'' {
                self.i = q + 1;
                return Ok(self.t[start..q].to_string());
            }
        }
        let mut out = String::new();
        let mut seg = start;
        loop {
            if self.i >= self.b.len() {
                return Err(dec());
            }
            match self.b[self.i] {
                b'\'' => {
                    out.push_str(&self.t[seg..self.i]);
                    if self.at(self.i + 1) == b'\'' {
                        out.push('\'');
                        self.i += 2;
                        seg = self.i;
                    } else {
                        self.i += 1;
                        return Ok(out);
                    }
                }
                b'\n' => {
                    let Some(n) = fold else { return Err(dec()) };
                    out.push_str(&self.t[seg..self.i]);
                    self.fold_break(&mut out, n, true)?;
                    seg = self.i;
                }
                _ => self.i += 1,
            }
        }
    }

    /// At a raw line break inside a quoted scalar: drop trailing white space (when `trim`),
    /// fold the break (a space, or one newline per empty line), skip the next line's
    /// indentation. The next line must be indented more than the block (`n`).
    fn fold_break(&mut self, out: &mut String, n: usize, trim: bool) -> R<()> {
        if trim {
            let kept = out.trim_end_matches([' ', '\t']).len();
            out.truncate(kept);
        }
        let mut empties = 0;
        loop {
            self.i += 1; // the line break
            let ls = self.i;
            while self.at(self.i) == b' ' || self.at(self.i) == b'\t' {
                self.i += 1;
            }
            if self.i >= self.b.len() {
                return Err(dec());
            }
            if self.b[self.i] == b'\n' {
                empties += 1;
                continue;
            }
            let spaces = self.b[ls..self.i]
                .iter()
                .take_while(|&&c| c == b' ')
                .count();
            if spaces <= n || self.b[ls..self.i].contains(&b'\t') || self.doc_marker(ls) {
                return Err(dec());
            }
            break;
        }
        if empties == 0 {
            out.push(' ');
        } else {
            for _ in 0..empties {
                out.push('\n');
            }
        }
        Ok(())
    }

    /// A double-quoted scalar at the cursor (see [`Self::single_quoted`] for `fold`).
    fn double_quoted(&mut self, fold: Option<usize>) -> R<String> {
        self.i += 1;
        let start = self.i;
        if let Some(q) = self.b[start..]
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c == b'\n')
        {
            let q = start + q;
            if self.b[q] == b'"' {
                self.i = q + 1;
                return Ok(self.t[start..q].to_string());
            }
        }
        let mut out = String::new();
        let mut seg = start;
        loop {
            if self.i >= self.b.len() {
                return Err(dec());
            }
            match self.b[self.i] {
                b'"' => {
                    out.push_str(&self.t[seg..self.i]);
                    self.i += 1;
                    return Ok(out);
                }
                b'\n' => {
                    let Some(n) = fold else { return Err(dec()) };
                    out.push_str(&self.t[seg..self.i]);
                    // Only raw white space is trimmed, not what escapes produced: trim the
                    // raw tail of this line's text.
                    let raw_tail = self.t[seg..self.i].len()
                        - self.t[seg..self.i].trim_end_matches([' ', '\t']).len();
                    out.truncate(out.len() - raw_tail);
                    self.fold_break(&mut out, n, false)?;
                    seg = self.i;
                }
                b'\\' => {
                    out.push_str(&self.t[seg..self.i]);
                    let e = self.at(self.i + 1);
                    self.i += 2;
                    match e {
                        b'0' => out.push('\0'),
                        b'a' => out.push('\x07'),
                        b'b' => out.push('\x08'),
                        b't' | b'\t' => out.push('\t'),
                        b'n' => out.push('\n'),
                        b'v' => out.push('\x0b'),
                        b'f' => out.push('\x0c'),
                        b'r' => out.push('\r'),
                        b'e' => out.push('\x1b'),
                        b' ' => out.push(' '),
                        b'"' => out.push('"'),
                        b'/' => out.push('/'),
                        b'\\' => out.push('\\'),
                        b'N' => out.push('\u{85}'),
                        b'_' => out.push('\u{a0}'),
                        b'L' => out.push('\u{2028}'),
                        b'P' => out.push('\u{2029}'),
                        b'x' => out.push(self.hex_escape(2)?),
                        b'u' => out.push(self.hex_escape(4)?),
                        b'U' => out.push(self.hex_escape(8)?),
                        // An escaped line break and anything else: general parser.
                        _ => return Err(dec()),
                    }
                    seg = self.i;
                }
                _ => self.i += 1,
            }
        }
    }

    fn hex_escape(&mut self, digits: usize) -> R<char> {
        let h = self.t.get(self.i..self.i + digits).ok_or_else(dec)?;
        if !h.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(dec());
        }
        let v = u32::from_str_radix(h, 16).map_err(|_| dec())?;
        self.i += digits;
        char::from_u32(v).ok_or_else(dec)
    }

    /// A literal (`|`) or folded (`>`) block scalar whose header is at the cursor, in a
    /// block indented `n`. Explicit indentation indicators and unusual shapes decline.
    fn block_scalar(&mut self, n: usize, explicit_ok: bool) -> R<String> {
        let folded = self.b[self.i] == b'>';
        self.i += 1;
        let mut chomp = b' ';
        let mut explicit = None;
        // Chomping and indentation indicators, in either order.
        for _ in 0..2 {
            match self.at(self.i) {
                c @ (b'-' | b'+') if chomp == b' ' => chomp = c,
                c @ b'1'..=b'9' if explicit.is_none() && explicit_ok => {
                    explicit = Some(usize::from(c - b'0'));
                }
                c if c.is_ascii_digit() => return Err(dec()),
                _ => break,
            }
            self.i += 1;
        }
        self.finish_line()?;
        // Leading empty lines, then the first content line sets the indentation.
        let mut leading = 0usize;
        let mut max_leading = 0usize;
        let m = loop {
            if self.i >= self.b.len() {
                break None;
            }
            let le = self.line_end(self.i);
            let sp = self.b[self.i..le]
                .iter()
                .take_while(|&&c| c == b' ')
                .count();
            if self.i + sp == le {
                leading += 1;
                max_leading = max_leading.max(sp);
                self.i = le + 1;
                continue;
            }
            if self.b[self.i + sp] == b'\t' {
                return Err(dec());
            }
            break Some(sp);
        };
        let m = match (explicit, m) {
            (Some(d), Some(sp)) if sp >= n + d => n + d,
            // Indented under the key but less than the indicator says: an error.
            (Some(_), Some(sp)) if sp > n => return Err(dec()),
            (None, Some(m)) if m > n && m > 0 => m,
            _ => {
                // No content: only clip and strip are simple.
                if chomp == b'+' || leading > 0 && max_leading > n {
                    return Err(dec());
                }
                self.i = self.i.min(self.b.len());
                return Ok(String::new());
            }
        };
        if max_leading > m || (folded && leading > 0) {
            return Err(dec());
        }
        let mut out = String::new();
        for _ in 0..leading {
            out.push('\n');
        }
        let mut first = true;
        let mut empties = 0usize;
        loop {
            if self.i >= self.b.len() {
                break;
            }
            let le = self.line_end(self.i);
            let sp = self.b[self.i..le]
                .iter()
                .take_while(|&&c| c == b' ')
                .count();
            if self.i + sp == le && sp <= m {
                empties += 1;
                self.i = (le + 1).min(self.b.len());
                continue;
            }
            if sp < m {
                if self.b[self.i + sp] == b'\t' {
                    return Err(dec());
                }
                break;
            }
            let line = &self.t[self.i + m..le];
            if folded && line.starts_with([' ', '\t']) {
                return Err(dec());
            }
            if !first {
                if folded && empties > 0 {
                    for _ in 0..empties {
                        out.push('\n');
                    }
                } else if folded {
                    out.push(' ');
                } else {
                    for _ in 0..=empties {
                        out.push('\n');
                    }
                }
            }
            out.push_str(line);
            first = false;
            empties = 0;
            self.i = (le + 1).min(self.b.len());
            if le >= self.b.len() && chomp == b'+' {
                // The text ends without a line break: the general parser's reading of
                // kept trailing breaks there is not reproduced.
                return Err(dec());
            }
        }
        match chomp {
            b'-' => {}
            b'+' => {
                out.push('\n');
                for _ in 0..empties {
                    out.push('\n');
                }
            }
            _ => out.push('\n'),
        }
        Ok(out)
    }

    /// A flow collection (`[...]` or `{...}`) at the cursor; it may span lines.
    fn flow(&mut self, depth: usize) -> R<Value> {
        if depth > MAX_DEPTH {
            return Err(dec());
        }
        let seq = self.b[self.i] == b'[';
        let close = if seq { b']' } else { b'}' };
        self.i += 1;
        self.flow_ws()?;
        let mut items = Vec::new();
        let mut m = Mapping::default();
        let mut done = self.eat(close);
        while !done {
            if seq {
                items.push(self.flow_node(depth)?);
            } else {
                let Value::String(key) = self.flow_node(depth)? else {
                    return Err(dec());
                };
                self.flow_ws()?;
                if self.at(self.i) != b':' || self.at(self.i + 1) != b' ' {
                    return Err(dec());
                }
                self.i += 1;
                self.flow_ws()?;
                let v = self.flow_node(depth)?;
                if m.insert(key, v).is_some() {
                    return Err(dec());
                }
            }
            // `,` (a trailing one allowed) or the closing bracket; anything else declines.
            self.flow_ws()?;
            done = if self.eat(b',') {
                self.flow_ws()?;
                self.eat(close)
            } else if self.eat(close) {
                true
            } else {
                return Err(dec());
            };
        }
        Ok(if seq {
            Value::Seq(items)
        } else {
            Value::Map(m)
        })
    }

    /// Step over `c` if it is at the cursor.
    fn eat(&mut self, c: u8) -> bool {
        let here = self.at(self.i) == c && self.i < self.b.len();
        if here {
            self.i += 1;
        }
        here
    }

    /// White space, comments and line breaks inside a flow collection; continuation lines
    /// must be indented more than the enclosing block.
    fn flow_ws(&mut self) -> R<()> {
        loop {
            match self.at(self.i) {
                b' ' | b'\t' => self.i += 1,
                b'#' if matches!(self.b[self.i - 1], b' ' | b'\t' | b'\n') => {
                    self.i = self.line_end(self.i);
                }
                b'\n' => {
                    if self.i >= self.b.len() {
                        return Err(dec());
                    }
                    self.i += 1;
                    let ls = self.i;
                    let mut j = ls;
                    while self.at(j) == b' ' {
                        j += 1;
                    }
                    if j < self.b.len()
                        && !matches!(self.b[j], b'\n' | b'#')
                        && (j - ls <= self.fi || self.b[j] == b'\t' || self.doc_marker(ls))
                    {
                        return Err(dec());
                    }
                    self.i = j;
                }
                _ => return Ok(()),
            }
        }
    }

    /// A node inside a flow collection (one line).
    fn flow_node(&mut self, depth: usize) -> R<Value> {
        match self.at(self.i) {
            b'[' | b'{' => self.flow(depth + 1),
            b'\'' => self.single_quoted(None).map(Value::String),
            b'"' => self.double_quoted(None).map(Value::String),
            b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b'?' | b',' | b']' | b'}' | b'#' | b'|'
            | b'>' | b'\n' | b'\t' => Err(dec()),
            b'-' | b':' if matches!(self.at(self.i + 1), b' ' | b'\n' | b',' | b']' | b'}') => {
                Err(dec())
            }
            _ => {
                let s = self.i;
                let mut j = s;
                loop {
                    match self.at(j) {
                        b',' | b'[' | b']' | b'{' | b'}' | b'\n' => break,
                        b':' if matches!(self.at(j + 1), b' ' | b',' | b']' | b'}' | b'\n') => {
                            break;
                        }
                        b'#' if self.b[j - 1] == b' ' => return Err(dec()),
                        b'\t' => return Err(dec()),
                        _ => j += 1,
                    }
                }
                if matches!(self.at(j), b'[' | b'{' | b'\n') {
                    return Err(dec());
                }
                let mut e = j;
                while e > s && self.b[e - 1] == b' ' {
                    e -= 1;
                }
                self.i = j;
                self.resolve(&self.t[s..e])
            }
        }
    }
}

/// Whether a plain scalar could resolve to something other than a string (number, boolean,
/// null, infinity…) under YAML 1.1 or 1.2 rules: such text is handed to the general parser.
fn maybe_special(s: &str) -> bool {
    let Some(&c) = s.as_bytes().first() else {
        return true;
    };
    if c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.' | b'~') {
        return true;
    }
    s.len() <= 5
        && ["true", "false", "null", "y", "yes", "n", "no", "on", "off"]
            .iter()
            .any(|w| s.eq_ignore_ascii_case(w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::{yaml_options, yaml11_options};

    /// Where two values first differ, as a path and both sides (for readable failures).
    fn first_diff(a: &Value, b: &Value, path: &str) -> Option<String> {
        match (a, b) {
            (Value::Map(x), Value::Map(y)) => {
                for (k, v) in x {
                    match y.get(k) {
                        Some(w) => {
                            if let Some(d) = first_diff(v, w, &format!("{path}.{k}")) {
                                return Some(d);
                            }
                        }
                        None => return Some(format!("{path}.{k}: only in fast")),
                    }
                }
                (x.len() != y.len()).then(|| {
                    format!(
                        "{path}: keys {:?} vs {:?}",
                        x.keys().collect::<Vec<_>>(),
                        y.keys().collect::<Vec<_>>()
                    )
                })
            }
            (Value::Seq(x), Value::Seq(y)) => {
                for (i, (v, w)) in x.iter().zip(y).enumerate() {
                    if let Some(d) = first_diff(v, w, &format!("{path}[{i}]")) {
                        return Some(d);
                    }
                }
                (x.len() != y.len()).then(|| format!("{path}: {} vs {} items", x.len(), y.len()))
            }
            _ => (a != b).then(|| format!("{path}: fast {a:?} vs general {b:?}")),
        }
    }

    fn docs_diff(a: &[Value], b: &[Value]) -> Option<String> {
        if a.len() != b.len() {
            return Some(format!("{} vs {} documents", a.len(), b.len()));
        }
        a.iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_diff(x, y, &format!("doc{i}")))
    }

    /// Both readers on `text`: when the fast path accepts, it must give the same documents.
    fn same(text: &str) -> bool {
        let slow: Result<Vec<Value>, _> =
            serde_saphyr::from_multiple_with_options(text, yaml_options());
        match parse(text, &yaml_options()) {
            None => false,
            Some(p) => {
                let slow = slow
                    .unwrap_or_else(|e| panic!("fast path accepted invalid YAML {text:?}: {e}"));
                if let Some(d) = docs_diff(&p.docs, &slow) {
                    panic!("{text:?}: {d}");
                }
                assert_eq!(p.blanks.len(), p.docs.len());
                true
            }
        }
    }

    #[test]
    fn manifests_parse_as_the_general_parser_reads_them() {
        let cases = [
            "",
            "a: 1\n",
            "a: 1",
            "---\na: 1\n",
            "a: 1\n---\nb: 2\n",
            "a: 1\n---\n",
            "---\n---\na: b\n",
            "# c\n\na: b # c\nc: 'x y' # z\n",
            "a:\n  b:\n    c: d\n  e: f\ng: h\n",
            "a:\n- b\n- c: d\n  e: f\n- - x\n  - y\nz: 1\n",
            "a:\n  - 1\n  - 2.5\n  - true\n  - null\n  - ~\n  - -3\n  - 0x1F\n  - 0755\n  - 1e3\n  - -.5\n",
            "a: yes\nb: no\nc: on\nd: y\ne: True\nf: NULL\ng: 007\nh: 12345678901234567890\n",
            "s: 'it''s'\nt: \"q \\\"x\\\" \\u00e9 \\t \\\\ \\/ \\x41\"\nu: \"\"\nv: ''\n",
            "d: 'one\n  two\n\n  three'\n",
            "d: \"one  \n  two\n\n\n  three\"\n",
            "d: plain\n  continued\n  and more\n\n  after empty\ne: 1\n",
            "l: |\n  line 1\n    more\n\n  line 3\nn: x\n",
            "l: |-\n  a\n  b\n\n\nn: x\n",
            "l: |+\n  a\n\n\nn: x\n",
            "f: >\n  folded\n  text\n\n  para\nn: x\n",
            "f: >-\n  a\n  b\n",
            "l: |\n\n  after empty\n",
            "l: |\n  no final line break",
            "l: >-\n  no final\n  line break",
            "e: |\nn: x\n",
            "x: [a, 'b', \"c\", 1, [2, 3], {k: v}]\ny: {}\nz: []\nw: {a: 1, b: [x]}\n",
            "url: http://example.com:8080/x\nk8s.io/name: a:b\n",
            "a: b\n\n\n---\n# only a comment\n---\nc: d\n",
            "items:\n- name: x\n  value: |\n    text\n- name: y\n",
            "k:\n\nv: 1\n",
            "k: # comment\n  x: 1\n",
            "a: \"x\\ny\"\n",
            "'quoted key': 1\n\"dq key\": 2\n",
            "a: -\n",
            "a: b: c\n",
            "a:\n  b: 1\n c: 2\n",
            "a: 1\na: 2\n",
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "? a\n: b\n",
            "a: [1,\n 2]\n",
            "a:\tb\n",
            "a: 'unterminated\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: 1\n...\n",
            "- a\n- b\n",
            "a: b\r\nc: d\r\n",
            "\u{feff}a: b\n",
            "a: |2\n   x\n",
            "key: 'x' y\n",
            "a:\n  - b\n  -\n  - c\n",
            "a: 1 # c\n  b\n",
            "a: x\n# c\n  y\n",
            "a: '---'\nb: ...x\nc: --x\n",
            "emoji: \"\\U0001F600\"\n",
            "a: x #c\n",
            "a: x#c\n",
        ];
        let mut accepted = 0;
        for c in cases {
            if same(c) {
                accepted += 1;
            } else {
                eprintln!(
                    "declined case {c:?}: {:?}",
                    parse_or_decline(c, &yaml_options()).err()
                );
            }
        }
        // Most manifest-shaped cases take the fast path; the rest must decline (not differ).
        assert!(accepted >= 35, "only {accepted} accepted");
    }

    #[test]
    fn blank_values_are_recorded_with_their_paths() {
        let text = "a:\n  b:\n  c: null\n  d: ~\n  e: ''\nl:\n- x:\n---\nf:\n";
        let p = parse(text, &yaml_options()).expect("fast path");
        assert_eq!(p.blanks.len(), 2);
        assert_eq!(p.blanks[0], vec![vec!["a", "b"], vec!["l", "0", "x"]]);
        assert_eq!(p.blanks[1], vec![vec!["f"]]);
        assert_eq!(p.blanks, crate::loader::blank_null_paths(text));
    }

    #[test]
    fn plain_scalars_resolve_with_the_callers_options() {
        let p = parse("a: yes\nb: 0755\n", &yaml11_options()).expect("fast path");
        let slow: Vec<Value> =
            serde_saphyr::from_multiple_with_options("a: yes\nb: 0755\n", yaml11_options())
                .unwrap();
        assert_eq!(p.docs, slow);
        assert_eq!(p.docs[0].get("a"), Some(&Value::Bool(true)));
        let p = parse("a: yes\n", &yaml_options()).expect("fast path");
        assert_eq!(p.docs[0].get("a"), Some(&Value::String("yes".into())));
    }

    #[test]
    fn invalid_input_declines() {
        for bad in [
            "a: [\n",
            "a: b: c\n",
            "a: 1\na: 2\n",
            "a:\n  b: 1\n c: 2\n",
            "a: 'x\n",
        ] {
            assert!(parse(bad, &yaml_options()).is_none(), "{bad:?}");
        }
    }

    /// Every `.yaml`/`.yml` file of the shared corpus.
    fn corpus_yaml_files() -> Vec<std::path::PathBuf> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
        let root = std::env::var_os("FERROFLUX_SHARED")
            .map(|s| std::path::PathBuf::from(s).join("corpus"))
            .unwrap_or(root);
        assert!(root.is_dir(), "corpus missing at {}", root.display());
        let mut files = Vec::new();
        let mut stack = vec![root];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                let ft = e.file_type().unwrap();
                if ft.is_dir() {
                    stack.push(p);
                } else if ft.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                    files.push(p);
                }
            }
        }
        files.sort();
        files
    }

    /// Mutated manifests (characters inserted, deleted, lines duplicated or re-indented):
    /// wherever the fast path accepts, the general parser must accept too and agree.
    #[test]
    fn mutated_manifests_never_read_differently() {
        // Small corpus files join the hand-written seeds.
        let corpus: Vec<String> = corpus_yaml_files()
            .into_iter()
            .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() < 3000))
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect();
        let own = [
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x # c\n  labels: {a: b, 'c': \"d\"}\ndata:\n  k: |\n    line\n      more\n\n  j: >-\n    folded\n    text\n  q: 'it''s\n    long'\n  n: 0755\n  e:\n",
            "a:\n- b: |2-\n\n\n    x\n  c:\n    'q'\n  d:\n    {}\n  e:\n    [1,\n    2]\n- 'k': \"v\"\n  \"l\":\n  - x\n",
            "spec:\n  containers:\n  - name: a\n    args: [\"x\", y,\n      z]\n    env:\n    - name: B\n      value: \"1\\n2\"\n  - - n\n    - m\n  description: plain\n    continued\n\n    more\n---\nkind: X\n",
        ];
        let seeds: Vec<&str> = own
            .iter()
            .copied()
            .chain(corpus.iter().map(String::as_str))
            .collect();
        assert!(seeds.len() > 100, "{} seeds", seeds.len());
        let alphabet = b" :-#'\"\n|>[]{},!&*?x1\t.~";
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut accepted = 0;
        for round in 0..20000 {
            let mut t: Vec<u8> = seeds[round % seeds.len()].as_bytes().to_vec();
            for _ in 0..=(next() % 3) {
                let pos = (next() as usize) % (t.len() + 1);
                match next() % 4 {
                    0 => t.insert(pos, alphabet[(next() as usize) % alphabet.len()]),
                    1 if pos < t.len() => {
                        t.remove(pos);
                    }
                    2 => {
                        for _ in 0..(next() % 3 + 1) {
                            t.insert(pos, b' ');
                        }
                    }
                    _ => {
                        let ls = t[..pos]
                            .iter()
                            .rposition(|&c| c == b'\n')
                            .map_or(0, |p| p + 1);
                        let le = t[pos..]
                            .iter()
                            .position(|&c| c == b'\n')
                            .map_or(t.len(), |p| pos + p + 1);
                        let line = t[ls..le].to_vec();
                        t.splice(le..le, line);
                    }
                }
            }
            let Ok(text) = String::from_utf8(t) else {
                continue;
            };
            let Some(p) = parse(&text, &yaml_options()) else {
                continue;
            };
            accepted += 1;
            let slow: Vec<Value> = serde_saphyr::from_multiple_with_options(&text, yaml_options())
                .unwrap_or_else(|e| panic!("fast path accepted invalid YAML {text:?}: {e}"));
            if let Some(d) = docs_diff(&p.docs, &slow) {
                panic!("{text:?}: {d}");
            }
            let blanks = crate::loader::blank_null_paths(&text);
            if blanks.len() == p.docs.len() {
                assert_eq!(p.blanks, blanks, "{text:?}");
            }
        }
        assert!(accepted > 2000, "{accepted}");
    }

    /// Every YAML file of the shared corpus: where the fast path accepts, it agrees with the
    /// general parser, blanks included; most files are accepted.
    #[test]
    fn corpus_files_read_identically() {
        let files = corpus_yaml_files();
        let (mut total, mut accepted, mut bytes_total, mut bytes_accepted) = (0, 0, 0, 0);
        for f in &files {
            let Ok(text) = std::fs::read_to_string(f) else {
                continue;
            };
            let slow: Result<Vec<Value>, _> =
                serde_saphyr::from_multiple_with_options(&text, yaml_options());
            let Ok(slow) = slow else {
                assert!(
                    parse(&text, &yaml_options()).is_none(),
                    "fast path accepted {} which the general parser rejects",
                    f.display()
                );
                continue;
            };
            total += 1;
            bytes_total += text.len();
            let fast = parse(&text, &yaml_options());
            if fast.is_none() {
                eprintln!(
                    "declined: {} ({} KiB): {:?}",
                    f.display(),
                    text.len() / 1024,
                    parse_or_decline(&text, &yaml_options()).err()
                );
            }
            if let Some(p) = fast {
                accepted += 1;
                bytes_accepted += text.len();
                if let Some(d) = docs_diff(&p.docs, &slow) {
                    panic!("{}: {d}", f.display());
                }
                let blanks = crate::loader::blank_null_paths(&text);
                if blanks.len() == p.docs.len() {
                    assert_eq!(p.blanks, blanks, "{}", f.display());
                }
            }
        }
        eprintln!(
            "fast YAML path: {accepted} of {total} corpus files ({} of {} KiB)",
            bytes_accepted / 1024,
            bytes_total / 1024
        );
        assert!(total > 100, "{total} files");
        assert!(
            bytes_accepted * 10 >= bytes_total * 9,
            "{bytes_accepted} of {bytes_total} bytes"
        );
    }
}
