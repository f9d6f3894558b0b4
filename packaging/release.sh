#!/usr/bin/env bash
# Builds the release executables for every target of packaging/targets this machine can build,
# packs them (packaging/pack.sh) and writes their SHA-256 checksums; publishes nothing.
#
# Usage: packaging/release.sh [--out DIR] [TARGET...]
#   TARGET     only these targets (default: every one in packaging/targets)
#   --out DIR  where the artifacts go (default: target/dist), with SHA256SUMS beside them
#
# A target is built where its toolchain exists: the host's own always; another when rustup has
# it installed (`rustup target add TARGET`) and its cross linker, named in packaging/targets, is
# on PATH. Each one skipped is named with what it needs. Linux executables are static.
set -euo pipefail

# The comment above, up to its first line of code.
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="$root/target/dist"
wanted=()
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="${2:?--out needs a directory}"; shift 2 ;;
        --out=*) out="${1#--out=}"; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "release.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) wanted+=("$1"); shift ;;
    esac
done
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
declared="$(awk '!/^#/ && NF { print $1 }' "$here/targets")"
[ ${#wanted[@]} -gt 0 ] || read -r -d '' -a wanted <<<"$declared" || true
command -v cargo >/dev/null || { echo "release.sh: cargo is not on PATH; install Rust first (rustup)" >&2; exit 2; }
host="$(rustc -vV | sed -n 's/^host: //p')"
installed="$(rustup target list --installed 2>/dev/null || echo "$host")"

cd "$root"
rm -rf "$out"
mkdir -p "$out"
pairs=()
for target in "${wanted[@]}"; do
    line="$(awk -v t="$target" '$1 == t' "$here/targets")"
    [ -n "$line" ] || { echo "release.sh: $target is not in packaging/targets" >&2; exit 2; }
    read -r _ _ _ _ linker <<<"$line"
    flags=(--locked --release --target "$target")
    if [ "$target" != "$host" ]; then
        if ! grep -qx "$target" <<<"$installed"; then
            echo "release.sh: skipped $target: its standard library is not installed (rustup target add $target)" >&2
            continue
        fi
        if [ "$linker" = "-" ]; then
            echo "release.sh: skipped $target: it builds only on its own host" >&2
            continue
        fi
        if ! command -v "$linker" >/dev/null; then
            echo "release.sh: skipped $target: its linker $linker is not on PATH" >&2
            continue
        fi
        flags+=(--config "target.$target.linker='$linker'")
    fi
    case "$target" in
        # .cargo/config.toml has the host's static flags; other Linux targets get them here.
        *-linux-*) [ "$target" = x86_64-unknown-linux-gnu ] ||
            flags+=(--config "target.$target.rustflags=['-C','target-feature=+crt-static']") ;;
    esac
    echo "release.sh: building $target" >&2
    cargo build "${flags[@]}"
    pairs+=("$target=$root/target/$target/release")
done
[ ${#pairs[@]} -gt 0 ] || { echo "release.sh: no target could be built here" >&2; exit 1; }

bash "$here/pack.sh" --out "$out" "${pairs[@]}"
cd "$out"
if command -v sha256sum >/dev/null; then sum=(sha256sum); else sum=(shasum -a 256); fi
"${sum[@]}" -- * > SHA256SUMS
echo "release.sh: the artifacts and SHA256SUMS are in $out" >&2
