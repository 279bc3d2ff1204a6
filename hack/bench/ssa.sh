#!/usr/bin/env bash
# The server-side apply engine (crates/ssa, through its `apply` example) against
# `kubectl apply --server-side` on the same objects and the same local control plane:
# N objects (ConfigMaps, Secrets, Services; a third each) into a fresh namespace each, first
# the create, then a no-op re-apply. Our engine does more per object than kubectl (a GET and a
# server-side dry run of every object before any write, drift detection, field-manager
# cleanup); kubectl sends one apply patch per object. Prints both times and the ratio;
# asserts nothing.
#
# Environment: BENCH_SSA_OBJECTS (300), BENCH_SKIP_BUILD=1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KUBECTL="$ROOT/.cache/bin/kubectl"
EXAMPLE="$ROOT/target/release/examples/apply"
N="${BENCH_SSA_OBJECTS:-300}"
export KUBECONFIG="$ROOT/.cache/kubeconfig"

log() { printf '[bench] %s\n' "$*" >&2; }
TMP="$(mktemp -d "${TMPDIR:-/tmp}/ferroflux-bench-ssa.XXXXXX")"
SUFFIX="$(date +%s)"
NS_OURS="bench-ssa-ours-$SUFFIX"
NS_KUBECTL="bench-ssa-kubectl-$SUFFIX"
cleanup() {
  "$KUBECTL" delete namespace "$NS_OURS" "$NS_KUBECTL" --wait=false --ignore-not-found \
    >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT

cd "$ROOT"
if [[ "${BENCH_SKIP_BUILD:-}" != 1 ]]; then
  log "cargo build --release -p ferroflux-ssa --example apply"
  cargo build --release -q -p ferroflux-ssa --example apply
fi
[[ -x "$EXAMPLE" ]] || { log "$EXAMPLE missing"; exit 1; }
hack/cluster.sh up >/dev/null
"$KUBECTL" create namespace "$NS_OURS" >/dev/null
"$KUBECTL" create namespace "$NS_KUBECTL" >/dev/null

# objects NS: a v1 List of N objects in NS.
objects() {
  local ns="$1" i
  printf '{"apiVersion":"v1","kind":"List","items":['
  for ((i = 0; i < N; i++)); do
    ((i > 0)) && printf ','
    case $((i % 3)) in
      0) printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-%d","namespace":"%s","labels":{"app":"bench"}},"data":{"key":"value-%d","other":"x"}}' "$i" "$ns" "$i" ;;
      1) printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"secret-%d","namespace":"%s"},"type":"Opaque","stringData":{"password":"p-%d"}}' "$i" "$ns" "$i" ;;
      2) printf '{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc-%d","namespace":"%s"},"spec":{"selector":{"app":"svc-%d"},"ports":[{"port":80,"targetPort":8080}]}}' "$i" "$ns" "$i" ;;
    esac
  done
  printf ']}\n'
}
objects "$NS_OURS" >"$TMP/ours.json"
objects "$NS_KUBECTL" >"$TMP/kubectl.json"

# ms CMD...: runs CMD, prints its wall time in milliseconds.
ms() {
  local start end
  start="$(date +%s%N)"
  "$@" >"$TMP/out" 2>&1 || { cat "$TMP/out" >&2; return 1; }
  end="$(date +%s%N)"
  echo $(((end - start) / 1000000))
}

log "$N objects, ours then kubectl"
ours_create="$(ms "$EXAMPLE" "$TMP/ours.json")"
log "ours create: $(cat "$TMP/out")"
ours_noop="$(ms "$EXAMPLE" "$TMP/ours.json")"
log "ours no-op: $(cat "$TMP/out")"
kubectl_create="$(ms "$KUBECTL" apply --server-side --field-manager=bench -f "$TMP/kubectl.json")"
kubectl_noop="$(ms "$KUBECTL" apply --server-side --field-manager=bench -f "$TMP/kubectl.json")"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
printf '\nserver-side apply of %d objects (wall time incl. process start; ratio = ours / kubectl)\n' "$N"
printf '%-22s %10s %10s %8s\n' "" "ours" "kubectl" "ratio"
printf '%-22s %8s ms %7s ms %8s\n' "create" "$ours_create" "$kubectl_create" "$(ratio "$ours_create" "$kubectl_create")"
printf '%-22s %8s ms %7s ms %8s\n' "no-op re-apply" "$ours_noop" "$kubectl_noop" "$(ratio "$ours_noop" "$kubectl_noop")"
