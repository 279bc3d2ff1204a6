//! The dynamic value every template sees: what `interface{}` is to Go's engine.
//!
//! Go maps are references: Sprig's `set`, `unset` and `merge` mutate a dict in
//! place and every holder sees the change (charts rely on `$_ := set $ "k" v`).
//! [`Dict`] therefore shares its storage; lists are immutable as Go code never
//! mutates a slice through a template.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// A template value. Numbers keep Go's distinction: YAML/JSON values decoded as
/// Helm decodes them are `Float` (float64), `--set` integers and results of
/// integer functions are `Int`.
#[derive(Clone)]
pub enum Value {
    /// Go's untyped nil (missing map key, nil interface).
    Nil,
    Bool(bool),
    /// A Go integer and its type: template literals, `len` and `atoi` give
    /// `int`, Sprig's arithmetic and `--set` give `int64`, bytes are `uint8`.
    /// An unsigned value keeps its bits: a `uint64` above `i64::MAX` (a
    /// semver's `.Major`) is a negative `i64` here, read back through
    /// [`go_int`] or [`GoInt`]; Sprig's casts to `int64` wrap it as Go does.
    Int(i64, IntType),
    Float(f64),
    String(Arc<str>),
    /// A Go `[]byte` (e.g. `.Files.GetBytes`); prints like a slice of numbers.
    Bytes(Arc<[u8]>),
    /// A Go slice and its element type: `[]interface {}` for data and most
    /// Sprig lists, `[]int` from `until`, `[]string` from `splitList`.
    /// Go shows the type (`%T`, `%#v`, `typeOf`) and `reflect.DeepEqual`
    /// compares it; elements are the same values either way.
    List(Arc<[Value]>, ElemType),
    /// `map[string]interface{}`, shared by reference like a Go map.
    Map(Dict),
    /// A Go struct or pointer with fields and methods (`.Files`, `.Capabilities`,
    /// `time.Time`, a semver version, a generated certificate).
    Object(Arc<dyn Object>),
}

/// Go's integer types. Values keep theirs because Go shows it (`%T`,
/// `typeOf`, `kindOf`) and `reflect.DeepEqual` (Sprig's `has`, `uniq`)
/// compares it; arithmetic and comparisons ignore it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum IntType {
    #[default]
    Int,
    Int8,
    Int16,
    Int32,
    Int64,
    Uint,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
}

impl IntType {
    /// Unsigned types read the stored `i64` as `u64`.
    pub fn is_unsigned(self) -> bool {
        matches!(
            self,
            IntType::Uint | IntType::Uint8 | IntType::Uint16 | IntType::Uint32 | IntType::Uint64
        )
    }

    /// The Go type name (`%T`) and `reflect.Kind` name, which coincide.
    pub fn go_name(self) -> &'static str {
        match self {
            IntType::Int => "int",
            IntType::Int8 => "int8",
            IntType::Int16 => "int16",
            IntType::Int32 => "int32",
            IntType::Int64 => "int64",
            IntType::Uint => "uint",
            IntType::Uint8 => "uint8",
            IntType::Uint16 => "uint16",
            IntType::Uint32 => "uint32",
            IntType::Uint64 => "uint64",
        }
    }
}

/// The exact value of a Go integer as [`Value::Int`] stores it: unsigned
/// types read their bits as `u64`. Comparisons (`eq`, `lt`) use it, as Go
/// compares a signed and an unsigned integer by value.
pub fn go_int(i: i64, t: IntType) -> i128 {
    if t.is_unsigned() {
        i128::from(i as u64)
    } else {
        i128::from(i)
    }
}

/// A Go integer in decimal, as `%v`, `toJson` and `toYaml` print it.
#[derive(Clone, Copy)]
pub struct GoInt(pub i64, pub IntType);

impl fmt::Display for GoInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 < 0 && self.1.is_unsigned() {
            fmt::Display::fmt(&(self.0 as u64), f)
        } else {
            fmt::Display::fmt(&self.0, f)
        }
    }
}

/// The element type of a [`Value::List`]. Only the slice types Sprig and
/// Helm hand to templates exist; their elements are held as plain values
/// (an `Int` list's items are `Value::Int(_, IntType::Int)`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ElemType {
    /// `[]interface {}`.
    #[default]
    Any,
    /// `[]int` (`until`, `untilStep`).
    Int,
    /// `[]string` (`splitList`, `keys`, `sortAlpha`, `toStrings`, `regexSplit`).
    String,
    /// `[][]interface {}` (`chunk`).
    AnySlice,
}

