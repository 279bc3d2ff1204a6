#!/usr/bin/env bash
# `kustomize build` speed and memory: the reference kustomize v5 (.cache/bin/kustomize) against
# `ferroflux build kustomize` (release build), whole processes, in the same run:
#   1. every corpus folder holding a kustomization, one process per folder (sum of wall times,
#      highest peak RSS),
#   2. the whole kubeflow set (every kubeflow folder, one after another),
#   3. a synthetic overlay of 4,000 objects (namespace, prefix, labels, images, a patch on every
#      Deployment, a generated ConfigMap referenced by all of them) made by this script.
# Each measurement is the median of BENCH_KUSTOMIZE_RUNS runs (default 3) after one warm-up,
# wall time of the whole set; kustomize takes minutes on the synthetic overlay, so it runs that
# once (BENCH_KUSTOMIZE_SYNTH_REF_RUNS). CPU is user+system time of the whole timed loop (bash's
# `time` on a subshell, which counts the processes it waited for, to the millisecond): summing
# per-process figures rounded to 10 ms undercounts processes that take a few milliseconds.
# Peak RSS is the highest `/usr/bin/time -f %M` of any one process, from a separate pass.
# Prints times, RSS and ratios; asserts nothing.
# Also counts the folders whose output is identical to kustomize's: parsed (as the parity test
# compares) and byte for byte.
#
# Environment: BENCH_KUSTOMIZE_RUNS (3), BENCH_KUSTOMIZE_SYNTH_REF_RUNS (1), BENCH_SKIP_BUILD=1 (use the existing release binary),
# BENCH_FERROFLUX=<path> (measure another ferroflux binary; implies no build).
set -euo pipefail
# shellcheck source=hack/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS="${BENCH_KUSTOMIZE_RUNS:-3}"
SYNTH_REF_RUNS="${BENCH_KUSTOMIZE_SYNTH_REF_RUNS:-1}"
KUSTOMIZE="$BENCH_ROOT/.cache/bin/kustomize"
FERROFLUX="${BENCH_FERROFLUX:-$BENCH_ROOT/target/release/ferroflux}"
OBJECTS=4000

BENCH_TMP="$(mktemp -d "${TMPDIR:-/tmp}/ferroflux-bench-kustomize.XXXXXX")"
trap 'rm -rf "$BENCH_TMP"' EXIT
cd "$BENCH_ROOT"
if [[ "${BENCH_SKIP_BUILD:-}" != 1 && -z "${BENCH_FERROFLUX:-}" ]]; then
  log "cargo build --release -p ferroflux-cli"
  cargo build --release -q -p ferroflux-cli
fi
[[ -x "$FERROFLUX" ]] || die "$FERROFLUX missing (cargo build --release -p ferroflux-cli)"
[[ -x "$KUSTOMIZE" ]] || die "$KUSTOMIZE missing (make tools)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time missing (apt-get install time)"
[[ -d "$CORPUS" ]] || die "corpus missing at $CORPUS (set FERROFLUX_SHARED)"

# Folders holding a kustomization (as the parity test finds them; symlinks not followed).
mapfile -t ALL < <(find "$CORPUS" -type d \( -exec test -f '{}/kustomization.yaml' \; -o \
  -exec test -f '{}/kustomization.yml' \; -o -exec test -f '{}/Kustomization' \; \) -print | sort)
mapfile -t KUBEFLOW < <(printf '%s\n' "${ALL[@]}" | grep "^$CORPUS/kubeflow/")
[[ ${#ALL[@]} -gt 0 ]] || die "no kustomization under $CORPUS"

# build_one TOOL DIR: one build; prints "<peak RSS KiB> <user+system CPU seconds>". Failing
# builds count too (the corpus holds folders meant to fail, and kustomize fails on them too).
build_one() {
  local out
  if [[ "$1" == kustomize ]]; then
    out="$( (/usr/bin/time -f '%M %U %S' "$KUSTOMIZE" build "$2" 2>&1 >/dev/null || true) |
      tail -n 1)"
  else
    out="$( (/usr/bin/time -f '%M %U %S' "$FERROFLUX" build kustomize "$2" 2>&1 >/dev/null ||
      true) | tail -n 1)"
  fi
  awk '{ printf "%d %.2f\n", $1, $2 + $3 }' <<<"$out"
}

