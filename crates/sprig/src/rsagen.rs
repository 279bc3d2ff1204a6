//! RSA key generation for genPrivateKey / genCA / genSelfSigned / genSignedCert.
//!
//! Sprig calls Go's `rsa.GenerateKey` (4096 bits for `genPrivateKey "rsa"`,
//! 2048 for the certificate functions), and charts call these on every render
//! (bitnami/etcd makes three 4096-bit keys per render), so key generation
//! dominates their rendering time. `rsa::RsaPrivateKey::new` sieves only by
//! the primes up to 53 and tests with `num-bigint-dig`'s `modpow`; here:
//!
//! * each prime search draws a random odd start with its top two bits set from
//!   a CSPRNG (`rand::thread_rng`, ChaCha-based, OS-seeded) and sieves the next
//!   [`WINDOW`] odd numbers by every odd prime below [`SIEVE_LIMIT`] and by
//!   p ≡ 1 (mod e). The start's residues come from one division per group of
//!   primes whose product fits a word (a division by an invariant with a
//!   precomputed reciprocal; eight groups' division chains interleaved), so
//!   a wide sieve stays cheap;
//! * survivors are filtered by a test to base 2, which rejects almost every
//!   composite: where the CPU has AVX-512 IFMA, Fermat tests of eight
//!   survivors at once (`ferroflux-simd-prime`, ~4.4x cheaper per candidate);
//!   elsewhere a strong-probable-prime test (squarings and a shift per 6
//!   exponent bits, [`crate::montgomery`]). Only the Miller-Rabin rounds with
//!   uniformly random bases that FIPS 186-5 Appendix B.3.1 / Table B.1 asks
//!   for at that size (the same counts as Go's `crypto/internal/fips140/rsa`)
//!   decide that a number is prime;
//! * two threads search at once and the first two primes found become p and
//!   q, so wall time is about half the CPU time (splitting p and q between the
//!   threads would wait for the slower search);
//! * |p - q| > 2^(bits/2 - 100) (FIPS 186-5 A.1.3), n has exactly `bits`
//!   bits, and `rsa::RsaPrivateKey::from_p_q` computes d = e^-1 mod λ(n).
//!
//! Every call returns a fresh key; nothing is cached.

use crate::montgomery::{MillerRabin, bit_len};
use rand::RngCore;
use rsa::{BigUint, RsaPrivateKey};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

/// RSA public exponent, as Go's `rsa.GenerateKey` uses.
const E: u32 = 65537;
/// Sieve primes: odd primes below this bound. Each start costs one word
/// division per limb per group of primes; a wider sieve saves base-2 tests
/// (survivors fall as 1 / ln(bound)) until those divisions cost more.
const SIEVE_LIMIT: u32 = 1 << 20;
/// Candidates (odd numbers) sieved from one random start before drawing a new
/// one; primes of 2048 bits lie ~1420 apart on average (~710 odd numbers), so
/// a window holds none with probability ~e^-11.
const WINDOW: usize = 1 << 13;
/// Largest supported prime, in 64-bit limbs (keys up to 8192 bits).
const MAX_LIMBS: usize = 64;

// e itself is sieved (it is prime), so it must lie below the bound.
const _: () = assert!(SIEVE_LIMIT > E);

/// Errors of key generation (mapped to a template error by the caller).
#[derive(Debug)]
pub(crate) struct GenError(pub(crate) String);

/// Generates an RSA key of `bits` bits (two primes of `bits / 2` bits, e = 65537).
pub(crate) fn generate(bits: usize) -> Result<RsaPrivateKey, GenError> {
    if bits < 64 || !bits.is_multiple_of(2) || bits / 2 > 64 * MAX_LIMBS {
        return Err(GenError(format!("unsupported RSA key size {bits}")));
    }
    let half = bits / 2;
    // The prime's limbs, padded up to a width the arithmetic is built for.
    let (p, q) = match half.div_ceil(64) {
        1 => two_primes::<1, 2>(half),
        2 => two_primes::<2, 4>(half),
        3..=4 => two_primes::<4, 8>(half),
        5..=8 => two_primes::<8, 16>(half),
        9..=16 => two_primes::<16, 32>(half),
        17..=32 => two_primes::<32, 64>(half),
        _ => two_primes::<64, 128>(half),
    };
    let key =
        RsaPrivateKey::from_p_q(p, q, BigUint::from(E)).map_err(|e| GenError(e.to_string()))?;
    Ok(key)
}

