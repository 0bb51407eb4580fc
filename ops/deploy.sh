#!/usr/bin/env bash
# Deploys a released MiniTwit version to the Swarm stack (ops/swarm/stack.yml):
#
#   1. refuses a missing or malformed version, and a version whose image the
#      registry does not have;
#   2. runs the new version's migrations as a one-off Swarm job while the old
#      version keeps serving (migrations must be backwards compatible with
#      it: ops/README.md, "Deploying");
#   3. deploys the stack: Swarm replaces one replica at a time, starting the
#      new one before stopping an old one, and rolls back by itself if a new
#      replica fails its health check;
#   4. waits until every replica runs the new version and is healthy, and
#      reports.
#
# Usage: ops/deploy.sh <version>            e.g. ops/deploy.sh 1.4.0
#        ops/rollback.sh [version]          (calls this with --rollback)
#
# Environment: MINITWIT_IMAGE (required, e.g. ghcr.io/OWNER/minitwit) and
# what ops/swarm/stack.yml needs (DOMAIN, ACME_EMAIL, S3_ENDPOINT, S3_BUCKET);
# MINITWIT_STACK (default minitwit); STACK_OVERRIDE (compose files merged
# over stack.yml, space-separated); DEPLOY_TIMEOUT seconds (default 900);
# DEPLOY_POLL_INTERVAL seconds (default 5). Point DOCKER_HOST at a manager
# (ssh://deploy@manager) to deploy from elsewhere.
#
# Exit codes: 0 deployed, 1 failed (the message says what runs now), 2 usage.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
STACK="${MINITWIT_STACK:-minitwit}"
SERVICE="${STACK}_minitwit"
TIMEOUT="${DEPLOY_TIMEOUT:-900}"
INTERVAL="${DEPLOY_POLL_INTERVAL:-5}"
# The database the app uses: the one address MiniTwit and the backup service read too.
DATABASE_URL_FILE="$here/swarm/database-url"

action=deploy
usage() {
  echo "Usage: ops/deploy.sh <version>      (a released version, e.g. 1.4.0)" >&2
  echo "       ops/rollback.sh [version]" >&2
}
fail() {
  echo "$action: $*" >&2
  exit 1
}
usage_error() {
  echo "$action: $*" >&2
  usage
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --rollback) action=rollback && shift ;;
    -h | --help) usage && exit 0 ;;
    --) shift && break ;;
    -*) usage_error "unknown option $1" ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || usage_error "which version? none was given"
[ $# -eq 1 ] || usage_error "give exactly one version, got $#: $*"
version="$1"

# Immutable release tags only: a semantic version, or a commit's hash.
if [ "$version" = latest ]; then
  usage_error "\"latest\" is not a version: deploy an immutable release tag such as 1.4.0"
fi
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ || "$version" =~ ^[0-9a-f]{7,40}$ ]]; then
  usage_error "\"$version\" is not a release version (like 1.4.0) or a commit hash"
fi
[ -n "${MINITWIT_IMAGE:-}" ] || usage_error "set MINITWIT_IMAGE to the image's repository, e.g. ghcr.io/OWNER/minitwit"
image="$MINITWIT_IMAGE:$version"

if ! docker manifest inspect "$image" >/dev/null 2>&1 && ! docker image inspect "$image" >/dev/null 2>&1; then
  fail "unknown version $version: the registry has no image $image"
fi

label() { docker service inspect --format "{{index .Spec.Labels \"$1\"}}" "$SERVICE" 2>/dev/null || true; }
current=$(label minitwit.version)
previous=$(label minitwit.previous-version)
# The version ops/rollback.sh returns to: the one running now. Redeploying
# the running version keeps it; after a rollback there is none (rolling back
# twice would return to the version just abandoned).
if [ "$action" = rollback ]; then
  previous=""
elif [ "$current" != "$version" ]; then
  previous="$current"
fi
started=$SECONDS

echo "--- $action: $image on stack $STACK (running now: ${current:-nothing})"

# 1. Migrations, by the new version, before any replica of it takes traffic.
job="${STACK}_migrate"
job_state() { docker service ps "$job" --format '{{.CurrentState}}' 2>/dev/null | head -n 1; }
if [ "$action" = rollback ]; then
  echo "migrations: skipped (a rollback; the schema stays as the newer version left it)"
elif [ -z "$current" ]; then
  echo "migrations: first deploy; the replicas apply them at start, under an advisory lock"
