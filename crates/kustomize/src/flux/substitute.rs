//! Post-build variable substitution (`spec.postBuild`), as kustomize-controller does it with
//! `fluxcd/pkg/kustomize` and its envsubst fork (`fluxcd/pkg/envsubst`, from drone/envsubst).
//!
//! The rules, per object, after the build:
//!
//! * An object labelled **or** annotated `kustomize.toolkit.fluxcd.io/substitute: disabled` is
//!   left untouched.
//! * Nothing happens when there are no variables (Flux's `len(vars) > 0`), unless
//!   [`SubstituteOptions::always`] is set (Flux's `substituteStrategy`/"always" option). So in
//!   that case even strict mode does not complain about undefined variables.
//! * Every variable name must match `^[_[:alpha:]][_[:alpha:][:digit:]]*$`, else the whole
//!   substitution fails (`'x-y' var name is invalid, must match '…'`).
//! * Newlines are removed from variable values (Flux does it when loading them).
//! * The object is rendered as YAML text, substituted as a whole, and the text re-parsed, so
//!   a substituted value takes the type its text has: `replicas: ${n}` with `n=3` becomes the
//!   integer 3.
//! * Only the braces form is a variable: `${var}`. A plain `$var` is left as it is (the way to
//!   keep shell variables in embedded scripts), and `$$` is an escape for one `$`, so
//!   `$${var}` gives the literal `${var}`.
//! * Operators inside braces (bash-like, as envsubst implements them):
//!   `${var:=d}`, `${var:-d}`, `${var=d}`, `${var:?d}`, `${var:+d}` all mean "`d` when the value
//!   is empty or unset" (the default may itself hold `${…}`); `${#var}` is the length in bytes;
//!   `${var^}`, `${var^^}`, `${var,}`, `${var,,}` change case; `${var:pos}` and
//!   `${var:pos:len}` take a substring; `${var#p}`, `${var##p}`, `${var%p}`, `${var%%p}` trim a
//!   glob prefix/suffix; `${var/a/b}`, `${var//a/b}`, `${var/#a/b}`, `${var/%a/b}` replace.
//!   `${var-d}`, `${var?}` and `${var+d}` (no colon) are syntax errors, as in envsubst.
//! * Strict mode: a variable that is not defined, referenced without one of the default
//!   operators, is an error: `variable not set (strict mode): "x"`. Without strict mode it is
//!   the empty string.
//!
//! * Typing follows Flux exactly: Flux renders the built object with kustomize's `AsYAML`
//!   (JSON → go-yaml v2, so the source's quoting is gone: a value written `"${port}"` is a
//!   plain `${port}` by then), substitutes the text and re-reads it with go-yaml v2 (YAML 1.1).
//!   We render with [`crate::emit`] (the same bytes) and re-read with YAML 1.1 booleans, so
//!   `port: "${port}"` with `port=8080` becomes the integer 8080 and `${flag}` with `yes` the
//!   boolean true, as in Flux (fluxcd/flux2#4154; Flux documents wrapping such values in
//!   quote variables when a string is needed).

use crate::error::{Error, Result};
use crate::loader;
use crate::value::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Label or annotation that turns substitution off for one object.
pub const SUBSTITUTE_KEY: &str = "kustomize.toolkit.fluxcd.io/substitute";
/// The value of [`SUBSTITUTE_KEY`] that turns substitution off.
pub const DISABLED: &str = "disabled";
/// Flux's validation regular expression for variable names.
pub const VAR_NAME_REGEX: &str = "^[_[:alpha:]][_[:alpha:][:digit:]]*$";

/// How to substitute.
#[derive(Debug, Clone, Copy, Default)]
pub struct SubstituteOptions {
    /// Undefined variables without a default are errors.
    pub strict: bool,
    /// Substitute even when there are no variables (so `$$` escapes are processed, defaults
    /// applied and, in strict mode, undefined variables reported).
    pub always: bool,
}