/// Two distinct primes of `half` bits that are far enough apart, found by two
/// threads; the product of two always has exactly `2 * half` bits.
fn two_primes<const N: usize, const W: usize>(half: usize) -> (BigUint, BigUint) {
    let groups = sieve_groups();
    loop {
        let found: Mutex<Vec<[u64; N]>> = Mutex::new(Vec::with_capacity(3));
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            let helper = std::thread::Builder::new()
                .name("rsa-prime".into())
                .spawn_scoped(s, || search::<N, W>(half, groups, &found, &stop));
            search::<N, W>(half, groups, &found, &stop);
            // Without a helper thread (spawn failed) this thread found both.
            if let Ok(h) = helper {
                let _ = h.join();
            }
        });
        let found = found.into_inner().unwrap_or_else(|e| e.into_inner());
        let (p, q) = (to_biguint(&found[0]), to_biguint(&found[1]));
        let diff = if p > q { &p - &q } else { &q - &p };
        // FIPS 186-5 A.1.3 step 5.5; fails with probability ~2^-98 at real sizes.
        let far_enough = if half > 100 {
            diff.bits() > half - 100
        } else {
            diff.bits() > 0
        };
        if far_enough && (&p * &q).bits() == 2 * half {
            return (p, q);
        }
    }
}

