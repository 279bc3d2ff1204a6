//! The template set and its executor: a tree walker over the parsed nodes
//! that follows `text/template/exec.go` (what is evaluated, in which order,
//! and which error is raised where).

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::gofmt::{self, go_quote, go_type};
use crate::parse::{self, Arg, Branch, Builtin, Cmd, FuncLookup, FuncRef, Node, Pipe, Source};
use crate::value::{FuncMap, GoFunc, IntType, Value, go_int};

/// What a missing map key evaluates to (Go's `missingkey=` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingKey {
    /// Go's default: an invalid value, printed as `<no value>`.
    #[default]
    Default,
    /// The map element's zero value (nil for `interface{}` maps); Helm's choice.
    Zero,
    /// An execution error `map has no entry for key "x"`; Helm's `--strict`.
    Error,
}

/// Helm's limit on nested `include` of the same template.
const MAX_INCLUDE_NESTING: usize = 1000;
/// Go's `maxExecDepth`.
const MAX_EXEC_DEPTH: usize = 100_000;

pub(crate) struct Tmpl {
    name: Arc<str>,
    src: Arc<Source>,
    root: Arc<[Node]>,
}

/// A parsed file text, kept so that a file whose text was already parsed (the same library
/// chart vendored under several subcharts) is not parsed again: the trees depend only on the
/// text and the functions.
struct ParsedText {
    root: Arc<[Node]>,
    defines: Vec<(String, Arc<[Node]>)>,
}

/// The result of parsing a `tpl` text: its body plus its own `define`s, which
/// are visible only while it runs (Helm clones the set for that; we overlay).
struct TplParsed {
    main: Arc<Tmpl>,
    defines: HashMap<String, Arc<Tmpl>>,
}

/// A set of named templates sharing `define`s, like a Go `*template.Template`
/// and its associated templates.
///
/// Besides Go's builtins the executor always provides Helm's `include` and
/// `tpl` (they need the set itself, so they cannot be plain [`crate::Func`]s);
/// a function of the same name in the [`FuncMap`] takes precedence.
pub struct Templates {
    funcs: FuncMap,
    templates: crate::value::FastMap<String, Arc<Tmpl>>,
    missing_key: MissingKey,
    root_name: String,
    tpl_cache: Mutex<HashMap<String, Arc<TplParsed>>>,
    parsed_texts: crate::value::FastMap<Arc<str>, Arc<ParsedText>>,
}

impl FuncLookup for Templates {
    fn lookup_func(&self, name: &str) -> Option<FuncRef> {
        if let Some(f) = self.funcs.get(name) {
            return Some(FuncRef::User(f.clone()));
        }
        Builtin::lookup(name).map(FuncRef::Builtin)
    }
}

fn is_empty_tree(list: &[Node], src: &str) -> bool {
    list.iter().all(|n| match n {
        Node::Text(t) => src[t.clone()].trim().is_empty(),
        _ => false,
    })
}

impl Templates {
    pub fn new(funcs: FuncMap) -> Self {
        Self {
            funcs,
            templates: crate::value::FastMap::default(),
            missing_key: MissingKey::Default,
            root_name: "gotpl".into(),
            tpl_cache: Mutex::new(HashMap::new()),
            parsed_texts: crate::value::FastMap::default(),
        }
    }

    pub fn set_missing_key(&mut self, mk: MissingKey) {
        self.missing_key = mk;
    }

    /// The name of the set's root template (Helm's is `gotpl`); `tpl` parses
    /// its text under this name, so it appears in `tpl` error messages.
    pub fn set_root_name(&mut self, name: &str) {
        self.root_name = name.to_string();
    }

    /// Adds a function after creation (before parsing templates that use it).
    pub fn add_func(&mut self, name: &str, f: crate::value::Func) {
        self.funcs.insert(name.to_string(), f);
        // Trees hold the functions they resolved at parse time.
        self.parsed_texts.clear();
    }

    /// Parses `src` as template `name`, adding its `define`s to the set. A
    /// later definition replaces an earlier one unless it is empty (Go's
    /// `AddParseTree` rule).
    pub fn parse(&mut self, name: &str, src: &str) -> Result<()> {
        let (text, parsed) = match self.parsed_texts.get_key_value(src) {
            Some((text, parsed)) => (text.clone(), parsed.clone()),
            None => {
                let p = parse::parse(name, src, self)?;
                let parsed = Arc::new(ParsedText {
                    root: p.root.into(),
                    defines: p.defines.into_iter().map(|(n, l)| (n, l.into())).collect(),
                });
                let text: Arc<str> = Arc::from(src);
                self.parsed_texts.insert(text.clone(), parsed.clone());
                (text, parsed)
            }
        };
        let source = Arc::new(Source {
            name: Arc::from(name),
            text,
        });
        for (dname, list) in &parsed.defines {
            self.add_tree(dname, list.clone(), &source);
        }
        let main_empty = is_empty_tree(&parsed.root, src);
        if !(main_empty && self.templates.contains_key(name)) {
            self.templates.insert(
                name.to_string(),
                Arc::new(Tmpl {
                    name: Arc::from(name),
                    src: source,
                    root: parsed.root.clone(),
                }),
            );
        }
        Ok(())
    }

    fn add_tree(&mut self, name: &str, list: Arc<[Node]>, source: &Arc<Source>) {
        if is_empty_tree(&list, &source.text) && self.templates.contains_key(name) {
            return;
        }
        self.templates.insert(
            name.to_string(),
            Arc::new(Tmpl {
                name: Arc::from(name),
                src: source.clone(),
                root: list,
            }),
        );
    }

    pub fn has(&self, name: &str) -> bool {
        self.templates.contains_key(name)
    }

    /// Names of all templates in the set (files and defines), unordered.
    pub fn names(&self) -> Vec<&str> {
        self.templates.keys().map(String::as_str).collect()
    }

    /// Executes template `name` with `data` as dot and `$`.
    ///
    /// The executor recurses per nested `template`/`include`/`tpl`. It runs
    /// on the calling thread within a stack budget safe for any Rust thread;
    /// if a template nests deeper than that, the execution is redone on a
    /// thread with a large, lazily committed stack (side effects of the
    /// abandoned attempt on shared dicts, such as `set`, are not undone; only
    /// templates nesting hundreds of levels deep reach this). Nesting beyond
    /// that stack fails with Go's depth error instead of crashing.
    pub fn execute(&self, name: &str, data: &Value) -> Result<String> {
        let (r, budget_hit) = self.run(name, data, CALLER_STACK_BUDGET);
        if !budget_hit {
            return r;
        }
        std::thread::scope(|s| {
            let handle = std::thread::Builder::new()
                .name("gotemplate".into())
                .stack_size(EXEC_STACK)
                .spawn_scoped(s, || self.run(name, data, EXEC_STACK - STACK_MARGIN).0)
                .map_err(|e| Error::Other(format!("template: cannot start executor: {e}")))?;
            handle
                .join()
                .unwrap_or_else(|_| Err(Error::Other("template: executor panicked".into())))
        })
    }

    /// Executes on the calling thread, treating `stack_budget` bytes as the
    /// stack available for nesting (for callers that run renders on a
    /// big-stack thread of their own); deeper nesting fails with Go's depth
    /// error.
    pub fn execute_with_budget(
        &self,
        name: &str,
        data: &Value,
        stack_budget: usize,
    ) -> Result<String> {
        self.run(name, data, stack_budget).0
    }

    fn run(&self, name: &str, data: &Value, stack_budget: usize) -> (Result<String>, bool) {
        let marker = 0u8;
        let mut ex = Exec {
            set: self,
            vars: Vec::new(),
            overlays: Vec::new(),
            include_counts: crate::value::FastMap::default(),
            depth: 0,
            stack_base: std::ptr::addr_of!(marker) as usize,
            stack_budget,
            budget_hit: false,
            dollar: Arc::from("$"),
        };
        let mut out = String::new();
        let r = ex.exec_named(name, data.clone(), &mut out).map(|()| out);
        (r, ex.budget_hit)
    }
}

