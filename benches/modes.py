#!/usr/bin/env python3
"""Times the server-side and the machine-wide installs against what they replace, in one run.

Usage: python3 benches/modes.py [--runs N]   (builds the release executables first)

Prints, with medians over N runs, alternating the sides:
  - a push of one commit, and of 1,000 commits, to a bare remote whose pre-receive is
    mainstay's (`install-hooks --server`), one that does nothing, and none;
  - `git commit` in a clone under `install-hooks --global` (dispatchers for every hook name,
    handing on to the clone's own hooks, of which it has none) against a clone without it.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ROOT / "target" / "x86_64-unknown-linux-gnu" / "release"


def env(home, **extra):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "MAINSTAY"))}
    clean.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), GIT_CONFIG_NOSYSTEM="1")
    clean.update(extra)
    return clean


def run(args, cwd, environ, stdin=None):
    subprocess.run(args, cwd=cwd, env=environ, check=True, input=stdin,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def out(args, cwd, environ):
    return subprocess.run(args, cwd=cwd, env=environ, check=True, capture_output=True,
                          text=True).stdout.strip()


def timed(args, cwd, environ, stdin=None):
    start = time.perf_counter_ns()
    run(args, cwd, environ, stdin)
    return (time.perf_counter_ns() - start) / 1e6


def medians(runs, *sides):
    samples = [[] for _ in sides]
    for i in range(runs):
        for side, got in zip(sides, samples):
            got.append(side(i))
    return [statistics.median(s) for s in samples]


def home_dir(base, name):
    home = base / name
    home.mkdir()
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Bench\n\temail = bench@example.com\n[commit]\n\tgpgSign = false\n")
    return home


def commits(work, environ, count, tag):
    """`count` new commits on the current branch, made fast with fast-import."""
    head = out(["git", "rev-parse", "HEAD"], work, environ)
    stream = ["reset refs/heads/main", f"from {head}", ""]
    for i in range(count):
        stream += ["commit refs/heads/main", f"committer B <b@example.com> {1700000000 + i} +0000",
                   "data 2", "c", f"M 644 inline {tag}/{i % 50}.txt", f"data {len(str(i)) + 1}",
                   str(i), ""]
    run(["git", "fast-import", "--quiet", "--force"], work, environ, ("\n".join(stream) + "\n").encode())
    run(["git", "reset", "-q", "--hard", "main"], work, environ)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    base = Path(tempfile.mkdtemp(prefix="mainstay-bench-"))
    try:
        environ = env(home_dir(base, "home"))
        seed = base / "seed"
        seed.mkdir()
        run(["git", "init", "-q", "-b", "main"], seed, environ)
        (seed / "README.md").write_text("# bench\n")
        run(["git", "add", "-A"], seed, environ)
        run(["git", "commit", "-q", "-m", "initial"], seed, environ)
        clones = {}
        for name in ("none", "noop", "mainstay"):
            bare = base / f"{name}.git"
            run(["git", "clone", "-q", "--bare", str(seed), str(bare)], base, environ)
            if name == "noop":
                shutil.copy("/bin/true", bare / "hooks" / "pre-receive")
            if name == "mainstay":
                run([str(RELEASE / "install-hooks"), "--server", "--repo", str(bare)], base, environ)
            work = base / f"{name}-work"
            run(["git", "clone", "-q", str(bare), str(work)], base, environ)
            clones[name] = work

        def push(name, count):
            def one(i):
                work = clones[name]
                commits(work, environ, count, f"p{i}")
                return timed(["git", "push", "-q", "origin", "main"], work, environ)
            return one

        one = medians(runs, *(push(n, 1) for n in clones))
        many = medians(max(5, runs // 5), *(push(n, 1000) for n in clones))

        # git commit under the global install, against a plain HOME.
        ghome = home_dir(base, "global-home")
        genv = env(ghome)
        run([str(RELEASE / "install-hooks"), "--global"], base, genv)
        plain = base / "plain-commit"
        under = base / "global-commit"
        run(["git", "clone", "-q", str(base / "none.git"), str(plain)], base, environ)
        run(["git", "clone", "-q", str(base / "none.git"), str(under)], base, genv)

        def commit(work, e):
            return lambda i: timed(["git", "commit", "-q", "--allow-empty", "-m", f"c{i}"], work, e)

        c_plain, c_global = medians(runs * 4, commit(plain, environ), commit(under, genv))

        print(f"runs per figure: {runs} (1,000-commit pushes: {max(5, runs // 5)}, commits: {runs * 4})")
        print(f"{'push to a bare remote (ms, median)':<40}{'no hook':>10}{'no-op':>10}{'mainstay':>10}{'vs no-op':>10}")
        for label, (a, b, c) in (("one commit", one), ("1,000 commits", many)):
            print(f"{'  ' + label:<40}{a:>10.2f}{b:>10.2f}{c:>10.2f}{c - b:>+9.2f}ms")
        print(f"{'git commit (ms, median)':<40}{'without':>10}{'--global':>10}{'ratio':>10}")
        print(f"{'  one empty commit':<40}{c_plain:>10.2f}{c_global:>10.2f}{c_global / c_plain:>10.3f}")
    finally:
        time.sleep(0.5)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