/// Substitute `vars` into one built object (see the module documentation for the rules).
pub fn substitute(obj: &Value, vars: &BTreeMap<String, String>, strict: bool) -> Result<Value> {
    substitute_with(
        obj,
        vars,
        SubstituteOptions {
            strict,
            always: false,
        },
    )
}

/// [`substitute`] with all options.
pub fn substitute_with(
    obj: &Value,
    vars: &BTreeMap<String, String>,
    opts: SubstituteOptions,
) -> Result<Value> {
    if is_disabled(obj) || (vars.is_empty() && !opts.always) {
        return Ok(obj.clone());
    }
    let text = crate::emit::to_string(obj);
    let out = substitute_text(&text, vars, opts.strict)
        .map_err(|e| Error::Transform(format!("{}: {e}", describe(obj))))?;
    let docs = loader::parse_docs_with(Path::new(&describe(obj)), &out, loader::yaml11_options())?;
    let mut docs = docs.into_iter().filter(|d| !matches!(d, Value::Null));
    match (docs.next(), docs.next()) {
        (Some(v), None) => Ok(v),
        _ => Err(Error::Transform(format!(
            "{}: variable substitution did not give exactly one object",
            describe(obj)
        ))),
    }
}

/// Whether the object opts out with [`SUBSTITUTE_KEY`]`: disabled` as label or annotation.
pub fn is_disabled(obj: &Value) -> bool {
    ["labels", "annotations"]
        .iter()
        .any(|f| obj.str_at(&["metadata", f, SUBSTITUTE_KEY]) == Some(DISABLED))
}

/// Substitute variables in a text (Flux's `varSubstitution` without the YAML round trip):
/// validates variable names, strips newlines from values, then evaluates envsubst syntax.
/// Errors are plain messages (`variable substitution failed: …`).
pub fn substitute_text(
    text: &str,
    vars: &BTreeMap<String, String>,
    strict: bool,
) -> Result<String, String> {
    for name in vars.keys() {
        if !valid_var_name(name) {
            return Err(format!(
                "'{name}' var name is invalid, must match '{VAR_NAME_REGEX}'"
            ));
        }
    }
    let vars: BTreeMap<&str, String> = vars
        .iter()
        .map(|(k, v)| (k.as_str(), v.replace('\n', "")))
        .collect();
    eval(text, &|name| match vars.get(name) {
        Some(v) => Some(v.clone()),
        None if strict => None,
        None => Some(String::new()),
    })
    .map_err(|e| format!("variable substitution failed: {e}"))
}

/// `^[_[:alpha:]][_[:alpha:][:digit:]]*$` (POSIX classes are ASCII in Go's regexp).
pub fn valid_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

fn describe(obj: &Value) -> String {
    format!(
        "{}/{}",
        obj.str_at(&["kind"]).unwrap_or_default(),
        obj.str_at(&["metadata", "name"]).unwrap_or_default()
    )
}

// ---------------------------------------------------------------------------------------------
// envsubst: parser and evaluator following fluxcd/pkg/envsubst's scanner rules.

/// A parsed template piece.
#[derive(Debug)]
enum Node {
    Text(String),
    Func {
        param: String,
        op: String,
        args: Vec<Node>,
    },
}

/// Evaluate `s` with `lookup` (None: unset in strict mode).
pub fn eval(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut p = Parser {
        c: s.chars().collect(),
        i: 0,
    };
    let nodes = p.parse_any()?;
    let mut out = String::new();
    for n in &nodes {
        eval_node(n, lookup, &mut out)?;
    }
    Ok(out)
}

fn eval_node(
    n: &Node,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut String,
) -> Result<(), String> {
    match n {
        Node::Text(t) => out.push_str(t),
        Node::Func { param, op, args } => {
            let mut vals = Vec::new();
            for a in args {
                let mut b = String::new();
                eval_node(a, lookup, &mut b)?;
                vals.push(b);
            }
            let v = match lookup(param) {
                Some(v) => v,
                None if is_default_op(op) => String::new(),
                None => return Err(format!("variable not set (strict mode): {param:?}")),
            };
            out.push_str(&apply(op, &v, &vals));
        }
    }
    Ok(())
}

