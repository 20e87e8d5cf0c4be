#!/usr/bin/env bash
# scripts/bench.sh — "requests per user" over the same ~1 GiB audit log, five ways, side by side:
#
#   cat FILE >/dev/null                                                   (the I/O floor)
#   jq -n 'reduce inputs as $e ({}; .[$e.user.username // ""] += 1)' FILE (the usual answer)
#   gojq, the same program                                                (jq in Go)
#   lnav -n -c ';SELECT "user/username", count(*) FROM k8s_audit ...' FILE
#        (with the format file scripts/lnav/k8s_audit.json, installed into a scratch HOME)
#   kaudit replay --view users -o table FILE
#
# Then a jq filter end to end, three filters (a field equality, 403s in a namespace, privileged
# containers in request bodies): `kaudit replay -f F -o jsonl FILE` against `jq -c 'select(F)'`
# and gojq, CPU ratios side by side (issue 20's target: kaudit >= 10x less CPU than jq 1.6).
#
# jq, gojq and lnav count events (log lines); kaudit counts requests (a request's stages and
# duplicates are one). The question is the same; the numbers differ by the stages per request.
# gojq is built from the Go module proxy at the version go.mod pins (else an older release);
# lnav is /usr/bin/lnav (Debian's). A tool that is missing is reported and left out.
#
# The log is generated once by cmd/auditgen (deterministic) as one plain audit.log and cached;
# the file is warmed with one cat (nothing is dropped from the page cache), then the three
# commands run alternately, RUNS times each. Prints median CPU seconds (user+sys), median wall
# seconds, MB/s of input (1 MB = 10^6 bytes; size / median wall), peak RSS, and the ratios.
# A kaudit that fails to build or run is reported and the other tools are still measured.
#
# Environment:
#   KAUDIT_BENCH_SIZE  log size (default 1GiB; auditgen -size syntax)
#   KAUDIT_BENCH_RUNS  runs per tool (default 3)
#   KAUDIT_BENCH_SEED  generator seed (default 1)
#   KAUDIT_BENCH_DIR   cache directory (default $HOME/.cache/kaudit-bench)
#   KAUDIT_BENCH_VIEWS   0 skips "requests per user" (the five tools above)
#   KAUDIT_BENCH_FILTERS 0 skips the jq filters (kaudit -f F against jq and gojq; see the end)
#   JQ                 jq binary (default /usr/bin/jq, else jq on PATH)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SIZE=${KAUDIT_BENCH_SIZE:-1GiB}
RUNS=${KAUDIT_BENCH_RUNS:-3}
SEED=${KAUDIT_BENCH_SEED:-1}
CACHE=${KAUDIT_BENCH_DIR:-$HOME/.cache/kaudit-bench}
TIME=/usr/bin/time
# shellcheck disable=SC2016 # $e is jq's variable, not the shell's
JQ_PROGRAM='reduce inputs as $e ({}; .[$e.user.username // ""] += 1)'

log() { printf '%s\n' "$*" >&2; }

# install_pkg PKG: apt-get install as a last resort (root only).
install_pkg() {
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "bench: installing $1 with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
  else
    log "bench: $1 is missing; install it (e.g. apt-get install $1)"
    exit 1
  fi
}

[[ -x $TIME ]] || install_pkg time
if [[ -z ${JQ:-} ]]; then
  if [[ -x /usr/bin/jq ]]; then JQ=/usr/bin/jq; else JQ=$(command -v jq || true); fi
fi
if [[ -z $JQ ]]; then
  install_pkg jq
  JQ=$(command -v jq)
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kaudit-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

log "bench: building auditgen and kaudit into $WORK"
(cd "$ROOT" && go build -o "$WORK/auditgen" ./cmd/auditgen)
have_kaudit=1
if ! (cd "$ROOT" && go build -o "$WORK/kaudit" ./cmd/kaudit) >"$WORK/kaudit-build.log" 2>&1; then
  have_kaudit=0
  log "bench: kaudit failed to build; measuring cat and jq only:"
  sed -n '1,10s/^/    /p' "$WORK/kaudit-build.log" >&2
