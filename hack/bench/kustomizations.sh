#!/usr/bin/env bash
# The flux-benchmark shape for Kustomizations: N Kustomizations (default 100, 500 and 1000), each
# applying a small app (ConfigMap, Service, Deployment; namePrefix app-<i>-) from the artifact of
# one GitRepository, on the local control plane. Reports the time from creating them until all
# are Ready=True and the release kustomize-controller's peak RSS (VmHWM), next to Flux's
# published figures (kustomize-controller v2.6, --concurrent=20: 28 s / 2m2s / 4m16s and
# 32 / 122 / 175 MiB) and the ratio. Flux's own controller is not built here (see README).
# Prints numbers and ratios; asserts nothing.
#
# Environment: BENCH_KS_COUNTS ("100 500 1000"), BENCH_KS_CONCURRENT (20, as Flux's figures),
# BENCH_KS_TIMEOUT (seconds per run, 900), BENCH_SKIP_BUILD=1 (use the existing release binaries),
# BENCH_KUSTOMIZE_CONTROLLER / BENCH_SOURCE_CONTROLLER (measure other binaries, no build).
set -euo pipefail
# shellcheck source=hack/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

COUNTS="${BENCH_KS_COUNTS:-100 500 1000}"
CONCURRENT="${BENCH_KS_CONCURRENT:-20}"
TIMEOUT="${BENCH_KS_TIMEOUT:-900}"
# BENCH_KUSTOMIZE_CONTROLLER: another binary to measure (implies no build of it).
KUSTOMIZE_CONTROLLER="${BENCH_KUSTOMIZE_CONTROLLER:-$BENCH_ROOT/target/release/kustomize-controller}"
KC_PID=""

# Flux's published figures: N -> "seconds MiB".
declare -A FLUX=([100]="28 32" [500]="122 122" [1000]="256 175")

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

results=()
for n in $COUNTS; do
  new_namespace bench-ks
  start_controller "$NS" "ks-$n"
  gitrepository_yaml app "$NS" "$url" | "$KUBECTL" apply -f - >/dev/null
  "$KUBECTL" wait -n "$NS" --for=condition=Ready --timeout=60s gitrepository/app >/dev/null ||
    die "GitRepository not Ready"

  kc_metrics="$(free_port)"; kc_health="$(free_port)"
  RUNTIME_NAMESPACE="$NS" "$KUSTOMIZE_CONTROLLER" --watch-all-namespaces=false \
    --concurrent="$CONCURRENT" --metrics-addr="127.0.0.1:$kc_metrics" \
    --health-addr="127.0.0.1:$kc_health" >"$BENCH_TMP/kustomize-controller-$n.log" 2>&1 &
  KC_PID=$!
  BENCH_PIDS+=("$KC_PID")
  for _ in $(seq 1 150); do
    curl -fs "http://127.0.0.1:$kc_health/readyz" >/dev/null 2>&1 && break
    kill -0 "$KC_PID" 2>/dev/null || die "kustomize-controller exited at start-up"
    sleep 0.1
  done

  manifest="$BENCH_TMP/kustomizations-$n.yaml"
  for i in $(seq 1 "$n"); do
    cat <<EOF
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: app-$i
  namespace: $NS
spec:
  interval: 1h
  path: ./
  prune: true
  targetNamespace: $NS
  namePrefix: app-$i-
  sourceRef:
    kind: GitRepository
    name: app
EOF
  done >"$manifest"
  log "N=$n: creating $n Kustomizations in $NS (--concurrent=$CONCURRENT)"
  cpu0="$(cpu_seconds "$KC_PID")"
  t0="$(now_ns)"
  "$KUBECTL" create -f "$manifest" >/dev/null
  deadline=$(($(date +%s) + TIMEOUT))
  while :; do
    ready="$(ready_count "$NS")"
    [[ "$ready" -ge "$n" ]] && break
    kill -0 "$KC_PID" 2>/dev/null || die "kustomize-controller exited during the run"
    [[ $(date +%s) -lt $deadline ]] || die "N=$n: only $ready/$n Ready after ${TIMEOUT}s"
    sleep 1
  done
  t1="$(now_ns)"
  cpu1="$(cpu_seconds "$KC_PID")"
  hwm="$(kib_of "$KC_PID" VmHWM)"
  secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')"
  log "N=$n: all Ready after ${secs}s, peak RSS $((hwm / 1024)) MiB; deleting (prune)"
  read -r flux_s flux_mib <<<"${FLUX[$n]:-nan nan}"
  results+=("$(awk -v n="$n" -v s="$secs" -v h="$hwm" -v fs="$flux_s" -v fm="$flux_mib" \
    -v cpu="$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { print b - a }')" 'BEGIN {
      printf "%5d %9.1f s %8.1f s %7.2fx %8.1f MiB %6s MiB %6.2fx %8.1f ms\n",
        n, s, fs, (s > 0 && fs == fs + 0 ? fs / s : 0), h / 1024, fm,
        (fm == fm + 0 ? (h / 1024) / fm : 0), cpu * 1000 / n }')")

  "$KUBECTL" delete kustomizations -n "$NS" --all --wait=false >/dev/null
  deadline=$(($(date +%s) + TIMEOUT))
  while [[ -n "$("$KUBECTL" get kustomizations -n "$NS" -o name)" ]]; do
    [[ $(date +%s) -lt $deadline ]] || { log "N=$n: Kustomizations left after ${TIMEOUT}s"; break; }
    sleep 1
  done
  stop_kc
  delete_all_gitrepositories "$NS" 60 || true
  stop_controller
  "$KUBECTL" delete namespace "$NS" --wait=false >/dev/null
done

printf '\nkustomize-controller (release), N Kustomizations from one GitRepository, --concurrent=%s, %s cores\n' \
  "$CONCURRENT" "$(nproc)"
cat <<'EOF'
all Ready: from "kubectl create" of all Kustomizations until all are Ready=True (polled every
1 s); Flux: the published flux-benchmark figure (v2.6, concurrency 20, other hardware);
speed-up: Flux time / ours; peak RSS: VmHWM of our controller; /Flux: ours / Flux's published
peak; CPU/obj: our controller's CPU time until all were Ready, per Kustomization
EOF
printf '%5s %11s %10s %8s %12s %10s %7s %11s\n' N "all Ready" Flux speed-up "peak RSS" Flux /Flux CPU/obj
printf '%s\n' "${results[@]}"