/// Stack the executor may use on the caller's thread: half of the 2 MiB a
/// Rust thread gets by default.
const CALLER_STACK_BUDGET: usize = 1 << 20;
/// Stack for [`Templates::execute`]'s thread; only touched pages are committed.
const EXEC_STACK: usize = 1 << 30;
/// Headroom kept below the stack size for the frames of one nesting level.
const STACK_MARGIN: usize = 16 << 20;

/// Where a function argument came from, as far as Go's argument conversion
/// cares (see [`arg_origin`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgOrigin {
    /// A constant in the template (`1`, `"x"`, `true`, `nil`): Go converts
    /// number constants to the parameter's type (`1` fills a float64).
    Literal,
    /// Go's invalid value: a missing key that went through a variable or a
    /// parenthesized pipeline (`$x := .missing`). Go passes the zero value
    /// to map/slice/pointer/interface parameters (a nil map: `hasKey $x "k"`
    /// is false) and fails other types with `invalid value; expected T`.
    Invalid,
    /// A nil `interface{}` read straight from a map (`.Values.missing` under
    /// missingkey=zero, or an explicit `null`): only `interface{}` parameters
    /// take it; others fail with `wrong type for value; expected T; got interface {}`.
    Nil,
    /// Any other computed value.
    Value,
}

thread_local! {
    static ARG_ORIGINS: std::cell::RefCell<Vec<ArgOrigin>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// During a [`crate::Func`] call made by the executor: the origin of
/// argument `i` (the piped value is the last argument). Outside such a call,
/// or past the last argument, [`ArgOrigin::Value`]. Lets functions apply Go's
/// typed-parameter conversions, which depend on more than the [`Value`].
pub fn arg_origin(i: usize) -> ArgOrigin {
    ARG_ORIGINS.with(|o| o.borrow().get(i).copied().unwrap_or(ArgOrigin::Value))
}

thread_local! {
    static BAD_ARG: std::cell::Cell<Option<(usize, &'static str)>> = const { std::cell::Cell::new(None) };
}

/// For a [`crate::Func`] about to fail with `wrong type for value; …`
/// because argument `i` (counted as [`arg_origin`] counts) does not fit its
/// Go parameter type `expected` (`string`, `int`, `[]interface {}`): lets
/// the executor report the error where Go does, at that argument (inside a
/// parenthesized one, at the node evaluated last), and for a constant with
/// Go's wording (`expected string; found 3`, `cannot assign nil to int`).
pub fn report_bad_arg(i: usize, expected: &'static str) {
    BAD_ARG.with(|b| b.set(Some((i, expected))));
}

/// Go's error for a constant argument of the wrong type (`evalArg`), which
/// it raises before any conversion; `None` for other arguments.
fn constant_mismatch(a: &Arg, expected: &str) -> Option<String> {
    match a {
        Arg::Nil(_) => Some(format!("cannot assign nil to {expected}")),
        Arg::Number { .. } | Arg::Str { .. } | Arg::Bool(..) => Some(match expected {
            "string" => format!("expected string; found {a}"),
            "bool" => format!("expected bool; found {a}"),
            "int" | "int8" | "int16" | "int32" | "int64" => {
                format!("expected integer; found {a}")
            }
            "uint" | "uint8" | "uint16" | "uint32" | "uint64" => {
                format!("expected unsigned integer; found {a}")
            }
            "float32" | "float64" => format!("expected float; found {a}"),
            _ => format!("can't handle {a} for arg of type {expected}"),
        }),
        _ => None,
    }
}

/// The node Go's executor evaluated last for an argument, which its errors
/// name: the argument itself, or inside a parenthesized pipeline the last
/// argument of its last command (recursively; the function when it has none).
fn last_node(a: &Arg) -> &Arg {
    match a {
        Arg::Pipe(p) if !p.cmds.is_empty() => last_node(range_context(p)),
        Arg::Chain { node, .. } => last_node(node),
        a => a,
    }
}

/// A value during evaluation; `None` is Go's invalid `reflect.Value` (a
/// missing key under the default missingkey option), `Some(Value::Nil)` a
/// nil interface.
type V = Option<Value>;

#[derive(Clone)]
struct Dot {
    v: V,
    /// Whether the value sits in an `interface{}` slot (map element, list
    /// element), which changes Go's type names in error messages.
    boxed: bool,
}

enum Flow {
    Break,
    Continue,
    Err(Error),
}

impl From<Error> for Flow {
    fn from(e: Error) -> Self {
        Flow::Err(e)
    }
}

struct Exec<'s> {
    set: &'s Templates,
    vars: Vec<(Arc<str>, V)>,
    overlays: Vec<Arc<TplParsed>>,
    include_counts: crate::value::FastMap<String, usize>,
    depth: usize,
    stack_base: usize,
    stack_budget: usize,
    /// Set when the stack budget (not Go's depth limit) stopped execution.
    budget_hit: bool,
    dollar: Arc<str>,
}

fn nil_to_invalid(v: V) -> V {
    match v {
        Some(Value::Nil) => None,
        v => v,
    }
}

fn truth(v: &V) -> bool {
    v.as_ref().is_some_and(Value::truthy)
}

fn arg_value(v: V) -> Value {
    v.unwrap_or(Value::Nil)
}

fn type_name(v: &V, boxed: bool) -> String {
    if boxed {
        return "interface {}".into();
    }
    match v {
        Some(v) => go_type(v),
        None => "<nil>".into(),
    }
}

struct TemplateCtx<'a>(&'a Arc<str>, &'a Option<Pipe>);
impl Display for TemplateCtx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.1 {
            Some(p) => write!(f, "{{{{template {} {}}}}}", go_quote(self.0), p),
            None => write!(f, "{{{{template {}}}}}", go_quote(self.0)),
        }
    }
}

struct NamedCtx<'a>(&'a str);
impl Display for NamedCtx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl<'s> Exec<'s> {
    /// Whether one more nesting level would pass Go's depth limit or our stack.
    fn too_deep(&mut self) -> bool {
        self.depth >= MAX_EXEC_DEPTH || self.stack_exhausted()
    }

    /// Deeply nested `if`/`with`/`range` blocks recurse too; they share the
    /// stack budget (and its big-stack retry) with template calls.
    fn check_nesting(&mut self, t: &Tmpl, b: &Branch) -> Result<(), Flow> {
        if self.stack_exhausted() {
            let at = range_context(&b.pipe);
            return Err(self
                .err(
                    t,
                    at.pos(),
                    at,
                    format!("exceeded maximum template depth ({MAX_EXEC_DEPTH})"),
                )
                .into());
        }
        Ok(())
    }

    fn stack_exhausted(&mut self) -> bool {
        let marker = 0u8;
        let here = std::ptr::addr_of!(marker) as usize;
        let hit = self.stack_base.abs_diff(here) > self.stack_budget;
        self.budget_hit |= hit;
        hit
    }

    fn lookup(&self, name: &str) -> Option<Arc<Tmpl>> {
        for o in self.overlays.iter().rev() {
            if name == o.main.name.as_ref() {
                return Some(o.main.clone());
            }
            if let Some(t) = o.defines.get(name) {
                return Some(t.clone());
            }
        }
        self.set.templates.get(name).cloned()
    }

    fn exec_named(&mut self, name: &str, data: Value, out: &mut String) -> Result<()> {
        let Some(t) = self.lookup(name) else {
            return Err(Error::Other(format!(
                "template: no template {} associated with template {}",
                go_quote(name),
                go_quote(&self.set.root_name)
            )));
        };
        self.exec_tmpl(&t, Some(data), false, out)
    }

    fn exec_tmpl(&mut self, t: &Arc<Tmpl>, data: V, boxed: bool, out: &mut String) -> Result<()> {
        let mut vars = Vec::with_capacity(8);
        vars.push((self.dollar.clone(), data.clone()));
        let saved = std::mem::replace(&mut self.vars, vars);
        let dot = Dot { v: data, boxed };
        let r = self.walk(t, &dot, &t.root, out);
        self.vars = saved;
        match r {
            Ok(()) => Ok(()),
            Err(Flow::Err(e)) => Err(e),
            // The parser rejects break/continue outside range.
            Err(Flow::Break | Flow::Continue) => Ok(()),
        }
    }

    fn err(&self, t: &Tmpl, pos: usize, ctx: &dyn Display, msg: impl Into<String>) -> Error {
        Error::Exec {
            location: t.src.location(pos),
            template: t.name.to_string(),
            context: ctx.to_string(),
            msg: msg.into(),
        }
    }

