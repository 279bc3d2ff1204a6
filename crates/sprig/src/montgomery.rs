//! Fixed-width Montgomery arithmetic on 64-bit limbs, for the Miller-Rabin
//! tests of RSA prime generation ([`crate::rsagen`]).
//!
//! Prime search spends nearly all its time in modular exponentiations of
//! 1024- and 2048-bit numbers. A generic big-integer `modpow` allocates and
//! reduces with divisions; here the width is a const parameter (`N` limbs,
//! `W` = 2N for double-width products) so every loop has a known trip count
//! and everything lives on the stack. Multiplication is CIOS; squaring
//! computes each cross product once and then reduces (SOS), about a quarter
//! fewer word multiplications, with the reduction two rows at a time. The
//! base-2 exponentiation replaces multiplications by shifts: per 6-bit
//! window of the exponent, six squarings and one `x * 2^v mod m` (a shift
//! and a one-word quotient). Arithmetic is branch-free on values
//! (conditional subtraction and correction, window-table lookups and
//! quotient adjustments use masks; no hardware division), so timing does not
//! depend on the secret prime's bits; the Miller-Rabin loop itself stops
//! early on composites, as Go's does.
//!
//! Numbers are little-endian limb arrays. A `Mont` works for any odd modulus
//! `1 < m < 2^(64N)`, so a smaller modulus may be padded into a wider `N`.

use rand::RngCore;

/// `t + a * b + carry` as (low, high) words; cannot overflow 128 bits.
#[inline(always)]
fn mac(t: u64, a: u64, b: u64, carry: u64) -> (u64, u64) {
    let w = u128::from(a) * u128::from(b) + u128::from(t) + u128::from(carry);
    (w as u64, (w >> 64) as u64)
}

/// All ones when `bit` is 1, zero when 0.
#[inline(always)]
fn mask(bit: u64) -> u64 {
    0u64.wrapping_sub(bit)
}

/// `a - b` and the final borrow (0 or 1).
#[inline(always)]
fn sub<const N: usize>(a: &[u64; N], b: &[u64; N]) -> ([u64; N], u64) {
    let mut out = [0u64; N];
    let mut borrow = 0u64;
    for i in 0..N {
        let (d, b1) = a[i].overflowing_sub(b[i]);
        let (d, b2) = d.overflowing_sub(borrow);
        out[i] = d;
        borrow = u64::from(b1 | b2);
    }
    (out, borrow)
}

/// `a >= b` (variable time; used on public or non-secret values only).
pub(crate) fn geq<const N: usize>(a: &[u64; N], b: &[u64; N]) -> bool {
    sub(a, b).1 == 0
}

/// Bit length of a little-endian number.
pub(crate) fn bit_len(a: &[u64]) -> usize {
    a.iter()
        .rposition(|&l| l != 0)
        .map_or(0, |i| 64 * i + 64 - a[i].leading_zeros() as usize)
}

/// Bit `i` of a little-endian number (0 or 1).
#[inline(always)]
fn bit(a: &[u64], i: usize) -> u64 {
    (a[i / 64] >> (i % 64)) & 1
}

/// Bits of the base-2 exponentiation's windows; `2^v` for a window value
/// `v < 64` is a one-word shift.
const POW2_WINDOW: usize = 6;

/// Bits `lo .. lo + k` of a little-endian number (`k <= 6`, bits past the
/// end read as 0).
#[inline(always)]
fn bits_at(a: &[u64], lo: usize, k: usize) -> u32 {
    let (i, s) = (lo / 64, lo % 64);
    let low = a[i] >> s;
    // `(y << 1) << (63 - s)` is y << (64 - s), defined (and 0) for s = 0.
    let high = a.get(i + 1).map_or(0, |&y| (y << 1) << (63 - s));
    ((low | high) & ((1u64 << k) - 1)) as u32
}

