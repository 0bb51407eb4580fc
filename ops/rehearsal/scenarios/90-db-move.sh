# shellcheck shell=bash
# db-move: the runbook's "Moving on Swarm, step by step" under load. A second
# PostgreSQL (postgres-new, the same database image, on the stack's backend
# network) with MiniTwit's role and an empty database; the stack redeployed
# with both servers in its database address (a config made from a temporary
# file, never ops/swarm/database-url); then `minitwit replicate start --wait`,
# `status` and `cutover` as one-off jobs of the running image on the backend
# network. The replicas and the backup service follow without a redeploy: no
# request fails, the slowest is at most 2 s, every acknowledged write is on
# postgres-new exactly once, and writes after the cutover land there.
#
# Last in file order: afterwards the stack runs on postgres-new and the old
# server is read-only (the move's fence), which the other scenarios do not
# expect. The teardown removes postgres-new with the stack.
rh_scenario db-move

RH_MOVE_SLOWEST_MS=2000

# rh_move_job STEP ARGS...: `minitwit replicate ARGS...` as a one-off Swarm
# job of the running image on the backend network, with the superusers' URLs
# as secrets; its output in $RH_TMP/move-STEP.log. Fails when the job does.
rh_move_job() {
  local step=$1 job="${RH_STACK}_move-$1" state="" status=1 t0=$SECONDS
  shift
  docker service rm "$job" >/dev/null 2>&1 || true
  docker service create --detach --quiet --name "$job" --mode replicated-job \
    --restart-condition none --no-healthcheck --network "${RH_STACK}_backend" \
    --secret source=rehearsal_move_from_url,target=move_from_url \
    --secret source=rehearsal_move_to_url,target=move_to_url \
    --env REPLICATION_SOURCE_URL_FILE=/run/secrets/move_from_url \
    --env REPLICATION_TARGET_URL_FILE=/run/secrets/move_to_url \
    --env NODE_ENV=production \
    "$MINITWIT_IMAGE:$RH_MOVE_VERSION" replicate "$@" >/dev/null || return 1
  while [ $((SECONDS - t0)) -lt 600 ]; do
    state=$(docker service ps "$job" --format '{{.CurrentState}}' 2>/dev/null | head -n 1)
    case "$state" in
      Complete*) status=0 && break ;;
      Failed* | Rejected* | Shutdown* | Orphaned*) break ;;
    esac
    sleep 1
  done
  sleep 1
  docker service logs --raw "$job" >"$RH_TMP/move-$step.log" 2>&1 || true
  docker service rm "$job" >/dev/null 2>&1 || true
  [ "$status" = 0 ] || echo "replicate $step ended ${state:-unstarted}: $(tail -n 5 "$RH_TMP/move-$step.log" | tr '\n' ' ')" >"$RH_TMP/move-why"
  return "$status"
}

rh_move_new_ready() {
  [ -n "$(rh_container postgres-new)" ] &&
    docker exec "$(rh_container postgres-new)" pg_isready -U postgres -q
}

# The service's configs name the move's database address.
rh_move_configured() {
  docker service inspect --format '{{range .Spec.TaskTemplate.ContainerSpec.Configs}}{{.ConfigName}} {{end}}' \
    "${RH_STACK}_$1" | grep -q "database_url_move_$RH_RUN"
}

rh_move_count() {
  docker exec -i "$(rh_container "$1")" psql -U minitwit -d minitwit -At -c \
    "SELECT count(*) FROM messages WHERE text LIKE '$RH_LOAD_TAG %'"
}

