#!/usr/bin/env bash
# The stand-in base's entrypoint, doing what the official postgres image's
# docker-entrypoint.sh does for the stack (POSTGRES_USER, POSTGRES_DB,
# POSTGRES_PASSWORD_FILE, PGDATA): as root it prepares the directories and
# drops to the postgres user; on an empty PGDATA it initialises the cluster
# with password logins over TCP and trust on the local socket, and creates
# the database. Anything other than `postgres` runs as given.
set -euo pipefail

if [ "${1:-}" != postgres ]; then exec "$@"; fi

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  # The parent too: a first initialisation is made beside PGDATA (below).
  chown postgres:postgres "$PGDATA" "${PGDATA%/*}" /var/run/postgresql
  chmod 0700 "$PGDATA"
  chmod 3777 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

# Initialised aside and moved into place only when complete: a first start
# that failed half-way (its server did not start, once, under a loaded
# machine) is thrown away and done again by the next task, instead of
# leaving a cluster without its database for every later start.
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  user=${POSTGRES_USER:-postgres}
  password=$(cat "${POSTGRES_PASSWORD_FILE:?set POSTGRES_PASSWORD_FILE}")
  aside="$PGDATA.init"
  rm -rf "$aside" && mkdir -m 0700 "$aside"
  initdb --username="$user" --pwfile=<(printf '%s\n' "$password") --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 -D "$aside" >/dev/null
  echo "host all all all scram-sha-256" >>"$aside/pg_hba.conf"
  echo "listen_addresses = '*'" >>"$aside/postgresql.conf"
  # The first start only creates the database: no network, no archiving.
  if ! pg_ctl -D "$aside" -l "$aside.log" -w -o "-c listen_addresses='' -c archive_mode=off" start >/dev/null; then
    cat "$aside.log" >&2
    exit 1
  fi
  db=${POSTGRES_DB:-$user}
  if [ "$db" != postgres ]; then
    psql -v ON_ERROR_STOP=1 --username="$user" --dbname=postgres -c "CREATE DATABASE \"$db\"" >/dev/null
  fi
  pg_ctl -D "$aside" -m fast -w stop >/dev/null
  rm -f "$aside.log"
  rm -rf "${PGDATA:?}"
  mv "$aside" "$PGDATA"
  echo "postgres-entrypoint: initialised $PGDATA (user $user, database $db)"
fi

exec "$@"
