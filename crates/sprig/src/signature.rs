//! Go's parameter types of every function, for the template engine.
//!
//! Go's `text/template` checks each argument against the function's Go
//! signature before calling it, and reports a mismatch at the argument
//! (`at <.Values.port>: wrong type for value; expected int; got float64`,
//! or for constants `expected string; found 3`, `cannot assign nil to
//! string`). Our functions take untyped [`Value`]s and repeat the value
//! check themselves (without the position); an engine that wants Go's exact
//! message and position can check arguments with [`signature`] first.

use std::collections::HashMap;

use ferroflux_gotemplate::{ElemType, IntType, Value};

/// A Go parameter type as Sprig's and Helm's functions declare it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoType {
    /// `interface{}`: anything, including nil.
    Any,
    String,
    Int,
    Uint32,
    Bool,
    Float64,
    /// `map[string]interface{}`
    Map,
    /// `[]interface{}`
    Slice,
    /// `time.Time`
    Time,
    /// Sprig's `certificate` struct
    Certificate,
}

impl GoType {
    /// The name Go's error messages use.
    pub fn go_name(self) -> &'static str {
        match self {
            GoType::Any => "interface {}",
            GoType::String => "string",
            GoType::Int => "int",
            GoType::Uint32 => "uint32",
            GoType::Bool => "bool",
            GoType::Float64 => "float64",
            GoType::Map => "map[string]interface {}",
            GoType::Slice => "[]interface {}",
            GoType::Time => "time.Time",
            GoType::Certificate => "sprig.certificate",
        }
    }

    /// Whether Go's `text/template` accepts this (non-constant) value for
    /// the type without an error. Numbers are not converted: an `int`
    /// parameter rejects a float64 from `.Values`.
    pub fn accepts(self, v: &Value) -> bool {
        match (self, v) {
            (GoType::Any, _) => true,
            (GoType::String, Value::String(_)) => true,
            (GoType::Int, Value::Int(_, IntType::Int)) => true,
            (GoType::Uint32, Value::Int(_, IntType::Uint32)) => true,
            (GoType::Bool, Value::Bool(_)) => true,
            (GoType::Float64, Value::Float(_)) => true,
            (GoType::Map, Value::Map(_)) => true,
            // only a `[]interface {}`: Go assigns no other slice type to it
            (GoType::Slice, Value::List(_, ElemType::Any)) => true,
            (GoType::Time, Value::Object(o)) => o.type_name() == "time.Time",
            (GoType::Certificate, Value::Object(o)) => o.type_name() == "sprig.certificate",
            _ => false,
        }
    }

    /// The check our functions apply themselves, where a literal cannot be
    /// told from a computed value: integers also fill `float64` parameters
    /// (a literal `1` does in Go) and nil fills a slice (a literal `nil`
    /// does; charts pass it for `genSelfSignedCert`'s IP list).
    pub(crate) fn accepts_arg(self, v: &Value) -> bool {
        self.accepts(v)
            || (self == GoType::Float64 && matches!(v, Value::Int(_, _)))
            || (self == GoType::Uint32 && matches!(v, Value::Int(_, IntType::Int)))
            || (self == GoType::Slice && v.is_nil())
    }

    /// Whether a literal `nil` argument is allowed (Go's `canBeNil`).
    pub fn can_be_nil(self) -> bool {
        matches!(self, GoType::Any | GoType::Map | GoType::Slice)
    }
}

/// A function's Go parameters: fixed ones, then an optional variadic tail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub params: Vec<GoType>,
    pub variadic: Option<GoType>,
}

impl Signature {
    /// The type expected at argument `i`, if there is such an argument.
    pub fn param(&self, i: usize) -> Option<GoType> {
        self.params.get(i).copied().or(self.variadic)
    }
}

