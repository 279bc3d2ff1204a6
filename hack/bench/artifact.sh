#!/usr/bin/env bash
# Artifact build for the kubeflow corpus: the release source-controller producing the artifact
# of a new GitRepository, against the shell baseline
#   git clone --depth 1 git://… && tar czf … && sha256sum …
# both from the same commit served by a local `git daemon`. Target: ours faster than the
# baseline. Prints both medians and the ratio; asserts nothing.
#
# Baseline: hyperfine (--warmup 1, --runs N, the clone dir removed in --prepare) when installed,
# else a loop of N runs timed with `date +%s%N`.
# Ours: one controller; per run a new GitRepository (new name) on the same URL and branch. The
# time runs from the object's first watch event (it exists in the API) to the first watch event
# showing Ready=True with the expected revision, both stamped by one `kubectl get --watch`
# (kubectl's own start-up is not counted). One warm-up object first, as for the baseline.
#
# Environment: BENCH_ARTIFACT_RUNS (5), BENCH_NO_HYPERFINE=1 (time the baseline with the loop),
# BENCH_SKIP_BUILD=1.
set -euo pipefail
# shellcheck source=hack/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS="${BENCH_ARTIFACT_RUNS:-5}"
WAIT_SECONDS=90

bench_init artifact
sha="$(make_repo kubeflow "$CORPUS/kubeflow")"
files="$(bench_git -C "$BENCH_TMP/git/kubeflow.git" ls-tree -r --name-only HEAD | wc -l)"
tree_kib="$(du -sk --exclude=.git "$BENCH_TMP/work-kubeflow" | cut -f1)"
start_git_daemon
url="git://127.0.0.1:$GIT_PORT/kubeflow.git"
revision="main@sha1:$sha"
log "repository $url: $revision, $files files, $tree_kib KiB"

# ---- baseline -------------------------------------------------------------------------------
base="$BENCH_TMP/baseline"
mkdir -p "$base"
{
  printf '#!/usr/bin/env bash\nset -euo pipefail\n'
  printf 'cd %q\n' "$base"
  printf '%q ' "${BENCH_GIT[@]}"
  printf 'clone -q --depth 1 --branch main %q clone\n' "$url"
  printf 'tar czf artifact.tar.gz --exclude=.git -C clone .\n'
  printf 'sha256sum artifact.tar.gz >/dev/null\n'
} >"$base/run.sh"
chmod +x "$base/run.sh"
prepare="rm -rf '$base/clone' '$base/artifact.tar.gz'"

base_times="$BENCH_TMP/baseline-ms.txt"
if command -v hyperfine >/dev/null && [[ "${BENCH_NO_HYPERFINE:-}" != 1 ]]; then
  tool="hyperfine --warmup 1 --runs $RUNS"
  log "baseline: $tool"
  hyperfine -N --style none --warmup 1 --runs "$RUNS" --prepare "$prepare" \
    --export-json "$BENCH_TMP/hyperfine.json" "$base/run.sh" >/dev/null
  python3 -c 'import json,sys
for t in json.load(open(sys.argv[1]))["results"][0]["times"]: print(t * 1000)' \
    "$BENCH_TMP/hyperfine.json" >"$base_times"
else
  tool="loop of $RUNS after 1 warm-up, date +%s%N"
  log "baseline: $tool"
  : >"$base_times"
  for i in $(seq 0 "$RUNS"); do
    bash -c "$prepare"
    t0="$(now_ns)"
    "$base/run.sh"
    t1="$(now_ns)"
    [[ $i -eq 0 ]] || echo "$(((t1 - t0) / 1000))" | awk '{ print $1 / 1000 }' >>"$base_times"
  done
fi
base_size="$(stat -c %s "$base/artifact.tar.gz")"

# ---- ours -----------------------------------------------------------------------------------
new_namespace bench-artifact
start_controller "$NS" artifact
events="$BENCH_TMP/events.txt"
: >"$events"
mkfifo "$BENCH_TMP/watch.fifo"
"$KUBECTL" get gitrepositories -n "$NS" --watch -o \
  jsonpath='{.metadata.name}|{.status.artifact.revision}|{.status.conditions[?(@.type=="Ready")].status}{"\n"}' \
  >"$BENCH_TMP/watch.fifo" 2>"$BENCH_TMP/watch.log" &
