{{/*
Name of the artifact Service. Flux's consumers and the advertised artifact URLs use
"source-controller", so it is not release-scoped unless service.name says so.
*/}}
{{- define "source-controller.serviceName" -}}
{{- .Values.service.name | default "source-controller" }}
{{- end }}
