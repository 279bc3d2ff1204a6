#!/usr/bin/env bash
# Builds the pinned Go tools (control plane + reference oracles) from their Go modules into the
# machine-wide cache and links them into the checkout's .cache/bin. A tool is rebuilt only when
# its pinned version (hack/versions.env) or the machine's Go version changes, so CI's fresh clone
# on the same machine reuses what a session built.
#
#   hack/tools.sh [tool...]          build (or link) the named tools, default all but the
#                                    bench-only flux-kustomize-controller
#   hack/tools.sh --update-modules   regenerate hack/tools/*/go.mod after a version bump
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=versions.env
source "$ROOT/hack/versions.env"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/ferroflux"
BIN="$ROOT/.cache/bin"
GOVER="$(go env GOVERSION)"
mkdir -p "$CACHE/tools" "$BIN"
export GOFLAGS="${GOFLAGS:-} -mod=mod -trimpath"
export CGO_ENABLED=0

log() { printf '[tools] %s\n' "$*" >&2; }

# module dir | version var | binaries (tool package paths, last path element is the binary name)
declare -A MODDIR=(
  [kube-apiserver]=kubernetes [kube-controller-manager]=kubernetes [kube-scheduler]=kubernetes
  [kubectl]=kubernetes [etcd]=etcd [kwok]=kwok [helm]=helm [kustomize]=kustomize
  [sops]=sops [age]=age [age-keygen]=age
)
declare -A PKG=(
  [kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver
  [kube-controller-manager]=k8s.io/kubernetes/cmd/kube-controller-manager
  [kube-scheduler]=k8s.io/kubernetes/cmd/kube-scheduler
  [kubectl]=k8s.io/kubernetes/cmd/kubectl
  [etcd]=.
  [kwok]=sigs.k8s.io/kwok/cmd/kwok
  [helm]=helm.sh/helm/v3/cmd/helm
  [kustomize]=sigs.k8s.io/kustomize/kustomize/v5
  [sops]=github.com/getsops/sops/v3/cmd/sops
  [age]=filippo.io/age/cmd/age
  [age-keygen]=filippo.io/age/cmd/age-keygen
)
declare -A VERSION=(
  [kube-apiserver]=$KUBERNETES_VERSION [kube-controller-manager]=$KUBERNETES_VERSION
  [kube-scheduler]=$KUBERNETES_VERSION [kubectl]=$KUBERNETES_VERSION [etcd]=$ETCD_VERSION
  [kwok]=$KWOK_VERSION [helm]=$HELM_VERSION [kustomize]=$KUSTOMIZE_VERSION
  [sops]=$SOPS_VERSION [age]=$AGE_VERSION [age-keygen]=$AGE_VERSION
)
ALL=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok helm kustomize sops age age-keygen)

# Version stamps: without them Kubernetes binaries report v0.0.0-master, which breaks helm's
# kubeVersion checks and `kubectl version`.
ldflags_for() {
  local flags="-s -w"
  if [[ ${MODDIR[$1]} == kubernetes ]]; then
    local v=$KUBERNETES_VERSION major minor
    major="${v#v}"; major="${major%%.*}"
    minor="${v#v*.}"; minor="${minor%%.*}"
    local pkg
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      flags+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
      flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    done
  fi
  printf '%s' "$flags"
}

build() {
  local name=$1 ver=${VERSION[$1]} dir="$ROOT/hack/tools/${MODDIR[$1]}"
  local ldflags recipe
  ldflags="$(ldflags_for "$name")"
  # The cache key covers the version, the Go toolchain and how we build it.
  recipe="$(printf '%s' "$ldflags" | sha256sum | cut -c1-8)"
  local dest="$CACHE/tools/$name/$ver-$GOVER-$recipe"
  if [[ ! -x "$dest/$name" ]]; then
    log "building $name $ver with $GOVER (once per machine)"
    local tmp
    tmp="$(mktemp -d "$CACHE/tools/.build.XXXXXX")"
    (cd "$dir" && go build -ldflags "$ldflags" -o "$tmp/$name" "${PKG[$name]}")
    mkdir -p "$(dirname "$dest")"
    rm -rf "$dest"
    mv "$tmp" "$dest" # atomic: a half-built tool never appears under its final name
  fi
  ln -sfn "$dest/$name" "$BIN/$name"
}

