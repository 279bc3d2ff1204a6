#!/usr/bin/env bash
# `make bench`: chart rendering, reference `helm template` vs `ferroflux template` (release
# build), whole processes measured in the same run: wall time and peak RSS (/usr/bin/time).
#   1. every chart of the shared corpus (default values, --kube-version 1.33.0), each rendered
#      BENCH_REPEAT times (default 5); totals over the charts both tools render, with and
#      without the charts dominated by RSA key generation (bitnami/etcd, bitnami/nginx);
#   2. a synthetic umbrella chart with 50 subcharts (generated here);
#   3. a `tpl`-heavy bitnami chart (keycloak: common.tplvalues.render everywhere, plus the
#      postgresql subchart).
# Prints numbers and ratios; asserts nothing. No cluster needed.
#
# Environment: BENCH_SKIP_BUILD=1 uses the existing target/release/ferroflux;
# BENCH_FERROFLUX=<path> measures another binary; BENCH_REPEAT=N.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
HELM="$ROOT/.cache/bin/helm"
OURS="${BENCH_FERROFLUX:-$ROOT/target/release/ferroflux}"
CORPUS="${FERROFLUX_SHARED:-$ROOT/../shared}/corpus/charts"
REPEAT="${BENCH_REPEAT:-5}"
KUBE_VERSION=1.33.0

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

[[ -x "$HELM" ]] || die "$HELM missing (make tools)"
[[ -d "$CORPUS" ]] || die "corpus missing at $CORPUS (set FERROFLUX_SHARED)"
if [[ "${BENCH_SKIP_BUILD:-}" != 1 && -z "${BENCH_FERROFLUX:-}" ]]; then
  log "cargo build --release -p ferroflux-cli"
  cargo build --release -q -p ferroflux-cli
fi
[[ -x "$OURS" ]] || die "$OURS missing (cargo build --release -p ferroflux-cli)"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/ferroflux-bench-helm.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
# helm reads no user config, repositories or kubeconfig here.
export HELM_CACHE_HOME="$TMP/helm-cache" HELM_CONFIG_HOME="$TMP/helm-config" \
  HELM_DATA_HOME="$TMP/helm-data" KUBECONFIG="$TMP/no-kubeconfig"

# run_n N TOOL CHART [ARGS...]: renders N times; prints "<wall seconds> <CPU seconds> <peak RSS
# KiB>" (totals over the runs; CPU = user + system of the whole timed loop, children included),
# or "fail" when any run fails. The timed loop runs the tool and nothing else (bash's `time`
# on a subshell: one fork per chart, none per run); a separate untimed run reads the peak RSS,
# so neither /usr/bin/time nor the arithmetic here lands in the figures.
run_n() {
  local n="$1" tool="$2" chart="$3"; shift 3
  local bin times rss
  if [[ "$tool" == helm ]]; then bin=("$HELM" template); else bin=("$OURS" template); fi
  times="$( { TIMEFORMAT='%3R %3U %3S'; time (
    for ((i = 0; i < n; i++)); do
      "${bin[@]}" bench "$chart" --namespace bench --kube-version "$KUBE_VERSION" "$@" \
        >"$TMP/out-$tool" 2>"$TMP/err-$tool" || exit 1
    done
  ) ; } 2>&1 )" || { echo fail; return 0; }
  /usr/bin/time -f '%M' -o "$TMP/rss" "${bin[@]}" bench "$chart" --namespace bench \
    --kube-version "$KUBE_VERSION" "$@" >/dev/null 2>&1 || { echo fail; return 0; }
  rss="$(tail -n 1 "$TMP/rss")"
  awk -v t="$times" -v r="$rss" 'BEGIN { split(t, a, " "); printf "%.4f %.4f %d\n", a[1], a[2] + a[3], r }'
}

row() { # NAME HELM_S HELM_CPU HELM_KIB OURS_S OURS_CPU OURS_KIB
  awk -v n="$1" -v hs="$2" -v hc="$3" -v hk="$4" -v os="$5" -v oc="$6" -v ok="$7" -v r="$REPEAT" 'BEGIN {
    printf "%-46s %8.1f %8.1f %7.1fx %8.1f %8.1f %7.1fx %8.1f %8.1f %6.2fx\n", n,
      hs * 1000 / r, os * 1000 / r, (os > 0 ? hs / os : 0),
      hc * 1000 / r, oc * 1000 / r, (oc > 0 ? hc / oc : 0),
      hk / 1024, ok / 1024, (hk > 0 ? ok / hk : 0) }'
}

