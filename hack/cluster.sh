#!/usr/bin/env bash
# A local Kubernetes control plane for tests and development: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok (one fake Node, pods become Running/Ready),
# all listening on 127.0.0.1 only, no containers, no network.
#
#   hack/cluster.sh up       start the instance, print the admin kubeconfig path (idempotent: when
#                            it is up already, only prints; after a reboot or a crash it restarts
#                            on the kept state dir: same data, certs and ports when still free)
#   hack/cluster.sh down     stop exactly the processes it started and delete the state dir
#   hack/cluster.sh status   up / degraded / down, kubeconfig path, ports, pids (exit 0 only if up)
#   hack/cluster.sh env      prints `export KUBECONFIG=...` (eval "$(hack/cluster.sh env)")
#
# Environment:
#   CLUSTER_NAME        instance name (default "default"); state in .cache/clusters/$CLUSTER_NAME/
#   CLUSTER_PORT_BASE   use ports BASE+0..BASE+5 (apiserver, etcd, etcd peer, controller-manager,
#                       scheduler, kwok) instead of choosing them
#   APISERVER_PORT ETCD_PORT ETCD_PEER_PORT CONTROLLER_MANAGER_PORT SCHEDULER_PORT KWOK_PORT
#                       pin single ports (win over CLUSTER_PORT_BASE)
#   CLUSTER_UP_TIMEOUT  seconds `up` waits for each component (default 90)
#   CLUSTER_LOG_LEVEL   klog -v for the Kubernetes components (default 1)
#
# Ports not pinned are, in order: the ones recorded in the state dir by the previous `up` (if still
# free), the standard ports for the default instance (6443 2379 2380 10257 10259 10247), else a free
# port in 20000-29999 that no other instance has recorded. The choice is written to
# <state>/ports.env, so two instances (e.g. CLUSTER_NAME=remote) run side by side.
#
# Layout of <state> = .cache/clusters/$CLUSTER_NAME/: pki/ (CA, serving and client certs, SA keys),
# data/etcd/, logs/<component>.log, run/<component>.pid, *.kubeconfig (one per component),
# kubeconfig (admin, certs embedded, self-contained). The default instance's admin kubeconfig is
# also copied to .cache/kubeconfig.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.cache/bin"
CLUSTERS_DIR="$ROOT/.cache/clusters"
CLUSTER_NAME="${CLUSTER_NAME:-default}"
if [[ ! "$CLUSTER_NAME" =~ ^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$ ]]; then
  printf '[cluster] invalid CLUSTER_NAME %q (lowercase letters, digits, -)\n' "$CLUSTER_NAME" >&2
  exit 2
fi
STATE="$CLUSTERS_DIR/$CLUSTER_NAME"
PKI="$STATE/pki"
LOGS="$STATE/logs"
RUN="$STATE/run"
KUBECONFIG_OUT="$STATE/kubeconfig"
DEFAULT_KUBECONFIG="$ROOT/.cache/kubeconfig"
UP_TIMEOUT="${CLUSTER_UP_TIMEOUT:-90}"
LOG_LEVEL="${CLUSTER_LOG_LEVEL:-1}"
NODE_NAME="kwok-node-0"
SERVICE_CIDR="10.96.0.0/16"
SERVICE_API_IP="10.96.0.1"
POD_CIDR="10.244.0.0/16"
NODE_IP="10.240.0.10" # fake; nothing connects to it

# Start order.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
# Port variables, their offset from CLUSTER_PORT_BASE and the default instance's standard port.
PORT_VARS=(APISERVER_PORT ETCD_PORT ETCD_PEER_PORT CONTROLLER_MANAGER_PORT SCHEDULER_PORT KWOK_PORT)
declare -A PORT_OFFSET=([APISERVER_PORT]=0 [ETCD_PORT]=1 [ETCD_PEER_PORT]=2
  [CONTROLLER_MANAGER_PORT]=3 [SCHEDULER_PORT]=4 [KWOK_PORT]=5)
