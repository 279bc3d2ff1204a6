//! Sprig's template functions as Helm 3 registers them (`sprig.TxtFuncMap()`
//! minus `env`/`expandenv`) plus Helm's own plain functions, with Sprig's
//! argument conversions, return types and errors.
//!
//! Go's template engine checks typed parameters before calling a function
//! (`wrong type for value; expected string; got int`); our functions are
//! untyped, so each one performs the same check on its arguments. Functions
//! that panic in Go return the panic message as an error, as Go's template
//! engine reports a recovered panic.

#![forbid(unsafe_code)]

use std::sync::Arc;

use ferroflux_gotemplate::{Func, FuncError, FuncMap, Value};

mod conv;
mod crypto;
mod data;
mod dates;
mod defaults;
mod dicts;
mod encoding;
mod fmtv;
mod lists;
mod math;
mod paths;
mod regexfns;
mod semver;
mod strings;
mod tomlfns;
mod url;

pub use conv::{deep_equal, empty, strval, to_float64, to_int64};
pub use crypto::Certificate;
pub use dates::GoTime;
pub use fmtv::sprint_v;

/// Helm wraps the messages of `required` and `fail` in these markers and
/// strips everything around them when it reports the execution error.
pub const HELM_ERR_START: &str = "HELM_ERR_START";
pub const HELM_ERR_END: &str = "HELM_ERR_END";

/// How the Helm engine configures the function set.
#[derive(Clone, Default)]
pub struct Options {
    /// Kubernetes-backed `lookup`; `None` returns an empty map as
    /// `helm template` does.
    pub lookup: Option<Func>,
    /// `getHostByName` resolves only when enabled (Helm's `--enable-dns`).
    pub allow_dns: bool,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("lookup", &self.lookup.is_some())
            .field("allow_dns", &self.allow_dns)
            .finish()
    }
}

/// How many arguments a function takes, checked with Go's message.
#[derive(Clone, Copy)]
pub(crate) enum Arity {
    Exact(usize),
    AtLeast(usize),
}

/// Registration with Go's argument-count check in front of each function.
pub(crate) struct Reg<'a>(&'a mut FuncMap);

impl Reg<'_> {
    pub(crate) fn add<F>(&mut self, name: &'static str, arity: Arity, f: F)
    where
        F: Fn(&[Value]) -> Result<Value, FuncError> + Send + Sync + 'static,
    {
        let func: Func = Arc::new(move |args: &[Value]| {
            match arity {
                Arity::Exact(n) if args.len() != n => {
                    return Err(FuncError::new(format!(
                        "wrong number of args for {name}: want {n} got {}",
                        args.len()
                    )));
                }
                Arity::AtLeast(n) if args.len() < n => {
                    return Err(FuncError::new(format!(
                        "wrong number of args for {name}: want at least {n} got {}",
                        args.len()
                    )));
                }
                _ => {}
            }
            f(args)
        });
        self.0.insert(name.to_string(), func);
    }

    pub(crate) fn alias(&mut self, name: &'static str, to: &str) {
        if let Some(f) = self.0.get(to).cloned() {
            self.0.insert(name.to_string(), f);
        }
    }
}

/// Every function Helm's engine registers, except `include` and `tpl` which
/// need the template set.
pub fn funcs(opts: &Options) -> FuncMap {
    let mut map = FuncMap::new();
    let mut r = Reg(&mut map);
    strings::register(&mut r);
    lists::register(&mut r);
    dicts::register(&mut r);
    math::register(&mut r);
    defaults::register(&mut r);
    regexfns::register(&mut r);
    encoding::register(&mut r);
    paths::register(&mut r);
    dates::register(&mut r);
    url::register(&mut r);
    semver::register(&mut r);
    tomlfns::register(&mut r);
    crypto::register(&mut r);
    data::register(&mut r);
    let lookup = opts.lookup.clone();
    r.add("lookup", Arity::Exact(4), move |a| {
        for v in a {
            conv::str_arg(v)?;
        }
        match &lookup {
            Some(f) => f(a),
            None => Ok(Value::Map(ferroflux_gotemplate::Dict::new())),
        }
    });
    let allow_dns = opts.allow_dns;
    r.add("getHostByName", Arity::Exact(1), move |a| {
        let name = conv::str_arg(&a[0])?;
        if !allow_dns {
            return Ok(Value::from(""));
        }
        resolve_host(name)
    });
    map
}

/// Sprig's `getHostByName`: one of the host's addresses, picked at random.
fn resolve_host(name: &str) -> Result<Value, FuncError> {
    use rand::seq::SliceRandom;
    use std::net::ToSocketAddrs;
    let addrs: Vec<String> = (name, 0)
        .to_socket_addrs()
        .map(|it| it.map(|a| a.ip().to_string()).collect())
        .unwrap_or_default();
    addrs
        .choose(&mut rand::thread_rng())
        .map(|a| Value::from(a.as_str()))
        .ok_or_else(|| FuncError::new("invalid argument to Intn"))
}

#[cfg(test)]
pub(crate) mod testutil {
    use super::*;

    /// Calls a registered function.
    pub fn call(name: &str, args: &[Value]) -> Result<Value, FuncError> {
        let fm = funcs(&Options::default());
        let f = fm
            .get(name)
            .unwrap_or_else(|| panic!("function {name} not registered"));
        f(args)
    }

    /// Calls and prints the result as Go's template output would (`%v`).
    pub fn out(name: &str, args: &[Value]) -> String {
        match call(name, args) {
            Ok(v) => sprint_v(&v),
            Err(e) => format!("ERR {e}"),
        }
    }

    pub fn s(x: &str) -> Value {
        Value::string(x)
    }

    pub fn i(x: i64) -> Value {
        Value::Int(x)
    }

    pub fn f(x: f64) -> Value {
        Value::Float(x)
    }

    #[allow(dead_code)]
    pub fn l(items: &[Value]) -> Value {
        Value::list(items.iter().cloned())
    }

    pub fn d(entries: &[(&str, Value)]) -> Value {
        Value::map(entries.iter().map(|(k, v)| (k.to_string(), v.clone())))
    }
}
