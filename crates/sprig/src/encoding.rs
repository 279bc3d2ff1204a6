//! base64 / base32 (Go's StdEncoding: padded, newlines ignored, errors
//! returned as the result text).

use base64::Engine;
use ferroflux_gotemplate::Value;

use crate::conv::str_arg;
use crate::{Arity, Reg};

const B64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireCanonical),
);

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

pub(crate) fn register(r: &mut Reg<'_>) {
    r.add("b64enc", Arity::Exact(1), |a| {
        Ok(Value::from(B64.encode(str_arg(&a[0])?)))
    });
    r.add("b64dec", Arity::Exact(1), |a| {
        let s: String = str_arg(&a[0])?
            .chars()
            .filter(|c| *c != '\n' && *c != '\r')
            .collect();
        Ok(Value::from(match B64.decode(&s) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => format!(
                "illegal base64 data at input byte {}",
                b64_err_offset(&e, &s)
            ),
        }))
    });
    r.add("b32enc", Arity::Exact(1), |a| {
        Ok(Value::from(b32enc(str_arg(&a[0])?.as_bytes())))
    });
    r.add("b32dec", Arity::Exact(1), |a| {
        let s: String = str_arg(&a[0])?
            .chars()
            .filter(|c| *c != '\n' && *c != '\r')
            .collect();
        Ok(Value::from(match b32dec(s.as_bytes()) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(at) => format!("illegal base32 data at input byte {at}"),
        }))
    });
}

fn b64_err_offset(e: &base64::DecodeError, s: &str) -> usize {
    match e {
        base64::DecodeError::InvalidByte(i, _) => *i,
        base64::DecodeError::InvalidLastSymbol(i, _) => *i,
        base64::DecodeError::InvalidLength(_) | base64::DecodeError::InvalidPadding => {
            // Go reports the end of the last complete quantum
            s.len() / 4 * 4
        }
    }
}

pub(crate) fn b32enc(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = u64::from_be_bytes([0, 0, 0, buf[0], buf[1], buf[2], buf[3], buf[4]]);
        let chars = match chunk.len() {
            1 => 2,
            2 => 4,
            3 => 5,
            4 => 7,
            _ => 8,
        };
        for i in 0..8 {
            if i < chars {
                out.push(char::from(B32[((n >> (35 - 5 * i)) & 31) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Go's padded base32 decoding; the error is the offending input offset.
fn b32dec(s: &[u8]) -> Result<Vec<u8>, usize> {
    if !s.len().is_multiple_of(8) {
        return Err(s.len() / 8 * 8);
    }
    let mut out = Vec::new();
    for (q, chunk) in s.chunks(8).enumerate() {
        let pad = chunk.iter().rev().take_while(|c| **c == b'=').count();
        let data = 8 - pad;
        let bytes = match data {
            8 => 5,
            7 => 4,
            5 => 3,
            4 => 2,
            2 => 1,
            _ => return Err(q * 8 + data),
        };
        if pad > 0 && q != s.len() / 8 - 1 {
            return Err(q * 8 + data);
        }
        let mut n = 0u64;
        for (i, c) in chunk[..data].iter().enumerate() {
            let v = B32.iter().position(|x| x == c).ok_or(q * 8 + i)?;
            n |= (v as u64) << (35 - 5 * i);
        }
        let b = n.to_be_bytes();
        out.extend_from_slice(&b[3..3 + bytes]);
    }
    Ok(out)
}
