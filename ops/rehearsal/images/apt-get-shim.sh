#!/bin/sh
# apt-get in the stand-in PostgreSQL base: no package mirror is used by the
# rehearsal, so the packages ops/postgres/Dockerfile installs (pgbackrest,
# jq) are copied from the host into the base instead. This checks that each
# named package's command is there, and fails like apt-get when one is not.
case "$1" in
  update) exit 0 ;;
  install)
    shift
    for arg in "$@"; do
      case "$arg" in -*) continue ;; esac
      command -v "$arg" >/dev/null || { echo "E: Unable to locate package $arg (not in the stand-in base)" >&2; exit 100; }
    done
    exit 0 ;;
  *) echo "apt-get (rehearsal shim): only update and install" >&2; exit 100 ;;
esac
