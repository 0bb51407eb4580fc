#!/usr/bin/env bash
# Sets pgBackRest's repository options from the stack's S3 variables and
# secret files (pgBackRest reads PGBACKREST_* variables, but no files), then
# runs the given command: the PostgreSQL entrypoint, pgbackrest-schedule, or
# an operator's `pgbackrest ...` (ops/README.md, docs/operations.md).
set -euo pipefail

secret() {
  local file=$1
  if [[ ! -r $file ]]; then
    echo "pgbackrest-env: cannot read $file (is the Swarm secret mounted?)" >&2
    exit 1
  fi
  tr -d '\n' <"$file"
}

endpoint=${S3_ENDPOINT:?set S3_ENDPOINT, e.g. https://fra1.digitaloceanspaces.com}
endpoint=${endpoint#https://}
endpoint=${endpoint%/}
export PGBACKREST_REPO1_S3_ENDPOINT=$endpoint
export PGBACKREST_REPO1_S3_BUCKET=${S3_BUCKET:?set S3_BUCKET}
export PGBACKREST_REPO1_S3_REGION=${S3_REGION:-us-east-1}
PGBACKREST_REPO1_S3_KEY=$(secret "${S3_ACCESS_KEY_ID_FILE:?set S3_ACCESS_KEY_ID_FILE}")
PGBACKREST_REPO1_S3_KEY_SECRET=$(secret "${S3_SECRET_ACCESS_KEY_FILE:?set S3_SECRET_ACCESS_KEY_FILE}")
PGBACKREST_REPO1_CIPHER_PASS=$(secret "${REPO_CIPHER_PASS_FILE:?set REPO_CIPHER_PASS_FILE}")
export PGBACKREST_REPO1_S3_KEY PGBACKREST_REPO1_S3_KEY_SECRET PGBACKREST_REPO1_CIPHER_PASS

exec "$@"