/// `floor((2^128 - 1) / d) - 2^64` for a normalized `d` (top bit set), by
/// restoring division with masks (no data-dependent branches or hardware
/// division: `d` is the secret candidate's top word).
fn reciprocal(d: u64) -> u64 {
    // (2^128 - 1) - 2^64 d = (!d) * 2^64 + (2^64 - 1), and !d < d.
    let mut r = !d;
    let mut q = 0u64;
    for _ in 0..64 {
        // Shift in a 1 bit of the low word (all ones).
        let top = r >> 63;
        r = (r << 1) | 1;
        // r + top * 2^64 >= d?
        let (diff, borrow) = r.overflowing_sub(d);
        let take = mask(top | u64::from(!borrow));
        r = (diff & take) | (r & !take);
        q = (q << 1) | (take & 1);
    }
    q
}

/// `floor((u1 * 2^64 + u0) / d)` for normalized `d`, `u1 < d`, with `recip`
/// from [`reciprocal`] (Möller and Granlund 2011, Algorithm 4); the two
/// adjustments are masked.
#[inline(always)]
fn div_2by1(u1: u64, u0: u64, d: u64, recip: u64) -> u64 {
    let p =
        (u128::from(recip) * u128::from(u1)).wrapping_add((u128::from(u1) << 64) | u128::from(u0));
    let mut q1 = ((p >> 64) as u64).wrapping_add(1);
    let q0 = p as u64;
    let mut r = u0.wrapping_sub(q1.wrapping_mul(d));
    let adj = mask(u64::from(r > q0));
    q1 = q1.wrapping_add(adj);
    r = r.wrapping_add(d & adj);
    let adj = mask(u64::from(r >= d));
    q1 = q1.wrapping_sub(adj);
    q1
}

/// Montgomery context for an odd modulus `m`, R = 2^(64N). `W` must be 2N.
pub(crate) struct Mont<const N: usize, const W: usize> {
    m: [u64; N],
    /// -m^-1 mod 2^64.
    m_inv: u64,
    /// R mod m: the Montgomery form of 1.
    one: [u64; N],
    /// Reciprocal of the top word for 2-by-1 quotients (Möller and
    /// Granlund), when that word is normalized (top bit set), else `None`.
    top_recip: Option<u64>,
}