header() {
  printf '%-46s %8s %8s %8s %8s %8s %8s %8s %8s %7s\n' "$1" "helm ms" "ours ms" "speedup" \
    "helm cpu" "ours cpu" "cpu" "helm MiB" "ours MiB" "RSS"
}

# --- 1. corpus -----------------------------------------------------------------------------
charts=()
while IFS= read -r c; do charts+=("$(dirname "$c")"); done < <(
  find "$CORPUS" -mindepth 2 -maxdepth 3 -name Chart.yaml -not -path '*/charts/*/charts/*' | sort)
# Charts whose render time is dominated by RSA key generation (Sprig's genPrivateKey / genCA /
# genSignedCert: three 4096-bit keys per etcd render, two 2048-bit keys per nginx render); the
# corpus total is also printed without them.
KEYGEN_CHARTS=" bitnami/etcd bitnami/nginx "
echo "Load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Rendering the corpus charts ($REPEAT runs each, per-run averages):"
header chart
tot_hs=0 tot_os=0 tot_hc=0 tot_oc=0 peak_h=0 peak_o=0 both=0 skipped=()
kg_hs=0 kg_os=0 kg_hc=0 kg_oc=0 kg_n=0
for c in "${charts[@]}"; do
  name="${c#"$CORPUS"/}"
  read -r hs hc hk <<<"$(run_n "$REPEAT" helm "$c")"
  if [[ "$hs" == fail ]]; then skipped+=("$name (helm fails)"); continue; fi
  read -r os oc ok <<<"$(run_n "$REPEAT" ours "$c")"
  if [[ "$os" == fail ]]; then
    skipped+=("$name (ours fails: $(head -c 160 "$TMP/err-ours" | tr '\n' ' '))"); continue
  fi
  row "$name" "$hs" "$hc" "$hk" "$os" "$oc" "$ok"
  tot_hs=$(awk -v a="$tot_hs" -v b="$hs" 'BEGIN { print a + b }')
  tot_os=$(awk -v a="$tot_os" -v b="$os" 'BEGIN { print a + b }')
  tot_hc=$(awk -v a="$tot_hc" -v b="$hc" 'BEGIN { print a + b }')
  tot_oc=$(awk -v a="$tot_oc" -v b="$oc" 'BEGIN { print a + b }')
  ((hk > peak_h)) && peak_h=$hk
  ((ok > peak_o)) && peak_o=$ok
  both=$((both + 1))
  if [[ "$KEYGEN_CHARTS" == *" $name "* ]]; then
    kg_hs=$(awk -v a="$kg_hs" -v b="$hs" 'BEGIN { print a + b }')
    kg_os=$(awk -v a="$kg_os" -v b="$os" 'BEGIN { print a + b }')
    kg_hc=$(awk -v a="$kg_hc" -v b="$hc" 'BEGIN { print a + b }')
    kg_oc=$(awk -v a="$kg_oc" -v b="$oc" 'BEGIN { print a + b }')
    kg_n=$((kg_n + 1))
  fi
done
awk -v hs="$tot_hs" -v os="$tot_os" -v hc="$tot_hc" -v oc="$tot_oc" -v hk="$peak_h" -v ok="$peak_o" \
  -v n="$both" -v r="$REPEAT" 'BEGIN {
  printf "TOTAL over %d charts x %d runs: wall helm %.2f s, ours %.2f s (%.1fx); CPU helm %.2f s, ours %.2f s (%.1fx); peak RSS helm %.1f MiB, ours %.1f MiB (%.2fx)\n",
    n, r, hs, os, (os > 0 ? hs / os : 0), hc, oc, (oc > 0 ? hc / oc : 0), hk / 1024, ok / 1024, (hk > 0 ? ok / hk : 0) }'
awk -v hs="$tot_hs" -v os="$tot_os" -v hc="$tot_hc" -v oc="$tot_oc" -v khs="$kg_hs" -v kos="$kg_os" \
  -v khc="$kg_hc" -v koc="$kg_oc" -v n="$((both - kg_n))" -v r="$REPEAT" 'BEGIN {
  hs -= khs; os -= kos; hc -= khc; oc -= koc
  printf "TOTAL without the RSA key-generation charts (%d charts x %d runs): wall helm %.2f s, ours %.2f s (%.1fx); CPU helm %.2f s, ours %.2f s (%.1fx)\n",
    n, r, hs, os, (os > 0 ? hs / os : 0), hc, oc, (oc > 0 ? hc / oc : 0) }'
