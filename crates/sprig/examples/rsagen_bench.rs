//! Times RSA key generation (`rsagen.rs` / `montgomery.rs`) part by part and,
//! with `--go <binary>` (hack/bench/go-rsa-keygen), against Go's
//! `crypto/rsa.GenerateKey` in the same run, alternating rounds so machine
//! load hits both alike. Run by `hack/bench/rsa-keygen.sh` (release build).
//!
//! Usage: rsagen_bench [--go PATH] [--keys2048 N] [--keys4096 N] [--tests N]

use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use ferroflux_sprig::rsagen_bench as b;
use rustix::time::{ClockId, clock_gettime};

fn nanos(id: ClockId) -> u64 {
    let t = clock_gettime(id);
    (t.tv_sec as u64) * 1_000_000_000 + t.tv_nsec as u64
}

/// Runs `f` and returns (process CPU ns, wall ns, result).
fn timed<T>(f: impl FnOnce() -> T) -> (u64, u64, T) {
    let (c0, w0) = (nanos(ClockId::ProcessCPUTime), Instant::now());
    let out = f();
    let cpu = nanos(ClockId::ProcessCPUTime) - c0;
    (cpu, w0.elapsed().as_nanos() as u64, out)
}

/// Mean, standard deviation, minimum and maximum, in milliseconds.
struct Summary {
    n: usize,
    mean: f64,
    sd: f64,
    min: f64,
    max: f64,
}

impl Summary {
    fn of(ns: &[u64]) -> Summary {
        let ms: Vec<f64> = ns.iter().map(|&x| x as f64 / 1e6).collect();
        let n = ms.len().max(1);
        let mean = ms.iter().sum::<f64>() / n as f64;
        let var = ms.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n.max(2) - 1) as f64;
        Summary {
            n: ms.len(),
            mean,
            sd: var.sqrt(),
            min: ms.iter().copied().fold(f64::INFINITY, f64::min),
            max: ms.iter().copied().fold(0.0, f64::max),
        }
    }

    /// "mean ± standard error (sd, min–max)".
    fn show(&self) -> String {
        format!(
            "{:8.1} ms ± {:5.1} (sd {:6.1}, {:6.1}–{:6.1}, n={})",
            self.mean,
            self.sd / (self.n.max(1) as f64).sqrt(),
            self.sd,
            self.min,
            self.max,
            self.n
        )
    }
}

struct Args {
    go: Option<String>,
    keys2048: usize,
    keys4096: usize,
    tests: usize,
}

fn args() -> Result<Args> {
    let mut a = Args {
        go: None,
        keys2048: 24,
        keys4096: 8,
        tests: 40,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--go" => a.go = Some(value()?),
            "--keys2048" => a.keys2048 = value()?.parse()?,
            "--keys4096" => a.keys4096 = value()?.parse()?,
            "--tests" => a.tests = value()?.parse()?,
            _ => bail!("unknown argument {flag}"),
        }
    }
    Ok(a)
}

