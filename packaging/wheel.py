#!/usr/bin/env python3
"""Builds the `mainstay-hooks` wheel from a laid-out tree of executables (see layout.sh).

Usage: wheel.py --tree ROOT --version VERSION --platform TAG --out DIR

ROOT/bin/* become the wheel's scripts (pip puts them in the environment's bin/, on PATH); every
other file under ROOT (libexec/mainstay/, share/) becomes data, installed under the environment's
prefix, so the hooks land in <prefix>/libexec/mainstay/ beside <prefix>/bin/, as from
install/install.sh. No Python code is in it: the wheel only carries the executables, as ruff's
does. The format is the binary distribution format of the Python packaging specifications:
`.dist-info` with METADATA, WHEEL and RECORD (a sha256 and size for every other file).
"""

import argparse
import base64
import hashlib
import os
import sys
import zipfile

NAME = "mainstay-hooks"
SUMMARY = (
    "Git hooks that keep a shared main safe: push policy, post-push deploy monitor, "
    "ledger merge driver (prebuilt executables)"
)
# Reproducible archives: every entry gets this time (zip cannot say earlier than 1980).
EPOCH = (1980, 1, 1, 0, 0, 0)


def digest(data):
    raw = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--platform", required=True, help="e.g. manylinux_2_17_x86_64")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    dist = NAME.replace("-", "_")
    stem = f"{dist}-{args.version}"
    tags = [f"py3-none-{platform}" for platform in args.platform.split(".")]
    path = os.path.join(args.out, f"{stem}-py3-none-{args.platform}.whl")

    entries = []  # (name in the archive, bytes, executable)
    for top, dirs, files in os.walk(args.tree):
        dirs.sort()
        for file in sorted(files):
            full = os.path.join(top, file)
            rel = os.path.relpath(full, args.tree).replace(os.sep, "/")
            kind = "scripts" if rel.startswith("bin/") else "data"
            inner = rel[len("bin/"):] if kind == "scripts" else rel
            with open(full, "rb") as f:
                data = f.read()
            executable = os.stat(full).st_mode & 0o111 != 0
            entries.append((f"{stem}.data/{kind}/{inner}", data, executable))
    if not any(name.startswith(f"{stem}.data/scripts/") for name, _, _ in entries):
        sys.exit(f"wheel.py: {args.tree}/bin holds no executables")

    info = f"{stem}.dist-info"
    metadata = (
        "Metadata-Version: 2.1\n"
        f"Name: {NAME}\n"
        f"Version: {args.version}\n"
        f"Summary: {SUMMARY}\n"
        "License: MIT OR Apache-2.0\n"
        "Keywords: git,hooks,pre-push,deploy,merge-driver\n"
    )
    wheel = (
        "Wheel-Version: 1.0\n"
        "Generator: mainstay packaging/wheel.py\n"
        "Root-Is-Purelib: false\n" + "".join(f"Tag: {tag}\n" for tag in tags)
    )
    entries.append((f"{info}/METADATA", metadata.encode(), False))
    entries.append((f"{info}/WHEEL", wheel.encode(), False))
    record = "".join(f"{name},{digest(data)},{len(data)}\n" for name, data, _ in entries)
    record += f"{info}/RECORD,,\n"
    entries.append((f"{info}/RECORD", record.encode(), False))

    os.makedirs(args.out, exist_ok=True)
    with zipfile.ZipFile(path + ".new", "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data, executable in entries:
            entry = zipfile.ZipInfo(name, EPOCH)
            # Unix permissions in the high half: pip keeps the executable bit of data files.
            entry.external_attr = (0o100755 if executable else 0o100644) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    os.replace(path + ".new", path)
    print(path)


if __name__ == "__main__":
    main(sys.argv[1:])
