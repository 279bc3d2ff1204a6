#!/usr/bin/env bash
# 200 GitRepositories against a local `git daemon`: the time from creating them until all are
# Ready=True, and the release source-controller's peak RSS (VmHWM) against our 50 MiB target
# and the 64-100 MiB Flux's source-controller sits at. One fresh namespace and one controller
# (--watch-all-namespaces=false) per run; runs with the default --concurrent and with
# --concurrent=8. Prints numbers and ratios; asserts nothing.
#
# Environment: BENCH_GITREPO_COUNT (200), BENCH_GITREPO_CONCURRENT ("default 8": one run per
# word, "default" passes no --concurrent), BENCH_GITREPO_TIMEOUT (seconds per run, 150),
# BENCH_SKIP_BUILD=1 (use the existing target/release/source-controller).
set -euo pipefail
# shellcheck source=hack/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

COUNT="${BENCH_GITREPO_COUNT:-200}"
RUNS="${BENCH_GITREPO_CONCURRENT:-default 8}"
TIMEOUT="${BENCH_GITREPO_TIMEOUT:-150}"
TARGET_KIB=$((50 * 1024))
FLUX_LOW_KIB=$((64 * 1024))
FLUX_HIGH_KIB=$((100 * 1024))

bench_init gitrepositories
sha="$(make_repo podinfo "$CORPUS/podinfo")"
files="$(bench_git -C "$BENCH_TMP/git/podinfo.git" ls-tree -r --name-only HEAD | wc -l)"
start_git_daemon
url="git://127.0.0.1:$GIT_PORT/podinfo.git"
log "repository $url: main@sha1:$sha, $files files"

results=()
for run in $RUNS; do
  flags=()
  label="--concurrent=2 (default)"
  if [[ "$run" != default ]]; then
    flags=(--concurrent="$run")
    label="--concurrent=$run"
  fi
  new_namespace bench-gitrepos
  start_controller "$NS" "$run" "${flags[@]}"
  pid="$BENCH_CONTROLLER_PID"
  manifest="$BENCH_TMP/gitrepositories-$run.yaml"
  for i in $(seq 1 "$COUNT"); do
    gitrepository_yaml "podinfo-$i" "$NS" "$url"
  done >"$manifest"
  log "$label: creating $COUNT GitRepositories in $NS"

  cpu0="$(cpu_seconds "$pid")"
  t0="$(now_ns)"
  "$KUBECTL" create -f "$manifest" >/dev/null
  t_created="$(now_ns)"
  ready=0
  deadline=$(($(date +%s) + TIMEOUT))
  while :; do
    ready="$("$KUBECTL" get gitrepositories -n "$NS" -o \
      jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' |
      grep -c '^True$' || true)"
    [[ "$ready" -ge "$COUNT" ]] && break
    kill -0 "$pid" 2>/dev/null || die "source-controller exited during the run"
    [[ $(date +%s) -lt $deadline ]] || die "$label: only $ready/$COUNT Ready after ${TIMEOUT}s"
    sleep 0.5
  done
  t1="$(now_ns)"
  cpu1="$(cpu_seconds "$pid")"
  read -r reconciles mean_s < <(reconcile_stats GitRepository)
  artifacts="$(find "$STORAGE_DIR/gitrepository/$NS" -name '*.tar.gz' -type f | wc -l)"
  [[ "$artifacts" -eq "$COUNT" ]] || die "$label: $artifacts artifacts in storage, expected $COUNT"
  log "$label: all Ready after $(((t1 - t0) / 1000000)) ms; deleting the GitRepositories"
  t2="$(now_ns)"
  delete_all_gitrepositories "$NS" "$TIMEOUT" || die "$label: GitRepositories left after ${TIMEOUT}s"
  t3="$(now_ns)"
  hwm="$(kib_of "$pid" VmHWM)"
  results+=("$(awk -v l="$label" -v n="$COUNT" -v c="$(((t_created - t0) / 1000000))" \
    -v t="$(((t1 - t0) / 1000000))" -v d="$(((t3 - t2) / 1000000))" -v h="$hwm" \
    -v tg="$TARGET_KIB" -v fl="$FLUX_LOW_KIB" -v fh="$FLUX_HIGH_KIB" -v r="$reconciles" \
    -v m="$mean_s" -v cpu="$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { print b - a }')" 'BEGIN {
      printf "%-24s %4d %7.2f s %8.2f s %6.1f %6.1f ms %8.2f s %6.1f MiB %6.2fx %5.2fx-%.2fx %6d %6.0f ms\n",
        l, n, c / 1000, t / 1000, n / (t / 1000), cpu * 1000 / n, d / 1000, h / 1024, h / tg,
        h / fh, h / fl, r, m * 1000 }')")
  stop_controller
  "$KUBECTL" delete namespace "$NS" --wait=false >/dev/null
done

printf '\nsource-controller (release), %d GitRepositories on one git:// repo (podinfo, %d files), %s cores\n' \
  "$COUNT" "$files" "$(nproc)"
cat <<'EOF'
create: the "kubectl create" call of all objects; all Ready: from its start until all are
Ready=True (polled every 0.5 s); deleted: from "kubectl delete --all" until all are finalized
(polled every 0.5 s); CPU/obj: the controller's user+system CPU time until all were Ready, per
object; peak RSS: VmHWM after all that, vs our 50 MiB target and Flux's 64-100 MiB;
recs, mean: gotk_reconcile_duration_seconds count and sum/count before the deletion
EOF
printf '%-24s %4s %9s %10s %6s %9s %10s %10s %7s %11s %6s %9s\n' run objs create "all Ready" \
  obj/s CPU/obj deleted "peak RSS" "/50Mi" "/Flux" recs mean
printf '%s\n' "${results[@]}"
