//! Every function against the reference: `tests/cases.txt` holds template
//! expressions and what Helm 3 (`helm template`, Sprig v3) printed for each,
//! or the error it reported. Each expression is evaluated here with a tiny
//! evaluator (literals, `.Values.x`, nested calls) over our function map.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;

use ferroflux_gotemplate::{FuncMap, Value};
use ferroflux_sprig::{Options, funcs, sprint_v};

/// The chart's values.yaml used to produce the expectations, as Helm decodes
/// it (every number a float64).
fn values() -> Value {
    let json = serde_json::json!({
        "f": 3, "s": "3", "false": null, "l": [1, 2], "m": {"a": 1},
        "b": true, "z": 0, "e": "", "x": 1.5, "big": 1000000, "str": "hello world",
        "nested": {"a": {"b": {"c": "deep"}}}, "strs": ["b", "a", "c"]
    });
    Value::from_json(&json)
}

struct Eval<'a> {
    fm: &'a FuncMap,
    values: Value,
}

#[derive(Debug)]
enum Tok {
    Open,
    Close,
    Pipe,
    Atom(String),
    Str(String),
}

fn lex(s: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut it = s.chars().peekable();
    while let Some(&c) = it.peek() {
        match c {
            ' ' | '\t' => {
                it.next();
            }
            '(' => {
                it.next();
                out.push(Tok::Open);
            }
            ')' => {
                it.next();
                out.push(Tok::Close);
            }
            '|' => {
                it.next();
                out.push(Tok::Pipe);
            }
            '"' => {
                it.next();
                let mut v = String::new();
                while let Some(c) = it.next() {
                    match c {
                        '"' => break,
                        '\\' => match it.next() {
                            Some('n') => v.push('\n'),
                            Some('t') => v.push('\t'),
                            Some('r') => v.push('\r'),
                            Some('x') => {
                                let hex: String = it.by_ref().take(2).collect();
                                let c = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                                v.extend(c);
                            }
                            Some('u') => {
                                let hex: String = it.by_ref().take(4).collect();
                                let c = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                                v.extend(c);
                            }
                            Some(o) => v.push(o),
                            None => {}
                        },
                        o => v.push(o),
                    }
                }
                out.push(Tok::Str(v));
            }
            '`' => {
                it.next();
                let mut v = String::new();
                for c in it.by_ref() {
                    if c == '`' {
                        break;
                    }
                    v.push(c);
                }
                out.push(Tok::Str(v));
            }
            _ => {
                let mut v = String::new();
                while let Some(&c) = it.peek() {
                    if " \t()|".contains(c) {
                        break;
                    }
                    v.push(c);
                    it.next();
                }
                out.push(Tok::Atom(v));
            }
        }
    }
    out
}

