#!/usr/bin/env bash
# Puts the pre-commit framework on PATH for the hook-manager tests, if it is not there yet:
# from PyPI with pip where pip may install (a pyenv or virtualenv python), else Debian's
# `pre-commit` package (`apt-get update` first, as root): a Debian python refuses pip with
# "externally-managed-environment", and a machine may have no python3 at all.
set -uo pipefail

have() { hash -r; command -v pre-commit >/dev/null; }

have && exit 0
if command -v python3 >/dev/null \
    && python3 -m pip install --quiet --disable-pip-version-check pre-commit; then
    have && exit 0
    echo "pre-commit.sh: pip installed pre-commit, but not onto PATH; trying apt-get" >&2
else
    echo "pre-commit.sh: pip cannot install pre-commit here; trying apt-get" >&2
fi
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq && apt-get install -y -qq --no-install-recommends pre-commit && have; then
    exit 0
fi
echo "pre-commit.sh: could not install pre-commit with pip or apt-get; install it, then run the tests again" >&2
exit 1
