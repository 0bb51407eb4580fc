#!/usr/bin/env bash
# The MiniTwit stack rehearsed on this machine: the real ops/swarm/stack.yml
# on a one-node Docker Swarm, deployed, released, rolled back and broken on
# purpose with the real ops/deploy.sh and ops/rollback.sh, under a bounded
# load through the proxy on 127.0.0.1 (docs/operations.md, "Rehearsal").
#
# Usage: ops/rehearsal/run.sh [SCENARIO...]      (none: all, in file order)
#   scenarios: the files in ops/rehearsal/scenarios/ (deploy, release,
#   rollback, crash, ...). Each prints `PASS name: figures` or
#   `FAIL name: why`; the run ends with `N passed, N failed` and exits 1 on
#   any failure, 2 on a usage error.
#
# Needs root on Debian with docker.io (dockerd), a docker client of 25 or
# later, buildah, bun, caddy, prometheus, prometheus-alertmanager,
# prometheus-node-exporter, prometheus-postgres-exporter, postgresql-15,
# pgbackrest, jq, age, openssl, curl, e2fsprogs (.ci/run installs them).
#
# Env: DOCKER_HOST, when it answers, is used instead of a private dockerd
# (then REHEARSAL_BUILD=0 uses the images already there and
# REHEARSAL_V1/REHEARSAL_V2 name the two versions); MINITWIT_IMAGE (default
# registry.invalid/minitwit); REHEARSAL_KEEP=1 leaves the stack up for a look (the
# private dockerd too: stop it with the command printed).

# The settings below are read by the files sourced from lib/ and scenarios/.
# shellcheck disable=SC2034
set -euo pipefail

RH_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RH_TMP=$(mktemp -d /tmp/minitwit-rehearsal.XXXXXX)
RH_RUN=$(date +%s)
RH_STACK=${MINITWIT_STACK:-minitwit}
# A registry name that never resolves: Swarm's pull before each task start
# goes to the private dockerd's dead-end proxy and fails at once (a
# "localhost/" name would be tried at 127.0.0.1:443, the proxy's port).
MINITWIT_IMAGE=${MINITWIT_IMAGE:-registry.invalid/minitwit}
# The database image is the stand-in's PostgreSQL 15, and its tag says so.
POSTGRES_IMAGE_VERSION=${POSTGRES_IMAGE_VERSION:-15-pgbackrest-rehearsal}
RH_S3_IMAGE=registry.invalid/minitwit-rehearsal-s3:1
RH_ALERT_SINK_IMAGE=registry.invalid/minitwit-rehearsal-alert-sink:1
base_version=$(jq -r .version "$RH_ROOT/package.json")
RH_V1=${REHEARSAL_V1:-$base_version-rehearsal.1}
RH_V2=${REHEARSAL_V2:-$base_version-rehearsal.2}

for file in "$RH_ROOT"/ops/rehearsal/lib/*.sh "$RH_ROOT"/ops/rehearsal/scenarios/*.sh; do
  # shellcheck source=/dev/null
  source "$file"
done

wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=("${RH_SCENARIOS[@]}")
for name in "${wanted[@]}"; do
  if ! declare -F "scenario_${name//-/_}" >/dev/null; then
    echo "rehearsal: no scenario \"$name\" (have: ${RH_SCENARIOS[*]})" >&2
    rm -rf "$RH_TMP"
    exit 2
  fi
done

finish() {
  local status=$?
  if [ "${REHEARSAL_KEEP:-0}" = 1 ]; then
    echo "rehearsal: kept; DOCKER_HOST=$DOCKER_HOST; stop with: kill \$(cat $RH_TMP/dockerd.pid)" >&2
    exit "$status"
  fi
  rh_log "teardown"
  rh_teardown
  rh_verify_clean || status=1
  exit "$status"
}
trap finish EXIT
trap 'echo "rehearsal: interrupted" >&2; exit 130' INT TERM

rh_pick_client
rh_start_daemon
rh_stack_env
if [ "${REHEARSAL_BUILD:-1}" = 1 ]; then rh_build_images; fi
docker secret inspect minitwit_db_password >/dev/null 2>&1 || rh_secrets

for name in "${wanted[@]}"; do
  rh_log "scenario $name"
  "scenario_${name//-/_}" || rh_fail "$name" "the scenario stopped with status $?"
  rh_load_stop
done

echo "$RH_PASSED passed, $RH_FAILED failed"
[ "$RH_FAILED" -eq 0 ]
