#!/usr/bin/env bash
# Serving throughput of source-controller's artifact server against nginx serving the same
# files from the same directory (sendfile on). Two real artifacts, made by the release
# controller from local git:// repositories: podinfo (small) and kubeflow (large). For each,
# after a 2 s warm-up of each server, BENCH_SERVE_ROUNDS (4) rounds of `wrk -t2 -c16 -d5s`
# against our status.artifact.url and then against nginx. Target: ours >= 0.8x nginx. Prints
# mean requests/s, MiB/s, p50 latency, errors, the ratio ours/nginx of the means and the range
# of the per-round ratios; asserts nothing.
#
# nginx: worker_processes auto, sendfile on, tcp_nopush on, access_log off and
# keepalive_requests raised so that neither server closes wrk's keep-alive connections.
# Everything shares the machine's cores with wrk, as it does for both servers.
#
# Environment: BENCH_SERVE_DURATION (5s), BENCH_SERVE_ROUNDS (4), BENCH_SKIP_BUILD=1.
set -euo pipefail
# shellcheck source=hack/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION="${BENCH_SERVE_DURATION:-5s}"
# Alternating short rounds: on a shared machine, load that comes and goes then hits both
# servers alike instead of whichever happened to run during it.
ROUNDS="${BENCH_SERVE_ROUNDS:-4}"
WRK_ARGS=(-t2 -c16)
command -v wrk >/dev/null || die "wrk missing (hack/deps.sh installs it)"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
[[ -x "$NGINX" ]] || die "nginx missing (hack/deps.sh installs it)"

bench_init serve
make_repo podinfo "$CORPUS/podinfo" >/dev/null
make_repo kubeflow "$CORPUS/kubeflow" >/dev/null
start_git_daemon
new_namespace bench-serve
start_controller "$NS" serve
for repo in podinfo kubeflow; do
  gitrepository_yaml "$repo" "$NS" "git://127.0.0.1:$GIT_PORT/$repo.git"
done | "$KUBECTL" create -f - >/dev/null
"$KUBECTL" wait -n "$NS" --for=condition=Ready=true --timeout=90s \
  gitrepository/podinfo gitrepository/kubeflow >/dev/null

# nginx on the controller's storage directory.
ndir="$BENCH_TMP/nginx"
mkdir -p "$ndir/tmp"
NGINX_PORT="$(free_port)"
user_line=""
[[ $(id -u) -eq 0 ]] && user_line="user root;" # workers must read the root-owned storage dir
cat >"$ndir/nginx.conf" <<EOF
$user_line
worker_processes auto;
pid $ndir/nginx.pid;
error_log $ndir/error.log warn;
events { worker_connections 1024; }
http {
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path $ndir/tmp/body;
  proxy_temp_path $ndir/tmp/proxy;
  fastcgi_temp_path $ndir/tmp/fastcgi;
  uwsgi_temp_path $ndir/tmp/uwsgi;
  scgi_temp_path $ndir/tmp/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $STORAGE_DIR;
  }
}
EOF
"$NGINX" -p "$ndir" -e "$ndir/error.log" -c "$ndir/nginx.conf" -g 'daemon off;' \
  >"$BENCH_TMP/nginx.log" 2>&1 &
BENCH_PIDS+=("$!")
wait_port "$NGINX_PORT" "$!" nginx

