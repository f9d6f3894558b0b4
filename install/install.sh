#!/usr/bin/env bash
# Builds mainstay's statically linked executables and puts them on PATH; run from anywhere.
#
# Usage: path/to/mainstay/install/install.sh [--prefix DIR] [REPO]
#   --prefix DIR  where the executables go (default: $PREFIX, else ~/.local/bin)
#   REPO          also set this clone up (install-hooks --repo REPO)
#
# Run it again after pulling a new version to upgrade: the executables, then every clone and the
# machine-wide install set up from them (install-hooks --upgrade).
#
# MAINSTAY_BUILD_PROFILE=dev builds the debug executables instead (the tests use it: the
# release build takes minutes).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
prefix="${PREFIX:-${HOME:?HOME must be set}/.local/bin}"
repo=""
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
        --prefix=*) prefix="${1#--prefix=}"; shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        -*) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) repo="$1"; shift ;;
    esac
done
# Paths the caller gave are theirs: resolved before this script changes directory.
case "$prefix" in /*) ;; *) prefix="$PWD/$prefix" ;; esac
if [ -n "$repo" ]; then
    repo="$(cd "$repo" && pwd)" || { echo "install.sh: $repo is not a directory" >&2; exit 2; }
fi

command -v cargo >/dev/null || { echo "install.sh: cargo is not on PATH; install Rust first (rustup)" >&2; exit 2; }
host="$(rustc -vV | sed -n 's/^host: //p')"
profile="${MAINSTAY_BUILD_PROFILE:-release}"
# cargo reads .cargo/config.toml from the directory it runs in, not the manifest's.
cd "$here"
flags=(--locked --profile "$profile")
if [ "$host" != "x86_64-unknown-linux-gnu" ]; then
    # .cargo/config.toml names the x86_64 Linux target; any other host builds for itself.
    flags+=(--target "$host" --config "target.$host.rustflags=['-C','target-feature=+crt-static']")
fi
echo "building mainstay ($profile) for $host; the first build takes a few minutes" >&2
cargo build "${flags[@]}"
out="debug"
[ "$profile" = "dev" ] || out="$profile"
built="$here/target/$host/$out"

mkdir -p "$prefix"
for exe in mainstay install-hooks pre-push post-push merge-driver pre-receive; do
    # A new file renamed into place: a running hook keeps the executable it started with.
    install -m 0755 "$built/$exe" "$prefix/.$exe.new"
    mv -f "$prefix/.$exe.new" "$prefix/$exe"
done
echo "installed mainstay into $prefix" >&2
case ":$PATH:" in
    *":$prefix:"*) ;;
    *) echo "note: $prefix is not on PATH; add it: export PATH=\"$prefix:\$PATH\"" >&2 ;;
esac

"$prefix/install-hooks" --upgrade
if [ -n "$repo" ]; then
    "$prefix/install-hooks" --repo "$repo"
fi