scenario_db_move() {
  rh_ensure_deployed || { rh_fail db-move "the stack is not up: $(rh_not_converged)"; return 0; }
  local problems=() password super t0 took window old new backup_out status_ok=""
  RH_MOVE_VERSION=$(rh_label minitwit.version)
  rm -f "$RH_TMP/move-why"

  # 1. The new server: the database image's PostgreSQL with its own
  # superuser (postgres), then MiniTwit's role with today's password and an
  # empty database, as the runbook's step 1.
  password=$(docker exec "$(rh_container postgres)" cat /run/secrets/db_password | tr -d '\n')
  super=$(openssl rand -hex 24)
  docker secret rm rehearsal_move_superuser_password rehearsal_move_from_url rehearsal_move_to_url >/dev/null 2>&1 || true
  printf %s "$super" | docker secret create rehearsal_move_superuser_password - >/dev/null
  # The cluster's superusers: minitwit on the old server (the stand-in
  # initialises it as POSTGRES_USER), postgres on the new one.
  printf 'postgres://minitwit:%s@postgres:5432/minitwit' "$(jq -rn --arg s "$password" '$s | @uri')" |
    docker secret create rehearsal_move_from_url - >/dev/null
  printf 'postgres://postgres:%s@postgres-new:5432/minitwit' "$super" |
    docker secret create rehearsal_move_to_url - >/dev/null
  docker service create --detach --quiet --name "${RH_STACK}_postgres-new" \
    --label "com.docker.stack.namespace=$RH_STACK" \
    --network "name=${RH_STACK}_backend,alias=postgres-new" --endpoint-mode dnsrr \
    --secret source=rehearsal_move_superuser_password,target=superuser_password \
    --env POSTGRES_USER=postgres --env POSTGRES_PASSWORD_FILE=/run/secrets/superuser_password \
    --env PGDATA=/var/lib/postgresql/data/pgdata \
    --entrypoint /usr/local/bin/docker-entrypoint.sh \
    "$MINITWIT_IMAGE-postgres:$POSTGRES_IMAGE_VERSION" postgres -c wal_level=logical >/dev/null ||
    { rh_fail db-move "docker service create postgres-new failed"; return 0; }
  rh_wait 120 rh_move_new_ready || { rh_fail db-move "postgres-new did not start within 120 s"; return 0; }
  docker exec -i "$(rh_container postgres-new)" psql -U postgres -d postgres -q -v ON_ERROR_STOP=1 -v "pw=$password" >/dev/null <<'SQL' ||
CREATE ROLE minitwit LOGIN PASSWORD :'pw';
CREATE DATABASE minitwit;
SQL
    { rh_fail db-move "could not create the role and database on postgres-new"; return 0; }

  # 2. Both servers in the database address, deployed with the running
  # version: a config from a temporary file, merged over the rehearsal's
  # override (its name carries the run, as configs cannot change in place).
  printf 'postgres://minitwit@postgres:5432,postgres-new:5432/minitwit\n' >"$RH_TMP/database-url-move"
  cat >"$RH_TMP/stack.db-move.yml" <<EOF
configs:
  database_url:
    name: ${RH_STACK}_database_url_move_${RH_RUN}
    file: $RH_TMP/database-url-move
EOF
  t0=$SECONDS
  STACK_OVERRIDE="$STACK_OVERRIDE $RH_TMP/stack.db-move.yml" rh_deploy "$RH_MOVE_VERSION" ||
    { rh_fail db-move "ops/deploy.sh $RH_MOVE_VERSION with both servers failed (log above)"; return 0; }
  rh_wait 300 rh_converged || { rh_fail db-move "not converged after the redeploy: $(rh_not_converged)"; return 0; }
  if ! rh_move_configured minitwit || ! rh_move_configured backup; then
    rh_fail db-move "minitwit or backup does not read the two-server address after the redeploy"
    return 0
  fi
  rh_log "db-move: redeployed with both servers in $((SECONDS - t0)) s"

  # 3. The move, under load.
  rh_load_start db-move 4 2 600 300000
  sleep 5
  t0=$SECONDS
  if rh_move_job start start --wait --timeout 300; then
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      rh_move_job status status || break
      if grep -q '^phase: replicating' "$RH_TMP/move-status.log" && ! grep -qE '^  [a-z_]+ +(initializing|copying|copied|synchronized)$' "$RH_TMP/move-status.log"; then
        status_ok=yes && break
      fi
      sleep 2
    done
    [ -n "$status_ok" ] || problems+=("status never showed every table ready: $(tr '\n' ' ' <"$RH_TMP/move-status.log" | head -c 400)")
    rh_move_job cutover cutover || problems+=("$(cat "$RH_TMP/move-why")")
  else
    problems+=("$(cat "$RH_TMP/move-why")")
  fi
  took=$((SECONDS - t0))
  window=$(grep -o 'write-unavailable window: [0-9]* ms' "$RH_TMP/move-cutover.log" 2>/dev/null | grep -o '[0-9]*' | head -n 1)
  # The load goes on past the cutover: its writes must land on postgres-new.
  sleep 10

  rh_wait 60 rh_converged || problems+=("not every service ready after the cutover: $(rh_not_converged)")
  # The backup service follows: a backup now reads postgres-new (it refuses
  # a database a move has retired).
  if ! backup_out=$(docker exec "$(rh_container backup)" /usr/local/bin/minitwit backup --keep-days 14 2>&1); then
    problems+=("a backup in the backup service failed after the move: $(tail -n 3 <<<"$backup_out" | tr '\n' ' ')")
  fi

  RH_DB_SERVICE=postgres-new rh_load_check || problems+=("$L_WHY")
  old=$(rh_move_count postgres 2>/dev/null || echo "?")
  new=$(rh_move_count postgres-new 2>/dev/null || echo "?")
  [[ $old =~ ^[0-9]+$ && $new =~ ^[0-9]+$ && $new -gt $old ]] ||
    problems+=("no write after the cutover on postgres-new (this load's messages: $old on postgres, $new on postgres-new)")
  [ "${L_FAILED:-1}" = 0 ] || problems+=("$L_FAILED requests failed: $L_EXAMPLES")
  [ "${L_LOST:-1}" = 0 ] && [ "${L_DUPLICATED:-1}" = 0 ] || problems+=("writes lost or stored twice: $L_EXAMPLES")
  [ "${L_SLOWEST:-99999}" -le "$RH_MOVE_SLOWEST_MS" ] || problems+=("the slowest request took ${L_SLOWEST} ms (at most $RH_MOVE_SLOWEST_MS)")
  [ -n "$window" ] || problems+=("the cutover printed no write-unavailable window")

  docker secret rm rehearsal_move_from_url rehearsal_move_to_url >/dev/null 2>&1 || true
  if [ ${#problems[@]} -gt 0 ]; then
    rh_fail db-move "$(IFS=';'; echo "${problems[*]}")"
  else
    rh_pass db-move "requests $L_REQUESTS, failed $L_FAILED, lost $L_LOST, slowest $L_SLOWEST ms, window $window ms, stored twice $L_DUPLICATED, acknowledged writes $L_ACKED; start, status and cutover in $took s; this load's messages: $new on postgres-new, $old on the retired postgres (those before the cutover); every replica and the backup service on postgres-new without a redeploy"
  fi
}
