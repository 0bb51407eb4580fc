#!/usr/bin/env bash
# Builds the real Dockerfile with buildah, without a Docker engine and without
# any registry: both base images are assembled here from the host instead of
# pulled, then put in place of the Dockerfile's two FROM images through build
# contexts named after them (the names are read from the Dockerfile, so they
# follow its updates).
#
#   builder base: the host's bun and /bin/sh with the libraries they load,
#                 and the host's CA bundle (stands in for oven/bun;
#                 `bun install` still fetches from npm)
#   runtime base: the dynamic loader and the glibc, libgcc_s and libstdc++
#                 libraries, /tmp, and a nonroot user 65532
#                 (stands in for gcr.io/distroless/cc-debian12:nonroot)
#
# Then it runs `minitwit version` and the HEALTHCHECK command against a real
# `minitwit serve` inside the image, and prints the image's size.
#
# Usage: ops/image/build-local.sh [image-name]     (default localhost/minitwit:ci)
# Env:   VERSION (default: package.json's), REVISION (default: git's short hash),
#        SMOKE_PORT (default 15080) for the serve/healthcheck smoke test.
# Needs: root, buildah (apt-get install buildah), bun, ldd.
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE="${1:-localhost/minitwit:ci}"
BUILDER_BASE=localhost/minitwit-builder-base:host
RUNTIME_BASE=localhost/minitwit-runtime-base:host
VERSION="${VERSION:-}"
REVISION="${REVISION:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}"
SMOKE_PORT="${SMOKE_PORT:-15080}"

die() {
  echo "build-local: $*" >&2
  exit 1
}
command -v buildah >/dev/null || die "buildah is not installed (apt-get install buildah)"
command -v bun >/dev/null || die "bun is not on PATH"

# vfs works everywhere (no overlay on overlay); chroot isolation needs no runc.
bh() { buildah --storage-driver vfs "$@"; }

