//! Runs the Go-recorded cases in `golden_cases.rs` through our engine.

use std::sync::Arc;

use crate::golden_cases::{CASES, DATA};
use crate::{FuncError, FuncMap, MissingKey, Templates, Value};

pub(crate) fn test_funcs() -> FuncMap {
    let mut f = FuncMap::default();
    f.insert(
        "fail".into(),
        Arc::new(|a: &[Value]| match a.first() {
            Some(Value::String(m)) => Err(FuncError::new(m.to_string())),
            Some(v) => Err(FuncError::new(format!(
                "wrong type for value; expected string; got {}",
                crate::go_type(v)
            ))),
            None => Err(FuncError::new(
                "wrong number of args for fail: want 1 got 0",
            )),
        }) as crate::Func,
    );
    f.insert(
        "list".into(),
        Arc::new(|a: &[Value]| Ok(Value::list(a.iter().cloned()))) as crate::Func,
    );
    f.insert(
        "dict".into(),
        Arc::new(|a: &[Value]| {
            let d = crate::Dict::new();
            for kv in a.chunks(2) {
                if let [Value::String(k), v] = kv {
                    d.insert(k.to_string(), v.clone());
                }
            }
            Ok(Value::Map(d))
        }) as crate::Func,
    );
    f.insert(
        "set".into(),
        Arc::new(|a: &[Value]| match a {
            [Value::Map(d), Value::String(k), v] => {
                d.insert(k.to_string(), v.clone());
                Ok(Value::Map(d.clone()))
            }
            _ => Err(FuncError::new("bad set")),
        }) as crate::Func,
    );
    f
}

/// Runs `f` on a thread with a large stack: templates recurse per nesting level.
pub(crate) fn big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("join")
}

fn run_case(name: &str, tmpl: &str, mk: &str, data: &Value) -> Result<String, String> {
    let mut t = Templates::new(test_funcs());
    t.set_missing_key(match mk {
        "zero" => MissingKey::Zero,
        "error" => MissingKey::Error,
        _ => MissingKey::Default,
    });
    t.parse(name, tmpl).map_err(|e| e.to_string())?;
    t.execute(name, data).map_err(|e| e.to_string())
}