declare -A PORT_STANDARD=([APISERVER_PORT]=6443 [ETCD_PORT]=2379 [ETCD_PEER_PORT]=2380
  [CONTROLLER_MANAGER_PORT]=10257 [SCHEDULER_PORT]=10259 [KWOK_PORT]=10247)
declare -A PORT=()
# Environment values as given by the caller (before ports.env is read).
declare -A PORT_PINNED=()
for v in "${PORT_VARS[@]}"; do
  if [[ -n "${!v:-}" ]]; then PORT_PINNED[$v]="${!v}"; fi
done

log() { printf '[cluster:%s] %s\n' "$CLUSTER_NAME" "$*" >&2; }

# Set once `up` has started processes, so a failure stops them again.
STARTED=0

# fail <message> [component]: print the message and the tail of the component's log, stop what
# this `up` started (the state dir and logs stay for inspection), exit 1.
fail() {
  local msg=$1 comp=${2:-}
  log "ERROR: $msg"
  if [[ -n "$comp" && -f "$LOGS/$comp.log" ]]; then
    printf -- '----- last 40 lines of %s -----\n' "$LOGS/$comp.log" >&2
    tail -n 40 "$LOGS/$comp.log" >&2 || true
    printf -- '-----\n' >&2
  fi
  if [[ "$STARTED" == 1 ]]; then
    log "stopping the components started by this run (logs kept in $LOGS)"
    stop_all || true
  fi
  exit 1
}

now_ms() { date +%s%3N; }

# ---------------------------------------------------------------------------------------------
# processes

pid_of() { # prints the pid from the component's pid file, or nothing
  local f="$RUN/$1.pid"
  [[ -s "$f" ]] && tr -dc '0-9' <"$f"
  return 0
}

# A pid belongs to this instance when it is alive (not a zombie) and its command line names this
# instance's state dir: a pid file left by a reboot never matches an unrelated process.
owned() {
  local pid=$1 stat args=()
  [[ -n "$pid" ]] || return 1
  read -r stat 2>/dev/null </proc/"$pid"/stat || return 1
  stat=${stat##*) }
  [[ "${stat%% *}" != Z ]] || return 1
  mapfile -d '' args 2>/dev/null </proc/"$pid"/cmdline || return 1
  [[ "${args[*]}" == *"$STATE/"* ]]
}

alive() { owned "$(pid_of "$1")"; }

# start <component> <binary> [args...]: run detached (own session, so a Ctrl-C or a killed
# process group of the caller does not take the cluster down), log to logs/<component>.log.
start() {
  local comp=$1 bin=$2
  shift 2
  local pidfile="$RUN/$comp.pid"
  rm -f "$pidfile"
  printf '===== %s starting %s\n' "$(date -Is)" "$comp" >>"$LOGS/$comp.log"
  # The inner shell writes its own pid and execs the binary, so the pid file is right even if
  # setsid has to fork. fd 8 (the instance lock) is not inherited.
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$bin" "$@" \
    </dev/null >>"$LOGS/$comp.log" 2>&1 8>&- &
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -s "$pidfile" ]] && return 0
    sleep 0.02
  done
  fail "$comp did not start" "$comp"
}

# stop_all: TERM the components of this instance and wait (up to 15s, then KILL): first all but
# etcd, then etcd, since a kube-apiserver that loses etcd hangs in its graceful shutdown.
stop_all() {
  stop_pids kwok kube-scheduler kube-controller-manager kube-apiserver
  stop_pids etcd
  rm -f "$RUN"/*.pid 2>/dev/null || true
}

stop_pids() {
  local comp pid pids=() left=()
  for comp in "$@"; do
    pid="$(pid_of "$comp")"
    if owned "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  local deadline=$((SECONDS + 15))
  while :; do
    left=()
    for pid in "${pids[@]}"; do if owned "$pid"; then left+=("$pid"); fi; done
    [[ ${#left[@]} -eq 0 ]] && return 0
    if ((SECONDS >= deadline)); then
      log "killing ${left[*]} (did not stop within 15s of SIGTERM)"
      kill -KILL "${left[@]}" 2>/dev/null || true
      sleep 0.2
      return 0
    fi
    sleep 0.1
  done
}

# ---------------------------------------------------------------------------------------------
# ports

port_in_use() { # something accepts connections on 127.0.0.1:$1
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

load_recorded_ports() { # fills PORT from <state>/ports.env
  local f="$STATE/ports.env" k v
  [[ -f "$f" ]] || return 0
  while IFS='=' read -r k v; do
    [[ -n "${PORT_OFFSET[$k]:-}" && "$v" =~ ^[0-9]+$ ]] && PORT[$k]=$v
  done <"$f"
}

ports_of_other_instances() {
  local f
  for f in "$CLUSTERS_DIR"/*/ports.env; do
    [[ -f "$f" && "$f" != "$STATE/ports.env" ]] || continue
    cut -d= -f2 "$f"
  done
}

