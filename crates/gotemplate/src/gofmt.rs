//! Go's `fmt` verbs and `strconv` float/quote formatting over [`Value`]:
//! templates print through `fmt.Fprint`, and `printf` is `fmt.Sprintf`, so
//! every byte of their output follows these rules.

use std::fmt::Write as _;

use crate::value::{GoInt, IntType, Value, go_int};

/// Go's `%T` type name of a value as the template engine sees it.
pub fn go_type(v: &Value) -> String {
    match v {
        Value::Nil => "<nil>".into(),
        Value::Bool(_) => "bool".into(),
        Value::Int(_, t) => t.go_name().into(),
        Value::Float(_) => "float64".into(),
        Value::String(_) => "string".into(),
        Value::Bytes(_) => "[]uint8".into(),
        Value::List(_, t) => t.slice_name().into(),
        Value::Map(_) => "map[string]interface {}".into(),
        Value::Object(o) => o.type_name().to_string(),
    }
}

/// `%v` of one value, as `fmt.Sprint(v)`.
pub fn fmt_v(v: &Value) -> String {
    let mut out = String::new();
    write_v(&mut out, v);
    out
}

/// Appends `%v` of `v` to `out`.
pub fn write_v(out: &mut String, v: &Value) {
    match v {
        Value::String(s) => out.push_str(s),
        Value::Int(i, t) => {
            let _ = write!(out, "{}", GoInt(*i, *t));
        }
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        _ => {
            let mut p = Printer {
                out,
                f: Flags::default(),
                path: Vec::new(),
            };
            p.print_arg(v, 'v', 0);
        }
    }
}

/// Go's `fmt.Sprint`: spaces between operands when neither side is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::String(_));
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        write_v(&mut out, a);
        prev_string = is_string;
    }
    out
}

/// Go's `fmt.Sprintln`: always spaces, newline at the end.
pub fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_v(&mut out, a);
    }
    out.push('\n');
    out
}

#[derive(Default, Clone, Copy)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    plus_v: bool,
    sharp_v: bool,
    wid: Option<usize>,
    prec: Option<usize>,
}

struct Printer<'a> {
    out: &'a mut String,
    f: Flags,
    /// Maps being printed, to stop at a map that contains itself (Go would
    /// recurse until its stack limit kills the process).
    path: Vec<crate::value::Dict>,
}

/// Go's `fmt.Sprintf`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::with_capacity(format.len() + 16);
    let mut p = Printer {
        out: &mut out,
        f: Flags::default(),
        path: Vec::new(),
    };
    p.do_printf(format, args);
    out
}

fn parse_num(b: &[u8], mut i: usize) -> (Option<usize>, usize) {
    let start = i;
    let mut n: usize = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        n = n.saturating_mul(10).saturating_add((b[i] - b'0') as usize);
        if n > 1_000_000 {
            return (None, b.len());
        }
        i += 1;
    }
    if i == start { (None, i) } else { (Some(n), i) }
}

