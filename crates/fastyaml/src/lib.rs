//! A fast path for the YAML that manifests and values files are written in.
//!
//! General YAML parsers spend most of a large build or chart render scanning text through
//! an event stream. Manifests and values files use a small part of YAML: block mappings and
//! sequences, plain and quoted scalars, literal and folded blocks, flow collections. This
//! reader handles exactly that part, straight from bytes to the caller's value tree in one
//! pass (through a [`Sink`]), and can record blank values (`key:` with nothing after it).
//!
//! It never decides a hard case: anything outside that part (anchors, aliases, tags, merge
//! keys, complex keys, directives, tabs in indentation, duplicate keys, odd indentation,
//! non-printable characters…) makes it decline, and the caller parses the text with its
//! general parser, which also words the error for invalid input. How plain scalars resolve
//! (YAML 1.1 or 1.2, numbers as floats or integers) is the sink's decision: it may decline
//! too. The callers (crates/kustomize, crates/gotemplate) compare both paths on every corpus
//! file and on mutated ones.

#![forbid(unsafe_code)]

pub mod mutations;

use std::borrow::Cow;

/// What the reader builds, and how plain scalars resolve.
///
/// Every `Option`/`bool` result can decline the whole text (the caller then uses its general
/// parser).
pub trait Sink {
    /// A node of the caller's tree.
    type Value;
    /// A mapping under construction.
    type Map;
    /// Whether to record the paths of blank mapping values ([`Parsed::blanks`]).
    const BLANKS: bool = false;

