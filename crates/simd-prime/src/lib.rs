//! Fermat tests to base 2 of eight large odd numbers at once, for the prime
//! search behind `genPrivateKey` and the certificate functions.
//!
//! RSA key generation spends nearly all its time rejecting composites that
//! survived the sieve: one modular exponentiation `2^(m-1) mod m` each, ~57 of
//! them per 2048-bit prime. Portable 64-bit code does one word product per
//! ~1.7 cycles; AVX-512 IFMA (`vpmadd52luq`/`vpmadd52huq`) does eight 52-bit
//! products per instruction. Running eight *different* candidates in the
//! eight lanes keeps the arithmetic lane-local (no shuffles, no carries
//! between lanes), so each lane runs the textbook algorithm on 52-bit limbs.
//!
//! Only a filter: a number that fails is composite (Fermat's little theorem),
//! a number that passes still gets the caller's full Miller-Rabin test.
//! [`fermat_base2`] returns `None` where it cannot run (no AVX-512 IFMA, not
//! x86-64, an unsupported width); callers then use their scalar test.
//!
//! Timing: the squarings, doublings (masked per lane) and, for Miller-Rabin,
//! the window multiplications and table reads run the same for any exponent
//! bits, so they do not reveal the prime that is kept. Set-up and the final
//! comparisons (scalar, on the candidate) are not constant-time.

#![deny(unsafe_code)]

/// Candidates tested per call.
pub const LANES: usize = 8;

/// Whether [`fermat_base2`] can run on this CPU.
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        ifma::detected()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// For up to [`LANES`] odd numbers `m ≥ 3` given as little-endian 64-bit limbs
/// (all of 8, 16, 32 or 64 limbs, the same count for all), bit `k` of the
/// result is set when `2^(m_k - 1) ≡ 1 (mod m_k)`. `None` when this cannot run
/// here; the caller then tests on its own.
pub fn fermat_base2(cands: &[&[u64]]) -> Option<u8> {
    let width = cands.first()?.len();
    if cands.len() > LANES
        || cands
            .iter()
            .any(|c| c.len() != width || c.first().is_none_or(|l| l & 1 == 0) || bit_len(c) < 2)
    {
        return None;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if !ifma::detected() {
            return None;
        }
        match width {
            8 => Some(ifma::run::<10, 20>(cands)),
            16 => Some(ifma::run::<20, 40>(cands)),
            32 => Some(ifma::run::<40, 80>(cands)),
            64 => Some(ifma::run::<79, 158>(cands)),
            _ => None,
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        None
    }
}

/// Miller-Rabin rounds of one odd `m ≥ 5` (8, 16, 32 or 64 little-endian
/// 64-bit limbs) to up to [`LANES`] bases at once (each `2 ≤ b ≤ m - 2`, as
/// many limbs as `m`): `Some(true)` when `m` is a strong probable prime to
/// every base. `None` when this cannot run here or the input is out of range;
/// the caller then tests on its own.
pub fn miller_rabin(m: &[u64], bases: &[&[u64]]) -> Option<bool> {
    let width = m.len();
    if bases.is_empty()
        || bases.len() > LANES
        || m.first().is_none_or(|l| l & 1 == 0)
        || bit_len(m) < 3
        || (bit_len(m) == 3 && m[0] < 5)
    {
        return None;
    }
    let mut upper = m.to_vec();
    sub_in_place(&mut upper, &small(2, width)); // m - 2
    if bases
        .iter()
        .any(|b| b.len() != width || !geq(b, &small(2, width)) || !geq(&upper, b))
    {
        return None;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if !ifma::detected() {
            return None;
        }
        match width {
            8 => Some(ifma::run_mr::<10, 20>(m, bases)),
            16 => Some(ifma::run_mr::<20, 40>(m, bases)),
            32 => Some(ifma::run_mr::<40, 80>(m, bases)),
            64 => Some(ifma::run_mr::<79, 158>(m, bases)),
            _ => None,
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        None
    }
}

/// `v` in `n` limbs.
fn small(v: u64, n: usize) -> Vec<u64> {
    let mut out = vec![0u64; n];
    out[0] = v;
    out
}

/// Bits in `a` up to its highest set bit.
fn bit_len(a: &[u64]) -> usize {
    a.iter()
        .rposition(|&l| l != 0)
        .map_or(0, |i| 64 * i + 64 - a[i].leading_zeros() as usize)
}

/// The lane-independent set-up of one candidate in 52-bit limbs.
#[derive(Clone)]
struct Lane {
    /// m in 52-bit limbs.
    m52: Vec<u64>,
    /// -m^-1 mod 2^52.
    k0: u64,
    /// R mod m, R = 2^(52·L), in 64-bit limbs (one extra limb).
    one: Vec<u64>,
}

const MASK52: u64 = (1 << 52) - 1;

impl Lane {
    fn new(m: &[u64], limbs52: usize) -> Self {
        // Newton's iteration doubles the correct low bits of m0^-1 (odd m0
        // is its own inverse mod 8): 3 → 6 → 12 → 24 → 48 → 96.
        let m0 = m[0];
        let mut inv = m0;
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(m0.wrapping_mul(inv)));
        }
        let k0 = inv.wrapping_neg() & MASK52;
        // R mod m: start below m at 2^(bits-1), then double modulo m.
        let bits = bit_len(m);
        let mut one = vec![0u64; m.len() + 1];
        one[(bits - 1) / 64] = 1 << ((bits - 1) % 64);
        let mut mm = m.to_vec();
        mm.push(0);
        for _ in bits - 1..52 * limbs52 {
            shl1(&mut one);
            if geq(&one, &mm) {
                sub_in_place(&mut one, &mm);
            }
        }
        Self {
            m52: to52(m, limbs52),
            k0,
            one,
        }
    }
}

