#!/usr/bin/env bash
# A second, "national" instance that follows the demo's Occitanie cohort
# (README, "Following another instance"). Run deploy/run.sh first, in
# another terminal: this script asks that instance (COHORTE_REGIONAL,
# default 127.0.0.1:50051, admin token in data/admin.token) for a READ
# service token of cohort occitanie, starts cohorted on 127.0.0.1:50052
# with its data under ./data-national, and links it to the regional one.
# Ctrl-C stops it cleanly; run it again and it goes on from where it was.
# Extra arguments go to cohorted.
set -euo pipefail
cd "$(dirname "$0")/.."

regional="${COHORTE_REGIONAL:-127.0.0.1:50051}"
regional_token="${COHORTE_REGIONAL_TOKEN_FILE:-data/admin.token}"
listen="${COHORTE_NATIONAL_LISTEN:-127.0.0.1:50052}"
data="${COHORTE_NATIONAL_DATA_DIR:-data-national}"

deploy/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCOHORTE_BUILD_TESTS=OFF >/dev/null
cmake --build build --target cohorted cohorte
ln -sf client/cohorte build/cohorte

first_start=0
[ -e "$data/store" ] || first_start=1
if [ "$first_start" = 1 ] && [ ! -r "$regional_token" ]; then
  echo "national.sh: no $regional_token: start deploy/run.sh first" >&2
  exit 66
fi

build/server/cohorted --listen "$listen" --data-dir "$data" \
  --instance-name "${COHORTE_NATIONAL_NAME:-National}" "$@" &
server=$!
trap 'kill -TERM "$server" 2>/dev/null; wait "$server"; exit 0' INT TERM
# Wait (at most 30 s) for the server to answer.
for _ in $(seq 300); do
  [ -r "$data/admin.token" ] &&
    build/cohorte --server "$listen" --token-file "$data/admin.token" health \
      >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || exit 1
  sleep 0.1
done
if [ "$first_start" = 1 ]; then
  # The regional instance issues the token the national one follows with;
  # it is kept beside the national instance's own admin token.
  (umask 077
   build/cohorte --server "$regional" --token-file "$regional_token" \
     tokens create-service --display-name "Instance nationale" \
     --cohort occitanie --access read >"$data/occitanie.peer-token")
  build/cohorte --server "$listen" --token-file "$data/admin.token" \
    links create --id occitanie --display-name "Occitanie" \
    --endpoint "$regional" --cohort occitanie \
    --peer-token-file "$data/occitanie.peer-token"
fi
echo "national.sh: following cohorts/occitanie of $regional; try:"
echo "  build/cohorte --server $listen --token-file $data/admin.token links list"
echo "  build/cohorte --server $listen --token-file $data/admin.token reports list --cohort occitanie"
wait "$server"