impl<const N: usize, const W: usize> Mont<N, W> {
    /// `None` unless `m` is odd and greater than 1.
    pub(crate) fn new(m: &[u64; N]) -> Option<Self> {
        debug_assert_eq!(W, 2 * N);
        let bits = bit_len(m);
        if m[0] & 1 == 0 || bits < 2 || W != 2 * N {
            return None;
        }
        // Newton iteration: each step doubles the correct low bits of m^-1.
        let mut inv = 1u64;
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(m[0].wrapping_mul(inv)));
        }
        let top = m[N - 1];
        let mut ctx = Self {
            m: *m,
            m_inv: inv.wrapping_neg(),
            one: [0; N],
            top_recip: (top >> 63 == 1).then(|| reciprocal(top)),
        };
        // R mod m: start from 2^(bits-1) < m and double up to 2^(64N).
        let mut x = [0u64; N];
        x[(bits - 1) / 64] = 1 << ((bits - 1) % 64);
        for _ in bits - 1..64 * N {
            x = ctx.double(&x);
        }
        ctx.one = x;
        Some(ctx)
    }

    /// The modulus.
    pub(crate) fn modulus(&self) -> &[u64; N] {
        &self.m
    }

    /// Montgomery form of 1 (R mod m).
    pub(crate) fn one(&self) -> &[u64; N] {
        &self.one
    }

    /// `t + hi * 2^(64N)` reduced once by `m`; needs `t + hi * 2^(64N) < 2m`.
    #[inline(always)]
    fn reduce_once(&self, t: [u64; N], hi: u64) -> [u64; N] {
        let (d, borrow) = sub(&t, &self.m);
        // Keep the difference when it did not go negative (or the value had a carry out).
        let keep_d = mask(hi | (borrow ^ 1));
        let mut out = [0u64; N];
        for i in 0..N {
            out[i] = (d[i] & keep_d) | (t[i] & !keep_d);
        }
        out
    }

    /// `2a mod m` for `a < m`. Doubling commutes with the Montgomery form.
    #[inline(always)]
    pub(crate) fn double(&self, a: &[u64; N]) -> [u64; N] {
        let mut t = [0u64; N];
        let mut carry = 0u64;
        for i in 0..N {
            t[i] = (a[i] << 1) | carry;
            carry = a[i] >> 63;
        }
        self.reduce_once(t, carry)
    }

    /// Montgomery product `a * b / R mod m` (CIOS), for `a, b < m`.
    pub(crate) fn mul(&self, a: &[u64; N], b: &[u64; N]) -> [u64; N] {
        let mut t = [0u64; N];
        let mut t_hi = 0u64;
        for &bi in b.iter() {
            let mut c = 0u64;
            for j in 0..N {
                (t[j], c) = mac(t[j], a[j], bi, c);
            }
            let (tn, o1) = t_hi.overflowing_add(c);
            let u = t[0].wrapping_mul(self.m_inv);
            let (_, mut c) = mac(t[0], u, self.m[0], 0);
            for j in 1..N {
                (t[j - 1], c) = mac(t[j], u, self.m[j], c);
            }
            let (top, o2) = tn.overflowing_add(c);
            t[N - 1] = top;
            t_hi = u64::from(o1) + u64::from(o2);
        }
        self.reduce_once(t, t_hi)
    }

    /// Montgomery square `a * a / R mod m`, for `a < m` (SOS): each cross
    /// product once, row by row, then doubled with the diagonal added, then
    /// reduced. Fixed-length rows compile to straight multiply-accumulate
    /// chains; the reduction runs two rows at once so their carry chains
    /// overlap (measured ~1.25x faster than product scanning at 2048 bits,
    /// ~1.4x at 1024).
    pub(crate) fn sqr(&self, a: &[u64; N]) -> [u64; N] {
        let mut t = [0u64; W];
        // Cross products: row i adds a[i] * a[i+1..] into t[2i+1..].
        for i in 0..N - 1 {
            let ai = a[i];
            let mut c = 0u64;
            for (tj, &aj) in t[2 * i + 1..i + N].iter_mut().zip(&a[i + 1..]) {
                (*tj, c) = mac(*tj, ai, aj, c);
            }
            t[i + N] = c;
        }
        // t = 2t + Σ a[i]^2 * 2^(128i).
        let (mut top, mut carry) = (0u64, 0u64);
        for (i, &ai) in a.iter().enumerate() {
            let d = u128::from(ai) * u128::from(ai);
            let (t0, t1) = (t[2 * i], t[2 * i + 1]);
            let v = u128::from((t0 << 1) | top) + (d & u128::from(u64::MAX)) + u128::from(carry);
            t[2 * i] = v as u64;
            let v = u128::from((t1 << 1) | (t0 >> 63)) + (d >> 64) + (v >> 64);
            t[2 * i + 1] = v as u64;
            carry = (v >> 64) as u64;
            top = t1 >> 63;
        }
        self.redc_in_place(&mut t)
    }

    /// Montgomery reduction `t / R mod m` of a double-width `t < m * R`,
    /// two rows at a time: row i adds u_i * m at word i, and u_{i+1} is known
    /// as soon as row i has passed word i + 1.
    #[inline(always)]
    fn redc_in_place(&self, t: &mut [u64; W]) -> [u64; N] {
        let m = &self.m;
        // Carry out of word i + N of the rows so far (0 or 1).
        let mut hi = 0u64;
        let mut i = 0;
        while i + 1 < N {
            let u0 = t[i].wrapping_mul(self.m_inv);
            let (_, c0) = mac(t[i], u0, m[0], 0);
            let (x, mut c0) = mac(t[i + 1], u0, m[1], c0);
            let u1 = x.wrapping_mul(self.m_inv);
            let (_, mut c1) = mac(x, u1, m[0], 0);
            for ((tj, &m0), &m1) in t[i + 2..i + N].iter_mut().zip(&m[2..]).zip(&m[1..]) {
                let (x, c) = mac(*tj, u0, m0, c0);
                c0 = c;
                (*tj, c1) = mac(x, u1, m1, c1);
            }
            // Word i + N: row i's carry, row i+1's last product; then i + N + 1.
            let (x, ca) = mac(t[i + N], u1, m[N - 1], c1);
            let s = u128::from(x) + u128::from(c0) + u128::from(hi);
            t[i + N] = s as u64;
            let s = u128::from(t[i + N + 1]) + u128::from(ca) + (s >> 64);
            t[i + N + 1] = s as u64;
            hi = (s >> 64) as u64;
            i += 2;
        }
        if i < N {
            // Odd N: one last single row.
            let u = t[i].wrapping_mul(self.m_inv);
            let mut c = 0u64;
            for (tj, &mj) in t[i..i + N].iter_mut().zip(m) {
                (*tj, c) = mac(*tj, u, mj, c);
            }
            let s = u128::from(t[i + N]) + u128::from(c) + u128::from(hi);
            t[i + N] = s as u64;
            hi = (s >> 64) as u64;
        }
        let mut r = [0u64; N];
        r.copy_from_slice(&t[N..]);
        self.reduce_once(r, hi)
    }

    /// Montgomery form `a * R mod m` of `a < m`.
    pub(crate) fn to_mont(&self, a: &[u64; N]) -> [u64; N] {
        // R^2 mod m by doubling R mod m another 64N times; a is rarely converted.
        let mut r2 = self.one;
        for _ in 0..64 * N {
            r2 = self.double(&r2);
        }
        self.mul(a, &r2)
    }

    /// Plain value of a Montgomery-form `a`.
    #[cfg(test)]
    pub(crate) fn to_plain(&self, a: &[u64; N]) -> [u64; N] {
        let mut t = [0u64; W];
        t[..N].copy_from_slice(a);
        self.redc_in_place(&mut t)
    }

    /// `2^e mod m` in Montgomery form, over the low `e_bits` bits of `e`:
    /// a squaring and a (masked) doubling per bit.
    pub(crate) fn pow2(&self, e: &[u64; N], e_bits: usize) -> [u64; N] {
        if let Some(recip) = self.top_recip {
            return self.pow2_windows(e, e_bits, recip);
        }
        let mut x = self.one;
        for i in (0..e_bits).rev() {
            x = self.sqr(&x);
            let d = self.double(&x);
            let keep_d = mask(bit(e, i));
            for k in 0..N {
                x[k] = (d[k] & keep_d) | (x[k] & !keep_d);
            }
        }
        x
    }

    /// [`Self::pow2`] for a normalized modulus: fixed windows of
    /// [`POW2_WINDOW`] bits, each `k` squarings and one multiplication by
    /// `2^v` (`v` the window's bits) as a shift and a one-word quotient,
    /// instead of a doubling and a masked select per bit.
    fn pow2_windows(&self, e: &[u64; N], e_bits: usize, recip: u64) -> [u64; N] {
        let mut x = self.one;
        let windows = e_bits.div_ceil(POW2_WINDOW);
        for w in (0..windows).rev() {
            let lo = w * POW2_WINDOW;
            let k = (e_bits - lo).min(POW2_WINDOW);
            if w + 1 < windows {
                for _ in 0..k {
                    x = self.sqr(&x);
                }
            }
            x = self.shl_mod(&x, bits_at(e, lo, k), recip);
        }
        x
    }

    /// `a * 2^v mod m` for `a < m`, `v < 64`, m normalized: the shifted
    /// value's quotient estimated from its top two words, subtracted, then m
    /// added back once under a mask. The estimate is at most 1 too large:
    /// with `d` the top word and `B = 2^(64(N-1))`, `m < (d + 1) B` gives
    /// `x / (d B) - x / m < x / (d m) < 2^v / d <= 1` (Knuth 4.3.1's general
    /// bound of 2 needs quotients near 2^64; ours are below 2^v).
    #[inline(always)]
    fn shl_mod(&self, a: &[u64; N], v: u32, recip: u64) -> [u64; N] {
        // x = a << v in N + 1 words; `(y >> 1) >> (63 - v)` is y >> (64 - v),
        // defined (and 0) for v = 0.
        let mut x = [0u64; N];
        let mut prev = 0u64;
        for (xi, &ai) in x.iter_mut().zip(a) {
            *xi = (ai << v) | ((prev >> 1) >> (63 - v));
            prev = ai;
        }
        let x_top = (prev >> 1) >> (63 - v);
        let q = div_2by1(x_top, x[N - 1], self.m[N - 1], recip);
        // r = x - q * m, N + 1 words; in [-m, m).
        let (mut c, mut borrow) = (0u64, 0u64);
        for (xi, &mi) in x.iter_mut().zip(&self.m) {
            let p = u128::from(q) * u128::from(mi) + u128::from(c);
            c = (p >> 64) as u64;
            let (d, b1) = xi.overflowing_sub(p as u64);
            let (d, b2) = d.overflowing_sub(borrow);
            *xi = d;
            borrow = u64::from(b1 | b2);
        }
        // Negative (top word all ones): add m back; the carry out cancels
        // the top word.
        let neg = mask(x_top.wrapping_sub(c).wrapping_sub(borrow) >> 63);
        let mut carry = 0u64;
        for (xi, &mi) in x.iter_mut().zip(&self.m) {
            let s = u128::from(*xi) + u128::from(mi & neg) + u128::from(carry);
            *xi = s as u64;
            carry = (s >> 64) as u64;
        }
        x
    }

    /// `b^e mod m` in Montgomery form for a Montgomery-form base `b`, over
    /// the low `e_bits` bits of `e`: fixed 4-bit windows, the table entry
    /// picked by a full masked scan.
    pub(crate) fn pow(&self, b: &[u64; N], e: &[u64; N], e_bits: usize) -> [u64; N] {
        let mut table = [[0u64; N]; 16];
        table[0] = self.one;
        for k in 1..16 {
            table[k] = self.mul(&table[k - 1], b);
        }
        let mut x = self.one;
        for w in (0..e_bits.div_ceil(4)).rev() {
            for _ in 0..4 {
                x = self.sqr(&x);
            }
            let mut idx = 0u64;
            for k in (0..4).rev() {
                let i = 4 * w + k;
                idx = (idx << 1) | if i < 64 * N { bit(e, i) } else { 0 };
            }
            let mut y = [0u64; N];
            for (k, entry) in table.iter().enumerate() {
                let sel = mask(u64::from(k as u64 == idx));
                for l in 0..N {
                    y[l] |= entry[l] & sel;
                }
            }
            x = self.mul(&x, &y);
        }
        x
    }
}

