//! Time per candidate of `fermat_base2` at the prime sizes RSA keys use.
//! `cargo run --release -p ferroflux-simd-prime --example fermat_bench`
use std::time::Instant;

fn main() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for (bits, width) in [(1024usize, 16usize), (2048, 32)] {
        let cands: Vec<Vec<u64>> = (0..8)
            .map(|_| {
                let mut c: Vec<u64> = (0..width).map(|_| next()).collect();
                c[0] |= 1;
                c[bits / 64 - 1] |= 3 << 62;
                c
            })
            .collect();
        let refs: Vec<&[u64]> = cands.iter().map(Vec::as_slice).collect();
        let rounds = 20;
        // The best of five batches: the machine is shared.
        let per = (0..5)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..rounds {
                    std::hint::black_box(ferroflux_simd_prime::fermat_base2(std::hint::black_box(
                        &refs,
                    )));
                }
                t.elapsed().as_secs_f64() / f64::from(rounds) / 8.0
            })
            .fold(f64::INFINITY, f64::min);
        println!(
            "{bits}-bit candidates: {:.3} ms per candidate (8 per call, best of 5 x {rounds} calls)",
            per * 1e3
        );
    }
}
