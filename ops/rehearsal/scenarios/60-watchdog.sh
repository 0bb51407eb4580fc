# shellcheck shell=bash
# watchdog: the dead man's switch. Heartbeats (the Watchdog alert, on its
# own route) arrive at the alert sink while the monitoring runs; with
# Alertmanager scaled to 0 they stop, and the sink's check, like an outside
# heartbeat service's, reports "no heartbeat for N s" once N passes its grace
# (RH_WATCHDOG_GRACE); with Alertmanager back they arrive again. Stopping
# Prometheus instead stops them too, but only once Alertmanager lets its
# last Watchdog expire (4 minutes; docs/operations.md, "The heartbeat").
rh_scenario watchdog

RH_WATCHDOG_GRACE=120

rh_watchdog_beats() {
  [ "$(rh_sink "/received?since=$1" | jq '[.[] | select(.path == "/heartbeat")] | length')" -ge "$2" ]
}
rh_watchdog_silent() { rh_sink "/check?max=$RH_WATCHDOG_GRACE" | jq -e '.ok == false' >/dev/null; }
rh_alertmanager_gone() { [ -z "$(rh_container alertmanager)" ]; }

scenario_watchdog() {
  rh_ensure_deployed || { rh_fail watchdog "the stack is not up: $(rh_not_converged)"; return 0; }
  local since beats stopped last silent_after message back again="" problems=()
  rh_load_start watchdog 2 2 900 300000
  since=$(rh_now_ms)
  # Two heartbeats, a minute or so apart.
  if rh_wait 200 rh_watchdog_beats "$since" 2; then
    beats=$(rh_sink "/received?since=$since" | jq -r '[.[] | select(.path == "/heartbeat") | .at] | "\(length) in \(((.[-1] - .[0]) / 1000) | round) s"')
  else
    problems+=("fewer than 2 heartbeats at the sink within 200 s")
  fi
  docker service scale --detach "${RH_STACK}_alertmanager=0" >/dev/null
  rh_wait 60 rh_alertmanager_gone || problems+=("Alertmanager still ran 60 s after scaling to 0")
  stopped=$(rh_now_ms)
  if rh_wait $((RH_WATCHDOG_GRACE + 120)) rh_watchdog_silent; then
    silent_after=$((($(rh_now_ms) - stopped) / 1000))
    message=$(rh_sink "/check?max=$RH_WATCHDOG_GRACE" | jq -r .message)
  else
    problems+=("the sink's check still saw heartbeats $((RH_WATCHDOG_GRACE + 120)) s after Alertmanager stopped")
  fi
  last=$(rh_sink "/received?since=$stopped" | jq '[.[] | select(.path == "/heartbeat")] | length')
  [ "$last" = 0 ] || problems+=("$last heartbeats arrived after Alertmanager stopped")
  back=$(rh_now_ms)
  docker service scale --detach "${RH_STACK}_alertmanager=1" >/dev/null
  if rh_wait 180 rh_watchdog_beats "$back" 1; then
    again=$((($(rh_now_ms) - back) / 1000))
  else
    problems+=("no heartbeat within 180 s of Alertmanager's return")
  fi
  rh_wait 120 rh_converged || problems+=("not converged after Alertmanager's return: $(rh_not_converged)")
  rh_load_check || problems+=("$L_WHY")
  [ "${L_FAILED:-1}" = 0 ] || problems+=("$L_FAILED requests failed: $L_EXAMPLES")
  [ "${L_LOST:-1}" = 0 ] && [ "${L_DUPLICATED:-1}" = 0 ] || problems+=("writes lost or stored twice: $L_EXAMPLES")
  if [ ${#problems[@]} -gt 0 ]; then
    rh_fail watchdog "$(IFS=';'; echo "${problems[*]}")"
  else
    rh_pass watchdog "$(rh_load_figures); heartbeats while monitoring runs: $beats; Alertmanager stopped: none after, the sink's check said \"$message\" ${silent_after} s later (grace $RH_WATCHDOG_GRACE s); back: a heartbeat ${again} s after its return"
  fi
}