impl Printer<'_> {
    fn do_printf(&mut self, format: &str, a: &[Value]) {
        let b = format.as_bytes();
        let end = b.len();
        let mut arg_num = 0usize;
        let mut after_index;
        let mut reordered = false;
        let mut i = 0;
        while i < end {
            let mut good_arg_num = true;
            let lasti = i;
            while i < end && b[i] != b'%' {
                i += 1;
            }
            if i > lasti {
                self.out.push_str(&format[lasti..i]);
            }
            if i >= end {
                break;
            }
            i += 1;
            self.f = Flags::default();
            while i < end {
                match b[i] {
                    b'#' => self.f.sharp = true,
                    b'0' => self.f.zero = !self.f.minus,
                    b'+' => self.f.plus = true,
                    b'-' => {
                        self.f.minus = true;
                        self.f.zero = false;
                    }
                    b' ' => self.f.space = true,
                    _ => break,
                }
                i += 1;
            }
            // Argument index.
            let arg_index = |arg_num: usize, i: usize| -> (usize, usize, bool, bool) {
                if i >= end || b[i] != b'[' {
                    return (arg_num, i, false, true);
                }
                // [n]
                let mut j = i + 1;
                while j < end && b[j] != b']' {
                    j += 1;
                }
                if j >= end {
                    return (arg_num, i + 1, false, false);
                }
                match format[i + 1..j].parse::<usize>() {
                    Ok(n) if n >= 1 && n <= a.len() => (n - 1, j + 1, true, true),
                    _ => (arg_num, j + 1, true, false),
                }
            };
            let (an, ni, ai, ok) = arg_index(arg_num, i);
            if ai {
                reordered = true;
            }
            arg_num = an;
            i = ni;
            after_index = ai;
            good_arg_num &= ok;
            // Width.
            if i < end && b[i] == b'*' {
                i += 1;
                // Go's intFromArg: an unsigned value above i64::MAX is no int
                match a.get(arg_num).and_then(int_from_arg) {
                    Some(n) => {
                        if n < 0 {
                            self.f.minus = true;
                            self.f.zero = false;
                        }
                        self.f.wid = Some(n.unsigned_abs() as usize);
                    }
                    None => self.out.push_str("%!(BADWIDTH)"),
                }
                arg_num += 1;
                after_index = false;
            } else {
                let (w, ni) = parse_num(b, i);
                self.f.wid = w;
                i = ni;
                if after_index && w.is_some() {
                    good_arg_num = false;
                }
            }
            // Precision.
            if i + 1 < end && b[i] == b'.' {
                i += 1;
                if after_index {
                    good_arg_num = false;
                }
                let (an, ni, ai, ok) = arg_index(arg_num, i);
                if ai {
                    reordered = true;
                }
                arg_num = an;
                i = ni;
                after_index = ai;
                good_arg_num &= ok;
                if i < end && b[i] == b'*' {
                    i += 1;
                    match a.get(arg_num).and_then(int_from_arg) {
                        Some(n) if n >= 0 => self.f.prec = Some(n as usize),
                        // a negative precision argument is a bad one too
                        _ => self.out.push_str("%!(BADPREC)"),
                    }
                    arg_num += 1;
                    after_index = false;
                } else {
                    let (p, ni) = parse_num(b, i);
                    self.f.prec = Some(p.unwrap_or(0));
                    i = ni;
                }
            }
            if !after_index {
                let (an, ni, ai, ok) = arg_index(arg_num, i);
                if ai {
                    reordered = true;
                }
                arg_num = an;
                i = ni;
                good_arg_num &= ok;
            }
            if i >= end {
                self.out.push_str("%!(NOVERB)");
                break;
            }
            let verb = format[i..].chars().next().unwrap_or('?');
            i += verb.len_utf8();
            if verb == '%' {
                self.out.push('%');
            } else if !good_arg_num {
                let _ = write!(self.out, "%!{verb}(BADINDEX)");
            } else if arg_num >= a.len() {
                let _ = write!(self.out, "%!{verb}(MISSING)");
            } else {
                if verb == 'v' {
                    self.f.sharp_v = self.f.sharp;
                    self.f.sharp = false;
                    self.f.plus_v = self.f.plus;
                    self.f.plus = false;
                }
                self.print_arg(&a[arg_num], verb, 0);
                arg_num += 1;
            }
        }
        if !reordered && arg_num < a.len() {
            self.f = Flags::default();
            self.out.push_str("%!(EXTRA ");
            for (k, arg) in a[arg_num..].iter().enumerate() {
                if k > 0 {
                    self.out.push_str(", ");
                }
                if arg.is_nil() {
                    self.out.push_str("<nil>");
                } else {
                    self.out.push_str(&go_type(arg));
                    self.out.push('=');
                    self.print_arg(arg, 'v', 0);
                }
            }
            self.out.push(')');
        }
    }

    /// Go's `badVerb`: the value is printed with `%v` under the same flags.
    fn bad_verb(&mut self, v: &Value, verb: char) {
        let _ = write!(self.out, "%!{verb}(");
        if v.is_nil() {
            self.out.push_str("<nil>");
        } else {
            self.out.push_str(&go_type(v));
            self.out.push('=');
            self.print_arg(v, 'v', 0);
        }
        self.out.push(')');
    }

    fn pad(&mut self, s: &str) {
        let Some(w) = self.f.wid else {
            self.out.push_str(s);
            return;
        };
        let n = s.chars().count();
        if n >= w {
            self.out.push_str(s);
            return;
        }
        let padc = if self.f.zero { '0' } else { ' ' };
        if self.f.minus {
            self.out.push_str(s);
            self.out.extend(std::iter::repeat_n(' ', w - n));
        } else {
            self.out.extend(std::iter::repeat_n(padc, w - n));
            self.out.push_str(s);
        }
    }

    fn print_arg(&mut self, v: &Value, verb: char, depth: usize) {
        if verb == 'T' {
            let t = go_type(v);
            self.pad(&t);
            return;
        }
        match v {
            Value::Nil => {
                if depth > 0 && self.f.sharp_v {
                    self.pad("interface {}(nil)");
                } else if depth > 0 || verb == 'v' {
                    self.pad("<nil>");
                } else {
                    self.bad_verb(v, verb);
                }
            }
            Value::Bool(b) => match verb {
                't' | 'v' => self.pad(if *b { "true" } else { "false" }),
                _ => self.bad_verb(v, verb),
            },
            Value::Int(i, t) => self.fmt_int(*i, *t, verb, v),
            Value::Float(x) => self.fmt_float(*x, verb, v),
            Value::String(s) => self.fmt_str(s, verb, v),
            Value::Bytes(bs) => match verb {
                's' => self.fmt_str(&String::from_utf8_lossy(bs), 's', v),
                'q' | 'x' | 'X' => self.fmt_str_bytes(bs, verb),
                _ => {
                    if self.f.sharp_v {
                        self.out.push_str("[]byte{");
                        for (k, x) in bs.iter().enumerate() {
                            if k > 0 {
                                self.out.push_str(", ");
                            }
                            let _ = write!(self.out, "0x{x:x}");
                        }
                        self.out.push('}');
                        return;
                    }
                    self.out.push('[');
                    for (k, x) in bs.iter().enumerate() {
                        if k > 0 {
                            self.out.push(' ');
                        }
                        let b = i64::from(*x);
                        self.fmt_int(b, IntType::Uint8, verb, &Value::Int(b, IntType::Uint8));
                    }
                    self.out.push(']');
                }
            },
            Value::List(l, t) => {
                if self.f.sharp_v {
                    self.out.push_str(t.slice_name());
                    self.out.push('{');
                    for (k, x) in l.iter().enumerate() {
                        if k > 0 {
                            self.out.push_str(", ");
                        }
                        self.print_arg(x, verb, depth + 1);
                    }
                    self.out.push('}');
                    return;
                }
                self.out.push('[');
                for (k, x) in l.iter().enumerate() {
                    if k > 0 {
                        self.out.push(' ');
                    }
                    self.print_arg(x, verb, depth + 1);
                }
                self.out.push(']');
            }
            Value::Map(m) => {
                if self.path.iter().any(|d| d.ptr_eq(m)) {
                    self.out.push_str("%!v(CYCLE)");
                    return;
                }
                self.path.push(m.clone());
                self.print_map(m, verb, depth);
                self.path.pop();
            }
            Value::Object(o) => match verb {
                'v' | 's' => {
                    let s = ObjDisplay(o.as_ref()).to_string();
                    self.pad(&s);
                }
                'q' => {
                    let s = go_quote(&ObjDisplay(o.as_ref()).to_string());
                    self.pad(&s);
                }
                _ => self.bad_verb(v, verb),
            },
        }
    }

    fn print_map(&mut self, m: &crate::value::Dict, verb: char, depth: usize) {
        let entries = m.snapshot();
        if self.f.sharp_v {
            self.out.push_str("map[string]interface {}{");
            for (k, (key, x)) in entries.iter().enumerate() {
                if k > 0 {
                    self.out.push_str(", ");
                }
                self.out.push_str(&go_quote(key));
                self.out.push(':');
                self.print_arg(x, verb, depth + 1);
            }
            self.out.push('}');
            return;
        }
        self.out.push_str("map[");
        for (k, (key, x)) in entries.iter().enumerate() {
            if k > 0 {
                self.out.push(' ');
            }
            self.fmt_str(key, verb, &Value::string(key.as_str()));
            self.out.push(':');
            self.print_arg(x, verb, depth + 1);
        }
        self.out.push(']');
    }

    /// `i` and `t` as [`Value::Int`] holds them; `v` is that value (for bad verbs).
    fn fmt_int(&mut self, i: i64, t: IntType, verb: char, v: &Value) {
        // Go formats the unsigned value, or a signed one's magnitude and sign.
        let (neg, u) = if t.is_unsigned() {
            (false, i as u64)
        } else {
            (i < 0, i.unsigned_abs())
        };
        // %c, %q and %U see the value as Go's uint64(v)
        let bits = i as u64;
        let (base, upper) = match verb {
            'v' if self.f.sharp_v && t.is_unsigned() => {
                // %#v of an unsigned integer is Go hex
                let saved = self.f.sharp;
                self.f.sharp = true;
                self.fmt_int(i, t, 'x', v);
                self.f.sharp = saved;
                return;
            }
            'v' | 'd' => (10, false),
            'b' => (2, false),
            'o' | 'O' => (8, false),
            'x' => (16, false),
            'X' => (16, true),
            'c' => {
                let c = rune_of(bits);
                self.pad(&c.to_string());
                return;
            }
            'q' => {
                let q = quote_rune(rune_of(bits));
                self.pad(&q);
                return;
            }
            'U' => {
                let mut s = format!("U+{bits:04X}");
                if self.f.sharp
                    && let Ok(b) = u32::try_from(bits)
                    && let Some(c) = char::from_u32(b)
                {
                    s.push_str(&format!(" '{c}'"));
                }
                self.pad(&s);
                return;
            }
            _ => {
                self.bad_verb(v, verb);
                return;
            }
        };
        let mut digits = match base {
            10 => u.to_string(),
            2 => format!("{u:b}"),
            8 => format!("{u:o}"),
            _ if upper => format!("{u:X}"),
            _ => format!("{u:x}"),
        };
        let mut prec = 0usize;
        if let Some(p) = self.f.prec {
            prec = p;
            if p == 0 && u == 0 {
                let saved = self.f.zero;
                self.f.zero = false;
                self.pad("");
                self.f.zero = saved;
                return;
            }
        } else if self.f.zero
            && !self.f.minus
            && let Some(w) = self.f.wid
        {
            prec = w;
            if neg || self.f.plus || self.f.space {
                prec = prec.saturating_sub(1);
            }
        }
        if digits.len() < prec {
            digits = "0".repeat(prec - digits.len()) + &digits;
        }
        let mut s = String::new();
        if neg {
            s.push('-');
        } else if self.f.plus {
            s.push('+');
        } else if self.f.space {
            s.push(' ');
        }
        if verb == 'O' {
            s.push_str("0o");
        }
        if self.f.sharp {
            match base {
                2 => s.push_str("0b"),
                8 if !digits.starts_with('0') => s.push('0'),
                16 => s.push_str(if upper { "0X" } else { "0x" }),
                _ => {}
            }
        }
        s.push_str(&digits);
        let saved = self.f.zero;
        self.f.zero = false;
        self.pad(&s);
        self.f.zero = saved;
    }

    fn fmt_float(&mut self, x: f64, verb: char, v: &Value) {
        let (fmtc, default_prec) = match verb {
            'v' => ('g', -1),
            'g' | 'G' => (verb, -1),
            'e' | 'E' | 'f' | 'F' => (verb, 6),
            'x' | 'X' => {
                let mut h = hex_float(x, self.f.prec.map(|p| p as i32).unwrap_or(-1));
                if verb == 'X' {
                    h = h.to_ascii_uppercase();
                }
                if !h.starts_with('-') {
                    if self.f.plus {
                        h.insert(0, '+');
                    } else if self.f.space {
                        h.insert(0, ' ');
                    }
                }
                self.pad(&h);
                return;
            }
            'b' => ('g', -1),
            _ => {
                self.bad_verb(v, verb);
                return;
            }
        };
        let prec = self.f.prec.map(|p| p as i32).unwrap_or(default_prec);
        let fc = if fmtc == 'F' { 'f' } else { fmtc };
        let mut num = format_float(x, fc as u8, prec);
        if self.f.sharp
            && fc != 'f'
            && !num.contains('.')
            && !num.contains("Inf")
            && !num.contains("NaN")
        {
            // %#g keeps a decimal point.
            if let Some(e) = num.find(['e', 'E']) {
                num.insert(e, '.');
            } else {
                num.push('.');
            }
        }
        if num.ends_with("Inf") || num == "NaN" {
            let s = if num == "NaN" {
                if self.f.plus {
                    "+NaN".to_string()
                } else if self.f.space {
                    " NaN".to_string()
                } else {
                    num
                }
            } else if self.f.space && !self.f.plus && num.starts_with('+') {
                " Inf".to_string()
            } else {
                num
            };
            let saved = self.f.zero;
            self.f.zero = false;
            self.pad(&s);
            self.f.zero = saved;
            return;
        }
        let (sign, body) = match num.strip_prefix('-') {
            Some(b) => ("-", b.to_string()),
            None => (
                if self.f.plus {
                    "+"
                } else if self.f.space {
                    " "
                } else {
                    ""
                },
                num.clone(),
            ),
        };
        if self.f.zero
            && !self.f.minus
            && let Some(w) = self.f.wid
        {
            let n = sign.len() + body.chars().count();
            if w > n {
                self.out.push_str(sign);
                self.out.extend(std::iter::repeat_n('0', w - n));
                self.out.push_str(&body);
                return;
            }
        }
        let s = format!("{sign}{body}");
        self.pad(&s);
    }

    fn fmt_str(&mut self, s: &str, verb: char, v: &Value) {
        match verb {
            'v' => {
                if self.f.sharp_v {
                    let q = go_quote(s);
                    self.pad(&q);
                } else {
                    self.fmt_s(s);
                }
            }
            's' => self.fmt_s(s),
            'q' => {
                let q = if self.f.sharp
                    && !s.contains('`')
                    && !s.chars().any(|c| c.is_control() && c != '\t')
                {
                    format!("`{s}`")
                } else if self.f.plus {
                    go_quote_ascii(s)
                } else {
                    go_quote(s)
                };
                self.pad(&q);
            }
            'x' | 'X' => self.fmt_str_bytes(s.as_bytes(), verb),
            _ => self.bad_verb(v, verb),
        }
    }

    fn fmt_s(&mut self, s: &str) {
        match self.f.prec {
            Some(p) => {
                let t: String = s.chars().take(p).collect();
                self.pad(&t);
            }
            None => self.pad(s),
        }
    }

    fn fmt_str_bytes(&mut self, bs: &[u8], verb: char) {
        if verb == 'q' {
            let q = go_quote(&String::from_utf8_lossy(bs));
            self.pad(&q);
            return;
        }
        let bs = match self.f.prec {
            Some(p) if p < bs.len() => &bs[..p],
            _ => bs,
        };
        let mut s = String::new();
        for (k, b) in bs.iter().enumerate() {
            if self.f.space && k > 0 {
                s.push(' ');
            }
            if self.f.sharp && (self.f.space || k == 0) {
                s.push_str(if verb == 'X' { "0X" } else { "0x" });
            }
            if verb == 'X' {
                let _ = write!(s, "{b:02X}");
            } else {
                let _ = write!(s, "{b:02x}");
            }
        }
        self.pad(&s);
    }
}

