#!/usr/bin/env bash
# The pgbackrest service's loop: a full backup on Sundays and a differential
# one on the other days, at BACKUP_HOUR_UTC (default 1, two hours before the
# logical `minitwit backup`), and the repository's state as metrics
# (pgbackrest-metrics) every 5 minutes. It runs next to PostgreSQL on the
# database node because pgBackRest copies the data directory's files and
# needs the server's socket; the WAL is pushed by the server itself.
#
# Whether today's backup is due is read from the repository, so a restarted
# service neither skips nor repeats one.
set -uo pipefail

stanza=${PGBACKREST_STANZA:-minitwit}
hour=${BACKUP_HOUR_UTC:-1}

log() { printf '{"time":"%s","msg":"%s"}\n' "$(date -u +%FT%TZ)" "$*"; }

# As the container's PID 1, bash ignores SIGTERM unless it traps it: every
# update of the service waited out its 10 minute stop_grace_period. A
# backup in progress still finishes first (bash runs the trap once the
# foreground command returns); the waits in between end at once.
trap 'log "stopping"; exit 0' TERM INT
pause() {
  sleep "$1" &
  wait $!
}

until pg_isready -q -h /var/run/postgresql; do
  log "waiting for PostgreSQL"
  pause 5
done
# Creates the stanza on first start; does nothing when it exists and
# matches. On a new stack pg_isready already answers while the image's
# entrypoint initialises the cluster (the database does not exist yet), so
# a first failure is normal: the loop below tries again every 15 s until it
# works; until then WAL archiving fails and there is nothing to back up into.
stanza_ready=no
stanza_create() {
  pgbackrest --stanza="$stanza" stanza-create && log "stanza $stanza is ready"
}

newest_backup_day() {
  pgbackrest --stanza="$stanza" --output=json info |
    jq -r '[.[0].backup[]?.timestamp.stop] | max // 0 | strftime("%Y-%m-%d")'
}

while true; do
  if [[ $stanza_ready == no ]] && stanza_create; then stanza_ready=yes; fi
  if [[ $stanza_ready == yes ]] && ((10#$(date -u +%H) >= hour)) && [[ $(newest_backup_day) != "$(date -u +%F)" ]]; then
    type="diff"
    [[ $(date -u +%u) == 7 ]] && type=full
    log "pgbackrest backup --type=$type started"
    # Without a full backup to build on, pgBackRest takes a full one.
    if pgbackrest --stanza="$stanza" backup --type="$type"; then
      log "pgbackrest backup --type=$type finished"
    else
      log "pgbackrest backup --type=$type failed; retrying at the next tick"
    fi
  fi
  pgbackrest-metrics || log "pgbackrest-metrics failed"
  if [[ $stanza_ready == yes ]]; then
    pause 300
  else
    log "stanza-create failed; trying again in 15 s"
    pause 15
  fi
done
