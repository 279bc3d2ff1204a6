#!/usr/bin/env bash
# Regenerate crates/kustomize/src/schema/merge_keys.json: the strategic-merge-patch table of the
# built-in Kubernetes types (patch strategy and merge key of every list field, and which
# definition each field of a definition refers to), read from the OpenAPI v2 document served by
# the local control plane. The kustomize engine embeds the committed file, so builds never need a
# cluster; rerun this after bumping Kubernetes in hack/versions.env.
#
#   hack/gen-merge-keys.sh            start a private control plane instance, read, stop it
#   OPENAPI_FILE=swagger.json hack/gen-merge-keys.sh   use a saved /openapi/v2 document instead
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/crates/kustomize/src/schema/merge_keys.json"
WORK="$(mktemp -d)"
export CLUSTER_NAME="${CLUSTER_NAME:-merge-keys}"
started=""
cleanup() {
  if [[ -n "$started" ]]; then "$ROOT/hack/cluster.sh" down >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if [[ -n "${OPENAPI_FILE:-}" ]]; then
  cp "$OPENAPI_FILE" "$WORK/openapi.json"
else
  if ! "$ROOT/hack/cluster.sh" status >/dev/null 2>&1; then
    started=1
    "$ROOT/hack/cluster.sh" up >/dev/null
  fi
  "$ROOT/.cache/bin/kubectl" --kubeconfig "$ROOT/.cache/clusters/$CLUSTER_NAME/kubeconfig" \
    get --raw /openapi/v2 >"$WORK/openapi.json"
fi

python3 - "$WORK/openapi.json" "$OUT" <<'PY'
import json, sys

doc = json.load(open(sys.argv[1]))
defs = doc["definitions"]

def ref_name(s):
    r = s.get("$ref")
    if not r and len(s.get("allOf", [])) == 1:
        r = s["allOf"][0].get("$ref")
    return r.rsplit("/", 1)[-1] if r else None

out_defs = {}
for name, d in defs.items():
    fields = {}
    for f, s in d.get("properties", {}).items():
        e = {}
        r = ref_name(s)
        if r:
            e["ref"] = r
        elif s.get("type") == "array":
            e["list"] = True
            items = s.get("items", {})
            ir = ref_name(items)
            if ir:
                e["items"] = ir
            if "x-kubernetes-patch-strategy" in s:
                e["strategy"] = s["x-kubernetes-patch-strategy"]
            if "x-kubernetes-patch-merge-key" in s:
                e["key"] = s["x-kubernetes-patch-merge-key"]
            if "x-kubernetes-list-type" in s:
                e["listType"] = s["x-kubernetes-list-type"]
            if "x-kubernetes-list-map-keys" in s:
                e["listMapKeys"] = s["x-kubernetes-list-map-keys"]
        elif s.get("type") == "object" and isinstance(s.get("additionalProperties"), dict):
            ar = ref_name(s["additionalProperties"])
            if ar:
                e["values"] = ar
            if "x-kubernetes-patch-strategy" in s:
                e["strategy"] = s["x-kubernetes-patch-strategy"]
        elif "x-kubernetes-patch-strategy" in s:
            e["strategy"] = s["x-kubernetes-patch-strategy"]
        if e:
            fields[f] = e
    if fields:
        out_defs[name] = fields

gvks = {}
for name, d in defs.items():
    for g in d.get("x-kubernetes-group-version-kind", []):
        key = "/".join([g["group"], g["version"], g["kind"]])
        # Prefer the definition from the type's own package over re-exports.
        if key not in gvks or name.startswith("io.k8s.api."):
            gvks[key] = name

# Keep only definitions reachable from a kind, so the table stays small.
keep, todo = set(), list(gvks.values())
while todo:
    n = todo.pop()
    if n in keep:
        continue
    keep.add(n)
    for e in out_defs.get(n, {}).values():
        for k in ("ref", "items", "values"):
            if k in e:
                todo.append(e[k])

table = {
    "source": "Kubernetes " + doc.get("info", {}).get("version", "?") + " /openapi/v2",
    "gvks": dict(sorted(gvks.items())),
    "definitions": {n: out_defs[n] for n in sorted(out_defs) if n in keep},
}
with open(sys.argv[2], "w") as f:
    json.dump(table, f, indent=0, sort_keys=False, separators=(",", ":"))
    f.write("\n")
print(f"wrote {sys.argv[2]}: {len(gvks)} kinds, {len(table['definitions'])} definitions")
PY
