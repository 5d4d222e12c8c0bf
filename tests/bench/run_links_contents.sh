#!/usr/bin/env bash
# Record contents over a link: a home `cohorted --seed-demo` holds FILES
# records of MIB MiB each (random bytes, pushed with the real CLI as a
# demo member); a follower links to it with --record-contents eager and
# the time to the end of its first sync (state FOLLOWING) is measured;
# then a second follower with --record-contents lazy: its sync, then the
# first download of one record (copied from home) and the second (local).
# `cp` + `sync` of the same bytes is the machine's reference in the same
# run. Usage: tests/bench/run_links_contents.sh [BUILD_DIR] (default
# build-rel, a Release build). Variables: FILES (4), MIB (256).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-rel}
files=${FILES:-4}
mib=${MIB:-256}
ninja -C "$build" cohorted cohorte >/dev/null
dir=$(mktemp -d -p "${TMPDIR:-/tmp}")
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
start() {  # name [flags...]; sets $addr (not in a subshell: the trap needs the pid)
  local name=$1; shift
  "$build"/server/cohorted --listen=127.0.0.1:0 --data-dir="$dir/$name" \
      --instance-name "$name" "$@" >"$dir/$name.out" 2>"$dir/$name.err" &
  pids+=($!)
  for _ in $(seq 300); do
    grep -q "listening on" "$dir/$name.out" 2>/dev/null && break
    sleep 0.1
  done
  addr=$(sed -n 's/^cohorted: listening on //p' "$dir/$name.out")
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { print b - a }'; }
rate() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.2f s, %.0f MiB/s", t, b / 1048576 / t }'; }
cli() { "$build"/client/cohorte "$@"; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$dir/files"
for i in $(seq "$files"); do
  head -c $((mib << 20)) /dev/urandom >"$dir/files/doc-$i.bin"
done
bytes=$((files * mib << 20))

t0=$(now)
cp -r "$dir/files" "$dir/files-copy" && sync
echo "cp -r + sync of $((files * mib)) MiB: $(rate $bytes "$(since "$t0")")"
rm -rf "$dir/files-copy"

start home --seed-demo; home=$addr
member=(--server "$home" --token-file "$dir/home/demo-tokens/marie-dubois.token")
t0=$(now)
for i in $(seq "$files"); do
  cli "${member[@]}" records push "$dir/files/doc-$i.bin" --cohort occitanie \
      --record "doc-$i" --title "Document $i" --visibility network >/dev/null
done
echo "push to the home: $(rate $bytes "$(since "$t0")")"
admin=(--server "$home" --token-file "$dir/home/admin.token")
cli "${admin[@]}" tokens create-service --display-name national \
    --cohort occitanie --access read >"$dir/peer.token" 2>/dev/null

follow() {  # name mode: creates the link, waits for FOLLOWING, prints the time
  local name=$1 mode=$2
  start "$name"
  local f=(--server "$addr" --token-file "$dir/$name/admin.token")
  local t0; t0=$(now)
  cli "${f[@]}" links create --id occitanie --display-name Occitanie \
      --endpoint "$home" --cohort occitanie --peer-token-file "$dir/peer.token" \
      --record-contents "$mode" >/dev/null
  for _ in $(seq 6000); do
    cli "${f[@]}" links get occitanie -o json | grep -q '"FOLLOWING"' && break
    sleep 0.1
  done
  local t; t=$(since "$t0")
  if [ "$mode" = eager ]; then
    echo "eager link, first sync to FOLLOWING: $(rate $bytes "$t") of contents" \
         "(store: $(du -sm "$dir/$name/store" | cut -f1) MiB)"
  else
    echo "lazy link, first sync to FOLLOWING: ${t} s, no content copied" \
         "(store: $(du -sm "$dir/$name/store" | cut -f1) MiB)"
  fi
  follower=("${f[@]}")
}

follow eager eager
follow lazy lazy
one=$((mib << 20))
t0=$(now)
cli "${follower[@]}" records pull cohorts/occitanie/records/doc-1 --to "$dir/pulled-1" >/dev/null
echo "lazy: first download of doc-1 (copied from home): $(rate $one "$(since "$t0")")"
t0=$(now)
cli "${follower[@]}" records pull cohorts/occitanie/records/doc-1 --to "$dir/pulled-2" >/dev/null
echo "lazy: second download of doc-1 (local): $(rate $one "$(since "$t0")")"
cmp "$dir/files/doc-1.bin" "$dir/pulled-1" && cmp "$dir/files/doc-1.bin" "$dir/pulled-2" &&
  echo "both downloads byte-identical"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
grep "msg=link_snapshot_done" "$dir/eager.err" | tail -1
