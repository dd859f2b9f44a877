#!/bin/sh
# Runs every libFuzzer harness of a BT_FUZZ build for a bounded time on its seed corpus.
#   tests/fuzz/run_fuzzers.sh BUILD_DIR SECONDS_PER_HARNESS [HARNESS...]
# New corpus entries go to a temporary directory (the tree's corpus is never written).
# A crash leaves its input in tests/fuzz/regressions/<harness>/ (so the replay tests
# of the normal suite run it from then on) and makes the script exit 1.
# Prints one line per harness: executions, corpus size, result.
set -u
build=${1:?usage: run_fuzzers.sh BUILD_DIR SECONDS [HARNESS...]}
secs=${2:?usage: run_fuzzers.sh BUILD_DIR SECONDS [HARNESS...]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
harnesses=${*:-"geojson csv wkt time enum crs cli_filters"}
work=$(mktemp -d "${TMPDIR:-/tmp}/bt_fuzz_XXXXXX")
trap 'rm -rf "$work"' EXIT
status=0
for h in $harnesses; do
  bin="$build/tests/fuzz/fuzz_$h"
  [ -x "$bin" ] || bin="$build/fuzz_$h"
  if [ ! -x "$bin" ]; then
    echo "fuzz_$h: not built (configure with CC=clang -DBT_FUZZ=ON, build target fuzzers)"
    status=1
    continue
  fi
  mkdir -p "$work/$h" "$work/art-$h"
  "$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/art-$h/" "$work/$h" "$here/corpus/$h" >"$work/log-$h" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log-$h")
  # slow-unit-* files are inputs slower than 10 s, not failures: listed, not kept
  found=$(ls "$work/art-$h" 2>/dev/null | grep -v '^slow-unit-' | wc -l)
  for f in "$work/art-$h"/slow-unit-*; do
    [ -e "$f" ] && echo "fuzz_$h: slow input ($(wc -c <"$f") bytes): $(head -c 200 "$f" | tr '\n' ' ')"
  done
  if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
    mkdir -p "$here/regressions/$h"
    for f in "$work/art-$h"/*; do
      case $(basename "$f") in slow-unit-*) ;; *) cp "$f" "$here/regressions/$h/" ;; esac
    done
    echo "fuzz_$h: CRASH after ${execs:-?} executions; input(s) saved in tests/fuzz/regressions/$h/"
    tail -40 "$work/log-$h"
    status=1
  else
    echo "fuzz_$h: ${execs:-?} executions in ${secs} s, $(ls "$work/$h" | wc -l) new corpus inputs, no crash"
  fi
done
exit $status
