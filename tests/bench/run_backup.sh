#!/usr/bin/env bash
# Back up and restore the demo with 1 GiB of records (issue 12's figure):
# starts `cohorted --seed-demo` in a temporary directory on this disk,
# pushes $MB MiB (default 1024) of random bytes into cohorts/occitanie as
# $FILES records (default 8, generated once) with the real CLI, then times
#   - `cp -r` of the data directory then `sync` (what the disk does; the
#     copy of a live store is not a consistent one, only a yardstick),
#   - `cohorte admin backup create`, then a second (incremental) backup
#     after one more record of 1% of $MB,
#   - `cohorte admin backup verify` of the second,
#   - offline `cohorted restore --from BACKUPS --data-dir NEW`,
# then starts the restored instance and checks that every record pulls
# byte-identical (sha256) and that its epoch is one more than the
# original's. Prints MiB/s of the data directory's size for each step.
# Runs under `flock /tmp/bench.lock` (benchmarks on this machine never
# overlap) and prints `uptime` before and after.
# Usage: tests/bench/run_backup.sh [BUILD_DIR] (default build-rel;
# configure it with -DCMAKE_BUILD_TYPE=Release for figures worth writing
# down). Extra variables: MB, FILES, BENCH_DIR (default: the repository).
set -euo pipefail
if [ -z "${COHORTE_BENCH_LOCKED:-}" ]; then
  exec env COHORTE_BENCH_LOCKED=1 flock /tmp/bench.lock "$0" "$@"
fi
cd "$(dirname "$0")/../.."
build=${1:-build-rel}
mb=${MB:-1024}
files=${FILES:-8}
ninja -C "$build" cohorted cohorte >/dev/null
dir=$(mktemp -d -p "${BENCH_DIR:-$PWD}" backup-bench.XXXXXX)
pid=
stop_server() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
  fi
}
trap 'stop_server; rm -rf "$dir"' EXIT
start_server() {  # data dir, flags; sets $pid and $addr (not in a subshell: the trap needs the pid)
  "$build"/server/cohorted --listen=127.0.0.1:0 --data-dir="$1" "${@:2}" \
      >"$1.out" 2>"$1.err" &
  pid=$!
  for _ in $(seq 300); do
    grep -q "listening on" "$1.out" 2>/dev/null && break
    sleep 0.1
  done
  addr=$(sed -n 's/^cohorted: listening on //p' "$1.out")
  [ -n "$addr" ] || { echo "cohorted did not start:"; cat "$1.err"; exit 1; }
}
now() { date +%s.%N; }
# MiB/s of $1 bytes in $2 seconds.
rate() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.2f s, %.0f MiB/s", s, b / 1048576 / s }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.0f MiB", b / 1048576 }'; }
size_of() { du -sb "$1" | cut -f1; }
# The epoch of the instance at $addr (from the cursor `changes list` prints).
epoch() {
  cli changes list --page-size 1 2>&1 >/dev/null |
      sed -n 's/^cursor: [0-9a-f]*\.\([0-9]*\)\..*/\1/p'
}

echo "uptime before: $(uptime)"
start_server "$dir/data" --seed-demo --backup-dir="$dir/backups"
agent=$(cat "$dir/data/demo-tokens/thomas-petit.token")
cli() { COHORTE_TOKEN=$agent "$build"/client/cohorte --server "$addr" --timeout 600 "$@"; }
admin() {
  COHORTE_TOKEN_FILE=$dir/data/admin.token "$build"/client/cohorte \
      --server "$addr" --timeout 600 "$@"
}

# The records: $FILES files of random bytes, pushed as records of the demo.
per=$((mb / files))
mkdir "$dir/files"
for i in $(seq "$files"); do
  head -c "${per}M" /dev/urandom >"$dir/files/bench-$i.bin"
done
head -c "$((mb * 1024 * 1024 / 100))" /dev/urandom >"$dir/files/bench-more.bin"
sync
t0=$(now)
for i in $(seq "$files"); do
  cli records push "$dir/files/bench-$i.bin" --cohort occitanie \
      --record "bench-$i" >/dev/null
done
t1=$(now)
echo "pushed $files records of $per MiB: $(rate $((per * files * 1048576)) "$(echo "$t1 - $t0" | bc)")"
(cd "$dir/files" && sha256sum bench-*.bin) >"$dir/sha256"
epoch_before=$(epoch)
data_bytes=$(size_of "$dir/data")
echo "data directory: $(mib "$data_bytes")"

# The yardstick: cp -r of the data directory, then sync.
sync
t0=$(now); cp -r "$dir/data" "$dir/copy"; sync; t1=$(now)
cp_s=$(echo "$t1 - $t0" | bc)
echo "cp -r + sync: $(rate "$data_bytes" "$cp_s")"
rm -rf "$dir/copy"; sync

t0=$(now); admin admin backup create >"$dir/backup1"; t1=$(now)
backup_s=$(echo "$t1 - $t0" | bc)
echo "backup create: $(rate "$data_bytes" "$backup_s") ($(echo "scale=2; $cp_s / $backup_s" | bc)x cp+sync); $(grep -E 'revision|size_bytes|file_count' "$dir/backup1" | tr -s ' \n' ' ')"
cli records push "$dir/files/bench-more.bin" --cohort occitanie \
    --record bench-more >/dev/null
(cd "$dir/files" && sha256sum bench-more.bin) >>"$dir/sha256"
t0=$(now); admin admin backup create >"$dir/backup2"; t1=$(now)
echo "second backup (+1%): $(printf %.2f "$(echo "$t1 - $t0" | bc)") s; backup directory now $(mib "$(size_of "$dir/backups")")"
t0=$(now); admin admin backup verify 2 >/dev/null 2>&1; t1=$(now)
echo "backup verify 2: $(rate "$(size_of "$dir/backups")" "$(echo "$t1 - $t0" | bc)") (of the backup directory)"
stop_server

t0=$(now)
"$build"/server/cohorted restore --from "$dir/backups" --data-dir "$dir/restored" \
    >"$dir/restore.out"
t1=$(now)
restore_s=$(echo "$t1 - $t0" | bc)
restored_bytes=$(size_of "$dir/restored")
echo "restore (offline): $(rate "$restored_bytes" "$restore_s") ($(echo "scale=2; $cp_s / $restore_s" | bc)x cp+sync); $(cat "$dir/restore.out")"

# The restored instance (with the saved admin.token, as the README says):
# the same records, byte for byte, and a new epoch.
cp "$dir/data/admin.token" "$dir/restored/"
start_server "$dir/restored" --backup-dir="$dir/restored-backups"
mkdir "$dir/pulled"
t0=$(now)
for f in $(cut -d' ' -f3 "$dir/sha256"); do
  cli records pull "${f%.bin}" --cohort occitanie --to "$dir/pulled/$f" >/dev/null
done
t1=$(now)
echo "pulled every record from the restored instance: $(printf %.2f "$(echo "$t1 - $t0" | bc)") s"
(cd "$dir/pulled" && sha256sum -c --quiet "$dir/sha256") &&
    echo "every record byte-identical (sha256) after the restore"
epoch_after=$(epoch)
if [ "$epoch_after" -ne $((epoch_before + 1)) ]; then
  echo "FAILED: epoch $epoch_before before, $epoch_after after the restore"
  exit 1
fi
echo "epoch $epoch_before -> $epoch_after"
stop_server
echo "uptime after: $(uptime)"
