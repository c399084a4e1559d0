#!/usr/bin/env bash
# with-servers.sh CMD... — run CMD with two MongoDB-compatible test servers ("local" and
# "atlas") on free loopback ports, exported as SYNCCTL_TEST_LOCAL_URI / SYNCCTL_TEST_ATLAS_URI.
# Both servers are stopped whatever happens; exits with CMD's exit code.
# Python: $TESTSERVER_PYTHON, else $VENV/bin/python, else <repo>/.venv/bin/python.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py="${TESTSERVER_PYTHON:-${VENV:-$(dirname "$here")/.venv}/bin/python}"
if [ $# -eq 0 ]; then echo "usage: $0 CMD [ARGS...]" >&2; exit 2; fi
if [ ! -x "$py" ]; then
    echo "with-servers.sh: no python at $py (create the venv, or set TESTSERVER_PYTHON)" >&2
    exit 2
fi

logs="$(mktemp -d "${TMPDIR:-/tmp}/syncctl-testservers.XXXXXX")"
pids=()
cmd_pid=""

finish() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$cmd_pid" ]; then kill -TERM "$cmd_pid" 2>/dev/null; wait "$cmd_pid" 2>/dev/null; fi
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
    if [ "$rc" -eq 0 ]; then
        rm -rf "$logs"
    else
        echo "with-servers.sh: exit $rc; test server logs: $logs/local.log $logs/atlas.log" >&2
    fi
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME: start a server, wait for its "listening on HOST:PORT" line, set $port.
start() {
    "$py" "$here/server.py" --port 0 --host 127.0.0.1 >"$logs/$1.out" 2>"$logs/$1.log" &
    local pid=$!
    pids+=("$pid")
    for _ in $(seq 1 200); do
        local line
        line="$(head -n 1 "$logs/$1.out" 2>/dev/null)"
        case "$line" in
            "listening on "*) port="${line##*:}"; return 0 ;;
        esac
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "with-servers.sh: test server '$1' did not start:" >&2
    cat "$logs/$1.log" >&2
    exit 1
}

start local
export SYNCCTL_TEST_LOCAL_URI="mongodb://127.0.0.1:$port"
start atlas
export SYNCCTL_TEST_ATLAS_URI="mongodb://127.0.0.1:$port"

# CMD runs in the background (stdin kept) so that a TERM/INT reaching this script is handled
# at once: the trap stops CMD and both servers.
"$@" <&0 &
cmd_pid=$!
wait "$cmd_pid"
rc=$?
cmd_pid=""
exit "$rc"