/// Go's per-key (CPU ns, wall ns) for `n` keys of `bits` bits.
fn go_keys(go: &str, bits: usize, n: usize) -> Result<Vec<(u64, u64)>> {
    let out = Command::new(go)
        .args(["-bits", &bits.to_string(), "-n", &n.to_string()])
        .output()
        .with_context(|| format!("running {go}"))?;
    if !out.status.success() {
        bail!("{go}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let mut keys = Vec::new();
    for line in String::from_utf8(out.stdout)?.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if let ["key", _, cpu, wall] = f.as_slice() {
            keys.push((cpu.parse()?, wall.parse()?));
        }
    }
    if keys.len() != n {
        bail!("{go} printed {} keys, wanted {n}", keys.len());
    }
    Ok(keys)
}

fn main() -> Result<()> {
    let a = args()?;
    // The sieve primes are built once per process (by its first key), outside
    // every other measurement.
    let (cpu, _, _) = timed(|| b::sieve_windows(1024, 1));
    println!(
        "== sieve table build + first window (once per process): {:.2} ms CPU",
        cpu as f64 / 1e6
    );

    println!("== parts (this thread only; CPU per item)");
    let mut base2 = vec![];
    for (bits, count) in [(1024, a.tests * 4), (2048, a.tests)] {
        let (cpu, wall, passed) = timed(|| b::base2_tests(bits, count));
        println!(
            "base-2 strong test, {bits}-bit random odd: {:7.3} ms CPU, {:7.3} ms wall ({count} tests, {passed} passed)",
            cpu as f64 / 1e6 / count as f64,
            wall as f64 / 1e6 / count as f64,
        );
        base2.push(cpu as f64 / 1e6 / count as f64);
    }
    // The filter the search uses where the CPU has AVX-512 IFMA (eight
    // candidates per call); the model below uses it in place of the strong
    // test when it ran.
    for (k, (bits, count)) in [(1024, a.tests * 4), (2048, a.tests)]
        .into_iter()
        .enumerate()
    {
        let count = count.next_multiple_of(8);
        let (cpu, _, passed) = timed(|| b::simd_fermat_tests(bits, count));
        match passed {
            Some(passed) => {
                let ms = cpu as f64 / 1e6 / count as f64;
                println!(
                    "base-2 Fermat test, 8 at once (AVX-512 IFMA), {bits}-bit random odd: {ms:7.3} ms CPU ({count} tests, {passed} passed; {:.1}x cheaper)",
                    base2[k] / ms
                );
                base2[k] = ms;
            }
            None => println!("base-2 Fermat test, 8 at once: no AVX-512 IFMA here"),
        }
    }
    let mut rounds = vec![];
    for (bits, count) in [(1024, a.tests), (2048, a.tests / 4 + 1)] {
        let (cpu, _, _) = timed(|| b::random_rounds(bits, count));
        let ms = cpu as f64 / 1e6 / count as f64;
        println!(
            "random-base Miller-Rabin round, {bits}-bit random odd: {ms:7.3} ms CPU ({count} rounds)"
        );
        rounds.push(ms);
    }
    // A prime's rounds side by side in AVX-512 IFMA lanes, as the search
    // runs them there; the model below uses the cost per round of that.
    for (k, (bits, count)) in [(1024, a.tests), (2048, a.tests / 4 + 1)]
        .into_iter()
        .enumerate()
    {
        let (cpu, _, passed) = timed(|| b::simd_rounds(bits, count));
        if passed.is_some() {
            let per_set = cpu as f64 / 1e6 / count as f64;
            let n = b::rounds_per_prime(bits);
            println!(
                "{n} Miller-Rabin rounds side by side (AVX-512 IFMA), {bits}-bit random odd: {per_set:7.3} ms CPU ({count} sets; {:.1}x cheaper)",
                rounds[k] * n as f64 / per_set
            );
            rounds[k] = per_set / n as f64;
        }
    }
    let mut sieve = vec![];
    for bits in [1024, 2048] {
        let count = 50;
        let (cpu, _, survivors) = timed(|| b::sieve_windows(bits, count));
        let ms = cpu as f64 / 1e6 / count as f64;
        println!(
            "sieve window, {bits}-bit start: {ms:7.3} ms CPU, {:.1} survivors per window",
            survivors as f64 / count as f64
        );
        sieve.push(ms);
    }
    // Expected CPU per key from the parts (far less noisy than timing whole
    // keys, whose cost is mostly the random number of composites tested):
    // two primes, each E[tests] base-2 tests, its rounds and one window.
    for (k, bits) in [1024usize, 2048].into_iter().enumerate() {
        let tests = b::expected_tests(bits);
        let per_prime = tests * base2[k] + b::rounds_per_prime(bits) as f64 * rounds[k] + sieve[k];
        println!(
            "model, {}-bit key: {:.1} ms CPU (2 primes x ({tests:.1} expected base-2 tests x {:.3} ms + {} rounds x {:.3} ms + {:.3} ms sieve)",
            2 * bits,
            2.0 * per_prime,
            base2[k],
            b::rounds_per_prime(bits),
            rounds[k],
            sieve[k],
        );
    }
    for (bits, primes) in [(1024, 40u64), (2048, 12)] {
        let (mut windows, mut tests) = (0, 0);
        let (cpu, _, ()) = timed(|| {
            for _ in 0..primes {
                let (w, t) = b::one_prime(bits);
                windows += w;
                tests += t;
            }
        });
        println!(
            "one {bits}-bit prime, one thread: {:7.1} ms CPU, {:.1} base-2 tests, {:.2} windows per prime ({primes} primes)",
            cpu as f64 / 1e6 / primes as f64,
            tests as f64 / primes as f64,
            windows as f64 / primes as f64
        );
    }

    println!("== whole keys (process CPU incl. both search threads; wall)");
    for (bits, total, per_round) in [(2048, a.keys2048, 4), (4096, a.keys4096, 2)] {
        let (mut ours_cpu, mut ours_wall, mut go_cpu, mut go_wall) =
            (vec![], vec![], vec![], vec![]);
        let mut done = 0;
        while done < total {
            let n = per_round.min(total - done);
            for _ in 0..n {
                let (cpu, wall, r) = timed(|| b::generate_key(bits));
                r.map_err(anyhow::Error::msg)?;
                ours_cpu.push(cpu);
                ours_wall.push(wall);
            }
            if let Some(go) = &a.go {
                for (cpu, wall) in go_keys(go, bits, n)? {
                    go_cpu.push(cpu);
                    go_wall.push(wall);
                }
            }
            done += n;
        }
        let (oc, ow) = (Summary::of(&ours_cpu), Summary::of(&ours_wall));
        println!("{bits}-bit key, ours CPU:  {}", oc.show());
        println!("{bits}-bit key, ours wall: {}", ow.show());
        if a.go.is_some() {
            let (gc, gw) = (Summary::of(&go_cpu), Summary::of(&go_wall));
            println!("{bits}-bit key, Go CPU:    {}", gc.show());
            println!("{bits}-bit key, Go wall:   {}", gw.show());
            println!(
                "{bits}-bit key, Go / ours (mean): CPU {:.2}x, wall {:.2}x",
                gc.mean / oc.mean,
                gw.mean / ow.mean
            );
        }
    }
    Ok(())
}
