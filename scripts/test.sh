#!/usr/bin/env bash
# Runs the whole test suite against real Kafka and PostgreSQL (installs and starts them first).
# Extra arguments go to pytest, e.g. scripts/test.sh tests/unit -x, or scripts/test.sh --durations=30
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

# names_tests ARGS...: true when an argument names tests (a path, maybe with ::test), not only options.
names_tests() {
    local value_follows=""
    for arg in "$@"; do
        if [ -n "$value_follows" ]; then value_follows=""; continue; fi
        case "$arg" in
            -k|-m|-p|-n|-c|-o|--deselect|--ignore|--ignore-glob|--rootdir|--durations|--maxfail|--timeout|--dist) value_follows=1 ;;
            -*) ;;
            *) [ -e "${arg%%::*}" ] && return 0 ;;
        esac
    done
    return 1
}

# Tests named: one pytest session, as ever (add -n 2 for workers).
if names_tests "$@"; then
    exec .venv/bin/pytest "$@"
fi

# The whole suite, in three sessions, each given the extra options; every session runs even if one before it failed,
# and the script fails if any did:
#   1. all but the two below on VANTRUM_TEST_WORKERS (2) workers (pytest-xdist): the tests mostly wait on Kafka,
#      PostgreSQL, Keycloak and the services' loops, not on the CPU. Each test file stays on one worker, so its
#      module fixtures start once, and each worker has its own namespaces (schemas and topics), as any session;
#   2. one test at a time: tests/faults, which stops the Kafka and PostgreSQL of its own platform and kills its
#      service processes, and the event store's tests, whose global reader (read_all) waits behind ANY transaction
#      open on the server, such as a worker's minutes-long projection of 10,000 simulated cases (test_survival);
#   3. tests/zz_privacy last: it scans everything the others wrote, so they leave their namespaces to it (noted in
#      a ledger, eventkit.testing.LEDGER), and they are all removed at the end.
# One function, read whole before it runs: the sessions take minutes, and bash reads a script as it goes, so an
# edit or a checkout of this file meanwhile would otherwise change what the run does next.
whole_suite() {
    ledger=$(mktemp "${TMPDIR:-/tmp}/vantrum-test-namespaces.XXXXXX")
    export VANTRUM_TEST_NAMESPACE_LEDGER="$ledger"
    # shellcheck disable=SC2317  # called by the trap
    remove_test_data() {
        .venv/bin/python -m eventkit.testing remove-noted-namespaces "$ledger" || echo "test: could not remove the test data" >&2
        rm -f "$ledger"
    }
    trap remove_test_data EXIT

    status=5  # pytest's "no tests collected", until a session runs some
    session() {
        local code=0
        .venv/bin/pytest "$@" || code=$?
        # 5: no test of this session's part was left (-k, -m): not a failure unless no session ran any.
        if [ "$code" != 5 ] && { [ "$status" = 0 ] || [ "$status" = 5 ]; }; then status=$code; fi
    }
    # In path order (--no-loadscope-reorder), not largest file first: tests/cluster, three tests but minutes, starts first.
    local alone=(tests/integration/eventkit/test_eventstore.py tests/faults)
    session -n "${VANTRUM_TEST_WORKERS:-2}" --dist loadfile --no-loadscope-reorder "${alone[@]/#/--ignore=}" \
        --ignore=tests/zz_privacy "$@"
    session "${alone[@]}" "$@" -n 0
    session tests/zz_privacy "$@" -n 0
    exit "$status"
}
whole_suite "$@"