# choose_ports: decides every port (see the header) and records them in <state>/ports.env.
# Runs with no component of this instance running.
choose_ports() {
  local -A recorded=() taken=()
  local v p base="${CLUSTER_PORT_BASE:-}"
  load_recorded_ports
  for v in "${PORT_VARS[@]}"; do [[ -n "${PORT[$v]:-}" ]] && recorded[$v]=${PORT[$v]}; done
  PORT=()
  for p in $(ports_of_other_instances); do taken[$p]=1; done
  for v in "${PORT_VARS[@]}"; do
    p=""
    if [[ -n "${PORT_PINNED[$v]:-}" ]]; then
      p=${PORT_PINNED[$v]}
    elif [[ -n "$base" ]]; then
      p=$((base + PORT_OFFSET[$v]))
    fi
    if [[ -n "$p" ]]; then
      [[ "$p" =~ ^[0-9]+$ ]] || fail "$v=$p is not a port number"
      port_in_use "$p" && fail "$v=$p is already in use on 127.0.0.1"
      PORT[$v]=$p
      taken[$p]=1
      continue
    fi
    local standard=""
    if [[ "$CLUSTER_NAME" == default ]]; then standard=${PORT_STANDARD[$v]}; fi
    for p in "${recorded[$v]:-}" "$standard"; do
      if [[ -n "$p" && -z "${taken[$p]:-}" ]] && ! port_in_use "$p"; then
        PORT[$v]=$p
        break
      fi
    done
    if [[ -z "${PORT[$v]:-}" ]]; then
      local tries=0
      while :; do
        p=$((20000 + RANDOM % 10000))
        if [[ -z "${taken[$p]:-}" ]] && ! port_in_use "$p"; then break; fi
        ((++tries < 200)) || fail "no free port found for $v"
      done
      PORT[$v]=$p
    fi
    taken[${PORT[$v]}]=1
  done
  local tmp="$STATE/ports.env.tmp"
  : >"$tmp"
  for v in "${PORT_VARS[@]}"; do printf '%s=%s\n' "$v" "${PORT[$v]}" >>"$tmp"; done
  mv "$tmp" "$STATE/ports.env"
}

# ---------------------------------------------------------------------------------------------
# tools, certificates, kubeconfigs

ensure_tools() {
  # shellcheck source=hack/versions.env
  source "$ROOT/hack/versions.env"
  local -A want=([etcd]=$ETCD_VERSION [kube-apiserver]=$KUBERNETES_VERSION
    [kube-controller-manager]=$KUBERNETES_VERSION [kube-scheduler]=$KUBERNETES_VERSION
    [kubectl]=$KUBERNETES_VERSION [kwok]=$KWOK_VERSION)
  local t target missing=()
  for t in "${!want[@]}"; do
    # Fast path: the link exists and points at the pinned version (tools.sh layout
    # <tool>/<version>-<go version>/<tool>), so a concurrent build of other tools does not block us.
    target="$(readlink -f "$BIN/$t" 2>/dev/null || true)"
    if [[ -x "$target" && "$target" == */"$t"/"${want[$t]}"-*/"$t" ]]; then continue; fi
    missing+=("$t")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    log "building/linking ${missing[*]} via hack/tools.sh (first time on this machine: minutes)"
    "$ROOT/hack/tools.sh" "${missing[@]}" 8>&-
  fi
}

