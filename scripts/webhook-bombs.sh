#!/usr/bin/env bash
# webhook-bombs.sh KAUDIT [N] — peak RSS of `kaudit serve` under N (20)
# concurrent authenticated gzip bombs of 1 GiB each (about 1 MB on the wire).
# Prints the answers' status codes and the server's VmHWM. Listens on
# 127.0.0.1 only; stops only the server it started.
set -euo pipefail
bin=$(realpath "$1"); n=${2:-20}
tmp=$(mktemp -d); trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
echo secret-token >"$tmp/tok"
head -c 1G /dev/zero | gzip -9 >"$tmp/bomb.gz"
port=$((20000 + RANDOM % 20000))
"$bin" serve --listen "127.0.0.1:$port" --token-file "$tmp/tok" --no-state -o jsonl >/dev/null 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
for i in $(seq "$n"); do
  curl -s -o /dev/null -w '%{http_code}\n' -H 'Authorization: Bearer secret-token' -H 'Content-Encoding: gzip' \
    --data-binary @"$tmp/bomb.gz" "http://127.0.0.1:$port/" >"$tmp/code.$i" &
done
wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
echo "bomb: $(stat -c %s "$tmp/bomb.gz") bytes gzipped, 1 GiB inflated; $n at once"
echo "answers: $(cat "$tmp"/code.* | sort | uniq -c | tr -s ' ' | tr '\n' ',')"
grep -E 'VmHWM|VmRSS' /proc/$pid/status