# wrk_run URL: "<requests/s> <MiB/s> <p50 latency ms> <non-2xx + socket errors>" of one run.
wrk_run() {
  wrk "${WRK_ARGS[@]}" -d"$DURATION" --latency "$1" >"$BENCH_TMP/wrk.out" 2>&1 || {
    cat "$BENCH_TMP/wrk.out" >&2
    die "wrk failed against $1"
  }
  awk '
    function mib(v,   n, u) {
      n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
      if (u == "B") return n / 1048576; if (u == "KB") return n / 1024
      if (u == "MB") return n; if (u == "GB") return n * 1024; return -1 }
    function ms(v,   n, u) {
      n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
      if (u == "us") return n / 1000; if (u == "ms") return n; if (u == "s") return n * 1000
      if (u == "m") return n * 60000; return -1 }
    /^Requests\/sec:/ { rps = $2 }
    /^Transfer\/sec:/ { mbs = mib($2) }
    $1 == "50%" { p50 = ms($2) }
    /Non-2xx or 3xx responses:/ { bad += $NF }
    /Socket errors:/ { for (i = 3; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) bad += $i + 0 }
    END { printf "%s %.1f %.3f %d\n", rps, mbs, p50, bad }' "$BENCH_TMP/wrk.out"
}

rows=()
for repo in podinfo kubeflow; do
  ours_url="$("$KUBECTL" get gitrepository -n "$NS" "$repo" -o jsonpath='{.status.artifact.url}')"
  path="$("$KUBECTL" get gitrepository -n "$NS" "$repo" -o jsonpath='{.status.artifact.path}')"
  digest="$("$KUBECTL" get gitrepository -n "$NS" "$repo" -o jsonpath='{.status.artifact.digest}')"
  nginx_url="http://127.0.0.1:$NGINX_PORT/$path"
  size="$(stat -c %s "$STORAGE_DIR/$path")"
  # Both serve the artifact itself (status 200, the digest in the status).
  for u in "$ours_url" "$nginx_url"; do
    got="sha256:$(curl -fs "$u" | sha256sum | cut -d' ' -f1)"
    [[ "$got" == "$digest" ]] || die "$u: digest $got, expected $digest"
  done
  log "$repo artifact ($size bytes): $ROUNDS rounds of wrk ${WRK_ARGS[*]} -d$DURATION, ours then nginx"
  wrk "${WRK_ARGS[@]}" -d2s "$ours_url" >/dev/null
  wrk "${WRK_ARGS[@]}" -d2s "$nginx_url" >/dev/null
  : >"$BENCH_TMP/rounds.txt"
  for ((round = 1; round <= ROUNDS; round++)); do
    echo "$(wrk_run "$ours_url") $(wrk_run "$nginx_url")" >>"$BENCH_TMP/rounds.txt"
  done
  # Means over the rounds; the ratio of the means, and the range of the per-round ratios.
  rows+=("$(awk -v r="$repo" -v s="$size" '
    { orps += $1; omb += $2; op += $3; ob += $4; nrps += $5; nmb += $6; np += $7; nb += $8
      q = $1 / $5; if (NR == 1 || q < lo) lo = q; if (NR == 1 || q > hi) hi = q }
    END {
      f = "%-9s %9.1f KiB  %-6s %9.0f %9.1f %9.2f ms %7d\n"
      printf f, r, s / 1024, "ours", orps / NR, omb / NR, op / NR, ob
      printf f, "", s / 1024, "nginx", nrps / NR, nmb / NR, np / NR, nb
      printf "%-24s %-6s %8.3fx %8.3fx   (rounds: %.2f-%.2fx)\n", "", "ratio", orps / nrps, omb / nmb, lo, hi }' \
    "$BENCH_TMP/rounds.txt")")
done
hwm="$(kib_of "$BENCH_CONTROLLER_PID" VmHWM)"

printf '\nartifact serving: %s rounds of wrk %s -d%s on 127.0.0.1, %s cores; nginx %s (sendfile on)\n' \
  "$ROUNDS" "${WRK_ARGS[*]}" "$DURATION" "$(nproc)" "$("$NGINX" -v 2>&1 | sed 's|.*nginx/||')"
printf '%-9s %13s  %-6s %9s %9s %12s %7s\n' artifact size server req/s MiB/s "p50 latency" errors
printf '%s\n' "${rows[@]}"
awk -v h="$hwm" 'BEGIN { printf "target: ours/nginx (ratio) >= 0.80x; source-controller peak RSS %.1f MiB\n", h / 1024 }'