fn is_default_op(op: &str) -> bool {
    matches!(op, "-" | "+" | "=" | "?" | ":-" | ":+" | ":=" | ":?")
}

fn apply(op: &str, s: &str, args: &[String]) -> String {
    let arg = |i: usize| args.get(i).map(String::as_str);
    match op {
        "," => map_first(s, char::to_lowercase),
        ",," => s.to_lowercase(),
        "^" => map_first(s, char::to_uppercase),
        "^^" => s.to_uppercase(),
        "#" if args.is_empty() => s.len().to_string(),
        "#" => arg(0).map_or(s.to_string(), |p| trim_prefix(s, p, false)),
        "##" => arg(0).map_or(s.to_string(), |p| trim_prefix(s, p, true)),
        "%" => arg(0).map_or(s.to_string(), |p| trim_suffix(s, p, false)),
        "%%" => arg(0).map_or(s.to_string(), |p| trim_suffix(s, p, true)),
        ":" => substr(s, args),
        "/" => match (arg(0), arg(1)) {
            (Some(a), b) => s.replacen(a, b.unwrap_or_default(), 1),
            _ => s.to_string(),
        },
        "//" => match (arg(0), arg(1)) {
            (Some(a), b) => s.replace(a, b.unwrap_or_default()),
            _ => s.to_string(),
        },
        "/#" => match (arg(0), arg(1)) {
            (Some(a), Some(b)) if args.len() == 2 && s.starts_with(a) => s.replacen(a, b, 1),
            _ => s.to_string(),
        },
        "/%" => match (arg(0), arg(1)) {
            (Some(a), Some(b)) if args.len() == 2 && s.ends_with(a) => {
                format!("{}{b}", &s[..s.len() - a.len()])
            }
            _ => s.to_string(),
        },
        // Every default operator, and unknown ones: the value, or the arguments when empty.
        _ => {
            if s.is_empty() && !args.is_empty() {
                args.concat()
            } else {
                s.to_string()
            }
        }
    }
}

fn map_first<I: Iterator<Item = char>>(s: &str, f: impl Fn(char) -> I) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => f(first).chain(c).collect(),
        None => String::new(),
    }
}

/// Go's byte-indexed `toSubstr`.
fn substr(s: &str, args: &[String]) -> String {
    let b = s.as_bytes();
    let len = b.len() as i64;
    let cut = |from: i64, to: i64| String::from_utf8_lossy(&b[from as usize..to as usize]).into();
    let Some(Ok(mut pos)) = args.first().map(|a| a.parse::<i64>()) else {
        return s.to_string();
    };
    if pos < 0 {
        pos = (len + pos).max(0);
    }
    let Some(l) = args.get(1) else {
        return if pos < len {
            cut(pos, len)
        } else {
            String::new()
        };
    };
    let Ok(l) = l.parse::<i64>() else {
        return s.to_string();
    };
    if l < 0 {
        let end = len + l;
        return if end < pos {
            String::new()
        } else {
            cut(pos, end)
        };
    }
    if pos + l >= len {
        return if pos < len {
            cut(pos, len)
        } else {
            String::new()
        };
    }
    cut(pos, pos + l)
}

/// Prefixes of `s` at char boundaries, longest first.
fn prefixes(s: &str) -> impl Iterator<Item = &str> {
    let mut ends: Vec<usize> = s.char_indices().map(|(i, _)| i).skip(1).collect();
    ends.push(s.len());
    ends.into_iter().rev().map(move |e| &s[..e])
}

