#!/usr/bin/env bash
# The phased rollout on two test servers (run by `make demo` inside TestServer/with-servers.sh,
# which exports SYNCCTL_TEST_LOCAL_URI and SYNCCTL_TEST_ATLAS_URI).
set -euo pipefail
syncctl=$(realpath "${1:-.build/debug/syncctl}")
here=$(cd "$(dirname "$0")/.." && pwd)
python=${TESTSERVER_PYTHON:-$here/.venv/bin/python}

demo=$here/demo
rm -rf "$demo"
mkdir -p "$demo"
cd "$demo"

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

echo "Demo directory: $demo (local ${SYNCCTL_TEST_LOCAL_URI}, atlas ${SYNCCTL_TEST_ATLAS_URI})"
"$python" "$here/scripts/seed_demo.py" "${SYNCCTL_TEST_LOCAL_URI%/}/bomba"

# The application's settings, as Phase 1 of the checklist writes them (sync disabled).
umask 077
cat > .env <<ENV
# Dual MongoDB Sync Configuration
SYNC_ENABLED=false
MONGODB_LOCAL_URI=${SYNCCTL_TEST_LOCAL_URI%/}/bomba
MONGODB_ATLAS_URI=${SYNCCTL_TEST_ATLAS_URI%/}/bomba

# Sync Behavior
SYNC_QUEUE_MAX_SIZE=10000
SYNC_WORKER_INTERVAL=100
SYNC_MAX_RETRIES=5
SYNC_PERSIST_QUEUE=true
SYNC_BATCH_SIZE=100

# Optional: Exclude collections
SYNC_EXCLUDED_COLLECTIONS=
ENV

# Phase 1: setup, sync disabled.
step "Phase 1: the effective settings" "$syncctl" config
step "Phase 1: preflight (setup, sync disabled)" "$syncctl" preflight --phase 1
step "Phase 1: back up the local database, checked by a test restore" "$syncctl" backup --verify
step "Phase 1: check the backup offline against its manifest" "$syncctl" backup verify "$(ls -d backups/*/ | tail -n 1)"
step "Phase 1: the backups" "$syncctl" backup list

# Phase 2: testing.
step "Phase 2: preflight (testing)" "$syncctl" preflight --phase 2
step "Sync queue: the checklist's performance test (a scratch collection, removed afterwards)" "$syncctl" perf-test --ops 500
step "Sync queue: the resilience test — Atlas cut, then hanging, then back; four verdicts" \
    "$syncctl" resilience-test --flowing 3 --refused 5 --hanging 5 --restored 3

# A step whose documented exit code is not 0 (verify exits 2 when it finds differences).
fullsync_expect_exit() {
    local want=$1; shift
    set +e; step "$@"; local got=$?; set -e
    if [ "$got" != "$want" ]; then echo "demo: expected exit $want, got $got" >&2; exit 1; fi
    printf '(exit %s, as documented)\n' "$got"
}

# Phase 3: production rollout, gradual (option A), then every collection.
step "Phase 3: what enabling would change (--dry-run writes nothing)" "$syncctl" enable --exclude bills,orders,sessions --dry-run
step "Phase 3, option A: enable sync, critical collections excluded" "$syncctl" enable --exclude bills,orders,sessions --yes
step "Full sync: make Atlas equal to local for the included collections" "$syncctl" full-sync
step "Where the rollout stands" "$syncctl" status
step "Enable the remaining collections (prints the full sync now due)" "$syncctl" enable --include-all --yes
step "Full sync of the collections now included" "$syncctl" full-sync
step "Run it again: nothing changed, so it only reads (0 written)" "$syncctl" full-sync
step "Deep verification: every document compared by its bytes" "$syncctl" verify-consistency
"$python" "$here/scripts/demo_tamper.py" "${SYNCCTL_TEST_ATLAS_URI%/}/bomba" orders
fullsync_expect_exit 2 "A document changed in Atlas is found, with the field that differs" "$syncctl" verify-consistency --recheck-delay 0.2
step "The seeds' count check cannot see it (same number of documents)" "$syncctl" verify-consistency --mode count
step "--repair copies exactly that document back and checks it again" "$syncctl" verify-consistency --repair --recheck-delay 0.2
step "Consistent again" "$syncctl" verify-consistency

if command -v node >/dev/null; then
    # The application changes a user locally, then appends the queue line (Examples/queue-appender.js).
    user_id=$("$python" - "${SYNCCTL_TEST_LOCAL_URI%/}/bomba" <<'PY'
import sys
from bson import json_util
from pymongo import MongoClient
db = MongoClient(sys.argv[1]).get_default_database()
user = db.users.find_one(sort=[("_id", 1)])
db.users.update_one({"_id": user["_id"]}, {"$set": {"name": "Renamed in the demo"}})
print(json_util.dumps(user["_id"], json_options=json_util.CANONICAL_JSON_OPTIONS))
PY
)
    mkdir -p .syncctl
    step "The application appends one line per local write to the sync queue" \
        node "$here/Examples/queue-appender.js" .syncctl/sync-queue.jsonl bomba users update "$user_id"
    step "The sync worker, one pass (SYNC_ENABLED is true in phase 3)" \
        "$syncctl" replay
    step "Nothing was dead-lettered" "$syncctl" replay --dead-letters
fi

# Rollback.
step "Rollback, quick disable: no server needed, only SYNC_ENABLED changes" "$syncctl" disable --yes
step "The rollback checklist, checked live and signed off in the journal" "$syncctl" checklist rollback --sign-off "Demo Operator"

printf '\n\033[1mDemo complete.\033[0m\n'
