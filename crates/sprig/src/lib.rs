//! Sprig's template functions as Helm 3 registers them (`sprig.TxtFuncMap()`
//! minus `env`/`expandenv`) plus Helm's own plain functions, with Sprig's
//! argument conversions, return types and errors.
//!
//! Go's template engine checks typed parameters before calling a function
//! (`wrong type for value; expected string; got int`); our functions are
//! untyped, so each checks its arguments against its Go [`signature`] first.
//! Functions that panic in Go return the panic message as an error, as Go's
//! template engine reports a recovered panic.
//!
//! For the chart renderer: `include` and `tpl` come from the executor;
//! `required` and `fail` wrap their message in [`HELM_ERR_START`] /
//! [`HELM_ERR_END`] like Helm, whose error cleanup keeps only that part;
//! `lookup` returns an empty map unless [`Options::lookup`] is set.
//!
//! Known limits of the shared value model: typed maps are
//! `map[string]interface {}` (`typeOf (split "," "a")` is
//! `map[string]string` in Go); a literal
//! `nil` cannot be told from a missing key (`get nil "k"` errors like
//! `get .Values.missing "k"`); strings are UTF-8, so cutting inside a
//! multi-byte character (`trunc`, `substr`) yields U+FFFD where Go yields
//! raw bytes.

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
mod montgomery;
mod paths;
mod regexfns;
mod rsagen;
mod semver;
mod signature;
mod strings;
mod tomlfns;
mod url;

pub use conv::{deep_equal, empty, strval, to_float64, to_int64};
pub use crypto::Certificate;
pub use dates::GoTime;
pub use fmtv::sprint_v;
/// Timing entry points for `examples/rsagen_bench.rs`; not an API.
#[doc(hidden)]
pub use rsagen::bench as rsagen_bench;
pub use semver::SemverVersion;
pub use signature::{GoType, Signature, signature};

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
        // Go checks every argument against the signature before the call
        let sig = signature::signature(name);
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
            if let Some(sig) = &sig {
                let mut zeroed: Option<Vec<Value>> = None;
                for (i, a) in args.iter().enumerate() {
                    if let Some(t) = sig.param(i)
                        && !t.accepts_arg(a)
                    {
                        // Go passes a nil map for a literal `nil` and for a
                        // missing value that went through a variable or
                        // pipeline (`hasKey $x "k"`); only a nil read straight
                        // from a map (missingkey=zero) is a type error.
                        if t == signature::GoType::Map
                            && a.is_nil()
                            && matches!(
                                ferroflux_gotemplate::arg_origin(i),
                                ferroflux_gotemplate::ArgOrigin::Invalid
                                    | ferroflux_gotemplate::ArgOrigin::Literal
                            )
                        {
                            zeroed.get_or_insert_with(|| args.to_vec())[i] =
                                Value::Map(ferroflux_gotemplate::Dict::new());
                            continue;
                        }
                        ferroflux_gotemplate::report_bad_arg(i, t.go_name());
                        return Err(conv::wrong_type(t.go_name(), a));
                    }
                }
                if let Some(args) = zeroed {
                    return f(&args);
                }
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
    let mut map = FuncMap::default();
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
        Value::int(x)
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

#[cfg(test)]
mod shape_tests {
    //! Functions whose output is random or time-based by design: their shape
    //! follows Sprig's.
    use super::testutil::*;
    use super::*;

    #[test]
    fn random_strings_have_the_requested_length_and_alphabet() {
        type Check = fn(char) -> bool;
        let cases: [(&str, Check); 4] = [
            ("randAlphaNum", |c| c.is_ascii_alphanumeric()),
            ("randAlpha", |c| c.is_ascii_alphabetic()),
            ("randNumeric", |c| c.is_ascii_digit()),
            ("randAscii", |c| (' '..='~').contains(&c)),
        ];
        for (name, ok) in cases {
            let s = out(name, &[i(64)]);
            assert_eq!(s.len(), 64, "{name}");
            assert!(s.chars().all(ok), "{name}: {s}");
            assert_eq!(out(name, &[i(0)]), "", "{name}");
            assert_ne!(out(name, &[i(32)]), out(name, &[i(32)]), "{name} repeats");
        }
    }

    #[test]
    fn uuid_shuffle_rand_int_and_rand_bytes_are_well_formed() {
        let u = out("uuidv4", &[]);
        let re = regex::Regex::new(
            "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
        )
        .unwrap();
        assert!(re.is_match(&u), "{u}");
        let mut a: Vec<char> = out("shuffle", &[s("abcdefgh")]).chars().collect();
        a.sort_unstable();
        assert_eq!(a.into_iter().collect::<String>(), "abcdefgh");
        for _ in 0..100 {
            let Ok(Value::Int(n, _)) = call("randInt", &[i(5), i(8)]) else {
                panic!("int")
            };
            assert!((5..8).contains(&n));
        }
        use base64::Engine;
        let b = out("randBytes", &[i(24)]);
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(b)
                .unwrap()
                .len(),
            24
        );
    }

    #[test]
    fn now_and_relative_dates_follow_the_clock() {
        let year = jiff::Zoned::now().year().to_string();
        let now = call("now", &[]).unwrap();
        let one = std::slice::from_ref(&now);
        assert_eq!(out("date", &[s("2006"), now.clone()]), year);
        assert_eq!(out("typeOf", one), "time.Time");
        // Go's Time.String() of time.Now(), monotonic reading included
        let printed = out("toString", one);
        let re = regex::Regex::new(
            r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [+-]\d{4} \S+ m=\+\d+\.\d{9}$",
        )
        .unwrap();
        assert!(re.is_match(&printed), "{printed}");
        let epoch: i64 = out("unixEpoch", one).parse().unwrap();
        assert!((jiff::Timestamp::now().as_second() - epoch).abs() < 5);
        let ago = out("ago", one);
        assert!(ago == "0s" || ago == "1s", "{ago}");
        let hour_ago = call("dateModify", &[s("-1h"), now.clone()]).unwrap();
        let ago = out("ago", std::slice::from_ref(&hour_ago));
        assert!(ago == "1h0m0s" || ago == "1h0m1s", "{ago}");
        assert_eq!(out("durationRound", &[hour_ago]), "1h");
        let ago = out("ago", &[i(jiff::Timestamp::now().as_second() - 90)]);
        assert!(["1m30s", "1m31s", "1m32s"].contains(&ago.as_str()), "{ago}");
    }

    #[test]
    fn bcrypt_hashes_verify() {
        let h = out("bcrypt", &[s("secret")]);
        assert!(h.starts_with("$2a$10$") && h.len() == 60, "{h}");
        assert!(bcrypt::verify("secret", &h).unwrap());
    }

    #[test]
    fn lookup_and_dns_follow_options() {
        assert_eq!(
            out("lookup", &[s("v1"), s("Pod"), s("ns"), s("x")]),
            "map[]"
        );
        assert_eq!(out("getHostByName", &[s("localhost")]), "");
        let hook: Func =
            Arc::new(|a: &[Value]| Ok(Value::map([("kind".to_string(), a[1].clone())])));
        let fm = funcs(&Options {
            lookup: Some(hook),
            allow_dns: true,
        });
        let v = fm["lookup"](&[s("v1"), s("Pod"), s(""), s("")]).unwrap();
        assert_eq!(sprint_v(&v), "map[kind:Pod]");
        let ip = fm["getHostByName"](&[s("localhost")]).unwrap();
        assert!(
            ip.as_str().is_some_and(|a| a == "127.0.0.1" || a == "::1"),
            "{ip:?}"
        );
    }
}