BENCH_PIDS+=("$!")
while IFS= read -r line; do printf '%s|%s\n' "$EPOCHREALTIME" "$line"; done \
  <"$BENCH_TMP/watch.fifo" >"$events" &
BENCH_PIDS+=("$!")
sleep 1 # the watch is established (it lists the empty namespace first)

ours_times="$BENCH_TMP/ours-ms.txt"
: >"$ours_times"
log "ours: 1 warm-up + $RUNS new GitRepositories"
for i in $(seq 0 "$RUNS"); do
  name="kubeflow-$i"
  gitrepository_yaml "$name" "$NS" "$url" | "$KUBECTL" create -f - >/dev/null
  deadline=$(($(date +%s) + WAIT_SECONDS))
  until grep -q "^[^|]*|$name|$revision|True\$" "$events"; do
    [[ $(date +%s) -lt $deadline ]] || die "$name not Ready with $revision after ${WAIT_SECONDS}s"
    kill -0 "$BENCH_CONTROLLER_PID" 2>/dev/null || die "source-controller exited"
    sleep 0.02
  done
  [[ $i -eq 0 ]] && continue
  awk -F'|' -v n="$name" -v r="$revision" '
    $2 == n && !seen { t0 = $1; seen = 1 }
    $2 == n && $3 == r && $4 == "True" { printf "%.3f\n", ($1 - t0) * 1000; exit }' \
    "$events" >>"$ours_times"
done
read -r reconciles mean_s < <(reconcile_stats GitRepository)

# The artifact is what a consumer would get: download it by its URL and check its digest.
art_url="$("$KUBECTL" get gitrepository -n "$NS" "kubeflow-$RUNS" -o jsonpath='{.status.artifact.url}')"
art_digest="$("$KUBECTL" get gitrepository -n "$NS" "kubeflow-$RUNS" -o jsonpath='{.status.artifact.digest}')"
curl -fs "$art_url" -o "$BENCH_TMP/ours.tar.gz"
got="sha256:$(sha256sum "$BENCH_TMP/ours.tar.gz" | cut -d' ' -f1)"
[[ "$got" == "$art_digest" ]] || die "artifact at $art_url has digest $got, status says $art_digest"
ours_size="$(stat -c %s "$BENCH_TMP/ours.tar.gz")"
hwm="$(kib_of "$BENCH_CONTROLLER_PID" VmHWM)"

read -r base_med base_min base_max < <(median_min_max <"$base_times")
read -r ours_med ours_min ours_max < <(median_min_max <"$ours_times")
printf '\nartifact build, kubeflow corpus (%d files, %d KiB) from git://127.0.0.1, %s cores, %d runs each\n' \
  "$files" "$tree_kib" "$(nproc)" "$RUNS"
row() { awk -v l="$1" -v m="$2" -v lo="$3" -v hi="$4" -v s="$5" \
  'BEGIN { printf "%-52s %9.1f ms %7.1f-%-7.1f %10.1f KiB\n", l, m, lo, hi, s / 1024 }'; }
printf '%-52s %12s %15s %14s\n' "" median "min-max (ms)" "artifact size"
row "baseline: git clone --depth 1 + tar czf + sha256sum" "$base_med" "$base_min" "$base_max" "$base_size"
printf '  (%s)\n' "$tool"
row "ours: new GitRepository -> Ready with the artifact" "$ours_med" "$ours_min" "$ours_max" "$ours_size"
awk -v b="$base_med" -v o="$ours_med" -v r="$reconciles" -v mean="$mean_s" -v h="$hwm" 'BEGIN {
  printf "ours / baseline: %.2fx (target < 1; baseline is %.2fx our time)\n", o / b, b / o
  printf "controller side: %d reconciles (incl. warm-up), mean reconcile %.1f ms; peak RSS %.1f MiB\n",
    r, mean * 1000, h / 1024 }'