for s in "${skipped[@]}"; do echo "  skipped: $s"; done
echo "Load average after the corpus: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# --- 2. synthetic umbrella chart with 50 subcharts ---------------------------------------
U="$TMP/umbrella"
mkdir -p "$U/templates" "$U/charts"
{
  echo "apiVersion: v2"; echo "name: umbrella"; echo "version: 1.0.0"; echo "dependencies:"
  for i in $(seq -w 1 50); do
    printf -- '- name: svc%s\n  version: 1.0.0\n  condition: svc%s.enabled\n' "$i" "$i"
  done
} >"$U/Chart.yaml"
printf 'global:\n  imageRegistry: registry.example.com\n  labels:\n    team: platform\n' >"$U/values.yaml"
cat >"$U/templates/_helpers.tpl" <<'TPL'
{{- define "umbrella.labels" -}}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | trunc 63 | trimSuffix "-" }}
{{- range $k, $v := .Values.global.labels }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end -}}
TPL
for i in $(seq -w 1 50); do
  S="$U/charts/svc$i"
  mkdir -p "$S/templates"
  printf 'apiVersion: v2\nname: svc%s\nversion: 1.0.0\nappVersion: "2.%s.0"\n' "$i" "$i" >"$S/Chart.yaml"
  cat >"$S/values.yaml" <<VALS
enabled: true
replicaCount: 2
image:
  repository: example/svc$i
  tag: ""
service:
  port: 80$i
env:
  LOG_LEVEL: info
  GREETING: "hello from {{ .Release.Name }}"
resources:
  limits: {cpu: 500m, memory: 256Mi}
  requests: {cpu: 100m, memory: 128Mi}
config:
  feature_a: true
  feature_b: false
  endpoints: [a, b, c]
VALS
  cat >"$S/templates/all.yaml" <<'TPL'
{{- $full := printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $full }}
  labels:
    {{- include "umbrella.labels" . | nindent 4 }}
data:
  config.yaml: |
    {{- toYaml .Values.config | nindent 4 }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $full }}
  labels:
    {{- include "umbrella.labels" . | nindent 4 }}
spec:
  ports:
    - port: {{ .Values.service.port }}
      targetPort: http
  selector:
    app: {{ $full }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $full }}
  labels:
    {{- include "umbrella.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      app: {{ $full }}
  template:
    metadata:
      labels:
        app: {{ $full }}
      annotations:
        checksum/config: {{ toYaml .Values.config | sha256sum }}
    spec:
      containers:
        - name: app
          image: "{{ .Values.global.imageRegistry }}/{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          env:
            {{- range $k, $v := .Values.env }}
            - name: {{ $k }}
              value: {{ tpl $v $ | quote }}
            {{- end }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
TPL
done
echo "Synthetic umbrella chart (50 subcharts, $REPEAT runs, per-run averages):"
header scenario
read -r hs hc hk <<<"$(run_n "$REPEAT" helm "$U")"
read -r os oc ok <<<"$(run_n "$REPEAT" ours "$U")"
if [[ "$hs" == fail || "$os" == fail ]]; then
  echo "umbrella: a tool failed"; cat "$TMP/err-helm" "$TMP/err-ours" | head -5
else
  row "umbrella-50" "$hs" "$hc" "$hk" "$os" "$oc" "$ok"
fi
echo

# --- 3. tpl-heavy bitnami chart ------------------------------------------------------------
K="$CORPUS/bitnami/keycloak"
echo "tpl-heavy bitnami chart ($REPEAT runs, per-run averages):"
header scenario
read -r hs hc hk <<<"$(run_n "$REPEAT" helm "$K")"
read -r os oc ok <<<"$(run_n "$REPEAT" ours "$K")"
if [[ "$hs" == fail || "$os" == fail ]]; then
  echo "bitnami/keycloak: a tool failed: $(head -c 200 "$TMP/err-ours" | tr '\n' ' ')"
else
  row "bitnami/keycloak" "$hs" "$hc" "$hk" "$os" "$oc" "$ok"
fi
