#!/usr/bin/env bash
# Writes what the pgBackRest repository holds as Prometheus metrics, in the
# text format node-exporter's textfile collector reads:
#   pgbackrest_backup_last_completion_timestamp_seconds{stanza,type}
#     when the newest backup of each type (full, diff, incr) finished
#   pgbackrest_stanza_status_code{stanza}   0 when the stanza is healthy
# The repository is the truth: a backup taken by hand counts, a backup whose
# files were expired does not. If `pgbackrest info` fails, the previous file
# stays, so the age keeps growing and the alert still fires.
set -euo pipefail

stanza=${PGBACKREST_STANZA:-minitwit}
dir=${METRICS_DIR:-/var/lib/pgbackrest-metrics}

info=$(pgbackrest --stanza="$stanza" --output=json info)
tmp=$(mktemp "$dir/.pgbackrest.prom.XXXXXX")
jq -r --arg stanza "$stanza" '
  .[] | select(.name == $stanza) |
  "# HELP pgbackrest_backup_last_completion_timestamp_seconds When the newest backup of this type finished.",
  "# TYPE pgbackrest_backup_last_completion_timestamp_seconds gauge",
  ((.backup // []) | group_by(.type)[] | max_by(.timestamp.stop) |
    "pgbackrest_backup_last_completion_timestamp_seconds{stanza=\"\($stanza)\",type=\"\(.type)\"} \(.timestamp.stop)"),
  "# HELP pgbackrest_stanza_status_code pgBackRest stanza status: 0 ok, 1 missing, 2 no valid backups, others in pgbackrest info.",
  "# TYPE pgbackrest_stanza_status_code gauge",
  "pgbackrest_stanza_status_code{stanza=\"\($stanza)\"} \(.status.code)"
' <<<"$info" >"$tmp"
chmod 0644 "$tmp"
# Renamed into place: node-exporter never reads a half-written file.
mv "$tmp" "$dir/pgbackrest.prom"
