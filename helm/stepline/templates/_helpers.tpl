{{/* The name prefix: the release name, with "-stepline" unless it already says stepline. */}}
{{- define "stepline.prefix" -}}
{{- if contains "stepline" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-stepline" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "stepline.fullname" -}}
{{- printf "%s-controller" (include "stepline.prefix" .) -}}
{{- end -}}

{{- define "stepline.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "stepline.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "stepline.selectorLabels" -}}
app.kubernetes.io/name: stepline
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "stepline.labels" -}}
{{ include "stepline.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
