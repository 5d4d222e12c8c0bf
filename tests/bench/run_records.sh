#!/usr/bin/env bash
# A large file through `cohorted` and the CLI (the README's "A 1 GiB file
# through cohorted" figures): starts `cohorted --seed-demo` in a temporary
# directory on this disk, makes one random file of $MB MiB (default 1024),
# and times `cp` (then `sync`), `cohorte records push`, a push killed after
# a second then run again (it resumes), and `records pull` (checked with
# cmp). The small PostMessage latency (post_latency, one at a time, into
# the élus exchange) is measured alone, then while pushes run back to
# back (the CLI at nice 0, then at nice 10), and while two `sha256sum` at
# nice 10 keep both cores busy without any push (what any load does to
# the posts here); the server's peak RSS (VmHWM) is read at the end.
# Beside `cp`, the ceiling on this machine: bare gRPC streams of the same
# size from memory (stream_ceiling: no RocksDB, no hashing) and `openssl
# dgst -sha256` of the file.
# Usage: tests/bench/run_records.sh [BUILD_DIR] (default build-rel;
# configure it with -DCMAKE_BUILD_TYPE=Release for figures worth writing
# down). SKIP_BUILD=1: run the binaries found in BUILD_DIR as they are.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-rel}
mb=${MB:-1024}
post_seconds=${POST_SECONDS:-8}
[ -n "${SKIP_BUILD:-}" ] ||
  ninja -C "$build" cohorted cohorte post_latency stream_ceiling >/dev/null
dir=$(mktemp -d -p "${BENCH_DIR:-$PWD}" records-bench.XXXXXX)
pid=
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$dir"' EXIT
"$build"/server/cohorted --listen=127.0.0.1:0 --data-dir="$dir/data" --seed-demo \
    >"$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$dir/out" 2>/dev/null && break
  sleep 0.1
done
addr=$(sed -n 's/^cohorted: listening on //p' "$dir/out")
agent=$(cat "$dir/data/demo-tokens/thomas-petit.token")
elue=$(cat "$dir/data/demo-tokens/marie-dubois.token")
exchange=cohorts/occitanie/groups/elus/exchanges/e000000000001
cli() { COHORTE_TOKEN=$agent "$build"/client/cohorte --server "$addr" "$@"; }
# The server's CPU seconds (user + system) so far.
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$pid/stat"; }
posts() {
  COHORTE_TOKEN=$elue "$build"/tests/post_latency --server="$addr" \
      --exchange="$exchange" --seconds="$post_seconds"
}
now() { date +%s.%N; }
rate() { awk -v mb="$mb" -v s="$1" 'BEGIN { printf "%.2f s, %.0f MiB/s", s, mb / s }'; }
hwm() { awk '/VmHWM/ { print $2 / 1024 " MiB" }' "/proc/$pid/status"; }

head -c "${mb}M" /dev/urandom >"$dir/file.bin"
sync
echo "server VmHWM after start: $(hwm)"

t0=$(now); cp "$dir/file.bin" "$dir/copy.bin"; t1=$(now); sync; t2=$(now)
cp_s=$(echo "$t1 - $t0" | bc); cp_sync_s=$(echo "$t2 - $t0" | bc)
echo "cp: $(rate "$cp_s"); cp + sync: $(rate "$cp_sync_s")"
rm "$dir/copy.bin"; sync
"$build"/tests/stream_ceiling --mb="$mb"
t0=$(now); openssl dgst -sha256 "$dir/file.bin" >/dev/null; t1=$(now)
echo "openssl dgst -sha256 of the file (cached): $(rate "$(echo "$t1 - $t0" | bc)")"

echo "posts alone: $(posts)"

c0=$(server_cpu); t0=$(now)
/usr/bin/time -f "%U %S" -o "$dir/cli.time" \
    env COHORTE_TOKEN="$agent" "$build"/client/cohorte --server "$addr" \
    records push "$dir/file.bin" --cohort occitanie --record bench-push >/dev/null
