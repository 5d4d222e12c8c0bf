#!/usr/bin/env bash
# The README's first command: installs what is missing, builds (release),
# and runs cohorted in the foreground on 127.0.0.1 with its data under
# ./data. The first start makes the admin token and seeds the demo
# cohorts. Ctrl-C stops it cleanly. Extra arguments go to cohorted.
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCOHORTE_BUILD_TESTS=OFF >/dev/null
cmake --build build --target cohorted cohorte
# A short path for the commands cohorted prints.
ln -sf client/cohorte build/cohorte

exec build/server/cohorted --listen "${COHORTE_LISTEN:-127.0.0.1:50051}" \
  --data-dir "${COHORTE_DATA_DIR:-data}" --seed-demo \
  --instance-name "${COHORTE_INSTANCE_NAME:-Occitanie}" "$@"
