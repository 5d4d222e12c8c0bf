#!/usr/bin/env bash
# The README's second command: installs what is missing, builds everything
# with AddressSanitizer and UndefinedBehaviorSanitizer and warnings as
# errors, and runs the whole suite with ctest; then the whole suite again on
# the build deploy/run.sh serves (RelWithDebInfo in build/: optimized,
# NDEBUG; the end-to-end tests drive its cohorted, linked with jemalloc),
# whose release-only paths the sanitized build does not take; then builds
# the fuzz targets with clang (libFuzzer + AddressSanitizer) and runs each
# for 3 seconds from its seed corpus (tests/fuzz/README.md has the long
# run).
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/install-deps.sh
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCOHORTE_SANITIZE=ON -DCOHORTE_WERROR=ON >/dev/null
cmake --build build-asan
# halt_on_error: a sanitizer report fails the test that caused it.
export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
ctest --test-dir build-asan --output-on-failure -j2 "$@"

# deploy/run.sh then only builds what changed.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCOHORTE_BUILD_TESTS=ON >/dev/null
cmake --build build
ctest --test-dir build --output-on-failure -j2 "$@"

cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_COMPILER=clang++ \
  -DCOHORTE_FUZZ=ON -DCOHORTE_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz --target fuzz_targets
tests/fuzz/run.sh build-fuzz 3
