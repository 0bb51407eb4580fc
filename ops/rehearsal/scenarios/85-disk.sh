# shellcheck shell=bash
# disk: one service's volume fills up. A 64 MiB ext4 file system, loop-mounted
# under the rehearsal's temporary directory (and removed with it), is bound
# into a service that writes until less than 20% is free and then stops; it
# is held there. node-exporter, restarted so its bind of the host's / holds
# the new mount, reports it, and DiskFillingUp arrives at the sink within its
# `for` (10 minutes) + 3 while the volume still has room: the alert comes
# before the disk is full. Once the file is deleted the alert's resolution
# arrives. Takes about 15 minutes. MiniTwit serves throughout.
# (DiskFullWithin24h reads a 6 hour trend and waits 30 minutes: it cannot be
# shown in a rehearsal; promtool tests it, ops/monitoring/alerts.test.yml.)
rh_scenario disk

RH_DISK_MIB=64
RH_DISK_FOR=600

# rh_disk_free_ratio DIR: what Prometheus last read of DIR's free share.
rh_disk_free_ratio() {
  local q="node_filesystem_avail_bytes{mountpoint=\"$1\"} / node_filesystem_size_bytes{mountpoint=\"$1\"}"
  rh_prometheus "/api/v1/query?query=$(jq -rn --arg q "$q" '$q | @uri')" | jq -er '.data.result[0].value[1]'
}
rh_disk_filler_done() {
  [ "$(docker service ps --format '{{.CurrentState}}' "$1" 2>/dev/null | head -n 1 | cut -d' ' -f1)" = Complete ]
}

scenario_disk() {
  rh_ensure_deployed || { rh_fail disk "the stack is not up: $(rh_not_converged)"; return 0; }
  local dir="$RH_TMP/disk" service="${RH_STACK}_disk-filler" bytes since filled arrived="" free_at="" cleared resolved="" problems=()
  # The file system is mounted on this machine: another engine's node would not see it.
  [ "$RH_OWN_DAEMON" = yes ] || { rh_fail disk "needs the rehearsal's own dockerd (not DOCKER_HOST)"; return 0; }
  mkdir -p "$dir"
  truncate -s "${RH_DISK_MIB}M" "$RH_TMP/disk.img"
  if ! { mkfs.ext4 -q -m 0 "$RH_TMP/disk.img" && mount -o loop "$RH_TMP/disk.img" "$dir"; }; then
    rh_fail disk "could not make and mount the $RH_DISK_MIB MiB file system"
    return 0
  fi
  rh_load_start disk 1 1 1500 700000
  since=$(rh_now_ms)
  docker service update --force --detach "${RH_STACK}_node-exporter" >/dev/null
  rh_wait 120 rh_disk_free_ratio "$dir" || problems+=("Prometheus did not see $dir within 120 s of node-exporter's restart")
  # Up to 15% free: past DiskFillingUp's 20%, short of full.
  bytes=$(df -B1 --output=avail "$dir" | tail -n 1)
  bytes=$((bytes - $(df -B1 --output=size "$dir" | tail -n 1) * 15 / 100))
  docker service rm "$service" >/dev/null 2>&1 || true
  docker service create --detach --quiet --name "$service" --restart-condition none \
    --mount "type=bind,src=$dir,dst=/fill" --entrypoint /bin/bash \
    "$MINITWIT_IMAGE-postgres:$POSTGRES_IMAGE_VERSION" -c "head -c $bytes /dev/zero >/fill/data" >/dev/null ||
    { rh_load_stop; rh_fail disk "docker service create $service failed"; return 0; }
  rh_wait 120 rh_disk_filler_done "$service" || problems+=("the filler did not finish within 120 s")
  filled=$(rh_now_ms)
  if rh_wait $((RH_DISK_FOR + 180)) rh_sink_has "$since" DiskFillingUp firing; then
    arrived=$((($(rh_sink_first "$since" DiskFillingUp firing) - filled) / 1000))
    free_at=$(awk -v r="$(rh_disk_free_ratio "$dir")" 'BEGIN { printf "%.1f", r * 100 }')
  else
    problems+=("DiskFillingUp did not arrive within $((RH_DISK_FOR + 180)) s of the volume passing 80% used")
  fi
  rm -f "$dir/data"
  cleared=$(rh_now_ms)
  if rh_wait 240 rh_sink_has "$cleared" DiskFillingUp resolved; then
    resolved=$((($(rh_sink_first "$cleared" DiskFillingUp resolved) - cleared) / 1000))
  else
    problems+=("DiskFillingUp's resolution did not arrive within 240 s of the file's deletion")
  fi
  docker service rm "$service" >/dev/null 2>&1 || true
  # node-exporter keeps its own copy of the mount until teardown.
  umount "$dir" 2>/dev/null || umount -l "$dir"
  rh_load_check || problems+=("$L_WHY")
  [ "${L_FAILED:-1}" = 0 ] || problems+=("$L_FAILED requests failed: $L_EXAMPLES")
  [ "${L_LOST:-1}" = 0 ] && [ "${L_DUPLICATED:-1}" = 0 ] || problems+=("writes lost or stored twice: $L_EXAMPLES")
  if [ ${#problems[@]} -gt 0 ]; then
    rh_fail disk "$(IFS=';'; echo "${problems[*]}")"
  else
    rh_pass disk "$(rh_load_figures); a $RH_DISK_MIB MiB volume filled to 85%: DiskFillingUp at the sink ${arrived} s later (for ${RH_DISK_FOR} s), with ${free_at}% still free; the file deleted: resolved ${resolved} s later"
  fi
}
