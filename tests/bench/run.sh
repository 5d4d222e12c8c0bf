#!/bin/sh
# Runs cohorte-bench's standard suite on a Release build and writes
# tests/bench/RESULTS.md with the machine it ran on, followed by
# tests/bench/NOTES.md (hand-written). About five minutes (`deep` posts a
# million messages); not a test, not in CI. The figures are worth what the
# machine was doing meanwhile: the load average before the run is written
# down with them.
#
#   tests/bench/run.sh [build-dir]      (default: build-rel)
#   CLIENTS=64 CHANNELS=64 WARMUP=2 SECONDS_PER_WORKLOAD=5 MEMBERS=5000 \
#     DEEP=1000000 tests/bench/run.sh
# Run it with a higher priority than the builds around it if you may:
#   sudo nice -n -5 tests/bench/run.sh
# After editing NOTES.md, put it after the measured part of RESULTS.md
# again without measuring anything (the measured part is kept as it was):
#   tests/bench/run.sh --notes-only
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/tests/bench/RESULTS.md
# The line between the measured part of RESULTS.md and NOTES.md.
marker='<!-- Measured above; tests/bench/NOTES.md below. -->'

if [ "${1:-}" = --notes-only ]; then
  if ! grep -qxF "$marker" "$out"; then
    echo "run.sh: $out has no measured part to keep; run the suite" >&2
    exit 1
  fi
  measured=$(mktemp)
  trap 'rm -f "$measured"' EXIT
  awk -v marker="$marker" '{ print } $0 == marker { exit }' "$out" >"$measured"
  { cat "$measured"; echo; cat "$root/tests/bench/NOTES.md"; } >"$out"
  exit 0
fi
build=${1:-$root/build-rel}
clients=${CLIENTS:-64}
channels=${CHANNELS:-$clients}  # one connection per client
warmup=${WARMUP:-2}
seconds=${SECONDS_PER_WORKLOAD:-5}
members=${MEMBERS:-5000}
deep=${DEEP:-1000000}

if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -C "$build" cohorte_bench cohorted >/dev/null

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
load=$(cut -d' ' -f1-3 /proc/loadavg)
table=$(mktemp)
trap 'rm -f "$table"' EXIT
"$build/tests/cohorte-bench" --clients="$clients" --channels="$channels" \
  --warmup="$warmup" --seconds="$seconds" --members="$members" \
  --deep="$deep" >"$table"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

{
  echo "# cohorte-bench results"
  echo
  echo "Written by \`tests/bench/run.sh\`; do not edit by hand."
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git -C "$root" rev-parse --short HEAD)"
  echo "- machine: $(nproc) CPUs, $cpu; kernel $(uname -r)"
  echo "- load average before the run: $load, after it: $load_after (the"
  echo "  bench's client shares the machine with the server, and with whatever"
  echo "  else ran); bench priority: nice $(nice)"
  echo "- build: $(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt")"
  echo "- $clients concurrent calls over $channels channels (connections), ${warmup} s warm-up, ${seconds} s measured per workload"
  echo "  window; \`grpc-put\` and \`post\`, then \`grpc-get\` and \`get\`, in three"
  echo "  alternating windows each (a row is its three windows together)"
  echo "- $members allies added to the demo cohort first (\`publish\` notifies them all)"
  echo "- \`deep\` lists an exchange of its own at 10,000 then $(printf '%s' "$deep" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta') messages"
  echo
  echo "Server figures are \`cohorted\`'s (CPU over the window, RSS at its end);"
  echo "for \`grpc-put\` and \`grpc-get\` the bare server's (a child process of the"
  echo "bench); for \`store\` the bench process's own. Latencies are of the calls"
  echo "started in the window; errors are counted by gRPC status code."
  echo
  cat "$table"
  echo
  echo "$marker"
  echo
  # What the figures mean and the before/after of hot-path changes,
  # written by hand (--notes-only puts a newer version here).
  cat "$root/tests/bench/NOTES.md"
} >"$out"
cat "$out"
