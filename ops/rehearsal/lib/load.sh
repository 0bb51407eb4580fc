# shellcheck shell=bash
# Globals set here are read by the other files run.sh sources:
# shellcheck disable=SC2034,SC2153
# The bounded load every scenario runs under (load.ts), and the check that
# ends it: every acknowledged write stored exactly once. Sourced by run.sh.

RH_LOAD_PID=""

# rh_load_start TAG [WRITERS] [READERS] [SECONDS] [MAX_REQUESTS]: writers post
# as fast as answers come, readers read pages and the API; in the background
# until rh_load_stop, or until the time or request bound ends it first.
rh_load_start() {
  # Unique per start: the tag names the load's users and prefixes its texts.
  RH_LOAD_TAG="$1$RANDOM"
  RH_LOAD_OUT="$RH_TMP/load-$RH_LOAD_TAG.json"
  rm -f "$RH_LOAD_OUT"
  REHEARSAL_CA="$RH_TMP/caddy-root.crt" \
    bun "$RH_ROOT/ops/rehearsal/load.ts" run --tag "$RH_LOAD_TAG" --out "$RH_LOAD_OUT" \
    --writers "${2:-4}" --readers "${3:-2}" --seconds "${4:-600}" --max-requests "${5:-200000}" \
    2>"$RH_TMP/load-$RH_LOAD_TAG.err" &
  RH_LOAD_PID=$!
}

# Stops the load after the requests in flight are answered.
rh_load_stop() {
  [ -n "$RH_LOAD_PID" ] || return 0
  kill -INT "$RH_LOAD_PID" 2>/dev/null || true
  wait "$RH_LOAD_PID" || true
  RH_LOAD_PID=""
}

# Compares the load's acknowledged writes with what the database holds and
# sets L_REQUESTS, L_FAILED, L_SLOWEST, L_ACKED, L_LOST, L_DUPLICATED,
# L_FAILED_BUT_STORED, L_FAILED_WRITES, L_FAILED_READS and L_EXAMPLES.
# Returns 1 when the load itself could not run.
rh_load_check() {
  rh_load_stop
  if [ ! -s "$RH_LOAD_OUT" ]; then
    L_WHY="the load wrote no results: $(tail -c 300 "$RH_TMP/load-$RH_LOAD_TAG.err" 2>/dev/null)"
    return 1
  fi
  # The tag prefixes every message text, so this run's writes are found
  # however many other scenarios wrote before.
  rh_psql "SELECT text FROM messages WHERE text LIKE '$RH_LOAD_TAG %'" >"$RH_TMP/stored-$RH_LOAD_TAG.txt" ||
    { L_WHY="could not read the messages back from PostgreSQL"; return 1; }
  local summary
  summary=$(bun "$RH_ROOT/ops/rehearsal/load.ts" check --results "$RH_LOAD_OUT" --stored "$RH_TMP/stored-$RH_LOAD_TAG.txt") ||
    { L_WHY="the load check failed"; return 1; }
  read -r L_REQUESTS L_FAILED L_SLOWEST L_ACKED L_LOST L_DUPLICATED L_FAILED_BUT_STORED L_FAILED_WRITES L_FAILED_READS < <(
    jq -r '[.requests, .failed, .slowestMs, .acked, .lost, .duplicated, .failedButStored, .failedWrites, .failedReads] | @tsv' <<<"$summary"
  )
  L_EXAMPLES=$(jq -c '.examples' <<<"$summary")
  # A load that barely ran proves nothing.
  if [ "$L_ACKED" -lt 10 ]; then
    L_WHY="only $L_ACKED writes were acknowledged ($(rh_load_figures)); $L_EXAMPLES"
    return 1
  fi
}
