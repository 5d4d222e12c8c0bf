#!/usr/bin/env bash
# A link under load: starts a home and a follower `cohorted` in a temporary
# directory and runs links_bench (initial sync of 100,000 resources, then
# 1,000 writes/s at home for 20 s). Usage: tests/bench/run_links.sh
# [BUILD_DIR] (default build-rel; -DCMAKE_BUILD_TYPE=Release for figures
# worth writing down). Extra variables: RESOURCES, RATE, SECONDS_PER_RUN.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-rel}
ninja -C "$build" cohorted links_bench >/dev/null
dir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
start() {  # name; sets $addr (not in a subshell: the trap needs the pid)
  "$build"/server/cohorted --listen=127.0.0.1:0 --data-dir="$dir/$1" \
      --instance-name "$1" >"$dir/$1.out" 2>"$dir/$1.err" &
  pids+=($!)
  for _ in $(seq 100); do
    grep -q "listening on" "$dir/$1.out" 2>/dev/null && break
    sleep 0.1
  done
  addr=$(sed -n 's/^cohorted: listening on //p' "$dir/$1.out")
}
start home; home=$addr
start follower; follower=$addr
"$build"/tests/links_bench --home "$home" --home-token "$dir/home/admin.token" \
    --follower "$follower" --follower-token "$dir/follower/admin.token" \
    --resources "${RESOURCES:-100000}" --rate "${RATE:-1000}" \
    --seconds "${SECONDS_PER_RUN:-20}"
echo "follower log:"; grep "msg=link_" "$dir/follower.err" | tail -5
