#!/usr/bin/env bash
# Tests the Helm charts under charts/ with the reference helm binary.
#
#   hack/charts-test.sh              lint + render every chart (no cluster needed)
#   hack/charts-test.sh --install    also install/upgrade/uninstall each chart into the
#                                    cluster of $KUBECONFIG (e.g. the local control plane)
#
# Offline, for each chart: `helm lint --strict` with the default and the "locked-down"
# values, and `helm template` with both, the output parsed with python3 and checked for the
# expected objects, args, ports, probes, security context and RBAC. The crds/ directory is
# filled by `make crds`; when it holds files they are rendered with --include-crds and must
# all be CustomResourceDefinitions. The templates must never depend on them.
#
# Environment: HELM (default .cache/bin/helm), KUBECTL (default .cache/bin/kubectl, then
# kubectl on PATH), CHARTS_NAMESPACE (default flux-system), KUBE_VERSION (the Kubernetes
# version helm renders for offline, default the pinned control plane's),
# CHARTS_ROLLOUT_TIMEOUT (--install: seconds to wait for each Deployment, 0 skips; default 90).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHARTS=(source-controller kustomize-controller helm-controller)
HELM="${HELM:-$ROOT/.cache/bin/helm}"
NS="${CHARTS_NAMESPACE:-flux-system}"
if [[ -z "${KUBE_VERSION:-}" ]]; then
  # shellcheck source=hack/versions.env
  KUBE_VERSION="$(source "$ROOT/hack/versions.env" && echo "${KUBERNETES_VERSION#v}")"
fi
INSTALL=0
for arg in "$@"; do
  case "$arg" in
    --install) INSTALL=1 ;;
    -h | --help) sed -n '2,18p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "charts-test: unknown argument $arg" >&2; exit 2 ;;
  esac
done

log() { printf '[charts-test] %s\n' "$*" >&2; }
fail() { printf '[charts-test] FAIL: %s\n' "$*" >&2; exit 1; }

[[ -x "$HELM" ]] || fail "helm not found at $HELM (build it with hack/tools.sh helm, or set HELM)"
# Debian's python3 with python3-yaml (hack/deps.sh installs it) unless another has PyYAML.
PY=/usr/bin/python3
"$PY" -c 'import yaml' 2>/dev/null || PY="$(command -v python3 || true)"
[[ -n "$PY" ]] && "$PY" -c 'import yaml' 2>/dev/null || fail "python3 with PyYAML is required (hack/deps.sh)"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
export HELM_CACHE_HOME="$TMP/helm/cache" HELM_CONFIG_HOME="$TMP/helm/config" HELM_DATA_HOME="$TMP/helm/data"

# The values of the "locked-down" variant: every optional object on, cluster-admin off.
LOCKED=(--set serviceMonitor.enabled=true --set networkPolicy.enabled=true --set rbac.clusterAdmin=false)

# ---------------------------------------------------------------------------------------
# Files that must stay identical between the charts (see the comment in _helpers.tpl).
same() {
  local f=$1; shift
  local first=$1; shift
  for c in "$@"; do
    cmp -s "$ROOT/charts/$first/$f" "$ROOT/charts/$c/$f" ||
      fail "charts/$c/$f differs from charts/$first/$f; they are meant to be identical"
  done
}
same templates/_helpers.tpl "${CHARTS[@]}"
same templates/serviceaccount.yaml "${CHARTS[@]}"
same templates/leader-election-rbac.yaml "${CHARTS[@]}"
same templates/servicemonitor.yaml "${CHARTS[@]}"
same templates/deployment.yaml kustomize-controller helm-controller
same templates/service.yaml kustomize-controller helm-controller
same templates/networkpolicy.yaml kustomize-controller helm-controller
same templates/NOTES.txt kustomize-controller helm-controller
log "shared templates identical"