fn trim_prefix(s: &str, pat: &str, longest: bool) -> String {
    let mut hit = None;
    for p in prefixes(s) {
        match glob_match(pat, p) {
            None => return s.to_string(),
            Some(true) => {
                hit = Some(p.len());
                if longest {
                    break;
                }
            }
            Some(false) => {}
        }
    }
    match hit {
        Some(n) => s[n..].to_string(),
        None => s.to_string(),
    }
}

fn trim_suffix(s: &str, pat: &str, longest: bool) -> String {
    let rev = |t: &str| t.chars().rev().collect::<String>();
    rev(&trim_prefix(&rev(s), &rev(pat), longest))
}

/// Go's `path.Match` for `*`, `?`, `\x` and literals; `None` for patterns this does not
/// implement (`[...]` classes), which makes the trim a no-op as a bad pattern does in Go.
fn glob_match(pat: &str, s: &str) -> Option<bool> {
    if pat.contains('[') {
        return None;
    }
    fn m(p: &[char], s: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('*') => (0..=s.len())
                .take_while(|&i| i == 0 || s[i - 1] != '/')
                .any(|i| m(&p[1..], &s[i..])),
            Some('?') => s.first().is_some_and(|&c| c != '/') && m(&p[1..], &s[1..]),
            Some('\\') if p.len() > 1 => s.first() == Some(&p[1]) && m(&p[2..], &s[1..]),
            Some(c) => s.first() == Some(c) && m(&p[1..], &s[1..]),
        }
    }
    let p: Vec<char> = pat.chars().collect();
    let s: Vec<char> = s.chars().collect();
    Some(m(&p, &s))
}

struct Parser {
    c: Vec<char>,
    i: usize,
}

const BAD: &str = "bad substitution";

impl Parser {
    fn peek(&self) -> Option<char> {
        self.c.get(self.i).copied()
    }
    fn peek2(&self) -> Option<char> {
        self.c.get(self.i + 1).copied()
    }
    fn at_lbrack(&self) -> bool {
        self.peek() == Some('$') && self.peek2() == Some('{')
    }

