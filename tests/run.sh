#!/usr/bin/env bash
# Installs what the tests need on a fresh machine (Debian packages, as root), then runs them.
# Usage: tests/run.sh [cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v git >/dev/null || need+=(git)
command -v npm >/dev/null || need+=(nodejs npm)
command -v mariadbd >/dev/null || command -v mysqld >/dev/null || need+=(mariadb-server)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# The pre-commit framework for the hook-manager tests: pip where it may install, else Debian's
# package (lefthook and husky come from npm inside the tests themselves).
bash tests/deps/pre-commit.sh

# The ledger property tests run 10,000 cases here unless told otherwise.
export PROPTEST_CASES="${PROPTEST_CASES:-10000}"
cargo test --locked "$@"