/// Searches primes until two have been found (by this or the other thread).
fn search<const N: usize, const W: usize>(
    half: usize,
    groups: &SieveGroups,
    found: &Mutex<Vec<[u64; N]>>,
    stop: &AtomicBool,
) {
    let mut rng = rand::thread_rng();
    let mut sieve = vec![false; WINDOW];
    let mut stats = Stats::default();
    let simd = ferroflux_simd_prime::available();
    while !stop.load(Ordering::Relaxed) {
        if let Some(p) =
            find_prime::<N, W>(half, groups, &mut sieve, &mut rng, stop, &mut stats, simd)
        {
            let mut f = found.lock().unwrap_or_else(|e| e.into_inner());
            f.push(p);
            if f.len() >= 2 {
                stop.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// Miller-Rabin rounds with random bases for a prime of `bits` bits: FIPS
/// 186-5 Table B.1 as Go's FIPS module applies it (error ≤ 2^-100 or better
/// for random candidates of that size).
fn random_rounds(bits: usize) -> usize {
    match bits {
        3747.. => 3,
        1345.. => 4,
        476.. => 5,
        400.. => 6,
        347.. => 7,
        308.. => 8,
        55.. => 27,
        _ => 34,
    }
}

/// Sieves one window from a fresh random start and tests its survivors.
/// `None` when the window holds no prime or the search was stopped. `simd`:
/// filter with `ferroflux-simd-prime` (where it is available).
fn find_prime<const N: usize, const W: usize>(
    half: usize,
    groups: &SieveGroups,
    sieve: &mut [bool],
    rng: &mut impl RngCore,
    stop: &AtomicBool,
    stats: &mut Stats,
    simd: bool,
) -> Option<[u64; N]> {
    let start = random_start::<N>(half, rng);
    sieve_window(&start, groups, sieve);
    stats.windows += 1;
    let rounds = random_rounds(half);
    let mut survivors = sieve
        .iter()
        .enumerate()
        .filter(|(_, hit)| !**hit)
        .map(|(k, _)| add_small(&start, 2 * k as u64));
    // Candidates per step: eight for the vector filter, else one.
    let width = if simd && N >= 8 {
        ferroflux_simd_prime::LANES
    } else {
        1
    };
    loop {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        // Past the top of the range (bit length grows) the window ends.
        let batch: Vec<[u64; N]> = survivors
            .by_ref()
            .take(width)
            .take_while(|c| bit_len(c) == half)
            .collect();
        let end = batch.len() < width;
        // Eight Fermat tests at once where the CPU has AVX-512 IFMA: a
        // composite fails with near certainty, so only passing candidates
        // get Miller-Rabin (which alone decides); elsewhere each candidate
        // gets the scalar strong test to base 2 first.
        let pass = if width > 1 {
            let refs: Vec<&[u64]> = batch.iter().map(|c| c.as_slice()).collect();
            ferroflux_simd_prime::fermat_base2(&refs)
        } else {
            None
        };
        stats.base2_tests += batch.len() as u64;
        for (k, cand) in batch.iter().enumerate() {
            if pass.is_some_and(|mask| mask >> k & 1 == 0) {
                continue;
            }
            let Some(mr) = MillerRabin::<N, W>::new(cand) else {
                continue;
            };
            if pass.is_some() {
                // The rounds run side by side in the vector lanes too.
                let bases = mr.random_bases(rounds, rng);
                let refs: Vec<&[u64]> = bases.iter().map(|b| b.as_slice()).collect();
                let prime = match ferroflux_simd_prime::miller_rabin(cand, &refs) {
                    Some(prime) => prime,
                    None => bases.iter().all(|b| mr.round(b)),
                };
                if prime {
                    return Some(*cand);
                }
            } else if mr.base2() && mr.random_rounds(rounds, rng) {
                return Some(*cand);
            }
        }
        if end {
            return None;
        }
    }
}

/// Marks in `sieve` (candidate `k` is `start + 2k`) every candidate divisible
/// by a sieve prime or ≡ 1 (mod e).
fn sieve_window<const N: usize>(start: &[u64; N], groups: &SieveGroups, sieve: &mut [bool]) {
    sieve.iter_mut().for_each(|x| *x = false);
    let (chunks, rest) = groups.groups.as_chunks::<LANES>();
    for gs in chunks {
        let rs = Group::residues(gs, start);
        for (g, r) in gs.iter().zip(rs) {
            sieve_group(groups, g, r, sieve);
        }
    }
    for g in rest {
        sieve_group(groups, g, g.residue(start), sieve);
    }
}

/// Groups whose residues are computed together: their division chains are
/// independent, so the CPU overlaps them (one chain is latency-bound).
const LANES: usize = 8;

/// Marks the multiples of `g`'s primes given `start mod` their product.
#[inline(always)]
fn sieve_group(groups: &SieveGroups, g: &Group, r: u64, sieve: &mut [bool]) {
    for &p in &groups.primes[g.first..g.end] {
        let rp = (r % u64::from(p)) as u32;
        mark(sieve, first_hit(rp, 0, p), p);
        if p == E {
            mark(sieve, first_hit(rp, 1, p), p);
        }
    }
}

/// Work counters of a prime search (read by the benchmark).
#[derive(Debug, Default, Clone, Copy)]
struct Stats {
    windows: u64,
    base2_tests: u64,
}

/// Marks candidates `k, k + p, ...` of the window.
fn mark(sieve: &mut [bool], mut k: usize, p: u32) {
    while k < sieve.len() {
        sieve[k] = true;
        k += p as usize;
    }
}

/// A random odd number of exactly `bits` bits with its top two bits set (so
/// the product of two is exactly `2 * bits` bits).
fn random_start<const N: usize>(bits: usize, rng: &mut impl RngCore) -> [u64; N] {
    let mut x = [0u64; N];
    let top = (bits - 1) / 64;
    for l in x.iter_mut().take(top + 1) {
        *l = rng.next_u64();
    }
    let used = bits - 64 * top; // bits in the top limb, 1..=64
    if used < 64 {
        x[top] &= (1u64 << used) - 1;
    }
    for b in [bits - 1, bits - 2] {
        x[b / 64] |= 1 << (b % 64);
    }
    x[0] |= 1;
    x
}

/// `a + k` (no overflow out of N limbs: callers check the bit length).
fn add_small<const N: usize>(a: &[u64; N], k: u64) -> [u64; N] {
    let mut out = *a;
    let mut carry = k;
    for l in out.iter_mut() {
        let (s, o) = l.overflowing_add(carry);
        *l = s;
        carry = u64::from(o);
        if carry == 0 {
            break;
        }
    }
    out
}

fn to_biguint(x: &[u64]) -> BigUint {
    let bytes: Vec<u8> = x.iter().flat_map(|l| l.to_le_bytes()).collect();
    BigUint::from_bytes_le(&bytes)
}

/// Index `k` (candidate `start + 2k`) of the first candidate ≡ `target` (mod `m`),
/// given `start ≡ r` (mod `m`), `m` odd, `target, r < m`: k = need / 2 with
/// need = target - r (mod m) made even by adding m (no division). Written
/// with masks: both conditions are coin flips, so branches would mispredict
/// about once per prime.
#[inline(always)]
fn first_hit(r: u32, target: u32, m: u32) -> usize {
    let (m, d) = (u64::from(m), u64::from(target).wrapping_sub(u64::from(r)));
    // d + m when target < r.
    let need = d.wrapping_add(m & 0u64.wrapping_sub(d >> 63));
    ((need + (m & 0u64.wrapping_sub(need & 1))) / 2) as usize
}

/// The sieve primes, grouped so each group's product fits in a word.
struct SieveGroups {
    primes: Vec<u32>,
    groups: Vec<Group>,
}

/// Consecutive primes `primes[first..end]` with their product `d << shift`
/// (`d` normalized: top bit set) and `v`, d's reciprocal for 2-by-1 division
/// (Möller and Granlund, "Improved division by invariant integers", 2011).
struct Group {
    first: usize,
    end: usize,
    d: u64,
    shift: u32,
    v: u64,
}

impl Group {
    fn new(first: usize, end: usize, product: u64) -> Self {
        let shift = product.leading_zeros();
        let d = product << shift;
        // v = floor((2^128 - 1) / d) - 2^64.
        let v = (u128::MAX / u128::from(d) - (1u128 << 64)) as u64;
        Group {
            first,
            end,
            d,
            shift,
            v,
        }
    }

    /// `x mod product`: the limbs of `x * 2^shift`, top down, through
    /// 2-by-1 divisions by the normalized `d`; the remainder shifted back.
    fn residue(&self, x: &[u64]) -> u64 {
        let s = self.shift;
        let mut r = 0u64;
        let n = x.len();
        for i in (0..=n).rev() {
            let hi = if i < n { x[i] << s } else { 0 };
            let lo = if s > 0 && i > 0 {
                x[i - 1] >> (64 - s)
            } else {
                0
            };
            r = self.rem_2by1(r, hi | lo);
        }
        r >> s
    }

    /// [`Self::residue`] of `x` for each of `LANES` groups, interleaved.
    #[inline(always)]
    fn residues(gs: &[Group; LANES], x: &[u64]) -> [u64; LANES] {
        let mut r = [0u64; LANES];
        let n = x.len();
        for i in (0..=n).rev() {
            let hi = if i < n { x[i] } else { 0 };
            let lo = if i > 0 { x[i - 1] } else { 0 };
            for (rk, g) in r.iter_mut().zip(gs) {
                let s = g.shift;
                let word = (hi << s) | if s > 0 { lo >> (64 - s) } else { 0 };
                *rk = g.rem_2by1(*rk, word);
            }
        }
        std::array::from_fn(|k| r[k] >> gs[k].shift)
    }

    /// `(u1 * 2^64 + u0) mod d` for `u1 < d`.
    #[inline(always)]
    fn rem_2by1(&self, u1: u64, u0: u64) -> u64 {
        // Computed modulo 2^128, as the algorithm specifies.
        let q = (u128::from(self.v) * u128::from(u1))
            .wrapping_add((u128::from(u1) << 64) | u128::from(u0));
        let q1 = ((q >> 64) as u64).wrapping_add(1);
        let q0 = q as u64;
        let mut r = u0.wrapping_sub(q1.wrapping_mul(self.d));
        if r > q0 {
            r = r.wrapping_add(self.d);
        }
        if r >= self.d {
            r -= self.d;
        }
        r
    }
}

/// Odd primes below [`SIEVE_LIMIT`] (sieve of Eratosthenes) and their groups,
/// built once per process.
fn sieve_groups() -> &'static SieveGroups {
    static GROUPS: OnceLock<SieveGroups> = OnceLock::new();
    GROUPS.get_or_init(|| {
        let primes = small_primes();
        let mut groups = Vec::new();
        let (mut first, mut product) = (0usize, 1u64);
        for (i, &p) in primes.iter().enumerate() {
            match product.checked_mul(u64::from(p)) {
                Some(x) => product = x,
                None => {
                    groups.push(Group::new(first, i, product));
                    (first, product) = (i, u64::from(p));
                }
            }
        }
        groups.push(Group::new(first, primes.len(), product));
        SieveGroups { primes, groups }
    })
}

/// Odd primes below [`SIEVE_LIMIT`].
fn small_primes() -> Vec<u32> {
    // Odd numbers only: index i stands for 2i + 1.
    let n = SIEVE_LIMIT as usize / 2;
    let mut composite = vec![false; n];
    let mut out = Vec::with_capacity(n / 6);
    for i in 1..n {
        if composite[i] {
            continue;
        }
        let p = 2 * i + 1;
        out.push(p as u32);
        // Odd multiples from p^2 on, 2p apart (p apart in index).
        let mut j = p * p / 2;
        while j < n {
            composite[j] = true;
            j += p;
        }
    }
    out
}

/// Entry points for `examples/rsagen_bench.rs`, which times the parts of key
/// generation separately. Not an API: only the sizes RSA keys use.
#[doc(hidden)]
pub mod bench {
    use super::*;

    /// Calls `f::<N, W>()` with the limb width for primes of `bits` bits.
    macro_rules! by_width {
        ($bits:expr, $f:ident ( $($arg:expr),* )) => {
            match $bits.div_ceil(64) {
                1..=8 => $f::<8, 16>($($arg),*),
                9..=16 => $f::<16, 32>($($arg),*),
                17..=32 => $f::<32, 64>($($arg),*),
                _ => $f::<64, 128>($($arg),*),
            }
        };
    }

    /// Base-2 strong tests (context set-up included, as in the search) of
    /// `count` random odd `bits`-bit numbers; returns how many passed.
    pub fn base2_tests(bits: usize, count: usize) -> usize {
        by_width!(bits, base2_n(bits, count))
    }

    fn base2_n<const N: usize, const W: usize>(bits: usize, count: usize) -> usize {
        let mut rng = rand::thread_rng();
        (0..count)
            .filter(|_| {
                let c = random_start::<N>(bits, &mut rng);
                MillerRabin::<N, W>::new(&c).is_some_and(|mr| mr.base2())
            })
            .count()
    }

    /// Fermat tests to base 2 of `count` random odd `bits`-bit numbers,
    /// eight at a time with AVX-512 IFMA; `None` where that cannot run.
    pub fn simd_fermat_tests(bits: usize, count: usize) -> Option<usize> {
        by_width!(bits, simd_fermat_n(bits, count))
    }

    fn simd_fermat_n<const N: usize, const W: usize>(bits: usize, count: usize) -> Option<usize> {
        let mut rng = rand::thread_rng();
        let mut passed = 0;
        for _ in 0..count.div_ceil(ferroflux_simd_prime::LANES) {
            let batch: Vec<[u64; N]> = (0..ferroflux_simd_prime::LANES)
                .map(|_| random_start::<N>(bits, &mut rng))
                .collect();
            let refs: Vec<&[u64]> = batch.iter().map(|c| c.as_slice()).collect();
            passed += ferroflux_simd_prime::fermat_base2(&refs)?.count_ones() as usize;
        }
        Some(passed)
    }

    /// Sieves `count` windows from random `bits`-bit starts; returns the
    /// number of survivors.
    pub fn sieve_windows(bits: usize, count: usize) -> usize {
        by_width!(bits, sieve_n(bits, count))
    }

    fn sieve_n<const N: usize, const W: usize>(bits: usize, count: usize) -> usize {
        let groups = sieve_groups();
        let mut rng = rand::thread_rng();
        let mut sieve = vec![false; WINDOW];
        let mut survivors = 0;
        for _ in 0..count {
            let start = random_start::<N>(bits, &mut rng);
            sieve_window(&start, groups, &mut sieve);
            survivors += sieve.iter().filter(|x| !**x).count();
        }
        survivors
    }

    /// One prime of `bits` bits found on this thread alone: (windows sieved,
    /// base-2 tests run).
    pub fn one_prime(bits: usize) -> (u64, u64) {
        by_width!(bits, one_prime_n(bits))
    }

    fn one_prime_n<const N: usize, const W: usize>(bits: usize) -> (u64, u64) {
        let groups = sieve_groups();
        let mut rng = rand::thread_rng();
        let mut sieve = vec![false; WINDOW];
        let mut stats = Stats::default();
        let stop = AtomicBool::new(false);
        let simd = ferroflux_simd_prime::available();
        while find_prime::<N, W>(bits, groups, &mut sieve, &mut rng, &stop, &mut stats, simd)
            .is_none()
        {}
        (stats.windows, stats.base2_tests)
    }

    /// Random-base Miller-Rabin rounds (base drawn, converted, exponentiated)
    /// on `count` random odd `bits`-bit numbers; returns how many passed.
    pub fn random_rounds(bits: usize, count: usize) -> usize {
        by_width!(bits, rounds_n(bits, count))
    }

    fn rounds_n<const N: usize, const W: usize>(bits: usize, count: usize) -> usize {
        let mut rng = rand::thread_rng();
        (0..count)
            .filter(|_| {
                let c = random_start::<N>(bits, &mut rng);
                MillerRabin::<N, W>::new(&c).is_some_and(|mr| mr.random_rounds(1, &mut rng))
            })
            .count()
    }

    /// `count` sets of the Miller-Rabin rounds a `bits`-bit prime gets, each
    /// set run side by side in AVX-512 IFMA lanes, on random odd numbers;
    /// `None` where that cannot run.
    pub fn simd_rounds(bits: usize, count: usize) -> Option<usize> {
        by_width!(bits, simd_rounds_n(bits, count))
    }

    fn simd_rounds_n<const N: usize, const W: usize>(bits: usize, count: usize) -> Option<usize> {
        let mut rng = rand::thread_rng();
        let mut passed = 0;
        for _ in 0..count {
            let c = random_start::<N>(bits, &mut rng);
            let Some(mr) = MillerRabin::<N, W>::new(&c) else {
                continue;
            };
            let bases = mr.random_bases(super::random_rounds(bits), &mut rng);
            let refs: Vec<&[u64]> = bases.iter().map(|b| b.as_slice()).collect();
            passed += usize::from(ferroflux_simd_prime::miller_rabin(&c, &refs)?);
        }
        Some(passed)
    }

    /// Rounds key generation runs on a prime of `bits` bits after base 2.
    pub fn rounds_per_prime(bits: usize) -> usize {
        super::random_rounds(bits)
    }

    /// Expected base-2 tests per prime found: survivors of the sieve per
    /// prime, `(bits ln 2 / 2) * Π (1 - 1/p)` over the sieve primes.
    pub fn expected_tests(bits: usize) -> f64 {
        let survive: f64 = sieve_groups()
            .primes
            .iter()
            .map(|&p| 1.0 - 1.0 / f64::from(p))
            .product();
        bits as f64 * std::f64::consts::LN_2 / 2.0 * survive
    }

    /// A full key, as `genPrivateKey` makes it.
    pub fn generate_key(bits: usize) -> Result<(), String> {
        generate(bits).map(|_| ()).map_err(|e| e.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::montgomery::MillerRabin;
    use rsa::pkcs1v15::{SigningKey, VerifyingKey};
    use rsa::signature::{RandomizedSigner, Verifier};
    use rsa::traits::{PrivateKeyParts, PublicKeyParts};

    fn limbs<const N: usize>(x: &BigUint) -> [u64; N] {
        let mut out = [0u64; N];
        for (i, chunk) in x.to_bytes_le().chunks(8).enumerate() {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            out[i] = u64::from_le_bytes(b);
        }
        out
    }

    /// Full test as key generation runs it: base 2, then random rounds.
    fn is_prime<const N: usize, const W: usize>(x: &BigUint) -> bool {
        let mut rng = rand::thread_rng();
        MillerRabin::<N, W>::new(&limbs(x))
            .is_some_and(|mr| mr.base2() && mr.random_rounds(random_rounds(x.bits()), &mut rng))
    }

    fn gcd(mut a: BigUint, mut b: BigUint) -> BigUint {
        while b != BigUint::from(0u32) {
            (a, b) = (b.clone(), a % b);
        }
        a
    }

    fn mersenne(p: usize) -> BigUint {
        (BigUint::from(1u32) << p) - BigUint::from(1u32)
    }

    #[test]
    fn small_primes_are_the_odd_primes() {
        let s = small_primes();
        assert_eq!(&s[..6], &[3, 5, 7, 11, 13, 17]);
        assert_eq!(s.len(), 82_024); // π(2^20) - 1
        assert!(
            s.iter()
                .all(|&p| (2..p).take_while(|d| d * d <= p).all(|d| p % d != 0))
        );
    }

    #[test]
    fn group_residues_match_bigint_remainders() {
        let g = sieve_groups();
        let mut rng = rand::thread_rng();
        let x: [u64; 32] = std::array::from_fn(|_| rng.next_u64());
        let big = to_biguint(&x);
        for grp in g.groups.iter().step_by(97).chain(g.groups.last()) {
            let product: u64 = g.primes[grp.first..grp.end]
                .iter()
                .map(|&p| u64::from(p))
                .product();
            assert_eq!(
                BigUint::from(grp.residue(&x)),
                &big % BigUint::from(product),
                "group {}..{}",
                grp.first,
                grp.end
            );
        }
        // Every prime is in exactly one group, in order.
        assert_eq!(g.groups[0].first, 0);
        assert!(g.groups.windows(2).all(|w| w[0].end == w[1].first));
        assert_eq!(g.groups.last().map(|x| x.end), Some(g.primes.len()));
    }

    #[test]
    fn interleaved_residues_match_single_ones() {
        let g = sieve_groups();
        let mut rng = rand::thread_rng();
        let x: [u64; 16] = std::array::from_fn(|_| rng.next_u64());
        let (chunks, _) = g.groups.as_chunks::<LANES>();
        for gs in chunks.iter().step_by(53) {
            let rs = Group::residues(gs, &x);
            for (grp, r) in gs.iter().zip(rs) {
                assert_eq!(r, grp.residue(&x));
            }
        }
    }

    #[test]
    fn sieve_marks_exactly_small_multiples_and_one_mod_e() {
        let g = sieve_groups();
        let mut rng = rand::thread_rng();
        let start = random_start::<16>(1024, &mut rng);
        let mut sieve = vec![false; WINDOW];
        sieve_window(&start, g, &mut sieve);
        // Expected marks from BigUint residues: candidate start + 2k is
        // divisible by p when k ≡ -r / 2 (mod p).
        let big = to_biguint(&start);
        let mut want = vec![false; WINDOW];
        let mut mark_from = |k0: u64, p: u64| {
            let mut k = k0 as usize;
            while k < WINDOW {
                want[k] = true;
                k += p as usize;
            }
        };
        for &p in &g.primes {
            let p = u64::from(p);
            let r = (&big % BigUint::from(p))
                .to_bytes_le()
                .iter()
                .rev()
                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
            let half = p.div_ceil(2); // 2^-1 mod p
            mark_from((p - r) % p * half % p, p);
            if p == u64::from(E) {
                mark_from((p + 1 - r) % p * half % p, p);
            }
        }
        assert_eq!(sieve, want);
        let survivors = sieve.iter().filter(|x| !**x).count();
        assert!((400..1000).contains(&survivors), "{survivors} survivors");
    }

    #[test]
    fn miller_rabin_accepts_primes() {
        // Mersenne primes of several widths, and a 1024-bit prime from RFC 3526.
        assert!(is_prime::<1, 2>(&mersenne(61)));
        assert!(is_prime::<2, 4>(&mersenne(127)));
        assert!(is_prime::<16, 32>(&mersenne(521)));
        assert!(is_prime::<16, 32>(&mersenne(607)));
        assert!(is_prime::<32, 64>(&mersenne(1279)));
        let oakley2 = BigUint::parse_bytes(
            b"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74\
              020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437\
              4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED\
              EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
            16,
        )
        .unwrap();
        assert!(is_prime::<16, 32>(&oakley2));
    }

    #[test]
    fn miller_rabin_rejects_carmichael_numbers() {
        let mut rng = rand::thread_rng();
        for c in [561u64, 1105, 1729, 41041, 825265, 321197185, 5394826801] {
            assert!(!is_prime::<1, 2>(&BigUint::from(c)), "{c}");
        }
        // A Chernick Carmichael number (6k+1)(12k+1)(18k+1) of ~200 bits, with
        // the three factors prime (found here with num-bigint-dig's test):
        // every coprime base passes Fermat's test, Miller-Rabin must not.
        let mut bytes = [0u8; 8];
        let chernick = loop {
            rng.fill_bytes(&mut bytes);
            let k = BigUint::from_bytes_le(&bytes);
            let f: Vec<BigUint> = [6u32, 12, 18]
                .iter()
                .map(|&m| &k * BigUint::from(m) + BigUint::from(1u32))
                .collect();
            if f.iter()
                .all(|x| num_bigint_dig::prime::probably_prime(x, 20))
            {
                break &f[0] * &f[1] * &f[2];
            }
        };
        assert_eq!(
            BigUint::from(2u32).modpow(&(&chernick - BigUint::from(1u32)), &chernick),
            BigUint::from(1u32),
            "a Carmichael number passes Fermat's test"
        );
        assert!(!is_prime::<4, 8>(&chernick));
    }

    #[test]
    fn miller_rabin_rejects_strong_pseudoprimes_to_base_2() {
        // 2^p - 1 for prime p is a strong pseudoprime to base 2 whenever it is
        // composite (2^((M-1)/2) = 2^(2^(p-1) - 1) ≡ 1 since p | 2^(p-1) - 1):
        // base 2 alone accepts them, the random rounds must reject them.
        for (p, check) in [
            (11usize, is_prime::<1, 2> as fn(&BigUint) -> bool),
            (67, is_prime::<2, 4>),
            (101, is_prime::<2, 4>),
            (1031, is_prime::<32, 64>),
            (2039, is_prime::<32, 64>),
        ] {
            let m = mersenne(p);
            let mr_limbs = m.bits().div_ceil(64);
            if mr_limbs > 16 {
                let mr = MillerRabin::<32, 64>::new(&limbs(&m)).unwrap();
                assert!(mr.base2(), "M{p} is a base-2 strong pseudoprime");
            }
            assert!(!check(&m), "M{p} is composite");
        }
        assert!(!is_prime::<1, 2>(&BigUint::from(3_215_031_751u64))); // spsp(2,3,5,7)
        assert!(!is_prime::<1, 2>(&BigUint::from(2047u32)));
    }

    #[test]
    fn generated_keys_are_valid_fresh_and_sized() {
        let mut rng = rand::thread_rng();
        for bits in [512, 1024, 2048] {
            let a = generate(bits).unwrap();
            let b = generate(bits).unwrap();
            assert_eq!(a.n().bits(), bits);
            assert_eq!(a.e(), &BigUint::from(65537u32));
            assert_ne!(a.n(), b.n());
            a.validate().unwrap();
            let [p, q] = a.primes() else {
                panic!("two primes")
            };
            assert_eq!(p.bits(), bits / 2);
            assert_eq!(q.bits(), bits / 2);
            assert_eq!(&(p * q), a.n());
            // p ≢ 1 (mod e), |p - q| large, e·d ≡ 1 (mod λ(n)), d < λ(n).
            let one = BigUint::from(1u32);
            let e = BigUint::from(E);
            assert_ne!(p % &e, one);
            assert_ne!(q % &e, one);
            let diff = if p > q { p - q } else { q - p };
            assert!(diff.bits() > bits / 2 - 100);
            let (p1, q1) = (p - &one, q - &one);
            assert_eq!((&e * a.d()) % &p1, one);
            assert_eq!((&e * a.d()) % &q1, one);
            let lambda = &p1 * &q1 / gcd(p1.clone(), q1.clone());
            assert!(a.d() < &lambda);
            // Sign/verify round trip.
            let sk = SigningKey::<sha2::Sha256>::new(a.clone());
            let sig = sk.sign_with_rng(&mut rng, b"ferroflux");
            let vk = VerifyingKey::<sha2::Sha256>::new(a.to_public_key());
            vk.verify(b"ferroflux", &sig).unwrap();
            assert!(vk.verify(b"ferroflux!", &sig).is_err());
            assert!(
                VerifyingKey::<sha2::Sha256>::new(b.to_public_key())
                    .verify(b"ferroflux", &sig)
                    .is_err()
            );
        }
    }

    /// Both filters in front of Miller-Rabin (eight Fermat tests at once with
    /// AVX-512 IFMA, the scalar strong test elsewhere) find only primes of
    /// the asked size, checked by num-bigint-dig's independent test.
    #[test]
    fn simd_and_scalar_filters_both_find_primes() {
        fn primes<const N: usize, const W: usize>(bits: usize, simd: bool) {
            let groups = sieve_groups();
            let mut rng = rand::thread_rng();
            let mut sieve = vec![false; WINDOW];
            let mut stats = Stats::default();
            let stop = AtomicBool::new(false);
            for _ in 0..3 {
                let p = loop {
                    if let Some(p) = find_prime::<N, W>(
                        bits, groups, &mut sieve, &mut rng, &stop, &mut stats, simd,
                    ) {
                        break to_biguint(&p);
                    }
                };
                assert_eq!(p.bits(), bits);
                let dig = num_bigint_dig::BigUint::from_bytes_le(&p.to_bytes_le());
                assert!(num_bigint_dig::prime::probably_prime(&dig, 20), "{p:x}");
            }
            assert!(stats.base2_tests >= 3);
        }
        for simd in [false, true] {
            primes::<8, 16>(512, simd);
            primes::<8, 16>(500, simd);
            primes::<16, 32>(1024, simd);
        }
    }

    #[test]
    fn a_4096_bit_key_is_valid() {
        let k = generate(4096).unwrap();
        assert_eq!(k.n().bits(), 4096);
        k.validate().unwrap();
        for p in k.primes() {
            assert_eq!(p.bits(), 2048);
        }
    }

    #[test]
    fn odd_and_tiny_sizes_are_rejected() {
        assert!(generate(2047).is_err());
        assert!(generate(32).is_err());
        assert!(generate(64 * 64 * 2 + 2).is_err());
        let k = generate(64).unwrap();
        assert_eq!(k.n().bits(), 64);
    }
}