# Bench-only tools, built only when named (`hack/tools.sh flux-kustomize-controller`, as
# hack/bench/kustomizations.sh does), never by `make tools`: Flux's own controllers, to measure
# ours against on the same machine. Their go.mod replaces the controller's api module with
# ./api, a nested module that the module zip leaves out, so `go install m@v` refuses them: build
# a copy of the module with the api module of the same version put back at ./api.
declare -A FLUXMOD=([flux-kustomize-controller]=github.com/fluxcd/kustomize-controller)
declare -A FLUXVER=([flux-kustomize-controller]=$FLUX_KUSTOMIZE_CONTROLLER_VERSION)

# module_dir MODULE@VERSION: downloads it into the module cache, prints its directory.
module_dir() {
  go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

build_flux() {
  local name=$1 mod=${FLUXMOD[$1]} ver=${FLUXVER[$1]} ldflags="-s -w" recipe dest
  recipe="$(printf 'flux-module %s' "$ldflags" | sha256sum | cut -c1-8)"
  dest="$CACHE/tools/$name/$ver-$GOVER-$recipe"
  if [[ ! -x "$dest/$name" ]]; then
    log "building $name ($mod $ver) with $GOVER (once per machine)"
    local tmp src api
    tmp="$(mktemp -d "$CACHE/tools/.build.XXXXXX")"
    src="$(cd "$tmp" && module_dir "$mod@$ver")"
    api="$(cd "$tmp" && module_dir "$mod/api@$ver")"
    [[ -d "$src" && -d "$api" ]] || { log "could not download $mod@$ver"; exit 1; }
    cp -r "$src" "$tmp/src"
    cp -r "$api" "$tmp/src/api"
    chmod -R u+w "$tmp/src" # the module cache is read-only
    (cd "$tmp/src" && go build -ldflags "$ldflags" -o "$tmp/$name" .)
    rm -rf "$tmp/src"
    mkdir -p "$(dirname "$dest")"
    rm -rf "$dest"
    mv "$tmp" "$dest"
  fi
  ln -sfn "$dest/$name" "$BIN/$name"
}

update_modules() {
  local P
  P="$(go env GOPROXY | cut -d, -f1)"
  (cd "$ROOT/hack/tools/kubernetes" && {
    local minor="v0.${KUBERNETES_VERSION#v1.}"
    {
      printf 'module ferroflux.local/hack/tools/kubernetes\n\ngo 1.26.0\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$KUBERNETES_VERSION"
      curl -fsSL "$P/k8s.io/kubernetes/@v/$KUBERNETES_VERSION.mod" | awk -v v="$minor" '/=> .\/staging/ {print "\t"$1" => "$1" "v}'
      printf ')\n'
    } >go.mod
    rm -f go.sum
    go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$KUBERNETES_VERSION" \
      "k8s.io/kubernetes/cmd/kube-controller-manager@$KUBERNETES_VERSION" \
      "k8s.io/kubernetes/cmd/kube-scheduler@$KUBERNETES_VERSION" "k8s.io/kubernetes/cmd/kubectl@$KUBERNETES_VERSION"
  })
  (cd "$ROOT/hack/tools/etcd" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" && go mod tidy)
  (cd "$ROOT/hack/tools/kwok" && go get -tool "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION")
  (cd "$ROOT/hack/tools/helm" && go get -tool "helm.sh/helm/v3/cmd/helm@$HELM_VERSION")
  (cd "$ROOT/hack/tools/kustomize" && go get -tool "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION")
  (cd "$ROOT/hack/tools/sops" && go get -tool "github.com/getsops/sops/v3/cmd/sops@$SOPS_VERSION")
  (cd "$ROOT/hack/tools/age" && go get -tool "filippo.io/age/cmd/age@$AGE_VERSION" "filippo.io/age/cmd/age-keygen@$AGE_VERSION")
}

if [[ "${1:-}" == "--update-modules" ]]; then update_modules; exit 0; fi
tools=("$@")
[[ ${#tools[@]} -eq 0 ]] && tools=("${ALL[@]}")
# One builder at a time per machine: parallel make targets and CI share the cache.
exec 9>"$CACHE/tools/.lock"
flock 9
for t in "${tools[@]}"; do
  if [[ -n "${FLUXMOD[$t]:-}" ]]; then build_flux "$t"; continue; fi
  [[ -n "${PKG[$t]:-}" ]] || { log "unknown tool: $t"; exit 2; }
  build "$t"
done
