# shellcheck shell=bash
# crash: `docker kill` of one MiniTwit task under load. Swarm replaces it;
# the only failed requests are those on their way to it (at most one per
# client of the load, which has one request in flight at a time); no
# acknowledged write is lost or stored twice.
rh_scenario crash

RH_CRASH_WRITERS=4
RH_CRASH_READERS=2

# Three healthy replicas again, none of them the killed container.
rh_replaced() {
  local running
  running=$(rh_containers minitwit)
  [ "$(wc -l <<<"$running")" -eq 3 ] && ! grep -q "^${1:0:12}" <<<"$running" && rh_converged
}

scenario_crash() {
  rh_ensure_deployed || { rh_fail crash "the stack is not up: $(rh_not_converged)"; return 0; }
  local victim since replaced bodyless in_flight clients problems=()
  clients=$((RH_CRASH_WRITERS + RH_CRASH_READERS))
  rh_load_start crash "$RH_CRASH_WRITERS" "$RH_CRASH_READERS" 300 200000
  sleep 5
  victim=$(rh_container minitwit)
  since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  docker kill "$victim" >/dev/null
  if rh_wait 120 rh_replaced "$victim"; then
    replaced=$RH_WAITED
  else
    problems+=("no replacement within 120 s: $(rh_not_converged)")
  fi
  sleep 5
  rh_load_check || problems+=("$L_WHY")
  # Debian's Caddy (the stand-in) loses the body of a POST it retries after
  # a failed dial and answers 502: such a request reached no replica. The
  # pinned image (2.11.2 or later) retries it whole.
  bodyless=$(docker logs --since "$since" "$(rh_container proxy)" 2>&1 | grep -c "invalid Read on closed Body" || true)
  in_flight=$((${L_FAILED:-0} - bodyless))
  [ "$in_flight" -le "$clients" ] || problems+=("$in_flight failed requests, more than the $clients that can be in flight: $L_EXAMPLES")
  [ "${L_LOST:-1}" = 0 ] && [ "${L_DUPLICATED:-1}" = 0 ] || problems+=("writes lost or stored twice: $L_EXAMPLES")
  if [ ${#problems[@]} -gt 0 ]; then
    rh_fail crash "$(IFS=';'; echo "${problems[*]}")"
  else
    rh_pass crash "$(rh_load_figures); failed: $in_flight in flight to the killed task (at most $clients), $bodyless POSTs Debian's Caddy retried without their body (stand-in only), ${L_FAILED_BUT_STORED} failed writes stored anyway; replaced and healthy after ${replaced} s"
  fi
}
