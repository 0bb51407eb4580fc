# shellcheck shell=bash
# Globals set here are read by the other files run.sh sources:
# shellcheck disable=SC2034,SC2153
# What every part of the rehearsal shares: messages, results, waiting.
# Sourced by run.sh, before the other files in lib/ and scenarios/.

RH_PASSED=0
RH_FAILED=0
RH_SCENARIOS=()

rh_log() { echo "--- $*" >&2; }
rh_die() {
  echo "rehearsal: $*" >&2
  exit 1
}

# A scenario file registers its function scenario_NAME (with `-` as `_`);
# with no argument run.sh runs them in the order the files are read.
rh_scenario() { RH_SCENARIOS+=("$1"); }

rh_pass() {
  echo "PASS $1: $2"
  RH_PASSED=$((RH_PASSED + 1))
}
rh_fail() {
  echo "FAIL $1: $2"
  RH_FAILED=$((RH_FAILED + 1))
}

# rh_wait TIMEOUT COMMAND...: runs COMMAND every second until it succeeds
# (0, and RH_WAITED holds the seconds it took) or TIMEOUT seconds pass (1).
rh_wait() {
  local timeout=$1 start=$SECONDS
  shift
  while ! "$@" >/dev/null 2>&1; do
    if [ $((SECONDS - start)) -ge "$timeout" ]; then
      RH_WAITED=$((SECONDS - start))
      return 1
    fi
    sleep 1
  done
  RH_WAITED=$((SECONDS - start))
}

# HTTPS through the proxy's published port on 127.0.0.1 only, with the
# site's name for TLS and Host, verified against Caddy's internal CA.
# rh_https NAME PATH [curl options...] prints "STATUS BODY".
rh_https() {
  local name=$1 path=$2
  shift 2
  curl -sS --max-time 10 --resolve "$name:443:127.0.0.1" --cacert "$RH_TMP/caddy-root.crt" \
    -o "$RH_TMP/body" -w '%{http_code}' "$@" "https://$name$path" 2>/dev/null || true
  printf ' '
  head -c 2000 "$RH_TMP/body" 2>/dev/null
}

# The figures every scenario prints from its load (set by rh_load_check).
rh_load_figures() {
  echo "requests $L_REQUESTS, failed $L_FAILED, slowest ${L_SLOWEST} ms, acknowledged writes $L_ACKED, lost $L_LOST, stored twice $L_DUPLICATED"
}