fi

# The cached log is keyed by size, seed and the generator's source, so a changed generator
# never benchmarks stale bytes. Other generations in the cache are removed (they are large).
key=$(cat "$ROOT"/gen/*.go "$ROOT"/cmd/auditgen/*.go | sha256sum | cut -c1-12)
DATA="$CACHE/log-$SIZE-seed$SEED-$key"
FILE="$DATA/audit.log"
if [[ ! -s $FILE ]]; then
  mkdir -p "$CACHE"
  for old in "$CACHE"/log-*; do
    [[ -e $old && $old != "$DATA" ]] || continue
    log "bench: removing stale cached log $old"
    rm -rf "$old"
  done
  log "bench: generating $SIZE audit log in $DATA (once)"
  rm -rf "$DATA.tmp"
  "$WORK/auditgen" -out "$DATA.tmp" -size "$SIZE" -seed "$SEED" -rotate 0
  wc -l <"$DATA.tmp/audit.log" | tr -d ' ' >"$DATA.tmp/lines"
  mv "$DATA.tmp" "$DATA"
fi
bytes=$(stat -c %s "$FILE")
lines=$(cat "$DATA/lines" 2>/dev/null || echo '?')

# The gojq CLI at the version go.mod pins for the library, else the newest older release whose
# dependencies the module proxy serves (v0.12.20's CLI needs a go-yaml pseudo-version it refuses).
pinned=$(cd "$ROOT" && go list -m -f '{{.Version}}' github.com/itchyny/gojq)
gojq_version=
for v in "$pinned" v0.12.19 v0.12.18 v0.12.17; do
  log "bench: building the gojq CLI $v"
  if (cd "$WORK" && GOBIN="$WORK" GOFLAGS=-mod=mod go install "github.com/itchyny/gojq/cmd/gojq@$v") >"$WORK/gojq-build.log" 2>&1; then
    gojq_version=$v
    break
  fi
done
if [[ -z $gojq_version ]]; then
  log "bench: the gojq CLI failed to build; gojq is left out:"
  sed -n '1,5s/^/    /p' "$WORK/gojq-build.log" >&2
fi

# lnav answers with SQL over its log table; the format file names the fields. It is installed
# into a scratch HOME so the user's own lnav configuration is neither read nor changed.
LNAV=${LNAV:-/usr/bin/lnav}
LNAV_SQL=';SELECT "user/username" AS user, count(*) AS events FROM k8s_audit GROUP BY user ORDER BY events DESC'
have_lnav=0
if [[ -x $LNAV ]]; then
  mkdir -p "$WORK/lnav-home"
  if HOME="$WORK/lnav-home" "$LNAV" -i "$ROOT/scripts/lnav/k8s_audit.json" >"$WORK/lnav-install.log" 2>&1; then
    have_lnav=1
  else
    log "bench: lnav could not install scripts/lnav/k8s_audit.json; lnav is left out:"
    sed -n '1,5s/^/    /p' "$WORK/lnav-install.log" >&2
  fi
else
  log "bench: no lnav at $LNAV (apt-get install lnav); lnav is left out"
fi

log "bench: warming the page cache"
cat "$FILE" >/dev/null

# run_tool NAME CMD...: one timed run; appends "wall cpu rss_kib exit" to $WORK/NAME.runs.
run_tool() {
  local name=$1
  shift
  local rc=0
  "$TIME" -f '%e %U %S %M' -o "$WORK/time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
  local wall user sys rss
  read -r wall user sys rss < <(tail -n 1 "$WORK/time")
  printf '%s %s %s %s\n' "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')" "$rss" "$rc" \
    >>"$WORK/$name.runs"
  if [[ $rc -ne 0 ]]; then
    log "bench: $name exited with status $rc:"
    sed -n '1,5s/^/    /p' "$WORK/$name.err" >&2
  fi
  if [[ ! -s $WORK/$name.first ]]; then
    cp "$WORK/$name.out" "$WORK/$name.first"
  fi
}

# median COLUMN FILE
median() {
  awk -v c="$1" '{ print $c }' "$2" | sort -g |
    awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# "Requests per user", five ways (not indented, to keep the history readable).
if [[ ${KAUDIT_BENCH_VIEWS:-1} != 0 ]]; then
tools=(cat jq)
[[ -n $gojq_version ]] && tools+=(gojq)
[[ $have_lnav -eq 1 ]] && tools+=(lnav)
[[ $have_kaudit -eq 1 ]] && tools+=(kaudit)
for ((i = 1; i <= RUNS; i++)); do
  log "bench: round $i/$RUNS"
  run_tool cat cat "$FILE"
  run_tool jq "$JQ" -n "$JQ_PROGRAM" "$FILE"
  if [[ -n $gojq_version ]]; then
    run_tool gojq "$WORK/gojq" -n "$JQ_PROGRAM" "$FILE"
  fi
  if [[ $have_lnav -eq 1 ]]; then
    HOME="$WORK/lnav-home" run_tool lnav "$LNAV" -n -c "$LNAV_SQL" "$FILE"
  fi
  if [[ $have_kaudit -eq 1 ]]; then
    run_tool kaudit "$WORK/kaudit" replay --view users -o table "$FILE"
  fi
done


declare -A WALL CPU RSS FAILED
for t in "${tools[@]}"; do
  WALL[$t]=$(median 1 "$WORK/$t.runs")
  CPU[$t]=$(median 2 "$WORK/$t.runs")
  RSS[$t]=$(awk 'BEGIN { m = 0 } $3 > m { m = $3 } END { print m }' "$WORK/$t.runs")
  FAILED[$t]=$(awk '$4 != 0 { n++ } END { print n + 0 }' "$WORK/$t.runs")
done

echo
echo "kaudit bench — $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPU(s): $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
echo "input: $FILE"
echo "       $bytes bytes ($(awk -v b="$bytes" 'BEGIN { printf "%.1f MiB", b / 1048576 }')), $lines events; $RUNS run(s) per tool, page cache warm"
echo "tools: $(go version | cut -d' ' -f3), $("$JQ" --version)${gojq_version:+, gojq $gojq_version}$([[ $have_lnav -eq 1 ]] && printf ', %s' "$("$LNAV" -V)")"
echo
printf '%-8s %12s %12s %10s %14s  %s\n' tool 'cpu s (med)' 'wall s (med)' 'MB/s' 'peak RSS MiB' status
for t in "${tools[@]}"; do
  status=ok
  [[ ${FAILED[$t]} -eq 0 ]] || status="FAILED in ${FAILED[$t]}/$RUNS run(s)"
  awk -v t="$t" -v c="${CPU[$t]}" -v w="${WALL[$t]}" -v b="$bytes" -v r="${RSS[$t]}" -v s="$status" 'BEGIN {
    mbs = (w > 0) ? sprintf("%.0f", b / 1e6 / w) : "inf"
    printf "%-8s %12.2f %12.2f %10s %14.1f  %s\n", t, c, w, mbs, r / 1024, s }'
done
if [[ $have_kaudit -eq 0 ]]; then
  printf '%-8s %12s %12s %10s %14s  %s\n' kaudit - - - - 'FAILED to build'
fi
echo

ratio() { # ratio A B: how A compares with B (wall speed-up and CPU ratio)
  awk -v a="$1" -v b="$2" -v wa="${WALL[$1]}" -v wb="${WALL[$2]}" -v ca="${CPU[$1]}" -v cb="${CPU[$2]}" 'BEGIN {
    sp = (wa > 0) ? sprintf("%.2fx", wb / wa) : "inf"
    cr = (cb > 0) ? sprintf("%.2fx", ca / cb) : "inf"
    printf "%s vs %s: %s the speed (wall %s s vs %s s); %s the CPU time (%s s vs %s s)\n", a, b, sp, wa, wb, cr, ca, cb }'
}
if [[ $have_kaudit -eq 1 && ${FAILED[kaudit]} -eq 0 ]]; then
  ratio kaudit jq
  [[ -n $gojq_version ]] && ratio kaudit gojq
  [[ $have_lnav -eq 1 ]] && ratio kaudit lnav
  ratio kaudit cat
  echo
  echo "kaudit output (first run, first lines):"
  sed -n '1,8s/^/    /p' "$WORK/kaudit.first"
else
  echo "kaudit: no ratios (kaudit failed; see above)"
fi
echo "jq output (first run, top users by events):"
"$JQ" -r 'to_entries | sort_by(-.value) | .[:5][] | "    \(.value)\t\(.key)"' "$WORK/jq.first" 2>/dev/null || true
if [[ $have_lnav -eq 1 ]]; then
  echo "lnav output (first run, first lines; events per user, as jq counts them):"
  sed -n '1,6s/^/    /p' "$WORK/lnav.first"
  if ! grep -q . "$WORK/lnav.first"; then
    echo "    (lnav printed nothing: it did not recognise the log with scripts/lnav/k8s_audit.json, so it cannot answer this question here)"
  fi
fi

fi # KAUDIT_BENCH_VIEWS

# ---------------------------------------------------------------------------------------------
# Filters (issue 20): a jq filter end to end, `kaudit replay -f F -o jsonl FILE` (load, filter,
# print) against `jq -c 'select(F)' FILE` and gojq the same, alternating, RUNS times each; CPU
# (user+sys) medians and their ratios. Set KAUDIT_BENCH_FILTERS=0 to skip.
[[ ${KAUDIT_BENCH_FILTERS:-1} == 0 || $have_kaudit -eq 0 ]] && exit 0
filters=(
  '.user.username == "bob"'
  '.responseStatus.code == 403 and .objectRef.namespace == "kube-system"'
  'any(.requestObject.spec.containers[]?; .securityContext.privileged == true)'
)
ftools=(kaudit jq)
[[ -n $gojq_version ]] && ftools+=(gojq)
echo
echo "filters: kaudit replay -f F -o jsonl  vs  $("$JQ" --version) -c 'select(F)'${gojq_version:+  and gojq $gojq_version the same}"
echo "         CPU seconds (user+sys), median of $RUNS; ratio = the other's CPU / kaudit's; out = lines printed"
printf '%-78s' filter
for t in "${ftools[@]}"; do printf ' %9s' "$t s"; done
for t in "${ftools[@]:1}"; do printf ' %11s' "$t/kaudit"; done
for t in "${ftools[@]}"; do printf ' %9s' "$t out"; done
echo
for i in "${!filters[@]}"; do
  f=${filters[$i]}
  for t in "${ftools[@]}"; do rm -f "$WORK/f$t$i.runs" "$WORK/f$t$i.first"; done
  for ((r = 1; r <= RUNS; r++)); do
    run_tool "fkaudit$i" "$WORK/kaudit" replay -f "$f" -o jsonl "$FILE"
    run_tool "fjq$i" "$JQ" -c "select($f)" "$FILE"
    if [[ -n $gojq_version ]]; then
      run_tool "fgojq$i" "$WORK/gojq" -c "select($f)" "$FILE"
    fi
  done
  printf '%-78s' "$f"
  declare -A FCPU=()
  for t in "${ftools[@]}"; do
    FCPU[$t]=$(median 2 "$WORK/f$t$i.runs")
    failed=$(awk '$4 != 0 { n++ } END { print n + 0 }' "$WORK/f$t$i.runs")
    if [[ $failed -eq 0 ]]; then printf ' %9.2f' "${FCPU[$t]}"; else printf ' %9s' FAILED; fi
  done
  for t in "${ftools[@]:1}"; do
    awk -v a="${FCPU[kaudit]}" -v b="${FCPU[$t]}" 'BEGIN { if (a > 0) printf " %10.1fx", b / a; else printf " %11s", "inf" }'
  done
  for t in "${ftools[@]}"; do printf ' %9d' "$(wc -l <"$WORK/f$t$i.first")"; done
  echo
done
echo "(jq and gojq print an event once per truthy output of F; kaudit once per event. Events are"
echo " printed as the log holds them: kaudit drops repeated events (the same auditID, stage and"
echo " stageTimestamp) and redacts secrets, so the counts may differ on other logs.)"
