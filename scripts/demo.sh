#!/usr/bin/env bash
# Sets everything up, starts all services, simulates people and serves the dashboard on http://127.0.0.1:8004/
# Extra arguments go to the demo runner, e.g. scripts/demo.sh --people 200
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Local use: the development pseudonym key (unless VANTRUM_PSEUDONYM_KEY is set) is accepted only in dev and test.
export VANTRUM_MODE="${VANTRUM_MODE:-dev}"
if [ -z "${VANTRUM_KAFKA__BOOTSTRAP_SERVERS:-}" ] || [ -z "${VANTRUM_POSTGRES__DSN:-}" ]; then
    eval "$(python3.11 deploy/local/servers.py env)"
fi
exec .venv/bin/python -m deploy.demo.run "$@"
