#!/bin/sh
# A/B of `cohorted` builds with one bench binary: each VARIANT is a
# directory holding a `cohorted` (built from another commit, or with a
# constant changed). In each round every variant in turn is copied over the
# build tree's server/cohorted, which cohorte-bench starts, and the
# WORKLOADS run; the tree's own cohorted is put back at the end, also on
# an interrupt. Alternating (A, B, A, B…) spreads the machine's drift over
# every variant: compare within a round. Not a test, not in CI.
#
#   tests/bench/ab.sh WORKLOADS ROUNDS VARIANT_DIR...
#   BUILD=build-rel CLIENTS=64 tests/bench/ab.sh post 4 /tmp/ab/a /tmp/ab/b
set -eu

if [ $# -lt 3 ]; then
  echo "usage: $0 WORKLOADS ROUNDS VARIANT_DIR..." >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build-rel}
clients=${CLIENTS:-64}
workloads=$1
rounds=$2
shift 2
for variant in "$@"; do
  if [ ! -x "$variant/cohorted" ]; then
    echo "$0: no executable $variant/cohorted" >&2
    exit 2
  fi
done

target=$build/server/cohorted
saved=$(mktemp)
out=$(mktemp)
cp "$target" "$saved"
trap 'cp "$saved" "$target"; rm -f "$saved" "$out"' EXIT
trap 'exit 130' INT TERM

round=1
while [ "$round" -le "$rounds" ]; do
  for variant in "$@"; do
    cp "$variant/cohorted" "$target"
    echo "== $variant, round $round, load $(cut -d' ' -f1-3 /proc/loadavg)"
    # A failing bench stops the A/B (its output is not piped).
    "$build/tests/cohorte-bench" --workloads="$workloads" \
      --clients="$clients" --warmup=2 --seconds=5 >"$out"
    grep -e '^| [a-z-]* | [0-9]' "$out" || true
  done
  round=$((round + 1))
done