/// A Miller-Rabin tester for one odd candidate `w > 3`.
pub(crate) struct MillerRabin<const N: usize, const W: usize> {
    mont: Mont<N, W>,
    /// w - 1 in Montgomery form.
    minus_one: [u64; N],
    /// Odd `m` with w - 1 = m * 2^a.
    m: [u64; N],
    m_bits: usize,
    a: usize,
    w_bits: usize,
}

impl<const N: usize, const W: usize> MillerRabin<N, W> {
    /// `None` when `w` is even or below 5.
    pub(crate) fn new(w: &[u64; N]) -> Option<Self> {
        let w_bits = bit_len(w);
        if w_bits < 3 || (w_bits == 3 && w[0] < 5) {
            return None;
        }
        let mont = Mont::new(w)?;
        let (minus_one, _) = sub(w, mont.one());
        let mut wm1 = *w;
        wm1[0] -= 1; // w is odd, so no borrow
        let a = wm1
            .iter()
            .position(|&l| l != 0)
            .map_or(0, |i| 64 * i + wm1[i].trailing_zeros() as usize);
        let mut m = [0u64; N];
        let (limbs, shift) = (a / 64, a % 64);
        for i in 0..N - limbs {
            let lo = wm1[i + limbs] >> shift;
            let hi = if shift > 0 && i + limbs + 1 < N {
                wm1[i + limbs + 1] << (64 - shift)
            } else {
                0
            };
            m[i] = lo | hi;
        }
        let m_bits = bit_len(&m);
        Some(Self {
            mont,
            minus_one,
            m,
            m_bits,
            a,
            w_bits,
        })
    }