# ---------------------------------------------------------------------------------------
# The checker: reads a rendered manifest and asserts what a variant must contain.
cat >"$TMP/check.py" <<'PY'
import sys, yaml

chart, variant, release, ns, path = sys.argv[1:6]
extra = dict(a.split("=", 1) for a in sys.argv[6:])
errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)


with open(path) as f:
    try:
        docs = [d for d in yaml.safe_load_all(f) if d]
    except yaml.YAMLError as e:
        print(f"{chart}/{variant}: output is not valid YAML: {e}")
        sys.exit(1)

objs = {}
for d in docs:
    check(isinstance(d, dict) and "kind" in d and "apiVersion" in d and "metadata" in d,
          f"not a Kubernetes object: {str(d)[:200]}")
    key = (d["kind"], d["metadata"]["name"])
    check(key not in objs, f"duplicate object {key}")
    objs[key] = d
kinds = sorted({k for k, _ in objs})


def one(kind, name=None):
    found = [o for (k, n), o in objs.items() if k == kind and (name is None or n == name)]
    check(len(found) == 1, f"expected one {kind}{' ' + name if name else ''}, found {len(found)}")
    return found[0] if found else {}


fullname = release if chart in release else f"{release}-{chart}"
cluster_name = f"{fullname}-{ns}"
locked = variant.startswith("locked")
agent = chart in ("kustomize-controller", "helm-controller")

if variant == "crds":
    check(kinds == ["CustomResourceDefinition"] or not kinds, f"crds: unexpected kinds {kinds}")
    print(f"{chart}/crds: {len(objs)} CRDs")
    sys.exit(1 if errors else 0)

expected = {"Deployment", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role",
            "RoleBinding", "Service"}
if locked:
    expected |= {"ServiceMonitor", "NetworkPolicy"}
if extra.get("sa_create", "true") != "true":
    expected -= {"ServiceAccount"}
