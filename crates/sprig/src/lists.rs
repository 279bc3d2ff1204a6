//! List functions (Sprig's list.go). Sprig's plain and `must` variants fail
//! alike inside a template (a panic becomes an error), so both share code.

use ferroflux_gotemplate::{ElemType, Value};

use crate::conv::{
    R, deep_equal, empty, err, int_arg, kind_name, list_items, str_list, strslice, strval, to_int64,
};
use crate::{Arity, Reg};

use Arity::{AtLeast, Exact};

/// `reflect.TypeOf(nil).Kind()` dereferences a nil type in Go.
fn nil_deref() -> ferroflux_gotemplate::FuncError {
    err("runtime error: invalid memory address or nil pointer dereference")
}

/// The items of a slice argument, or Sprig's `Cannot <what> on type <kind>`.
fn items(v: &Value, what: &str) -> Result<Vec<Value>, ferroflux_gotemplate::FuncError> {
    if v.is_nil() {
        return Err(nil_deref());
    }
    list_items(v).ok_or_else(|| err(format!("Cannot {what} type {}", kind_name(v))))
}

fn both(
    r: &mut Reg<'_>,
    name: &'static str,
    must: &'static str,
    arity: Arity,
    f: fn(&[Value]) -> R,
) {
    r.add(name, arity, f);
    r.add(must, arity, f);
}

pub(crate) fn register(r: &mut Reg<'_>) {
    r.add("list", AtLeast(0), |a| Ok(Value::list(a.iter().cloned())));
    r.alias("tuple", "list");
    let push: fn(&[Value]) -> R = |a| {
        let mut l = items(&a[0], "push on")?;
        l.push(a[1].clone());
        Ok(Value::list(l))
    };
    both(r, "push", "mustPush", Exact(2), push);
    both(r, "append", "mustAppend", Exact(2), push);
    both(r, "prepend", "mustPrepend", Exact(2), |a| {
        let mut l = items(&a[0], "prepend on")?;
        l.insert(0, a[1].clone());
        Ok(Value::list(l))
    });
    both(r, "first", "mustFirst", Exact(1), |a| {
        Ok(items(&a[0], "find first on")?
            .into_iter()
            .next()
            .unwrap_or(Value::Nil))
    });
    both(r, "last", "mustLast", Exact(1), |a| {
        Ok(items(&a[0], "find last on")?.pop().unwrap_or(Value::Nil))
    });
    both(r, "rest", "mustRest", Exact(1), |a| {
        let l = items(&a[0], "find rest on")?;
        Ok(Value::list(l.into_iter().skip(1)))
    });
    both(r, "initial", "mustInitial", Exact(1), |a| {
        let mut l = items(&a[0], "find initial on")?;
        l.pop();
        Ok(Value::list(l))
    });
    both(r, "reverse", "mustReverse", Exact(1), |a| {
        let mut l = items(&a[0], "find reverse on")?;
        l.reverse();
        Ok(Value::list(l))
    });
    both(r, "compact", "mustCompact", Exact(1), |a| {
        let l = items(&a[0], "compact on")?;
        Ok(Value::list(l.into_iter().filter(|v| !empty(v))))
    });
    both(r, "uniq", "mustUniq", Exact(1), |a| {
        let mut out: Vec<Value> = Vec::new();
        for v in items(&a[0], "find uniq on")? {
            if !out.iter().any(|x| deep_equal(x, &v)) {
                out.push(v);
            }
        }
        Ok(Value::list(out))
    });
    both(r, "without", "mustWithout", AtLeast(1), |a| {
        let omit = &a[1..];
        let l = items(&a[0], "find without on")?;
        Ok(Value::list(
            l.into_iter()
                .filter(|v| !omit.iter().any(|o| deep_equal(o, v))),
        ))
    });
    both(r, "has", "mustHas", Exact(2), |a| {
        if a[1].is_nil() {
            return Ok(Value::Bool(false));
        }
        let l = list_items(&a[1])
            .ok_or_else(|| err(format!("Cannot find has on type {}", kind_name(&a[1]))))?;
        Ok(Value::Bool(l.iter().any(|v| deep_equal(&a[0], v))))
    });
    both(r, "slice", "mustSlice", AtLeast(1), |a| {
        if a[0].is_nil() {
            return Err(nil_deref());
        }
        let l = list_items(&a[0]).ok_or_else(|| {
            err(format!(
                "list should be type of slice or array but {}",
                kind_name(&a[0])
            ))
        })?;
        if l.is_empty() {
            return Ok(Value::Nil);
        }
        let start = a.get(1).map(to_int64).unwrap_or(0);
        let end = if a.len() < 3 {
            l.len() as i64
        } else {
            to_int64(&a[2])
        };
        if start < 0 || end < start || end > l.len() as i64 {
            return Err(err("reflect.Value.Slice: slice index out of bounds"));
        }
        let range = start as usize..end as usize;
        // reflect's Slice keeps the slice type
        Ok(match &a[0] {
            Value::List(_, t) => Value::typed_list(l[range].iter().cloned(), *t),
            Value::Bytes(b) => Value::Bytes(b[range].into()),
            _ => Value::list(l[range].iter().cloned()),
        })
    });
    r.add("concat", AtLeast(0), |a| {
        let mut out = Vec::new();
        for v in a {
            if v.is_nil() {
                return Err(nil_deref());
            }
            let l = list_items(v)
                .ok_or_else(|| err(format!("Cannot concat type {} as list", kind_name(v))))?;
            out.extend(l);
        }
        Ok(Value::list(out))
    });
    both(r, "chunk", "mustChunk", Exact(2), |a| {
        let size = int_arg(&a[0])?;
        let l = items(&a[1], "chunk")?;
        if size <= 0 {
            return Err(err("runtime error: integer divide by zero"));
        }
        Ok(Value::typed_list(
            l.chunks(size as usize)
                .map(|c| Value::list(c.iter().cloned())),
            ElemType::AnySlice,
        ))
    });
    r.add("sortAlpha", Exact(1), |a| {
        let mut v = match &a[0] {
            Value::List(..) | Value::Bytes(_) => strslice(&a[0]),
            other => vec![strval(other)],
        };
        v.sort();
        Ok(str_list(v))
    });
    r.add("until", Exact(1), |a| {
        let n = int_arg(&a[0])?;
        Ok(int_list(until_step(0, n, if n < 0 { -1 } else { 1 })))
    });
    r.add("untilStep", Exact(3), |a| {
        let (start, stop, step) = (int_arg(&a[0])?, int_arg(&a[1])?, int_arg(&a[2])?);
        Ok(int_list(until_step(start, stop, step)))
    });
    r.add("seq", AtLeast(0), |a| {
        let p: Vec<i64> = a.iter().map(int_arg).collect::<Result<_, _>>()?;
        Ok(Value::from(seq(&p)))
    });
}

