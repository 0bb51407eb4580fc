# shellcheck shell=bash
# backup-restart: a backup exists (taken now in the backup service's
# container, as an operator would), then the backup service is restarted
# (`docker service update --force`, what every deploy does to it). The new
# process starts from the newest stored backup, so it exports that backup's
# time and not 0, and BackupMissing stays inactive, never even pending, for
# RH_BACKUP_WATCH seconds of evaluations after its first scrape: an alert
# that is never pending cannot fire after its 15 minute `for`. Nothing
# named BackupMissing arrives at the sink. The issue's old rule
# (`time() - gauge > 26 h`) is evaluated beside it, and reads false too only
# because the process recalled the stored backup.
rh_scenario backup-restart

RH_BACKUP_WATCH=240

# rh_backup_query QUERY: a PromQL instant query's result, as JSON.
rh_backup_query() { rh_prometheus "/api/v1/query?query=$(jq -rn --arg q "$1" '$q | @uri')" | jq -c '.data.result'; }
rh_backup_state() {
  rh_prometheus /api/v1/rules | jq -r '[.data.groups[].rules[] | select(.name == "BackupMissing") | .state] | first // "absent"'
}
rh_backup_restarted() { [ -n "$(rh_container backup)" ] && [ "$(rh_container backup)" != "$1" ] && rh_converged; }
# The process scraped now exports a last success at or after $1 (Unix s).
rh_backup_recalled() {
  rh_backup_query 'min(minitwit_backup_last_success_timestamp_seconds{job="backup"})' | jq -e --argjson t "$1" '.[0].value[1] | tonumber >= $t' >/dev/null
}

scenario_backup_restart() {
  rh_ensure_deployed || { rh_fail backup-restart "the stack is not up: $(rh_not_converged)"; return 0; }
  local old since taken gauge old_rule states=() state watched=0 problems=()
  rh_load_start backup-restart 1 1 900 200000
  old=$(rh_container backup)
  taken=$(date +%s)
  if ! docker exec "$old" /usr/local/bin/minitwit backup >"$RH_TMP/backup-restart.log" 2>&1; then
    rh_load_stop
    rh_fail backup-restart "the backup in the backup service's container failed: $(tail -c 300 "$RH_TMP/backup-restart.log")"
    return 0
  fi
  since=$(rh_now_ms)
  docker service update --force --detach "${RH_STACK}_backup" >/dev/null
  rh_wait 300 rh_backup_restarted "$old" || problems+=("the backup service was not restarted and healthy within 300 s: $(rh_not_converged)")
  # Two scrapes (15 s) of the new process.
  if rh_wait 120 rh_backup_recalled "$((taken - 5))"; then
    gauge=$(rh_backup_query 'min(minitwit_backup_last_success_timestamp_seconds{job="backup"})' | jq -r '.[0].value[1] | tonumber | floor')
  else
    problems+=("the restarted backup service did not export the stored backup's time within 120 s: $(rh_backup_query 'minitwit_backup_last_success_timestamp_seconds')")
  fi
  # One rule evaluation (15 s) after that scrape, before the watch.
  sleep 20
  old_rule=$(rh_backup_query 'time() - minitwit_backup_last_success_timestamp_seconds{job="backup"} > 26 * 3600' | jq length)
  while [ "$watched" -lt "$RH_BACKUP_WATCH" ]; do
    state=$(rh_backup_state)
    states+=("$state")
    [ "$state" = inactive ] || problems+=("BackupMissing was $state ${watched} s into the watch")
    sleep 15
    watched=$((watched + 15))
  done
  rh_sink_has "$since" BackupMissing firing && problems+=("BackupMissing arrived at the sink")
  rh_load_check || problems+=("$L_WHY")
  [ "${L_FAILED:-1}" = 0 ] || problems+=("$L_FAILED requests failed: $L_EXAMPLES")
  [ "${L_LOST:-1}" = 0 ] && [ "${L_DUPLICATED:-1}" = 0 ] || problems+=("writes lost or stored twice: $L_EXAMPLES")
  if [ ${#problems[@]} -gt 0 ]; then
    rh_fail backup-restart "$(IFS=';'; echo "${problems[*]}")"
  else
    rh_pass backup-restart "$(rh_load_figures); a backup at $(date -u -d "@$taken" +%T), then the service restarted: the new process exports its last success as $(date -u -d "@$gauge" +%T) (not 0); BackupMissing inactive in all ${#states[@]} reads over ${RH_BACKUP_WATCH} s (never pending, so it cannot fire after its 15 m for), none at the sink; the old rule's expression holds for $old_rule series"
  fi
}