check(set(kinds) == expected, f"kinds {kinds}, expected {sorted(expected)}")
for o in objs.values():
    md = o["metadata"]
    labels = md.get("labels") or {}
    for l, v in {"app": chart, "control-plane": "controller",
                 "app.kubernetes.io/name": chart, "app.kubernetes.io/instance": release,
                 "app.kubernetes.io/managed-by": "Helm"}.items():
        check(labels.get(l) == v, f"{o['kind']}/{md['name']}: label {l}={labels.get(l)!r}, want {v!r}")
    if o["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
        check(md.get("namespace") == ns, f"{o['kind']}/{md['name']}: namespace {md.get('namespace')!r}")

# Deployment
dep = one("Deployment", fullname)
spec = dep.get("spec", {})
pod = spec.get("template", {}).get("spec", {})
sel = spec.get("selector", {}).get("matchLabels", {})
check(sel.get("app") == chart, f"selector {sel}")
podlabels = spec.get("template", {}).get("metadata", {}).get("labels", {})
check(all(podlabels.get(k) == v for k, v in sel.items()), "pod labels do not match the selector")
check(spec.get("replicas") == int(extra.get("replicas", 1)), f"replicas {spec.get('replicas')}")
check(pod.get("terminationGracePeriodSeconds") == 10, "terminationGracePeriodSeconds != 10")
sa_name = extra.get("sa", fullname)
check(pod.get("serviceAccountName") == sa_name, f"serviceAccountName {pod.get('serviceAccountName')!r}, want {sa_name!r}")
ctrs = pod.get("containers", [])
check(len(ctrs) == 1, f"{len(ctrs)} containers")
c = ctrs[0] if ctrs else {}
image = extra.get("image", f"ghcr.io/ferroflux/{chart}:0.1.0")
check(c.get("image") == image, f"image {c.get('image')!r}, want {image!r}")
check(c.get("imagePullPolicy") == "IfNotPresent", f"imagePullPolicy {c.get('imagePullPolicy')!r}")
args = c.get("args", [])
want_args = [f"--watch-all-namespaces={extra.get('watch', 'true')}",
             f"--log-level={extra.get('loglevel', 'info')}", "--log-encoding=json",
             "--enable-leader-election", "--metrics-addr=:8080", "--health-addr=:9440"]
if chart == "source-controller":
    svc = extra.get("svc", "source-controller")
    want_args += ["--storage-path=/data", "--storage-addr=:9090",
                  f"--storage-adv-addr={svc}.$(RUNTIME_NAMESPACE).svc.cluster.local."]
if "events" in extra:
    want_args.append(f"--events-addr={extra['events']}")
want_args += [a for a in extra.get("extraargs", "").split(",") if a]
for a in want_args:
    check(a in args, f"args {args} lack {a}")
check(not any(a.startswith("--events-addr") for a in args) or "events" in extra,
      "--events-addr rendered without eventsAddr")
check(len(args) == len(set(args)), f"duplicate args {args}")
env = {e["name"]: e for e in c.get("env", [])}
check(env.get("RUNTIME_NAMESPACE", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
      == "metadata.namespace", "RUNTIME_NAMESPACE env missing")
ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
want_ports = {"http-prom": 8080, "healthz": 9440}
if chart == "source-controller":
    want_ports["http"] = 9090
check(ports == want_ports, f"ports {ports}, want {want_ports}")
live = c.get("livenessProbe", {}).get("httpGet", {})
ready = c.get("readinessProbe", {}).get("httpGet", {})
check(live == {"path": "/healthz", "port": "healthz"}, f"livenessProbe {live}")
check(ready == {"path": "/readyz", "port": "healthz"}, f"readinessProbe {ready}")
sc = c.get("securityContext", {})
check(sc.get("runAsNonRoot") is True and sc.get("readOnlyRootFilesystem") is True
      and sc.get("allowPrivilegeEscalation") is False
      and sc.get("capabilities", {}).get("drop") == ["ALL"]
      and sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"securityContext {sc}")
res = c.get("resources", {})
check(res == {"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"cpu": "1000m", "memory": "1Gi"}},
      f"resources {res}")
mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
vols = {v["name"]: v for v in pod.get("volumes", [])}
check(mounts.get("tmp") == "/tmp" and "emptyDir" in vols.get("tmp", {}), "no /tmp emptyDir")
if chart == "source-controller":
    check(mounts.get("data") == "/data" and "emptyDir" in vols.get("data", {}), "no /data emptyDir")
for m in mounts:
    check(m in vols, f"volumeMount {m} has no volume")

# ServiceAccount and RBAC
if extra.get("sa_create", "true") == "true":
    one("ServiceAccount", sa_name)
subject = {"kind": "ServiceAccount", "name": sa_name, "namespace": ns}
cr = one("ClusterRole", cluster_name)
rules = cr.get("rules", [])


def allowed(group, resource, verb):
    return any(group in r.get("apiGroups", []) and resource in r.get("resources", [])
               and (verb in r.get("verbs", []) or "*" in r.get("verbs", [])) for r in rules)


for r in rules:
    check("*" not in r.get("verbs", []) and "*" not in r.get("resources", []),
          f"wildcard in the least-privilege ClusterRole: {r}")
src = "source.toolkit.fluxcd.io"
must = [("", "events", "create"), ("", "events", "patch"), ("events.k8s.io", "events", "create"),
        ("", "secrets", "get"), ("", "configmaps", "list")]
if chart == "source-controller":
    for k in ["gitrepositories", "ocirepositories", "helmrepositories", "helmcharts", "buckets",
              "externalartifacts"]:
        must += [(src, k, "watch"), (src, k, "update"), (src, k + "/status", "patch"),
                 (src, k + "/finalizers", "update")]
    must += [("", "serviceaccounts", "get"), ("", "serviceaccounts/token", "create")]
    check(not allowed("", "secrets", "create"), "source-controller may create secrets")
elif chart == "kustomize-controller":
    k = "kustomize.toolkit.fluxcd.io"
    must += [(k, "kustomizations", "watch"), (k, "kustomizations/status", "patch"),
             (k, "kustomizations/finalizers", "update"), ("", "serviceaccounts", "impersonate")]
    must += [(src, s, "watch") for s in ["gitrepositories", "ocirepositories", "buckets",
                                         "externalartifacts", "helmrepositories", "helmcharts"]]
    check(not allowed(src, "gitrepositories", "update"), "kustomize-controller may update sources")
    check(not allowed("", "secrets", "create"), "kustomize-controller may create secrets")
else:
    h = "helm.toolkit.fluxcd.io"
    must += [(h, "helmreleases", "watch"), (h, "helmreleases/status", "patch"),
             (h, "helmreleases/finalizers", "update"), (src, "helmcharts", "create"),
             (src, "helmcharts", "delete"), (src, "helmrepositories", "get"),
             (src, "ocirepositories", "watch"), (src, "externalartifacts", "list"),
             ("", "secrets", "create"), ("", "secrets", "delete"),
             ("", "serviceaccounts", "impersonate")]
    check(not allowed(src, "ocirepositories", "update"), "helm-controller may update ocirepositories")
for g, r, v in must:
    check(allowed(g, r, v), f"ClusterRole lacks {v} {g or 'core'}/{r}")
check(not allowed("coordination.k8s.io", "leases", "get"), "leases belong in the namespaced Role")
crb = one("ClusterRoleBinding", cluster_name)
check(crb.get("roleRef", {}).get("name") == cluster_name and crb.get("subjects") == [subject],
      f"ClusterRoleBinding {crb}")
admin = [o for (k, _), o in objs.items()
         if k == "ClusterRoleBinding" and o["roleRef"]["name"] == "cluster-admin"]
if agent and not locked:
    check(len(admin) == 1 and admin[0].get("subjects") == [subject],
          "rbac.clusterAdmin=true should bind cluster-admin")
else:
    check(not admin, "cluster-admin bound although rbac.clusterAdmin is false / not offered")
role = one("Role", f"{fullname}-leader-election")
lr = role.get("rules", [])
check(lr and lr[0].get("apiGroups") == ["coordination.k8s.io"] and lr[0].get("resources") == ["leases"]
      and {"get", "list", "watch", "create", "update", "patch", "delete"} <= set(lr[0].get("verbs", [])),
      f"leader election Role {lr}")
rb = one("RoleBinding", f"{fullname}-leader-election")
check(rb.get("subjects") == [subject], f"RoleBinding subjects {rb.get('subjects')}")

# Service
if chart == "source-controller":
    svc = one("Service", extra.get("svc", "source-controller"))
    want = {("http", 80, "http"), ("http-prom", 8080, "http-prom")}
else:
    svc = one("Service", extra.get("svc", fullname))
    want = {("http-prom", 8080, "http-prom")}
sports = {(p["name"], p["port"], p["targetPort"]) for p in svc.get("spec", {}).get("ports", [])}
check(sports == want, f"Service ports {sports}, want {want}")
check(svc.get("spec", {}).get("selector") == sel, "Service selector != Deployment selector")

if locked:
    sm = one("ServiceMonitor", fullname)
    check(sm.get("apiVersion") == "monitoring.coreos.com/v1", "ServiceMonitor apiVersion")
    eps = sm.get("spec", {}).get("endpoints", [])
    check([e.get("port") for e in eps] == ["http-prom"], f"ServiceMonitor endpoints {eps}")
    check(sm.get("spec", {}).get("selector", {}).get("matchLabels", {}).items()
          <= (svc.get("metadata", {}).get("labels") or {}).items(), "ServiceMonitor does not select the Service")
    npol = one("NetworkPolicy", fullname)
    nps = npol.get("spec", {})
    check(nps.get("podSelector", {}).get("matchLabels") == sel, "NetworkPolicy podSelector")
    check(nps.get("egress") == [{}], f"NetworkPolicy egress {nps.get('egress')}")
    ing = {p["port"]: rule["from"] for rule in nps.get("ingress", []) for p in rule.get("ports", [])}
    check(ing.get("http-prom") == [{"namespaceSelector": {}}], f"NetworkPolicy http-prom {ing}")
    if chart == "source-controller":
        check(ing.get("http") == [{"podSelector": {}}], f"NetworkPolicy http {ing}")
    else:
        check("http" not in ing, "NetworkPolicy opens http")

if errors:
    print(f"{chart}/{variant}:")
    for e in errors:
        print(f"  - {e}")
    sys.exit(1)
print(f"{chart}/{variant}: ok ({', '.join(f'{n} {k}' for k, n in sorted(objs))})")
PY

render() { # chart variant release check-args... -- helm-args...
  local chart=$1 variant=$2 release=$3; shift 3
  local check=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do check+=("$1"); shift; done
  shift
  local out="$TMP/$chart-$variant.yaml"
  "$HELM" template "$release" "$ROOT/charts/$chart" --namespace "$NS" --kube-version "$KUBE_VERSION" "$@" \
    >"$out" 2>"$out.err" || { cat "$out.err" >&2; fail "helm template $chart ($variant) failed"; }
  "$PY" "$TMP/check.py" "$chart" "$variant" "$release" "$NS" "$out" "${check[@]}" >&2 ||
    fail "rendered $chart ($variant) is wrong (manifest: see above)"
}

for chart in "${CHARTS[@]}"; do
  dir="$ROOT/charts/$chart"
  "$HELM" lint --strict "$dir" --kube-version "$KUBE_VERSION" >"$TMP/lint.out" 2>&1 ||
    { cat "$TMP/lint.out" >&2; fail "helm lint --strict $chart failed"; }
  "$HELM" lint --strict "$dir" --kube-version "$KUBE_VERSION" "${LOCKED[@]}" >"$TMP/lint.out" 2>&1 ||
    { cat "$TMP/lint.out" >&2; fail "helm lint --strict $chart (locked-down values) failed"; }
  log "$chart: helm lint --strict ok"
  "$HELM" package "$dir" -d "$TMP/packages" >/dev/null || fail "helm package $chart failed"
  tar -tzf "$TMP/packages/$chart-0.1.0.tgz" >"$TMP/package.list" || fail "cannot list the $chart package"
  grep -qx "$chart/templates/deployment.yaml" "$TMP/package.list" ||
    fail "packaged $chart lacks templates/deployment.yaml"

  # values.schema.json rejects values that would render a broken flag.
  for bad in logLevel=verbose watchAllNamespaces=yes replicas=-1; do
    if "$HELM" template "$chart" "$dir" --kube-version "$KUBE_VERSION" --set "$bad" >/dev/null 2>&1; then
      fail "$chart: values.schema.json accepts $bad"
    fi
  done
  render "$chart" default "$chart" --
  render "$chart" locked "$chart" -- "${LOCKED[@]}"
  # Release-scoped names, and the values that change args, names and the image.
  svc=$([[ $chart == source-controller ]] && echo source-controller || echo "flux-$chart")
  render "$chart" custom flux \
    watch=false loglevel=debug events=http://nc.flux-system.svc.cluster.local./ \
    extraargs=--concurrent=8,--requeue-dependency=5s replicas=2 \
    image="registry.example/ff/$chart:v9" svc="$svc" -- \
    --set watchAllNamespaces=false --set logLevel=debug \
    --set eventsAddr=http://nc.flux-system.svc.cluster.local./ \
    --set 'extraArgs={--concurrent=8,--requeue-dependency=5s}' --set replicas=2 \
    --set image.repository="registry.example/ff/$chart" --set image.tag=v9
  render "$chart" locked-custom-names flux sa=ff-sa svc=ff-svc -- \
    "${LOCKED[@]}" --set serviceAccount.name=ff-sa --set service.name=ff-svc
  render "$chart" no-sa "$chart" sa=existing sa_create=false -- \
    --set serviceAccount.create=false --set serviceAccount.name=existing
  # Nothing may render without values the chart relies on: an empty crds/ and no --set.
  shopt -s nullglob
  crds=("$dir"/crds/*.yaml "$dir"/crds/*.yml "$dir"/crds/*.json)
  shopt -u nullglob
  if [[ ${#crds[@]} -gt 0 ]]; then
    "$HELM" show crds "$dir" >"$TMP/$chart-crds.yaml" || fail "helm show crds $chart failed"
    "$PY" "$TMP/check.py" "$chart" crds "$chart" "$NS" "$TMP/$chart-crds.yaml" >&2 ||
      fail "charts/$chart/crds holds something other than CustomResourceDefinitions"
    "$HELM" template "$chart" "$dir" --namespace "$NS" --kube-version "$KUBE_VERSION" --include-crds \
      >/dev/null || fail "helm template --include-crds $chart failed"
  else
    log "$chart: crds/ is empty (make crds fills it); skipped the CRD checks"
  fi
done
log "offline checks passed"

[[ $INSTALL == 1 ]] || exit 0

# ---------------------------------------------------------------------------------------
# --install: the charts against a real API server (schema validation, RBAC escalation rules).
[[ -n "${KUBECONFIG:-}" && -f "${KUBECONFIG%%:*}" ]] || fail "--install needs KUBECONFIG pointing at a cluster"
KUBECTL="${KUBECTL:-$ROOT/.cache/bin/kubectl}"
[[ -x "$KUBECTL" ]] || KUBECTL="$(command -v kubectl || true)"
[[ -n "$KUBECTL" && -x "$KUBECTL" ]] || fail "kubectl not found (build it with hack/tools.sh kubectl, or set KUBECTL)"
"$KUBECTL" get --raw /readyz >/dev/null 2>&1 || fail "cannot reach the cluster of KUBECONFIG=$KUBECONFIG"
k() { "$KUBECTL" "$@"; }

# hack/tools.sh stamps the Kubernetes version into its builds; an unstamped API server would
# fail every chart's kubeVersion constraint, so say so plainly instead of working around it.
CHART_DIR="$ROOT/charts"
server_version="$(k get --raw /version | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["gitVersion"])')"
[[ "$server_version" =~ ^v[1-9][0-9]*\.[0-9]+\.[0-9]+ ]] ||
  fail "the API server reports version $server_version: rebuild it with hack/tools.sh (version stamps)"

installed=()
created_ns=0
cleanup() {
  for c in "${installed[@]}"; do "$HELM" uninstall "$c" -n "$NS" >/dev/null 2>&1 || true; done
  if [[ $created_ns == 1 ]]; then k delete namespace "$NS" --wait=false >/dev/null 2>&1 || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# A namespace this script creates enforces the "restricted" Pod Security Standard, so the
# rollout below proves the pod template passes it. An existing namespace is used as it is.
if ! k get namespace "$NS" >/dev/null 2>&1; then
  k create namespace "$NS" >/dev/null || fail "cannot create namespace $NS"
  created_ns=1
  k label namespace "$NS" pod-security.kubernetes.io/enforce=restricted >/dev/null ||
    fail "cannot label namespace $NS"
fi

release_status() {
  "$HELM" status "$1" -n "$NS" -o json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["info"]["status"])'
}
svc_of() { [[ $1 == source-controller ]] && echo source-controller || echo "$1"; }

for chart in "${CHARTS[@]}"; do
  if "$HELM" status "$chart" -n "$NS" >/dev/null 2>&1; then
    fail "a release $chart already exists in $NS; uninstall it or set CHARTS_NAMESPACE"
  fi
  "$HELM" install "$chart" "$CHART_DIR/$chart" -n "$NS" --create-namespace --wait=false >/dev/null ||
    fail "helm install $chart failed"
  installed+=("$chart")
  [[ "$(release_status "$chart")" == deployed ]] || fail "release $chart is not deployed: $(release_status "$chart")"
  k -n "$NS" get "deployment/$chart" "serviceaccount/$chart" "service/$(svc_of "$chart")" \
    "role/$chart-leader-election" "rolebinding/$chart-leader-election" >/dev/null ||
    fail "$chart: namespaced objects missing after install"
  k get "clusterrole/$chart-$NS" "clusterrolebinding/$chart-$NS" >/dev/null ||
    fail "$chart: ClusterRole/ClusterRoleBinding missing after install"
  if [[ $chart != source-controller ]]; then
    k get "clusterrolebinding/$chart-$NS-cluster-admin" >/dev/null || fail "$chart: cluster-admin binding missing"
  fi
  args="$(k -n "$NS" get "deployment/$chart" -o jsonpath='{.spec.template.spec.containers[0].args}')"
  [[ "$args" == *"--metrics-addr=:8080"* ]] || fail "$chart: args on the server: $args"
  if [[ $chart == source-controller ]]; then
    # shellcheck disable=SC2016 # $(RUNTIME_NAMESPACE) is expanded by the kubelet, not here
    [[ "$args" == *'--storage-adv-addr=source-controller.$(RUNTIME_NAMESPACE).svc.cluster.local.'* ]] ||
      fail "$chart: --storage-adv-addr on the server: $args"
  fi
  log "$chart: installed into $NS"
done

# The pods must come up: on the local control plane kwok makes them Running/Ready without
# pulling the image. Set CHARTS_ROLLOUT_TIMEOUT=0 to skip (e.g. a real cluster without images).
ROLLOUT_TIMEOUT="${CHARTS_ROLLOUT_TIMEOUT:-90}"
if [[ "$ROLLOUT_TIMEOUT" != 0 ]]; then
  for chart in "${CHARTS[@]}"; do
    k -n "$NS" rollout status "deployment/$chart" --timeout="${ROLLOUT_TIMEOUT}s" >/dev/null || {
      k -n "$NS" get events --field-selector involvedObject.kind=ReplicaSet -o wide >&2 || true
      fail "$chart: deployment did not become available within ${ROLLOUT_TIMEOUT}s"
    }
    log "$chart: deployment rolled out"
  done
fi

# The locked-down variant, as an upgrade (the ServiceMonitor only if its CRD is served).
for chart in "${CHARTS[@]}"; do
  set_args=(--set networkPolicy.enabled=true --set rbac.clusterAdmin=false)
  if k get crd servicemonitors.monitoring.coreos.com >/dev/null 2>&1; then
    set_args+=(--set serviceMonitor.enabled=true)
  fi
  "$HELM" upgrade "$chart" "$CHART_DIR/$chart" -n "$NS" --wait=false "${set_args[@]}" >/dev/null ||
    fail "helm upgrade $chart (locked-down values) failed"
  [[ "$(release_status "$chart")" == deployed ]] || fail "release $chart is not deployed after upgrade"
  k -n "$NS" get "networkpolicy/$chart" >/dev/null || fail "$chart: NetworkPolicy missing after upgrade"
  if k get "clusterrolebinding/$chart-$NS-cluster-admin" >/dev/null 2>&1; then
    fail "$chart: cluster-admin binding still present with rbac.clusterAdmin=false"
  fi
  log "$chart: upgraded to the locked-down values"
done

for chart in "${CHARTS[@]}"; do
  "$HELM" uninstall "$chart" -n "$NS" >/dev/null || fail "helm uninstall $chart failed"
  if k get "clusterrole/$chart-$NS" >/dev/null 2>&1; then
    fail "$chart: ClusterRole left behind by helm uninstall"
  fi
  log "$chart: uninstalled"
done
installed=()
log "install checks passed"
