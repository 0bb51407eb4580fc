# shellcheck shell=bash
# archiving: the S3 endpoint unreachable (its service scaled to 0) under a
# light load. PostgreSQL's archive_command (pgbackrest archive-push) fails,
# and PostgresWalArchivingFailing arrives at the sink within its `for`
# (10 minutes) plus RH_ARCHIVING_SLACK of the first failure (which comes
# when the next WAL segment is due and pgBackRest gives up on it, a few
# minutes after the stop). With S3 back, the segments that
# waited are pushed (no .ready file left, `pgbackrest check` passes) and the
# alert's resolution arrives (send_resolved), once no failure is left in
# its 5 minute window. Takes about 20 minutes. MiniTwit serves throughout:
# no request fails, no acknowledged write is lost.
rh_scenario archiving

RH_ARCHIVING_FOR=600
RH_ARCHIVING_SLACK=180

rh_archiving_s3_gone() { [ -z "$(rh_container s3)" ]; }
rh_archiving_s3_back() { [ -n "$(rh_container s3)" ]; }
rh_archiving_failed() { rh_psql "SELECT failed_count FROM pg_stat_archiver"; }
rh_archiving_failing() { [ "$(rh_archiving_failed)" -gt "$1" ]; }
# Segments PostgreSQL still waits to archive.
rh_archiving_waiting() { rh_psql "SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'"; }
rh_archiving_caught_up() { [ "$(rh_archiving_waiting)" = 0 ]; }
# pgBackRest's own end-to-end test: it switches to a new WAL segment and
# waits until that segment is in the repository.
rh_archiving_check() {
  docker exec -u postgres "$(rh_container postgres)" pgbackrest-env pgbackrest --stanza=minitwit check
}

scenario_archiving() {
  rh_ensure_deployed || { rh_fail archiving "the stack is not up: $(rh_not_converged)"; return 0; }
  local since failed_before stopped failing arrived="" failures waiting back caught_up="" resolved="" behind problems=()
  rh_load_start archiving 1 1 1800 900000
  since=$(rh_now_ms)
  rh_wait 120 rh_archiving_check || problems+=("archiving did not work before S3 was stopped (pgbackrest check)")
  failed_before=$(rh_archiving_failed)
  docker service scale --detach "${RH_STACK}_s3=0" >/dev/null
  rh_wait 60 rh_archiving_s3_gone || problems+=("the s3 container still ran 60 s after scaling to 0")
  stopped=$(rh_now_ms)
  rh_wait 420 rh_archiving_failing "$failed_before" || problems+=("no archive_command failure within 420 s of S3's stop")
  failing=$(rh_now_ms)
  if rh_wait $((RH_ARCHIVING_FOR + RH_ARCHIVING_SLACK)) rh_sink_has "$since" PostgresWalArchivingFailing firing; then
    arrived=$((($(rh_sink_first "$since" PostgresWalArchivingFailing firing) - failing) / 1000))
  else
    problems+=("PostgresWalArchivingFailing did not arrive within $((RH_ARCHIVING_FOR + RH_ARCHIVING_SLACK)) s of the first failure")
  fi
  failures=$(($(rh_archiving_failed) - failed_before))
  waiting=$(rh_archiving_waiting)
  rh_sink_has "$since" PostgresWalArchivingBehind firing && behind="also arrived" || behind="did not arrive"
  back=$(rh_now_ms)
  docker service scale --detach "${RH_STACK}_s3=1" >/dev/null
  rh_wait 60 rh_archiving_s3_back || problems+=("the s3 container did not start within 60 s")
  if rh_wait 300 rh_archiving_caught_up && rh_wait 120 rh_archiving_check; then
    caught_up=$((($(rh_now_ms) - back) / 1000))
  else
    problems+=("the archive did not catch up within 420 s of S3's return ($(rh_archiving_waiting) segments waiting)")
  fi
  # Resolved once the failures leave the rule's 5 minute window, and at
  # the group's next flush (group_interval 1 m).
  if rh_wait 600 rh_sink_has "$back" PostgresWalArchivingFailing resolved; then
    resolved=$((($(rh_sink_first "$back" PostgresWalArchivingFailing resolved) - back) / 1000))
  else
    problems+=("PostgresWalArchivingFailing's resolution did not arrive within 600 s of S3's return")
  fi
  rh_wait 120 rh_converged || problems+=("not converged after S3's return: $(rh_not_converged)")
  rh_load_check || problems+=("$L_WHY")
  [ "${L_FAILED:-1}" = 0 ] || problems+=("$L_FAILED requests failed: $L_EXAMPLES")
  [ "${L_LOST:-1}" = 0 ] && [ "${L_DUPLICATED:-1}" = 0 ] || problems+=("writes lost or stored twice: $L_EXAMPLES")
  if [ ${#problems[@]} -gt 0 ]; then
    rh_fail archiving "$(IFS=';'; echo "${problems[*]}")"
  else
    rh_pass archiving "$(rh_load_figures); S3 stopped: $failures archive_command failures, $waiting segments waiting; the first failure $(((failing - stopped) / 1000)) s after the stop, PostgresWalArchivingFailing at the sink ${arrived} s after it (for ${RH_ARCHIVING_FOR} s; at most $((RH_ARCHIVING_FOR + RH_ARCHIVING_SLACK))), PostgresWalArchivingBehind $behind; S3 back: caught up (no segment waiting, pgbackrest check passed) after ${caught_up} s, the resolution at the sink after ${resolved} s"
  fi
}