else
  docker service rm "$job" >/dev/null 2>&1 || true
  docker service create --detach --quiet --name "$job" --mode replicated-job \
    --restart-condition none --with-registry-auth \
    --network "${STACK}_backend" \
    --secret source=minitwit_db_password,target=db_password \
    --env DATABASE_URL="$(tr -d '\n' <"$DATABASE_URL_FILE")" \
    --env DATABASE_PASSWORD_FILE=/run/secrets/db_password \
    --env NODE_ENV=production \
    --label minitwit.version="$version" \
    "$image" migrate >/dev/null
  while :; do
    state=$(job_state)
    case "$state" in
      Complete*) break ;;
      Failed* | Rejected* | Shutdown* | Orphaned*)
        docker service logs --raw "$job" >&2 || true
        docker service rm "$job" >/dev/null 2>&1 || true
        fail "the migrations of $version failed ($state); nothing else changed: $current still runs"
        ;;
    esac
    [ "$SECONDS" -lt $((started + TIMEOUT)) ] || fail "the migrations of $version did not finish in ${TIMEOUT}s"
    sleep "$INTERVAL"
  done
  docker service logs --raw "$job" 2>/dev/null | tail -n 5 || true
  docker service rm "$job" >/dev/null
  echo "migrations: done"
fi

# 2. The rolling update. Configs are immutable in Swarm: their names carry a
# hash of the configuration files, so a changed file becomes a new config.
config_version=$(cd "$here" && find swarm monitoring logging -type f ! -name '*stack.yml' ! -name '*.test.yml' -print0 |
  sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)
update_status() {
  docker service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.State}} {{.UpdateStatus.StartedAt}}{{end}}' \
    "$SERVICE" 2>/dev/null || true
}
# An update status left from an earlier deploy says nothing about this one.
read -r _ stale_start <<<"$(update_status)" || true
# STACK_OVERRIDE: compose files merged over stack.yml, e.g. a staging
# Swarm's or the rehearsal's (ops/rehearsal/stack.rehearsal.yml).
compose_files=(--compose-file "$here/swarm/stack.yml")
for file in ${STACK_OVERRIDE:-}; do compose_files+=(--compose-file "$file"); done
# docker stack merges a service's ports by published number, so an override
# naming the proxy at all drops its 443/tcp for 443/udp (docker/cli#6223).
if [ -n "${STACK_OVERRIDE:-}" ]; then
  published() { MINITWIT_VERSION="$version" docker stack config "$@" | grep -c 'published:' || true; }
  [ "$(published "${compose_files[@]}")" -eq "$(published --compose-file "$here/swarm/stack.yml")" ] ||
    fail "STACK_OVERRIDE loses published ports in docker stack's merge (docker/cli#6223): do not name the proxy service in it"
fi
MINITWIT_VERSION="$version" MINITWIT_PREVIOUS_VERSION="$previous" CONFIG_VERSION="$config_version" \
  docker stack deploy --with-registry-auth "${compose_files[@]}" "$STACK"

# 3. Wait until every replica runs the new image and is healthy (a task with
# a health check is "Running" only once it passed), and Swarm's update is over.
wanted=$(docker service inspect --format '{{.Spec.Mode.Replicated.Replicas}}' "$SERVICE")
while :; do
  read -r update update_start <<<"$(update_status)" || true
  if [ -n "${stale_start:-}" ] && [ "${update_start:-}" = "$stale_start" ]; then update=stale; fi
  case "$update" in
    rollback_*)
      why=$(docker service inspect --format '{{.UpdateStatus.Message}}' "$SERVICE" || true)
      fail "$version failed its health checks and Swarm rolled back to ${current:-the previous version} ($why);" \
        "${current:+ops/rollback.sh $current returns the other services too}"
      ;;
    paused)
      fail "the update to $version is paused: see docker service ps --no-trunc $SERVICE"
      ;;
  esac
  tasks=$(docker service ps "$SERVICE" --filter desired-state=running --format '{{.Image}} {{.CurrentState}}')
  healthy=$(grep -cE "^$image(@[^ ]*)? Running" <<<"$tasks" || true)
  others=$(grep -cvE "^$image(@[^ ]*)? Running" <<<"$tasks" || true)
  if [ "$update" != updating ] && [ "$healthy" -eq "$wanted" ] && [ "$others" -eq 0 ]; then break; fi
  if [ "$SECONDS" -ge $((started + TIMEOUT)) ]; then
    fail "after ${TIMEOUT}s only $healthy of $wanted replicas run $version healthily; see docker service ps --no-trunc $SERVICE"
  fi
  sleep "$INTERVAL"
done

echo "--- $action done: $version runs on $healthy/$wanted healthy replicas (was ${current:-nothing}) after $((SECONDS - started))s"
docker stack services "$STACK"
