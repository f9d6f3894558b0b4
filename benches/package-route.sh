#!/usr/bin/env bash
# Times a fresh project going from nothing to a protected push by the package route: a new
# repository and clone, the package installed from the local artifacts of packaging/release.sh
# (npm with an empty cache, offline; pip into a new virtual environment, no index), install-hooks,
# and a force push of main that the hook refuses. Wall clock of each route, RUNS times (default 3),
# alternating, each run from new directories.
#
# Usage: benches/package-route.sh [DIST]   (DIST: the artifacts, default target/dist; RUNS=N)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dist="$(cd "${1:-$root/target/dist}" && pwd)"
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)"
platform="$(ls "$dist"/mainstay-hooks-linux-*-"$version".tgz | head -n 1)"
wheel="$(ls "$dist"/mainstay_hooks-"$version"-*.whl | head -n 1)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"
git config --global user.name bench && git config --global user.email bench@example.com
git config --global init.defaultBranch main

now() { date +%s%N; }

# project NAME: a remote with one commit and a fresh clone of it; prints the clone's path.
project() {
    git init -q --bare "$work/$1.git"
    git clone -q "$work/$1.git" "$work/$1" 2>/dev/null
    (cd "$work/$1" && echo "# app" > README.md && git add README.md && git commit -qm init && git push -q origin main)
    echo "$work/$1"
}

refused() {
    git commit -q --amend -m rewritten
    if git push -q --force origin main 2>"$work/push.err"; then
        echo "package-route.sh: the force push went through" >&2; exit 1
    fi
    grep -q "refusing to force-push" "$work/push.err"
}

npm_ms=""
pip_ms=""
for run in $(seq "${RUNS:-3}"); do
    start=$(now)
    repo="$(project "npm$run")"
    cd "$repo"
    echo '{"name": "app", "version": "1.0.0", "private": true}' > package.json
    npm install --offline --no-audit --no-fund --silent --cache "$work/npm-cache$run" "$platform" "$dist/mainstay-hooks-$version.tgz"
    PATH="$repo/node_modules/.bin:$PATH" install-hooks >/dev/null
    refused
    npm_ms+=" $(( ($(now) - start) / 1000000 ))"

    start=$(now)
    repo="$(project "pip$run")"
    cd "$repo"
    python3 -m venv "$work/venv$run"
    "$work/venv$run/bin/python" -m pip install --quiet --no-index --no-deps --disable-pip-version-check "$wheel"
    PATH="$work/venv$run/bin:$PATH" install-hooks >/dev/null
    refused
    pip_ms+=" $(( ($(now) - start) / 1000000 ))"
done

echo "npm (mainstay-hooks $version), ms from nothing to a refused force push:$npm_ms"
echo "pip (mainstay_hooks $version wheel), ms from nothing to a refused force push:$pip_ms"
du -k "$platform" "$wheel" | awk '{ printf "%s: %.1f MB\n", $2, $1 / 1024 }' | sed "s|$dist/||"
