# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this
# Shared helpers of the source-controller benchmarks (gitrepositories.sh, artifact.sh,
# serve.sh). Sourced, not run. Everything listens on 127.0.0.1; everything a script starts is
# recorded here and stopped by `bench_cleanup` (installed as an EXIT trap by `bench_init`), by
# pid, even when the script fails half-way.
#
# Benchmarks print numbers and ratios measured in the same run; they never assert timings.
#
# Environment (all scripts): BENCH_SKIP_BUILD=1 uses the existing target/release binary;
# BENCH_SOURCE_CONTROLLER=<path> measures another source-controller binary (no build).

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KUBECTL="$BENCH_ROOT/.cache/bin/kubectl"
# BENCH_SOURCE_CONTROLLER: another binary to measure (e.g. a patched build; implies no build).
SOURCE_CONTROLLER="${BENCH_SOURCE_CONTROLLER:-$BENCH_ROOT/target/release/source-controller}"
CORPUS="${FERROFLUX_SHARED:-$BENCH_ROOT/../shared}/corpus/kustomize"
export KUBECONFIG="$BENCH_ROOT/.cache/kubeconfig"

BENCH_TMP=""           # scratch dir of this run (removed on exit)
BENCH_PIDS=()          # processes we started, stopped in reverse order on exit
BENCH_NAMESPACES=()    # namespaces we created, deleted on exit
BENCH_CONTROLLER_PID=""

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

# now_ns: wall clock in nanoseconds.
now_ns() { date +%s%N; }

# bench_init NAME: scratch dir, cleanup trap, release build, control plane and CRDs.
bench_init() {
  local name="$1"
  BENCH_TMP="$(mktemp -d "${TMPDIR:-/tmp}/ferroflux-bench-$name.XXXXXX")"
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  cd "$BENCH_ROOT" || exit 1
  if [[ "${BENCH_SKIP_BUILD:-}" != 1 && -z "${BENCH_SOURCE_CONTROLLER:-}" ]]; then
    log "cargo build --release -p source-controller"
    cargo build --release -q -p source-controller
  fi
  [[ -x "$SOURCE_CONTROLLER" ]] || die "$SOURCE_CONTROLLER missing (cargo build --release -p source-controller)"
  [[ -x "$KUBECTL" ]] || die "$KUBECTL missing (make tools)"
  hack/cluster.sh up >/dev/null
  "$KUBECTL" apply --server-side --force-conflicts -f charts/source-controller/crds >/dev/null
  "$KUBECTL" wait --for=condition=Established --timeout=60s \
    crd/gitrepositories.source.toolkit.fluxcd.io >/dev/null
}

