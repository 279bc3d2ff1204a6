#!/usr/bin/env bash
# The sample GitOps pipeline of `make run`: a local Git repository (the walkthrough's
# `react-app`, with podinfo's manifests under manifests/) served by `git daemon` on
# 127.0.0.1:19418, and the walkthrough's GitRepository and Kustomization (v1beta2, as written
# for Flux) pointing at it: source-controller turns the repository into an artifact you can
# curl, kustomize-controller applies manifests/ into namespace `app` and keeps it as Git says.
# The HelmRelease stage joins when its controller lands.
#   hack/sample.sh start   build the repo if needed, start git daemon, apply the manifests
#   hack/sample.sh stop    stop git daemon
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SAMPLE="$ROOT/.cache/sample"
SHARED="${FERROFLUX_SHARED:-$ROOT/../shared}"
KUBECTL="$ROOT/.cache/bin/kubectl"
export KUBECONFIG="${KUBECONFIG:-$ROOT/.cache/kubeconfig}"
PORT="${SAMPLE_GIT_PORT:-19418}"

git_() {
  GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_SYSTEM=/dev/null GIT_AUTHOR_NAME=ferroflux \
    GIT_AUTHOR_EMAIL=ferroflux@example.com GIT_COMMITTER_NAME=ferroflux \
    GIT_COMMITTER_EMAIL=ferroflux@example.com git "$@"
}

start() {
  if [[ ! -d "$SAMPLE/repos/react-app.git" ]]; then
    local work="$SAMPLE/work/react-app"
    rm -rf "$work" && mkdir -p "$work/manifests" "$SAMPLE/repos"
    cp -r "$SHARED/corpus/kustomize/podinfo/kustomize/." "$work/manifests/"
    printf '# react-app\nSample repository for ferroflux: manifests/ is what Flux applies.\n' >"$work/README.md"
    git_ -C "$work" init -q -b main
    git_ -C "$work" add -A
    git_ -C "$work" commit -q -m "react-app sample"
    git_ clone -q --bare "$work" "$SAMPLE/repos/react-app.git"
  fi
  if [[ ! -f "$SAMPLE/git-daemon.pid" ]] || ! kill -0 "$(cat "$SAMPLE/git-daemon.pid")" 2>/dev/null; then
    git daemon --reuseaddr --export-all --base-path="$SAMPLE/repos" --listen=127.0.0.1 \
      --port="$PORT" --pid-file="$SAMPLE/git-daemon.pid" --detach
  fi
  "$KUBECTL" create namespace flux-system --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
  # The Kustomization's targetNamespace: Flux does not create it.
  "$KUBECTL" create namespace app --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
  # The walkthrough's GitRepository and Kustomization (v1beta2), as written for Flux.
  /usr/bin/python3 - "$SHARED/examples/02-git-react-app.yaml" "$PORT" <<'PY' | "$KUBECTL" apply -f - >/dev/null
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
for d in docs:
    if d["kind"] == "GitRepository":
        d["spec"]["url"] = f"git://127.0.0.1:{sys.argv[2]}/react-app.git"
print(yaml.safe_dump_all(docs))
PY
  echo "[sample] git://127.0.0.1:$PORT/react-app.git served; GitRepository and Kustomization flux-system/react-app applied" >&2
  echo "[sample] try: kubectl get gitrepositories,kustomizations -A; kubectl -n app get deploy,svc,hpa" >&2
  echo "[sample] edit the app: git clone $SAMPLE/repos/react-app.git, commit, git push; see README.md 'Walkthrough'" >&2
}

stop() {
  if [[ -f "$SAMPLE/git-daemon.pid" ]]; then
    kill "$(cat "$SAMPLE/git-daemon.pid")" 2>/dev/null || true
    rm -f "$SAMPLE/git-daemon.pid"
  fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
