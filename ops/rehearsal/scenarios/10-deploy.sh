# shellcheck shell=bash
# deploy: from nothing to every service converged and healthy with the real
# ops/deploy.sh; pages and the simulator API answer through Caddy on
# 127.0.0.1 (both sites); /metrics and the probes do not; Prometheus has
# every scrape target of the rehearsal up, finds Alertmanager, has loaded
# every alert rule and has the PostgreSQL series the rules read.
rh_scenario deploy

rh_deploy_finds_alertmanager() {
  rh_prometheus /api/v1/alertmanagers | jq -e '.data.activeAlertmanagers | length == 1' >/dev/null
}

# The scrape jobs of ops/monitoring/prometheus.yml with the targets the
# rehearsal runs (one node, three replicas).
RH_EXPECTED_TARGETS="backup:1 minitwit:3 node:1 postgres:1 prometheus:1"

rh_targets_up() {
  rh_prometheus "/api/v1/targets?state=active" >"$RH_TMP/targets.json" || return 1
  local up
  up=$(jq -r '[.data.activeTargets[] | select(.health == "up") | .labels.job] | group_by(.) | map("\(.[0]):\(length)") | join(" ")' "$RH_TMP/targets.json")
  [ "$up" = "$RH_EXPECTED_TARGETS" ] &&
    jq -e '[.data.activeTargets[] | select(.health != "up")] | length == 0' "$RH_TMP/targets.json" >/dev/null
}

scenario_deploy() {
  if docker service inspect "${RH_STACK}_minitwit" >/dev/null 2>&1; then
    rh_fail deploy "the stack already runs; deploy rehearses a first deploy, from nothing"
    return 0
  fi
  local t0=$SECONDS deployed converged problems=() r rules want_rules
  rh_deploy "$RH_V1" || { rh_fail deploy "ops/deploy.sh $RH_V1 failed (log above)"; return 0; }
  deployed=$((SECONDS - t0))
  if ! rh_wait 300 rh_converged; then
    rh_fail deploy "not converged ${RH_WAITED} s after ops/deploy.sh: $(rh_not_converged)"
    return 0
  fi
  converged=$((SECONDS - t0))
  rh_wait 60 rh_caddy_ca || { rh_fail deploy "Caddy's internal CA never appeared"; return 0; }

  rh_load_start deploy 2 2 90 50000

  r=$(rh_https localhost /public)
  [[ $r == "200 "*"Public Timeline"* ]] || problems+=("GET /public: ${r:0:120}")
  r=$(rh_https localhost /api/latest)
  [[ $r == '200 {"latest"'* ]] || problems+=("GET /api/latest: ${r:0:120}")
  r=$(rh_https api.localhost "/msgs?no=1" -H "Authorization: Basic $SIMULATOR_TOKEN")
  [[ $r == "200 ["* ]] || problems+=("GET api.localhost/msgs: ${r:0:120}")
  r=$(rh_https api.localhost "/msgs?no=1")
  [[ $r == "403 "* ]] || problems+=("GET api.localhost/msgs without the credential: ${r:0:120}")
  for site in localhost api.localhost; do
    for path in /metrics /metrics/ /readyz /healthz; do
      r=$(rh_https "$site" "$path")
      [[ $r == "404 "* ]] || problems+=("$site$path answered ${r:0:60} (must be 404 through Caddy)")
    done
  done

  # Service discovery refreshes every 30 s and scrapes every 15 s.
  rh_wait 120 rh_targets_up ||
    problems+=("Prometheus targets up: $(jq -r '[.data.activeTargets[] | "\(.labels.job) \(.labels.instance) \(.health) \(.lastError)"] | join("; ")' "$RH_TMP/targets.json" 2>/dev/null)")
  want_rules=$(grep -c -- '- alert:' "$RH_ROOT/ops/monitoring/alerts.yml")
  rules=$(rh_prometheus /api/v1/rules | jq '[.data.groups[].rules[] | select(.type == "alerting")] | length')
  [ "$rules" = "$want_rules" ] || problems+=("Prometheus loaded $rules alert rules of $want_rules")
  # Found by DNS service discovery, refreshed every 30 s.
  rh_wait 90 rh_deploy_finds_alertmanager || problems+=("Prometheus does not find Alertmanager")
  # The PostgreSQL series the alerts read exist under these names (the
  # stand-in exporter is older than the pinned one); replication-slot
  # series appear only while a slot exists, and none does here.
  local metric missing=()
  while read -r metric; do
    [[ $metric == pg_replication_slots* ]] && continue
    rh_prometheus "/api/v1/query?query=count($metric)" | jq -e '.data.result | length == 1' >/dev/null || missing+=("$metric")
  done < <(rh_prometheus /api/v1/rules | jq -r '.data.groups[].rules[].query' | grep -o 'pg_[a-z_]*' | sort -u)
  [ ${#missing[@]} -eq 0 ] || problems+=("no series for ${missing[*]} (read by alerts.yml)")

  sleep 5
  rh_load_check || problems+=("$L_WHY")
  [ "${L_FAILED:-1}" = 0 ] || problems+=("$L_FAILED requests failed: $L_EXAMPLES")
  [ "${L_LOST:-1}" = 0 ] && [ "${L_DUPLICATED:-1}" = 0 ] || problems+=("writes lost or stored twice: $L_EXAMPLES")

  if [ ${#problems[@]} -gt 0 ]; then
    rh_fail deploy "$(IFS=';'; echo "${problems[*]}")"
  else
    rh_pass deploy "$(rh_load_figures); ops/deploy.sh ${deployed} s, every service converged and healthy after ${converged} s; targets up: $RH_EXPECTED_TARGETS; $rules alert rules; /metrics 404 through Caddy"
  fi
}
