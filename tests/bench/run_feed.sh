#!/usr/bin/env bash
# The change feed under load: starts `cohorted --seed-demo` in a temporary
# directory, runs feed_bench without watchers, then with 1000 (10 of them
# reading the posts), and prints both. Usage: tests/bench/run_feed.sh
# [BUILD_DIR] (default build-rel; configure it with
# -DCMAKE_BUILD_TYPE=Release for figures worth writing down).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-rel}
ninja -C "$build" cohorted feed_bench >/dev/null
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
"$build"/server/cohorted --listen=127.0.0.1:0 --data-dir="$dir/data" --seed-demo \
    >"$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$dir/out" 2>/dev/null && break
  sleep 0.1
done
addr=$(sed -n 's/^cohorted: listening on //p' "$dir/out")
run() {
  "$build"/tests/feed_bench --server "$addr" --data "$dir/data" \
      --server-pid "$pid" --seconds "${SECONDS_PER_RUN:-10}" "$@"
}
echo "== without watchers"; run --watchers 0 --insiders 0
echo "== 1000 watchers, 10 reading the posts"; run --watchers 1000 --insiders 10
echo "== 1000 watchers, all reading the posts"; run --watchers 1000 --insiders 1000
