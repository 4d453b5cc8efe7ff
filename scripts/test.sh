#!/usr/bin/env bash
# Runs the whole test suite against real Kafka and PostgreSQL (installs and starts them first).
# Extra arguments go to pytest, e.g. scripts/test.sh tests/unit -x
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

# need COMMAND PACKAGE WHY [APT OPTIONS]: install Debian's PACKAGE when COMMAND is missing.
need() {
    command -v "$1" >/dev/null && return
    if [ "$(id -u)" != 0 ]; then
        echo "test: $1 is missing; install it with: sudo apt-get install $2" >&2
        exit 1
    fi
    echo "test: installing Debian's $2 ($3)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${@:4}" "$2" >/dev/null) \
        || { echo "test: could not install $2 with apt-get" >&2; exit 1; }
}
need chromium chromium "the dashboard and client-page tests drive it headless"
need promtool prometheus "the alert-rule tests" --no-install-recommends  # not the node exporter it recommends
need wrk wrk "the HTTP benchmark's smoke test"

# The Kubernetes manifest tests render deploy/k8s with kustomize, built once from its Go module into .tools/go/bin.
if [ ! -x .tools/go/bin/kustomize ]; then
    GO=$(command -v go || echo /usr/local/go/bin/go)
    echo "test: building kustomize (Go module sigs.k8s.io/kustomize/kustomize/v5) into .tools/go/bin"
    GOBIN="$PWD/.tools/go/bin" "$GO" install sigs.k8s.io/kustomize/kustomize/v5@v5.7.1 >/dev/null \
        || { echo "test: could not build kustomize with go install (Go 1.22+ needed)" >&2; exit 1; }
fi

# Local use: the development pseudonym key (unless VANTRUM_PSEUDONYM_KEY is set) is accepted only in dev and test.
export VANTRUM_MODE="${VANTRUM_MODE:-test}"
if [ -z "${VANTRUM_KAFKA__BOOTSTRAP_SERVERS:-}" ] || [ -z "${VANTRUM_POSTGRES__DSN:-}" ]; then
    eval "$(python3.11 deploy/local/servers.py env)"
fi
echo "test: against ${VANTRUM_PLATFORM_VERSIONS:-Kafka at $VANTRUM_KAFKA__BOOTSTRAP_SERVERS and your PostgreSQL}"
exec .venv/bin/pytest "$@"