#[test]
fn templates_behave_like_go_text_template() {
    let failures = big_stack(|| {
        let data = Value::from_json(&serde_json::from_str(DATA).expect("data"));
        let mut failures = Vec::new();
        for (name, tmpl, mk, out, err, suffix) in CASES {
            let got = run_case(name, tmpl, mk, &data);
            let ok = match &got {
                Ok(s) => err.is_empty() && s == out,
                Err(e) => !err.is_empty() && if *suffix { e.ends_with(err) } else { e == err },
            };
            if !ok {
                let shown = match &got {
                    Ok(s) => format!("ok {s:?}"),
                    Err(e) => format!(
                        "err {:?}",
                        if e.len() > 400 {
                            &e[e.len() - 400..]
                        } else {
                            e
                        }
                    ),
                };
                failures.push(format!(
                    "{name}: {tmpl:?}\n   want out={out:?} err={err:?}\n   got  {shown}"
                ));
            }
        }
        failures
    });
    assert!(
        failures.is_empty(),
        "{} of {} differ from Go:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn yaml_and_json_match_go_and_sigs_yaml() {
    use crate::golden_yaml_cases::YAML_CASES;
    use crate::{json, yaml};
    let mut failures = Vec::new();
    for (i, (input, derr, decoded, to_yaml, to_json, pretty, raw)) in YAML_CASES.iter().enumerate()
    {
        let ours = yaml::decode(input);
        if !derr.is_empty() {
            if ours.is_ok() {
                failures.push(format!("#{i}: decoding should fail like Go: {derr}"));
            }
            continue;
        }
        match &ours {
            Ok(v) => {
                let j = json::to_json(v).unwrap_or_default();
                if &j != decoded {
                    failures.push(format!("#{i}: decoded\n  want {decoded}\n  got  {j}"));
                }
            }
            Err(e) => failures.push(format!("#{i}: decode failed: {e}")),
        }
        // Encoders, fed with exactly what Go decoded.
        let v = json::from_json(decoded).expect("go json");
        let checks = [
            (
                "toYaml",
                yaml::to_yaml(&v).map(|s| s.strip_suffix('\n').unwrap_or(&s).to_string()),
                *to_yaml,
            ),
            ("toJson", json::to_json(&v), *to_json),
            ("toPrettyJson", json::to_pretty_json(&v), *pretty),
            ("toRawJson", json::to_raw_json(&v), *raw),
        ];
        for (what, got, want) in checks {
            match got {
                Ok(g) if g == want => {}
                other => failures.push(format!(
                    "#{i} {what}:\n--- want\n{want}\n--- got\n{other:?}"
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn self_containing_dicts_fail_to_encode_instead_of_crashing() {
    let d = crate::Dict::new();
    d.insert("self", Value::Map(d.clone()));
    let v = Value::Map(d.clone());
    let e = crate::json::to_json(&v).expect_err("cycle");
    assert_eq!(
        e.to_string(),
        "json: unsupported value: encountered a cycle via map[string]interface {}"
    );
    assert!(crate::yaml::to_yaml(&v).is_err());
    d.remove("self");
}

#[test]
fn templates_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<crate::Templates>();
    assert_send_sync::<Value>();
}

#[test]
fn self_containing_dicts_print_without_crashing() {
    let d = crate::Dict::new();
    d.insert("self", Value::Map(d.clone()));
    assert_eq!(crate::fmt_v(&Value::Map(d.clone())), "map[self:%!v(CYCLE)]");
    d.remove("self");
}

#[test]
fn yaml_syntax_errors_name_the_line() {
    let e = crate::yaml::decode("k: v\n  bad: indent\n")
        .expect_err("bad yaml")
        .to_string();
    assert!(
        e.starts_with("error converting YAML to JSON: yaml: line 2: "),
        "{e}"
    );
    let e = crate::yaml::decode("a: 1\nk: [unclosed\n")
        .expect_err("bad yaml")
        .to_string();
    assert!(
        e.starts_with("error converting YAML to JSON: yaml: line "),
        "{e}"
    );
}

#[test]
fn absurd_nesting_is_an_error_not_a_crash() {
    let mut t = Templates::new(test_funcs());
    let parens = format!("{{{{ {}1{} }}}}", "(".repeat(20_000), ")".repeat(20_000));
    let e = t.parse("p", &parens).expect_err("too deep");
    assert_eq!(
        e.to_string(),
        "template: p:1: max expression depth exceeded"
    );
    let ifs = format!("{}x{}", "{{if 1}}".repeat(50_000), "{{end}}".repeat(50_000));
    assert!(t.parse("i", &ifs).is_err());
    // Recursion deeper than the caller's stack budget still renders (on the
    // executor's big-stack retry).
    t.parse(
        "rec",
        r#"{{define "r"}}{{if .}}{{template "r" (slice . 1)}}{{else}}done{{end}}{{end}}{{template "r" .}}"#,
    )
    .expect("parse");
    let list = Value::list((0..5_000).map(Value::int));
    assert_eq!(t.execute("rec", &list).expect("exec"), "done");
}

/// The data of `golden_call_cases.rs`, built as the recorder builds it in Go.
fn call_data() -> Value {
    use crate::{FuncError, GoFunc, Object};
    fn func(
        params: &[&str],
        variadic: bool,
        results: &str,
        f: impl Fn(&[Value]) -> Result<Value, FuncError> + Send + Sync + 'static,
    ) -> Value {
        GoFunc::new(params, variadic, results, Arc::new(f)).into_value()
    }
    fn int(v: &Value) -> i64 {
        match v {
            Value::Int(i, _) => *i,
            _ => 0,
        }
    }
    fn string(v: &Value) -> String {
        v.as_str().unwrap_or_default().to_string()
    }
    /// A Go struct whose method hands out a function value.
    struct Obj(i64);
    impl Object for Obj {
        fn type_name(&self) -> &str {
            "*main.obj"
        }
        fn field(&self, name: &str) -> Option<Value> {
            let base = self.0;
            (name == "Adder").then(|| {
                func(&["int", "int"], false, "int", move |a| {
                    Ok(Value::int(base + int(&a[0]) + int(&a[1])))
                })
            })
        }
        fn fmt_go(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "&{{{}}}", self.0)
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }
    Value::map([
        (
            "add".to_string(),
            func(&["int", "int"], false, "int", |a| {
                Ok(Value::int(int(&a[0]) + int(&a[1])))
            }),
        ),
        (
            "greet".into(),
            func(&["string"], false, "string", |a| {
                Ok(Value::string(format!("hi {}", string(&a[0]))))
            }),
        ),
        (
            "join".into(),
            func(&["string", "string"], true, "string", |a| {
                let parts: Vec<String> = a[1..].iter().map(string).collect();
                Ok(Value::string(parts.join(&string(&a[0]))))
            }),
        ),
        (
            "fails".into(),
            func(&[], false, "(string, error)", |_| {
                Err(FuncError::new("boom"))
            }),
        ),
        (
            "oks".into(),
            func(&[], false, "(string, error)", |_| Ok(Value::string("fine"))),
        ),
        (
            "any".into(),
            func(&["interface {}"], false, "string", |a| {
                Ok(Value::string(format!("<{}>", crate::fmt_v(&a[0]))))
            }),
        ),
        (
            "mk".into(),
            func(&["int"], false, "func() int", |a| {
                let n = int(&a[0]);
                Ok(func(&[], false, "int", move |_| Ok(Value::int(n))))
            }),
        ),
        (
            "m".into(),
            Value::map([(
                "f".to_string(),
                func(&[], false, "string", |_| Ok(Value::string("inner"))),
            )]),
        ),
        ("obj".into(), Value::Object(Arc::new(Obj(10)))),
        ("s".into(), Value::string("str")),
        ("i".into(), Value::int(3)),
        ("n".into(), Value::Nil),
        ("list".into(), Value::list([Value::int(1), Value::int(2)])),
    ])
}

#[test]
fn call_invokes_function_values_like_go() {
    check_recorded(crate::golden_call_cases::CALL_CASES, &call_data());
}

/// The data of `golden_types_cases.rs`: Go integers of several widths.
fn types_data() -> Value {
    use crate::{ElemType, IntType};
    Value::map([
        ("i".to_string(), Value::int(7)),
        ("i64".into(), Value::int64(-5)),
        ("i32".into(), Value::Int(3, IntType::Int32)),
        ("u8".into(), Value::Int(200, IntType::Uint8)),
        ("u64".into(), Value::Int(9, IntType::Uint64)),
        ("f".into(), Value::Float(1.5)),
        ("s".into(), Value::string("héllo")),
        ("b".into(), Value::Bytes(Arc::from(&b"hi"[..]))),
        (
            "list".into(),
            Value::list([
                Value::int64(1),
                Value::int(2),
                Value::Int(3, IntType::Uint8),
            ]),
        ),
        ("m".into(), Value::map([("n".to_string(), Value::int64(4))])),
        // uint64 max and 1<<63, kept as their bits
        ("ubig".into(), Value::Int(-1, IntType::Uint64)),
        ("uhalf".into(), Value::Int(i64::MIN, IntType::Uint64)),
        // typed slices as Sprig returns them
        (
            "ints".into(),
            Value::typed_list((0..3).map(Value::int), ElemType::Int),
        ),
        (
            "strs".into(),
            Value::typed_list([Value::from("a"), Value::from("b")], ElemType::String),
        ),
        (
            "mixed".into(),
            Value::list([
                Value::typed_list([Value::int(1)], ElemType::Int),
                Value::typed_list([Value::from("x")], ElemType::String),
                Value::Int(7, IntType::Uint8),
            ]),
        ),
    ])
}

/// Runs Go-recorded `(name, template, output, error)` rows against `data`.
fn check_recorded(cases: &[(&str, &str, &str, &str)], data: &Value) {
    let mut failures = Vec::new();
    for (name, tmpl, out, err) in cases {
        let mut t = Templates::new(FuncMap::default());
        let got = t
            .parse("t", tmpl)
            .and_then(|()| t.execute("t", data))
            .map_err(|e| e.to_string());
        let ok = match &got {
            Ok(s) => err.is_empty() && s == out,
            Err(e) => e == err,
        };
        if !ok {
            failures.push(format!(
                "{name}: {tmpl}\n   want out={out:?} err={err:?}\n   got  {got:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ from Go:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn integer_widths_print_compare_and_range_like_go() {
    check_recorded(crate::golden_types_cases::TYPES_CASES, &types_data());
}