containers=()
serve_pid=""
cleanup() {
  if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; fi
  for c in "${containers[@]}"; do bh rm "$c" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

# Copies FILE (symlinks resolved) to the same path under ROOT.
copy_file() {
  local root=$1 file=$2
  mkdir -p "$root$(dirname "$file")"
  cp -L "$file" "$root$file"
}

# Copies an executable and every shared library ldd says it loads.
copy_with_libraries() {
  local root=$1 bin=$2 target=$3 lib
  mkdir -p "$root$(dirname "$target")"
  cp -L "$bin" "$root$target"
  for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do copy_file "$root" "$lib"; done
}

# A new empty container, mounted: sets ctr and root.
scratch() {
  ctr=$(bh from scratch)
  containers+=("$ctr")
  root=$(bh mount "$ctr")
}

# What both bases share: the glibc, libgcc_s and libstdc++ libraries (the
# compiled binary and argon2's native module load these), /tmp, the users.
base_files() {
  local root=$1 lib libdir=/lib/x86_64-linux-gnu
  copy_file "$root" /lib64/ld-linux-x86-64.so.2
  for lib in libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 librt.so.1 libgcc_s.so.1 libstdc++.so.6; do
    [ -e "$libdir/$lib" ] || die "$libdir/$lib is missing on this host"
    copy_file "$root" "$libdir/$lib"
  done
  mkdir -p "$root/tmp" "$root/etc" "$root/home/nonroot"
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
  chown 65532:65532 "$root/home/nonroot"
}

echo "--- assembling the runtime base from the host's glibc: $RUNTIME_BASE"
scratch
base_files "$root"
bh umount "$ctr" >/dev/null
bh config --user 65532:65532 --workingdir /home/nonroot \
  --env PATH=/usr/local/bin:/usr/bin:/bin --env HOME=/home/nonroot "$ctr"
bh commit --quiet --rm "$ctr" "$RUNTIME_BASE" >/dev/null

echo "--- assembling the builder base from the host's bun $(bun --version): $BUILDER_BASE"
scratch
base_files "$root"
mkdir -p "$root/root"
copy_with_libraries "$root" "$(readlink -f "$(command -v bun)")" /usr/local/bin/bun
copy_with_libraries "$root" "$(readlink -f /bin/sh)" /bin/sh
# The host's trusted certificates, so `bun install` reaches npm as the host does.
cas=/etc/ssl/certs/ca-certificates.crt
[ -f "$cas" ] || die "$cas is missing (apt-get install ca-certificates)"
copy_file "$root" "$cas"
bh umount "$ctr" >/dev/null
bh config --env PATH=/usr/local/bin:/usr/bin:/bin --env HOME=/root \
  --env NODE_EXTRA_CA_CERTS="$cas" --env SSL_CERT_FILE="$cas" "$ctr"
bh commit --quiet --rm "$ctr" "$BUILDER_BASE" >/dev/null

# The images the Dockerfile's build and runtime stages start FROM.
from_image() { awk -v stage="$1" '$1 == "FROM" && tolower($3) == "as" && $4 == stage { print $2 }' Dockerfile; }
BUILDER_FROM=$(from_image build)
RUNTIME_FROM=$(from_image runtime)
if [ -z "$BUILDER_FROM" ] || [ -z "$RUNTIME_FROM" ]; then
  die "the Dockerfile has no FROM … AS build and FROM … AS runtime"
fi

echo "--- building the Dockerfile: $IMAGE (version ${VERSION:-from package.json}, revision $REVISION)"
bh build --isolation chroot --format docker --pull=false \
  --build-context "$BUILDER_FROM=container-image://$BUILDER_BASE" \
  --build-context "$RUNTIME_FROM=container-image://$RUNTIME_BASE" \
  --build-arg VERSION="$VERSION" \
  --build-arg REVISION="$REVISION" \
  --tag "$IMAGE" .

echo "--- checking the image"
inspect() { bh inspect --type image --format "$1" "$IMAGE"; }
[ "$(inspect '{{.Docker.Config.User}}')" = "65532:65532" ] || die "the image does not run as user 65532"
inspect '{{.Docker.Config.Healthcheck.Test}}' | grep -q healthcheck || die "the image has no HEALTHCHECK"
inspect '{{index .Docker.Config.Labels "org.opencontainers.image.revision"}}' | grep -qx "$REVISION" ||
  die "the revision label is not $REVISION"

ctr=$(bh from --pull=false "$IMAGE")
containers+=("$ctr")
printed=$(bh run --isolation chroot "$ctr" -- /usr/local/bin/minitwit version)
echo "$printed"
[[ "$printed" =~ ^minitwit\ [0-9]+\.[0-9]+\.[0-9]+.*\($REVISION\) ]] ||
  die "\`minitwit version\` in the image printed \"$printed\", not a version with revision $REVISION"

# The HEALTHCHECK command against a real server in the image (embedded
# database in the image's data directory, as the non-root user). chroot
# isolation shares the host's network, hence a port of our choosing.
server=$(bh from --pull=false "$IMAGE")
server_log=$(mktemp)
containers+=("$server")
# buildah itself in the background (not the bh function's subshell): it
# passes the SIGTERM below on to the server.
buildah --storage-driver vfs run --isolation chroot --env PORT="$SMOKE_PORT" --env API_PORT="$((SMOKE_PORT + 1))" --env METRICS_PORT="$((SMOKE_PORT + 2))" \
  --env HOST=127.0.0.1 --env LOG_LEVEL=warn "$server" -- /usr/local/bin/minitwit serve >"$server_log" 2>&1 &
serve_pid=$!
healthy=""
for _ in $(seq 1 60); do
  if bh run --isolation chroot --env PORT="$SMOKE_PORT" "$ctr" -- /usr/local/bin/minitwit healthcheck >/dev/null 2>&1; then
    healthy=yes
    break
  fi
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 1
done
kill "$serve_pid" 2>/dev/null || true
wait "$serve_pid" 2>/dev/null || true
serve_pid=""
if [ -z "$healthy" ]; then
  cat "$server_log" >&2
  die "\`minitwit healthcheck\` never passed against \`minitwit serve\` in the image"
fi
rm -f "$server_log"
echo "healthcheck: ready"

# Intermediate stages and replaced bases; the image and both bases stay.
bh rmi --prune >/dev/null 2>&1 || true
size=$(bh images --format '{{.Size}}' "$IMAGE" | head -n 1)
echo "--- image $IMAGE: $size"