impl ElemType {
    /// Go's name of a slice of this element type (`%T`).
    pub fn slice_name(self) -> &'static str {
        match self {
            ElemType::Any => "[]interface {}",
            ElemType::Int => "[]int",
            ElemType::String => "[]string",
            ElemType::AnySlice => "[][]interface {}",
        }
    }
}

/// A Go struct-like value: fields, methods, and how `%v` prints it.
pub trait Object: Send + Sync {
    /// Go's `%T` name, e.g. `time.Time`, `*semver.Version`, `chart.Files`.
    fn type_name(&self) -> &str;
    /// A field or a method without arguments (`.Major`, `.Cert`, `.Name`).
    fn field(&self, name: &str) -> Option<Value>;
    /// A method call with arguments (`.Files.Get "a"`, `.APIVersions.Has "v1"`).
    /// `None` when there is no such method.
    fn call(&self, _name: &str, _args: &[Value]) -> Option<Result<Value, FuncError>> {
        None
    }
    /// For a Go map type with methods (Helm's `files`, a `map[string][]byte`):
    /// its entries sorted by key, which `range`, `len`, `index` and truthiness
    /// (empty is false) use as for a map. `None` for structs and pointers.
    fn map_entries(&self) -> Option<Vec<(String, Value)>> {
        None
    }
    /// For a map type: its element type's zero value (what `index` yields for
    /// a missing key).
    fn map_zero(&self) -> Value {
        Value::Nil
    }
    /// How Go's `%v` prints it.
    fn fmt_go(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    /// The plain-data view used by `toYaml`, `toJson`, `deepCopy` (what Go's
    /// encoders would see through the struct tags), if any.
    fn to_data(&self) -> Option<Value> {
        None
    }
    /// For downcasting (date functions take `time.Time`).
    fn as_any(&self) -> &dyn Any;
}

/// A Go function value, such as a `func` stored in a map or returned by a
/// method. Templates cannot call it directly (`.f 1` is an error in Go); only
/// the `call` builtin invokes it, after checking the arguments against the
/// signature as Go's reflection does.
pub struct GoFunc {
    params: Vec<Arc<str>>,
    variadic: bool,
    /// `%T`, e.g. `func(string, ...string) string`.
    type_name: String,
    f: Func,
}

impl GoFunc {
    /// `params` are Go type names (`int`, `string`, `interface {}`); with
    /// `variadic` the last one is the element type of `...T`. `results` is
    /// how `%T` shows the results: `""`, `int`, `(string, error)`.
    pub fn new(params: &[&str], variadic: bool, results: &str, f: Func) -> Self {
        let n = params.len();
        let shown: Vec<String> = params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                if variadic && i + 1 == n {
                    format!("...{p}")
                } else {
                    (*p).to_string()
                }
            })
            .collect();
        let mut type_name = format!("func({})", shown.join(", "));
        if !results.is_empty() {
            type_name.push(' ');
            type_name.push_str(results);
        }
        Self {
            params: params.iter().map(|p| Arc::from(*p)).collect(),
            variadic,
            type_name,
            f,
        }
    }

    /// A function value as a template [`Value`].
    pub fn into_value(self) -> Value {
        Value::Object(Arc::new(self))
    }

    pub fn params(&self) -> &[Arc<str>] {
        &self.params
    }

    pub fn is_variadic(&self) -> bool {
        self.variadic
    }

    /// Runs the function; arguments must already fit the signature.
    pub fn invoke(&self, args: &[Value]) -> Result<Value, FuncError> {
        (self.f)(args)
    }
}

