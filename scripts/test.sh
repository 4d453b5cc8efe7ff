#!/usr/bin/env bash
# Runs the whole test suite against real Kafka and PostgreSQL (installs and starts them first).
# Extra arguments go to pytest, e.g. scripts/test.sh tests/unit -x
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

# The dashboard test drives Debian's Chromium headless.
if ! command -v chromium >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        echo "test: installing Debian's chromium for the dashboard test"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
            || { echo "test: could not install chromium with apt-get" >&2; exit 1; }
    else
        echo "test: chromium is missing; install it with: sudo apt-get install chromium" >&2
        exit 1
    fi
fi

# The alert-rule tests run promtool from Debian's prometheus package (without the node exporter it recommends).
if ! command -v promtool >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        echo "test: installing Debian's prometheus for promtool (alert-rule tests)"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null) \
            || { echo "test: could not install prometheus with apt-get" >&2; exit 1; }
    else
        echo "test: promtool is missing; install it with: sudo apt-get install prometheus" >&2
        exit 1
    fi
fi

# The HTTP write-path benchmark's smoke test drives a service with Debian's wrk.
if ! command -v wrk >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        echo "test: installing Debian's wrk (HTTP benchmark smoke test)"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) \
            || { echo "test: could not install wrk with apt-get" >&2; exit 1; }
    else
        echo "test: wrk is missing; install it with: sudo apt-get install wrk" >&2
        exit 1
    fi
fi

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
