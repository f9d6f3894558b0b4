#!/usr/bin/env bash
# Installs what the tests need on a fresh machine (Debian packages, as root; Python packages into
# a virtual environment, $MAINSTAY_TEST_VENV or target/test-venv), then runs them.
# Usage: tests/run.sh [cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v git >/dev/null || need+=(git)
command -v npm >/dev/null || need+=(nodejs npm)
command -v mariadbd >/dev/null || command -v mysqld >/dev/null || need+=(mariadb-server)
command -v chromium >/dev/null || need+=(chromium)
# Python for the wheel and pre-commit, each in a virtual environment (Debian splits venv off).
command -v python3 >/dev/null || need+=(python3)
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# Python packages go into a virtual environment in the build directory, never into the user's
# Python: pip refuses to install anywhere else, and the tests find what it installed on PATH.
venv="${MAINSTAY_TEST_VENV:-$PWD/target/test-venv}"
if [ -x "$venv/bin/python3" ] || python3 -m venv "$venv"; then
    export VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH"
fi
export PIP_REQUIRE_VIRTUALENV=1

# The pre-commit framework for the hook-manager tests: pip (into that environment), else
# Debian's package (lefthook and husky come from npm inside the tests themselves).
bash tests/deps/pre-commit.sh

# The ledger property tests run 10,000 cases here unless told otherwise.
export PROPTEST_CASES="${PROPTEST_CASES:-10000}"
cargo test --locked "$@"
