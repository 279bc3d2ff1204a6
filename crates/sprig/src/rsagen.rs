//! RSA key generation for genPrivateKey / genCA / genSelfSigned / genSignedCert.
//!
//! `rsa::RsaPrivateKey::new` sieves candidates only by the primes up to 53 and
//! then runs 21 Miller-Rabin rounds plus a Lucas test, so most of its time goes
//! to modular exponentiations of composites. Here each prime search draws a
//! random odd start from a CSPRNG (`rand::thread_rng`, ChaCha-based), sieves the
//! next [`WINDOW`] odd numbers by every odd prime below [`SIEVE_LIMIT`] (one
//! residue per prime, then strides: far cheaper than an exponentiation), and
//! only survivors get Miller-Rabin: base 2 first (rejects almost every
//! composite), then [`RANDOM_ROUNDS`] rounds with random bases, well above what
//! FIPS 186-5 Appendix B asks for primes of these sizes. p and q are searched
//! on two threads (halves wall time, not CPU time).
//! Every call returns a fresh key; nothing is cached.

use rand::RngCore;
use rsa::{BigUint, RsaPrivateKey};

/// RSA public exponent, as Go's `rsa.GenerateKey` uses.
const E: u32 = 65537;
/// Random-base Miller-Rabin rounds after the base-2 round.
const RANDOM_ROUNDS: usize = 12;
/// Sieve primes: odd primes below this bound (6541 of them). A larger bound
/// costs more residues per start than it saves in exponentiations for
/// 1024-bit primes.
const SIEVE_LIMIT: u32 = 1 << 16;
/// Candidates (odd numbers) sieved from one random start before drawing a new
/// one; primes of 2048 bits lie ~1420 apart on average (~710 odd numbers), so
/// one window nearly always holds one.
const WINDOW: usize = 1 << 13;

/// Errors of key generation (mapped to a template error by the caller).
#[derive(Debug)]
pub(crate) struct GenError(pub(crate) String);

/// Generates an RSA key of `bits` bits (two primes of `bits / 2` bits, e = 65537).
pub(crate) fn generate(bits: usize) -> Result<RsaPrivateKey, GenError> {
    if bits < 64 || !bits.is_multiple_of(2) {
        return Err(GenError(format!("unsupported RSA key size {bits}")));
    }
    let half = bits / 2;
    let small = small_primes();
    loop {
        let (p, q) = std::thread::scope(|s| {
            let other = s.spawn(|| gen_prime(half, &small));
            let p = gen_prime(half, &small);
            // A panicking search thread is a bug; fall back to searching here.
            let q = other.join().unwrap_or_else(|_| gen_prime(half, &small));
            (p, q)
        });
        if p == q {
            continue;
        }
        let n = &p * &q;
        if n.bits() != bits {
            continue;
        }
        return RsaPrivateKey::from_p_q(p, q, BigUint::from(E))
            .map_err(|e| GenError(e.to_string()));
    }
}

/// Odd primes below [`SIEVE_LIMIT`] (sieve of Eratosthenes).
fn small_primes() -> Vec<u32> {
    let n = SIEVE_LIMIT as usize;
    let mut composite = vec![false; n];
    let mut out = Vec::new();
    for i in 3..n {
        if i.is_multiple_of(2) || composite[i] {
            continue;
        }
        out.push(i as u32);
        let mut j = i * i;
        while j < n {
            composite[j] = true;
            j += i;
        }
    }
    out
}

/// `x mod m` for a big-endian byte string (`m` < 2^32).
fn residue(bytes: &[u8], m: u32) -> u32 {
    let m = u64::from(m);
    let head = bytes.len() % 4;
    let mut r = 0u64;
    for &b in &bytes[..head] {
        r = (r << 8 | u64::from(b)) % m;
    }
    for c in bytes[head..].chunks_exact(4) {
        let w = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        r = (r << 32 | u64::from(w)) % m;
    }
    r as u32
}

/// Index `k` (candidate `start + 2k`) of the first candidate ≡ `target` (mod `m`),
/// given `start ≡ r` (mod `m`), `m` odd.
fn first_hit(r: u32, target: u32, m: u32) -> usize {
    let m64 = u64::from(m);
    let inv2 = m64.div_ceil(2); // (m + 1) / 2 = 2^-1 mod m
    let need = (u64::from(target) + m64 - u64::from(r)) % m64;
    (need * inv2 % m64) as usize
}

