#!/usr/bin/env bash
# The flux-benchmark shape for Kustomizations: N Kustomizations (default 100, 500 and 1000), each
# applying a small app (ConfigMap, Service, Deployment; namePrefix app-<i>-) from the artifact of
# one GitRepository served by our source-controller, on the local control plane. For each N it
# runs our release kustomize-controller and then Flux's own kustomize-controller (built from its
# Go module by `hack/tools.sh flux-kustomize-controller`, version pinned in hack/versions.env)
# on the identical workload, one after the other, each in a fresh namespace with its own
# source-controller, with the same flags (RUNTIME_NAMESPACE + --watch-all-namespaces=false,
# --concurrent, leader election off, default --kube-api-qps/--kube-api-burst). Reports per
# controller the time from creating the Kustomizations until all are Ready=True, peak RSS
# (VmHWM), CPU time and API requests (`rest_client_requests_total`, which both export) per
# Kustomization, and the ratios. Prints numbers and ratios; asserts nothing.
#
# Environment: BENCH_KS_COUNTS ("100 500 1000"), BENCH_KS_CONCURRENT (20, as flux-benchmark),
# BENCH_KS_TIMEOUT (seconds per run, 900), BENCH_KS_FLUX=0 (ours only), BENCH_SKIP_BUILD=1 (use
# the existing release binaries), BENCH_KUSTOMIZE_CONTROLLER / BENCH_SOURCE_CONTROLLER /
# BENCH_FLUX_KUSTOMIZE_CONTROLLER (measure other binaries, no build).
set -euo pipefail
# shellcheck source=hack/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=hack/versions.env
source "$BENCH_ROOT/hack/versions.env"

COUNTS="${BENCH_KS_COUNTS:-100 500 1000}"
CONCURRENT="${BENCH_KS_CONCURRENT:-20}"
TIMEOUT="${BENCH_KS_TIMEOUT:-900}"
WITH_FLUX="${BENCH_KS_FLUX:-1}"
# BENCH_KUSTOMIZE_CONTROLLER: another binary to measure (implies no build of it).
KUSTOMIZE_CONTROLLER="${BENCH_KUSTOMIZE_CONTROLLER:-$BENCH_ROOT/target/release/kustomize-controller}"
FLUX_KUSTOMIZE_CONTROLLER="${BENCH_FLUX_KUSTOMIZE_CONTROLLER:-$BENCH_ROOT/.cache/bin/flux-kustomize-controller}"
KC_PID=""

bench_init kustomizations
# Kustomizations carry the controller's finalizer: on an early exit strip what is left (the
# objects they applied live in the same namespace and go with it), then the shared cleanup.
ks_cleanup() {
  local rc=$? ns obj
  for ns in "${BENCH_NAMESPACES[@]}"; do
    for obj in $(timeout 30 "$KUBECTL" get kustomizations -n "$ns" -o name 2>/dev/null); do
      timeout 30 "$KUBECTL" patch -n "$ns" "$obj" --type=merge \
        -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1
    done
  done
  (exit "$rc")
  bench_cleanup
}
trap ks_cleanup EXIT
if [[ "${BENCH_SKIP_BUILD:-}" != 1 && -z "${BENCH_KUSTOMIZE_CONTROLLER:-}" ]]; then
  log "cargo build --release -p kustomize-controller"
  cargo build --release -q -p kustomize-controller
fi
[[ -x "$KUSTOMIZE_CONTROLLER" ]] || die "$KUSTOMIZE_CONTROLLER missing"
if [[ "$WITH_FLUX" == 1 && -z "${BENCH_FLUX_KUSTOMIZE_CONTROLLER:-}" ]]; then
  # Cached per machine: only the first run builds it (minutes on 2 cores).
  hack/tools.sh flux-kustomize-controller
fi
[[ "$WITH_FLUX" != 1 || -x "$FLUX_KUSTOMIZE_CONTROLLER" ]] ||
  die "$FLUX_KUSTOMIZE_CONTROLLER missing (hack/tools.sh flux-kustomize-controller)"