    /// An empty node (`key:` or `-` with nothing after it).
    fn null(&mut self) -> Self::Value;
    /// A quoted, block or multi-line plain scalar: always a string.
    fn string(&mut self, s: Cow<'_, str>) -> Self::Value;
    /// A one-line plain scalar (multi-line ones folded onto one line), typed as the general
    /// parser would; `None` declines.
    fn plain(&mut self, s: &str) -> Option<Self::Value>;
    /// The key string a plain mapping key stands for (`<<` never reaches here); `None`
    /// declines.
    fn key(&mut self, k: &str) -> Option<String>;
    /// A sequence.
    fn seq(&mut self, items: Vec<Self::Value>) -> Self::Value;
    /// An empty mapping to fill.
    fn new_map(&mut self) -> Self::Map;
    /// Adds an entry; `false` (a duplicate key) declines.
    fn insert(&mut self, m: &mut Self::Map, key: String, v: Self::Value) -> bool;
    /// The finished mapping.
    fn map(&mut self, m: Self::Map) -> Self::Value;
}

/// Documents and, per document, the paths of blank mapping values.
#[derive(Debug)]
pub struct Parsed<V> {
    /// The non-empty documents.
    pub docs: Vec<V>,
    /// Per document in `docs`, the paths of blank mapping values (when [`Sink::BLANKS`]).
    pub blanks: Vec<Vec<Vec<String>>>,
    /// Documents in the stream, empty ones included (`---` then nothing counts).
    pub documents: usize,
}

/// The fast path does not handle this input; parse it with serde-saphyr.
/// Carries where the fast path gave up, for tests and debugging.
#[derive(Debug)]
pub struct Decline(pub &'static std::panic::Location<'static>);

#[track_caller]
fn dec() -> Decline {
    Decline(std::panic::Location::caller())
}

type R<T> = Result<T, Decline>;

/// Deeper nesting goes to the general parser (which enforces its own budget).
const MAX_DEPTH: usize = 128;

/// Parse `text` if it stays within the supported part of YAML; `None` means "use the general
/// parser".
pub fn parse<S: Sink>(text: &str, sink: &mut S) -> Option<Parsed<S::Value>> {
    parse_or_decline(text, sink).ok()
}

/// [`parse`], saying where the reader gave up.
pub fn parse_or_decline<S: Sink>(text: &str, sink: &mut S) -> R<Parsed<S::Value>> {
    if !printable(text.as_bytes()) {
        return Err(dec());
    }
    let mut p = P {
        t: text,
        b: text.as_bytes(),
        i: 0,
        sink,
        path: Vec::new(),
        blanks: Vec::new(),
        fi: 0,
    };
    p.stream()
}

/// Whether every character is one the fast path treats plainly: no carriage returns, no
/// control characters but tab and newline, no BOM, no Unicode line separators or C1 controls.
fn printable(b: &[u8]) -> bool {
    // Nearly always plain ASCII text: one vectorisable pass decides (no early exit inside a
    // block, so the compiler can check many bytes per instruction).
    if b.chunks(64).all(|c| {
        c.iter().fold(true, |ok, &x| {
            ok & ((x.wrapping_sub(0x20) < 0x5f) | (x == b'\n') | (x == b'\t'))
        })
    }) {
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

struct P<'a, 's, S: Sink> {
    t: &'a str,
    b: &'a [u8],
    i: usize,
    sink: &'s mut S,
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

impl<'a, S: Sink> P<'a, '_, S> {
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(b'\n')
    }

    fn eof(&self) -> bool {
        self.i >= self.b.len()
    }

    fn line_end(&self, from: usize) -> usize {
        let from = from.min(self.b.len());
        memchr::memchr(b'\n', &self.b[from..]).map_or(self.b.len(), |p| from + p)
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

    fn stream(&mut self) -> R<Parsed<S::Value>> {
        let mut docs = Vec::new();
        let mut blanks = Vec::new();
        let mut documents = 0;
        self.skip_blank_lines();
        if self.eof() {
            return Ok(Parsed {
                docs,
                blanks,
                documents,
            });
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
            documents += 1;
            // Empty documents are skipped, as the general parser skips them.
            if let Some(v) = self.block_node(-1, false, 0)? {
                docs.push(v);
                if S::BLANKS {
                    blanks.push(std::mem::take(&mut self.blanks));
                }
            }
            self.skip_blank_lines();
            if self.eof() {
                break;
            }
            if !(self.doc_marker(self.i) && self.b[self.i] == b'-') {
                return Err(dec());
            }
        }
        Ok(Parsed {
            docs,
            blanks,
            documents,
        })
    }

    /// A node on the lines that follow (the current line is consumed): a block mapping or
    /// sequence indented more than `parent`, or a sequence at `parent` itself when it is a
    /// mapping's value (`key:` then `- item` at the key's indentation). `None`: empty.
    fn block_node(&mut self, parent: isize, map_value: bool, depth: usize) -> R<Option<S::Value>> {
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
    fn block_seq(&mut self, n: usize, depth: usize) -> R<S::Value> {
        let mut items = Vec::new();
        loop {
            self.i += 1; // the `-`
            if S::BLANKS {
                self.path.push(Seg::Idx(items.len()));
            }
            let v = self.seq_item(n, depth)?;
            if S::BLANKS {
                self.path.pop();
            }
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
        Ok(self.sink.seq(items))
    }

    /// The item after a `-` of a sequence at column `n`.
    fn seq_item(&mut self, n: usize, depth: usize) -> R<S::Value> {
        while self.at(self.i) == b' ' {
            self.i += 1;
        }
        match self.at(self.i) {
            b'\t' => Err(dec()),
            b'\n' => {
                self.i = (self.i + 1).min(self.b.len());
                match self.block_node(n as isize, false, depth)? {
                    Some(v) => Ok(v),
                    None => Ok(self.sink.null()),
                }
            }
            b'#' => {
                self.i = (self.line_end(self.i) + 1).min(self.b.len());
                match self.block_node(n as isize, false, depth)? {
                    Some(v) => Ok(v),
                    None => Ok(self.sink.null()),
                }
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
    fn block_map(&mut self, n: usize, depth: usize) -> R<S::Value> {
        let mut m = self.sink.new_map();
        loop {
            let Some((key, seg, after)) = self.scan_key(self.i)? else {
                return Err(dec());
            };
            self.i = after;
            if S::BLANKS {
                self.path.push(seg);
            }
            while matches!(self.at(self.i), b' ' | b'\t') {
                self.i += 1;
            }
            let v = match self.at(self.i) {
                b'\n' | b'#' => {
                    self.i = (self.line_end(self.i) + 1).min(self.b.len());
                    match self.block_node(n as isize, true, depth)? {
                        Some(v) => v,
                        None => {
                            if S::BLANKS {
                                let p = self.path_strings();
                                self.blanks.push(p);
                            }
                            self.sink.null()
                        }
                    }
                }
                _ => self.inline(n, true, depth)?,
            };
            if S::BLANKS {
                self.path.pop();
            }
            if !self.sink.insert(&mut m, key, v) {
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
        Ok(self.sink.map(m))
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
    fn scan_key(&mut self, p: usize) -> R<Option<(String, Seg, usize)>> {
        let c = self.at(p);
        match c {
            b'\'' | b'"' => {
                let saved = self.i;
                self.i = p;
                // A key is a one-line scalar; a quoted value may span lines.
                let k = if c == b'\'' {
                    self.single_quoted(None)
                } else {
                    self.double_quoted(None)
                };
                let mut j = self.i;
                self.i = saved;
                let Ok(k) = k else {
                    return Ok(None);
                };
                while self.at(j) == b' ' {
                    j += 1;
                }
                if self.at(j) == b':' && matches!(self.at(j + 1), b' ' | b'\n') {
                    let k = k.into_owned();
                    let seg = if S::BLANKS {
                        Seg::Owned(k.clone())
                    } else {
                        Seg::Idx(0)
                    };
                    return Ok(Some((k, seg, j + 1)));
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
                // Only `:`, `#` and tabs matter on the rest of the line.
                for j in memchr::memchr3_iter(b':', b'#', b'\t', &self.b[p..end]) {
                    let j = p + j;
                    match self.b[j] {
                        b':' if matches!(self.at(j + 1), b' ' | b'\n' | b'\t') => {
                            let mut e = j;
                            while e > p && self.b[e - 1] == b' ' {
                                e -= 1;
                            }
                            let k = &self.t[p..e];
                            if k == "<<" {
                                return Err(dec());
                            }
                            let k = self.sink.key(k).ok_or_else(|| dec())?;
                            return Ok(Some((k, Seg::Src(p, e), j + 1)));
                        }
                        b'#' if self.b[j - 1] == b' ' => return Ok(None),
                        b'\t' => return Err(dec()),
                        _ => {}
                    }
                }
                Ok(None)
            }
        }
    }

    /// A value that starts on the current line, in a block whose indentation is `n`.
    /// `map_value`: the value of a mapping entry (whose block scalars may give an explicit
    /// indentation, relative to `n`).
    fn inline(&mut self, n: usize, map_value: bool, depth: usize) -> R<S::Value> {
        match self.at(self.i) {
            b'|' | b'>' => {
                let s = self.block_scalar(n, map_value)?;
                Ok(self.sink.string(Cow::Owned(s)))
            }
            b'\'' => {
                let s = self.single_quoted(Some(n))?;
                self.finish_line()?;
                Ok(self.sink.string(s))
            }
            b'"' => {
                let s = self.double_quoted(Some(n))?;
                self.finish_line()?;
                Ok(self.sink.string(s))
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
    fn plain(&mut self, n: usize) -> R<S::Value> {
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
                Ok(self.sink.string(Cow::Owned(t)))
            }
        }
    }

    /// The text of a plain scalar's line from `p`: the range up to a comment or the line end,
    /// trailing spaces dropped, and whether a comment follows. `: ` inside (a mapping where
    /// none may start) declines.
    fn plain_line(&self, p: usize) -> R<(usize, usize, bool)> {
        let end = self.line_end(p);
        let mut j = end;
        let mut comment = false;
        // Only `:` and `#` matter on the rest of the line.
        for k in memchr::memchr2_iter(b':', b'#', &self.b[p..end]) {
            let k = p + k;
            match self.b[k] {
                b':' if matches!(self.at(k + 1), b' ' | b'\n' | b'\t') => return Err(dec()),
                b'#' if k > p && matches!(self.b[k - 1], b' ' | b'\t') => {
                    comment = true;
                    j = k;
                    break;
                }
                _ => {}
            }
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

    /// A plain scalar, typed by the sink.
    fn resolve(&mut self, s: &str) -> R<S::Value> {
        self.sink.plain(s).ok_or_else(|| dec())
    }

    /// A single-quoted scalar at the cursor. `fold`: the enclosing block indentation when
    /// the scalar may continue on following lines; `None` for one-line scalars (keys).
    fn single_quoted(&mut self, fold: Option<usize>) -> R<Cow<'a, str>> {
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
                return Ok(Cow::Borrowed(&self.t[start..q]));
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
                        return Ok(Cow::Owned(out));
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
    fn double_quoted(&mut self, fold: Option<usize>) -> R<Cow<'a, str>> {
        self.i += 1;
        let start = self.i;
        if let Some(q) = self.b[start..]
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c == b'\n')
        {
            let q = start + q;
            if self.b[q] == b'"' {
                self.i = q + 1;
                return Ok(Cow::Borrowed(&self.t[start..q]));
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
                    return Ok(Cow::Owned(out));
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
        let h = self.t.get(self.i..self.i + digits).ok_or_else(|| dec())?;
        if !h.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(dec());
        }
        let v = u32::from_str_radix(h, 16).map_err(|_| dec())?;
        self.i += digits;
        char::from_u32(v).ok_or_else(|| dec())
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
    fn flow(&mut self, depth: usize) -> R<S::Value> {
        if depth > MAX_DEPTH {
            return Err(dec());
        }
        let seq = self.b[self.i] == b'[';
        let close = if seq { b']' } else { b'}' };
        self.i += 1;
        self.flow_ws()?;
        let mut items = Vec::new();
        let mut m = if seq { None } else { Some(self.sink.new_map()) };
        let mut done = self.eat(close);
        while !done {
            match &mut m {
                None => items.push(self.flow_node(depth)?),
                Some(m) => {
                    let key = self.flow_key()?;
                    self.flow_ws()?;
                    if self.at(self.i) != b':' || self.at(self.i + 1) != b' ' {
                        return Err(dec());
                    }
                    self.i += 1;
                    self.flow_ws()?;
                    let v = self.flow_node(depth)?;
                    if !self.sink.insert(m, key, v) {
                        return Err(dec());
                    }
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
        Ok(match m {
            None => self.sink.seq(items),
            Some(m) => self.sink.map(m),
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
    fn flow_node(&mut self, depth: usize) -> R<S::Value> {
        match self.at(self.i) {
            b'[' | b'{' => self.flow(depth + 1),
            b'\'' => {
                let s = self.single_quoted(None)?;
                Ok(self.sink.string(s))
            }
            b'"' => {
                let s = self.double_quoted(None)?;
                Ok(self.sink.string(s))
            }
            _ => {
                let (s, e) = self.flow_plain()?;
                self.resolve(&self.t[s..e])
            }
        }
    }

    /// A key inside a flow mapping (one line): a quoted or plain scalar standing for a string.
    fn flow_key(&mut self) -> R<String> {
        match self.at(self.i) {
            b'\'' => self.single_quoted(None).map(Cow::into_owned),
            b'"' => self.double_quoted(None).map(Cow::into_owned),
            b'[' | b'{' => Err(dec()),
            _ => {
                let (s, e) = self.flow_plain()?;
                let k = &self.t[s..e];
                if k == "<<" {
                    return Err(dec());
                }
                self.sink.key(k).ok_or_else(|| dec())
            }
        }
    }

    /// A plain scalar inside a flow collection, at the cursor: its range (trailing spaces
    /// dropped); the cursor moves past it. Indicators that start anything else decline.
    fn flow_plain(&mut self) -> R<(usize, usize)> {
        match self.at(self.i) {
            b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b'?' | b',' | b']' | b'}' | b'#' | b'|'
            | b'>' | b'\n' | b'\t' => return Err(dec()),
            b'-' | b':' if matches!(self.at(self.i + 1), b' ' | b'\n' | b',' | b']' | b'}') => {
                return Err(dec());
            }
            _ => {}
        }
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
        Ok((s, e))
    }
}

/// Whether a plain scalar could resolve to something other than a string (number, boolean,
/// null, infinity, timestamp…) under YAML 1.1 or 1.2 rules. Sinks may take other text as a
/// string without asking their resolver; multi-line plain scalars for which this holds
/// decline.
pub fn maybe_special(s: &str) -> bool {
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

    /// A minimal tree: strings, integers, booleans, nulls; other special text declines.
    #[derive(Debug, PartialEq)]
    enum V {
        Null,
        Bool(bool),
        Int(i64),
        Str(String),
        Seq(Vec<V>),
        Map(Vec<(String, V)>),
    }

    struct T;

    impl Sink for T {
        type Value = V;
        type Map = Vec<(String, V)>;
        const BLANKS: bool = true;
        fn null(&mut self) -> V {
            V::Null
        }
        fn string(&mut self, s: Cow<'_, str>) -> V {
            V::Str(s.into_owned())
        }
        fn plain(&mut self, s: &str) -> Option<V> {
            match s {
                "true" => Some(V::Bool(true)),
                "false" => Some(V::Bool(false)),
                "null" | "~" => Some(V::Null),
                _ if !maybe_special(s) => Some(V::Str(s.to_string())),
                _ => s.parse().ok().map(V::Int),
            }
        }
        fn key(&mut self, k: &str) -> Option<String> {
            (!maybe_special(k)).then(|| k.to_string())
        }
        fn seq(&mut self, items: Vec<V>) -> V {
            V::Seq(items)
        }
        fn new_map(&mut self) -> Self::Map {
            Vec::new()
        }
        fn insert(&mut self, m: &mut Self::Map, key: String, v: V) -> bool {
            if m.iter().any(|(k, _)| *k == key) {
                return false;
            }
            m.push((key, v));
            true
        }
        fn map(&mut self, m: Self::Map) -> V {
            V::Map(m)
        }
    }

    fn s(x: &str) -> V {
        V::Str(x.into())
    }

    fn m(entries: Vec<(&str, V)>) -> V {
        V::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    #[test]
    fn builds_the_sinks_tree_in_document_order() {
        let text = "# c\nb: 1\na:\n  - x\n  - 'y z'\n  -\n  - {k: \"v\\n\", i: [true, ~]}\nl: |\n  one\n  two\nf: >-\n  p\n  q\nblank:\n";
        let p = parse_or_decline(text, &mut T).expect("accepted");
        assert_eq!(p.documents, 1);
        assert_eq!(
            p.docs,
            vec![m(vec![
                ("b", V::Int(1)),
                (
                    "a",
                    V::Seq(vec![
                        s("x"),
                        s("y z"),
                        V::Null,
                        m(vec![
                            ("k", s("v\n")),
                            ("i", V::Seq(vec![V::Bool(true), V::Null]))
                        ]),
                    ])
                ),
                ("l", s("one\ntwo\n")),
                ("f", s("p q")),
                ("blank", V::Null),
            ])]
        );
        assert_eq!(p.blanks, vec![vec![vec!["blank".to_string()]]]);
    }

    #[test]
    fn empty_documents_are_counted_but_not_returned() {
        let p = parse("---\n---\na: b\n", &mut T).expect("accepted");
        assert_eq!((p.docs.len(), p.documents), (1, 2));
        let p = parse("a: b\n---\n", &mut T).expect("accepted");
        assert_eq!((p.docs.len(), p.documents), (1, 2));
        let p = parse("# only a comment\n", &mut T).expect("accepted");
        assert_eq!((p.docs.len(), p.documents), (0, 0));
    }

    #[test]
    fn the_sink_and_unusual_yaml_can_decline() {
        for text in [
            // The sink declines these plain scalars and keys.
            "a: 1.5\n",
            "80: x\n",
            "{1: x}\n",
            // Merge keys, anchors, tags, duplicates, tabs, directives, odd indentation.
            "<<: {a: 1}\n",
            "a: {<<: {b: 1}}\n",
            "a: &x 1\n",
            "a: !!str 1\n",
            "a: 1\na: 2\n",
            "a:\n\tb: 1\n",
            "%YAML 1.1\n---\na: 1\n",
            "a:\n  b: 1\n c: 2\n",
            "a: b\r\n",
        ] {
            assert!(parse_or_decline(text, &mut T).is_err(), "{text:?}");
        }
    }
}
