# shellcheck shell=bash
# The stack as the runbook makes it: secrets from standard input, deploys
# and rollbacks with the real ops/deploy.sh and ops/rollback.sh, and the
# questions scenarios ask of it (is it converged, which containers, what
# Prometheus and PostgreSQL say). Sourced by run.sh.

# What ops/deploy.sh and stack.yml need, for this machine.
rh_stack_env() {
  export MINITWIT_IMAGE MINITWIT_STACK="$RH_STACK" POSTGRES_IMAGE_VERSION
  export DOMAIN=localhost ACME_EMAIL=ops@example.org
  export S3_ENDPOINT=https://s3.rehearsal S3_BUCKET=minitwit-backups
  export STACK_OVERRIDE="$RH_ROOT/ops/rehearsal/stack.rehearsal.yml"
  export REHEARSAL_S3_IMAGE="$RH_S3_IMAGE" REHEARSAL_ALERT_SINK_IMAGE="$RH_ALERT_SINK_IMAGE" REHEARSAL_RUN="$RH_RUN"
  export REHEARSAL_S3_CA="$RH_TMP/s3-ca.crt" REHEARSAL_S3_CERT="$RH_TMP/s3.crt"
  export DEPLOY_POLL_INTERVAL=2
}

# The secrets of ops/README.md ("Once: nodes, Swarm, secrets"), each from
# standard input; the S3 pair is s3rver's fixed one.
rh_secrets() {
  local dir="$RH_TMP/secrets"
  mkdir -p "$dir" && chmod 700 "$dir"
  openssl rand -base64 32 | tr -d '\n' | docker secret create minitwit_db_password - >/dev/null
  openssl rand -hex 32 | docker secret create minitwit_session_secret - >/dev/null
  SIMULATOR_TOKEN=$(printf 'simulator:%s' "$(openssl rand -hex 12)" | base64 -w0)
  export SIMULATOR_TOKEN
  printf '%s' "$SIMULATOR_TOKEN" | docker secret create minitwit_simulator_token - >/dev/null
  # For a look at a kept stack (REHEARSAL_KEEP=1).
  printf '%s' "$SIMULATOR_TOKEN" >"$dir/simulator_token"
  printf S3RVER | docker secret create minitwit_s3_access_key_id - >/dev/null
  printf S3RVER | docker secret create minitwit_s3_secret_access_key - >/dev/null
  age-keygen -o "$dir/backup.key" 2>/dev/null
  age-keygen -y "$dir/backup.key" | docker secret create minitwit_backup_age_recipients - >/dev/null
  openssl rand -base64 48 | tr -d '\n' | docker secret create minitwit_pgbackrest_cipher_pass - >/dev/null
  printf unused | docker secret create alertmanager_smtp_password - >/dev/null
  # The Watchdog's ping URL: the alert sink on the monitoring network, never
  # the outside check (the rehearsal's alertmanager.yml names the same URL:
  # Debian's Alertmanager 0.25 has no url_file).
  printf %s http://alert-sink:9099/heartbeat | docker secret create alertmanager_heartbeat_url - >/dev/null
  openssl rand -base64 24 | docker secret create grafana_admin_password - >/dev/null
  # A secret stack.yml gained since this list was written gets a
  # placeholder, said aloud, so the rehearsal still deploys.
  local name
  while read -r name; do
    docker secret inspect "$name" >/dev/null 2>&1 && continue
    rh_log "secret $name is not in the rehearsal's list: a placeholder value"
    printf rehearsal-placeholder | docker secret create "$name" - >/dev/null
  done < <(awk '/^secrets:/ { on = 1; next } on && /^  [a-z_]+:/ { sub(":", "", $1); print $1 }' "$RH_ROOT/ops/swarm/stack.yml")
  # The S3 stand-in's TLS: a CA of this run, and a certificate for both the
  # path-style and the host-style name.
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=rehearsal S3 CA" \
    -keyout "$dir/s3-ca.key" -out "$RH_TMP/s3-ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=s3.rehearsal" -keyout "$dir/s3.key" -out "$dir/s3.csr" 2>/dev/null
  printf 'subjectAltName=DNS:s3.rehearsal,DNS:%s.s3.rehearsal\n' "$S3_BUCKET" >"$dir/s3.ext"
  openssl x509 -req -in "$dir/s3.csr" -CA "$RH_TMP/s3-ca.crt" -CAkey "$dir/s3-ca.key" -CAcreateserial \
    -days 2 -extfile "$dir/s3.ext" -out "$RH_TMP/s3.crt" 2>/dev/null
  docker secret create rehearsal_s3_tls_key - <"$dir/s3.key" >/dev/null
}

# rh_deploy VERSION / rh_rollback [VERSION]: the real scripts; their output
# goes to a log, shown when they fail.
rh_deploy() {
  bash "$RH_ROOT/ops/deploy.sh" "$1" >"$RH_TMP/deploy-$1.log" 2>&1 ||
    { tail -n 25 "$RH_TMP/deploy-$1.log" >&2; return 1; }
}
rh_rollback() {
  bash "$RH_ROOT/ops/rollback.sh" "$@" >"$RH_TMP/rollback.log" 2>&1 ||
    { tail -n 25 "$RH_TMP/rollback.log" >&2; return 1; }
}