"$KUBECTL" apply --server-side --force-conflicts -f charts/kustomize-controller/crds >/dev/null
"$KUBECTL" wait --for=condition=Established --timeout=60s \
  crd/kustomizations.kustomize.toolkit.fluxcd.io >/dev/null

# The app every Kustomization applies.
app="$BENCH_TMP/app-src"
mkdir -p "$app"
cat >"$app/app.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: config
data:
  greeting: hello
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: ghcr.io/stefanprodan/podinfo:6.7.0
EOF
sha="$(make_repo app "$app")"
start_git_daemon
url="git://127.0.0.1:$GIT_PORT/app.git"
log "repository $url: main@sha1:$sha"

stop_kc() {
  [[ -n "$KC_PID" ]] || return 0
  kill -TERM "$KC_PID" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$KC_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$KC_PID" 2>/dev/null || true
  wait "$KC_PID" 2>/dev/null || true
  KC_PID=""
}

# ready_count NS: Kustomizations with Ready=True.
ready_count() {
  "$KUBECTL" get kustomizations -n "$1" -o \
    jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' |
    grep -c '^True$' || true
}

# api_requests PORT: the controller's API requests so far (sum of rest_client_requests_total).
api_requests() {
  curl -fs "http://127.0.0.1:$1/metrics" |
    awk 'index($0, "rest_client_requests_total{") == 1 { n += $NF } END { printf "%d\n", n }'
}

# loadavg: the 1-minute load average.
loadavg() { cut -d' ' -f1 /proc/loadavg; }

# kustomizations_yaml N NS: N Kustomizations of the app into NS.
kustomizations_yaml() {
  local i
  for i in $(seq 1 "$1"); do
    cat <<EOF
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: app-$i
  namespace: $2
spec:
  interval: 1h
  path: ./
  prune: true
  targetNamespace: $2
  namePrefix: app-$i-
  sourceRef:
    kind: GitRepository
    name: app
EOF
  done
}

# run_one WHO BINARY N: one measured run in a fresh namespace with its own source-controller;
# appends "WHO N seconds peak_kib cpu_ms/obj requests/obj load_start load_end" to RESULTS.
RESULTS=()
run_one() {
  local who="$1" bin="$2" n="$3"
  new_namespace "bench-ks-$who"
  start_controller "$NS" "$who-$n"
  gitrepository_yaml app "$NS" "$url" | "$KUBECTL" apply -f - >/dev/null
  "$KUBECTL" wait -n "$NS" --for=condition=Ready --timeout=60s gitrepository/app >/dev/null ||
    die "GitRepository not Ready"

  local kc_metrics kc_health
  kc_metrics="$(free_port)"; kc_health="$(free_port)"
  RUNTIME_NAMESPACE="$NS" "$bin" --watch-all-namespaces=false --concurrent="$CONCURRENT" \
    --enable-leader-election=false --metrics-addr="127.0.0.1:$kc_metrics" \
    --health-addr="127.0.0.1:$kc_health" >"$BENCH_TMP/kc-$who-$n.log" 2>&1 &
  KC_PID=$!
  BENCH_PIDS+=("$KC_PID")
  for _ in $(seq 1 300); do
    curl -fs "http://127.0.0.1:$kc_health/readyz" >/dev/null 2>&1 && break
    kill -0 "$KC_PID" 2>/dev/null || die "$who kustomize-controller exited at start-up"
    sleep 0.1
  done
  curl -fs "http://127.0.0.1:$kc_health/readyz" >/dev/null 2>&1 ||
    die "$who kustomize-controller not ready within 30s"
  sleep 1 # caches synced, start-up requests done

  local manifest="$BENCH_TMP/kustomizations-$who-$n.yaml"
  kustomizations_yaml "$n" "$NS" >"$manifest"
  log "N=$n $who: creating $n Kustomizations in $NS (--concurrent=$CONCURRENT, load $(loadavg))"
  local cpu0 req0 load0 t0 t1 ready deadline
  load0="$(loadavg)"
  cpu0="$(cpu_seconds "$KC_PID")"
  req0="$(api_requests "$kc_metrics")"
  t0="$(now_ns)"
  "$KUBECTL" create -f "$manifest" >/dev/null
  deadline=$(($(date +%s) + TIMEOUT))
  while :; do
    ready="$(ready_count "$NS")"
    [[ "$ready" -ge "$n" ]] && break
    kill -0 "$KC_PID" 2>/dev/null || die "$who kustomize-controller exited during the run"
    [[ $(date +%s) -lt $deadline ]] || die "N=$n $who: only $ready/$n Ready after ${TIMEOUT}s"
    sleep 1
  done
  t1="$(now_ns)"
  local cpu1 req1 hwm secs
  cpu1="$(cpu_seconds "$KC_PID")"
  req1="$(api_requests "$kc_metrics")"
  hwm="$(kib_of "$KC_PID" VmHWM)"
  secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')"
  log "N=$n $who: all Ready after ${secs}s, peak RSS $((hwm / 1024)) MiB, $((req1 - req0)) API requests; deleting (prune)"
  RESULTS+=("$who $n $secs $hwm $(awk -v a="$cpu0" -v b="$cpu1" -v n="$n" 'BEGIN { printf "%.1f", (b - a) * 1000 / n }') $(awk -v a="$req0" -v b="$req1" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / n }') $load0 $(loadavg)")

  "$KUBECTL" delete kustomizations -n "$NS" --all --wait=false >/dev/null
  deadline=$(($(date +%s) + TIMEOUT))
  while [[ -n "$("$KUBECTL" get kustomizations -n "$NS" -o name)" ]]; do
    [[ $(date +%s) -lt $deadline ]] || { log "N=$n $who: Kustomizations left after ${TIMEOUT}s"; break; }
    sleep 1
  done
  stop_kc
  delete_all_gitrepositories "$NS" 60 || true
  stop_controller
  "$KUBECTL" delete namespace "$NS" --wait=false >/dev/null
}