/// `a <<= 1` (the caller leaves room in the top limb).
fn shl1(a: &mut [u64]) {
    let mut carry = 0;
    for l in a.iter_mut() {
        let next = *l >> 63;
        *l = (*l << 1) | carry;
        carry = next;
    }
}

/// `a >= b`, both of the same length.
fn geq(a: &[u64], b: &[u64]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x > y;
        }
    }
    true
}

/// `a -= b` (the caller has checked `a >= b`).
fn sub_in_place(a: &mut [u64], b: &[u64]) {
    let mut borrow = false;
    for (x, &y) in a.iter_mut().zip(b) {
        let (d, o1) = x.overflowing_sub(y);
        let (d, o2) = d.overflowing_sub(u64::from(borrow));
        *x = d;
        borrow = o1 || o2;
    }
}

/// 64-bit limbs to `n` limbs of 52 bits (the value must fit).
fn to52(a: &[u64], n: usize) -> Vec<u64> {
    (0..n)
        .map(|i| {
            let bit = 52 * i;
            let (w, s) = (bit / 64, bit % 64);
            let lo = a.get(w).map_or(0, |&l| l >> s);
            let hi = if s > 12 {
                a.get(w + 1).map_or(0, |&l| l << (64 - s))
            } else {
                0
            };
            (lo | hi) & MASK52
        })
        .collect()
}

/// 52-bit limbs back to `n` limbs of 64 bits.
fn from52(a: &[u64], n: usize) -> Vec<u64> {
    let mut out = vec![0u64; n];
    for (i, &l) in a.iter().enumerate() {
        let bit = 52 * i;
        let (w, s) = (bit / 64, bit % 64);
        if let Some(o) = out.get_mut(w) {
            *o |= l << s;
        }
        if s > 12
            && let Some(o) = out.get_mut(w + 1)
        {
            *o |= l >> (64 - s);
        }
    }
    out
}

#[cfg(target_arch = "x86_64")]
mod ifma {
    use super::{LANES, Lane, MASK52, bit_len, from52, geq, shl1, sub_in_place, to52};
    use std::arch::x86_64::{
        __m512i, __mmask8, _mm256_extract_epi64, _mm512_add_epi64, _mm512_and_si512,
        _mm512_cmpeq_epi64_mask, _mm512_extracti64x4_epi64, _mm512_madd52hi_epu64,
        _mm512_madd52lo_epu64, _mm512_mask_add_epi64, _mm512_mask_mov_epi64, _mm512_set_epi64,
        _mm512_set1_epi64, _mm512_setzero_si512, _mm512_srli_epi64,
    };

    pub(super) fn detected() -> bool {
        std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512ifma")
    }

