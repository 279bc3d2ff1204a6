//! Lexer and parser for Go's template language, following the grammar and the
//! error wording of Go's `text/template/parse` so that messages match.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::value::{Func, Value};

/// The text a tree was parsed from; positions in nodes are byte offsets into it.
#[derive(Debug)]
pub(crate) struct Source {
    pub name: Arc<str>,
    pub text: Arc<str>,
}

impl Source {
    pub fn line_of(&self, pos: usize) -> usize {
        let end = pos.min(self.text.len());
        1 + self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
    }

    /// Go's `ErrorContext` location: `NAME:LINE:COL`, COL being the 0-based byte
    /// offset within the line.
    pub fn location(&self, pos: usize) -> String {
        let end = pos.min(self.text.len());
        let before = &self.text.as_bytes()[..end];
        let col = match before.iter().rposition(|&b| b == b'\n') {
            Some(nl) => end - nl - 1,
            None => end,
        };
        format!("{}:{}:{}", self.name, self.line_of(pos), col)
    }
}

/// Functions the executor implements itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    And,
    Or,
    Not,
    Len,
    Index,
    Slice,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Print,
    Printf,
    Println,
    Html,
    Js,
    Urlquery,
    Call,
    Include,
    Tpl,
}

impl Builtin {
    pub fn lookup(name: &str) -> Option<Builtin> {
        Some(match name {
            "and" => Builtin::And,
            "or" => Builtin::Or,
            "not" => Builtin::Not,
            "len" => Builtin::Len,
            "index" => Builtin::Index,
            "slice" => Builtin::Slice,
            "eq" => Builtin::Eq,
            "ne" => Builtin::Ne,
            "lt" => Builtin::Lt,
            "le" => Builtin::Le,
            "gt" => Builtin::Gt,
            "ge" => Builtin::Ge,
            "print" => Builtin::Print,
            "printf" => Builtin::Printf,
            "println" => Builtin::Println,
            "html" => Builtin::Html,
            "js" => Builtin::Js,
            "urlquery" => Builtin::Urlquery,
            "call" => Builtin::Call,
            "include" => Builtin::Include,
            "tpl" => Builtin::Tpl,
            _ => return None,
        })
    }
}

#[derive(Clone)]
pub(crate) enum FuncRef {
    Builtin(Builtin),
    User(Func),
}

pub(crate) enum Node {
    /// A byte range of the template's source text (not copied out of it).
    Text(std::ops::Range<usize>),
    Action(Pipe),
    If(Box<Branch>),
    With(Box<Branch>),
    Range(Box<Branch>),
    Template {
        pos: usize,
        name: Arc<str>,
        pipe: Option<Pipe>,
    },
    Break,
    Continue,
}

pub(crate) struct Branch {
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

pub(crate) struct Pipe {
    pub pos: usize,
    pub decl: Vec<Arc<str>>,
    pub is_assign: bool,
    pub cmds: Vec<Cmd>,
}

pub(crate) struct Cmd {
    pub pos: usize,
    pub args: Vec<Arg>,
}

pub(crate) enum Arg {
    Field {
        pos: usize,
        idents: Vec<Arc<str>>,
    },
    Variable {
        pos: usize,
        name: Arc<str>,
        idents: Vec<Arc<str>>,
    },
    Chain {
        pos: usize,
        node: Box<Arg>,
        idents: Vec<Arc<str>>,
    },
    Pipe(Box<Pipe>),
    Ident {
        pos: usize,
        name: Arc<str>,
        func: FuncRef,
    },
    Dot(usize),
    Nil(usize),
    Bool(usize, bool),
    Number {
        pos: usize,
        text: Arc<str>,
        value: Value,
    },
    Str {
        pos: usize,
        quoted: Arc<str>,
        value: Arc<str>,
    },
}

impl Arg {
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Variable { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Ident { pos, .. }
            | Arg::Dot(pos)
            | Arg::Nil(pos)
            | Arg::Bool(pos, _)
            | Arg::Number { pos, .. }
            | Arg::Str { pos, .. } => *pos,
            Arg::Pipe(p) => p.pos,
        }
    }
}

