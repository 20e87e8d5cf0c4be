#!/usr/bin/env bash
# Builds the real receivers kaudit's forward end-to-end tests send to, into
# $KAUDIT_RECEIVERS_BIN (default ~/.cache/kaudit-receivers/bin), outside the
# repository; a binary whose sources did not change is not rebuilt.
#   otelcol-kaudit  an OpenTelemetry Collector (OTLP receiver + file exporter),
#                   collector v0.161.0 / pdata v1.67.0 / contrib fileexporter v0.161.0
#                   (the newest release the module proxy serves for all of them)
#   victoria-logs   VictoriaLogs v1.52.1 (app/victoria-logs), built from its Go module in a
#                   throw-away module directory outside the repository
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${KAUDIT_RECEIVERS_BIN:-$HOME/.cache/kaudit-receivers/bin}"
export PATH="/usr/local/go/bin:$PATH"
mkdir -p "$bin"

# otelcol-kaudit: rebuilt when its main, go.mod or go.sum changed.
stamp=$(cat "$here/otelcol/main.go" "$here/otelcol/go.mod" "$here/otelcol/go.sum" | sha256sum | cut -c1-16)
if [ "$(cat "$bin/otelcol-kaudit.stamp" 2>/dev/null)" != "$stamp" ] || [ ! -x "$bin/otelcol-kaudit" ]; then
	echo "building otelcol-kaudit into $bin (a few minutes the first time)"
	(cd "$here/otelcol" && go build -trimpath -o "$bin/otelcol-kaudit.tmp" . && mv "$bin/otelcol-kaudit.tmp" "$bin/otelcol-kaudit")
	echo "$stamp" >"$bin/otelcol-kaudit.stamp"
fi
"$bin/otelcol-kaudit" --version

# victoria-logs: rebuilt when the version changes.
vl=v1.52.1
if [ "$(cat "$bin/victoria-logs.stamp" 2>/dev/null)" != "$vl" ] || [ ! -x "$bin/victoria-logs" ]; then
	echo "building victoria-logs $vl into $bin (a few minutes the first time)"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(
		cd "$tmp"
		go mod init kaudit-receivers/victorialogs >/dev/null 2>&1
		go get "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$vl"
		go build -trimpath -o "$bin/victoria-logs.tmp" github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs
	)
	mv "$bin/victoria-logs.tmp" "$bin/victoria-logs"
	echo "$vl" >"$bin/victoria-logs.stamp"
fi
"$bin/victoria-logs" -version
