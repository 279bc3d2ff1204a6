//! Recombines a data key that SOPS split over several key groups with Shamir's secret sharing
//! (HashiCorp Vault's scheme: GF(2^8) with the AES polynomial, one x coordinate per share in
//! its last byte).

/// Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1.
fn mult(mut a: u8, mut b: u8) -> u8 {
    let mut out = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            out ^= a;
        }
        let carry = a & 0x80 != 0;
        a <<= 1;
        if carry {
            a ^= 0x1b;
        }
        b >>= 1;
    }
    out
}

/// a^254 = a^-1 for a != 0.
fn inverse(a: u8) -> u8 {
    let mut result = 1u8;
    for _ in 0..254 {
        result = mult(result, a);
    }
    result
}

/// Lagrange interpolation of the shares' polynomial at x = 0.
fn interpolate_at_zero(xs: &[u8], ys: &[u8]) -> u8 {
    let mut result = 0u8;
    for (i, (&xi, &yi)) in xs.iter().zip(ys).enumerate() {
        let mut basis = 1u8;
        for (j, &xj) in xs.iter().enumerate() {
            if i != j {
                // (0 - xj) / (xi - xj); subtraction is XOR.
                basis = mult(basis, mult(xj, inverse(xi ^ xj)));
            }
        }
        result ^= mult(yi, basis);
    }
    result
}

/// Recovers the secret from at least two shares of equal length.
pub(crate) fn combine(parts: &[Vec<u8>]) -> Result<Vec<u8>, String> {
    if parts.len() < 2 {
        return Err("less than two parts cannot be used to reconstruct the secret".into());
    }
    let len = parts[0].len();
    if len < 2 || parts.iter().any(|p| p.len() != len) {
        return Err("parts must all have the same length of at least two bytes".into());
    }
    let xs: Vec<u8> = parts.iter().map(|p| p[len - 1]).collect();
    for (i, x) in xs.iter().enumerate() {
        if xs[..i].contains(x) {
            return Err("duplicate part detected".into());
        }
    }
    let mut ys = vec![0u8; parts.len()];
    Ok((0..len - 1)
        .map(|idx| {
            for (y, part) in ys.iter_mut().zip(parts) {
                *y = part[idx];
            }
            interpolate_at_zero(&xs, &ys)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_arithmetic_is_rijndaels() {
        assert_eq!(mult(0x57, 0x83), 0xc1);
        assert_eq!(mult(0x57, 0x13), 0xfe);
        for a in 1..=255u8 {
            assert_eq!(mult(a, inverse(a)), 1, "{a}");
        }
    }

    /// Shares of a degree-1 polynomial f(x) = s + c·x evaluated at x = 1, 2, 3.
    #[test]
    fn any_two_of_three_shares_recover_the_secret() {
        let secret = [0x42u8, 0x00, 0xff];
        let coeff = [0x17u8, 0xa5, 0x01];
        let share = |x: u8| -> Vec<u8> {
            let mut v: Vec<u8> = secret
                .iter()
                .zip(coeff)
                .map(|(&s, c)| s ^ mult(c, x))
                .collect();
            v.push(x);
            v
        };
        let (a, b, c) = (share(1), share(2), share(3));
        assert_eq!(combine(&[a.clone(), b.clone()]).unwrap(), secret);
        assert_eq!(combine(&[c.clone(), a.clone()]).unwrap(), secret);
        assert_eq!(combine(&[a.clone(), b, c]).unwrap(), secret);
        assert!(combine(&[a.clone(), a]).is_err());
    }
}
