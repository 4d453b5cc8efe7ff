#!/usr/bin/env bash
# Sets everything up, starts all services, simulates people and serves the dashboard on http://127.0.0.1:8004/
# Extra arguments go to the demo runner, e.g. scripts/demo.sh --people 200
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
eval "$(python3.11 deploy/local/servers.py env)"
exec .venv/bin/python -m deploy.demo.run "$@"
