#!/usr/bin/env bash
# Builds mainstay's statically linked executables and puts them on PATH; run from anywhere.
#
# Usage: path/to/mainstay/install/install.sh [--prefix DIR] [REPO]
#   --prefix DIR  where mainstay and install-hooks go (default: $PREFIX, else ~/.local/bin); the
#                 hooks git runs go to DIR/../libexec/mainstay/, off PATH
#   REPO          also set this clone up (install-hooks --repo REPO)
#
# Run it again after pulling a new version to upgrade: the executables, then every clone and the
# machine-wide install set up from them (install-hooks --upgrade).
#
# MAINSTAY_BUILD_PROFILE=dev builds the debug executables instead (the tests use it: the
# release build takes minutes).
set -euo pipefail

# The comment above, up to its first line of code.
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

here="$(cd "$(dirname "$0")/.." && pwd)"
prefix="${PREFIX:-${HOME:?HOME must be set}/.local/bin}"
repo=""
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
        --prefix=*) prefix="${1#--prefix=}"; shift ;;
        -h|--help) usage; exit 0 ;;
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

# shellcheck source=../packaging/layout.sh
. "$here/packaging/layout.sh"
lay_out "$built" "$prefix"
share="$(cd "$prefix/.." && pwd)/share"
lay_docs "$prefix/mainstay" "$share"
echo "installed mainstay into $prefix (the hooks into $(libexec_of "$prefix"), man pages and completions into $share)" >&2
case ":$PATH:" in
    *":$prefix:"*) ;;
    *) echo "note: $prefix is not on PATH; add it: export PATH=\"$prefix:\$PATH\"" >&2 ;;
esac
# Another install earlier on PATH (npm, pip, cargo) wins there: said, so that none is mixed up.
for exe in "${ON_PATH[@]}"; do
    found="$(command -v "$exe" || true)"
    if [ -n "$found" ] && [ "$(cd "$(dirname "$found")" && pwd)" != "$(cd "$prefix" && pwd)" ]; then
        echo "note: PATH finds $exe at $found first, not the one installed here; remove that install, or put $prefix before it on PATH" >&2
    fi
done

"$prefix/install-hooks" --upgrade
if [ -n "$repo" ]; then
    "$prefix/install-hooks" --repo "$repo"
fi
# Earlier versions put the hooks on PATH beside mainstay: once upgraded, ours (an executable
# built from this crate) go, and a file of anyone else's by that name stays.
for exe in "${HOOKS[@]}"; do
    old="$prefix/$exe"
    if [ -f "$old" ] && [ "$(head -c 4 "$old" | tr -d '\177')" = ELF ] && grep -qaF mainstay "$old"; then
        rm -f "$old"
        echo "removed $old: the hooks are in $(libexec_of "$prefix") now" >&2
    fi
done