    /// The tests for `L` limbs of 52 bits (`T2 = 2L`); `detected()` is true.
    pub(super) fn run<const L: usize, const T2: usize>(cands: &[&[u64]]) -> u8 {
        let lanes: Vec<Lane> = cands.iter().map(|c| Lane::new(c, L)).collect();
        // Unused lanes repeat the first candidate; their result is masked off.
        let lane = |k: usize| &lanes[k.min(lanes.len() - 1)];
        let mut m = [[0u64; LANES]; L];
        let mut one = [[0u64; LANES]; L];
        let mut k0 = [0u64; LANES];
        for k in 0..LANES {
            let l = lane(k);
            let one52 = to52(&l.one, L);
            for i in 0..L {
                m[i][k] = l.m52[i];
                one[i][k] = one52[i];
            }
            k0[k] = l.k0;
        }
        // Exponent m - 1: the bits of m except bit 0. bits[i] has bit k set
        // when candidate k's exponent has bit i set.
        let top = cands.iter().map(|c| bit_len(c)).max().unwrap_or(1);
        let mut bits = vec![0u8; top];
        for (i, b) in bits.iter_mut().enumerate().skip(1) {
            for k in 0..LANES {
                let c = cands[k.min(cands.len() - 1)];
                if (c[i / 64] >> (i % 64)) & 1 == 1 {
                    *b |= 1 << k;
                }
            }
        }
        // SAFETY: `pow2` only requires the CPU features avx512f and
        // avx512ifma, which `fermat_base2` checked (`detected()`) before
        // calling here; it reads and writes nothing but its arguments.
        #[allow(unsafe_code)]
        let x = unsafe { pow2::<L, T2>(&m, &one, &k0, &bits) };
        let mut pass = 0u8;
        for (k, c) in cands.iter().enumerate() {
            let limbs: Vec<u64> = (0..L).map(|i| x[i][k]).collect();
            // x < 4m: reduce to [0, m) and compare with R mod m (1 in
            // Montgomery form).
            let mut v = from52(&limbs, c.len() + 1);
            let mut mm = c.to_vec();
            mm.push(0);
            while geq(&v, &mm) {
                sub_in_place(&mut v, &mm);
            }
            if v == lane(k).one {
                pass |= 1 << k;
            }
        }
        pass
    }

    /// Miller-Rabin rounds of `m` to `bases` for `L` limbs of 52 bits
    /// (`T2 = 2L`); `detected()` is true and the inputs are checked.
    pub(super) fn run_mr<const L: usize, const T2: usize>(m: &[u64], bases: &[&[u64]]) -> bool {
        let lane = Lane::new(m, L);
        let mut mm = m.to_vec();
        mm.push(0);
        // R² mod m, to bring the bases into Montgomery form with one product.
        let mut r2 = lane.one.clone();
        for _ in 0..52 * L {
            shl1(&mut r2);
            if geq(&r2, &mm) {
                sub_in_place(&mut r2, &mm);
            }
        }
        // Residues 1 and -1 in Montgomery form, each also plus m: values
        // stay below 2m, so x ≡ r exactly when x is r or r + m.
        let mut minus_one = mm.clone();
        sub_in_place(&mut minus_one, &lane.one);
        let plus_m = |v: &[u64]| {
            let mut out = v.to_vec();
            let mut carry = false;
            for (o, &l) in out.iter_mut().zip(&mm) {
                let (x, c1) = o.overflowing_add(l);
                let (x, c2) = x.overflowing_add(u64::from(carry));
                *o = x;
                carry = c1 || c2;
            }
            out
        };
        let targets = [
            lane.one.clone(),
            plus_m(&lane.one),
            minus_one.clone(),
            plus_m(&minus_one),
        ]
        .map(|v| broadcast::<L>(&to52(&v, L)));
        // m - 1 = d·2^s (`d` holds m - 1); d's bits in 4-bit windows from
        // the top.
        let mut d = m.to_vec();
        d[0] -= 1; // m is odd
        let s = d
            .iter()
            .position(|&l| l != 0)
            .map_or(0, |i| 64 * i + d[i].trailing_zeros() as usize);
        let d_bits = bit_len(&d) - s;
        let bit = |i: usize| (d[(i + s) / 64] >> ((i + s) % 64)) & 1;
        let mut windows = Vec::with_capacity(d_bits / 4 + 1);
        let mut hi = d_bits;
        while hi > 0 {
            let lo = if windows.is_empty() && !d_bits.is_multiple_of(4) {
                d_bits - d_bits % 4
            } else {
                hi - 4
            };
            windows.push((lo..hi).rev().fold(0u8, |w, i| (w << 1) | bit(i) as u8));
            hi = lo;
        }
        let mut b = [[0u64; LANES]; L];
        for k in 0..LANES {
            let b52 = to52(bases[k.min(bases.len() - 1)], L);
            for i in 0..L {
                b[i][k] = b52[i];
            }
        }
        // SAFETY: as in `run`: `miller_rabin` checked avx512f and avx512ifma.
        #[allow(unsafe_code)]
        let passed = unsafe {
            strong_tests::<L, T2>(
                &broadcast::<L>(&lane.m52),
                lane.k0,
                &broadcast::<L>(&to52(&r2, L)),
                &b,
                &targets,
                &windows,
                s,
            )
        };
        passed == u8::MAX
    }