    /// The strong-probable-prime condition on `x = b^m` (Montgomery form).
    fn finish(&self, mut x: [u64; N]) -> bool {
        let one = self.mont.one();
        if &x == one || x == self.minus_one {
            return true;
        }
        for _ in 1..self.a {
            x = self.mont.sqr(&x);
            if x == self.minus_one {
                return true;
            }
            if &x == one {
                return false;
            }
        }
        false
    }

    /// One round with base 2 (cheap: doublings instead of multiplications).
    pub(crate) fn base2(&self) -> bool {
        self.finish(self.mont.pow2(&self.m, self.m_bits))
    }

    /// One round with base `b` (plain form, `1 < b < w - 1`).
    pub(crate) fn round(&self, b: &[u64; N]) -> bool {
        let bm = self.mont.to_mont(b);
        self.finish(self.mont.pow(&bm, &self.m, self.m_bits))
    }

    /// `rounds` rounds with bases drawn uniformly from [2, w - 2] (see
    /// [`Self::random_bases`]).
    pub(crate) fn random_rounds(&self, rounds: usize, rng: &mut impl RngCore) -> bool {
        self.random_bases(rounds, rng).iter().all(|b| self.round(b))
    }

    /// `rounds` bases drawn uniformly from [2, w - 2] (FIPS 186-5 B.3.1:
    /// random bits of w's length, out-of-range draws rejected).
    pub(crate) fn random_bases(&self, rounds: usize, rng: &mut impl RngCore) -> Vec<[u64; N]> {
        let mut two = [0u64; N];
        two[0] = 2;
        let (upper, _) = sub(self.mont.modulus(), &two); // w - 2
        let top_bits = self.w_bits % 64;
        let top_limb = (self.w_bits - 1) / 64;
        let mut bases = Vec::with_capacity(rounds);
        while bases.len() < rounds {
            let mut b = [0u64; N];
            for l in b.iter_mut().take(top_limb + 1) {
                *l = rng.next_u64();
            }
            if top_bits != 0 {
                b[top_limb] &= (1u64 << top_bits) - 1;
            }
            if geq(&b, &two) && geq(&upper, &b) {
                bases.push(b);
            }
        }
        bases
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::BigUint;

    fn to_limbs<const N: usize>(x: &BigUint) -> [u64; N] {
        let mut out = [0u64; N];
        for (i, chunk) in x.to_bytes_le().chunks(8).enumerate() {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            out[i] = u64::from_le_bytes(b);
        }
        out
    }

    fn from_limbs(x: &[u64]) -> BigUint {
        let bytes: Vec<u8> = x.iter().flat_map(|l| l.to_le_bytes()).collect();
        BigUint::from_bytes_le(&bytes)
    }

    fn random_below(bits: usize, rng: &mut impl RngCore) -> BigUint {
        let mut bytes = vec![0u8; bits.div_ceil(8)];
        rng.fill_bytes(&mut bytes);
        BigUint::from_bytes_le(&bytes) >> (bytes.len() * 8 - bits)
    }

    fn check_against_bigint<const N: usize, const W: usize>(m_bits: usize, trials: usize) {
        let mut rng = rand::thread_rng();
        for _ in 0..trials {
            let mut m = random_below(m_bits, &mut rng) | BigUint::from(1u32);
            if m.bits() < 2 {
                m = BigUint::from(3u32);
            }
            let ctx = Mont::<N, W>::new(&to_limbs(&m)).unwrap();
            let r = BigUint::from(1u32) << (64 * N);
            assert_eq!(from_limbs(ctx.one()), &r % &m);
            let a = random_below(m_bits, &mut rng) % &m;
            let b = random_below(m_bits, &mut rng) % &m;
            let e = random_below(m_bits, &mut rng);
            let (am, bm) = (ctx.to_mont(&to_limbs(&a)), ctx.to_mont(&to_limbs(&b)));
            assert_eq!(from_limbs(&am), (&a * &r) % &m);
            assert_eq!(
                from_limbs(&ctx.to_plain(&ctx.mul(&am, &bm))),
                (&a * &b) % &m
            );
            assert_eq!(from_limbs(&ctx.to_plain(&ctx.sqr(&am))), (&a * &a) % &m);
            let e_l = to_limbs::<N>(&e);
            let e_bits = bit_len(&e_l);
            assert_eq!(
                from_limbs(&ctx.to_plain(&ctx.pow(&am, &e_l, e_bits))),
                a.modpow(&e, &m)
            );
            assert_eq!(
                from_limbs(&ctx.to_plain(&ctx.pow2(&e_l, e_bits))),
                BigUint::from(2u32).modpow(&e, &m)
            );
        }
    }

    #[test]
    fn montgomery_arithmetic_matches_num_bigint() {
        check_against_bigint::<1, 2>(64, 50);
        check_against_bigint::<1, 2>(20, 50);
        check_against_bigint::<2, 4>(128, 30);
        check_against_bigint::<3, 6>(192, 30); // odd width: the single last reduction row
        check_against_bigint::<4, 8>(256, 30);
        check_against_bigint::<4, 8>(130, 30); // padded: modulus narrower than N limbs
        check_against_bigint::<8, 16>(512, 20);
        check_against_bigint::<16, 32>(1024, 10);
        check_against_bigint::<16, 32>(1000, 10);
        check_against_bigint::<32, 64>(2048, 5);
        check_against_bigint::<64, 128>(4096, 2);
    }

    /// All-ones modulus 2^(64N) - 1 and operand m - 1: every word product
    /// and carry at its maximum.
    fn check_extreme<const N: usize, const W: usize>() {
        let m = [u64::MAX; N];
        let ctx = Mont::<N, W>::new(&m).unwrap();
        let big = from_limbs(&m);
        let mut x = m;
        x[0] -= 1;
        let xm = ctx.to_mont(&x);
        let xb = from_limbs(&x);
        let want = (&xb * &xb) % &big;
        assert_eq!(from_limbs(&ctx.to_plain(&ctx.sqr(&xm))), want);
        assert_eq!(from_limbs(&ctx.to_plain(&ctx.mul(&xm, &xm))), want);
        // The largest Montgomery-form value, m - 1, squared directly:
        // sqr(x) * R ≡ x^2 (mod m).
        let r = BigUint::from(1u32) << (64 * N);
        let want = (&xb * &xb) % &big;
        assert_eq!((from_limbs(&ctx.sqr(&x)) * &r) % &big, want);
        assert_eq!((from_limbs(&ctx.mul(&x, &x)) * &r) % &big, want);
    }

    #[test]
    fn reciprocal_and_2by1_quotients_match_u128_division() {
        let mut rng = rand::thread_rng();
        let mut ds = vec![1u64 << 63, u64::MAX, (1u64 << 63) | 1];
        ds.extend((0..200).map(|_| rng.next_u64() | (1 << 63)));
        for d in ds {
            let want = (u128::MAX / u128::from(d) - (1u128 << 64)) as u64;
            assert_eq!(reciprocal(d), want, "{d:#x}");
            for u1 in [0, d - 1, rng.next_u64() % d] {
                for u0 in [0, u64::MAX, rng.next_u64()] {
                    let n = (u128::from(u1) << 64) | u128::from(u0);
                    assert_eq!(
                        u128::from(div_2by1(u1, u0, d, want)),
                        n / u128::from(d),
                        "{u1:#x}:{u0:#x} / {d:#x}"
                    );
                }
            }
        }
    }

    /// `a * 2^v mod m` for every shift, on moduli whose top word is exactly
    /// 2^63 over all-ones words (the one-word quotient estimate is then
    /// furthest above the true quotient) and on random normalized moduli.
    fn check_shl_mod<const N: usize, const W: usize>() {
        let mut rng = rand::thread_rng();
        let mut adversarial = [u64::MAX; N];
        adversarial[N - 1] = 1 << 63;
        adversarial[0] |= 1; // N = 1: 2^63 + 1
        let mut random = [0u64; N];
        random.iter_mut().for_each(|l| *l = rng.next_u64());
        random[N - 1] |= 1 << 63;
        random[0] |= 1;
        for m in [adversarial, random] {
            let ctx = Mont::<N, W>::new(&m).unwrap();
            let recip = ctx.top_recip.unwrap();
            let big = from_limbs(&m);
            let mut below = m;
            below[0] -= 1; // m - 1
            let mut rand_a = [0u64; N];
            rand_a.iter_mut().for_each(|l| *l = rng.next_u64());
            rand_a[N - 1] &= (1 << 63) - 1;
            for a in [below, rand_a, *ctx.one()] {
                for v in 0..64u32 {
                    let want = (from_limbs(&a) << v as usize) % &big;
                    assert_eq!(from_limbs(&ctx.shl_mod(&a, v, recip)), want, "v = {v}");
                }
            }
        }
    }

    #[test]
    fn shifts_reduce_exactly_even_when_the_quotient_is_overestimated() {
        check_shl_mod::<1, 2>();
        check_shl_mod::<2, 4>();
        check_shl_mod::<3, 6>();
        check_shl_mod::<16, 32>();
        check_shl_mod::<32, 64>();
    }

    /// pow2 by windows (normalized moduli) against num-bigint, on exponents
    /// whose windows are all zeros, all ones, or partial at the top.
    fn check_pow2_windows<const N: usize, const W: usize>() {
        let mut rng = rand::thread_rng();
        for _ in 0..4 {
            let m = random_below(64 * N, &mut rng)
                | (BigUint::from(1u32) << (64 * N - 1))
                | BigUint::from(1u32);
            let ctx = Mont::<N, W>::new(&to_limbs(&m)).unwrap();
            assert!(ctx.top_recip.is_some());
            let full = BigUint::from(1u32) << (64 * N);
            let mut exps = vec![
                BigUint::from(0u32),
                BigUint::from(1u32),
                BigUint::from(63u32),
                BigUint::from(64u32),
                &full - BigUint::from(1u32),
                BigUint::from(1u32) << (64 * N - 1),
            ];
            for bits in [5, 6, 7, 12, 13, 64 * N - 7, 64 * N] {
                exps.push(random_below(bits, &mut rng));
            }
            for e in exps {
                let e_l = to_limbs::<N>(&e);
                let e_bits = bit_len(&e_l);
                assert_eq!(
                    from_limbs(&ctx.to_plain(&ctx.pow2(&e_l, e_bits))),
                    BigUint::from(2u32).modpow(&e, &m),
                    "2^{e} mod {m}"
                );
            }
        }
    }

    #[test]
    fn pow2_by_windows_matches_num_bigint() {
        check_pow2_windows::<1, 2>();
        check_pow2_windows::<2, 4>();
        check_pow2_windows::<3, 6>();
        check_pow2_windows::<16, 32>();
        check_pow2_windows::<32, 64>();
    }

    #[test]
    fn montgomery_extreme_operands_at_every_width() {
        check_extreme::<1, 2>();
        check_extreme::<2, 4>();
        check_extreme::<3, 6>();
        check_extreme::<16, 32>();
        check_extreme::<32, 64>();
        check_extreme::<64, 128>();
    }

    #[test]
    fn montgomery_handles_extreme_operands() {
        // Modulus 2^1024 - 1 (all ones) and operands m - 1: maximal carries.
        let m = [u64::MAX; 16];
        let ctx = Mont::<16, 32>::new(&m).unwrap();
        let big = from_limbs(&m);
        let mut x = m;
        x[0] -= 1;
        let xm = ctx.to_mont(&x);
        let xb = from_limbs(&x);
        assert_eq!(from_limbs(&ctx.to_plain(&ctx.sqr(&xm))), (&xb * &xb) % &big);
        assert_eq!(
            from_limbs(&ctx.to_plain(&ctx.mul(&xm, &xm))),
            (&xb * &xb) % &big
        );
        assert!(Mont::<16, 32>::new(&[0; 16]).is_none());
        let mut even = m;
        even[0] -= 1;
        assert!(Mont::<16, 32>::new(&even).is_none());
    }
}