/// `name:type,type,...type` per entry; `...` marks the variadic tail.
const TABLE: &str = "
abbrev:int,string abbrevboth:int,int,string add:...any add1:any add1f:any addf:...any
adler32sum:string ago:any all:...any any:...any append:any,any atoi:string b32dec:string
b32enc:string b64dec:string b64enc:string base:string bcrypt:string biggest:any,...any
buildCustomCert:string,string camelcase:string cat:...any ceil:any chunk:int,any clean:string
coalesce:...any compact:any concat:...any contains:string,string date:string,any
dateInZone:string,any,string dateModify:string,time date_in_zone:string,any,string
date_modify:string,time decryptAES:string,string deepCopy:any deepEqual:any,any default:any,...any
derivePassword:uint32,string,string,string,string dict:...any dig:...any dir:string div:any,any
divf:any,...any duration:any durationRound:any empty:any encryptAES:string,string ext:string
fail:string first:any float64:any floor:any fromJson:string fromJsonArray:string fromToml:string
fromYaml:string fromYamlArray:string genCA:string,int genCAWithKey:string,int,string
genPrivateKey:string genSelfSignedCert:string,slice,slice,int
genSelfSignedCertWithKey:string,slice,slice,int,string genSignedCert:string,slice,slice,int,cert
genSignedCertWithKey:string,slice,slice,int,cert,string get:map,string getHostByName:string
has:any,any hasKey:map,string hasPrefix:string,string hasSuffix:string,string hello:
htmlDate:any htmlDateInZone:any,string htpasswd:string,string indent:int,string initial:any
initials:string int:any int64:any isAbs:string join:string,any kebabcase:string keys:...map
kindIs:string,any kindOf:any last:any list:...any lookup:string,string,string,string lower:string
max:any,...any maxf:any,...any merge:map,...map mergeOverwrite:map,...map min:any,...any
minf:any,...any mod:any,any mul:any,...any mulf:any,...any mustAppend:any,any mustChunk:int,any
mustCompact:any mustDateModify:string,time mustDeepCopy:any mustFirst:any mustFromJson:string
mustHas:any,any mustInitial:any mustLast:any mustMerge:map,...map mustMergeOverwrite:map,...map
mustPrepend:any,any mustPush:any,any mustRegexFind:string,string
mustRegexFindAll:string,string,int mustRegexMatch:string,string
mustRegexReplaceAll:string,string,string mustRegexReplaceAllLiteral:string,string,string
mustRegexSplit:string,string,int mustRest:any mustReverse:any mustSlice:any,...any
mustToDate:string,string mustToJson:any mustToPrettyJson:any mustToRawJson:any mustUniq:any
mustWithout:any,...any must_date_modify:string,time nindent:int,string nospace:string now:
omit:map,...string osBase:string osClean:string osDir:string osExt:string osIsAbs:string
pick:map,...string pluck:string,...map plural:string,string,int prepend:any,any push:any,any
quote:...any randAlpha:int randAlphaNum:int randAscii:int randBytes:int randInt:int,int
randNumeric:int regexFind:string,string regexFindAll:string,string,int regexMatch:string,string
regexQuoteMeta:string regexReplaceAll:string,string,string
regexReplaceAllLiteral:string,string,string regexSplit:string,string,int repeat:int,string
replace:string,string,string required:string,any rest:any reverse:any round:any,int,...float64
semver:string semverCompare:string,string seq:...int set:map,string,any sha1sum:string
sha256sum:string sha512sum:string shuffle:string slice:any,...any snakecase:string
sortAlpha:any split:string,string splitList:string,string splitn:string,int,string squote:...any
sub:any,any subf:any,...any substr:int,int,string swapcase:string ternary:any,any,bool
title:string toDate:string,string toDecimal:any toJson:any toPrettyJson:any toRawJson:any
toString:any toStrings:any toToml:any toYaml:any toYamlPretty:any trim:string trimAll:string,string
trimPrefix:string,string trimSuffix:string,string trimall:string,string trunc:int,string
tuple:...any typeIs:string,any typeIsLike:string,any typeOf:any uniq:any unixEpoch:time
unset:map,string until:int untilStep:int,int,int untitle:string upper:string urlJoin:map
urlParse:string uuidv4: values:map without:any,...any wrap:int,string wrapWith:int,string,string
";