    /// One 52-bit value in every lane.
    fn broadcast<const L: usize>(v: &[u64]) -> [[u64; LANES]; L] {
        std::array::from_fn(|i| [v[i]; LANES])
    }

    /// Lanes where `x = b^d` (bases in plain form) is 1 or -1, or becomes -1
    /// within `s - 1` squarings: the strong-probable-prime condition.
    /// `targets`: 1, 1 + m, -1, -1 + m in Montgomery form.
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn strong_tests<const L: usize, const T2: usize>(
        m: &[[u64; LANES]; L],
        k0: u64,
        r2: &[[u64; LANES]; L],
        bases: &[[u64; LANES]; L],
        targets: &[[[u64; LANES]; L]; 4],
        windows: &[u8],
        s: usize,
    ) -> u8 {
        let m: [__m512i; L] = std::array::from_fn(|i| load(&m[i]));
        let k0 = _mm512_set1_epi64(k0 as i64);
        let r2: [__m512i; L] = std::array::from_fn(|i| load(&r2[i]));
        let b: [__m512i; L] = std::array::from_fn(|i| load(&bases[i]));
        let [one, one_m, neg, neg_m] =
            targets.map(|t| std::array::from_fn::<__m512i, L, _>(|i| load(&t[i])));
        // b^0 .. b^15 in Montgomery form, for 4-bit windows.
        let mut table = [one; 16];
        table[1] = mont_mul::<L, T2>(&b, &r2, &m, k0);
        for k in 2..16 {
            table[k] = mont_mul::<L, T2>(&table[k - 1], &table[1], &m, k0);
        }
        // The kept candidate is a secret prime: its exponent's windows pick
        // table entries by masked reads of all sixteen, and a zero window
        // still multiplies (by one), so neither timing nor addresses follow
        // its bits.
        let mut x = select(&table, windows.first().copied().unwrap_or(0));
        for &w in windows.iter().skip(1) {
            for _ in 0..4 {
                x = mont_sqr::<L, T2>(&x, &m, k0);
            }
            x = mont_mul::<L, T2>(&x, &select(&table, w), &m, k0);
        }
        let is_one = |x: &[__m512i; L]| equal(x, &one) | equal(x, &one_m);
        let is_neg = |x: &[__m512i; L]| equal(x, &neg) | equal(x, &neg_m);
        let mut passed = is_one(&x) | is_neg(&x);
        let mut decided = passed;
        for _ in 1..s {
            if decided == u8::MAX {
                break;
            }
            x = mont_sqr::<L, T2>(&x, &m, k0);
            let (pos, negative) = (is_one(&x), is_neg(&x));
            // -1 before any 1 passes; 1 first proves m composite.
            passed |= negative & !decided;
            decided |= pos | negative;
        }
        passed
    }

