//! Dict functions (Sprig's dict.go, mergo's map merge, copystructure).

use ferroflux_gotemplate::{Dict, Value};

use crate::conv::{R, deep_copy, empty, err, map_arg, str_arg, str_list, strval, type_name};
use crate::{Arity, Reg};

use Arity::{AtLeast, Exact};

pub(crate) fn register(r: &mut Reg<'_>) {
    r.add("dict", AtLeast(0), |a| {
        let d = Dict::new();
        for pair in a.chunks(2) {
            let key = strval(&pair[0]);
            d.insert(key, pair.get(1).cloned().unwrap_or_else(|| Value::from("")));
        }
        Ok(Value::Map(d))
    });
    r.add("get", Exact(2), |a| {
        let d = map_arg(&a[0])?;
        let k = str_arg(&a[1])?;
        Ok(d.get(k).unwrap_or_else(|| Value::from("")))
    });
    r.add("set", Exact(3), |a| {
        let d = map_arg(&a[0])?;
        d.insert(str_arg(&a[1])?, a[2].clone());
        Ok(Value::Map(d))
    });
    r.add("unset", Exact(2), |a| {
        let d = map_arg(&a[0])?;
        d.remove(str_arg(&a[1])?);
        Ok(Value::Map(d))
    });
    r.add("hasKey", Exact(2), |a| {
        let d = map_arg(&a[0])?;
        Ok(Value::Bool(d.contains_key(str_arg(&a[1])?)))
    });
    r.add("pluck", AtLeast(1), |a| {
        let k = str_arg(&a[0])?;
        let mut out = Vec::new();
        for d in &a[1..] {
            if let Some(v) = map_arg(d)?.get(k) {
                out.push(v);
            }
        }
        Ok(Value::list(out))
    });
    // Go's map order is random; each dict's keys come out sorted here, which
    // is one of the orders Go may produce.
    r.add("keys", AtLeast(0), |a| {
        let mut out = Vec::new();
        for d in a {
            out.extend(map_arg(d)?.keys());
        }
        Ok(str_list(out))
    });
    r.add("values", Exact(1), |a| {
        let d = map_arg(&a[0])?;
        Ok(Value::list(d.snapshot().into_values()))
    });
    r.add("pick", AtLeast(1), |a| {
        let d = map_arg(&a[0])?;
        let out = Dict::new();
        for k in &a[1..] {
            let k = str_arg(k)?;
            if let Some(v) = d.get(k) {
                out.insert(k, v);
            }
        }
        Ok(Value::Map(out))
    });
    r.add("omit", AtLeast(1), |a| {
        let d = map_arg(&a[0])?;
        let omit: Vec<&str> = a[1..].iter().map(str_arg).collect::<Result<_, _>>()?;
        let mut m = d.snapshot();
        m.retain(|k, _| !omit.contains(&k.as_str()));
        Ok(Value::Map(Dict::from_map(m)))
    });
    let merge: fn(&[Value]) -> R = |a| merge_all(a, false);
    let merge_ow: fn(&[Value]) -> R = |a| merge_all(a, true);
    r.add("merge", AtLeast(1), merge);
    r.add("mustMerge", AtLeast(1), merge);
    r.add("mergeOverwrite", AtLeast(1), merge_ow);
    r.add("mustMergeOverwrite", AtLeast(1), merge_ow);
    r.add("deepCopy", Exact(1), |a| deep_copy_checked(&a[0]));
    r.add("mustDeepCopy", Exact(1), |a| deep_copy_checked(&a[0]));
    r.add("dig", AtLeast(0), |a| {
        if a.len() < 3 {
            return Err(err("dig needs at least three arguments"));
        }
        let last = &a[a.len() - 1];
        let Value::Map(d) = last else {
            return Err(assert_err(last, "map[string]interface {}"));
        };
        let def = &a[a.len() - 2];
        let mut keys = Vec::new();
        for k in &a[..a.len() - 2] {
            match k {
                Value::String(s) => keys.push(s.to_string()),
                other => return Err(assert_err(other, "string")),
            }
        }
        dig(d, def, &keys)
    });
}

/// Go's failed type assertion on an `interface{}`.
fn assert_err(v: &Value, want: &str) -> ferroflux_gotemplate::FuncError {
    let got = if v.is_nil() {
        "nil".to_string()
    } else {
        type_name(v)
    };
    err(format!(
        "interface conversion: interface {{}} is {got}, not {want}"
    ))
}

fn dig(d: &Dict, def: &Value, keys: &[String]) -> R {
    let Some(step) = d.get(&keys[0]) else {
        return Ok(def.clone());
    };
    if keys.len() == 1 {
        return Ok(step);
    }
    match &step {
        Value::Map(next) => dig(next, def, &keys[1..]),
        other => Err(assert_err(other, "map[string]interface {}")),
    }
}

fn deep_copy_checked(v: &Value) -> R {
    if v.is_nil() {
        return Err(err("reflect: call of reflect.Value.Type on zero Value"));
    }
    Ok(deep_copy(v))
}

fn merge_all(a: &[Value], overwrite: bool) -> R {
    let dst = map_arg(&a[0])?;
    for src in &a[1..] {
        let src = map_arg(src)?;
        merge_into(&dst, &src, overwrite);
    }
    Ok(Value::Map(dst))
}

/// mergo's `Merge` / `MergeWithOverwrite` for `map[string]interface{}`:
/// nested maps merge in place, a nil source value only lands with
/// overwrite, lists are replaced whole, and without overwrite only missing
/// or Go-empty destination values are filled.
pub(crate) fn merge_into(dst: &Dict, src: &Dict, overwrite: bool) {
    if dst.ptr_eq(src) {
        return;
    }
    for (key, sv) in src.snapshot() {
        let dv = dst.get(&key);
        if sv.is_nil() {
            if overwrite {
                dst.insert(key, Value::Nil);
            }
            continue;
        }
        if let (Value::Map(sm), Some(Value::Map(dm))) = (&sv, &dv) {
            merge_into(dm, sm, overwrite);
            if !dm.is_empty() {
                continue;
            }
        }
        if let Some(d) = &dv
            && !empty(d)
            && matches!(sv, Value::List(..) | Value::Bytes(_))
            && !overwrite
        {
            continue;
        }
        if overwrite || dv.as_ref().is_none_or(empty) {
            dst.insert(key, sv);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;

    #[test]
    fn merge_fills_only_missing_or_empty() {
        let dst = d(&[("a", i(1)), ("b", s("")), ("n", d(&[("x", i(1))]))]);
        let src = d(&[
            ("a", i(2)),
            ("b", s("B")),
            ("c", f(3.0)),
            ("n", d(&[("x", i(2)), ("y", i(3))])),
        ]);
        assert_eq!(
            out("merge", &[dst.clone(), src]),
            "map[a:1 b:B c:3 n:map[x:1 y:3]]"
        );
        // dst was mutated in place like a Go map
        assert_eq!(crate::sprint_v(&dst), "map[a:1 b:B c:3 n:map[x:1 y:3]]");
    }
}
