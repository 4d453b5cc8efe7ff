#!/usr/bin/env bash
# Installs what Väntrum needs and starts its servers. Safe to re-run: each step skips itself when done.
#   - Python 3.11 virtualenv in .venv with the locked dependencies (uv.lock)
#   - Apache Kafka (jars from Maven Central), PostgreSQL 15 and Keycloak (the identity provider, from Maven Central),
#     started by deploy/local/servers.py, unless VANTRUM_KAFKA__BOOTSTRAP_SERVERS and VANTRUM_POSTGRES__DSN
#     already point at servers of yours (then no Keycloak either: set VANTRUM_AUTH__ISSUER to yours)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
if ! command -v "$PYTHON" >/dev/null; then
    echo "setup: $PYTHON not found; install Python 3.11 or set PYTHON=/path/to/python3.11" >&2
    exit 1
fi

if [ ! -x .tools/bin/uv ]; then
    echo "setup: installing uv (the lock-file installer) into .tools/"
    "$PYTHON" -m venv .tools
    .tools/bin/pip install --quiet uv==0.13.8
fi
echo "setup: Python dependencies (uv sync --locked)"
UV_PROJECT_ENVIRONMENT=.venv .tools/bin/uv sync --locked --quiet --python "$PYTHON"

if [ -n "${VANTRUM_KAFKA__BOOTSTRAP_SERVERS:-}" ] && [ -n "${VANTRUM_POSTGRES__DSN:-}" ]; then
    echo "setup: using your servers: Kafka at $VANTRUM_KAFKA__BOOTSTRAP_SERVERS, PostgreSQL from VANTRUM_POSTGRES__DSN"
else
    "$PYTHON" deploy/local/servers.py up
fi
