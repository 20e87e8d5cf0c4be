#!/usr/bin/env bash
# Builds the real receivers kaudit's forward end-to-end tests send to, into
# $KAUDIT_RECEIVERS_BIN (default ~/.cache/kaudit-receivers/bin), outside the
# repository; a binary whose sources did not change is not rebuilt.
#   otelcol-kaudit  an OpenTelemetry Collector (OTLP receiver + file exporter),
#                   collector v0.161.0 / pdata v1.67.0 / contrib fileexporter v0.161.0
#                   (the newest release the module proxy serves for all of them)
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
