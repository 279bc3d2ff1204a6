{{/*
Helpers shared verbatim by the ferroflux controller charts (source-controller,
kustomize-controller, helm-controller). Every definition reads only the context it is
given, so identical copies in several charts of one umbrella chart do not conflict.
Keep the three copies identical; hack/charts-test.sh checks that they are.
*/}}

{{/* Chart name, overridable with nameOverride. */}}
{{- define "ferroflux.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Release-scoped name of the namespaced objects. `helm install source-controller ...` gives
"source-controller"; `helm install flux ...` gives "flux-source-controller".
*/}}
{{- define "ferroflux.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Name of the cluster-scoped objects (ClusterRole, ClusterRoleBinding): the fullname suffixed
with the release namespace, as Flux does (crd-controller-flux-system), so that installs in
two namespaces do not fight over one object.
*/}}
{{- define "ferroflux.clusterName" -}}
{{- printf "%s-%s" (include "ferroflux.fullname" .) .Release.Namespace }}
{{- end }}

{{- define "ferroflux.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select the controller's pods. Part of every object's labels. */}}
{{- define "ferroflux.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ferroflux.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app: {{ include "ferroflux.name" . }}
{{- end }}

{{/* Labels of every object: the recommended app.kubernetes.io/* set plus Flux's own. */}}
{{- define "ferroflux.labels" -}}
helm.sh/chart: {{ include "ferroflux.chart" . }}
{{ include "ferroflux.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: controller
app.kubernetes.io/part-of: ferroflux
app.kubernetes.io/managed-by: {{ .Release.Service }}
control-plane: controller
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The ServiceAccount the controller runs as. */}}
{{- define "ferroflux.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ferroflux.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository:tag, or repository@digest when image.digest is set. */}}
{{- define "ferroflux.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}
{{- end }}

{{/*
The args every controller takes, built as Flux's manifests build them. The ports are fixed:
Services, probes, the ServiceMonitor and the NetworkPolicy refer to them by name.
*/}}
{{- define "ferroflux.commonArgs" -}}
{{- with .Values.eventsAddr }}
- --events-addr={{ . }}
{{- end }}
- --watch-all-namespaces={{ .Values.watchAllNamespaces }}
- --log-level={{ .Values.logLevel }}
- --log-encoding=json
- --enable-leader-election
- --metrics-addr=:8080
- --health-addr=:9440
{{- end }}

{{/* RUNTIME_NAMESPACE (leader election, --storage-adv-addr) followed by extraEnv. */}}
{{- define "ferroflux.env" -}}
- name: RUNTIME_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}