    /// Top level: text with `$$` escapes, and `${…}`.
    fn parse_any(&mut self) -> Result<Vec<Node>, String> {
        let mut nodes = Vec::new();
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if self.at_lbrack() {
                if !text.is_empty() {
                    nodes.push(Node::Text(std::mem::take(&mut text)));
                }
                self.i += 2;
                nodes.push(self.parse_func()?);
            } else if c == '$' && self.peek2() == Some('$') {
                text.push('$');
                self.i += 2;
            } else {
                text.push(c);
                self.i += 1;
            }
        }
        if !text.is_empty() {
            nodes.push(Node::Text(text));
        }
        Ok(nodes)
    }

    /// Characters accepted by `accept(c, index_from_1)`, at least one.
    fn scan(&mut self, accept: impl Fn(char, usize) -> bool) -> Option<String> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if !accept(c, self.i - start + 1) {
                break;
            }
            self.i += 1;
        }
        (self.i > start).then(|| self.c[start..self.i].iter().collect())
    }

    fn consume_rbrack(&mut self) -> Result<(), String> {
        if self.peek() == Some('}') {
            self.i += 1;
            Ok(())
        } else {
            Err(BAD.into())
        }
    }

    /// A function argument: a nested `${…}` or text up to a `${` or a rejected character.
    /// `escapes`: `$$` → `$`, `\/` → `/`, `\\` → `\` (replacement arguments only).
    fn parse_param(
        &mut self,
        accept: impl Fn(char) -> bool,
        escapes: bool,
    ) -> Result<Node, String> {
        if self.at_lbrack() {
            self.i += 2;
            return self.parse_func();
        }
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if self.at_lbrack() {
                break;
            }
            let next = self.peek2();
            if escapes
                && ((c == '$' && next == Some('$'))
                    || (c == '\\' && matches!(next, Some('/') | Some('\\'))))
            {
                text.push(next.unwrap_or(c));
                self.i += 2;
                continue;
            }
            if !accept(c) {
                break;
            }
            text.push(c);
            self.i += 1;
        }
        if text.is_empty() {
            return Err("unable to parse substitution within function".into());
        }
        Ok(Node::Text(text))
    }

    /// After `${`.
    fn parse_func(&mut self) -> Result<Node, String> {
        if self.peek() == Some('#') {
            self.i += 1;
            let param = self
                .scan(|c, _| c.is_alphanumeric() || c == '_')
                .ok_or(BAD)?;
            self.consume_rbrack()?;
            return Ok(Node::Func {
                param,
                op: "#".into(),
                args: Vec::new(),
            });
        }
        let param = self
            .scan(|c, _| c.is_alphanumeric() || c == '_')
            .ok_or("unable to parse variable name")?;
        match self.peek() {
            Some(':') if matches!(self.peek2(), Some('=' | '-' | '?' | '+')) => {
                self.parse_default(param)
            }
            Some('=') => self.parse_default(param),
            Some(':') => self.parse_substr(param),
            Some(',' | '^') => {
                let op = self
                    .scan(|c, i| matches!(c, ',' | '^') && i < 3)
                    .ok_or(BAD)?;
                self.consume_rbrack()?;
                Ok(Node::Func {
                    param,
                    op,
                    args: Vec::new(),
                })
            }
            Some('/') => self.parse_replace(param),
            Some(h @ ('#' | '%')) => {
                let op = self.scan(|c, i| c == h && i < 3).ok_or(BAD)?;
                let arg = self.parse_param(|c| c != '}', false)?;
                self.consume_rbrack()?;
                Ok(Node::Func {
                    param,
                    op,
                    args: vec![arg],
                })
            }
            Some('}') => {
                self.i += 1;
                Ok(Node::Func {
                    param,
                    op: String::new(),
                    args: Vec::new(),
                })
            }
            _ => Err("missing closing brace".into()),
        }
    }

    fn parse_default(&mut self, param: String) -> Result<Node, String> {
        let op = if self.peek() == Some('=') {
            self.i += 1;
            "=".to_string()
        } else {
            let op: String = self.c[self.i..self.i + 2].iter().collect();
            self.i += 2;
            op
        };
        let mut args = Vec::new();
        loop {
            if self.peek() == Some('}') {
                self.i += 1;
                return Ok(Node::Func { param, op, args });
            }
            if self.peek().is_none() {
                return Err("unable to parse substitution within function".into());
            }
            args.push(self.parse_param(|c| c != '}', false)?);
        }
    }

    fn parse_substr(&mut self, param: String) -> Result<Node, String> {
        self.i += 1; // ':'
        let mut args = vec![self.parse_param(|c| c != ':' && c != '}', false)?];
        match self.peek() {
            Some('}') => {
                self.i += 1;
            }
            Some(':') => {
                self.i += 1;
                args.push(self.parse_param(|c| c != '}', false)?);
                self.consume_rbrack()?;
            }
            _ => return Err(BAD.into()),
        }
        Ok(Node::Func {
            param,
            op: ":".into(),
            args,
        })
    }

    fn parse_replace(&mut self, param: String) -> Result<Node, String> {
        self.i += 1; // '/'
        let mut op = "/".to_string();
        if let Some(c @ ('/' | '#' | '%')) = self.peek() {
            op.push(c);
            self.i += 1;
        }
        let mut args = Vec::new();
        if self.peek() == Some('/') {
            args.push(Node::Text(String::new()));
        } else {
            args.push(self.parse_param(|c| c != '/', true)?);
        }
        if self.peek() != Some('/') {
            return Err(BAD.into());
        }
        self.i += 1;
        if self.peek() != Some('}') {
            args.push(self.parse_param(|c| c != '}', true)?);
        }
        self.consume_rbrack()?;
        Ok(Node::Func { param, op, args })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn yaml(s: &str) -> Value {
        serde_saphyr::from_str_with_options(s, loader::yaml_options()).unwrap()
    }

    #[test]
    fn text_table() {
        let v = vars(&[
            ("a", "A"),
            ("empty", ""),
            ("n", "hello"),
            ("path", "a/b/c.tar.gz"),
        ]);
        let cases: &[(&str, &str)] = &[
            ("x ${a} y", "x A y"),
            ("${a}${a}", "AA"),
            ("plain $a stays", "plain $a stays"),
            ("$${a}", "${a}"),
            ("$$a", "$a"),
            ("a$$$b", "a$$b"),
            ("lone $ and }", "lone $ and }"),
            ("${unset}", ""),
            ("${unset:=d}", "d"),
            ("${unset:-d}", "d"),
            ("${unset=d}", "d"),
            ("${empty:=d}", "d"),
            ("${a:=d}", "A"),
            ("${unset:=${a}-x}", "A-x"),
            ("${unset:=}", ""),
            ("${#n}", "5"),
            ("${n^}", "Hello"),
            ("${n^^}", "HELLO"),
            ("${a,}", "a"),
            ("${n:1}", "ello"),
            ("${n:1:2}", "el"),
            ("${n:-3}", "hello"),
            ("${n: -3}", "hello"),
            ("${n:1:-1}", "ell"),
            ("${path#*/}", "b/c.tar.gz"),
            ("${path##*.}", "a/b/c.tar.gz"),
            ("${path%.*}", "a/b/c.tar"),
            ("${path%%.*}", "a/b/c"),
            ("${n/l/L}", "heLlo"),
            ("${n//l/L}", "heLLo"),
            ("${n/#he/HE}", "HEllo"),
            ("${n/%lo/LO}", "helLO"),
            ("${n//l/}", "heo"),
        ];
        for (input, want) in cases {
            assert_eq!(
                substitute_text(input, &v, false).as_deref(),
                Ok(*want),
                "{input}"
            );
        }
    }

    #[test]
    fn syntax_errors() {
        let v = vars(&[("a", "A")]);
        for input in [
            "${a", "${}", "${a-d}", "${a+d}", "${a:=d", "${-}", "${a//l}",
        ] {
            let err = substitute_text(input, &v, false).unwrap_err();
            assert!(
                err.starts_with("variable substitution failed"),
                "{input}: {err}"
            );
        }
    }

    #[test]
    fn strict_mode() {
        let v = vars(&[("a", "A")]);
        let err = substitute_text("x: ${x}", &v, true).unwrap_err();
        assert!(
            err.contains("variable not set (strict mode): \"x\""),
            "{err}"
        );
        let err = substitute_text("${#x}", &v, true).unwrap_err();
        assert!(err.contains("\"x\""), "{err}");
        // Defaults tolerate unset variables.
        assert_eq!(substitute_text("${x:=d}", &v, true).unwrap(), "d");
        assert_eq!(substitute_text("${x:-}", &v, true).unwrap(), "");
        // Escapes and plain `$x` are not variables.
        assert_eq!(substitute_text("$${x} $x", &v, true).unwrap(), "${x} $x");
    }

    #[test]
    fn invalid_var_names() {
        let err = substitute_text("x", &vars(&[("bad-name", "v")]), false).unwrap_err();
        assert!(err.contains("'bad-name' var name is invalid"), "{err}");
        assert!(valid_var_name("_a1"));
        assert!(!valid_var_name("1a"));
        assert!(!valid_var_name(""));
    }

    #[test]
    fn object_type_change_and_newlines() {
        let obj = yaml(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\nspec:\n  replicas: ${n}\n  paused: ${p}\n",
        );
        let out = substitute(
            &obj,
            &vars(&[("name", "web"), ("n", "3\n"), ("p", "true")]),
            false,
        )
        .unwrap();
        assert_eq!(out.str_at(&["metadata", "name"]), Some("web"));
        assert_eq!(out.pointer(&["spec", "replicas"]), Some(&Value::Int(3)));
        assert_eq!(out.pointer(&["spec", "paused"]), Some(&Value::Bool(true)));
    }

    #[test]
    fn object_escapes_and_scripts() {
        let obj = yaml(
            "kind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  script: |\n    echo $HOME $${KEEP}\n    echo ${v}\n",
        );
        let out = substitute(&obj, &vars(&[("v", "value")]), true).unwrap();
        assert_eq!(
            out.str_at(&["data", "script"]),
            Some("echo $HOME ${KEEP}\necho value\n")
        );
    }

    #[test]
    fn object_disabled_and_no_vars() {
        for meta in ["labels", "annotations"] {
            let obj = yaml(&format!(
                "kind: ConfigMap\nmetadata:\n  name: cm\n  {meta}:\n    {SUBSTITUTE_KEY}: disabled\ndata:\n  a: ${{x}}\n"
            ));
            let out = substitute(&obj, &vars(&[("y", "1")]), true).unwrap();
            assert_eq!(out, obj);
        }
        let obj = yaml("kind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: ${x}\n  b: $${y}\n");
        // No variables: untouched, even in strict mode (Flux's `len(vars) > 0`).
        assert_eq!(substitute(&obj, &BTreeMap::new(), true).unwrap(), obj);
        let always = SubstituteOptions {
            strict: true,
            always: true,
        };
        let err = substitute_with(&obj, &BTreeMap::new(), always).unwrap_err();
        assert!(
            err.to_string()
                .contains("variable not set (strict mode): \"x\""),
            "{err}"
        );
        let lax = SubstituteOptions {
            strict: false,
            always: true,
        };
        let out = substitute_with(&obj, &BTreeMap::new(), lax).unwrap();
        // `a: ` re-parses as null, as in Flux.
        assert_eq!(out.pointer(&["data", "a"]), Some(&Value::Null));
        assert_eq!(out.str_at(&["data", "b"]), Some("${y}"));
    }

    #[test]
    fn strict_error_names_object() {
        let obj = yaml("kind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: ${missing}\n");
        let err = substitute(&obj, &vars(&[("y", "1")]), true).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("ConfigMap/cm"), "{msg}");
        assert!(
            msg.contains("variable not set (strict mode): \"missing\""),
            "{msg}"
        );
    }
}