impl Eval<'_> {
    fn pipeline(&self, toks: &[Tok], pos: &mut usize) -> Result<Value, String> {
        let mut prev: Option<Value> = None;
        loop {
            let v = self.command(toks, pos, prev.take())?;
            if matches!(toks.get(*pos), Some(Tok::Pipe)) {
                *pos += 1;
                prev = Some(v);
            } else {
                return Ok(v);
            }
        }
    }

    fn command(
        &self,
        toks: &[Tok],
        pos: &mut usize,
        piped: Option<Value>,
    ) -> Result<Value, String> {
        let first = match toks.get(*pos) {
            Some(Tok::Atom(a)) if self.fm.contains_key(a.as_str()) => a.clone(),
            _ => {
                let v = self.operand(toks, pos)?;
                return Ok(v);
            }
        };
        *pos += 1;
        let mut args = Vec::new();
        while let Some(t) = toks.get(*pos) {
            if matches!(t, Tok::Close | Tok::Pipe) {
                break;
            }
            args.push(self.operand(toks, pos)?);
        }
        if let Some(p) = piped {
            args.push(p);
        }
        let f = &self.fm[first.as_str()];
        f(&args).map_err(|e| format!("error calling {first}: {e}"))
    }

    fn operand(&self, toks: &[Tok], pos: &mut usize) -> Result<Value, String> {
        let t = toks.get(*pos).ok_or("unexpected end")?;
        *pos += 1;
        match t {
            Tok::Open => {
                let v = self.pipeline(toks, pos)?;
                if !matches!(toks.get(*pos), Some(Tok::Close)) {
                    return Err("missing )".into());
                }
                *pos += 1;
                let mut v = v;
                // field chains on a parenthesized value: (semver "1.2.3").Major
                while let Some(Tok::Atom(a)) = toks.get(*pos) {
                    let Some(name) = a.strip_prefix('.') else {
                        break;
                    };
                    if name.starts_with("Values") {
                        break;
                    }
                    *pos += 1;
                    v = match &v {
                        Value::Object(o) => match o.field(name) {
                            Some(f) => f,
                            None => {
                                // a method with arguments: the rest of the command
                                let mut args = Vec::new();
                                while let Some(t) = toks.get(*pos) {
                                    if matches!(t, Tok::Close | Tok::Pipe) {
                                        break;
                                    }
                                    args.push(self.operand(toks, pos)?);
                                }
                                o.call(name, &args)
                                    .ok_or(format!("no method {name}"))?
                                    .map_err(|e| e.to_string())?
                            }
                        },
                        Value::Map(m) => m.get(name).unwrap_or(Value::Nil),
                        _ => return Err(format!("can't evaluate field {name}")),
                    };
                }
                Ok(v)
            }
            Tok::Str(s) => Ok(Value::string(s.as_str())),
            Tok::Atom(a) => Ok(match a.as_str() {
                "nil" => Value::Nil,
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                ".Values" => self.values.clone(),
                a if a.starts_with(".Values.") => {
                    let mut cur = self.values.clone();
                    for k in a[".Values.".len()..].split('.') {
                        cur = match cur {
                            Value::Map(m) => m.get(k).unwrap_or(Value::Nil),
                            _ => Value::Nil,
                        };
                    }
                    cur
                }
                a if self.fm.contains_key(a) => {
                    let f = &self.fm[a];
                    f(&[]).map_err(|e| format!("error calling {a}: {e}"))?
                }
                a => {
                    if let Ok(i) = a.parse::<i64>() {
                        Value::int(i)
                    } else if let Ok(f) = a.parse::<f64>() {
                        Value::Float(f)
                    } else {
                        return Err(format!("bad atom {a}"));
                    }
                }
            }),
            other => Err(format!("unexpected {other:?}")),
        }
    }
}

/// A case's expectation: printed output, or (part of) the error text.
enum Want {
    Out(String),
    Err(String),
}

fn load() -> Vec<(String, Want)> {
    let text = include_str!("cases.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (expr, want) = l.split_once('\t').expect("tab-separated case");
            let want = if let Some(e) = want.strip_prefix("ERR ") {
                Want::Err(serde_json::from_str::<String>(e).expect("json error text"))
            } else {
                Want::Out(serde_json::from_str::<String>(want).expect("json output"))
            };
            (expr.to_string(), want)
        })
        .collect()
}