struct ObjDisplay<'a>(&'a dyn crate::value::Object);
impl std::fmt::Display for ObjDisplay<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt_go(f)
    }
}

// ------------------------------------------------------------- strconv

/// Decimal digits of |x| (no trailing zeros) and the decimal point position:
/// |x| = 0.d1d2d3... × 10^dp.
struct Digits {
    d: Vec<u8>,
    dp: i32,
}

fn digits_from_sci(s: &str) -> Digits {
    // s like "1.2345e-7" or "1e5" or "0e0"
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: Vec<u8> = mant.bytes().filter(|b| b.is_ascii_digit()).collect();
    while d.last() == Some(&b'0') {
        d.pop();
    }
    if d.is_empty() {
        return Digits { d, dp: 0 };
    }
    Digits { d, dp: exp + 1 }
}

/// Go's `strconv.FormatFloat(x, fmt, prec, 64)` for fmt in `e E f g G`.
pub fn format_float(x: f64, fmt: u8, prec: i32) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let neg = x.is_sign_negative();
    let a = x.abs();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let shortest = prec < 0;
    let lower = fmt.to_ascii_lowercase();
    if lower == b'f' && !shortest {
        let _ = write!(out, "{:.*}", prec as usize, a);
        return out;
    }
    let digs = if shortest {
        digits_from_sci(&format!("{a:e}"))
    } else {
        let sig = match lower {
            b'e' => prec + 1,
            b'g' => prec.max(1),
            _ => prec + 1,
        };
        digits_from_sci(&format!("{:.*e}", (sig - 1).max(0) as usize, a))
    };
    let nd = digs.d.len() as i32;
    let mut prec = prec;
    if shortest {
        prec = match lower {
            b'e' => (nd - 1).max(0),
            b'f' => (nd - digs.dp).max(0),
            _ => nd,
        };
    }
    match lower {
        b'e' => fmt_e(&mut out, &digs, prec, fmt),
        b'f' => fmt_f(&mut out, &digs, prec),
        _ => {
            let mut eprec = prec;
            if eprec > nd && nd >= digs.dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = digs.dp - 1;
            if exp < -4 || exp >= eprec {
                if prec > nd {
                    prec = nd;
                }
                fmt_e(&mut out, &digs, prec - 1, fmt + b'e' - b'g');
            } else {
                if prec > digs.dp {
                    prec = nd;
                }
                fmt_f(&mut out, &digs, (prec - digs.dp).max(0));
            }
        }
    }
    out
}

