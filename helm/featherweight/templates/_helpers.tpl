{{- define "featherweight.labels" -}}
app.kubernetes.io/part-of: featherweight
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}
{{- define "featherweight.secretName" -}}
{{- if .Values.existingSecret -}}{{ .Values.existingSecret }}{{- else -}}{{ .Release.Name }}-featherweight{{- end -}}
{{- end -}}