ensure_openssl() {
  command -v openssl >/dev/null && return 0
  log "openssl missing, installing it with apt-get"
  apt-get install -y openssl >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y openssl >/dev/null; }
}

# ca <name> <subject>: self-signed EC P-256 CA.
ca() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/$1.key" 2>/dev/null
  openssl req -x509 -new -config "$PKI/req.cnf" -extensions ca -key "$PKI/$1.key" -subj "$2" \
    -days 3650 -sha256 -out "$PKI/$1.crt"
}

# leaf <name> <subject> <extendedKeyUsage> [subjectAltName]: EC P-256 key + cert signed by the CA
# named by $CA (default ca).
leaf() {
  local name=$1 subj=$2 eku=$3 san=${4:-}
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/$name.key" 2>/dev/null
  openssl req -new -config "$PKI/req.cnf" -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$eku"
    echo "subjectKeyIdentifier=hash"
    echo "authorityKeyIdentifier=keyid"
    if [[ -n "$san" ]]; then echo "subjectAltName=$san"; fi
  } >"$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/${CA:-ca}.crt" -CAkey "$PKI/${CA:-ca}.key" \
    -set_serial "0x$(openssl rand -hex 15)" -days 3650 -sha256 -extfile "$PKI/$name.ext" \
    -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

# gen_pki: once per state dir (kept across restarts, removed by `down`); again when PKI_LAYOUT
# changes (bump it whenever a certificate or key below changes).
PKI_LAYOUT=2
gen_pki() {
  [[ "$(cat "$PKI/done" 2>/dev/null)" == "$PKI_LAYOUT" ]] && return 0
  ensure_openssl
  rm -rf "$PKI"
  mkdir -p "$PKI"
  chmod 700 "$PKI"
  printf '[req]\ndistinguished_name=dn\n[dn]\n[ca]\n%s\n%s\n%s\n' \
    "basicConstraints=critical,CA:TRUE" "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    "subjectKeyIdentifier=hash" >"$PKI/req.cnf"
  ca ca "/CN=ferroflux-$CLUSTER_NAME-ca"
  # Front proxy (request-header authentication of the aggregation layer); without it the
  # controller-manager and scheduler log errors about extension-apiserver-authentication forever.
  ca front-proxy-ca "/CN=ferroflux-$CLUSTER_NAME-front-proxy-ca"
  CA=front-proxy-ca leaf front-proxy-client "/CN=front-proxy-client" clientAuth
  leaf apiserver "/CN=kube-apiserver" serverAuth \
    "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:$SERVICE_API_IP"
  leaf admin "/O=system:masters/CN=kubernetes-admin" clientAuth
  # system:masters: see --use-service-account-credentials=false below.
  leaf kube-controller-manager "/O=system:masters/CN=system:kube-controller-manager" clientAuth
  leaf kube-scheduler "/CN=system:kube-scheduler" clientAuth
  leaf kwok "/O=system:masters/CN=kwok-controller" clientAuth
  # Service-account token signing key pair.
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/sa.key" 2>/dev/null
  openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub"
  rm -f "$PKI/req.cnf" "$PKI"/*.srl
  chmod 600 "$PKI"/*.key
  echo "$PKI_LAYOUT" >"$PKI/done"
}

b64() { base64 -w0 <"$1"; }

# write_kubeconfig <file> <user> <cert/key basename>: self-contained (data embedded), atomic.
write_kubeconfig() {
  local file=$1 user=$2 cred=$3 ctx="ferroflux-$CLUSTER_NAME"
  cat >"$file.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $ctx
  cluster:
    server: https://127.0.0.1:${PORT[APISERVER_PORT]}
    certificate-authority-data: $(b64 "$PKI/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(b64 "$PKI/$cred.crt")
    client-key-data: $(b64 "$PKI/$cred.key")
contexts:
- name: $ctx
  context:
    cluster: $ctx
    user: $user
current-context: $ctx
EOF
  chmod 600 "$file.tmp"
  mv "$file.tmp" "$file"
}

write_kubeconfigs() {
  write_kubeconfig "$STATE/admin.kubeconfig" "ferroflux-$CLUSTER_NAME-admin" admin
  write_kubeconfig "$STATE/kube-controller-manager.kubeconfig" system:kube-controller-manager kube-controller-manager
  write_kubeconfig "$STATE/kube-scheduler.kubeconfig" system:kube-scheduler kube-scheduler
  write_kubeconfig "$STATE/kwok.kubeconfig" kwok-controller kwok
}

# publish_kubeconfig: the admin kubeconfig appears at its public path(s) only once the cluster is up.
publish_kubeconfig() {
  cp "$STATE/admin.kubeconfig" "$KUBECONFIG_OUT.tmp" && mv "$KUBECONFIG_OUT.tmp" "$KUBECONFIG_OUT"
  if [[ "$CLUSTER_NAME" == default ]]; then
    cp "$KUBECONFIG_OUT" "$DEFAULT_KUBECONFIG.tmp" && mv "$DEFAULT_KUBECONFIG.tmp" "$DEFAULT_KUBECONFIG"
  fi
}

kctl() { "$BIN/kubectl" --kubeconfig "$STATE/admin.kubeconfig" --request-timeout=5s "$@"; }

# ---------------------------------------------------------------------------------------------
# health

CURL_ADMIN=()
curl_setup() {
  CURL_ADMIN=(curl -fsS --max-time 2 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key")
}

etcd_healthy() { curl -fsS --max-time 2 "http://127.0.0.1:${PORT[ETCD_PORT]}/health" 2>/dev/null | grep -q '"health":"true"'; }
apiserver_ready() { "${CURL_ADMIN[@]}" "https://127.0.0.1:${PORT[APISERVER_PORT]}/readyz" >/dev/null 2>&1; }
kcm_healthy() { curl -fsSk --max-time 2 "https://127.0.0.1:${PORT[CONTROLLER_MANAGER_PORT]}/healthz" >/dev/null 2>&1; }
scheduler_healthy() { curl -fsSk --max-time 2 "https://127.0.0.1:${PORT[SCHEDULER_PORT]}/healthz" >/dev/null 2>&1; }
kwok_healthy() { curl -fsS --max-time 2 "http://127.0.0.1:${PORT[KWOK_PORT]}/healthz" >/dev/null 2>&1; }

all_alive() {
  local c
  for c in "${COMPONENTS[@]}"; do alive "$c" || return 1; done
}

# healthy: every process of this instance runs and the apiserver is ready.
healthy() {
  [[ -f "$PKI/done" && -f "$STATE/ports.env" && -f "$STATE/admin.kubeconfig" ]] || return 1
  load_recorded_ports
  all_alive || return 1
  curl_setup
  apiserver_ready
}

# wait_for <description> <component whose log explains a failure> <check command...>
wait_for() {
  local what=$1 comp=$2
  shift 2
  local deadline=$((SECONDS + UP_TIMEOUT)) c
  until "$@"; do
    for c in "${COMPONENTS[@]}"; do
      if [[ -f "$RUN/$c.pid" ]] && ! alive "$c"; then fail "$c exited while waiting for $what" "$c"; fi
    done
    ((SECONDS < deadline)) || fail "timed out after ${UP_TIMEOUT}s waiting for $what" "$comp"
    sleep 0.2
  done
}

# The node is Ready and the running kwok holds its Lease (i.e. manages its pods).
node_ready() {
  [[ "$(kctl get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]] &&
    [[ -n "$(kctl -n kube-node-lease get lease "$NODE_NAME" -o 'jsonpath={.spec.holderIdentity}' 2>/dev/null)" ]]
}
default_sa_exists() { kctl -n default get serviceaccount default >/dev/null 2>&1; }

# ---------------------------------------------------------------------------------------------
# commands

lock() {
  mkdir -p "$CLUSTERS_DIR"
  exec 8>"$CLUSTERS_DIR/.lock"
  flock 8
}

cmd_up() {
  lock
  if healthy; then
    publish_kubeconfig
    log "already up"
    echo "$KUBECONFIG_OUT"
    return 0
  fi
  local t0
  t0="$(now_ms)"
  # Whatever is left of a previous run (crash, partial start) goes; data and certs stay.
  stop_all
  ensure_tools
  mkdir -p "$STATE" "$LOGS" "$RUN" "$STATE/data" "$STATE/kwok"
  gen_pki
  choose_ports
  write_kubeconfigs
  curl_setup
  log "starting (ports: $(tr '\n' ' ' <"$STATE/ports.env"))"
  STARTED=1

  # Benchmarks create and prune thousands of objects on a long-lived cluster: compaction every
  # 5 minutes, a defrag on every start and a generous quota keep etcd from filling up.
  start etcd "$BIN/etcd" \
    --name=ferroflux --data-dir="$STATE/data/etcd" \
    --listen-client-urls="http://127.0.0.1:${PORT[ETCD_PORT]}" \
    --advertise-client-urls="http://127.0.0.1:${PORT[ETCD_PORT]}" \
    --listen-peer-urls="http://127.0.0.1:${PORT[ETCD_PEER_PORT]}" \
    --initial-advertise-peer-urls="http://127.0.0.1:${PORT[ETCD_PEER_PORT]}" \
    --initial-cluster="ferroflux=http://127.0.0.1:${PORT[ETCD_PEER_PORT]}" \
    --initial-cluster-state=new \
    --quota-backend-bytes=$((4 * 1024 * 1024 * 1024)) \
    --bootstrap-defrag-threshold-megabytes=64 \
    --auto-compaction-mode=periodic --auto-compaction-retention=5m \
    --unsafe-no-fsync=true --log-level=warn
  wait_for "etcd /health" etcd etcd_healthy
  log "etcd ready (+$(($(now_ms) - t0))ms)"

  start kube-apiserver "$BIN/kube-apiserver" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
    --secure-port="${PORT[APISERVER_PORT]}" \
    --endpoint-reconciler-type=none \
    --etcd-servers="http://127.0.0.1:${PORT[ETCD_PORT]}" \
    --cert-dir="$PKI/apiserver-generated" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User \
    --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$PKI/front-proxy-client.crt" \
    --proxy-client-key-file="$PKI/front-proxy-client.key" \
    --service-account-key-file="$PKI/sa.pub" \
    --service-account-signing-key-file="$PKI/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --authorization-mode=Node,RBAC \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --enable-priority-and-fairness=false \
    --allow-privileged=true \
    --profiling=false \
    --v="$LOG_LEVEL"
  wait_for "kube-apiserver /readyz" kube-apiserver apiserver_ready
  log "kube-apiserver ready (+$(($(now_ms) - t0))ms)"

  # --use-service-account-credentials=false with a system:masters client cert: kubeadm's =true
  # makes the controller-manager fetch a token per controller, one after another, before any
  # controller starts (~6s of the start-up on 2 cores). The built-in controllers' own RBAC is not
  # what this project tests; the RBAC of everything else is enforced as usual.
  start kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$STATE/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig="$STATE/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig="$STATE/kube-controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="${PORT[CONTROLLER_MANAGER_PORT]}" \
    --cert-dir="$PKI/kube-controller-manager-generated" \
    --leader-elect=false \
    --use-service-account-credentials=false \
    --service-account-private-key-file="$PKI/sa.key" \
    --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --profiling=false \
    --v="$LOG_LEVEL"
  start kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig="$STATE/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig="$STATE/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig="$STATE/kube-scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="${PORT[SCHEDULER_PORT]}" \
    --cert-dir="$PKI/kube-scheduler-generated" \
    --leader-elect=false \
    --profiling=false \
    --v="$LOG_LEVEL"
  # A Lease left by a previous kwok process (restart, reboot) is held by that process's random
  # identity: the new kwok would leave the node's pods alone until it expires (up to 40s).
  kctl -n kube-node-lease delete lease "$NODE_NAME" --ignore-not-found >/dev/null ||
    fail "could not delete the stale node Lease" kube-apiserver
  # KWOK_WORKDIR keeps kwok away from ~/.kwok (it would load ~/.kwok/kwok.yaml otherwise).
  start kwok env KWOK_WORKDIR="$STATE/kwok" "$BIN/kwok" \
    --kubeconfig="$STATE/kwok.kubeconfig" \
    --config="$ROOT/hack/lib/kwok-stages.yaml" \
    --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-ip="$NODE_IP" --cidr="$POD_CIDR" \
    --node-lease-duration-seconds=40 \
    --server-address="127.0.0.1:${PORT[KWOK_PORT]}"

  # The one fake node. No taints: ordinary pods schedule onto it.
  kctl apply -f - >/dev/null <<EOF || fail "could not create Node $NODE_NAME" kube-apiserver
apiVersion: v1
kind: Node
metadata:
  name: $NODE_NAME
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: $NODE_NAME
    node-role.kubernetes.io/agent: ""
EOF
  wait_for "kube-controller-manager /healthz" kube-controller-manager kcm_healthy
  wait_for "kube-scheduler /healthz" kube-scheduler scheduler_healthy
  wait_for "kwok /healthz" kwok kwok_healthy
  log "controller-manager, scheduler, kwok healthy (+$(($(now_ms) - t0))ms)"
  wait_for "Node $NODE_NAME Ready, Lease held by kwok" kwok node_ready
  log "node Ready (+$(($(now_ms) - t0))ms)"
  wait_for "ServiceAccount default/default (controller-manager)" kube-controller-manager default_sa_exists
  STARTED=0
  publish_kubeconfig
  log "up in $(($(now_ms) - t0))ms: apiserver https://127.0.0.1:${PORT[APISERVER_PORT]}, logs in $LOGS"
  echo "$KUBECONFIG_OUT"
}

cmd_down() {
  lock
  if [[ ! -d "$STATE" ]]; then
    log "not present"
    return 0
  fi
  stop_all
  # Report (never kill) anything else still naming this state dir: it was not started by us.
  local f p left=()
  while IFS= read -r f; do
    p=${f#/proc/}
    p=${p%/cmdline}
    if [[ "$p" != "$$" ]] && owned "$p"; then left+=("$p"); fi
  done < <(grep -lsF -- "$STATE/" /proc/[0-9]*/cmdline || true)
  if [[ ${#left[@]} -gt 0 ]]; then
    log "WARNING: processes still reference $STATE and were not started by this script: ${left[*]}"
  fi
  rm -rf "$STATE"
  if [[ "$CLUSTER_NAME" == default ]]; then rm -f "$DEFAULT_KUBECONFIG"; fi
  log "down"
}

cmd_status() {
  local c pid up=0 any=0
  if healthy; then up=1; fi
  for c in "${COMPONENTS[@]}"; do
    if [[ -d "$STATE" ]] && alive "$c"; then any=1; fi
  done
  if ((up)); then
    echo "cluster $CLUSTER_NAME: up"
  elif ((any)); then
    echo "cluster $CLUSTER_NAME: degraded (\`up\` restarts it)"
  else
    echo "cluster $CLUSTER_NAME: down"
  fi
  if [[ -d "$STATE" ]]; then
    for c in "${COMPONENTS[@]}"; do
      pid="$(pid_of "$c")"
      if alive "$c"; then printf '  %-24s running (pid %s)\n' "$c" "$pid"; else printf '  %-24s not running\n' "$c"; fi
    done
    [[ -f "$STATE/ports.env" ]] && echo "  ports: $(tr '\n' ' ' <"$STATE/ports.env")"
  fi
  echo "kubeconfig: $KUBECONFIG_OUT"
  ((up))
}

cmd_env() {
  printf 'export KUBECONFIG=%q\n' "$KUBECONFIG_OUT"
}

# Sourcing the script (tests, debugging) defines the functions without running a command.
[[ "${BASH_SOURCE[0]}" == "$0" ]] || return 0

case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
env) cmd_env ;;
*)
  echo "usage: [CLUSTER_NAME=name] $0 up|down|status|env" >&2
  exit 2
  ;;
esac