/// strconv's `'x'` format: `-0x1.8p+01`.
fn hex_float(x: f64, prec: i32) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let neg = x.is_sign_negative();
    let bits = x.to_bits();
    let mut exp = ((bits >> 52) & 0x7ff) as i64;
    let mut mant = bits & ((1u64 << 52) - 1);
    if exp == 0 {
        if mant == 0 {
            let mut s = String::from(if neg { "-0x0" } else { "0x0" });
            if prec > 0 {
                s.push('.');
                s.extend(std::iter::repeat_n('0', prec as usize));
            }
            s.push_str("p+00");
            return s;
        }
        // Subnormal: normalise.
        exp = -1022;
        while mant & (1u64 << 52) == 0 {
            mant <<= 1;
            exp -= 1;
        }
        mant &= (1u64 << 52) - 1;
    } else {
        exp -= 1023;
    }
    // 52 fraction bits = 13 hex digits.
    let mut digits: Vec<u8> = (0..13)
        .rev()
        .map(|i| ((mant >> (i * 4)) & 0xf) as u8)
        .collect();
    let mut lead = 1u8;
    if prec >= 0 && (prec as usize) < 13 {
        let p = prec as usize;
        // Round half to even on the dropped digits.
        let rest: Vec<u8> = digits[p..].to_vec();
        digits.truncate(p);
        let half = rest[0] > 8
            || (rest[0] == 8
                && (rest[1..].iter().any(|&d| d != 0)
                    || digits.last().map_or(lead & 1 == 1, |d| d & 1 == 1)));
        if half {
            let mut i = digits.len();
            loop {
                if i == 0 {
                    lead += 1;
                    break;
                }
                i -= 1;
                if digits[i] == 15 {
                    digits[i] = 0;
                } else {
                    digits[i] += 1;
                    break;
                }
            }
            if lead == 2 {
                lead = 1;
                exp += 1;
            }
        }
    } else if prec < 0 {
        while digits.last() == Some(&0) {
            digits.pop();
        }
    } else {
        digits.extend(std::iter::repeat_n(0, prec as usize - 13));
    }
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    s.push_str("0x");
    s.push((b'0' + lead) as char);
    if !digits.is_empty() {
        s.push('.');
        for d in digits {
            s.push(char::from_digit(d as u32, 16).unwrap_or('0'));
        }
    }
    s.push('p');
    s.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        s.push('0');
    }
    s.push_str(&e.to_string());
    s
}

