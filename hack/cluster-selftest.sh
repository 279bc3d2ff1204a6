#!/usr/bin/env bash
# End-to-end check of a running hack/cluster.sh instance (CLUSTER_NAME, default "default"):
#   - RBAC is enforced (a plain service account may not create Deployments)
#   - controller-manager: a new namespace gets its default ServiceAccount, a Deployment creates a
#     ReplicaSet and a Pod, the Deployment reports availableReplicas=1, the garbage collector
#     removes ReplicaSet and Pods of a deleted Deployment, the namespace controller finishes a
#     namespace deletion
#   - service-account tokens: TokenRequest works and the token authenticates
#   - scheduler binds the pod to the kwok node; kwok makes it Running and Ready
# Creates everything in a throwaway namespace and deletes it again, also on failure.
# Exit 0 on success, 1 on failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLUSTER_NAME="${CLUSTER_NAME:-default}"
KCFG="$ROOT/.cache/clusters/$CLUSTER_NAME/kubeconfig"
TIMEOUT="${SELFTEST_TIMEOUT:-60}"
NODE_NAME="kwok-node-0"
NS="ff-selftest-$(date +%s)-$RANDOM"

log() { printf '[selftest:%s] %s\n' "$CLUSTER_NAME" "$*" >&2; }
fail() {
  log "FAIL: $*"
  k get all,events -n "$NS" -o wide >&2 2>/dev/null || true
  exit 1
}
k() { "$ROOT/.cache/bin/kubectl" --kubeconfig "$KCFG" --request-timeout=10s "$@"; }

if ! CLUSTER_NAME="$CLUSTER_NAME" "$ROOT/hack/cluster.sh" status >/dev/null 2>&1; then
  log "cluster '$CLUSTER_NAME' is not up; run: CLUSTER_NAME=$CLUSTER_NAME hack/cluster.sh up"
  exit 1
fi

TMP="$(mktemp -d)"
cleanup() {
  rm -rf "$TMP"
  if k get namespace "$NS" >/dev/null 2>&1; then
    k delete namespace "$NS" --wait=false >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

# poll <description> <command...>: until the command succeeds, at most $TIMEOUT seconds.
poll() {
  local what=$1 deadline=$((SECONDS + TIMEOUT))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "timed out after ${TIMEOUT}s: $what"
    sleep 0.5
  done
  log "ok: $what"
}

t0=$SECONDS
k create namespace "$NS" >/dev/null
poll "ServiceAccount $NS/default created (serviceaccount controller)" k -n "$NS" get serviceaccount default

# RBAC: a fresh service account has no rights.
if [[ "$(k auth can-i create deployments -n "$NS" --as="system:serviceaccount:$NS:default" 2>/dev/null || true)" != no ]]; then
  fail "RBAC not enforced: system:serviceaccount:$NS:default may create deployments"
fi
log "ok: RBAC denies an unprivileged service account"

# Service-account tokens (TokenRequest, signed with the apiserver's signing key) authenticate.
token="$(k -n "$NS" create token default --duration=10m)" || fail "TokenRequest failed"
# A kubeconfig with only the token (the admin one would authenticate by client certificate first).
k config view --raw --minify -o 'jsonpath={.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$TMP/ca.crt"
server="$(k config view --minify -o 'jsonpath={.clusters[0].cluster.server}')"
who="$("$ROOT/.cache/bin/kubectl" --kubeconfig /dev/null --server "$server" --certificate-authority "$TMP/ca.crt" \
  --token="$token" auth whoami -o 'jsonpath={.status.userInfo.username}' 2>&1)" ||
  fail "service account token did not authenticate: $who"
[[ "$who" == "system:serviceaccount:$NS:default" ]] || fail "token authenticated as '$who'"
log "ok: service account token authenticates as $who"

k -n "$NS" create deployment nginx --image=nginx --replicas=1 >/dev/null
k -n "$NS" rollout status deployment/nginx --timeout="${TIMEOUT}s" >/dev/null ||
  fail "deployment nginx did not roll out"

avail="$(k -n "$NS" get deployment nginx -o 'jsonpath={.status.availableReplicas}')"
[[ "$avail" == 1 ]] || fail "deployment availableReplicas='$avail', want 1"
log "ok: deployment nginx availableReplicas=1"

rs="$(k -n "$NS" get replicaset -l app=nginx -o 'jsonpath={.items[*].metadata.name}')"
[[ -n "$rs" ]] || fail "no ReplicaSet for deployment nginx"
pod_info="$(k -n "$NS" get pods -l app=nginx -o 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}')"
[[ "$(wc -l <<<"$pod_info")" == 1 ]] || fail "want exactly 1 pod, got: $pod_info"
read -r pod node phase ready <<<"$pod_info"
[[ "$node" == "$NODE_NAME" ]] || fail "pod $pod bound to '$node', want $NODE_NAME"
[[ "$phase" == Running && "$ready" == True ]] || fail "pod $pod phase=$phase ready=$ready"
log "ok: ReplicaSet $rs, pod $pod on $node Running/Ready"

# Garbage collection: deleting the Deployment (background propagation) removes ReplicaSet and Pod.
k -n "$NS" delete deployment nginx --wait=false >/dev/null
no_rs() { [[ -z "$(k -n "$NS" get replicaset -l app=nginx -o name)" ]]; }
no_pods() { [[ -z "$(k -n "$NS" get pods -l app=nginx -o name)" ]]; }
poll "garbage collector removed the ReplicaSet" no_rs
poll "pods gone (garbage collector + kwok pod-delete stage)" no_pods

# Namespace controller: the namespace deletion completes.
k delete namespace "$NS" --wait=false >/dev/null
ns_gone() { ! k get namespace "$NS" >/dev/null 2>&1; }
poll "namespace $NS deleted (namespace controller)" ns_gone

log "PASS in $((SECONDS - t0))s"