impl Object for GoFunc {
    fn type_name(&self) -> &str {
        &self.type_name
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    /// Go prints a function's address; ours has none, so a fixed one stands in.
    fn fmt_go(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("0x0")
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A shared, mutable `map[string]interface{}`. Keys iterate sorted, as Go's
/// templates, `fmt` and encoders all visit map keys in sorted order.
#[derive(Clone, Default)]
pub struct Dict(Arc<RwLock<BTreeMap<String, Value>>>);

impl Dict {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn from_map(map: BTreeMap<String, Value>) -> Self {
        Self(Arc::new(RwLock::new(map)))
    }

    /// Read access; a poisoned lock still yields the data (templates do not panic).
    pub fn read(&self) -> RwLockReadGuard<'_, BTreeMap<String, Value>> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, BTreeMap<String, Value>> {
        self.0.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, key: &str) -> Option<Value> {
        self.read().get(key).cloned()
    }

    pub fn insert(&self, key: impl Into<String>, value: Value) {
        self.write().insert(key.into(), value);
    }

    pub fn remove(&self, key: &str) -> Option<Value> {
        self.write().remove(key)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.read().contains_key(key)
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// Sorted keys, copied out so the caller may mutate while iterating.
    pub fn keys(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }

    /// A shallow copy of the entries (values still share nested dicts).
    pub fn snapshot(&self) -> BTreeMap<String, Value> {
        self.read().clone()
    }

    /// Whether both handles are the same Go map.
    pub fn ptr_eq(&self, other: &Dict) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// An error returned by a template function; the executor wraps it with the
/// template name, position and `error calling NAME:` as Go does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FuncError(pub String);

impl FuncError {
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

/// A template function. Plain functions only: `include` and `tpl`, which need
/// the template set, are provided by the executor itself.
pub type Func = Arc<dyn Fn(&[Value]) -> Result<Value, FuncError> + Send + Sync>;

/// Named functions available to a template set.
pub type FuncMap = FastMap<String, Func>;

/// A `HashMap` with a cheap multiplicative hash for the short names the engine looks up
/// (functions, templates, identifiers). The keys come from charts, not from an adversary
/// who could flood a bucket, and SipHash was several percent of a render.
pub type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FastHasher>>;

/// The hasher of [`FastMap`] (FxHash's mixing step over 8-byte words).
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

impl FastHasher {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl Value {
    /// A Go `int`.
    pub fn int(i: i64) -> Self {
        Value::Int(i, IntType::Int)
    }

    /// A Go `int64`.
    pub fn int64(i: i64) -> Self {
        Value::Int(i, IntType::Int64)
    }

    pub fn string(s: impl Into<Arc<str>>) -> Self {
        Value::String(s.into())
    }

    /// A `[]interface {}`.
    pub fn list(items: impl IntoIterator<Item = Value>) -> Self {
        Value::List(items.into_iter().collect(), ElemType::Any)
    }

    /// A typed slice; `items` must be values of `elem`.
    pub fn typed_list(items: impl IntoIterator<Item = Value>, elem: ElemType) -> Self {
        Value::List(items.into_iter().collect(), elem)
    }

    pub fn map(entries: impl IntoIterator<Item = (String, Value)>) -> Self {
        Value::Map(Dict::from_map(entries.into_iter().collect()))
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// Go's template truthiness (`if`, `and`, `or`, `not`).
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i, _) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(l, _) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Object(o) => o.map_entries().is_none_or(|e| !e.is_empty()),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Go's `reflect.Kind` name as Sprig's `kindOf` reports it.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_, t) => t.go_name(),
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::Bytes(_) | Value::List(..) => "slice",
            Value::Map(_) => "map",
            Value::Object(_) => "ptr",
        }
    }

    /// Decodes JSON the way Go's `encoding/json` does into `interface{}`:
    /// every number becomes float64.
    pub fn from_json(v: &serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
            serde_json::Value::String(s) => Value::string(s.as_str()),
            serde_json::Value::Array(a) => Value::list(a.iter().map(Value::from_json)),
            serde_json::Value::Object(o) => {
                Value::map(o.iter().map(|(k, v)| (k.clone(), Value::from_json(v))))
            }
        }
    }

    /// The plain-data JSON view (objects through [`Object::to_data`], bytes as
    /// numbers). A dict that contains itself is cut off as `null` there.
    pub fn to_json(&self) -> serde_json::Value {
        self.to_json_in(&mut Vec::new())
    }

    fn to_json_in(&self, path: &mut Vec<Dict>) -> serde_json::Value {
        match self {
            Value::Nil => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i, t) if *i < 0 && t.is_unsigned() => serde_json::Value::from(*i as u64),
            Value::Int(i, _) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::Bytes(b) => serde_json::Value::Array(b.iter().map(|x| (*x).into()).collect()),
            Value::List(l, _) => {
                serde_json::Value::Array(l.iter().map(|x| x.to_json_in(path)).collect())
            }
            Value::Map(m) => {
                if path.iter().any(|d| d.ptr_eq(m)) {
                    return serde_json::Value::Null;
                }
                path.push(m.clone());
                let obj = m
                    .read()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json_in(path)))
                    .collect();
                path.pop();
                serde_json::Value::Object(obj)
            }
            Value::Object(o) => o
                .to_data()
                .map(|d| d.to_json_in(path))
                .unwrap_or(serde_json::Value::Null),
        }
    }
}

