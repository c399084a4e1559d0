#!/usr/bin/env bash
# CI smoke test: does this syncctl build work against these servers? Read-only for application
# data (preflight writes and deletes one probe document in Atlas' scratch collection
# syncctl_preflight_probe), and all of syncctl's own files go to a temporary directory.
#
# Environment:
#   MONGODB_LOCAL_URI, MONGODB_ATLAS_URI   the servers (CI secrets; never printed unredacted)
#   SYNCCTL                                the binary (default: syncctl on PATH)
#   SMOKE_PHASE                            the preflight phase to require (default 2)
# Exit: 0 all steps passed; otherwise the exit code of the first step that failed.
set -euo pipefail
syncctl=${SYNCCTL:-syncctl}
phase=${SMOKE_PHASE:-2}
: "${MONGODB_LOCAL_URI:?set MONGODB_LOCAL_URI}" "${MONGODB_ATLAS_URI:?set MONGODB_ATLAS_URI}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SYNC_STATE_DIR="$work/state" SYNC_BACKUP_DIR="$work/backups" NO_COLOR=1

step() {
    echo "== syncctl ${*:2}"
    "$@"
}

step "$syncctl" --version
# Settings from the environment alone: flags > environment > (no file) > defaults.
step "$syncctl" config --no-env-file
step "$syncctl" preflight --no-env-file --phase "$phase" --timeout 10

# The rollout switch on a scratch copy of the settings: both edits, the journal, status.
env_file="$work/.env"
printf '# smoke\nSYNC_ENABLED=false\nSYNC_EXCLUDED_COLLECTIONS=\n' > "$env_file"
chmod 600 "$env_file"
step "$syncctl" enable --env-file "$env_file" --exclude smoke_excluded --force --yes --quiet
grep -qx 'SYNC_ENABLED=true' "$env_file"
step "$syncctl" disable --env-file "$env_file" --yes --quiet
grep -qx 'SYNC_ENABLED=false' "$env_file"
step "$syncctl" status --env-file "$env_file" --json > "$work/status.json"
grep -q '"syncEnabled" : false' "$work/status.json"
step "$syncctl" checklist rollback --env-file "$env_file" --quiet

echo "smoke test passed"
