# shellcheck shell=bash
# Every image stack.yml names, built on this machine (no registry is
# reachable): MiniTwit from its Dockerfile (ops/image/build-local.sh, then
# into the engine through a docker-archive), the database image from
# ops/postgres/Dockerfile, and stand-ins for the third-party images,
# assembled from the host's Debian packages and tagged with the exact names
# stack.yml uses. Recipes: ops/rehearsal/images/. Sourced by run.sh.

RH_IMAGES="$RH_ROOT/ops/rehearsal/images"

# The stand-ins and the Debian binary each one runs. Where one differs in a
# way a scenario sees, rh_standin_notes says so.
rh_standin_notes() {
  cat <<EOF
stand-in caddy:2.11.4-alpine is Debian's Caddy $(caddy version 2>/dev/null | cut -d' ' -f1): before 2.11.2 a POST retried after a failed dial loses its body (502, caddyserver/caddy#7546); crash counts those apart
stand-in prom/prometheus:v3.5.0 is Debian's Prometheus $(prometheus --version 2>/dev/null | awk 'NR==1{print $3}')
stand-in prom/alertmanager:v0.28.1 is Debian's Alertmanager $(prometheus-alertmanager --version 2>/dev/null | awk 'NR==1{print $3}'), delivering to the alert sink only (stack.rehearsal.yml)
stand-in prom/node-exporter:v1.9.1 is Debian's node-exporter $(prometheus-node-exporter --version 2>&1 | awk 'NR==1{print $3}')
stand-in postgres-exporter:v0.20.1 is Debian's $(prometheus-postgres-exporter --version 2>&1 | awk 'NR==1{print $3}'): deploy checks it exports every pg_* series alerts.yml reads, but pg_replication_slots_* (no slot exists here)
stand-in postgres:17.6-bookworm is Debian's PostgreSQL 15 with pgBackRest $(pgbackrest version | cut -d' ' -f2) (the minitwit-postgres tag says so: ${POSTGRES_IMAGE_VERSION})
EOF
}

# Copies FILE (links resolved) to the same path under ROOT.
rh_copy() {
  mkdir -p "$1$(dirname "$2")"
  cp -L "$2" "$1$2"
}

# Copies every library the given executables and libraries load into ROOT
# (one ldd for all of them: ldd is slow on a busy machine).
rh_copy_libs() {
  local root=$1 lib
  shift
  # With several files ldd heads each list with "file:"; libraries are the
  # indented lines' absolute paths.
  for lib in $(ldd "$@" 2>/dev/null | awk '/^\t/ { for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' | sort -u); do
    [ -e "$root$lib" ] || rh_copy "$root" "$lib"
  done
}

# Copies an executable to DEST under ROOT with every library it loads.
rh_copy_bin() {
  local root=$1 bin
  bin=$(readlink -f "$(command -v "$2")") || rh_die "$2 is not installed"
  mkdir -p "$root$(dirname "$3")"
  cp -L "$bin" "$root$3"
  rh_copy_libs "$root" "$bin"
}

# A root file system every stand-in starts from: /tmp, users, CA bundle,
# name resolution through files then DNS.
rh_base_root() {
  local root=$1
  mkdir -p "$root/tmp" "$root/etc/ssl/certs" "$root/bin" "$root/usr/bin"
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\npostgres:x:999:999:postgres:/var/lib/postgresql:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\npostgres:x:999:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  # Health checks in stack.yml call wget (busybox's in the real images).
  rh_copy_bin "$root" wget /usr/bin/wget
}

# rh_standin IMAGE RECIPE BIN:DEST...: builds images/RECIPE.Dockerfile over a
# root holding those binaries.
rh_standin() {
  local image=$1 recipe=$2 ctx="$RH_TMP/ctx/$2" pair
  shift 2
  rm -rf "$ctx" && mkdir -p "$ctx/rootfs"
  rh_base_root "$ctx/rootfs"
  for pair in "$@"; do rh_copy_bin "$ctx/rootfs" "${pair%%:*}" "${pair#*:}"; done
  [ "$recipe" = postgres-base ] && rh_postgres_root "$ctx/rootfs"
  [ "$recipe" = s3 ] && rh_bun_root "$ctx/rootfs" s3
  [ "$recipe" = alert-sink ] && rh_bun_root "$ctx/rootfs" alert-sink
  # Debian's Alertmanager reads its notification templates from here.
  if [ "$recipe" = alertmanager ]; then
    mkdir -p "$ctx/rootfs/usr/share/prometheus"
    cp -a /usr/share/prometheus/alertmanager "$ctx/rootfs/usr/share/prometheus/"
  fi
  cp "$RH_IMAGES/$recipe.Dockerfile" "$ctx/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t "$image" "$ctx" >/dev/null 2>>"$RH_TMP/build.log" ||
    { tail -n 20 "$RH_TMP/build.log" >&2; rh_die "building the stand-in $image failed"; }
}

