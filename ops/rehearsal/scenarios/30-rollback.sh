# shellcheck shell=bash
# rollback: ops/rollback.sh (no argument: the version ops/deploy.sh
# recorded) under load: no request fails, no write is lost, and every
# replica runs the old version again.
rh_scenario rollback

scenario_rollback() {
  rh_ensure_deployed || { rh_fail rollback "the stack is not up: $(rh_not_converged)"; return 0; }
  local from to t0 took versions problems=()
  # Without a recorded previous version (rollback run alone), release first.
  if [ -z "$(rh_label minitwit.previous-version)" ]; then
    rh_log "releasing $RH_V2 first, so there is a version to return to"
    rh_deploy "$RH_V2" || { rh_fail rollback "the release before it failed"; return 0; }
  fi
  from=$(rh_label minitwit.version)
  to=$(rh_label minitwit.previous-version)
  rh_load_start rollback 4 2 600 300000
  sleep 3
  t0=$SECONDS
  rh_rollback || problems+=("ops/rollback.sh failed (log above)")
  took=$((SECONDS - t0))
  sleep 3
  rh_load_check || problems+=("$L_WHY")
  versions=$(rh_replica_versions | sort | uniq -c | awk '{printf "%s×%s ", $1, $2}')
  [ "$versions" = "3×$to " ] || problems+=("replicas run: $versions(want 3×$to)")
  [ "$(rh_label minitwit.version)" = "$to" ] || problems+=("the service's label says $(rh_label minitwit.version)")
  [ "${L_FAILED:-1}" = 0 ] || problems+=("$L_FAILED requests failed: $L_EXAMPLES")
  [ "${L_LOST:-1}" = 0 ] && [ "${L_DUPLICATED:-1}" = 0 ] || problems+=("writes lost or stored twice: $L_EXAMPLES")
  if [ ${#problems[@]} -gt 0 ]; then
    rh_fail rollback "$(IFS=';'; echo "${problems[*]}")"
  else
    rh_pass rollback "$(rh_load_figures); $from -> $to in ${took} s (ops/rollback.sh), replicas: ${versions% }"
  fi
}