# Stops what we started (controller first, so it can still drop finalizers), deletes our
# namespaces and the scratch dir. Safe to run more than once.
bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  local ns
  for ns in "${BENCH_NAMESPACES[@]}"; do
    # GitRepositories carry the controller's finalizer: delete them while it still runs, and
    # strip whatever is left so the namespace can go.
    if [[ -n "$BENCH_CONTROLLER_PID" ]] && kill -0 "$BENCH_CONTROLLER_PID" 2>/dev/null; then
      delete_all_gitrepositories "$ns" 60 2>/dev/null
    fi
  done
  local i pid
  for ((i = ${#BENCH_PIDS[@]} - 1; i >= 0; i--)); do
    pid="${BENCH_PIDS[$i]}"
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  for ns in "${BENCH_NAMESPACES[@]}"; do
    local left
    left="$(timeout 30 "$KUBECTL" get gitrepositories -n "$ns" -o name 2>/dev/null)"
    for obj in $left; do
      timeout 30 "$KUBECTL" patch -n "$ns" "$obj" --type=merge \
        -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1
    done
    timeout 30 "$KUBECTL" delete namespace "$ns" --wait=false --ignore-not-found >/dev/null 2>&1
  done
  if [[ -n "$BENCH_TMP" && -d "$BENCH_TMP" ]]; then
    if [[ $rc -ne 0 ]]; then
      local f
      for f in "$BENCH_TMP"/*.log; do
        [[ -s "$f" ]] || continue
        printf -- '----- %s (last 40 lines) -----\n' "$(basename "$f")" >&2
        tail -n 40 "$f" >&2
      done
    fi
    rm -rf "$BENCH_TMP"
  fi
  exit "$rc"
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_port PORT PID WHAT: until 127.0.0.1:PORT accepts connections (fails if PID exits).
wait_port() {
  local port="$1" pid="$2" what="$3"
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || die "$what exited before listening on $port"
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  die "$what did not listen on 127.0.0.1:$port within 15s"
}

# git with no user or system config, a fixed identity and fixed dates (`env` execs git, so a
# backgrounded "${BENCH_GIT[@]}" ... & has the pid of git itself).
BENCH_GIT=(env -u GIT_DIR -u GIT_WORK_TREE -u GIT_INDEX_FILE
  GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
  GIT_AUTHOR_NAME="Ferroflux Bench" GIT_AUTHOR_EMAIL="bench@ferroflux.invalid"
  GIT_COMMITTER_NAME="Ferroflux Bench" GIT_COMMITTER_EMAIL="bench@ferroflux.invalid"
  GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z" git)
bench_git() { "${BENCH_GIT[@]}" "$@"; }

# make_repo NAME SRC_DIR: commits SRC_DIR's files as one commit on `main` into the bare
# repository $BENCH_TMP/git/NAME.git (what `git daemon` serves); prints the commit sha.
make_repo() {
  local name="$1" src="$2" work="$BENCH_TMP/work-$1"
  [[ -d "$src" ]] || die "corpus $src missing"
  mkdir -p "$BENCH_TMP/git"
  cp -r "$src" "$work"
  bench_git init -q -b main "$work"
  bench_git -C "$work" add -A
  bench_git -C "$work" commit -q -m "bench: $name"
  bench_git init -q --bare -b main "$BENCH_TMP/git/$name.git"
  bench_git -C "$work" push -q "$BENCH_TMP/git/$name.git" main
  bench_git -C "$work" rev-parse HEAD
}

# start_git_daemon: serves $BENCH_TMP/git over git:// on a free loopback port; sets GIT_PORT.
start_git_daemon() {
  GIT_PORT="$(free_port)"
  "${BENCH_GIT[@]}" daemon --export-all --reuseaddr --listen=127.0.0.1 --port="$GIT_PORT" \
    --base-path="$BENCH_TMP/git" "$BENCH_TMP/git" >>"$BENCH_TMP/git-daemon.log" 2>&1 &
  local pid=$!
  BENCH_PIDS+=("$pid")
  wait_port "$GIT_PORT" "$pid" "git daemon"
  # Drop the "hung up" line of our bare TCP probe (the log is opened O_APPEND: safe).
  sleep 0.2
  : >"$BENCH_TMP/git-daemon.log"
}

# new_namespace PREFIX: creates <prefix>-<random> and sets NS.
new_namespace() {
  NS="$1-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
  "$KUBECTL" create namespace "$NS" >/dev/null
  BENCH_NAMESPACES+=("$NS")
  "$KUBECTL" label namespace "$NS" ferroflux.dev/bench=true >/dev/null
}

# start_controller NS LOGNAME [EXTRA_FLAGS...]: the release source-controller watching only NS,
# storage in $BENCH_TMP/storage-LOGNAME on a free port; waits for /readyz and the storage
# port. Sets BENCH_CONTROLLER_PID, STORAGE_PORT, STORAGE_DIR, METRICS_PORT.
start_controller() {
  local ns="$1" name="$2"; shift 2
  STORAGE_DIR="$BENCH_TMP/storage-$name"
  mkdir -p "$STORAGE_DIR"
  STORAGE_PORT="$(free_port)"
  local health
  METRICS_PORT="$(free_port)"; health="$(free_port)"
  RUNTIME_NAMESPACE="$ns" "$SOURCE_CONTROLLER" --watch-all-namespaces=false \
    --storage-path="$STORAGE_DIR" --storage-addr="127.0.0.1:$STORAGE_PORT" \
    --storage-adv-addr="127.0.0.1:$STORAGE_PORT" \
    --metrics-addr="127.0.0.1:$METRICS_PORT" --health-addr="127.0.0.1:$health" \
    "$@" >"$BENCH_TMP/controller-$name.log" 2>&1 &
  BENCH_CONTROLLER_PID=$!
  BENCH_PIDS+=("$BENCH_CONTROLLER_PID")
  for _ in $(seq 1 150); do
    kill -0 "$BENCH_CONTROLLER_PID" 2>/dev/null || die "source-controller exited at start-up"
    curl -fs "http://127.0.0.1:$health/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fs "http://127.0.0.1:$health/readyz" >/dev/null 2>&1 ||
    die "source-controller not ready within 15s"
  wait_port "$STORAGE_PORT" "$BENCH_CONTROLLER_PID" "artifact server"
}

# stop_controller: stops the controller started last (its objects should be gone first).
stop_controller() {
  local pid="$BENCH_CONTROLLER_PID"
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  BENCH_CONTROLLER_PID=""
}

# gitrepository_yaml NAME NAMESPACE URL: one GitRepository on branch main, interval 10m (no
# periodic re-reconcile inside a benchmark).
gitrepository_yaml() {
  cat <<EOF
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: $1
  namespace: $2
spec:
  interval: 10m
  url: $3
  ref:
    branch: main
EOF
}

# delete_all_gitrepositories NS [TIMEOUT]: deletes them and polls (every 0.5 s, up to TIMEOUT
# seconds, default 120) until the controller has finalized them all; fails if some are left.
# (`kubectl delete --wait` is no good here: it waits object by object, throttled to 5 GETs/s.)
delete_all_gitrepositories() {
  local ns="$1" deadline=$(($(date +%s) + ${2:-120}))
  "$KUBECTL" delete gitrepositories -n "$ns" --all --wait=false >/dev/null
  while [[ -n "$("$KUBECTL" get gitrepositories -n "$ns" -o name)" ]]; do
    [[ $(date +%s) -lt $deadline ]] || return 1
    sleep 0.5
  done
}

# reconcile_stats KIND: "<reconciles> <mean reconcile seconds>" of the running controller, from
# its gotk_reconcile_duration_seconds{kind=KIND,...} (summed over objects).
reconcile_stats() {
  curl -fs "http://127.0.0.1:$METRICS_PORT/metrics" | awk -v k="kind=\"$1\"" '
    index($0, "gotk_reconcile_duration_seconds_sum{") == 1 && index($0, k) { s += $NF }
    index($0, "gotk_reconcile_duration_seconds_count{") == 1 && index($0, k) { n += $NF }
    END { printf "%d %.4f\n", n, (n ? s / n : 0) }'
}

# kib_of PID FIELD: a /proc/PID/status field (VmHWM, VmRSS) in KiB.
kib_of() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# cpu_seconds PID: user + system CPU time the process has used so far, in seconds.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' \
    "/proc/$1/stat"
}

# median_min_max: "<median> <min> <max>" of the numbers on stdin.
median_min_max() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan nan nan"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    print m, v[1], v[NR] }'
}