/// A random prime of exactly `bits` bits with its top two bits set (so the
/// product of two is exactly `2 * bits` bits) and p ≢ 1 (mod e).
fn gen_prime(bits: usize, small: &[u32]) -> BigUint {
    let mut rng = rand::thread_rng();
    let len = bits.div_ceil(8);
    let top = bits - (len - 1) * 8; // bits used in the first byte, 1..=8
    let mut bytes = vec![0u8; len];
    let mut sieve = vec![false; WINDOW];
    loop {
        rng.fill_bytes(&mut bytes);
        bytes[0] &= ((1u16 << top) - 1) as u8;
        if top >= 2 {
            bytes[0] |= 3 << (top - 2);
        } else {
            bytes[0] |= 1;
            bytes[1] |= 0x80;
        }
        bytes[len - 1] |= 1;
        // sieve[k]: start + 2k has a small factor, or is 1 mod e.
        sieve.iter_mut().for_each(|x| *x = false);
        for &p in small.iter().chain(std::iter::once(&E)) {
            let target = if p == E { 1 } else { 0 };
            let mut k = first_hit(residue(&bytes, p), target, p);
            while k < WINDOW {
                sieve[k] = true;
                k += p as usize;
            }
        }
        let base = BigUint::from_bytes_be(&bytes);
        for (k, _) in sieve.iter().enumerate().filter(|(_, hit)| !**hit) {
            let cand = &base + BigUint::from(2 * k as u64);
            if cand.bits() != bits {
                break;
            }
            if miller_rabin(&cand, &mut rng) {
                return cand;
            }
        }
    }
}

/// Miller-Rabin: base 2, then [`RANDOM_ROUNDS`] random bases in [2, n-2].
fn miller_rabin(n: &BigUint, rng: &mut impl RngCore) -> bool {
    let one = BigUint::from(1u32);
    let two = BigUint::from(2u32);
    let n_minus_1 = n - &one;
    // n is odd and > 3, so n - 1 is even and non-zero.
    let s = n_minus_1.trailing_zeros().unwrap_or(0);
    let d = &n_minus_1 >> s;
    let round = |a: &BigUint| -> bool {
        let mut x = a.modpow(&d, n);
        if x == one || x == n_minus_1 {
            return true;
        }
        for _ in 1..s {
            x = x.modpow(&two, n);
            if x == n_minus_1 {
                return true;
            }
            if x == one {
                return false;
            }
        }
        false
    };
    if !round(&two) {
        return false;
    }
    let len = n.bits().div_ceil(8);
    let mut buf = vec![0u8; len];
    let n_minus_3 = n - BigUint::from(3u32);
    for _ in 0..RANDOM_ROUNDS {
        rng.fill_bytes(&mut buf);
        // a = 2 + (random mod (n - 3)) lies in [2, n - 2].
        let a = BigUint::from_bytes_be(&buf) % &n_minus_3 + &two;
        if !round(&a) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::traits::{PrivateKeyParts, PublicKeyParts};

    #[test]
    fn small_primes_are_the_odd_primes() {
        let s = small_primes();
        assert_eq!(&s[..6], &[3, 5, 7, 11, 13, 17]);
        assert!(
            s.iter()
                .all(|&p| (2..p).take_while(|d| d * d <= p).all(|d| p % d != 0))
        );
    }

    #[test]
    fn miller_rabin_tells_primes_from_composites() {
        let mut rng = rand::thread_rng();
        // 2^127 - 1 (Mersenne prime) and a Carmichael number, 561 * (2^61 - 1).
        let m127 = (BigUint::from(1u32) << 127usize) - BigUint::from(1u32);
        assert!(miller_rabin(&m127, &mut rng));
        let carmichael = BigUint::from(561u32);
        assert!(!miller_rabin(&carmichael, &mut rng));
        let m61 = (BigUint::from(1u32) << 61usize) - BigUint::from(1u32);
        assert!(miller_rabin(&m61, &mut rng));
        assert!(!miller_rabin(&(&m61 * &m127), &mut rng));
    }

    #[test]
    fn generated_keys_are_valid_fresh_and_sized() {
        let a = generate(2048).unwrap();
        let b = generate(2048).unwrap();
        assert_eq!(a.n().bits(), 2048);
        assert_eq!(a.e(), &BigUint::from(65537u32));
        assert_ne!(a.n(), b.n());
        a.validate().unwrap();
        for p in a.primes() {
            assert_eq!(p.bits(), 1024);
        }
    }
}