t1=$(now); c1=$(server_cpu)
push_s=$(echo "$t1 - $t0" | bc)
echo "push: $(rate "$push_s") ($(echo "scale=2; $cp_sync_s / $push_s" | bc)x cp+sync); CPU s: server $(echo "$c1 - $c0" | bc), CLI user+sys $(cat "$dir/cli.time")"
echo "server VmHWM after the push: $(hwm)"

c0=$(server_cpu); t0=$(now)
/usr/bin/time -f "%U %S" -o "$dir/cli.time" \
    env COHORTE_TOKEN="$agent" "$build"/client/cohorte --server "$addr" \
    records pull bench-push --cohort occitanie --to "$dir/pulled.bin" >/dev/null
t1=$(now); c1=$(server_cpu)
pull_s=$(echo "$t1 - $t0" | bc)
cmp "$dir/file.bin" "$dir/pulled.bin"
echo "pull: $(rate "$pull_s") ($(echo "scale=2; $cp_s / $pull_s" | bc)x cp), byte-identical; CPU s: server $(echo "$c1 - $c0" | bc), CLI user+sys $(cat "$dir/cli.time")"
rm "$dir/pulled.bin"

# A push killed after a second, then run again: it resumes.
COHORTE_TOKEN=$agent "$build"/client/cohorte --server "$addr" \
    records push "$dir/file.bin" --cohort occitanie --record bench-resume \
    >/dev/null 2>&1 &
push_pid=$!
sleep 1
kill -9 "$push_pid"; wait "$push_pid" 2>/dev/null || true
t0=$(now)
cli records push "$dir/file.bin" --cohort occitanie --record bench-resume \
    2>"$dir/resume.err" >/dev/null
t1=$(now)
echo "push killed after 1 s, run again: $(echo "$t1 - $t0" | bc) s; $(grep -o 'resuming.*' "$dir/resume.err" || echo 'did not resume')"
cli records pull bench-resume --cohort occitanie --to "$dir/pulled.bin" >/dev/null
cmp "$dir/file.bin" "$dir/pulled.bin" && echo "resumed push: byte-identical"
rm "$dir/pulled.bin"

# Pushes back to back (each to a new record) while the posts are timed:
# with the CLI as it is, then at nice 10 (a model of the real uploader,
# which runs on another machine; on this one it still takes a core).
for niceness in 0 10; do
  rm -f "$dir/stop"
  (
    i=0
    while [ ! -e "$dir/stop" ]; do
      i=$((i + 1))
      COHORTE_TOKEN=$agent nice -n "$niceness" "$build"/client/cohorte \
          --server "$addr" records push "$dir/file.bin" --cohort occitanie \
          --record "bench-load-$niceness-$i" >/dev/null 2>&1 || true
    done
  ) &
  loader=$!
  sleep 0.5
  if [ "$niceness" = 0 ]; then
    echo "posts during pushes: $(posts)"
  else
    echo "posts during pushes, CLI at nice 10: $(posts)"
  fi
  touch "$dir/stop"
  wait "$loader"
  # The figure of the issue's goal (its memtables hold the posts so far).
  if [ "$niceness" = 0 ]; then
    echo "server VmHWM after the posts during pushes: $(hwm)"
  fi
done
# The floor on this machine: the posts while two threads of another
# program (sha256sum of the file, at nice 10) keep both cores busy.
rm -f "$dir/stop"
(
  while [ ! -e "$dir/stop" ]; do
    nice -n 10 sha256sum "$dir/file.bin" >/dev/null &
    nice -n 10 sha256sum "$dir/file.bin" >/dev/null
    wait
  done
) &
loader=$!
sleep 0.5
echo "posts during two sha256sum at nice 10 (no push): $(posts)"
touch "$dir/stop"
wait "$loader"
echo "server VmHWM at the end (after the extra posts and pushes): $(hwm)"