    fn walk(
        &mut self,
        t: &Arc<Tmpl>,
        dot: &Dot,
        list: &[Node],
        out: &mut String,
    ) -> Result<(), Flow> {
        for node in list {
            match node {
                Node::Text(r) => out.push_str(&t.src.text[r.clone()]),
                Node::Action(pipe) => {
                    let v = self.eval_pipeline(t, dot, pipe)?;
                    if pipe.decl.is_empty() {
                        match &v {
                            None => out.push_str("<no value>"),
                            Some(Value::Object(o)) if o.as_any().is::<GoFunc>() => {
                                // Go refuses to print functions (and channels).
                                let node = format!("{{{{{pipe}}}}}");
                                return Err(self
                                    .err(
                                        t,
                                        pipe.pos,
                                        &node,
                                        format!("can't print {node} of type {}", o.type_name()),
                                    )
                                    .into());
                            }
                            Some(v) => gofmt::write_v(out, v),
                        }
                    }
                }
                Node::If(b) => self.walk_if_with(t, dot, b, false, out)?,
                Node::With(b) => self.walk_if_with(t, dot, b, true, out)?,
                Node::Range(b) => self.walk_range(t, dot, b, out)?,
                Node::Template {
                    pos, name, pipe, ..
                } => {
                    let ctx = TemplateCtx(name, pipe);
                    let Some(tmpl) = self.lookup(name) else {
                        return Err(self
                            .err(
                                t,
                                *pos,
                                &ctx,
                                format!("template {} not defined", go_quote(name)),
                            )
                            .into());
                    };
                    if self.too_deep() {
                        return Err(self
                            .err(
                                t,
                                *pos,
                                &ctx,
                                format!("exceeded maximum template depth ({MAX_EXEC_DEPTH})"),
                            )
                            .into());
                    }
                    let data = match pipe {
                        Some(p) => self.eval_pipeline(t, dot, p)?,
                        None => None,
                    };
                    self.depth += 1;
                    let r = self.exec_tmpl(&tmpl, data, false, out);
                    self.depth -= 1;
                    r?;
                }
                Node::Break => return Err(Flow::Break),
                Node::Continue => return Err(Flow::Continue),
            }
        }
        Ok(())
    }

    fn walk_if_with(
        &mut self,
        t: &Arc<Tmpl>,
        dot: &Dot,
        b: &Branch,
        with: bool,
        out: &mut String,
    ) -> Result<(), Flow> {
        self.check_nesting(t, b)?;
        let mark = self.vars.len();
        let v = self.eval_pipeline(t, dot, &b.pipe)?;
        let r = if truth(&v) {
            if with {
                let d = Dot { v, boxed: false };
                self.walk(t, &d, &b.list, out)
            } else {
                self.walk(t, dot, &b.list, out)
            }
        } else if let Some(e) = &b.else_list {
            self.walk(t, dot, e, out)
        } else {
            Ok(())
        };
        self.vars.truncate(mark);
        r
    }

    fn walk_range(
        &mut self,
        t: &Arc<Tmpl>,
        dot: &Dot,
        b: &Branch,
        out: &mut String,
    ) -> Result<(), Flow> {
        self.check_nesting(t, b)?;
        let val = self.eval_pipeline(t, dot, &b.pipe)?;
        let mark = self.vars.len();
        let ndecl = b.pipe.decl.len();
        // Returns Ok(true) on break.
        let mut one = |ex: &mut Self, index: Value, elem: V, boxed: bool| -> Result<bool, Flow> {
            if ndecl > 0 {
                if b.pipe.is_assign {
                    let (name, val) = if ndecl > 1 {
                        (&b.pipe.decl[0], Some(index.clone()))
                    } else {
                        (&b.pipe.decl[0], elem.clone())
                    };
                    ex.set_var(t, b.pipe.pos, name, val)?;
                } else {
                    let top = ex.vars.len() - 1;
                    ex.vars[top].1 = elem.clone();
                }
            }
            if ndecl > 1 {
                if b.pipe.is_assign {
                    ex.set_var(t, b.pipe.pos, &b.pipe.decl[1], elem.clone())?;
                } else {
                    let i = ex.vars.len() - 2;
                    ex.vars[i].1 = Some(index);
                }
            }
            let d = Dot { v: elem, boxed };
            let r = ex.walk(t, &d, &b.list, out);
            ex.vars.truncate(mark);
            match r {
                Ok(()) | Err(Flow::Continue) => Ok(false),
                Err(Flow::Break) => Ok(true),
                Err(e) => Err(e),
            }
        };
        let mut ran = false;
        match &val {
            Some(Value::List(l, _)) => {
                for (i, e) in l.iter().enumerate() {
                    ran = true;
                    if one(self, Value::int(i as i64), Some(e.clone()), true)? {
                        break;
                    }
                }
            }
            Some(Value::Bytes(bs)) => {
                for (i, e) in bs.iter().enumerate() {
                    ran = true;
                    if one(
                        self,
                        Value::int(i as i64),
                        Some(Value::Int(i64::from(*e), IntType::Uint8)),
                        false,
                    )? {
                        break;
                    }
                }
            }
            Some(Value::Map(m)) => {
                let entries: Vec<(String, Value)> = m
                    .read()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                for (k, e) in entries {
                    ran = true;
                    if one(self, Value::string(k), Some(e), true)? {
                        break;
                    }
                }
            }
            Some(Value::Int(n, ty)) => {
                if ndecl > 1 {
                    let ctx = last_node(range_context(&b.pipe));
                    return Err(self
                        .err(
                            t,
                            ctx.pos(),
                            ctx,
                            format!(
                                "can't use {} to iterate over more than one variable",
                                crate::GoInt(*n, *ty)
                            ),
                        )
                        .into());
                }
                for i in 0..*n {
                    ran = true;
                    if one(self, Value::Int(i, *ty), Some(Value::Int(i, *ty)), false)? {
                        break;
                    }
                }
            }
            Some(Value::Object(o)) if o.map_entries().is_some() => {
                for (k, e) in o.map_entries().unwrap_or_default() {
                    ran = true;
                    if one(self, Value::string(k), Some(e), false)? {
                        break;
                    }
                }
            }
            None | Some(Value::Nil) => {}
            Some(other) => {
                let at = last_node(range_context(&b.pipe));
                return Err(self
                    .err(
                        t,
                        at.pos(),
                        at,
                        format!("range can't iterate over {}", gofmt::fmt_v(other)),
                    )
                    .into());
            }
        }
        if !ran && let Some(e) = &b.else_list {
            let r = self.walk(t, dot, e, out);
            self.vars.truncate(mark);
            return r;
        }
        self.vars.truncate(mark);
        Ok(())
    }

    fn set_var(&mut self, t: &Tmpl, pos: usize, name: &Arc<str>, v: V) -> Result<()> {
        for (n, val) in self.vars.iter_mut().rev() {
            if n == name {
                *val = v;
                return Ok(());
            }
        }
        Err(self.err(
            t,
            pos,
            &NamedCtx(name),
            format!("undefined variable: {name}"),
        ))
    }

    fn var_value(&self, t: &Tmpl, pos: usize, name: &str) -> Result<V> {
        for (n, val) in self.vars.iter().rev() {
            if n.as_ref() == name {
                return Ok(val.clone());
            }
        }
        Err(self.err(
            t,
            pos,
            &NamedCtx(name),
            format!("undefined variable: {name}"),
        ))
    }

    fn eval_pipeline(&mut self, t: &Arc<Tmpl>, dot: &Dot, pipe: &Pipe) -> Result<V> {
        let mut value: Option<V> = None;
        for cmd in &pipe.cmds {
            let v = self.eval_command(t, dot, cmd, value.take())?;
            value = Some(nil_to_invalid(v));
        }
        let v = value.unwrap_or(None);
        for d in &pipe.decl {
            if pipe.is_assign {
                if let Err(e) = self.set_var(t, pipe.pos, d, v.clone()) {
                    let at = range_context(pipe);
                    return Err(self.err(t, at.pos(), at, e.message().to_string()));
                }
            } else {
                self.vars.push((d.clone(), v.clone()));
            }
        }
        Ok(v)
    }

