//! Defaults, flow control and reflection (Sprig's defaults.go, reflect.go,
//! Helm's `required` and `fail`).

use ferroflux_gotemplate::Value;
use rand::RngCore;

use crate::conv::{bool_arg, deep_equal, empty, err, kind_name, str_arg, type_name};
use crate::{Arity, HELM_ERR_END, HELM_ERR_START, Reg};

use Arity::{AtLeast, Exact};

pub(crate) fn register(r: &mut Reg<'_>) {
    r.add("default", AtLeast(1), |a| {
        Ok(match a.get(1) {
            Some(v) if !empty(v) => v.clone(),
            _ => a[0].clone(),
        })
    });
    r.add("empty", Exact(1), |a| Ok(Value::Bool(empty(&a[0]))));
    r.add("coalesce", AtLeast(0), |a| {
        Ok(a.iter().find(|v| !empty(v)).cloned().unwrap_or(Value::Nil))
    });
    r.add("all", AtLeast(0), |a| {
        Ok(Value::Bool(a.iter().all(|v| !empty(v))))
    });
    r.add("any", AtLeast(0), |a| {
        Ok(Value::Bool(a.iter().any(|v| !empty(v))))
    });
    r.add("ternary", Exact(3), |a| {
        Ok(if bool_arg(&a[2])? {
            a[0].clone()
        } else {
            a[1].clone()
        })
    });
    r.add("typeOf", Exact(1), |a| Ok(Value::from(type_name(&a[0]))));
    r.add("typeIs", Exact(2), |a| {
        Ok(Value::Bool(str_arg(&a[0])? == type_name(&a[1])))
    });
    r.add("typeIsLike", Exact(2), |a| {
        let t = type_name(&a[1]);
        let target = str_arg(&a[0])?;
        Ok(Value::Bool(target == t || format!("*{target}") == t))
    });
    r.add("kindOf", Exact(1), |a| Ok(Value::from(kind_name(&a[0]))));
    r.add("kindIs", Exact(2), |a| {
        Ok(Value::Bool(str_arg(&a[0])? == kind_name(&a[1])))
    });
    r.add("deepEqual", Exact(2), |a| {
        Ok(Value::Bool(deep_equal(&a[0], &a[1])))
    });
    r.add("uuidv4", Exact(0), |_| Ok(Value::from(uuidv4())));
    // Helm's versions: the message is wrapped so Helm's error cleanup can
    // find it.
    r.add("fail", Exact(1), |a| {
        let msg = str_arg(&a[0])?;
        Err(err(format!("{HELM_ERR_START}{msg}{HELM_ERR_END}")))
    });
    r.add("required", Exact(2), |a| {
        let warn = str_arg(&a[0])?;
        match &a[1] {
            Value::Nil => Err(err(format!("{HELM_ERR_START}{warn}{HELM_ERR_END}"))),
            Value::String(s) if s.is_empty() => {
                Err(err(format!("{HELM_ERR_START}{warn}{HELM_ERR_END}")))
            }
            v => Ok(v.clone()),
        }
    });
}

fn uuidv4() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
