#!/bin/sh
# Runs every fuzz target of a COHORTE_FUZZ build for a while, starting from
# its committed seed corpus (tests/fuzz/corpus/<target>/, left untouched:
# new inputs go to a scratch directory). Stops at the first crash, leak or
# failed property, leaving the reproducer in the current directory.
#
#   tests/fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET] [libFuzzer flags...]
#   tests/fuzz/run.sh build-fuzz 3                      # the CI smoke run
#   tests/fuzz/run.sh build-fuzz 0 -runs=10000000       # the long run
set -eu

build=$1
seconds=${2:-3}
shift $(($# < 2 ? $# : 2))
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

for corpus in "$here"/corpus/*/; do
  target=$(basename "$corpus")
  mkdir -p "$scratch/$target"
  limit=""
  if [ "$seconds" -gt 0 ]; then limit="-max_total_time=$seconds"; fi
  status=0
  "$build/tests/fuzz/$target" $limit -print_final_stats=1 "$@" \
    "$scratch/$target" "$corpus" >"$scratch/$target.log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$target.log")
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$scratch/$target.log"
    echo "$target: FAILED (exit $status) after ${execs:-?} executions" >&2
    exit 1
  fi
  echo "$target: ok, ${execs:-?} executions"
done
