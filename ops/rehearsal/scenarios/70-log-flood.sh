# shellcheck shell=bash
# log-flood: a service on the stack's backend network writes logs as fast as
# it can for a minute, with the engine's default logging
# (ops/logging/daemon.json: json-file, 10 MB a file, 3 files). Its log files
# on disk never grow past that bound (measured while it writes and after),
# and MiniTwit keeps serving under load: no request fails, no write is lost.
rh_scenario log-flood

RH_FLOOD_SECONDS=60

rh_flood_started() { docker ps -aq -f "label=com.docker.swarm.service.name=$1" | grep -q .; }

# The bytes of one container's json-file logs on disk, rotated files included.
rh_flood_bytes() {
  local log
  log=$(docker inspect --format '{{.LogPath}}' "$1" 2>/dev/null) || return 1
  [ -n "$log" ] || return 1
  du -cb "$log"* 2>/dev/null | awk 'END { print $1 }'
}

scenario_log_flood() {
  rh_ensure_deployed || { rh_fail log-flood "the stack is not up: $(rh_not_converged)"; return 0; }
  local service="${RH_STACK}_log-flood" script container bound max_size max_file bytes peak=0 t0 written problems=()
  max_size=$(jq -r '."log-opts"."max-size"' "$RH_ROOT/ops/logging/daemon.json")
  max_file=$(jq -r '."log-opts"."max-file"' "$RH_ROOT/ops/logging/daemon.json")
  bound=$(($(numfmt --from=iec "${max_size^^}") * max_file))
  rh_load_start log-flood 4 2 600 300000
  sleep 3
  # 1 KiB lines, 64 at a time, for RH_FLOOD_SECONDS; the last line counts them.
  # shellcheck disable=SC2016 # expanded by the container's bash
  script='line=$(printf "%01023d" 0); block=""
for ((i = 0; i < 64; i++)); do block+="flood $line"$'"'\\n'"'; done
n=0; end=$((SECONDS + '"$RH_FLOOD_SECONDS"'))
while [ "$SECONDS" -lt "$end" ]; do printf "%s" "$block"; n=$((n + 1)); done
echo "flood wrote $((n * 64 * 1030)) bytes"'
  docker service rm "$service" >/dev/null 2>&1 || true
  docker service create --detach --quiet --name "$service" --restart-condition none \
    --network "${RH_STACK}_backend" --entrypoint /bin/bash \
    "$MINITWIT_IMAGE-postgres:$POSTGRES_IMAGE_VERSION" -c "$script" >/dev/null ||
    { rh_fail log-flood "docker service create $service failed"; return 0; }
  t0=$SECONDS
  container=""
  rh_wait 60 rh_flood_started "$service" || true
  while [ $((SECONDS - t0)) -lt $((RH_FLOOD_SECONDS + 30)) ]; do
    container=$(docker ps -aq -f "label=com.docker.swarm.service.name=$service" | head -n 1)
    if [ -n "$container" ]; then
      bytes=$(rh_flood_bytes "$container" || echo 0)
      [ "${bytes:-0}" -le "$peak" ] || peak=$bytes
      [ "$(docker inspect --format '{{.State.Running}}' "$container")" = true ] || break
    fi
    sleep 2
  done
  if [ -z "$container" ]; then
    problems+=("the flooding service never started a container")
  else
    bytes=$(rh_flood_bytes "$container" || echo 0)
    [ "$bytes" -le "$peak" ] || peak=$bytes
    written=$(docker logs --tail 1 "$container" 2>&1 | grep -o 'wrote [0-9]*' | grep -o '[0-9]*')
    [ -n "$written" ] || problems+=("the flood did not finish within $((RH_FLOOD_SECONDS + 30)) s")
    [ "${written:-0}" -gt "$bound" ] || problems+=("the flood wrote ${written:-0} bytes, not more than the bound $bound: it proves nothing")
    [ "$peak" -le $((bound + 1048576)) ] || problems+=("its logs took $peak bytes on disk, past the bound $bound (daemon.json: $max_size × $max_file)")
  fi
  docker service rm "$service" >/dev/null 2>&1 || true
  sleep 3
  rh_load_check || problems+=("$L_WHY")
  [ "${L_FAILED:-1}" = 0 ] || problems+=("$L_FAILED requests failed: $L_EXAMPLES")
  [ "${L_LOST:-1}" = 0 ] && [ "${L_DUPLICATED:-1}" = 0 ] || problems+=("writes lost or stored twice: $L_EXAMPLES")
  if [ ${#problems[@]} -gt 0 ]; then
    rh_fail log-flood "$(IFS=';'; echo "${problems[*]}")"
  else
    rh_pass log-flood "$(rh_load_figures); a ${RH_FLOOD_SECONDS} s flood wrote $written bytes of logs, at most $peak on disk (bound $bound: daemon.json's $max_size × $max_file)"
  fi
}