fn fmt_e(out: &mut String, digs: &Digits, prec: i32, fmt: u8) {
    let nd = digs.d.len() as i32;
    out.push(if nd == 0 { '0' } else { digs.d[0] as char });
    if prec > 0 {
        out.push('.');
        let mut i = 1;
        let m = nd.min(prec + 1);
        while i < m {
            out.push(digs.d[i as usize] as char);
            i += 1;
        }
        while i <= prec {
            out.push('0');
            i += 1;
        }
    }
    out.push(fmt as char);
    let mut exp = digs.dp - 1;
    if nd == 0 {
        exp = 0;
    }
    if exp < 0 {
        out.push('-');
        exp = -exp;
    } else {
        out.push('+');
    }
    if exp < 10 {
        out.push('0');
    }
    let _ = write!(out, "{exp}");
}

fn fmt_f(out: &mut String, digs: &Digits, prec: i32) {
    let nd = digs.d.len() as i32;
    if digs.dp > 0 {
        let m = nd.min(digs.dp);
        for k in 0..m {
            out.push(digs.d[k as usize] as char);
        }
        for _ in m..digs.dp {
            out.push('0');
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            let j = digs.dp + i - 1;
            out.push(if 0 <= j && j < nd {
                digs.d[j as usize] as char
            } else {
                '0'
            });
        }
    }
}

