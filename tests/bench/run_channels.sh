#!/bin/sh
# How the channel layout of the bench's 64 clients moves the figures:
# health, get and post with their ceilings (grpc-get, grpc-put), the 64
# clients on 1, 4, 16 and 64 channels (connections), each layout ROUNDS
# times, interleaved. Prints cohorte-bench's workload rows and its targets
# for these workloads; tests/bench/NOTES.md ("Eighth pass") reads them. A
# few minutes; not a test, not in CI.
#
#   tests/bench/run_channels.sh [build-dir]   (default: build-rel)
#   LAYOUTS="1 4 16 64" ROUNDS=2 tests/bench/run_channels.sh
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-rel}
layouts=${LAYOUTS:-1 4 16 64}
rounds=${ROUNDS:-2}

if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -C "$build" cohorte_bench cohorted >/dev/null

out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "commit $(git -C "$root" rev-parse --short HEAD), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
round=1
while [ "$round" -le "$rounds" ]; do
  for channels in $layouts; do
    echo
    echo "64 clients on $channels channels, round $round"
    # A failing bench stops the sweep (its output is not piped).
    "$build/tests/cohorte-bench" --workloads=health,get,grpc-get,post,grpc-put \
      --clients=64 --channels="$channels" --warmup=2 --seconds=5 >"$out"
    grep -e '^| [a-z-]* | [0-9]' -e ' | met |$' -e ' | not met |$' "$out" || true
  done
  round=$((round + 1))
done