rh_label() { docker service inspect --format "{{index .Spec.Labels \"$1\"}}" "${RH_STACK}_minitwit" 2>/dev/null; }

# Every service of the stack runs as many tasks as it wants, and no
# container of it is starting or unhealthy.
rh_converged() {
  local line name replicas
  while read -r name replicas; do
    [ "${replicas%%/*}" = "${replicas#*/}" ] || return 1
    [[ $replicas == */0 ]] || docker ps -q -f "label=com.docker.swarm.service.name=$name" -f status=running | grep -q . || return 1
  done < <(docker service ls --filter "label=com.docker.stack.namespace=$RH_STACK" --format '{{.Name}} {{.Replicas}}' | sed 's/ (.*//')
  line=$(docker ps -q -f "label=com.docker.stack.namespace=$RH_STACK" -f health=starting -f health=unhealthy)
  [ -z "$line" ]
}
# Services of the stack that are not converged, for a FAIL line.
rh_not_converged() {
  docker service ls --filter "label=com.docker.stack.namespace=$RH_STACK" --format '{{.Name}} {{.Replicas}}' |
    awk '{ split($2, r, "/"); if (r[1] != r[2]) printf "%s %s; ", $1, $2 }'
  docker ps -f "label=com.docker.stack.namespace=$RH_STACK" -f health=unhealthy --format '{{.Names}} unhealthy; '
}

# The running containers of a service (short name, e.g. minitwit).
rh_containers() { docker ps -q -f "label=com.docker.swarm.service.name=${RH_STACK}_$1" -f status=running; }
rh_container() { rh_containers "$1" | head -n 1; }

# Every running MiniTwit replica's version (`minitwit version` in it), one a line.
rh_replica_versions() {
  local c
  for c in $(rh_containers minitwit); do
    docker exec "$c" /usr/local/bin/minitwit version | awk '{print $2}'
  done
}

# rh_prometheus PATH: Prometheus's HTTP API, asked inside its container
# (it publishes no port).
rh_prometheus() { docker exec "$(rh_container prometheus)" wget -q -O - "http://127.0.0.1:9090$1"; }

# rh_psql SQL: a query in the database, over its local socket; in the
# service RH_DB_SERVICE (default postgres; db-move's postgres-new).
rh_psql() { docker exec -i "$(rh_container "${RH_DB_SERVICE:-postgres}")" psql -U minitwit -d minitwit -At -v ON_ERROR_STOP=1 -c "$1"; }

# Caddy's internal CA root, which signs its certificate for "localhost".
rh_caddy_ca() {
  # A staging proxy's certificate is a public CA's: the operator names the bundle.
  if [ -n "${REHEARSAL_CA:-}" ]; then
    cp "$REHEARSAL_CA" "$RH_TMP/caddy-root.crt"
    return
  fi
  # docker cp: the image has no cat (nor the real one's busybox).
  docker cp "$(rh_container proxy):/data/caddy/pki/authorities/local/root.crt" "$RH_TMP/caddy-root.crt" >/dev/null 2>&1 &&
    [ -s "$RH_TMP/caddy-root.crt" ]
}

# Before a scenario that needs a running stack: deploys the first version
# when nothing runs (not counted as a scenario), and waits for it.
rh_ensure_deployed() {
  if ! docker service inspect "${RH_STACK}_minitwit" >/dev/null 2>&1; then
    rh_log "deploying $RH_V1 first"
    rh_deploy "$RH_V1" || return 1
  fi
  rh_wait 300 rh_converged && rh_wait 60 rh_caddy_ca
}

# rh_sink PATH: the alert sink's HTTP API, asked inside its container (it
# publishes no port): /received[?since=MS], /check[?max=S].
rh_sink() { docker exec "$(rh_container alert-sink)" wget -q -O - "http://127.0.0.1:9099$1"; }

# rh_sink_has SINCE_MS ALERTNAME STATUS: the sink received ALERTNAME with
# STATUS (firing, resolved) since SINCE_MS (a Unix time in milliseconds).
rh_sink_has() {
  rh_sink "/received?since=$1" | jq -e --arg name "$2" --arg status "$3" \
    '[.[] | .alerts[] | select(.alertname == $name and .status == $status)] | length > 0' >/dev/null
}

# rh_sink_first SINCE_MS ALERTNAME STATUS: when it first arrived (ms), or nothing.
rh_sink_first() {
  rh_sink "/received?since=$1" | jq -r --arg name "$2" --arg status "$3" \
    '[.[] | select(any(.alerts[]; .alertname == $name and .status == $status)) | .at] | min // empty'
}

rh_now_ms() { echo $(($(date +%s%N) / 1000000)); }
