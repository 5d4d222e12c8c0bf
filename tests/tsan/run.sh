#!/bin/sh
# ThreadSanitizer over every test (storage, service, end-to-end against a
# TSan-built cohorted, client), with an Abseil that ThreadSanitizer can see. Not in .ci/run (a third full build
# of the project, and the tests run 5 to 15 times slower); README,
# "Fuzzing, thread-safety analysis, ThreadSanitizer", has its last result.
#
# Debian's Abseil is built without -fsanitize=thread, so TSan cannot see
# absl::Mutex and reports every access it guards as a race. This script
# builds Debian's own source package of the installed Abseil (same
# version, same patches: its `debian3` inline namespace) with
# -fsanitize=thread into shared libraries with the same sonames, and runs
# the tests with them first in LD_LIBRARY_PATH: gRPC, protobuf and our
# code then all use the instrumented Abseil. RocksDB stays as Debian built
# it; its mutexes are pthread's, which TSan intercepts.
#
#   tests/tsan/run.sh [build-dir]          (default: build-tsan)
#   TESTS='^(Store|Gate)' tests/tsan/run.sh   (a ctest -R regex)
#
# Needs the Debian source archive (it adds a deb-src entry of its own
# under build-tsan-abseil/, never in /etc/apt), dpkg-dev, and the
# packages of deploy/install-deps.sh. Reports, one file per process, go
# to <build-dir>/tsan-reports/; the script fails if there is any. With
# RocksDB and gRPC still uninstrumented it does (README: "Fuzzing,
# thread-safety analysis, ThreadSanitizer" says what is left).
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-tsan}
tests=${TESTS:-.}
abseil=$root/build-tsan-abseil
reports=$build/tsan-reports

# 1. The instrumented Abseil, once.
if [ ! -f "$abseil/lib/libabsl_synchronization.so.20220623" ]; then
  version=$(dpkg-query -W -f='${Version}' libabsl20220623)
  mkdir -p "$abseil/apt/lists/partial" "$abseil/src"
  cat >"$abseil/apt/cohorte-tsan.sources" <<SOURCES
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  apt_options="-o Dir::Etc::SourceList=/dev/null
    -o Dir::Etc::SourceParts=$abseil/apt -o Dir::State::Lists=$abseil/apt/lists"
  # shellcheck disable=SC2086  # the options are words on purpose
  apt-get $apt_options update >/dev/null
  # shellcheck disable=SC2086
  (cd "$abseil/src" && apt-get $apt_options source --download-only \
    "abseil=$version" >/dev/null 2>&1)
  rm -rf "$abseil/src/abseil"
  dpkg-source -x "$abseil/src"/abseil_*.dsc "$abseil/src/abseil" >/dev/null
  cmake -S "$abseil/src/abseil" -B "$abseil/build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_STANDARD=17 \
    -DBUILD_SHARED_LIBS=ON \
    -DCMAKE_CXX_FLAGS='-fsanitize=thread -fno-omit-frame-pointer' \
    -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread >/dev/null
  ninja -C "$abseil/build" >/dev/null
  mkdir -p "$abseil/lib"
  find "$abseil/build" -name 'libabsl_*.so.20220623' \
    -exec cp -L {} "$abseil/lib/" \;
fi
missing=0
for lib in /usr/lib/x86_64-linux-gnu/libabsl_*.so.20220623; do
  [ -f "$abseil/lib/$(basename "$lib")" ] || missing=$((missing + 1))
done
if [ "$missing" -ne 0 ]; then
  echo "tests/tsan/run.sh: $missing Abseil libraries not rebuilt" >&2
  exit 1
fi

# 2. The project with -fsanitize=thread (COHORTE_TSAN).
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCOHORTE_TSAN=ON >/dev/null
fi
ninja -C "$build" storage_test service_test e2e_test client_test \
  protobuf_utf8_test cohorted cohorte

# 3. The tests; every process's reports in $reports.
rm -rf "$reports"
mkdir -p "$reports"
status=0
LD_LIBRARY_PATH=$abseil/lib \
  TSAN_OPTIONS="log_path=$reports/tsan second_deadlock_stack=1 halt_on_error=0 suppressions=$root/tests/tsan/suppressions.txt" \
  ctest --test-dir "$build" -j2 --timeout 900 -R "$tests" \
    --output-on-failure || status=$?
found=$(find "$reports" -type f | wc -l)
if [ "$found" -ne 0 ]; then
  echo "ThreadSanitizer: reports from $found processes in $reports:"
  grep -h '^WARNING: ThreadSanitizer' "$reports"/* | sort | uniq -c
  exit 1
fi
echo "ThreadSanitizer: no report"
exit "$status"
