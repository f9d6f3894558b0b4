#!/usr/bin/env bash
# Packs built executables into the npm packages and the Python wheels; builds nothing, publishes
# nothing, needs no network.
#
# Usage: packaging/pack.sh --out DIR TARGET=BIN_DIR...
#   TARGET=BIN_DIR  a target of packaging/targets and the directory holding its six executables
#   --out DIR       where the packages go:
#                     mainstay-hooks-<os>-<cpu>-<version>.tgz   one npm package per target
#                     mainstay_hooks-<version>-py3-none-<platform>.whl   one wheel per target
#                     mainstay-<version>-<target>.tar.gz   the layout, to unpack into a prefix
#                   each with the man pages and completions (share/) of the first executable
#                   that runs here
#                     mainstay-hooks-<version>.tgz   the npm package users install: a launcher,
#                                                    the per-target packages as optional dependencies
#
# Needs node and npm (npm pack) and python3 (the wheel). packaging/release.sh builds and calls it.
set -euo pipefail

# The comment above, up to its first line of code.
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=layout.sh
. "$here/layout.sh"
out=""
pairs=()
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="${2:?--out needs a directory}"; shift 2 ;;
        --out=*) out="${1#--out=}"; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "pack.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
        *=*) pairs+=("$1"); shift ;;
        *) echo "pack.sh: $1 is not TARGET=BIN_DIR (see --help)" >&2; exit 2 ;;
    esac
done
[ -n "$out" ] || { echo "pack.sh: --out DIR is required (see --help)" >&2; exit 2; }
[ ${#pairs[@]} -gt 0 ] || { echo "pack.sh: name at least one TARGET=BIN_DIR (see --help)" >&2; exit 2; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$here/../Cargo.toml" | head -n 1)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# json FILE KEY=VALUE...: writes a package.json from the template on stdin, with node (npm's own).
json() {
    local file="$1"; shift
    node -e '
        const fs = require("fs");
        const pkg = JSON.parse(fs.readFileSync(0, "utf8"));
        for (const pair of process.argv.slice(2)) {
            const at = pair.indexOf("=");
            pkg[pair.slice(0, at)] = JSON.parse(pair.slice(at + 1));
        }
        fs.writeFileSync(process.argv[1], JSON.stringify(pkg, null, 2) + "\n");
    ' "$file" "$@"
}

# The man pages and completions, from the first of the executables that runs on this machine.
share=""
for pair in "${pairs[@]}"; do
    if "${pair#*=}/mainstay" --version >/dev/null 2>&1; then
        share="$work/share"
        lay_docs "${pair#*=}/mainstay" "$share"
        break
    fi
done
[ -n "$share" ] || echo "pack.sh: none of the executables runs here: no man pages or completions" >&2

optional="{}"
for pair in "${pairs[@]}"; do
    target="${pair%%=*}"
    bin_dir="${pair#*=}"
    line="$(awk -v t="$target" '$1 == t' "$here/targets")"
    [ -n "$line" ] || { echo "pack.sh: $target is not in packaging/targets" >&2; exit 2; }
    read -r _ os cpu platform _ <<<"$line"
    name="mainstay-hooks-$os-$cpu"
    tree="$work/tree-$target"
    pkg="$work/$name"
    lay_out "$bin_dir" "$tree/bin"
    [ -z "$share" ] || cp -R "$share" "$tree/share"
    mkdir -p "$pkg"
    cp -R "$tree/bin" "$tree/libexec" "$pkg/"
    echo '{}' | json "$pkg/package.json" \
        "name=\"$name\"" "version=\"$version\"" \
        "description=\"mainstay's prebuilt executables for $target\"" \
        'license="MIT OR Apache-2.0"' "os=[\"$os\"]" "cpu=[\"$cpu\"]" \
        'files=["bin","libexec"]' 'preferUnplugged=true'
    (cd "$pkg" && npm pack --silent --pack-destination "$out" >/dev/null)
    python3 "$here/wheel.py" --tree "$tree" --version "$version" --platform "$platform" --out "$out" >/dev/null
    (cd "$tree" && tar -czf "$out/mainstay-$version-$target.tar.gz" -- *)
    optional="$(node -e 'const o = JSON.parse(process.argv[1]); o[process.argv[2]] = process.argv[3];
        console.log(JSON.stringify(o))' "$optional" "$name" "$version")"
    echo "packed $target: $name-$version.tgz, mainstay_hooks-$version-py3-none-$platform.whl" >&2
done

main="$work/mainstay-hooks"
mkdir -p "$main"
cp -R "$here/npm/bin" "$here/npm/lib" "$main/"
man="[]"
if [ -n "$share" ]; then
    # npm links these into its prefix's share/man on a global install.
    cp -R "$share" "$main/share"
    man="$(cd "$main" && node -e 'console.log(JSON.stringify(process.argv.slice(1)))' share/man/man1/*.1)"
fi
sed "s/@VERSION@/$version/" "$here/npm/package.json" |
    json "$main/package.json" "optionalDependencies=$optional" "man=$man"
(cd "$main" && npm pack --silent --pack-destination "$out" >/dev/null)
echo "packed mainstay-hooks-$version.tgz into $out" >&2
