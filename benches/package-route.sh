#!/usr/bin/env bash
# Times a fresh project going from nothing to a protected push by the package route: a new
# repository and clone, the package installed from the local artifacts of packaging/release.sh
# (npm with an empty cache, offline; pip into a new virtual environment, no index), install-hooks,
# and a force push of main that the hook refuses. Wall clock of each route, one run each.
#
# Usage: benches/package-route.sh [DIST]   (DIST: the artifacts, default target/dist)
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

# While install-hooks looks for the hooks only beside itself, they are linked there from the
# packages' libexec/mainstay/.
bridge() {
    local dir; dir="$(dirname "$1")"
    [ -e "$dir/pre-push" ] && return
    for hook in pre-push post-push merge-driver pre-receive; do
        ln -s "$dir/../libexec/mainstay/$hook" "$dir/$hook"
    done
}

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

start=$(now)
repo="$(project npm)"
cd "$repo"
echo '{"name": "app", "version": "1.0.0", "private": true}' > package.json
npm install --offline --no-audit --no-fund --silent --cache "$work/npm-cache" "$platform" "$dist/mainstay-hooks-$version.tgz"
bridge "$(readlink -f node_modules/mainstay-hooks-linux-*/bin/install-hooks)"
PATH="$repo/node_modules/.bin:$PATH" install-hooks >/dev/null
refused
npm_ms=$(( ($(now) - start) / 1000000 ))

start=$(now)
repo="$(project pip)"
cd "$repo"
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --no-index --no-deps --disable-pip-version-check "$wheel"
bridge "$work/venv/bin/install-hooks"
PATH="$work/venv/bin:$PATH" install-hooks >/dev/null
refused
pip_ms=$(( ($(now) - start) / 1000000 ))

echo "npm (mainstay-hooks $version): ${npm_ms} ms from nothing to a refused force push"
echo "pip (mainstay_hooks $version wheel): ${pip_ms} ms from nothing to a refused force push"
du -k "$platform" "$wheel" | awk '{ printf "%s: %.1f MB\n", $2, $1 / 1024 }' | sed "s|$dist/||"
