#!/usr/bin/env bash
# Builds mainstay's statically linked executables and installs them into a repository.
# Usage: install/install.sh [REPO]    (REPO defaults to the current directory)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --release --locked --quiet --manifest-path "$here/Cargo.toml"
exec "$here/target/x86_64-unknown-linux-gnu/release/install-hooks" --repo "${1:-.}"