thread_local! {
    /// Dicts being printed by `Debug`, to cut cycles.
    static DEBUG_PATH: std::cell::RefCell<Vec<Dict>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("Nil"),
            Value::Bool(b) => write!(f, "Bool({b})"),
            Value::Int(i, IntType::Int) => write!(f, "Int({i})"),
            Value::Int(i, t) => write!(f, "Int({}, {})", GoInt(*i, *t), t.go_name()),
            Value::Float(x) => write!(f, "Float({x:?})"),
            Value::String(s) => write!(f, "String({s:?})"),
            Value::Bytes(b) => write!(f, "Bytes({b:?})"),
            Value::List(l, ElemType::Any) => f.debug_list().entries(l.iter()).finish(),
            Value::List(l, t) => {
                f.write_str(t.slice_name())?;
                f.debug_list().entries(l.iter()).finish()
            }
            Value::Map(m) => {
                let cyclic = DEBUG_PATH.with(|p| p.borrow().iter().any(|d| d.ptr_eq(m)));
                if cyclic {
                    return f.write_str("<cycle>");
                }
                DEBUG_PATH.with(|p| p.borrow_mut().push(m.clone()));
                let r = f.debug_map().entries(m.snapshot().iter()).finish();
                DEBUG_PATH.with(|p| p.borrow_mut().pop());
                r
            }
            Value::Object(o) => {
                write!(f, "Object({}: ", o.type_name())?;
                o.fmt_go(f)?;
                f.write_str(")")
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::string(s)
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::string(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
/// An `i64` is Go's `int64`; use [`Value::int`] for Go's `int`.
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::int64(i)
    }
}
impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Float(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dicts_are_shared_like_go_maps() {
        let a = Dict::new();
        let b = a.clone();
        b.insert("k", Value::int(1));
        assert!(matches!(a.get("k"), Some(Value::Int(1, _))));
        assert!(a.ptr_eq(&b));
    }

    #[test]
    fn json_numbers_decode_as_float64_like_go() {
        let v = Value::from_json(&serde_json::json!({"n": 1}));
        let Value::Map(m) = v else {
            panic!("map expected")
        };
        assert!(matches!(m.get("n"), Some(Value::Float(x)) if x == 1.0));
    }

    #[test]
    fn self_containing_dicts_debug_and_convert_without_crashing() {
        let d = Dict::new();
        d.insert("me", Value::Map(d.clone()));
        let v = Value::Map(d.clone());
        assert_eq!(format!("{v:?}"), r#"{"me": <cycle>}"#);
        assert_eq!(v.to_json(), serde_json::json!({"me": null}));
        d.remove("me");
    }

    #[test]
    fn values_stay_three_words_with_typed_lists() {
        // the element type sits beside the enum tag, not in a fourth word
        assert_eq!(std::mem::size_of::<Value>(), 24);
    }

    #[test]
    fn unsigned_values_above_i64_read_back_as_u64() {
        assert_eq!(go_int(-1, IntType::Uint64), i128::from(u64::MAX));
        assert_eq!(go_int(-1, IntType::Int64), -1);
        assert_eq!(
            GoInt(i64::MIN, IntType::Uint64).to_string(),
            "9223372036854775808"
        );
        assert_eq!(
            Value::Int(-1, IntType::Uint64).to_json(),
            serde_json::json!(u64::MAX)
        );
    }

    #[test]
    fn truthiness_follows_go() {
        assert!(!Value::Nil.truthy());
        assert!(!Value::string("").truthy());
        assert!(!Value::Float(0.0).truthy());
        assert!(Value::list([Value::Nil]).truthy());
        assert!(!Value::Map(Dict::new()).truthy());
    }
}
