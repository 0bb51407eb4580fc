# shellcheck shell=bash
# release: ops/deploy.sh with a new version (the same Dockerfile built with
# another VERSION) under full write load: no request fails, no write is
# lost, and every replica runs the new version.
rh_scenario release

scenario_release() {
  rh_ensure_deployed || { rh_fail release "the stack is not up: $(rh_not_converged)"; return 0; }
  local from to t0 took versions problems=()
  from=$(rh_label minitwit.version)
  to=$RH_V2
  [ "$from" != "$RH_V2" ] || to=$RH_V1
  rh_load_start release 4 2 600 300000
  sleep 3
  t0=$SECONDS
  rh_deploy "$to" || problems+=("ops/deploy.sh $to failed (log above)")
  took=$((SECONDS - t0))
  sleep 3
  rh_load_check || problems+=("$L_WHY")
  versions=$(rh_replica_versions | sort | uniq -c | awk '{printf "%s×%s ", $1, $2}')
  [ "$versions" = "3×$to " ] || problems+=("replicas run: $versions(want 3×$to)")
  [ "${L_FAILED:-1}" = 0 ] || problems+=("$L_FAILED requests failed: $L_EXAMPLES")
  [ "${L_LOST:-1}" = 0 ] && [ "${L_DUPLICATED:-1}" = 0 ] || problems+=("writes lost or stored twice: $L_EXAMPLES")
  if [ ${#problems[@]} -gt 0 ]; then
    rh_fail release "$(IFS=';'; echo "${problems[*]}")"
  else
    rh_pass release "$(rh_load_figures); $from -> $to in ${took} s (ops/deploy.sh, migrations job included), replicas: ${versions% }"
  fi
}
