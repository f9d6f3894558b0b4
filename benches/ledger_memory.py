#!/usr/bin/env python3
"""Peak memory of the `merge-driver` executable against the size of its input.

    python3 benches/ledger_memory.py [--runs N]

Writes the inputs of `benches/ledger.rs` (the real roadmap with a few hundred entries changed per
side, and synthetic ledgers of 10,000 and 100,000 entries) by running that bench once in test
mode, then runs the release `merge-driver --stdout` on each set under GNU time (`/usr/bin/time`,
Debian's `time` package), which reports the kernel's peak resident set size of that process
(`ru_maxrss`). GNU time is used rather than this script's own `wait4`: a child forked from a
Python process starts with Python's memory in that figure. The input size is the three files
together; the goal is a peak of at most 10x that.
"""

import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DRIVER = os.path.join(ROOT, "target", "x86_64-unknown-linux-gnu", "release", "merge-driver")
SETS = [("roadmap", "roadmap"), ("10000", "roadmap"), ("100000", "roadmap")]
FILES = ["base.md", "ours.md", "theirs.md"]
TIME = "/usr/bin/time"


def peak_kib(kind, directory):
    """Runs the driver once on a set; its peak RSS in KiB."""
    args = [TIME, "-f", "%x %M", DRIVER, kind, "--stdout"] + FILES
    done = subprocess.run(args, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=False)
    status, peak = done.stderr.strip().splitlines()[-1].split()
    if status not in ("0", "1"):
        sys.exit(f"merge-driver failed on {directory}: exit {status}: {done.stderr.strip()}")
    return int(peak)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per input set (the max is kept)")
    args = parser.parse_args()
    if not os.access(TIME, os.X_OK):
        sys.exit(f"{TIME} is missing: apt-get install time")
    with tempfile.TemporaryDirectory(prefix="ledger-memory-") as work:
        env = dict(os.environ, LEDGER_BENCH_WRITE=work)
        # `--test` runs each benchmark once: enough to write the inputs and build the driver.
        subprocess.run(
            ["cargo", "bench", "--bench", "ledger", "--", "--test"],
            cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
        )
        empty = os.path.join(work, "empty")
        os.mkdir(empty)
        for name in FILES:
            open(os.path.join(empty, name), "w").close()
        floor = peak_kib("roadmap", empty)
        print(f"merge-driver peak RSS on empty files: {floor / 1024:.1f} MiB (the executable itself)")
        print()
        print("| input | input size | peak RSS | peak / input | goal |")
        print("| --- | --- | --- | --- | --- |")
        for name, kind in SETS:
            directory = os.path.join(work, name)
            size = sum(os.path.getsize(os.path.join(directory, f)) for f in FILES)
            peak = max(peak_kib(kind, directory) for _ in range(args.runs))
            label = "real roadmap" if name == "roadmap" else f"synthetic, {int(name):,} entries"
            print(
                f"| {label} | {size / 2**20:.2f} MiB | {peak / 1024:.1f} MiB "
                f"| {peak * 1024 / size:.1f}x | ≤ 10x |"
            )


if __name__ == "__main__":
    main()