for n in $COUNTS; do
  run_one ours "$KUSTOMIZE_CONTROLLER" "$n"
  if [[ "$WITH_FLUX" == 1 ]]; then run_one flux "$FLUX_KUSTOMIZE_CONTROLLER" "$n"; fi
done

flux="not run"
[[ "$WITH_FLUX" == 1 ]] && flux="kustomize-controller $FLUX_KUSTOMIZE_CONTROLLER_VERSION built from its Go module"
printf '\nkustomize-controller, N Kustomizations from one GitRepository, --concurrent=%s, %s cores; Flux: %s\n' \
  "$CONCURRENT" "$(nproc)" "$flux"
cat <<'EOF'
all Ready: from "kubectl create" of all Kustomizations until all are Ready=True (polled every
1 s); speed-up: Flux's time / ours; RSS ratio: our peak RSS (VmHWM) / Flux's; CPU and API
requests (rest_client_requests_total) per Kustomization until all were Ready; load: 1-minute
load average at the start -> end of the run
EOF
printf '%5s %-5s %10s %9s %10s %9s %9s %8s %13s\n' N who "all Ready" speed-up "peak RSS" "RSS ratio" CPU/obj "req/obj" load
declare -A SECS HWM
for r in "${RESULTS[@]}"; do
  read -r who n secs hwm _ <<<"$r"
  SECS[$who-$n]=$secs; HWM[$who-$n]=$hwm
done
for r in "${RESULTS[@]}"; do
  read -r who n secs hwm cpu req l0 l1 <<<"$r"
  awk -v who="$who" -v n="$n" -v s="$secs" -v h="$hwm" -v cpu="$cpu" -v req="$req" \
    -v l="$l0 -> $l1" -v fs="${SECS[flux-$n]:-}" -v fh="${HWM[flux-$n]:-}" 'BEGIN {
      sp = (who == "ours" && fs != "" && s > 0) ? sprintf("%.2fx", fs / s) : "";
      rr = (who == "ours" && fh != "" && fh > 0) ? sprintf("%.2fx", h / fh) : "";
      printf "%5d %-5s %8.1f s %9s %6.1f MiB %9s %6.0f ms %8.1f %13s\n",
        n, who, s, sp, h / 1024, rr, cpu, req, l }'
done