#[cfg(test)]
mod quoting {
    use super::*;

    fn run(src: &str, pairs: &[(&str, &str)]) -> Value {
        let obj: Value = serde_saphyr::from_str_with_options(src, loader::yaml_options()).unwrap();
        let vars = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        substitute(&obj, &vars, true).unwrap()
    }

    /// As in Flux: the source's quotes are gone after the build, so a quoted `"${p}"` is
    /// re-typed by the substituted text (fluxcd/flux2#4154).
    #[test]
    fn substituted_text_takes_its_yaml_type_as_in_flux() {
        let out = run(
            "kind: X\nmetadata:\n  name: x\nv: \"${p}\"\nr: ${p}\nb: ${f}\n",
            &[("p", "8080"), ("f", "yes")],
        );
        assert_eq!(out.get("v"), Some(&Value::Int(8080)));
        assert_eq!(out.get("r"), Some(&Value::Int(8080)));
        assert_eq!(out.get("b"), Some(&Value::Bool(true)));
    }

    /// Strings that would read back as other types stay strings when no variable touches
    /// them, and quote variables give strings (Flux's documented way).
    #[test]
    fn untouched_strings_keep_their_type_and_quote_vars_make_strings() {
        let out = run(
            "kind: X\nmetadata:\n  name: x\nport: \"8080\"\nflag: \"yes\"\nid: ${q}${p}${q}\n",
            &[("p", "0123"), ("q", "\"")],
        );
        assert_eq!(out.get("port"), Some(&Value::from("8080")));
        assert_eq!(out.get("flag"), Some(&Value::from("yes")));
        assert_eq!(out.get("id"), Some(&Value::from("0123")));
    }
}
