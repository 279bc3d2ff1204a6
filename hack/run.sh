#!/usr/bin/env bash
# `make run`: with the local control plane up (make cluster-up), installs the CRDs and runs the
# three controllers against it, their logs interleaved on this terminal. Ctrl-C stops them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${FERROFLUX_BIN_DIR:-$ROOT/target/debug}"
export KUBECONFIG="${KUBECONFIG:-$ROOT/.cache/kubeconfig}"
export RUNTIME_NAMESPACE="${RUNTIME_NAMESPACE:-flux-system}"
KUBECTL="$ROOT/.cache/bin/kubectl"

"$KUBECTL" apply --server-side --force-conflicts -f "$ROOT/charts/source-controller/crds" \
  -f "$ROOT/charts/kustomize-controller/crds" -f "$ROOT/charts/helm-controller/crds" >/dev/null
"$KUBECTL" wait --for=condition=Established --timeout=60s crd -l '!nonexistent' >/dev/null
"$KUBECTL" create namespace "$RUNTIME_NAMESPACE" --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  "$ROOT/hack/sample.sh" stop || true
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

# Flux's ports for the first controller; the others shift so all three fit on one host.
port=8080
for c in source-controller kustomize-controller helm-controller; do
  extra=()
  if [[ $c == source-controller ]]; then
    mkdir -p "$ROOT/.cache/storage"
    extra=(--storage-path="$ROOT/.cache/storage" --storage-addr=127.0.0.1:9090 --storage-adv-addr=127.0.0.1:9090)
  fi
  "$BIN_DIR/$c" --metrics-addr="127.0.0.1:$port" --health-addr="127.0.0.1:$((port + 1360))" \
    --log-encoding=console --enable-leader-election "${extra[@]}" 2>&1 | sed -u "s/^/[$c] /" &
  pids+=($!)
  port=$((port + 1))
done
"$ROOT/hack/sample.sh" start
echo "[run] controllers running against $KUBECONFIG (metrics :8080-8082, health :9440-9442); Ctrl-C to stop" >&2
wait