# run_set TOOL DIR...: builds every DIR with TOOL (kustomize | ferroflux), one process each,
# one after another; prints "<wall seconds> <highest peak RSS KiB> <CPU seconds>". The timed pass
# runs the tool directly (no /usr/bin/time, no pipes, so the shell adds little per process) in a
# subshell under bash's `time`: wall and user+system CPU of the whole loop, children included.
# A second, untimed pass reads each process's peak RSS.
run_set() {
  local tool="$1"; shift
  local d rss peak=0 t0 t1 one tm timed
  if [[ $# -eq 1 ]]; then
    # One big build (the synthetic overlay): time, RSS and CPU from the same run.
    t0="$(now_ns)"
    read -r -a one <<<"$(build_one "$tool" "$1")"
    t1="$(now_ns)"
    awk -v ns="$((t1 - t0))" -v r="${one[0]}" -v c="${one[1]}" \
      'BEGIN { printf "%.4f %d %.2f\n", ns / 1e9, r, c }'
    return
  fi
  # "<wall> <user> <system>" seconds of the subshell and every process it waited for.
  timed="$(
    TIMEFORMAT='%3R %3U %3S'
    {
      time (
        if [[ "$tool" == kustomize ]]; then
          for d in "$@"; do "$KUSTOMIZE" build "$d" >/dev/null 2>&1 || true; done
        else
          for d in "$@"; do "$FERROFLUX" build kustomize "$d" >/dev/null 2>&1 || true; done
        fi
      )
    } 2>&1
  )"
  read -r -a tm <<<"$timed"
  [[ ${#tm[@]} -eq 3 ]] || die "unexpected timing output: $timed"
  for d in "$@"; do
    read -r -a one <<<"$(build_one "$tool" "$d")"
    rss="${one[0]}"
    [[ "$rss" =~ ^[0-9]+$ && "$rss" -gt "$peak" ]] && peak="$rss"
  done
  awk -v w="${tm[0]}" -v u="${tm[1]}" -v s="${tm[2]}" -v r="$peak" \
    'BEGIN { printf "%.4f %d %.3f\n", w, r, u + s }'
}

# measure NAME REF_RUNS SET...: RUNS timed runs of ours and REF_RUNS of kustomize (each after
# one warm-up when REF_RUNS > 1); prints a row of medians, peak RSS and ratios.
measure() {
  local name="$1" ref_runs="$2"; shift 2
  local i ks=() kr=() kc=() fs=() fr=() fc=() res
  if [[ "$ref_runs" -gt 1 ]]; then run_set kustomize "$@" >/dev/null; fi
  run_set ferroflux "$@" >/dev/null
  for i in $(seq 1 "$RUNS"); do
    if [[ "$i" -le "$ref_runs" ]]; then
      read -r -a res <<<"$(run_set kustomize "$@")"
      ks+=("${res[0]}"); kr+=("${res[1]}"); kc+=("${res[2]}")
    fi
    read -r -a res <<<"$(run_set ferroflux "$@")"
    fs+=("${res[0]}"); fr+=("${res[1]}"); fc+=("${res[2]}")
  done
  local km fm krm frm kcm fcm
  kcm="$(printf '%s\n' "${kc[@]}" | median_min_max | cut -d' ' -f1)"
  fcm="$(printf '%s\n' "${fc[@]}" | median_min_max | cut -d' ' -f1)"
  km="$(printf '%s\n' "${ks[@]}" | median_min_max | cut -d' ' -f1)"
  fm="$(printf '%s\n' "${fs[@]}" | median_min_max | cut -d' ' -f1)"
  krm="$(printf '%s\n' "${kr[@]}" | sort -n | tail -n 1)"
  frm="$(printf '%s\n' "${fr[@]}" | sort -n | tail -n 1)"
  awk -v n="$name" -v km="$km" -v fm="$fm" -v kr="$krm" -v fr="$frm" -v kc="$kcm" -v fc="$fcm" '
    BEGIN {
      printf "%-36s %8.3f s %8.3f s %6.1fx %8.3f s %8.3f s %6.1fx %7.1f MiB %6.1f MiB %5.2fx\n",
        n, km, fm, (fm > 0 ? km / fm : 0), kc, fc, (fc > 0 ? kc / fc : 0),
        kr / 1024, fr / 1024, (kr > 0 ? fr / kr : 0) }'
}

# ---- synthetic overlay ----------------------------------------------------------------------
synth="$BENCH_TMP/synthetic"
mkdir -p "$synth/base" "$synth/overlay"
python3 - "$synth" "$OBJECTS" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
per = n // 4  # Deployment, Service, ConfigMap, ServiceAccount per app
with open(os.path.join(root, "base", "objects.yaml"), "w") as f:
    for i in range(per):
        app = f"app-{i:04d}"
        f.write(f"""---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  labels: {{app: {app}}}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: {app}}}
  template:
    metadata:
      labels: {{app: {app}}}
    spec:
      serviceAccountName: {app}
      containers:
      - name: main
        image: registry.example.com/team/{app}:1.0.0
        ports:
        - containerPort: 8080
        envFrom:
        - configMapRef: {{name: {app}-config}}
        - configMapRef: {{name: shared}}
        volumeMounts:
        - {{name: config, mountPath: /etc/app}}
      volumes:
      - name: config
        configMap: {{name: {app}-config}}
---
apiVersion: v1
kind: Service
metadata:
  name: {app}
spec:
  selector: {{app: {app}}}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {app}-config
data:
  LOG_LEVEL: info
  APP: {app}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {app}
""")
with open(os.path.join(root, "base", "kustomization.yaml"), "w") as f:
    f.write("resources:\n- objects.yaml\nconfigMapGenerator:\n- name: shared\n  literals: [A=1, B=2]\n")
with open(os.path.join(root, "overlay", "kustomization.yaml"), "w") as f:
    f.write("""resources:
- ../base
namespace: bench
namePrefix: prod-
labels:
- pairs: {env: prod}
  includeSelectors: true
commonAnnotations:
  team: bench
images:
- name: registry.example.com/team/app-0001
  newTag: 2.0.0
configMapGenerator:
- name: shared
  behavior: merge
  literals: [C=3]
patches:
- target: {kind: Deployment}
  patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: any}
    spec:
      template:
        spec:
          containers:
          - name: main
            resources:
              limits: {memory: 128Mi}
""")
PY

# ---- parity counts --------------------------------------------------------------------------
parsed=0 bytes=0
for d in "${ALL[@]}"; do
  kout="$BENCH_TMP/k.yaml" fout="$BENCH_TMP/f.yaml"
  kok=0 fok=0
  "$KUSTOMIZE" build "$d" >"$kout" 2>/dev/null && kok=1
  "$FERROFLUX" build kustomize "$d" >"$fout" 2>/dev/null && fok=1
  if [[ $kok == 0 && $fok == 0 ]]; then
    parsed=$((parsed + 1)); bytes=$((bytes + 1)); continue
  fi
  [[ $kok == 1 && $fok == 1 ]] || continue
  if cmp -s "$kout" "$fout"; then
    parsed=$((parsed + 1)); bytes=$((bytes + 1))
  elif python3 -c 'import sys, yaml
a = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]
b = [d for d in yaml.safe_load_all(open(sys.argv[2])) if d is not None]
sys.exit(0 if a == b else 1)' "$kout" "$fout" 2>/dev/null; then
    parsed=$((parsed + 1))
  fi
done

# ---- measurements ---------------------------------------------------------------------------
kver="$("$KUSTOMIZE" version 2>/dev/null | head -n 1)"
log "kustomize $kver vs $FERROFLUX; $RUNS runs after a warm-up, medians"
printf '%-36s %10s %10s %7s %10s %10s %7s %11s %10s %6s\n' "" "kust. wall" "ours wall" \
  speedup "kust. CPU" "ours CPU" "CPU" "kust. RSS" "ours RSS" "RSS"
measure "corpus: ${#ALL[@]} folders, one by one" "$RUNS" "${ALL[@]}"
measure "kubeflow: ${#KUBEFLOW[@]} folders, one by one" "$RUNS" "${KUBEFLOW[@]}"
# kustomize needs minutes for the synthetic overlay: one run of it, RUNS of ours.
measure "synthetic overlay: $OBJECTS objects" "$SYNTH_REF_RUNS" "$synth/overlay"
printf 'identical to kustomize: %d of %d parsed, %d of %d byte for byte\n' \
  "$parsed" "${#ALL[@]}" "$bytes" "${#ALL[@]}"
