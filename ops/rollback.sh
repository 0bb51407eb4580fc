#!/usr/bin/env bash
# Returns the MiniTwit stack to the version that ran before the last deploy,
# or to a named version, in one command:
#
#   ops/rollback.sh           # back to the previous version (recorded by ops/deploy.sh)
#   ops/rollback.sh 1.3.0     # to a named version
#
# It is a deploy of that version without migrations (the schema stays as the
# newer version left it, which the older version can use: migrations are
# expand/contract, see ops/README.md), with the same health checks and
# report as ops/deploy.sh. Same environment as ops/deploy.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
SERVICE="${MINITWIT_STACK:-minitwit}_minitwit"

usage() { echo "Usage: ops/rollback.sh [version]   (default: the version before the last deploy)" >&2; }
case "${1:-}" in
  -h | --help) usage && exit 0 ;;
  -*)
    echo "rollback: unknown option $1" >&2
    usage
    exit 2
    ;;
esac
if [ $# -gt 1 ]; then
  echo "rollback: give at most one version, got $#: $*" >&2
  usage
  exit 2
fi

label() { docker service inspect --format "{{index .Spec.Labels \"$1\"}}" "$SERVICE" 2>/dev/null || true; }
current=$(label minitwit.version)
if [ $# -eq 1 ]; then
  target="$1"
else
  [ -n "$current" ] || {
    echo "rollback: $SERVICE is not deployed (is DOCKER_HOST a manager of the right Swarm?)" >&2
    exit 1
  }
  target=$(label minitwit.previous-version)
  [ -n "$target" ] || {
    echo "rollback: no previous version is recorded on $SERVICE (it runs $current); name one: ops/rollback.sh <version>" >&2
    exit 1
  }
fi
if [ -n "$current" ] && [ "$target" = "$current" ]; then
  echo "rollback: $current already runs; nothing to do"
  exit 0
fi

echo "rollback: ${current:-nothing} -> $target"
exec "$here/deploy.sh" --rollback "$target"