fn is_go_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c,
        '\u{ad}' | '\u{600}'..='\u{605}' | '\u{61c}' | '\u{6dd}' | '\u{70f}' | '\u{180e}'
        | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{206f}'
        | '\u{feff}' | '\u{fff9}'..='\u{fffb}' | '\u{e000}'..='\u{f8ff}'
        | '\u{fff0}'..='\u{fff8}' | '\u{fffe}' | '\u{ffff}')
}

fn quote_with(s: &str, q: char, ascii: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        if c == q || c == '\\' {
            out.push('\\');
            out.push(c);
            continue;
        }
        if (!ascii || (c as u32) < 0x80) && is_go_print(c) {
            out.push(c);
            continue;
        }
        match c {
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\x7f' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push(q);
    out
}

/// Go's `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    quote_with(s, '"', false)
}

/// Go's `strconv.QuoteToASCII`.
pub fn go_quote_ascii(s: &str) -> String {
    quote_with(s, '"', true)
}

/// Go's `%c` rune of an integer's `uint64` bits: beyond Unicode (or a
/// surrogate) it is U+FFFD.
fn rune_of(bits: u64) -> char {
    u32::try_from(bits)
        .ok()
        .and_then(char::from_u32)
        .unwrap_or('\u{FFFD}')
}