#[test]
fn functions_match_helm_template_output() {
    let fm = funcs(&Options::default());
    let cases = load();
    let mut failures = Vec::new();
    let mut err_text_differs = Vec::new();
    for (expr, want) in &cases {
        // each case sees fresh values: `set`/`unset` mutate them
        let ev = Eval {
            fm: &fm,
            values: values(),
        };
        let toks = lex(expr);
        let mut pos = 0;
        let got = ev.pipeline(&toks, &mut pos);
        match (want, got) {
            (Want::Out(w), Ok(v)) => {
                // Go prints a nil result as `<no value>`, which Helm then removes.
                let printed = if v.is_nil() {
                    String::new()
                } else {
                    sprint_v(&v)
                };
                if &printed != w {
                    failures.push(format!("{expr}: want {w:?} got {printed:?}"));
                }
            }
            (Want::Out(w), Err(e)) => failures.push(format!("{expr}: want {w:?} got error {e}")),
            (Want::Err(w), Ok(v)) => {
                failures.push(format!("{expr}: want error {w:?} got {:?}", sprint_v(&v)))
            }
            (Want::Err(w), Err(e)) => {
                // Go's message: `... at <expr>: error calling f: msg` or a
                // type-check message; ours must be its tail.
                let tail = e.split_once(": ").map(|x| x.1).unwrap_or(&e);
                // Helm reports `required`/`fail` messages without the call prefix
                let tail = match (tail.find("HELM_ERR_START"), tail.find("HELM_ERR_END")) {
                    (Some(a), Some(b)) => &tail[a + "HELM_ERR_START".len()..b],
                    _ => tail,
                };
                if !w.ends_with(tail) && !w.ends_with(&e) {
                    err_text_differs.push(format!("{expr}: helm {w:?}\n    ours {e:?}"));
                }
            }
        }
    }
    println!(
        "{} of {} cases identical to helm; {} error messages differ in wording",
        cases.len() - failures.len() - err_text_differs.len(),
        cases.len(),
        err_text_differs.len()
    );
    for e in &err_text_differs {
        println!("  error wording: {e}");
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn values_fixture_is_map() {
    let v = values();
    let Value::Map(m) = v else { panic!("map") };
    let keys: BTreeMap<_, _> = m.snapshot();
    assert!(keys.contains_key("f"));
}

/// Every name Helm 3's engine registers (Sprig's `GenericFuncMap` minus
/// `env`/`expandenv`, plus Helm's own), except `include` and `tpl`.
const HELM_FUNCTIONS: &[&str] = &[
    "abbrev",
    "abbrevboth",
    "add",
    "add1",
    "add1f",
    "addf",
    "adler32sum",
    "ago",
    "all",
    "any",
    "append",
    "atoi",
    "b32dec",
    "b32enc",
    "b64dec",
    "b64enc",
    "base",
    "bcrypt",
    "biggest",
    "buildCustomCert",
    "camelcase",
    "cat",
    "ceil",
    "chunk",
    "clean",
    "coalesce",
    "compact",
    "concat",
    "contains",
    "date",
    "dateInZone",
    "dateModify",
    "date_in_zone",
    "date_modify",
    "decryptAES",
    "deepCopy",
    "deepEqual",
    "default",
    "derivePassword",
    "dict",
    "dig",
    "dir",
    "div",
    "divf",
    "duration",
    "durationRound",
    "empty",
    "encryptAES",
    "ext",
    "fail",
    "first",
    "float64",
    "floor",
    "fromJson",
    "fromJsonArray",
    "fromToml",
    "fromYaml",
    "fromYamlArray",
    "genCA",
    "genCAWithKey",
    "genPrivateKey",
    "genSelfSignedCert",
    "genSelfSignedCertWithKey",
    "genSignedCert",
    "genSignedCertWithKey",
    "get",
    "getHostByName",
    "has",
    "hasKey",
    "hasPrefix",
    "hasSuffix",
    "hello",
    "htmlDate",
    "htmlDateInZone",
    "htpasswd",
    "indent",
    "initial",
    "initials",
    "int",
    "int64",
    "isAbs",
    "join",
    "kebabcase",
    "keys",
    "kindIs",
    "kindOf",
    "last",
    "list",
    "lookup",
    "lower",
    "max",
    "maxf",
    "merge",
    "mergeOverwrite",
    "min",
    "minf",
    "mod",
    "mul",
    "mulf",
    "mustAppend",
    "mustChunk",
    "mustCompact",
    "mustDateModify",
    "mustDeepCopy",
    "mustFirst",
    "mustFromJson",
    "mustHas",
    "mustInitial",
    "mustLast",
    "mustMerge",
    "mustMergeOverwrite",
    "mustPrepend",
    "mustPush",
    "mustRegexFind",
    "mustRegexFindAll",
    "mustRegexMatch",
    "mustRegexReplaceAll",
    "mustRegexReplaceAllLiteral",
    "mustRegexSplit",
    "mustRest",
    "mustReverse",
    "mustSlice",
    "mustToDate",
    "mustToJson",
    "mustToPrettyJson",
    "mustToRawJson",
    "mustUniq",
    "mustWithout",
    "must_date_modify",
    "nindent",
    "nospace",
    "now",
    "omit",
    "osBase",
    "osClean",
    "osDir",
    "osExt",
    "osIsAbs",
    "pick",
    "pluck",
    "plural",
    "prepend",
    "push",
    "quote",
    "randAlpha",
    "randAlphaNum",
    "randAscii",
    "randBytes",
    "randInt",
    "randNumeric",
    "regexFind",
    "regexFindAll",
    "regexMatch",
    "regexQuoteMeta",
    "regexReplaceAll",
    "regexReplaceAllLiteral",
    "regexSplit",
    "repeat",
    "replace",
    "required",
    "rest",
    "reverse",
    "round",
    "semver",
    "semverCompare",
    "seq",
    "set",
    "sha1sum",
    "sha256sum",
    "sha512sum",
    "shuffle",
    "slice",
    "snakecase",
    "sortAlpha",
    "split",
    "splitList",
    "splitn",
    "squote",
    "sub",
    "subf",
    "substr",
    "swapcase",
    "ternary",
    "title",
    "toDate",
    "toDecimal",
    "toJson",
    "toPrettyJson",
    "toRawJson",
    "toString",
    "toStrings",
    "toToml",
    "toYaml",
    "toYamlPretty",
    "trim",
    "trimAll",
    "trimPrefix",
    "trimSuffix",
    "trimall",
    "trunc",
    "tuple",
    "typeIs",
    "typeIsLike",
    "typeOf",
    "uniq",
    "unixEpoch",
    "unset",
    "until",
    "untilStep",
    "untitle",
    "upper",
    "urlJoin",
    "urlParse",
    "uuidv4",
    "values",
    "without",
    "wrap",
    "wrapWith",
];

#[test]
fn every_helm_function_is_registered_and_nothing_else() {
    let fm = funcs(&Options::default());
    let missing: Vec<_> = HELM_FUNCTIONS
        .iter()
        .filter(|n| !fm.contains_key(**n))
        .collect();
    assert!(missing.is_empty(), "missing: {missing:?}");
    let extra: Vec<_> = fm
        .keys()
        .filter(|k| !HELM_FUNCTIONS.contains(&k.as_str()))
        .collect();
    assert!(extra.is_empty(), "not registered by Helm: {extra:?}");
    assert!(!fm.contains_key("env") && !fm.contains_key("expandenv"));
}

/// The same cases through the real template engine (`crates/gotemplate`) as
/// Helm runs them: `<<<0>>>{{ expr }}<<<END>>>` in a template named like the reference's,
/// data `{"Values": ...}`, `<no value>` removed from the output.
#[test]
fn cases_render_identically_through_the_template_engine() {
    use ferroflux_gotemplate::Templates;
    let data = Value::map([("Values".to_string(), values())]);
    let mut failures = Vec::new();
    let mut err_differs = 0;
    let cases = load();
    let fm = funcs(&Options::default());
    for (expr, want) in &cases {
        let data = Value::map([("Values".to_string(), values())]);
        let mut t = Templates::new(fm.clone());
        // Helm's engine option; the expected outputs come from helm.
        t.set_missing_key(ferroflux_gotemplate::MissingKey::Zero);
        let name = "c/templates/t.txt";
        let got = t
            .parse(name, &format!("<<<0>>>{{{{ {expr} }}}}<<<END>>>"))
            .and_then(|_| t.execute(name, &data))
            .map(|s| {
                let s = s.replace("<no value>", "");
                let s = s.strip_prefix("<<<0>>>").unwrap_or(&s);
                s.strip_suffix("<<<END>>>").unwrap_or(s).to_string()
            });
        match (want, got) {
            (Want::Out(w), Ok(g)) if &g == w => {}
            (Want::Out(w), Ok(g)) => failures.push(format!("{expr}: want {w:?} got {g:?}")),
            (Want::Out(w), Err(e)) => failures.push(format!("{expr}: want {w:?} got error {e}")),
            (Want::Err(w), Ok(g)) => failures.push(format!("{expr}: want error {w:?} got {g:?}")),
            (Want::Err(w), Err(e)) => {
                let e = e.to_string();
                let e = match (e.find("HELM_ERR_START"), e.find("HELM_ERR_END")) {
                    (Some(a), Some(b)) => e[a + "HELM_ERR_START".len()..b].to_string(),
                    _ => e,
                };
                if !w.ends_with(&e) && &e != w {
                    err_differs += 1;
                    println!("  error wording: {expr}\n    helm {w:?}\n    ours {e:?}");
                }
            }
        }
    }
    // Go's nil map for a literal nil or a missing value held in a variable
    for (src, want) in [
        (r#"{{ get nil "a" }}"#, ""),
        (r#"{{ $x := .Values.missing }}{{ hasKey $x "a" }}"#, "false"),
        (r#"{{ hasKey (dict) "a" }}"#, "false"),
    ] {
        let mut t = Templates::new(funcs(&Options::default()));
        t.set_missing_key(ferroflux_gotemplate::MissingKey::Zero);
        let got = t.parse("x", src).and_then(|_| t.execute("x", &data));
        match got {
            Ok(g) if g == want => {}
            other => failures.push(format!("{src}: want {want:?} got {other:?}")),
        }
    }
    println!(
        "through the engine: {} of {} cases identical; {err_differs} error messages differ",
        cases.len() - failures.len() - err_differs,
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