fn parse_type(t: &str) -> Option<GoType> {
    Some(match t {
        "any" => GoType::Any,
        "string" => GoType::String,
        "int" => GoType::Int,
        "uint32" => GoType::Uint32,
        "bool" => GoType::Bool,
        "float64" => GoType::Float64,
        "map" => GoType::Map,
        "slice" => GoType::Slice,
        "time" => GoType::Time,
        "cert" => GoType::Certificate,
        _ => return None,
    })
}

static SIGNATURES: std::sync::LazyLock<HashMap<&'static str, Signature>> =
    std::sync::LazyLock::new(|| {
        TABLE
            .split_whitespace()
            .filter_map(|entry| {
                let (name, types) = entry.split_once(':')?;
                let mut sig = Signature {
                    params: Vec::new(),
                    variadic: None,
                };
                for t in types.split(',').filter(|t| !t.is_empty()) {
                    match t.strip_prefix("...") {
                        Some(v) => sig.variadic = Some(parse_type(v)?),
                        None => sig.params.push(parse_type(t)?),
                    }
                }
                Some((name, sig))
            })
            .collect()
    });

/// The Go signature of a function this crate registers.
pub fn signature(name: &str) -> Option<Signature> {
    SIGNATURES.get(name).cloned()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{Certificate, Options, funcs};

    fn valid(t: GoType) -> Value {
        match t {
            GoType::Any | GoType::Int | GoType::Uint32 => Value::int(1),
            GoType::String => Value::from("a"),
            GoType::Bool => Value::Bool(true),
            GoType::Float64 => Value::Float(0.5),
            GoType::Map => Value::Map(Default::default()),
            GoType::Slice => Value::list([]),
            GoType::Time => crate::dates::GoTime::zero().value(),
            GoType::Certificate => Value::Object(Arc::new(Certificate {
                cert: String::new(),
                key: String::new(),
            })),
        }
    }

    fn invalid(t: GoType) -> Value {
        match t {
            GoType::Int | GoType::Uint32 | GoType::Float64 => Value::from("x"),
            _ => Value::int(7),
        }
    }

    #[test]
    fn every_function_has_a_signature_matching_its_argument_checks() {
        let fm = funcs(&Options::default());
        for (name, f) in &fm {
            let sig = signature(name).unwrap_or_else(|| panic!("no signature for {name}"));
            let n = sig.params.len() + usize::from(sig.variadic.is_some());
            for i in 0..n {
                let Some(t) = sig.param(i) else { continue };
                if t == GoType::Any {
                    continue;
                }
                let mut args: Vec<Value> = (0..n)
                    .map(|j| valid(sig.param(j).unwrap_or(GoType::Any)))
                    .collect();
                args[i] = invalid(t);
                let want = format!("expected {}", t.go_name());
                match f(&args) {
                    Err(e) => assert!(e.0.contains(&want), "{name} arg {i}: {e}"),
                    Ok(v) => panic!("{name} arg {i}: accepted {:?}: {v:?}", args[i]),
                }
            }
        }
    }

    #[test]
    fn accepts_follows_go_assignability() {
        assert!(GoType::Int.accepts(&Value::int(1)));
        assert!(!GoType::Int.accepts(&Value::Float(1.0)));
        assert!(!GoType::String.accepts(&Value::Nil));
        assert!(GoType::Any.accepts(&Value::Nil));
        assert!(GoType::Map.can_be_nil() && !GoType::String.can_be_nil());
        let sig = signature("round").unwrap();
        assert_eq!(sig.param(1), Some(GoType::Int));
        assert_eq!(sig.param(5), Some(GoType::Float64));
        assert_eq!(signature("now").unwrap().param(0), None);
    }
}