/// Go's `intFromArg` for `*` widths and precisions: an integer that fits
/// `int` and is at most 1e6 in magnitude.
fn int_from_arg(v: &Value) -> Option<i64> {
    let Value::Int(i, t) = v else { return None };
    let n = i64::try_from(go_int(*i, *t)).ok()?;
    (-1_000_000..=1_000_000).contains(&n).then_some(n)
}

fn quote_rune(c: char) -> String {
    quote_with(&c.to_string(), '\'', false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn s(x: &str) -> Value {
        Value::string(x)
    }

    #[test]
    fn floats_print_like_go_v() {
        // Expected values from Go 1.26 fmt.Sprint(float64).
        let cases = [
            (1e6, "1e+06"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (1.5e-7, "1.5e-07"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (3.0, "3"),
            (-2.5, "-2.5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e21, "1e+21"),
            (123456789.5, "1.234567895e+08"),
        ];
        for (x, want) in cases {
            assert_eq!(fmt_v(&Value::Float(x)), want, "{x}");
        }
    }

    #[test]
    fn sprintf_verbs_match_go() {
        // Expected values from Go 1.26 fmt.Sprintf.
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            ("%d", vec![Value::int(42)], "42"),
            (
                "%5d|%-5d|%05d",
                vec![Value::int(42), Value::int(42), Value::int(-42)],
                "   42|42   |-0042",
            ),
            (
                "%x %X %o %b",
                vec![
                    Value::int(255),
                    Value::int(255),
                    Value::int(8),
                    Value::int(5),
                ],
                "ff FF 10 101",
            ),
            ("%s", vec![s("hi")], "hi"),
            ("%q", vec![s("a\"b\n")], "\"a\\\"b\\n\""),
            (
                "%10s|%-10s|",
                vec![s("ab"), s("cd")],
                "        ab|cd        |",
            ),
            ("%.2s", vec![s("abcdef")], "ab"),
            ("%5.2f", vec![Value::Float(1.23456)], " 1.23"),
            ("%f", vec![Value::Float(1.0)], "1.000000"),
            ("%e", vec![Value::Float(1234.5678)], "1.234568e+03"),
            ("%g", vec![Value::Float(1234.5678)], "1234.5678"),
            ("%.3g", vec![Value::Float(1234.5678)], "1.23e+03"),
            ("%t", vec![Value::Bool(true)], "true"),
            ("%v", vec![Value::list([Value::int(1), s("a")])], "[1 a]"),
            ("%d", vec![s("x")], "%!d(string=x)"),
            ("%d", vec![Value::Float(80.0)], "%!d(float64=80)"),
            ("%s", vec![Value::int(5)], "%!s(int=5)"),
            ("%d %d", vec![Value::int(1)], "1 %!d(MISSING)"),
            ("%d", vec![Value::int(1), s("x")], "1%!(EXTRA string=x)"),
            ("100%%", vec![], "100%"),
            ("%c", vec![Value::int(65)], "A"),
            ("%+d", vec![Value::int(5)], "+5"),
            ("%x", vec![s("hi")], "6869"),
            (
                "%T %T %T",
                vec![Value::int(1), s("a"), Value::Float(1.0)],
                "int string float64",
            ),
            ("%s", vec![Value::Nil], "%!s(<nil>)"),
            ("%v", vec![Value::Nil], "<nil>"),
            ("%", vec![], "%!(NOVERB)"),
        ];
        for (f, args, want) in cases {
            assert_eq!(sprintf(f, &args), want, "format {f:?}");
        }
    }

    #[test]
    fn sprint_spacing_follows_go() {
        assert_eq!(
            sprint(&[s("a"), Value::int(1), Value::int(2), s("b")]),
            "a1 2b"
        );
        assert_eq!(sprintln(&[s("a"), Value::int(1)]), "a 1\n");
    }

    #[test]
    fn maps_print_sorted_like_go() {
        let m = Value::map([("b".into(), Value::int(2)), ("a".into(), Value::Nil)]);
        assert_eq!(fmt_v(&m), "map[a:<nil> b:2]");
        assert_eq!(fmt_v(&Value::Bytes(vec![1u8, 2].into())), "[1 2]");
    }
}
