# shellcheck shell=bash
# postgres-down: the PostgreSQL service scaled to 0 under load for longer
# than PostgresDown's `for` (RH_PGDOWN_FOR, alerts.yml's 1 minute; the
# rehearsal keeps Prometheus's 15 s evaluation). The alert arrives at the
# sink within `for` + 2 minutes of the stop; meanwhile MiniTwit answers 503
# with a reason, never 500, and no replica is replaced (Swarm checks
# liveness); once PostgreSQL is back the same replicas serve again and the
# alert's resolution arrives. No acknowledged write is lost.
rh_scenario postgres-down

RH_PGDOWN_FOR=60

rh_pgdown_gone() { [ -z "$(rh_container postgres)" ]; }
rh_pgdown_serving() {
  [[ $(rh_https localhost /public) == "200 "* ]] && [[ $(rh_https localhost /api/latest) == "200 "* ]]
}
# rh_pgdown_count QUERY: a PromQL sum, as a whole number (0 when empty).
rh_pgdown_count() {
  rh_prometheus "/api/v1/query?query=$(jq -rn --arg q "$1" '$q | @uri')" | jq -r '.data.result[0].value[1] // "0" | tonumber | floor'
}

scenario_postgres_down() {
  rh_ensure_deployed || { rh_fail postgres-down "the stack is not up: $(rh_not_converged)"; return 0; }
  local before after since stopped arrived="" back recovered="" resolved="" during statuses bad five_hundreds ratio problems=()
  before=$(rh_containers minitwit | sort | tr '\n' ' ')
  rh_load_start postgres-down 2 2 600 400000
  sleep 5
  since=$(rh_now_ms)
  docker service scale --detach "${RH_STACK}_postgres=0" >/dev/null
  rh_wait 90 rh_pgdown_gone || problems+=("the postgres container still ran 90 s after scaling to 0")
  stopped=$(rh_now_ms)
  sleep 20
  during=$(rh_https localhost /public | cut -c1-3)
  if rh_wait $((RH_PGDOWN_FOR + 120)) rh_sink_has "$since" PostgresDown firing; then
    arrived=$((($(rh_sink_first "$since" PostgresDown firing) - stopped) / 1000))
  else
    problems+=("PostgresDown did not arrive at the sink within $((RH_PGDOWN_FOR + 120)) s of the stop")
  fi
  back=$(rh_now_ms)
  docker service scale --detach "${RH_STACK}_postgres=1" >/dev/null
  if rh_wait 180 rh_pgdown_serving; then
    recovered=$((($(rh_now_ms) - back) / 1000))
  else
    problems+=("MiniTwit did not serve /public and /api/latest within 180 s of PostgreSQL's return")
  fi
  if rh_wait 180 rh_sink_has "$back" PostgresDown resolved; then
    resolved=$((($(rh_sink_first "$back" PostgresDown resolved) - back) / 1000))
  else
    problems+=("PostgresDown's resolution did not arrive within 180 s of PostgreSQL's return")
  fi
  rh_wait 180 rh_converged || problems+=("not converged after PostgreSQL's return: $(rh_not_converged)")
  rh_load_check || problems+=("$L_WHY")
  after=$(rh_containers minitwit | sort | tr '\n' ' ')
  [ "$before" = "$after" ] || problems+=("MiniTwit's replicas were replaced: before $before, after $after")
  # The statuses of the failed requests the load kept (the first 200), and
  # MiniTwit's own count of 500s since the scenario began.
  statuses=$(jq -r '[.failures[].status] | group_by(.) | map("\(.[0])×\(length)") | join(" ")' "$RH_LOAD_OUT" 2>/dev/null)
  bad=$(jq '[.failures[].status | select(. != 503)] | length' "$RH_LOAD_OUT" 2>/dev/null || echo "?")
  [ "$bad" = 0 ] || problems+=("failed requests other than 503: $statuses")
  [ "$during" = 503 ] || problems+=("GET /public during the outage answered $during (want 503)")
  five_hundreds=$(rh_pgdown_count "sum(increase(http_requests_total{job=\"minitwit\",status=\"500\"}[$(((($(rh_now_ms) - since) / 1000) + 30))s]))")
  [ "$five_hundreds" = 0 ] || problems+=("MiniTwit counted $five_hundreds answers 500 (http_requests_total)")
  # The error-ratio alert needs 5 minutes of 5xx: an outage this short
  # should not page twice.
  rh_sink_has "$since" MiniTwitHighErrorRatio firing && ratio="arrived" || ratio="did not fire (outage shorter than its 5 m for)"
  [ "${L_LOST:-1}" = 0 ] && [ "${L_DUPLICATED:-1}" = 0 ] || problems+=("writes lost or stored twice: $L_EXAMPLES")
  if [ ${#problems[@]} -gt 0 ]; then
    rh_fail postgres-down "$(IFS=';'; echo "${problems[*]}")"
  else
    rh_pass postgres-down "$(rh_load_figures); PostgresDown at the sink ${arrived} s after the stop (for ${RH_PGDOWN_FOR} s; at most $((RH_PGDOWN_FOR + 120))), resolved ${resolved} s after the return; the failed requests the load kept: ${statuses:-none}, none 500 (MiniTwit counted 0); GET /public during it 503; serving again ${recovered} s after PostgreSQL's return, no replica replaced; MiniTwitHighErrorRatio $ratio"
  fi
}