/// A Go `[]int`.
fn int_list(v: Vec<i64>) -> Value {
    Value::typed_list(v.into_iter().map(Value::int), ElemType::Int)
}

pub(crate) fn until_step(start: i64, stop: i64, step: i64) -> Vec<i64> {
    let mut v = Vec::new();
    if stop < start {
        if step >= 0 {
            return v;
        }
        let mut i = start;
        while i > stop {
            v.push(i);
            // Go's int wraps and loops on; stopping is the only sane reading
            let Some(next) = i.checked_add(step) else {
                break;
            };
            i = next;
        }
        return v;
    }
    if step <= 0 {
        return v;
    }
    let mut i = start;
    while i < stop {
        v.push(i);
        let Some(next) = i.checked_add(step) else {
            break;
        };
        i = next;
    }
    v
}

fn seq(p: &[i64]) -> String {
    let join = |v: Vec<i64>| {
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    match p.len() {
        1 => {
            let (start, end) = (1, p[0]);
            let inc = if end < start { -1 } else { 1 };
            join(until_step(start, end.saturating_add(inc), inc))
        }
        2 => {
            let (start, end) = (p[0], p[1]);
            let step = if end < start { -1 } else { 1 };
            join(until_step(start, end.saturating_add(step), step))
        }
        3 => {
            let (start, step, end) = (p[0], p[1], p[2]);
            let mut inc = 1;
            if end < start {
                inc = -1;
                if step > 0 {
                    return String::new();
                }
            }
            join(until_step(start, end.saturating_add(inc), step))
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;

    #[test]
    fn extreme_ranges_end_instead_of_overflowing() {
        assert_eq!(
            out("untilStep", &[i(i64::MAX - 2), i(i64::MAX), i(5)]),
            "[9223372036854775805]"
        );
        assert_eq!(
            out("untilStep", &[i(i64::MIN + 2), i(i64::MIN), i(-5)]),
            "[-9223372036854775806]"
        );
        // Go wraps end+1 to MinInt64 and prints nothing
        assert_eq!(out("seq", &[i(i64::MAX), i(i64::MAX)]), "");
        assert!(
            out("randInt", &[i(i64::MIN), i(i64::MAX)]).starts_with("ERR invalid argument to Intn")
        );
        assert_eq!(
            out("repeat", &[i(i64::MAX), s("ab")]),
            "ERR strings: Repeat output length overflow"
        );
    }
}