// Go's Node.String() renderings, used in "executing ... at <...>".
impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field { idents, .. } => {
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Variable { name, idents, .. } => {
                f.write_str(name)?;
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Chain { node, idents, .. } => {
                if let Arg::Pipe(p) = &**node {
                    write!(f, "({p})")?;
                } else {
                    write!(f, "{node}")?;
                }
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Pipe(p) => write!(f, "{p}"),
            Arg::Ident { name, .. } => f.write_str(name),
            Arg::Dot(_) => f.write_str("."),
            Arg::Nil(_) => f.write_str("nil"),
            Arg::Bool(_, b) => write!(f, "{b}"),
            Arg::Number { text, .. } => f.write_str(text),
            Arg::Str { quoted, .. } => f.write_str(quoted),
        }
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            if let Arg::Pipe(p) = a {
                write!(f, "({p})")?;
            } else {
                write!(f, "{a}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            for (i, d) in self.decl.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                f.write_str(d)?;
            }
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- lexer

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Text,
    LeftDelim,
    RightDelim,
    Identifier,
    Field,
    Variable,
    Dot,
    Char,
    CharConstant,
    Number,
    Str,
    RawStr,
    Bool,
    Nil,
    Pipe,
    LeftParen,
    RightParen,
    Declare,
    Assign,
    If,
    Else,
    End,
    Range,
    With,
    Define,
    Template,
    Block,
    Break,
    Continue,
    /// A lexing error; the parser reports it when it reaches this token.
    Error,
    Eof,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Tok,
    pos: usize,
    end: usize,
    space_before: bool,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

struct Lexer<'a> {
    src: &'a str,
    b: &'a [u8],
    toks: Vec<Token>,
    paren_depth: usize,
}

/// A lexing failure: message and byte position.
type LexErr = (String, usize);

impl<'a> Lexer<'a> {
    fn push(&mut self, kind: Tok, pos: usize, end: usize, space_before: bool) {
        self.toks.push(Token {
            kind,
            pos,
            end,
            space_before,
        });
    }

    /// Tokens up to the first lexing error (as an `Error` token), then EOF.
    /// Like Go's concurrent lexer, a parse error before that point wins.
    fn run(mut self) -> (Vec<Token>, Option<LexErr>) {
        let r = self.run_inner();
        let n = self.b.len();
        let err = r.err();
        if let Some((_, pos)) = &err {
            self.push(Tok::Error, *pos, *pos, false);
        }
        self.push(Tok::Eof, n, n, false);
        (self.toks, err)
    }

    fn run_inner(&mut self) -> std::result::Result<(), LexErr> {
        let mut i = 0;
        let mut trim_left_of_text = false;
        let n = self.b.len();
        loop {
            let next = self.src[i..].find("{{").map(|k| k + i);
            let delim = next.unwrap_or(n);
            let mut text_start = i;
            let mut text_end = delim;
            if trim_left_of_text {
                while text_start < text_end && is_space(self.b[text_start]) {
                    text_start += 1;
                }
            }
            let left_trim = next.is_some()
                && delim + 3 < n
                && self.b[delim + 2] == b'-'
                && is_space(self.b[delim + 3]);
            if left_trim {
                while text_end > text_start && is_space(self.b[text_end - 1]) {
                    text_end -= 1;
                }
            }
            if text_end > text_start {
                self.push(Tok::Text, text_start, text_end, false);
            }
            let Some(d) = next else { break };
            let mut p = d + 2;
            if left_trim {
                p += 2;
            }
            // Comments.
            if self.src[p..].starts_with("/*") {
                let Some(close) = self.src[p + 2..].find("*/") else {
                    return Err(("unclosed comment".into(), d));
                };
                let after = p + 2 + close + 2;
                if self.src[after..].starts_with("}}") {
                    i = after + 2;
                    trim_left_of_text = false;
                } else if after + 4 <= n
                    && is_space(self.b[after])
                    && self.b[after + 1] == b'-'
                    && self.src[after + 2..].starts_with("}}")
                {
                    i = after + 4;
                    trim_left_of_text = true;
                } else {
                    return Err(("comment ends before closing delimiter".into(), d));
                }
                continue;
            }
            self.push(Tok::LeftDelim, d, p, false);
            let (end, trim) = self.inside_action(p)?;
            i = end;
            trim_left_of_text = trim;
        }
        Ok(())
    }

    /// Lexes one action from `p`; returns the offset after `}}` and whether it
    /// ended with a trim marker.
    fn inside_action(&mut self, mut p: usize) -> std::result::Result<(usize, bool), LexErr> {
        let n = self.b.len();
        let mut space = false;
        self.paren_depth = 0;
        loop {
            if p + 3 <= n
                && is_space(self.b[p])
                && self.b[p + 1] == b'-'
                && self.src[p + 2..].starts_with("}}")
            {
                if self.paren_depth > 0 {
                    return Err(("unclosed left paren".into(), p));
                }
                self.push(Tok::RightDelim, p, p + 4, true);
                return Ok((p + 4, true));
            }
            if self.src[p..].starts_with("}}") {
                if self.paren_depth > 0 {
                    return Err(("unclosed left paren".into(), p));
                }
                self.push(Tok::RightDelim, p, p + 2, space);
                return Ok((p + 2, false));
            }
            if p >= n {
                return Err(("unclosed action".into(), p));
            }
            let c = self.src[p..].chars().next().unwrap_or('\0');
            let start = p;
            match c {
                ' ' | '\t' | '\r' | '\n' => {
                    space = true;
                    p += 1;
                    continue;
                }
                '=' => {
                    self.push(Tok::Assign, p, p + 1, space);
                    p += 1;
                }
                ':' => {
                    if self.b.get(p + 1) != Some(&b'=') {
                        return Err(("expected :=".into(), p));
                    }
                    self.push(Tok::Declare, p, p + 2, space);
                    p += 2;
                }
                '|' => {
                    self.push(Tok::Pipe, p, p + 1, space);
                    p += 1;
                }
                '"' => {
                    p += 1;
                    loop {
                        match self.b.get(p) {
                            None | Some(b'\n') => {
                                return Err(("unterminated quoted string".into(), start));
                            }
                            Some(b'\\') => p += 2,
                            Some(b'"') => {
                                p += 1;
                                break;
                            }
                            _ => p += 1,
                        }
                    }
                    self.push(Tok::Str, start, p, space);
                }
                '`' => {
                    let Some(close) = self.src[p + 1..].find('`') else {
                        return Err(("unterminated raw quoted string".into(), start));
                    };
                    p = p + 1 + close + 1;
                    self.push(Tok::RawStr, start, p, space);
                }
                '\'' => {
                    p += 1;
                    loop {
                        match self.b.get(p) {
                            None | Some(b'\n') => {
                                return Err(("unterminated character constant".into(), start));
                            }
                            Some(b'\\') => p += 2,
                            Some(b'\'') => {
                                p += 1;
                                break;
                            }
                            _ => p += 1,
                        }
                    }
                    self.push(Tok::CharConstant, start, p, space);
                }
                '$' => {
                    p += 1;
                    p = self.scan_alnum(p);
                    self.check_terminator(p)?;
                    self.push(Tok::Variable, start, p, space);
                }
                '.' if !self.b.get(p + 1).is_some_and(|b| b.is_ascii_digit()) => {
                    p += 1;
                    let e = self.scan_alnum(p);
                    if e == p {
                        self.push(Tok::Dot, start, p, space);
                    } else {
                        self.check_terminator(e)?;
                        self.push(Tok::Field, start, e, space);
                        p = e;
                    }
                }
                '.' | '+' | '-' | '0'..='9' => {
                    p = self.scan_number(p)?;
                    self.push(Tok::Number, start, p, space);
                }
                '(' => {
                    self.paren_depth += 1;
                    self.push(Tok::LeftParen, p, p + 1, space);
                    p += 1;
                }
                ')' => {
                    if self.paren_depth == 0 {
                        return Err(("unexpected right paren".into(), p));
                    }
                    self.paren_depth -= 1;
                    self.push(Tok::RightParen, p, p + 1, space);
                    p += 1;
                }
                c if is_alnum(c) => {
                    p = self.scan_alnum(p);
                    self.check_terminator(p)?;
                    let kind = match &self.src[start..p] {
                        "true" | "false" => Tok::Bool,
                        "nil" => Tok::Nil,
                        "if" => Tok::If,
                        "else" => Tok::Else,
                        "end" => Tok::End,
                        "range" => Tok::Range,
                        "with" => Tok::With,
                        "define" => Tok::Define,
                        "template" => Tok::Template,
                        "block" => Tok::Block,
                        "break" => Tok::Break,
                        "continue" => Tok::Continue,
                        _ => Tok::Identifier,
                    };
                    self.push(kind, start, p, space);
                }
                c if c.is_ascii() && !c.is_ascii_control() => {
                    self.push(Tok::Char, p, p + 1, space);
                    p += 1;
                }
                c => {
                    return Err((
                        format!("unrecognized character in action: {}", go_rune_u(c)),
                        p,
                    ));
                }
            }
            space = false;
        }
    }

    fn scan_alnum(&self, mut p: usize) -> usize {
        // ASCII by bytes; the first other byte falls back to decoding chars.
        while p < self.b.len() && (self.b[p].is_ascii_alphanumeric() || self.b[p] == b'_') {
            p += 1;
        }
        if p >= self.b.len() || self.b[p].is_ascii() {
            return p;
        }
        while let Some(c) = self.src[p..].chars().next() {
            if !is_alnum(c) {
                break;
            }
            p += c.len_utf8();
        }
        p
    }

    fn check_terminator(&self, p: usize) -> std::result::Result<(), LexErr> {
        let Some(c) = self.src[p..].chars().next() else {
            return Ok(());
        };
        if matches!(
            c,
            ' ' | '\t' | '\r' | '\n' | '.' | ',' | '|' | ':' | ')' | '('
        ) || self.src[p..].starts_with("}}")
        {
            return Ok(());
        }
        Err((format!("bad character {}", go_rune_u(c)), p))
    }

    /// Go's `scanNumber`: sign, base prefix, digits, fraction, exponent,
    /// imaginary suffix; an alphanumeric right after is a syntax error.
    fn scan_number(&self, mut p: usize) -> std::result::Result<usize, LexErr> {
        let start = p;
        let b = self.b;
        let accept = |p: &mut usize, set: &[u8]| -> bool {
            if *p < b.len() && set.contains(&b[*p]) {
                *p += 1;
                true
            } else {
                false
            }
        };
        let accept_run = |p: &mut usize, set: &[u8]| {
            while *p < b.len() && set.contains(&b[*p]) {
                *p += 1;
            }
        };
        accept(&mut p, b"+-");
        let mut digits: &[u8] = b"0123456789_";
        if accept(&mut p, b"0") {
            if accept(&mut p, b"xX") {
                digits = b"0123456789abcdefABCDEF_";
            } else if accept(&mut p, b"oO") {
                digits = b"01234567_";
            } else if accept(&mut p, b"bB") {
                digits = b"01_";
            }
        }
        accept_run(&mut p, digits);
        if accept(&mut p, b".") {
            accept_run(&mut p, digits);
        }
        if digits.len() == 11 && accept(&mut p, b"eE") {
            accept(&mut p, b"+-");
            accept_run(&mut p, b"0123456789_");
        }
        if digits.len() == 23 && accept(&mut p, b"pP") {
            accept(&mut p, b"+-");
            accept_run(&mut p, b"0123456789_");
        }
        accept(&mut p, b"i");
        if let Some(c) = self.src[p..].chars().next()
            && is_alnum(c)
        {
            let e = p + c.len_utf8();
            return Err((
                format!("bad number syntax: {:?}", &self.src[start..e]),
                start,
            ));
        }
        Ok(p)
    }
}

fn go_rune_u(c: char) -> String {
    format!("U+{:04X} '{}'", c as u32, c)
}

// ---------------------------------------------------------------- parser

/// Go's `maxStackDepth` for nested parenthesised pipelines.
const MAX_PAREN_DEPTH: usize = 10_000;
/// Stack the parser may use on the caller's thread (half a default Rust thread).
const PARSE_STACK_BUDGET: usize = 1 << 20;

pub(crate) struct Parsed {
    pub root: Vec<Node>,
    pub defines: Vec<(String, Vec<Node>)>,
}

/// Looks up a function name at parse time, as Go checks functions while parsing.
pub(crate) trait FuncLookup {
    fn lookup_func(&self, name: &str) -> Option<FuncRef>;
}

struct Parser<'a> {
    lex_err: Option<String>,
    /// Address of a local in `parse`, to bound the parser's recursion.
    stack_base: usize,
    /// Nesting of parenthesised pipelines (Go's `stackDepth`).
    paren_depth: usize,
    src: &'a str,
    name: &'a str,
    toks: Vec<Token>,
    i: usize,
    vars: Vec<&'a str>,
    /// One shared `Arc<str>` per distinct name in this text (fewer allocations).
    names: crate::value::FastMap<&'a str, Arc<str>>,
    range_depth: usize,
    funcs: &'a dyn FuncLookup,
    defines: Vec<(String, Vec<Node>)>,
}

pub(crate) fn parse(name: &str, src: &str, funcs: &dyn FuncLookup) -> Result<Parsed> {
    let lexer = Lexer {
        src,
        b: src.as_bytes(),
        toks: Vec::new(),
        paren_depth: 0,
    };
    let (toks, lex_err) = lexer.run();
    let marker = 0u8;
    let mut p = Parser {
        lex_err: lex_err.map(|(m, _)| m),
        stack_base: std::ptr::addr_of!(marker) as usize,
        paren_depth: 0,
        src,
        name,
        toks,
        i: 0,
        vars: vec!["$"],
        names: crate::value::FastMap::with_capacity_and_hasher(64, Default::default()),
        range_depth: 0,
        funcs,
        defines: Vec::new(),
    };
    let root = p.parse_top()?;
    Ok(Parsed {
        root,
        defines: p.defines,
    })
}

type PResult<T> = Result<T>;

impl<'a> Parser<'a> {
    fn peek(&self) -> Token {
        self.toks[self.i.min(self.toks.len() - 1)]
    }
    fn peek_at(&self, k: usize) -> Token {
        self.toks[(self.i + k).min(self.toks.len() - 1)]
    }
    fn next(&mut self) -> Token {
        let t = self.peek();
        if self.i < self.toks.len() {
            self.i += 1;
        }
        t
    }
    fn text(&self, t: Token) -> &'a str {
        &self.src[t.pos..t.end]
    }
    fn intern(&mut self, s: &'a str) -> Arc<str> {
        self.names.entry(s).or_insert_with(|| Arc::from(s)).clone()
    }

    fn err<T>(&self, msg: impl Into<String>) -> PResult<T> {
        let t = self.toks[self.i.saturating_sub(1).min(self.toks.len() - 1)];
        self.err_at(t.pos, msg)
    }
    fn err_at<T>(&self, pos: usize, msg: impl Into<String>) -> PResult<T> {
        let line = 1 + self.src.as_bytes()[..pos.min(self.src.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        Err(Error::Parse {
            name: self.name.to_string(),
            line,
            msg: msg.into(),
        })
    }

    fn describe(&self, t: Token) -> String {
        match t.kind {
            Tok::Eof => "EOF".into(),
            Tok::RightDelim | Tok::LeftDelim => format!("{:?}", self.text(t).trim()),
            Tok::Char => format!("{:?}", self.text(t)),
            Tok::If
            | Tok::Else
            | Tok::End
            | Tok::Range
            | Tok::With
            | Tok::Define
            | Tok::Template
            | Tok::Block
            | Tok::Break
            | Tok::Continue
            | Tok::Nil => format!("<{}>", self.text(t)),
            _ => {
                let s = self.text(t);
                if s.len() > 10 {
                    format!("{:?}", format!("{:.10}...", s))
                } else {
                    format!("{s:?}")
                }
            }
        }
    }

    fn unexpected<T>(&self, t: Token, context: &str) -> PResult<T> {
        if t.kind == Tok::Error {
            let msg = self.lex_err.clone().unwrap_or_default();
            return self.err_at(t.pos, msg);
        }
        if t.kind == Tok::Eof {
            return self.err_at(t.pos, format!("unexpected EOF in {context}"));
        }
        self.err_at(
            t.pos,
            format!("unexpected {} in {context}", self.describe(t)),
        )
    }

    fn parse_top(&mut self) -> PResult<Vec<Node>> {
        let mut root = Vec::new();
        while self.peek().kind != Tok::Eof {
            if self.peek().kind == Tok::LeftDelim && self.peek_at(1).kind == Tok::Define {
                self.i += 2;
                self.parse_definition()?;
                continue;
            }
            match self.text_or_action()? {
                Item::Node(n) => root.push(n),
                Item::End(pos) => return self.err_at(pos, "unexpected {{end}}"),
                Item::Else(pos, _) => return self.err_at(pos, "unexpected {{else}}"),
            }
        }
        Ok(root)
    }

    fn parse_definition(&mut self) -> PResult<()> {
        let context = "define clause";
        let t = self.next();
        let name = match t.kind {
            Tok::Str | Tok::RawStr => self.unquote(t)?,
            _ => return self.unexpected(t, context),
        };
        let t = self.next();
        if t.kind != Tok::RightDelim {
            return self.unexpected(t, context);
        }
        let saved = std::mem::replace(&mut self.vars, vec!["$"]);
        let (list, end) = self.item_list()?;
        self.vars = saved;
        match end {
            Item::End(_) => {}
            Item::Else(pos, _) => return self.err_at(pos, "unexpected {{else}} in define clause"),
            Item::Node(_) => return self.err("unexpected node in define clause"),
        }
        self.add_define(name.to_string(), list)
    }

    /// Go's `Tree.add`: within one parse a template may be defined once
    /// (an empty definition never conflicts).
    fn add_define(&mut self, name: String, list: Vec<Node>) -> PResult<()> {
        if let Some(i) = self.defines.iter().position(|(n, _)| *n == name) {
            if !is_empty_list(&list, self.src) {
                if !is_empty_list(&self.defines[i].1, self.src) {
                    return self.err(format!(
                        "template: multiple definition of template {name:?}"
                    ));
                }
                self.defines[i].1 = list;
            }
            return Ok(());
        }
        self.defines.push((name, list));
        Ok(())
    }

    fn item_list(&mut self) -> PResult<(Vec<Node>, Item)> {
        let mut list = Vec::new();
        while self.peek().kind != Tok::Eof {
            match self.text_or_action()? {
                Item::Node(n) => list.push(n),
                other => return Ok((list, other)),
            }
        }
        self.err_at(self.peek().pos, "unexpected EOF")
    }

    fn text_or_action(&mut self) -> PResult<Item> {
        let t = self.next();
        match t.kind {
            Tok::Text => Ok(Item::Node(Node::Text(t.pos..t.end))),
            Tok::LeftDelim => self.action(),
            _ => self.unexpected(t, "input"),
        }
    }

    fn expect_right(&mut self, context: &str) -> PResult<()> {
        let t = self.next();
        if t.kind != Tok::RightDelim {
            return self.unexpected(t, context);
        }
        Ok(())
    }

    fn action(&mut self) -> PResult<Item> {
        let t = self.peek();
        match t.kind {
            Tok::Block => {
                self.next();
                self.block_control().map(Item::Node)
            }
            Tok::Break | Tok::Continue => {
                self.next();
                let word = if t.kind == Tok::Break {
                    "break"
                } else {
                    "continue"
                };
                let nt = self.next();
                if nt.kind != Tok::RightDelim {
                    return self.unexpected(nt, &format!("{{{{{word}}}}}"));
                }
                if self.range_depth == 0 {
                    return self.err_at(t.pos, format!("{{{{{word}}}}} outside {{{{range}}}}"));
                }
                Ok(Item::Node(if t.kind == Tok::Break {
                    Node::Break
                } else {
                    Node::Continue
                }))
            }
            Tok::Else => {
                self.next();
                let p = self.peek();
                if p.kind == Tok::If || p.kind == Tok::With {
                    return Ok(Item::Else(p.pos, true));
                }
                self.expect_right("else")?;
                Ok(Item::Else(t.pos, false))
            }
            Tok::End => {
                self.next();
                self.expect_right("end")?;
                Ok(Item::End(t.pos))
            }
            Tok::If => {
                self.next();
                self.control("if")
                    .map(|b| Item::Node(Node::If(Box::new(b))))
            }
            Tok::Range => {
                self.next();
                self.control("range")
                    .map(|b| Item::Node(Node::Range(Box::new(b))))
            }
            Tok::With => {
                self.next();
                self.control("with")
                    .map(|b| Item::Node(Node::With(Box::new(b))))
            }
            Tok::Template => {
                self.next();
                self.template_control()
            }
            _ => {
                let pipe = self.pipeline("command", Tok::RightDelim)?;
                Ok(Item::Node(Node::Action(pipe)))
            }
        }
    }

    /// Whether the parser's recursion used up its stack budget; Go's
    /// goroutine stacks grow, ours do not, so absurd nesting is an error.
    fn stack_exhausted(&self) -> bool {
        let marker = 0u8;
        let here = std::ptr::addr_of!(marker) as usize;
        self.stack_base.abs_diff(here) > PARSE_STACK_BUDGET
    }

    fn control(&mut self, context: &str) -> PResult<Branch> {
        if self.stack_exhausted() {
            return self.err("max expression depth exceeded");
        }
        let mark = self.vars.len();
        let pipe = self.pipeline(context, Tok::RightDelim)?;
        if pipe.cmds.is_empty() {
            return self.err(format!("missing value for {context}"));
        }
        if context == "range" {
            self.range_depth += 1;
        }
        let (list, next) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        let else_list = match next {
            Item::End(_) => None,
            Item::Else(_, chained) => {
                if chained && context == "if" && self.peek().kind == Tok::If {
                    self.next();
                    let b = self.control("if")?;
                    Some(vec![Node::If(Box::new(b))])
                } else if chained && context == "with" && self.peek().kind == Tok::With {
                    self.next();
                    let b = self.control("with")?;
                    Some(vec![Node::With(Box::new(b))])
                } else {
                    if chained {
                        // `{{else if}}` where it is not allowed: Go reports the
                        // keyword as unexpected input.
                        let t = self.next();
                        return self.unexpected(t, "input");
                    }
                    let (l, n) = self.item_list()?;
                    match n {
                        Item::End(_) => Some(l),
                        Item::Else(pos, _) => {
                            return self.err_at(pos, "expected end; found {{else}}");
                        }
                        Item::Node(_) => return self.err("expected end"),
                    }
                }
            }
            Item::Node(_) => return self.err("expected end"),
        };
        self.vars.truncate(mark);
        Ok(Branch {
            pipe,
            list,
            else_list,
        })
    }

    fn template_name(&mut self, context: &str) -> PResult<Arc<str>> {
        let t = self.next();
        match t.kind {
            Tok::Str | Tok::RawStr => self.unquote(t),
            _ => self.unexpected(t, context),
        }
    }

    fn template_control(&mut self) -> PResult<Item> {
        let context = "template clause";
        let start = self.peek().pos;
        let name = self.template_name(context)?;
        let pipe = if self.peek().kind != Tok::RightDelim {
            Some(self.pipeline(context, Tok::RightDelim)?)
        } else {
            self.next();
            None
        };
        Ok(Item::Node(Node::Template {
            pos: start,
            name,
            pipe,
        }))
    }

    fn block_control(&mut self) -> PResult<Node> {
        let context = "block clause";
        let start = self.peek().pos;
        let name = self.template_name(context)?;
        let pipe = self.pipeline(context, Tok::RightDelim)?;
        let saved = std::mem::replace(&mut self.vars, vec!["$"]);
        let saved_depth = std::mem::replace(&mut self.range_depth, 0);
        let (list, end) = self.item_list()?;
        self.vars = saved;
        self.range_depth = saved_depth;
        if !matches!(end, Item::End(_)) {
            return self.err("unexpected {{else}} in block clause");
        }
        self.add_define(name.to_string(), list)?;
        Ok(Node::Template {
            pos: start,
            name,
            pipe: Some(pipe),
        })
    }

    fn pipeline(&mut self, context: &str, end: Tok) -> PResult<Pipe> {
        let pos = self.peek().pos;
        let mut pipe = Pipe {
            pos,
            decl: Vec::new(),
            is_assign: false,
            cmds: Vec::new(),
        };
        // Declarations.
        loop {
            let v = self.peek();
            if v.kind != Tok::Variable {
                break;
            }
            let nt = self.peek_at(1);
            match nt.kind {
                Tok::Assign | Tok::Declare => {
                    self.i += 2;
                    pipe.is_assign = nt.kind == Tok::Assign;
                    let name = self.text(v);
                    pipe.decl.push(self.intern(name));
                    self.vars.push(name);
                    break;
                }
                Tok::Char if self.text(nt) == "," => {
                    self.i += 2;
                    let name = self.text(v);
                    pipe.decl.push(self.intern(name));
                    self.vars.push(name);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek().kind {
                            Tok::Variable | Tok::RightDelim | Tok::RightParen => continue,
                            _ => return self.err("range can only initialize variables"),
                        }
                    }
                    return self.err(format!("too many declarations in {context}"));
                }
                _ => break,
            }
        }
        loop {
            let t = self.peek();
            if t.kind == end {
                self.next();
                self.check_pipeline(&pipe, context)?;
                return Ok(pipe);
            }
            match t.kind {
                Tok::Bool
                | Tok::CharConstant
                | Tok::Dot
                | Tok::Field
                | Tok::Identifier
                | Tok::Number
                | Tok::Nil
                | Tok::RawStr
                | Tok::Str
                | Tok::Variable
                | Tok::LeftParen => {
                    let c = self.command()?;
                    pipe.cmds.push(c);
                }
                _ => {
                    self.next();
                    return self.unexpected(t, context);
                }
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return self.err(format!("missing value for {context}"));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if let Some(
                Arg::Bool(..) | Arg::Dot(_) | Arg::Nil(_) | Arg::Number { .. } | Arg::Str { .. },
            ) = c.args.first()
            {
                return self.err(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                ));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> PResult<Cmd> {
        let pos = self.peek().pos;
        let mut args = Vec::new();
        loop {
            let op = self.operand()?;
            let t = self.peek();
            let had = op.is_some();
            if let Some(op) = op {
                args.push(op);
            }
            match t.kind {
                Tok::RightDelim | Tok::RightParen => break,
                Tok::Pipe => {
                    self.next();
                    break;
                }
                _ if had && t.space_before => continue,
                _ => {
                    self.next();
                    return self.unexpected(t, "operand");
                }
            }
        }
        if args.is_empty() {
            return self.err("empty command");
        }
        Ok(Cmd { pos, args })
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        let p = self.peek();
        if p.kind == Tok::Field && !p.space_before {
            let chain_pos = p.pos;
            let mut idents = Vec::new();
            while self.peek().kind == Tok::Field && !self.peek().space_before {
                let t = self.next();
                idents.push(self.intern(&self.text(t)[1..]));
            }
            return Ok(Some(match node {
                Arg::Field {
                    idents: mut first, ..
                } => {
                    first.extend(idents);
                    Arg::Field {
                        pos: chain_pos,
                        idents: first,
                    }
                }
                Arg::Variable {
                    name,
                    idents: mut first,
                    ..
                } => {
                    first.extend(idents);
                    Arg::Variable {
                        pos: chain_pos,
                        name,
                        idents: first,
                    }
                }
                Arg::Bool(..)
                | Arg::Str { .. }
                | Arg::Number { .. }
                | Arg::Nil(_)
                | Arg::Dot(_) => {
                    return self.err(format!("unexpected . after term {:?}", node.to_string()));
                }
                other => Arg::Chain {
                    pos: chain_pos,
                    node: Box::new(other),
                    idents,
                },
            }));
        }
        Ok(Some(node))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let t = self.peek();
        let text = self.text(t);
        let arg = match t.kind {
            Tok::Identifier => {
                let Some(func) = self.funcs.lookup_func(text) else {
                    self.next();
                    return self.err(format!("function {text:?} not defined"));
                };
                Arg::Ident {
                    pos: t.pos,
                    name: self.intern(text),
                    func,
                }
            }
            Tok::Dot => Arg::Dot(t.pos),
            Tok::Nil => Arg::Nil(t.pos),
            Tok::Variable => {
                if !self.vars.contains(&text) {
                    self.next();
                    return self.err(format!("undefined variable {text:?}"));
                }
                Arg::Variable {
                    pos: t.pos,
                    name: self.intern(text),
                    idents: Vec::new(),
                }
            }
            Tok::Field => Arg::Field {
                pos: t.pos,
                idents: vec![self.intern(&text[1..])],
            },
            Tok::Bool => Arg::Bool(t.pos, text == "true"),
            Tok::Number | Tok::CharConstant => {
                self.next();
                let value = self.number(t)?;
                return Ok(Some(Arg::Number {
                    pos: t.pos,
                    text: Arc::from(text),
                    value,
                }));
            }
            Tok::LeftParen => {
                self.next();
                if self.paren_depth >= MAX_PAREN_DEPTH || self.stack_exhausted() {
                    return self.err_at(t.pos, "max expression depth exceeded");
                }
                self.paren_depth += 1;
                let p = self.pipeline("parenthesized pipeline", Tok::RightParen);
                self.paren_depth -= 1;
                return Ok(Some(Arg::Pipe(Box::new(p?))));
            }
            Tok::Str | Tok::RawStr => {
                self.next();
                let value = self.unquote(t)?;
                return Ok(Some(Arg::Str {
                    pos: t.pos,
                    quoted: Arc::from(text),
                    value,
                }));
            }
            _ => return Ok(None),
        };
        self.next();
        Ok(Some(arg))
    }

    fn number(&self, t: Token) -> PResult<Value> {
        let text = self.text(t);
        if t.kind == Tok::CharConstant {
            let inner = &text[1..text.len() - 1];
            let s = unquote_go(inner, '\'').map_err(|_| ()).ok();
            let mut chars = s.as_deref().unwrap_or("").chars();
            return match (chars.next(), chars.next()) {
                (Some(c), None) => Ok(Value::int(c as i64)),
                _ => self.err_at(t.pos, format!("malformed character constant: {text}")),
            };
        }
        let digits = text.trim_start_matches(['+', '-']);
        if digits.len() > 1
            && digits.starts_with('0')
            && digits.bytes().all(|b| b.is_ascii_digit())
            && digits.bytes().any(|b| b == b'8' || b == b'9')
        {
            // Go's parser reports a malformed octal literal this way.
            return self.err_at(t.pos, format!("integer overflow: {text:?}"));
        }
        let Some(v) = parse_number(text) else {
            return self.err_at(t.pos, format!("illegal number syntax: {text:?}"));
        };
        if overflows_int(text, &v) {
            // Go keeps an unsigned integer beyond int64 (for uint/float
            // contexts); a sign or more than 64 bits is a parse error.
            let clean: String = text.chars().filter(|&c| c != '_').collect();
            let unsigned = !clean.starts_with(['+', '-'])
                && parse_uint_body(&clean.to_ascii_lowercase()).is_some();
            if !unsigned {
                return self.err_at(t.pos, format!("integer overflow: {text:?}"));
            }
        }
        Ok(v)
    }

    fn unquote(&self, t: Token) -> PResult<Arc<str>> {
        let text = self.text(t);
        if t.kind == Tok::RawStr {
            let inner = &text[1..text.len() - 1];
            return Ok(Arc::from(inner.replace('\r', "").as_str()));
        }
        match unquote_go(&text[1..text.len() - 1], '"') {
            Ok(s) => Ok(Arc::from(s.as_str())),
            Err(()) => self.err_at(t.pos, "invalid syntax"),
        }
    }
}

fn is_empty_list(list: &[Node], src: &str) -> bool {
    list.iter()
        .all(|n| matches!(n, Node::Text(t) if src[t.clone()].trim().is_empty()))
}

enum Item {
    Node(Node),
    End(usize),
    /// `{{else}}`; the flag tells whether an `if`/`with` keyword follows.
    Else(usize, bool),
}

/// An unsigned integer literal without its sign (lowercase, no `_`), with
/// Go's base prefixes; `None` when it is no integer or exceeds `u64`.
fn parse_uint_body(lower: &str) -> Option<u64> {
    if let Some(h) = lower.strip_prefix("0x") {
        if h.contains('p') || h.contains('.') {
            None
        } else {
            u64::from_str_radix(h, 16).ok()
        }
    } else if let Some(o) = lower.strip_prefix("0o") {
        u64::from_str_radix(o, 8).ok()
    } else if let Some(b) = lower.strip_prefix("0b") {
        u64::from_str_radix(b, 2).ok()
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|b| b.is_ascii_digit())
    {
        u64::from_str_radix(&lower[1..], 8).ok()
    } else if lower.bytes().all(|b| b.is_ascii_digit()) && !lower.is_empty() {
        lower.parse::<u64>().ok()
    } else {
        None
    }
}

/// Whether a literal is written as an integer (Go's `idealConstant` reads
/// only `.eEpP` outside hex integers as float syntax).
fn integer_syntax(text: &str) -> bool {
    let body = text.trim_start_matches(['+', '-']);
    let hex_int = body.len() > 2
        && (body.starts_with("0x") || body.starts_with("0X"))
        && !body.contains(['p', 'P']);
    hex_int || !body.contains(['.', 'e', 'E', 'p', 'P'])
}

/// An integer literal only `uint64` holds (above `i64::MAX`): parsed as the
/// float Go also keeps for it, but Go fails with `X overflows int` wherever
/// the executor uses it untyped.
pub(crate) fn overflows_int(text: &str, value: &Value) -> bool {
    matches!(value, Value::Float(_)) && integer_syntax(text)
}

/// Go's number literal rules as the template parser applies them: integers
/// (with 0x/0o/0b prefixes, underscores) become `int`, anything with a `.`,
/// exponent, becomes float64.
pub(crate) fn parse_number(text: &str) -> Option<Value> {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let (neg, body) = match clean.as_bytes().first() {
        Some(b'-') => (true, &clean[1..]),
        Some(b'+') => (false, &clean[1..]),
        _ => (false, &clean[..]),
    };
    let lower = body.to_ascii_lowercase();
    if let Some(u) = parse_uint_body(&lower) {
        let i = if neg {
            if u > i64::MAX as u64 + 1 {
                return Some(Value::Float(-(u as f64)));
            }
            (u as i128).checked_neg().map(|x| x as i64)?
        } else if u > i64::MAX as u64 {
            return Some(Value::Float(u as f64));
        } else {
            u as i64
        };
        return Some(Value::int(i));
    }
    if lower.starts_with("0x") {
        return None;
    }
    if !lower
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-'))
    {
        return None;
    }
    let f: f64 = lower.parse().ok()?;
    Some(Value::Float(if neg { -f } else { f }))
}

/// Go's `strconv.Unquote` body decoding for `"..."` and `'...'`.
pub(crate) fn unquote_go(s: &str, quote: char) -> std::result::Result<String, ()> {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == quote {
            return Err(());
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = it.next().ok_or(())?;
        match e {
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            '\'' if quote == '\'' => out.push('\''),
            '"' if quote == '"' => out.push('"'),
            'x' | 'u' | 'U' => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let mut v = 0u32;
                for _ in 0..n {
                    let d = it.next().and_then(|c| c.to_digit(16)).ok_or(())?;
                    v = v * 16 + d;
                }
                if e == 'x' {
                    // A byte; Go strings can hold invalid UTF-8, we keep it as a char.
                    out.push(char::from_u32(v).ok_or(())?);
                } else {
                    out.push(char::from_u32(v).ok_or(())?);
                }
            }
            '0'..='7' => {
                let mut v = e.to_digit(8).ok_or(())?;
                for _ in 0..2 {
                    let d = it.next().and_then(|c| c.to_digit(8)).ok_or(())?;
                    v = v * 8 + d;
                }
                if v > 255 {
                    return Err(());
                }
                out.push(char::from_u32(v).ok_or(())?);
            }
            _ => return Err(()),
        }
    }
    Ok(out)
}