# PostgreSQL 15 from the host, laid out as the official image is used:
# binaries on PATH, the postgres user (999), an entrypoint that initialises
# PGDATA from POSTGRES_* variables, and pgBackRest and jq already installed
# (the Dockerfile's apt-get meets a shim that checks they are there).
rh_postgres_root() {
  local root=$1 bin so sources=()
  for bin in bash cat chmod chown cp date env grep head id install ls mkdir mktemp mv rm sed sleep sort tail touch tr wc setpriv pgbackrest jq; do
    sources+=("$(readlink -f "$(command -v "$bin")")") || rh_die "$bin is not installed"
    cp -L "${sources[-1]}" "$root/usr/bin/$bin"
  done
  cp -L "$(readlink -f /bin/sh)" "$root/bin/sh"
  ln -s /usr/bin/bash "$root/bin/bash"
  mkdir -p "$root/usr/lib/postgresql/15" "$root/usr/share/postgresql" "$root/usr/lib/locale" "$root/usr/share"
  cp -a /usr/lib/postgresql/15/bin "$root/usr/lib/postgresql/15/"
  # Extensions and their libraries; without the JIT (LLVM, 100 MB), which
  # PostgreSQL then reports as unavailable.
  mkdir -p "$root/usr/lib/postgresql/15/lib"
  for so in /usr/lib/postgresql/15/lib/*.so; do
    [[ $so == */llvmjit* ]] && continue
    cp -L "$so" "$root$so"
    sources+=("$so")
  done
  rh_copy_libs "$root" "${sources[@]}" /bin/sh /usr/lib/postgresql/15/bin/*
  cp -a /usr/share/postgresql/15 "$root/usr/share/postgresql/"
  cp -a /usr/share/zoneinfo "$root/usr/share/"
  cp -a /usr/lib/locale/C.utf8 "$root/usr/lib/locale/"
  mkdir -p "$root/usr/local/bin"
  install -m 0755 "$RH_IMAGES/postgres-entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
  install -m 0755 "$RH_IMAGES/apt-get-shim.sh" "$root/usr/bin/apt-get"
  mkdir -p "$root/var/lib/postgresql" "$root/var/run/postgresql" "$root/var/lib/apt/lists"
  chown 999:999 "$root/var/lib/postgresql" "$root/var/run/postgresql"
}

# ops/rehearsal/NAME.ts (s3rver for the S3 stand-in, the alert sink)
# compiled with the host's bun into one executable, /usr/local/bin/NAME.
rh_bun_root() {
  local root=$1 name=$2
  mkdir -p "$root/usr/local/bin" "$root/data"
  (cd "$RH_ROOT" && bun build --compile --outfile "$root/usr/local/bin/$name" "ops/rehearsal/$name.ts" >/dev/null) ||
    rh_die "compiling ops/rehearsal/$name.ts failed"
  rh_copy_libs "$root" "$root/usr/local/bin/$name"
}

# MiniTwit VERSION from the real Dockerfile, into the engine.
rh_build_minitwit() {
  local version=$1 image="$MINITWIT_IMAGE:$1"
  VERSION="$version" SMOKE_PORT="${RH_SMOKE_PORT:-15380}" bash "$RH_ROOT/ops/image/build-local.sh" "$image" >"$RH_TMP/build-$version.log" 2>&1 ||
    { tail -n 30 "$RH_TMP/build-$version.log" >&2; rh_die "ops/image/build-local.sh $image failed"; }
  rm -f "$RH_TMP/minitwit.tar"
  buildah --storage-driver vfs push --quiet "$image" "docker-archive:$RH_TMP/minitwit.tar:$image" >/dev/null
  docker load -q -i "$RH_TMP/minitwit.tar" >/dev/null
  rm -f "$RH_TMP/minitwit.tar"
}

rh_build_images() {
  local t0=$SECONDS
  rh_build_minitwit "$RH_V1"
  rh_build_minitwit "$RH_V2"
  rh_standin caddy:2.11.4-alpine caddy caddy:/usr/bin/caddy
  rh_standin prom/prometheus:v3.5.0 prometheus prometheus:/bin/prometheus
  rh_standin prom/alertmanager:v0.28.1 alertmanager prometheus-alertmanager:/bin/alertmanager
  rh_standin prom/node-exporter:v1.9.1 node-exporter prometheus-node-exporter:/bin/node_exporter
  rh_standin quay.io/prometheuscommunity/postgres-exporter:v0.20.1 postgres-exporter prometheus-postgres-exporter:/bin/postgres_exporter
  rh_standin "$(awk '$1 == "FROM" { print $2; exit }' "$RH_ROOT/ops/postgres/Dockerfile")" postgres-base
  # The database image itself from its real Dockerfile, on that base.
  DOCKER_BUILDKIT=0 docker build -t "$MINITWIT_IMAGE-postgres:$POSTGRES_IMAGE_VERSION" "$RH_ROOT/ops/postgres" >>"$RH_TMP/build.log" 2>&1 ||
    { tail -n 20 "$RH_TMP/build.log" >&2; rh_die "building ops/postgres/Dockerfile failed"; }
  rh_standin "$RH_S3_IMAGE" s3
  rh_standin "$RH_ALERT_SINK_IMAGE" alert-sink
  rh_log "images built in $((SECONDS - t0)) s: minitwit $RH_V1 and $RH_V2, ops/postgres, 6 stand-ins, the alert sink"
  rh_standin_notes | while read -r line; do rh_log "$line"; done
}
