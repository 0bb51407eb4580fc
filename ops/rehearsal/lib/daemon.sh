# shellcheck shell=bash
# Globals set here are read by the other files run.sh sources:
# shellcheck disable=SC2034,SC2153
# The rehearsal's own Docker engine: a private dockerd (its own data root,
# exec root, pid file and socket under $RH_TMP) made a one-node Swarm, and the
# teardown that leaves the machine as it found it. Sourced by run.sh.
#
# When DOCKER_HOST already answers (a staging Swarm, or an engine the
# operator started), none of this runs: the rehearsal uses that engine and
# tears down only the stack it deployed.

RH_OWN_DAEMON=""

# The client must read Compose files without a `version:` key (stack.yml has
# none): Docker 25 or later. Debian 12's docker.io client (20.10) refuses them,
# but its dockerd serves a newer client fine (the API is negotiated down).
rh_pick_client() {
  local candidate
  for candidate in $(type -ap docker); do
    if "$candidate" stack config --help >/dev/null 2>&1; then
      RH_DOCKER_CLIENT=$candidate
      PATH="$(dirname "$candidate"):$PATH"
      export PATH
      return 0
    fi
  done
  rh_die "no docker client that reads stack.yml (needs \`docker stack config\`, Docker 25 or later) on PATH"
}

rh_start_daemon() {
  if [ -n "${DOCKER_HOST:-}" ] && docker info >/dev/null 2>&1; then
    rh_log "using the engine at $DOCKER_HOST (not starting one)"
    return 0
  fi
  command -v dockerd >/dev/null || rh_die "dockerd is missing (apt-get install docker.io)"
  [ "$(id -u)" = 0 ] || rh_die "a private dockerd needs root"
  # One rehearsal per machine: two would share ports 80 and 443, and each
  # teardown restores the iptables rules it found. A second one waits.
  exec {RH_LOCK_FD}>/tmp/minitwit-rehearsal.lock
  if ! flock -n "$RH_LOCK_FD"; then
    rh_log "another rehearsal runs on this machine; waiting for it (at most ${REHEARSAL_LOCK_WAIT:-1800} s)"
    flock -w "${REHEARSAL_LOCK_WAIT:-1800}" "$RH_LOCK_FD" || rh_die "another rehearsal still runs"
  fi
  # The proxy publishes 80 and 443 on the host, as in production.
  if ss -Hltn 'sport = :80 or sport = :443' | grep -q .; then
    rh_die "ports 80 or 443 are taken on this machine: $(ss -Hltnp 'sport = :80 or sport = :443' | head -n 2)"
  fi
  RH_OWN_DAEMON=yes
  mkdir -p "$RH_TMP/data" "$RH_TMP/exec"
  # Docker does not remove its iptables rules or bridges when it stops: keep
  # the machine's rules to put back at teardown.
  iptables-save >"$RH_TMP/iptables.before"
  ip6tables-save >"$RH_TMP/ip6tables.before" 2>/dev/null || true
  export DOCKER_HOST="unix://$RH_TMP/docker.sock"
  # Nothing may leave this machine: image pulls and digest look-ups (Swarm
  # tries a pull before every task start, even with the image present) go to
  # a closed port on 127.0.0.1 and fail at once; the local image is used.
  HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY="" no_proxy="" \
    dockerd --data-root "$RH_TMP/data" --exec-root "$RH_TMP/exec" \
    --pidfile "$RH_TMP/dockerd.pid" --host "$DOCKER_HOST" \
    --config-file "$RH_ROOT/ops/logging/daemon.json" \
    >"$RH_TMP/dockerd.log" 2>&1 {RH_LOCK_FD}>&- &
  RH_DOCKERD_PID=$!
  local i
  for i in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    kill -0 "$RH_DOCKERD_PID" 2>/dev/null || { tail -n 20 "$RH_TMP/dockerd.log" >&2; rh_die "dockerd exited"; }
    [ "$i" -lt 60 ] || rh_die "dockerd did not answer in 60 s"
    sleep 1
  done
  # Containers reach each other and the host's published ports, nothing
  # beyond: forwarded traffic from Docker's bridges to any other interface
  # is dropped (this also stops the embedded DNS from asking outside).
  iptables -I DOCKER-USER -i docker_gwbridge ! -o docker_gwbridge -j DROP 2>/dev/null || true
  iptables -I DOCKER-USER -i docker0 ! -o docker0 -j DROP 2>/dev/null || true
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null
  # After swarm init the gateway bridge exists; the rule above may have
  # been added before it, which is harmless (it names the interface).
  docker node update --label-add minitwit.db=true "$(docker node ls -q)" >/dev/null
  rh_log "dockerd $(docker version --format '{{.Server.Version}}') at $DOCKER_HOST, client $(docker version --format '{{.Client.Version}}'), one-node Swarm"
}

# Stops everything the rehearsal started. Safe to call twice, and after a
# failure at any step.
rh_teardown() {
  trap - EXIT INT TERM
  set +e
  [ -n "${RH_LOAD_PID:-}" ] && kill "$RH_LOAD_PID" 2>/dev/null
  # Another engine's stack (staging) stays as the scenarios left it.
  if [ "$RH_OWN_DAEMON" = yes ]; then
    docker stack rm "$RH_STACK" >/dev/null 2>&1
    docker service rm "${RH_STACK}_migrate" >/dev/null 2>&1
    docker swarm leave --force >/dev/null 2>&1
    if [ -f "$RH_TMP/dockerd.pid" ]; then
      local pid
      pid=$(cat "$RH_TMP/dockerd.pid")
      kill "$pid" 2>/dev/null
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
      kill -9 "$pid" 2>/dev/null
    fi
    # dockerd's own containerd, if it outlived it.
    if [ -f "$RH_TMP/exec/containerd/containerd.pid" ]; then
      kill "$(cat "$RH_TMP/exec/containerd/containerd.pid")" 2>/dev/null
    fi
    local link
    for link in docker0 docker_gwbridge; do
      ip link show "$link" >/dev/null 2>&1 && ip link del "$link"
    done
    for link in $(ip -o link show type vxlan 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
      [[ $link == vx-* ]] && ip link del "$link"
    done
    if [ -f "$RH_TMP/iptables.before" ]; then
      local table
      for table in filter nat mangle; do iptables -t "$table" -F && iptables -t "$table" -X; done 2>/dev/null
      iptables-restore <"$RH_TMP/iptables.before"
    fi
    [ -s "$RH_TMP/ip6tables.before" ] && ip6tables-restore <"$RH_TMP/ip6tables.before"
    # Mounts dockerd left under its roots (overlay layers, netns, secrets).
    grep -o " $RH_TMP/[^ ]*" /proc/mounts | sort -r | while read -r mnt; do umount -l "$mnt"; done
  fi
  rm -rf "$RH_TMP"
}

# True when the rehearsal left nothing behind: no dockerd of ours, no bridge.
rh_verify_clean() {
  local left=""
  if [ "$RH_OWN_DAEMON" = yes ]; then
    kill -0 "$RH_DOCKERD_PID" 2>/dev/null && left+=" dockerd($RH_DOCKERD_PID)"
    ip link show docker0 >/dev/null 2>&1 && left+=" docker0"
    ip link show docker_gwbridge >/dev/null 2>&1 && left+=" docker_gwbridge"
  fi
  [ -d "$RH_TMP" ] && left+=" $RH_TMP"
  [ -z "$left" ] || { echo "rehearsal: teardown left:$left" >&2; return 1; }
}
