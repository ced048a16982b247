{{- /* Names, labels and the tracee argument list shared by the templates. */ -}}

{{- define "tracee-ts.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tracee-ts.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "tracee-ts.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tracee-ts.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tracee-ts.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tracee-ts.labels" -}}
helm.sh/chart: {{ include "tracee-ts.chart" . }}
{{ include "tracee-ts.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tracee-ts
{{- end -}}

{{- define "tracee-ts.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tracee-ts.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "tracee-ts.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- /*
The tracee flags, one argument a line: the ConfigMap's tracee.args, which the image's
entrypoint reads (TRACEE_ARGS_FILE) and puts before the container's own arguments.
*/ -}}
{{- define "tracee-ts.args" -}}
{{- if and .Values.webhook.enabled .Values.falcosidekick.enabled -}}
{{- fail "webhook.enabled and falcosidekick.enabled: enable one of them (tracee-ts delivers to one webhook)" -}}
{{- end -}}
--output
{{ required "tracee.output is required (json or table)" .Values.tracee.output }}
{{- range .Values.tracee.rules }}
--rules
{{ . }}
{{- end }}
{{- with .Values.tracee.buffers }}
--buffers
{{ . }}
{{- end }}
{{- if .Values.metrics.enabled }}
--metrics
--metrics-addr
:{{ .Values.metrics.port }}
{{- end }}
{{- if .Values.policies }}
{{ .Values.policyFlag }}
/tracee-ts/config/policies
{{- end }}
{{- if .Values.webhook.enabled }}
--webhook
{{ required "webhook.url is required when webhook.enabled" .Values.webhook.url }}
--webhook-template
{{ if .Values.webhook.templateContent }}/tracee-ts/config/webhook.tmpl{{ else }}{{ required "webhook.template or webhook.templateContent is required when webhook.enabled" .Values.webhook.template }}{{ end }}
--webhook-content-type
{{ .Values.webhook.contentType }}
{{- end }}
{{- if .Values.falcosidekick.enabled }}
--webhook
{{ required "falcosidekick.url is required when falcosidekick.enabled" .Values.falcosidekick.url }}
--webhook-template
/tracee-ts/templates/falcosidekick.tmpl
--webhook-content-type
application/json
{{- end }}
{{- range .Values.tracee.extraArgs }}
{{ . }}
{{- end }}
{{- end -}}

{{- define "tracee-ts.extraRulesDirs" -}}
{{- $dirs := list -}}
{{- range .Values.extraRules.configMaps -}}
{{- $dirs = append $dirs (printf "/tracee-ts/rules.d/%s" .) -}}
{{- end -}}
{{- if .Values.extraRules.initContainers -}}
{{- $dirs = append $dirs "/tracee-ts/rules.d/init" -}}
{{- end -}}
{{- join ":" $dirs -}}
{{- end -}}
