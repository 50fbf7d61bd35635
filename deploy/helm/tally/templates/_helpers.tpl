{{/* Names and labels shared by every template. */}}
{{- define "tally.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tally.baseLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: tally
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{- define "tally.labels" -}}
{{ include "tally.baseLabels" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tally.selectorLabels" -}}
app.kubernetes.io/name: tally
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .app }}
{{- end -}}

{{- define "tally.secretName" -}}
{{- if .Values.clickhouse.existingSecret -}}
{{- .Values.clickhouse.existingSecret -}}
{{- else -}}
{{- printf "%s-clickhouse" (include "tally.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/*
The services: app name (image and component), values key, the environment variables that set its
public port and interface (none for the billing worker, which has no public API), and the one that
sets its internal port (/metrics, detailed /health; docs/operations.md#internal-port).
*/}}
{{- define "tally.apps" -}}
gateway: { key: gateway, portEnv: GATEWAY_PORT, hostEnv: GATEWAY_HOST, internalPortEnv: GATEWAY_INTERNAL_PORT }
query: { key: query, portEnv: QUERY_PORT, hostEnv: QUERY_HOST, internalPortEnv: QUERY_INTERNAL_PORT }
writer: { key: writer, portEnv: WRITER_PORT, hostEnv: WRITER_HOST, internalPortEnv: WRITER_INTERNAL_PORT }
billing-worker: { key: billingWorker, portEnv: '', hostEnv: '', internalPortEnv: BILLING_WORKER_INTERNAL_PORT }
{{- end -}}

{{- define "tally.natsSecretName" -}}
{{- if .Values.nats.existingSecret -}}
{{- .Values.nats.existingSecret -}}
{{- else -}}
{{- printf "%s-nats" (include "tally.fullname" .) -}}
{{- end -}}
{{- end -}}