    fn not_a_function(&self, t: &Tmpl, args: &[Arg], fin: &Option<V>) -> Result<()> {
        if args.len() > 1 || fin.is_some() {
            return Err(self.err(
                t,
                args[0].pos(),
                &args[0],
                format!("can't give argument to non-function {}", args[0]),
            ));
        }
        Ok(())
    }

    fn eval_command(&mut self, t: &Arc<Tmpl>, dot: &Dot, cmd: &Cmd, fin: Option<V>) -> Result<V> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { idents, .. } => self.eval_chain(
                t,
                dot,
                dot.v.clone(),
                dot.boxed,
                idents,
                first,
                &cmd.args[1..],
                fin,
            ),
            Arg::Chain { node, idents, .. } => {
                if let Arg::Nil(_) = **node {
                    return Err(self.err(
                        t,
                        first.pos(),
                        first,
                        format!("indirection through explicit nil in {first}"),
                    ));
                }
                let recv = self.eval_arg(t, dot, node)?;
                self.eval_chain(
                    t,
                    dot,
                    recv,
                    false,
                    idents,
                    chain_context(node),
                    &cmd.args[1..],
                    fin,
                )
            }
            Arg::Ident { name, func, pos } => {
                self.eval_function(t, dot, name, func, *pos, cmd, &cmd.args[1..], fin)
            }
            Arg::Pipe(p) => {
                self.not_a_function(t, &cmd.args, &fin)?;
                self.eval_pipeline(t, dot, p)
            }
            Arg::Variable { name, idents, pos } => {
                let v = self.var_value(t, *pos, name)?;
                if idents.is_empty() {
                    self.not_a_function(t, &cmd.args, &fin)?;
                    return Ok(v);
                }
                self.eval_chain(t, dot, v, false, idents, first, &cmd.args[1..], fin)
            }
            Arg::Nil(pos) => Err(self.err(t, *pos, first, "nil is not a command")),
            _ => {
                self.not_a_function(t, &cmd.args, &fin)?;
                self.eval_arg(t, dot, first)
            }
        }
    }

    fn eval_arg(&mut self, t: &Arc<Tmpl>, dot: &Dot, arg: &Arg) -> Result<V> {
        match arg {
            Arg::Dot(_) => Ok(dot.v.clone()),
            Arg::Nil(_) => Ok(Some(Value::Nil)),
            Arg::Bool(_, b) => Ok(Some(Value::Bool(*b))),
            Arg::Number { value, text, pos } => {
                if let Value::Float(_) = value
                    && parse::overflows_int(text, value)
                {
                    return Err(self.err(t, *pos, arg, format!("{text} overflows int")));
                }
                Ok(Some(value.clone()))
            }
            Arg::Str { value, .. } => Ok(Some(Value::String(value.clone()))),
            Arg::Field { idents, .. } => {
                self.eval_chain(t, dot, dot.v.clone(), dot.boxed, idents, arg, &[], None)
            }
            Arg::Variable { name, idents, pos } => {
                let v = self.var_value(t, *pos, name)?;
                if idents.is_empty() {
                    return Ok(v);
                }
                self.eval_chain(t, dot, v, false, idents, arg, &[], None)
            }
            Arg::Chain { node, idents, .. } => {
                if let Arg::Nil(_) = **node {
                    return Err(self.err(
                        t,
                        arg.pos(),
                        arg,
                        format!("indirection through explicit nil in {arg}"),
                    ));
                }
                let recv = self.eval_arg(t, dot, node)?;
                self.eval_chain(t, dot, recv, false, idents, chain_context(node), &[], None)
            }
            Arg::Pipe(p) => self.eval_pipeline(t, dot, p),
            Arg::Ident { name, func, pos } => {
                let cmd = IdentCmd(arg);
                self.eval_function_ctx(t, dot, name, func, *pos, &cmd, *pos, &[], None)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_chain(
        &mut self,
        t: &Arc<Tmpl>,
        dot: &Dot,
        mut recv: V,
        mut boxed: bool,
        idents: &[Arc<str>],
        node: &Arg,
        args: &[Arg],
        fin: Option<V>,
    ) -> Result<V> {
        let n = idents.len();
        let mut fin = fin;
        for (i, id) in idents.iter().enumerate() {
            let last = i + 1 == n;
            let (a, f) = if last {
                (args, fin.take())
            } else {
                (&[][..], None)
            };
            let (v, b) = self.eval_field(t, dot, id, node, a, f, recv, boxed)?;
            recv = v;
            boxed = b;
        }
        Ok(recv)
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_field(
        &mut self,
        t: &Arc<Tmpl>,
        dot: &Dot,
        name: &str,
        node: &Arg,
        args: &[Arg],
        fin: Option<V>,
        recv: V,
        boxed: bool,
    ) -> Result<(V, bool)> {
        let pos = node.pos();
        let has_args = !args.is_empty() || fin.is_some();
        match recv {
            None => {
                if self.set.missing_key == MissingKey::Error {
                    return Err(self.err(
                        t,
                        pos,
                        node,
                        format!("nil data; no entry for key {}", go_quote(name)),
                    ));
                }
                Ok((None, false))
            }
            Some(Value::Nil) => Err(self.err(
                t,
                pos,
                node,
                format!("nil pointer evaluating interface {{}}.{name}"),
            )),
            Some(Value::Map(m)) => {
                if has_args {
                    return Err(self.err(
                        t,
                        pos,
                        node,
                        format!("{name} is not a method but has arguments"),
                    ));
                }
                match m.get(name) {
                    Some(v) => Ok((Some(v), true)),
                    None => match self.set.missing_key {
                        MissingKey::Default => Ok((None, false)),
                        MissingKey::Zero => Ok((Some(Value::Nil), true)),
                        MissingKey::Error => Err(self.err(
                            t,
                            pos,
                            node,
                            format!("map has no entry for key {}", go_quote(name)),
                        )),
                    },
                }
            }
            Some(Value::Object(o)) => {
                if has_args {
                    let mut argv = Vec::with_capacity(args.len() + 1);
                    for a in args {
                        argv.push(arg_value(self.eval_arg(t, dot, a)?));
                    }
                    if let Some(f) = fin {
                        argv.push(arg_value(f));
                    }
                    return match o.call(name, &argv) {
                        Some(Ok(v)) => Ok((Some(v), false)),
                        Some(Err(e)) => Err(self.func_error(t, pos, node, name, e)),
                        None if o.field(name).is_some() => Err(self.err(
                            t,
                            pos,
                            node,
                            format!("{name} has arguments but cannot be invoked as function"),
                        )),
                        None => Err(self.err(
                            t,
                            pos,
                            node,
                            format!("can't evaluate field {name} in type {}", o.type_name()),
                        )),
                    };
                }
                if let Some(v) = o.field(name) {
                    return Ok((Some(v), false));
                }
                match o.call(name, &[]) {
                    Some(Ok(v)) => Ok((Some(v), false)),
                    Some(Err(e)) => Err(self.func_error(t, pos, node, name, e)),
                    None => Err(self.err(
                        t,
                        pos,
                        node,
                        format!("can't evaluate field {name} in type {}", o.type_name()),
                    )),
                }
            }
            Some(other) => {
                let tn = type_name(&Some(other), boxed);
                Err(self.err(
                    t,
                    pos,
                    node,
                    format!("can't evaluate field {name} in type {tn}"),
                ))
            }
        }
    }

    fn func_error(
        &self,
        t: &Tmpl,
        pos: usize,
        ctx: &dyn Display,
        name: &str,
        e: crate::value::FuncError,
    ) -> Error {
        // Go raises argument-count and argument-type errors before the call,
        // without the "error calling" prefix; functions signal them by wording.
        if e.0.starts_with("wrong number of args for ") || e.0.starts_with("wrong type for value") {
            return self.err(t, pos, ctx, e.0);
        }
        self.err(t, pos, ctx, format!("error calling {name}: {}", e.0))
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_function(
        &mut self,
        t: &Arc<Tmpl>,
        dot: &Dot,
        name: &Arc<str>,
        func: &FuncRef,
        pos: usize,
        cmd: &Cmd,
        args: &[Arg],
        fin: Option<V>,
    ) -> Result<V> {
        self.eval_function_ctx(t, dot, name, func, pos, cmd, cmd.pos, args, fin)
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_function_ctx(
        &mut self,
        t: &Arc<Tmpl>,
        dot: &Dot,
        name: &Arc<str>,
        func: &FuncRef,
        ident_pos: usize,
        ctx: &dyn Display,
        ctx_pos: usize,
        args: &[Arg],
        fin: Option<V>,
    ) -> Result<V> {
        let nargs = args.len() + usize::from(fin.is_some());
        let ident_ctx = NamedCtx(name);
        let arity = |want: usize, at_least: bool| -> Option<String> {
            if (at_least && nargs < want) || (!at_least && nargs != want) {
                Some(format!(
                    "wrong number of args for {name}: want {}{want} got {nargs}",
                    if at_least { "at least " } else { "" }
                ))
            } else {
                None
            }
        };
        let b = match func {
            FuncRef::User(f) => {
                let mut argv = Vec::with_capacity(args.len() + 1);
                let mut origins = Vec::with_capacity(args.len() + 1);
                for a in args {
                    let v = self.eval_arg(t, dot, a)?;
                    origins.push(match (a, &v) {
                        (Arg::Number { .. } | Arg::Str { .. } | Arg::Bool(..) | Arg::Nil(_), _) => {
                            ArgOrigin::Literal
                        }
                        (_, None) => ArgOrigin::Invalid,
                        (_, Some(Value::Nil)) => ArgOrigin::Nil,
                        _ => ArgOrigin::Value,
                    });
                    argv.push(arg_value(v));
                }
                if let Some(v) = fin {
                    origins.push(if v.is_none() {
                        ArgOrigin::Invalid
                    } else {
                        ArgOrigin::Value
                    });
                    argv.push(arg_value(v));
                }
                ARG_ORIGINS.with(|o| *o.borrow_mut() = origins);
                let r = f(&argv);
                ARG_ORIGINS.with(|o| o.borrow_mut().clear());
                return match r {
                    Ok(v) => Ok(Some(v)),
                    Err(e) => {
                        let bad = BAD_ARG.with(std::cell::Cell::take);
                        if e.0.starts_with("wrong type for value")
                            && let Some((i, expected)) = bad
                            && let Some(a) = args.get(i)
                        {
                            let node = last_node(a);
                            let msg = constant_mismatch(a, expected).unwrap_or(e.0);
                            return Err(self.err(t, node.pos(), node, msg));
                        }
                        if e.0.starts_with("wrong number of args for ")
                            || e.0.starts_with("wrong type for value")
                        {
                            Err(self.err(t, ident_pos, &ident_ctx, e.0))
                        } else {
                            Err(self.func_error(t, ctx_pos, ctx, name, e))
                        }
                    }
                };
            }
            FuncRef::Builtin(b) => *b,
        };
        let fail = |ex: &Self, msg: String| -> Error {
            ex.err(t, ctx_pos, ctx, format!("error calling {name}: {msg}"))
        };
        let check = |ex: &Self, want: usize, at_least: bool| -> Result<()> {
            match arity(want, at_least) {
                Some(m) => Err(ex.err(t, ident_pos, &ident_ctx, m)),
                None => Ok(()),
            }
        };
        match b {
            Builtin::And | Builtin::Or => {
                check(self, 1, true)?;
                let is_and = b == Builtin::And;
                let mut last: V = None;
                for a in args {
                    let v = self.eval_arg(t, dot, a)?;
                    let tv = truth(&v);
                    if tv != is_and {
                        return Ok(v);
                    }
                    last = v;
                }
                if let Some(f) = fin {
                    last = f;
                }
                Ok(last)
            }
            Builtin::Not => {
                check(self, 1, false)?;
                let v = self.eval_args_v(t, dot, args, fin)?;
                Ok(Some(Value::Bool(!truth(&v[0]))))
            }
            Builtin::Include => {
                check(self, 2, false)?;
                let v = self.eval_args(t, dot, args, fin)?;
                let Value::String(tname) = &v[0] else {
                    return Err(self.string_param_error(t, args, &v[0], ctx_pos, ctx));
                };
                let s = self
                    .include(tname, v[1].clone())
                    .map_err(|e| fail(self, e))?;
                Ok(Some(Value::string(s)))
            }
            Builtin::Tpl => {
                check(self, 2, false)?;
                let v = self.eval_args(t, dot, args, fin)?;
                let Value::String(text) = &v[0] else {
                    return Err(self.string_param_error(t, args, &v[0], ctx_pos, ctx));
                };
                let s = self.tpl(text, v[1].clone()).map_err(|e| fail(self, e))?;
                Ok(Some(Value::string(s)))
            }
            _ => {
                let v = self.eval_args_v(t, dot, args, fin)?;

                match b {
                    Builtin::Len => check(self, 1, false)
                        .and_then(|_| builtin_len(&v[0]).map_err(|m| fail(self, m))),
                    Builtin::Index => check(self, 1, true)
                        .and_then(|_| builtin_index(&v[0], &v[1..]).map_err(|m| fail(self, m))),
                    Builtin::Slice => check(self, 1, true)
                        .and_then(|_| builtin_slice(&v[0], &v[1..]).map_err(|m| fail(self, m))),
                    Builtin::Eq => check(self, 1, true).and_then(|_| {
                        builtin_eq(&v[0], &v[1..])
                            .map(|b| Some(Value::Bool(b)))
                            .map_err(|m| fail(self, m))
                    }),
                    Builtin::Ne => check(self, 2, false).and_then(|_| {
                        builtin_eq(&v[0], &v[1..])
                            .map(|b| Some(Value::Bool(!b)))
                            .map_err(|m| fail(self, m))
                    }),
                    Builtin::Lt | Builtin::Le | Builtin::Gt | Builtin::Ge => check(self, 2, false)
                        .and_then(|_| {
                            let r = match b {
                                Builtin::Lt => builtin_lt(&v[0], &v[1]),
                                Builtin::Le => builtin_le(&v[0], &v[1]),
                                Builtin::Gt => builtin_le(&v[0], &v[1]).map(|x| !x),
                                _ => builtin_lt(&v[0], &v[1]).map(|x| !x),
                            };
                            r.map(|b| Some(Value::Bool(b))).map_err(|m| fail(self, m))
                        }),
                    Builtin::Print => Ok(Some(Value::string(gofmt::sprint(&vals(&v))))),
                    Builtin::Println => Ok(Some(Value::string(gofmt::sprintln(&vals(&v))))),
                    Builtin::Printf => {
                        check(self, 1, true)?;
                        match &v[0] {
                            Some(Value::String(f)) => {
                                Ok(Some(Value::string(gofmt::sprintf(f, &vals(&v[1..])))))
                            }
                            other => Err(self.string_param_error(
                                t,
                                args,
                                &arg_value(other.clone()),
                                ctx_pos,
                                ctx,
                            )),
                        }
                    }
                    Builtin::Html => Ok(Some(Value::string(html_escape(&eval_args_string(&v))))),
                    Builtin::Js => Ok(Some(Value::string(js_escape(&eval_args_string(&v))))),
                    Builtin::Urlquery => {
                        Ok(Some(Value::string(query_escape(&eval_args_string(&v)))))
                    }
                    Builtin::Call => {
                        check(self, 1, true)?;
                        let callee = match args.first() {
                            Some(a) => a.to_string(),
                            // Go names a piped callee by its reflect.Value.
                            None => format!(
                                "<{} Value>",
                                v[0].as_ref().map(go_type).unwrap_or_default()
                            ),
                        };
                        builtin_call(&callee, &v[0], &v[1..])
                            .map(Some)
                            .map_err(|m| fail(self, m))
                    }
                    Builtin::And | Builtin::Or | Builtin::Not | Builtin::Include | Builtin::Tpl => {
                        Ok(None)
                    }
                }
            }
        }
    }

    /// Go's error for a non-string value passed to a `string` parameter:
    /// literals fail as "expected string; found X", others by type, both at
    /// the argument's node.
    fn string_param_error(
        &self,
        t: &Tmpl,
        args: &[Arg],
        v: &Value,
        ctx_pos: usize,
        ctx: &dyn Display,
    ) -> Error {
        match args.first() {
            Some(a @ (Arg::Number { .. } | Arg::Bool(..))) => {
                self.err(t, a.pos(), a, format!("expected string; found {a}"))
            }
            Some(a) => self.err(
                t,
                a.pos(),
                a,
                format!("wrong type for value; expected string; got {}", go_type(v)),
            ),
            None => self.err(
                t,
                ctx_pos,
                ctx,
                format!("wrong type for value; expected string; got {}", go_type(v)),
            ),
        }
    }

    fn eval_args_v(
        &mut self,
        t: &Arc<Tmpl>,
        dot: &Dot,
        args: &[Arg],
        fin: Option<V>,
    ) -> Result<Vec<V>> {
        let mut out = Vec::with_capacity(args.len() + 1);
        for a in args {
            out.push(self.eval_arg(t, dot, a)?);
        }
        if let Some(f) = fin {
            out.push(f);
        }
        Ok(out)
    }

    fn eval_args(
        &mut self,
        t: &Arc<Tmpl>,
        dot: &Dot,
        args: &[Arg],
        fin: Option<V>,
    ) -> Result<Vec<Value>> {
        let mut out = Vec::with_capacity(args.len() + 1);
        for a in args {
            out.push(arg_value(self.eval_arg(t, dot, a)?));
        }
        if let Some(f) = fin {
            out.push(arg_value(f));
        }
        Ok(out)
    }

    /// Helm's `include`: executes a named template into a string.
    fn include(&mut self, name: &str, data: Value) -> std::result::Result<String, String> {
        if !self.include_counts.contains_key(name) {
            self.include_counts.insert(name.to_string(), 0);
        }
        let Some(count) = self.include_counts.get_mut(name) else {
            return Err(format!(
                "template: no template {} associated with template",
                go_quote(name)
            ));
        };
        if *count > MAX_INCLUDE_NESTING {
            return Err(format!(
                "rendering template has a nested reference name: {name}: unable to execute template"
            ));
        }
        *count += 1;
        let mut buf = String::new();
        // A nested Execute starts at depth 0 in Go; only the stack bounds it.
        let saved_depth = std::mem::replace(&mut self.depth, 0);
        let r = if self.stack_exhausted() {
            Err(Error::Other(format!(
                "exceeded maximum template depth ({MAX_EXEC_DEPTH})"
            )))
        } else {
            self.exec_named(name, data, &mut buf)
        };
        self.depth = saved_depth;
        if let Some(c) = self.include_counts.get_mut(name) {
            *c -= 1;
        }
        r.map(|()| buf).map_err(|e| e.to_string())
    }

    /// Helm's `tpl`: parses `text` with the set's defines visible and runs it.
    /// Parsed texts are cached, so repeated `tpl` of the same string is cheap.
    fn tpl(&mut self, text: &str, data: Value) -> std::result::Result<String, String> {
        let cached = self
            .set
            .tpl_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(text)
            .cloned();
        let parsed = match cached {
            Some(p) => p,
            None => {
                let root = &self.set.root_name;
                let parsed = parse::parse(root, text, self.set)
                    .map_err(|e| format!("cannot parse template {}: {e}", go_quote(text)))?;
                let source = Arc::new(Source {
                    name: Arc::from(root.as_str()),
                    text: Arc::from(text),
                });
                let mut defines = HashMap::new();
                for (n, list) in parsed.defines {
                    if is_empty_tree(&list, text)
                        && (defines.contains_key(&n) || self.set.templates.contains_key(&n))
                    {
                        continue;
                    }
                    defines.insert(
                        n.clone(),
                        Arc::new(Tmpl {
                            name: Arc::from(n.as_str()),
                            src: source.clone(),
                            root: list.into(),
                        }),
                    );
                }
                let p = Arc::new(TplParsed {
                    main: Arc::new(Tmpl {
                        name: Arc::from(root.as_str()),
                        src: source,
                        root: parsed.root.into(),
                    }),
                    defines,
                });
                let mut cache = self.set.tpl_cache.lock().unwrap_or_else(|e| e.into_inner());
                if cache.len() > 10_000 {
                    cache.clear();
                }
                cache.insert(text.to_string(), p.clone());
                p
            }
        };
        let main = parsed.main.clone();
        self.overlays.push(parsed);
        let mut buf = String::new();
        // A nested Execute starts at depth 0 in Go; only the stack bounds it.
        let saved_depth = std::mem::replace(&mut self.depth, 0);
        let r = if self.stack_exhausted() {
            Err(Error::Other(format!(
                "exceeded maximum template depth ({MAX_EXEC_DEPTH})"
            )))
        } else {
            self.exec_tmpl(&main, Some(data), false, &mut buf)
        };
        self.depth = saved_depth;
        self.overlays.pop();
        match r {
            Ok(()) => Ok(buf.replace("<no value>", "")),
            Err(e) => Err(format!(
                "error during tpl function execution for {}: {e}",
                go_quote(text)
            )),
        }
    }
}

/// The node Go's state points at after evaluating a pipeline: the last
/// command's operand (its last argument when it is a function call).
fn range_context(p: &Pipe) -> &Arg {
    let cmd = &p.cmds[p.cmds.len() - 1];
    match &cmd.args[0] {
        Arg::Ident { .. } => &cmd.args[cmd.args.len() - 1],
        a => a,
    }
}

/// Go reports chain errors at the node evaluated last inside the chain's term.
fn chain_context(node: &Arg) -> &Arg {
    match node {
        Arg::Pipe(p) => range_context(p),
        n => n,
    }
}

/// An identifier used as an argument: its own string is the error context.
struct IdentCmd<'a>(&'a Arg);
impl Display for IdentCmd<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

fn vals(v: &[V]) -> Vec<Value> {
    v.iter().map(|x| x.clone().unwrap_or(Value::Nil)).collect()
}

/// Go's `evalArgs` for html/js/urlquery: a single string as is, else Sprint.
fn eval_args_string(v: &[V]) -> String {
    if let [Some(Value::String(s))] = v {
        return s.to_string();
    }
    gofmt::sprint(&vals(v))
}

fn builtin_len(v: &V) -> std::result::Result<V, String> {
    let n = match v {
        Some(Value::String(s)) => s.len(),
        Some(Value::List(l, _)) => l.len(),
        Some(Value::Bytes(b)) => b.len(),
        Some(Value::Map(m)) => m.len(),
        Some(Value::Object(o)) if o.map_entries().is_some() => {
            o.map_entries().map_or(0, |e| e.len())
        }
        Some(Value::Nil) => return Err("len of nil pointer".into()),
        None => return Err("reflect: call of reflect.Value.Type on zero Value".into()),
        Some(other) => return Err(format!("len of type {}", go_type(other))),
    };
    Ok(Some(Value::int(n as i64)))
}

/// Go's `call`: only function values can be called; arguments must fit the
/// signature exactly (no number conversion), nil only where Go allows nil.
fn builtin_call(callee: &str, f: &V, args: &[V]) -> std::result::Result<Value, String> {
    let func = match f {
        None | Some(Value::Nil) => return Err("call of nil".into()),
        Some(Value::Object(o)) => o.as_any().downcast_ref::<GoFunc>(),
        Some(_) => None,
    };
    let Some(func) = func else {
        let tn = f.as_ref().map(go_type).unwrap_or_default();
        return Err(format!("non-function {callee} of type {tn}"));
    };
    let params = func.params();
    let n = params.len();
    if func.is_variadic() {
        if args.len() + 1 < n {
            return Err(format!(
                "wrong number of args for {callee}: got {} want at least {}",
                args.len(),
                n - 1
            ));
        }
    } else if args.len() != n {
        return Err(format!(
            "wrong number of args for {callee}: got {} want {n}",
            args.len()
        ));
    }
    let mut argv = Vec::with_capacity(args.len());
    for (i, a) in args.iter().enumerate() {
        let want: &str = params.get(i).or(params.last()).map_or("", |p| p);
        match a {
            None | Some(Value::Nil) => {
                if !go_type_can_be_nil(want) {
                    return Err(format!("arg {i}: value is nil; should be of type {want}"));
                }
                argv.push(Value::Nil);
            }
            Some(v) => {
                let got = go_type(v);
                if want != "interface {}" && got != want {
                    return Err(format!("arg {i}: value has type {got}; should be {want}"));
                }
                argv.push(v.clone());
            }
        }
    }
    func.invoke(&argv).map_err(|e| e.0)
}

/// Whether a Go type (by name) has nil as a value.
fn go_type_can_be_nil(t: &str) -> bool {
    t == "interface {}"
        || t == "error"
        || ["*", "[]", "map[", "func(", "chan "]
            .iter()
            .any(|p| t.starts_with(p))
}

fn index_arg(idx: &V, cap: usize) -> std::result::Result<usize, String> {
    let x = match idx {
        Some(Value::Int(i, _)) => *i,
        None | Some(Value::Nil) => return Err("cannot index slice/array with nil".into()),
        Some(other) => {
            return Err(format!(
                "cannot index slice/array with type {}",
                go_type(other)
            ));
        }
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

fn builtin_index(item: &V, idx: &[V]) -> std::result::Result<V, String> {
    let mut item = match item {
        None | Some(Value::Nil) => return Err("index of untyped nil".into()),
        Some(v) => v.clone(),
    };
    for i in idx {
        item = match &item {
            Value::Nil => return Err("index of nil pointer".into()),
            Value::List(l, _) => {
                let x = index_arg(i, l.len())?;
                if x == l.len() {
                    return Err("reflect: slice index out of range".into());
                }
                l[x].clone()
            }
            Value::Bytes(b) => {
                let x = index_arg(i, b.len())?;
                if x == b.len() {
                    return Err("reflect: slice index out of range".into());
                }
                Value::Int(i64::from(b[x]), IntType::Uint8)
            }
            Value::String(s) => {
                let x = index_arg(i, s.len())?;
                if x == s.len() {
                    return Err("reflect: string index out of range".into());
                }
                Value::Int(i64::from(s.as_bytes()[x]), IntType::Uint8)
            }
            Value::Map(m) => match i {
                Some(Value::String(k)) => m.get(k).unwrap_or(Value::Nil),
                None | Some(Value::Nil) => {
                    return Err("value is nil; should be of type string".into());
                }
                Some(other) => {
                    return Err(format!(
                        "value has type {}; should be string",
                        go_type(other)
                    ));
                }
            },
            Value::Object(o) if o.map_entries().is_some() => match i {
                Some(Value::String(k)) => {
                    let entries = o.map_entries().unwrap_or_default();
                    match entries.into_iter().find(|(ek, _)| ek == k.as_ref()) {
                        Some((_, v)) => v,
                        None => o.map_zero(),
                    }
                }
                None | Some(Value::Nil) => {
                    return Err("value is nil; should be of type string".into());
                }
                Some(other) => {
                    return Err(format!(
                        "value has type {}; should be string",
                        go_type(other)
                    ));
                }
            },
            other => return Err(format!("can't index item of type {}", go_type(other))),
        };
    }
    Ok(Some(item))
}

fn builtin_slice(item: &V, idx: &[V]) -> std::result::Result<V, String> {
    let item = match item {
        None | Some(Value::Nil) => return Err("slice of untyped nil".into()),
        Some(v) => v,
    };
    if idx.len() > 3 {
        return Err(format!("too many slice indexes: {}", idx.len()));
    }
    let len = match item {
        Value::String(s) => {
            if idx.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            s.len()
        }
        Value::List(l, _) => l.len(),
        Value::Bytes(b) => b.len(),
        other => return Err(format!("can't slice item of type {}", go_type(other))),
    };
    let mut ix = [0usize, len, len];
    for (k, i) in idx.iter().enumerate() {
        ix[k] = index_arg(i, len)?;
    }
    if ix[0] > ix[1] {
        return Err(format!("invalid slice index: {} > {}", ix[0], ix[1]));
    }
    if idx.len() == 3 && ix[1] > ix[2] {
        return Err(format!("invalid slice index: {} > {}", ix[1], ix[2]));
    }
    Ok(Some(match item {
        Value::String(s) => match s.get(ix[0]..ix[1]) {
            Some(x) => Value::string(x),
            None => {
                Value::string(String::from_utf8_lossy(&s.as_bytes()[ix[0]..ix[1]]).into_owned())
            }
        },
        // a slice of a typed slice keeps its type
        Value::List(l, t) => Value::List(l[ix[0]..ix[1]].into(), *t),
        Value::Bytes(b) => Value::Bytes(b[ix[0]..ix[1]].into()),
        _ => Value::Nil,
    }))
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    Str,
}

fn basic_kind(v: &V) -> (Kind, bool) {
    match v {
        Some(Value::Bool(_)) => (Kind::Bool, true),
        Some(Value::Int(_, _)) => (Kind::Int, true),
        Some(Value::Float(_)) => (Kind::Float, true),
        Some(Value::String(_)) => (Kind::Str, true),
        _ => (Kind::Invalid, false),
    }
}

fn incompatible(x: &Value, y: &Value) -> String {
    format!(
        "incompatible types for comparison: {} and {}",
        go_type(x),
        go_type(y)
    )
}
const ERR_BAD_COMPARISON_TYPE: &str = "invalid type for comparison";

fn is_nilish(v: &V) -> bool {
    matches!(v, None | Some(Value::Nil))
}

fn builtin_eq(a: &V, rest: &[V]) -> std::result::Result<bool, String> {
    if rest.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let (k1, _) = basic_kind(a);
    for b in rest {
        let (k2, _) = basic_kind(b);
        let truth = if k1 != k2 {
            if let (Some(x), Some(y)) = (a, b)
                && !x.is_nil()
                && !y.is_nil()
            {
                return Err(incompatible(x, y));
            }
            false
        } else {
            match (a, b) {
                (Some(Value::Bool(x)), Some(Value::Bool(y))) => x == y,
                (Some(Value::Int(x, s)), Some(Value::Int(y, t))) => {
                    go_int(*x, *s) == go_int(*y, *t)
                }
                (Some(Value::Float(x)), Some(Value::Float(y))) => x == y,
                (Some(Value::String(x)), Some(Value::String(y))) => x == y,
                _ => {
                    if is_nilish(a) || is_nilish(b) {
                        is_nilish(a) == is_nilish(b)
                    } else {
                        match (a, b) {
                            (Some(Value::Object(x)), Some(Value::Object(y))) => Arc::ptr_eq(x, y),
                            (Some(x), Some(y)) => {
                                // Go's canCompare looks at kinds: []string
                                // and []interface {} are both slices
                                if x.kind() != y.kind() {
                                    return Err(format!(
                                        "non-comparable types {}: {}, {}: {}",
                                        gofmt::sprintf("%s", std::slice::from_ref(x)),
                                        go_type(x),
                                        go_type(y),
                                        gofmt::fmt_v(y)
                                    ));
                                }
                                return Err(format!(
                                    "non-comparable type {}: {}",
                                    gofmt::sprintf("%s", std::slice::from_ref(y)),
                                    go_type(y)
                                ));
                            }
                            _ => false,
                        }
                    }
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn builtin_lt(a: &V, b: &V) -> std::result::Result<bool, String> {
    let (k1, ok1) = basic_kind(a);
    if !ok1 {
        return Err(ERR_BAD_COMPARISON_TYPE.into());
    }
    let (k2, ok2) = basic_kind(b);
    if !ok2 {
        return Err(ERR_BAD_COMPARISON_TYPE.into());
    }
    if k1 != k2 {
        if let (Some(x), Some(y)) = (a, b) {
            return Err(incompatible(x, y));
        }
        return Err(ERR_BAD_COMPARISON_TYPE.into());
    }
    Ok(match (a, b) {
        (Some(Value::Int(x, s)), Some(Value::Int(y, t))) => go_int(*x, *s) < go_int(*y, *t),
        (Some(Value::Float(x)), Some(Value::Float(y))) => x < y,
        (Some(Value::String(x)), Some(Value::String(y))) => x < y,
        _ => return Err(ERR_BAD_COMPARISON_TYPE.into()),
    })
}

fn builtin_le(a: &V, b: &V) -> std::result::Result<bool, String> {
    let lt = builtin_lt(a, b)?;
    if lt {
        return Ok(true);
    }
    builtin_eq(a, std::slice::from_ref(b))
}

/// Go's `template.HTMLEscapeString`.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Go's `template.JSEscapeString`.
pub fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if (c as u32) < 0x80 => out.push(c),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> Templates {
        Templates::new(crate::golden_tests::test_funcs())
    }

    #[test]
    fn runaway_template_recursion_is_an_error_not_a_crash() {
        let mut t = set();
        t.parse(
            "r",
            r#"{{define "loop"}}{{template "loop" .}}{{end}}{{template "loop" .}}"#,
        )
        .expect("parse");
        let e = t.execute("r", &Value::Nil).expect_err("must fail");
        assert!(
            e.to_string()
                .ends_with("exceeded maximum template depth (100000)"),
            "{e}"
        );
        // A small budget on the caller's own thread stops early, also without crashing.
        let e = t
            .execute_with_budget("r", &Value::Nil, 256 << 10)
            .expect_err("must fail");
        assert!(
            e.to_string().contains("exceeded maximum template depth"),
            "{e}"
        );
    }

    #[test]
    fn a_text_parsed_again_under_another_name_keeps_that_name() {
        let mut t = set();
        let text = r#"{{define "d"}}<{{.}}>{{end}}{{template "d" 1}}{{index 1 2}}"#;
        t.parse("a", text).expect("parse a");
        t.parse("b", text).expect("parse b");
        assert!(t.has("d"));
        for name in ["a", "b"] {
            let e = t
                .execute(name, &Value::Nil)
                .expect_err("index of 1")
                .to_string();
            assert!(e.starts_with(&format!("template: {name}:1:")), "{e}");
        }
        t.parse("c", "{{template \"d\" 2}}").expect("parse c");
        assert_eq!(t.execute("c", &Value::Nil).expect("run c"), "<2>");
    }

    #[test]
    fn runaway_include_recursion_stops_at_helms_limit() {
        let mut t = set();
        t.parse(
            "r",
            r#"{{define "x"}}{{include "x" .}}{{end}}{{include "x" .}}"#,
        )
        .expect("parse");
        let e = t
            .execute("r", &Value::Nil)
            .expect_err("must fail")
            .to_string();
        assert!(
            e.ends_with("error calling include: rendering template has a nested reference name: x: unable to execute template"),
            "{}",
            &e[e.len().saturating_sub(300)..]
        );
    }

    #[test]
    fn later_parse_replaces_defines_unless_empty() {
        let mut t = set();
        t.parse(
            "a.tpl",
            r#"{{define "n"}}first{{end}}{{define "e"}}kept{{end}}"#,
        )
        .expect("parse");
        t.parse(
            "b.tpl",
            r#"{{define "n"}}second{{end}}{{define "e"}} {{end}}"#,
        )
        .expect("parse");
        t.parse("main", r#"{{template "n"}}-{{template "e"}}"#)
            .expect("parse");
        assert_eq!(t.execute("main", &Value::Nil).expect("exec"), "second-kept");
        assert!(t.has("n") && t.has("a.tpl") && !t.has("zzz"));
    }

    #[test]
    fn unknown_template_error_names_the_root_like_helm() {
        let t = set();
        let e = t.execute("nope", &Value::Nil).expect_err("must fail");
        assert_eq!(
            e.to_string(),
            r#"template: no template "nope" associated with template "gotpl""#
        );
    }

    #[test]
    fn tpl_defines_stay_local_and_cached_texts_see_new_data() {
        let mut t = set();
        t.parse(
            "main",
            r#"{{ tpl "{{define \"loc\"}}L{{.}}{{end}}{{include \"loc\" .}}" 1 }}{{ tpl "{{define \"loc\"}}L{{.}}{{end}}{{include \"loc\" .}}" 2 }}"#,
        )
        .expect("parse");
        assert_eq!(t.execute("main", &Value::Nil).expect("exec"), "L1L2");
        assert!(!t.has("loc"));
    }

    #[test]
    fn objects_expose_fields_and_methods_with_arguments() {
        struct Caps;
        impl crate::Object for Caps {
            fn type_name(&self) -> &str {
                "*chartutil.Capabilities"
            }
            fn field(&self, name: &str) -> Option<Value> {
                (name == "Version").then(|| Value::string("v1.30.0"))
            }
            fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, crate::FuncError>> {
                (name == "Has").then(|| match args {
                    [Value::String(s)] => Ok(Value::Bool(s.as_ref() == "apps/v1")),
                    _ => Err(crate::FuncError::new(
                        "wrong number of args for Has: want 1 got 0",
                    )),
                })
            }
            fn fmt_go(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("&{v1.30.0}")
            }
            fn as_any(&self) -> &dyn std::any::Any {
                self
            }
        }
        let data = Value::map([("Caps".to_string(), Value::Object(Arc::new(Caps)))]);
        let mut t = set();
        t.parse(
            "m",
            r#"{{ .Caps.Version }} {{ .Caps.Has "apps/v1" }} {{ "x/v1" | .Caps.Has }} {{ .Caps.Nope }}"#,
        )
        .expect("parse");
        let e = t.execute("m", &data).expect_err("Nope is no field");
        assert_eq!(
            e.to_string(),
            r#"template: m:1:79: executing "m" at <.Caps.Nope>: can't evaluate field Nope in type *chartutil.Capabilities"#
        );
        t.parse(
            "ok",
            r#"{{ .Caps.Version }} {{ .Caps.Has "apps/v1" }} {{ "x/v1" | .Caps.Has }}"#,
        )
        .expect("parse");
        assert_eq!(t.execute("ok", &data).expect("exec"), "v1.30.0 true false");
    }
}

#[cfg(test)]
mod map_object_tests {
    use super::*;

    /// A Go map type with methods, like Helm's `files` (`map[string][]byte`).
    struct Files(Vec<(String, Value)>);
    impl crate::Object for Files {
        fn type_name(&self) -> &str {
            "engine.files"
        }
        fn field(&self, _name: &str) -> Option<Value> {
            None
        }
        fn map_entries(&self) -> Option<Vec<(String, Value)>> {
            Some(self.0.clone())
        }
        fn map_zero(&self) -> Value {
            Value::Bytes(Arc::from(&[][..]))
        }
        fn fmt_go(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("map[]")
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }

    #[test]
    fn map_objects_range_len_index_and_test_like_go_maps() {
        let full = Files(vec![
            ("a".into(), Value::Bytes(Arc::from(&b"x"[..]))),
            ("b".into(), Value::Bytes(Arc::from(&b"yz"[..]))),
        ]);
        let data = Value::map([
            ("f".to_string(), Value::Object(Arc::new(full))),
            ("e".to_string(), Value::Object(Arc::new(Files(Vec::new())))),
        ]);
        let mut t = Templates::new(FuncMap::default());
        t.parse(
            "m",
            r#"{{ range $k, $v := .f }}{{ $k }}={{ $v }};{{ end }}{{ len .f }} {{ index .f "b" }} {{ index .f "zz" }} {{ if .e }}y{{ else }}n{{ end }}{{ range .e }}x{{ else }}-{{ end }}{{ if .f }}Y{{ end }}"#,
        )
        .expect("parse");
        assert_eq!(
            t.execute("m", &data).expect("exec"),
            "a=[120];b=[121 122];2 [121 122] [] n-Y"
        );
    }
}

#[cfg(test)]
mod origin_tests {
    use super::*;

    #[test]
    fn functions_can_tell_invalid_from_nil_and_literals() {
        let mut f = FuncMap::default();
        f.insert(
            "origins".into(),
            Arc::new(|a: &[Value]| {
                let s: Vec<String> = (0..a.len())
                    .map(|i| format!("{:?}", arg_origin(i)))
                    .collect();
                Ok(Value::string(s.join(",")))
            }) as crate::Func,
        );
        let mut t = Templates::new(f);
        t.set_missing_key(MissingKey::Zero);
        t.parse(
            "o",
            r#"{{ $x := .missing }}{{ origins 1 .missing $x .s (.missing) }}|{{ .s | origins }}"#,
        )
        .expect("parse");
        let data = Value::map([("s".to_string(), Value::string("v"))]);
        assert_eq!(
            t.execute("o", &data).expect("exec"),
            "Literal,Nil,Invalid,Value,Invalid|Value"
        );
        assert_eq!(arg_origin(0), ArgOrigin::Value);
    }
}
