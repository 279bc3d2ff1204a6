#!/usr/bin/env bash
# RSA key generation as Sprig's genPrivateKey / genCA / genSignedCert run it: ours
# (crates/sprig rsagen.rs + montgomery.rs, release build of crates/sprig/examples/rsagen_bench.rs)
# against Go's crypto/rsa.GenerateKey (hack/bench/go-rsa-keygen, what helm calls), same run,
# rounds alternating between the two so machine load hits both alike.
# Prints, per part: CPU per base-2 strong test (1024 and 2048 bits), per sieve window, per
# prime (with the number of base-2 tests it took); per whole key (2048 and 4096 bits): mean
# CPU (whole process, both search threads) and wall time with standard error, standard
# deviation and range (key generation time is random: mostly the number of composites tested),
# and Go / ours ratios of the means. Prints `uptime` first: the machine is shared.
# Asserts nothing.
#
# Environment: BENCH_RSA_KEYS2048 (24), BENCH_RSA_KEYS4096 (8), BENCH_RSA_TESTS (40 base-2
# tests at 2048 bits, 4x that at 1024), BENCH_SKIP_BUILD=1 (use the existing example binary),
# BENCH_RSA_NO_GO=1 (ours only).
set -euo pipefail
# shellcheck source=hack/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KEYS2048="${BENCH_RSA_KEYS2048:-24}"
KEYS4096="${BENCH_RSA_KEYS4096:-8}"
TESTS="${BENCH_RSA_TESTS:-40}"
OURS="$BENCH_ROOT/target/release/examples/rsagen_bench"
GO_BIN_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/ferroflux/bench"
GO_BIN="$GO_BIN_DIR/go-rsa-keygen"

cd "$BENCH_ROOT"
if [[ "${BENCH_SKIP_BUILD:-}" != 1 ]]; then
  log "cargo build --release -p ferroflux-sprig --example rsagen_bench"
  cargo build --release -q -p ferroflux-sprig --example rsagen_bench
fi
[[ -x "$OURS" ]] || die "$OURS missing (cargo build --release -p ferroflux-sprig --example rsagen_bench)"

go_args=()
if [[ "${BENCH_RSA_NO_GO:-}" != 1 ]]; then
  command -v go >/dev/null || die "go missing (or set BENCH_RSA_NO_GO=1)"
  mkdir -p "$GO_BIN_DIR"
  log "go build hack/bench/go-rsa-keygen ($(go env GOVERSION))"
  (cd hack/bench/go-rsa-keygen && GOFLAGS=-mod=mod go build -o "$GO_BIN" .)
  go_args=(--go "$GO_BIN")
  echo "Go: $(go env GOVERSION) crypto/rsa.GenerateKey (one thread)"
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load at start: $(uptime | sed 's/.*load average/load average/')"
"$OURS" --keys2048 "$KEYS2048" --keys4096 "$KEYS4096" --tests "$TESTS" "${go_args[@]}"
echo "load at end: $(uptime | sed 's/.*load average/load average/')"