    /// `table[w]`, read without an address that depends on `w`: every entry
    /// is read and the wanted one kept by a mask.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn select<const L: usize>(table: &[[__m512i; L]; 16], w: u8) -> [__m512i; L] {
        let mut out = [_mm512_setzero_si512(); L];
        for (k, entry) in (0u8..).zip(table) {
            let keep: __mmask8 = 0u8.wrapping_sub(u8::from(k == w));
            for (o, &e) in out.iter_mut().zip(entry) {
                *o = _mm512_mask_mov_epi64(*o, keep, e);
            }
        }
        out
    }

    /// Lanes where `a` and `b` are equal (both normalised).
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn equal<const L: usize>(a: &[__m512i; L], b: &[__m512i; L]) -> u8 {
        a.iter()
            .zip(b)
            .fold(u8::MAX, |acc, (x, y)| acc & _mm512_cmpeq_epi64_mask(*x, *y))
    }

    /// `2^e mod m` per lane in Montgomery form (`R = 2^(52·L)`), by squaring
    /// and doubling from the top exponent bit down; `one` is R mod m.
    /// Results are below 4m, not fully reduced.
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn pow2<const L: usize, const T2: usize>(
        m: &[[u64; LANES]; L],
        one: &[[u64; LANES]; L],
        k0: &[u64; LANES],
        bits: &[u8],
    ) -> [[u64; LANES]; L] {
        let m: [__m512i; L] = std::array::from_fn(|i| load(&m[i]));
        let mut x: [__m512i; L] = std::array::from_fn(|i| load(&one[i]));
        let k0 = load(k0);
        for &b in bits.iter().rev() {
            x = mont_sqr::<L, T2>(&x, &m, k0);
            // Also when no lane doubles: the timing does not follow the bits.
            double_masked(&mut x, b);
        }
        std::array::from_fn(|i| store(x[i]))
    }

    /// Montgomery squaring `a² / R mod m` per lane. Every 52-bit partial
    /// product is added into a 64-bit column without carrying (a column takes
    /// at most ~4L of them, below 2^61 for L ≤ 79); carries move one column
    /// at a time during the reduction. With `a < 4m` and `R > 16m` the result
    /// is below 2m.
    ///
    /// Rows of the cross products (and of the reduction) go two at a time,
    /// each column loaded and stored once per pair: one row at a time, every
    /// product waited for the previous one's store to the same column, and
    /// the kernel ran at a third of the IFMA units' rate (pairs: 2x faster,
    /// measured on 2048-bit moduli; blocks of four were no faster).
    #[target_feature(enable = "avx512f,avx512ifma")]
    #[inline]
    fn mont_sqr<const L: usize, const T2: usize>(
        a: &[__m512i; L],
        m: &[__m512i; L],
        k0: __m512i,
    ) -> [__m512i; L] {
        let lo = |acc, x, y| _mm512_madd52lo_epu64(acc, x, y);
        let hi = |acc, x, y| _mm512_madd52hi_epu64(acc, x, y);
        let mut t = [_mm512_setzero_si512(); T2];
        // Cross products a_r·a_j (r < j), low half in column r + j and high
        // half in r + j + 1, for rows r = i and i + 1; doubled below.
        let mut i = 0;
        while i + 4 <= L {
            let (x, y) = (a[i], a[i + 1]);
            t[2 * i + 1] = lo(t[2 * i + 1], x, y);
            t[2 * i + 2] = lo(hi(t[2 * i + 2], x, y), x, a[i + 2]);
            t[2 * i + 3] = lo(hi(lo(t[2 * i + 3], x, a[i + 3]), x, a[i + 2]), y, a[i + 2]);
            for c in 2 * i + 4..i + L {
                let v = hi(lo(t[c], x, a[c - i]), x, a[c - i - 1]);
                t[c] = hi(lo(v, y, a[c - i - 1]), y, a[c - i - 2]);
            }
            let c = i + L;
            t[c] = hi(lo(hi(t[c], x, a[L - 1]), y, a[L - 1]), y, a[L - 2]);
            t[c + 1] = hi(t[c + 1], y, a[L - 1]);
            i += 2;
        }
        // The last rows (at most three), each term checked.
        for r in i..L {
            for j in r + 1..L {
                t[r + j] = lo(t[r + j], a[r], a[j]);
                t[r + j + 1] = hi(t[r + j + 1], a[r], a[j]);
            }
        }
        for c in t.iter_mut() {
            *c = _mm512_add_epi64(*c, *c);
        }
        for i in 0..L {
            t[2 * i] = lo(t[2 * i], a[i], a[i]);
            t[2 * i + 1] = hi(t[2 * i + 1], a[i], a[i]);
        }
        reduce::<L, T2>(t, m, k0)
    }

    /// Montgomery product `a·b / R mod m` per lane (`a, b < 4m`; result
    /// below 2m), summed as in [`mont_sqr`].
    #[target_feature(enable = "avx512f,avx512ifma")]
    #[inline]
    fn mont_mul<const L: usize, const T2: usize>(
        a: &[__m512i; L],
        b: &[__m512i; L],
        m: &[__m512i; L],
        k0: __m512i,
    ) -> [__m512i; L] {
        let lo = |acc, x, y| _mm512_madd52lo_epu64(acc, x, y);
        let hi = |acc, x, y| _mm512_madd52hi_epu64(acc, x, y);
        let mut t = [_mm512_setzero_si512(); T2];
        // Rows a_i·b and a_(i+1)·b together, as in `mont_sqr`.
        let mut i = 0;
        while i + 2 <= L {
            let (x, y) = (a[i], a[i + 1]);
            t[i] = lo(t[i], x, b[0]);
            t[i + 1] = lo(hi(lo(t[i + 1], x, b[1]), x, b[0]), y, b[0]);
            two_rows_from_third_column(&mut t[i..], x, y, b);
            i += 2;
        }
        if i < L {
            for j in 0..L {
                t[i + j] = lo(t[i + j], a[i], b[j]);
                t[i + j + 1] = hi(t[i + j + 1], a[i], b[j]);
            }
        }
        reduce::<L, T2>(t, m, k0)
    }

    /// Adds the rows `x·b` (from column 0) and `y·b` (from column 1) to the
    /// columns `t[2..L + 2]`, each column loaded and stored once; columns 0
    /// and 1 are the caller's (where the rows start, and where the reduction
    /// derives its quotients).
    #[target_feature(enable = "avx512f,avx512ifma")]
    #[inline]
    fn two_rows_from_third_column<const L: usize>(
        t: &mut [__m512i],
        x: __m512i,
        y: __m512i,
        b: &[__m512i; L],
    ) {
        let lo = |acc, x, y| _mm512_madd52lo_epu64(acc, x, y);
        let hi = |acc, x, y| _mm512_madd52hi_epu64(acc, x, y);
        for (j, tc) in t[..L].iter_mut().enumerate().skip(2) {
            let v = hi(lo(*tc, x, b[j]), x, b[j - 1]);
            *tc = hi(lo(v, y, b[j - 1]), y, b[j - 2]);
        }
        t[L] = hi(lo(hi(t[L], x, b[L - 1]), y, b[L - 1]), y, b[L - 2]);
        t[L + 1] = hi(t[L + 1], y, b[L - 1]);
    }

    /// Montgomery reduction of the columns `t` (`t / R mod m`, below 2m when
    /// `t < 16m²`), carries normalised to 52-bit limbs.
    #[target_feature(enable = "avx512f,avx512ifma")]
    #[inline]
    fn reduce<const L: usize, const T2: usize>(
        mut t: [__m512i; T2],
        m: &[__m512i; L],
        k0: __m512i,
    ) -> [__m512i; L] {
        let zero = _mm512_setzero_si512();
        let lo = |acc, x, y| _mm512_madd52lo_epu64(acc, x, y);
        let hi = |acc, x, y| _mm512_madd52hi_epu64(acc, x, y);
        let carry = |v| _mm512_srli_epi64::<52>(v);
        // Rows i and i + 1: column i + r becomes ≡ 0 mod 2^52 with quotient
        // q_r, and its carry moves up. Row i + 1's column must be complete
        // (row i's products and carry included) before q1 is known; after
        // that both rows' products go in column by column.
        let mut i = 0;
        while i + 2 <= L {
            let q0 = lo(zero, t[i], k0);
            let c0 = lo(t[i], q0, m[0]);
            let v1 = hi(lo(t[i + 1], q0, m[1]), q0, m[0]);
            let v1 = _mm512_add_epi64(v1, carry(c0));
            let q1 = lo(zero, v1, k0);
            let c1 = lo(v1, q1, m[0]);
            t[i + 2] = _mm512_add_epi64(t[i + 2], carry(c1));
            two_rows_from_third_column(&mut t[i..], q0, q1, m);
            i += 2;
        }
        if i < L {
            let q = lo(zero, t[i], k0);
            for j in 0..L {
                t[i + j] = lo(t[i + j], q, m[j]);
                t[i + j + 1] = hi(t[i + j + 1], q, m[j]);
            }
            t[i + 1] = _mm512_add_epi64(t[i + 1], carry(t[i]));
        }
        let mask = _mm512_set1_epi64(MASK52 as i64);
        let mut c = zero;
        std::array::from_fn(|k| {
            let v = _mm512_add_epi64(t[L + k], c);
            c = carry(v);
            _mm512_and_si512(v, mask)
        })
    }

    /// `x = 2x` in the lanes of `lanes` (x < 2m before, < 4m after; limbs
    /// renormalised to 52 bits).
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn double_masked<const L: usize>(x: &mut [__m512i; L], lanes: __mmask8) {
        let mask = _mm512_set1_epi64(MASK52 as i64);
        let mut carry = _mm512_setzero_si512();
        for l in x.iter_mut() {
            let v = _mm512_add_epi64(_mm512_mask_add_epi64(*l, lanes, *l, *l), carry);
            carry = _mm512_srli_epi64::<52>(v);
            *l = _mm512_and_si512(v, mask);
        }
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    fn load(v: &[u64; LANES]) -> __m512i {
        let [a, b, c, d, e, f, g, h] = v.map(|x| x as i64);
        _mm512_set_epi64(h, g, f, e, d, c, b, a)
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    fn store(v: __m512i) -> [u64; LANES] {
        let lo = _mm512_extracti64x4_epi64::<0>(v);
        let hi = _mm512_extracti64x4_epi64::<1>(v);
        [
            _mm256_extract_epi64::<0>(lo),
            _mm256_extract_epi64::<1>(lo),
            _mm256_extract_epi64::<2>(lo),
            _mm256_extract_epi64::<3>(lo),
            _mm256_extract_epi64::<0>(hi),
            _mm256_extract_epi64::<1>(hi),
            _mm256_extract_epi64::<2>(hi),
            _mm256_extract_epi64::<3>(hi),
        ]
        .map(|x| x as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint_dig::BigUint;
    use rand::{Rng, RngCore};

    fn limbs(x: &BigUint, n: usize) -> Vec<u64> {
        let mut bytes = x.to_bytes_le();
        bytes.resize(8 * n, 0);
        bytes
            .chunks(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
            .collect()
    }

    fn fermat(m: &BigUint) -> bool {
        let one = BigUint::from(1u32);
        BigUint::from(2u32).modpow(&(m - &one), m) == one
    }

    fn random_odd(bits: usize, rng: &mut impl RngCore) -> BigUint {
        let mut bytes = vec![0u8; bits.div_ceil(8)];
        rng.fill_bytes(&mut bytes);
        let mut x = BigUint::from_bytes_le(&bytes) >> (8 * bytes.len() - bits);
        x |= BigUint::from(1u32) << (bits - 1);
        x |= BigUint::from(1u32);
        x
    }

    /// Checks one batch against num-bigint's modpow; returns the pass mask.
    fn check(cands: &[BigUint], width: usize) -> u8 {
        let ls: Vec<Vec<u64>> = cands.iter().map(|c| limbs(c, width)).collect();
        let refs: Vec<&[u64]> = ls.iter().map(Vec::as_slice).collect();
        let got = fermat_base2(&refs).unwrap_or_else(|| panic!("unsupported width {width}"));
        for (k, c) in cands.iter().enumerate() {
            assert_eq!(got >> k & 1 == 1, fermat(c), "lane {k}: {c:x}");
        }
        assert_eq!(
            u32::from(got) >> cands.len(),
            0,
            "unused lanes must not be reported"
        );
        got
    }

    fn mersenne(p: usize) -> BigUint {
        (BigUint::from(1u32) << p) - BigUint::from(1u32)
    }

    #[test]
    fn batches_agree_with_modpow_on_random_primes_pseudoprimes_and_composites() {
        if !available() {
            eprintln!("no AVX-512 IFMA on this CPU: fermat_base2 returns None (checked below)");
            assert!(fermat_base2(&[&[3u64; 8]]).is_none());
            return;
        }
        let mut rng = rand::thread_rng();
        // Mersenne primes, base-2 pseudoprimes (341 = 11·31, 561, 1105 are
        // Fermat liars to base 2) and the top of each width all run in the
        // same batches as random odd numbers (nearly all composite).
        let specials = [
            mersenne(521),
            mersenne(607),
            mersenne(1279),
            mersenne(2203),
            mersenne(4253),
            BigUint::from(341u32),
            BigUint::from(561u32),
            BigUint::from(1105u32),
            BigUint::from(3u32),
            BigUint::from(9u32),
        ];
        for width in [8usize, 16, 32, 64] {
            let max_bits = 64 * width;
            let mut pool: Vec<BigUint> = specials
                .iter()
                .filter(|s| s.bits() <= max_bits)
                .cloned()
                .collect();
            pool.push(mersenne(max_bits));
            for _ in 0..20 {
                let bits = rng.gen_range(2..=max_bits);
                pool.push(random_odd(bits, &mut rng));
            }
            let mut passes = 0;
            for batch in pool.chunks(rng.gen_range(1..=LANES)) {
                passes += check(batch, width).count_ones();
            }
            assert!(
                passes >= 4,
                "width {width}: too few passing lanes to prove anything"
            );
        }
    }

    #[test]
    fn the_product_of_two_primes_fails_and_a_prime_passes_in_every_lane() {
        if !available() {
            return;
        }
        // 2^1279 - 1 is prime; (2^521 - 1)(2^607 - 1) is not and passes no
        // trial division by small primes.
        let p = mersenne(1279);
        let c = mersenne(521) * mersenne(607);
        for k in 0..LANES {
            let mut batch = vec![c.clone(); LANES];
            batch[k] = p.clone();
            assert_eq!(check(&batch, 32), 1 << k);
        }
    }

    /// The strong-probable-prime test to base `b`, on num-bigint.
    fn strong(m: &BigUint, b: &BigUint) -> bool {
        let one = BigUint::from(1u32);
        let m1 = m - &one;
        let s = m1.trailing_zeros().unwrap_or(0);
        let d = &m1 >> s;
        let mut x = b.modpow(&d, m);
        if x == one || x == m1 {
            return true;
        }
        for _ in 1..s {
            x = x.modpow(&BigUint::from(2u32), m);
            if x == m1 {
                return true;
            }
        }
        false
    }

    /// Checks `miller_rabin` against num-bigint, base by base and all at once.
    fn check_mr(m: &BigUint, bases: &[BigUint], width: usize) -> bool {
        let ml = limbs(m, width);
        let bl: Vec<Vec<u64>> = bases.iter().map(|b| limbs(b, width)).collect();
        for (b, l) in bases.iter().zip(&bl) {
            let got = miller_rabin(&ml, &[l]).unwrap_or_else(|| panic!("refused {m:x}"));
            assert_eq!(got, strong(m, b), "m = {m}, base {b}");
        }
        let refs: Vec<&[u64]> = bl.iter().map(Vec::as_slice).collect();
        let all = miller_rabin(&ml, &refs).unwrap_or_else(|| panic!("refused {m:x}"));
        assert_eq!(
            all,
            bases.iter().all(|b| strong(m, b)),
            "m = {m}, all bases"
        );
        all
    }

    #[test]
    fn miller_rabin_rounds_agree_with_num_bigint() {
        if !available() {
            assert!(miller_rabin(&[7u64; 8], &[&[2u64; 8]]).is_none());
            return;
        }
        let mut rng = rand::thread_rng();
        let mut random_bases = |m: &BigUint, n: usize| -> Vec<BigUint> {
            (0..n)
                .map(|_| {
                    let b = random_odd(m.bits(), &mut rng) % (m - BigUint::from(3u32));
                    b + BigUint::from(2u32)
                })
                .collect()
        };
        // Primes with s = 1 (Mersenne) and large s (k·2^j + 1).
        let b = |v: u64| BigUint::from(v);
        let mut primes = vec![
            (b(65537), 8),
            (b(7 * (1 << 20) + 1), 8),
            (b(3 * (1 << 30) + 1), 8),
            (mersenne(521), 16),
            (mersenne(1279), 32),
            (mersenne(2203), 64),
        ];
        // A 500-bit prime ≡ 1 (mod 2^64), found with num-bigint's own test.
        let mut k = random_odd(436, &mut rand::thread_rng());
        let big = loop {
            let c = (&k << 64) + b(1);
            if num_bigint_dig::prime::probably_prime(&c, 20) {
                break c;
            }
            k += b(2);
        };
        primes.push((big, 8));
        for (p, width) in &primes {
            let bases = random_bases(p, LANES);
            assert!(check_mr(p, &bases, *width), "{p} is prime");
        }
        // Composites: strong pseudoprimes to small bases (2047 to base 2;
        // 3215031751 to 2, 3, 5 and 7) with liar and witness bases mixed,
        // Carmichael 561, and a product of two large primes.
        let liars = [b(2), b(3), b(5), b(7)];
        assert!(check_mr(&b(3_215_031_751), &liars, 8));
        assert!(!check_mr(&b(3_215_031_751), &[b(2), b(11)], 8));
        assert!(check_mr(&b(2047), &[b(2)], 8));
        assert!(!check_mr(&b(2047), &[b(2), b(3)], 8));
        assert!(!check_mr(&b(561), &[b(2), b(50), b(101)], 8));
        let c = mersenne(521) * mersenne(607);
        let bases = random_bases(&c, 5);
        assert!(!check_mr(&c, &bases, 32));
        for width in [8usize, 16, 32, 64] {
            for _ in 0..4 {
                let m = random_odd(64 * width - rng_bits(width), &mut rand::thread_rng());
                let bases = random_bases(&m, 3);
                check_mr(&m, &bases, width);
            }
        }
    }

    fn rng_bits(width: usize) -> usize {
        rand::thread_rng().gen_range(0..64 * width / 2)
    }

    #[test]
    fn miller_rabin_refuses_bases_out_of_range() {
        let m = [13u64, 0, 0, 0, 0, 0, 0, 0];
        let b = |v: u64| [v, 0, 0, 0, 0, 0, 0, 0];
        assert!(miller_rabin(&m, &[&b(1)]).is_none());
        assert!(miller_rabin(&m, &[&b(12)]).is_none());
        assert!(miller_rabin(&m, &[]).is_none());
        assert!(miller_rabin(&[12u64, 0, 0, 0, 0, 0, 0, 0], &[&b(2)]).is_none());
        assert!(miller_rabin(&m, &[&[2u64, 0][..]]).is_none());
        if available() {
            assert_eq!(miller_rabin(&m, &[&b(2), &b(11)]), Some(true));
        }
    }

    #[test]
    fn even_mixed_width_or_too_many_candidates_are_refused() {
        let odd = [5u64; 8];
        let even = [4u64; 8];
        assert!(fermat_base2(&[]).is_none());
        assert!(fermat_base2(&[&odd, &even]).is_none());
        assert!(fermat_base2(&[&odd, &odd[..4]]).is_none());
        assert!(fermat_base2(&[&odd[..]; LANES + 1]).is_none());
        assert!(fermat_base2(&[&[1u64, 0, 0, 0, 0, 0, 0, 0]]).is_none());
        assert!(fermat_base2(&[&[5u64; 7]]).is_none());
    }
}
