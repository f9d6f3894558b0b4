#!/usr/bin/env python3
"""Times the real executables side by side with plain git, in one run.

Usage: python3 benches/hooks.py [--runs N] [--baseline-rev REV | --baseline DIR]
       python3 benches/hooks.py --markdown [--files N] [--runs N] [--bin-dir DIR]
       (builds the release executables first, unless --bin-dir names a build)

With a baseline (another build's release directory, or a revision this script builds in a
worktree of its own under target/), every push figure is also taken with that build, in the same
run and alternating with the others, so two builds are compared on the same machine state.

Prints, with medians over N runs (pushes also in CPU time: user and system of `git push` and
every process it waited for, its hook included; the detached post-push is not waited for):
  - `git commit` with mainstay installed vs without (no hook of ours runs on commit), and with a
    `reference-transaction` hook that only returns (what a post-push built on it would cost);
  - `git push` of one commit to a local bare remote, with vs without, and with a pre-push hook
    that does nothing (what git itself charges for running any hook);
  - the delay from `git push` exiting to the monitor's first log line (both builds);
  - `pre-push` on a push of 1,000 new commits.

With --markdown, only: a push of N (10,000) new files that quote Markdown (`<` and `>` lines, so
each one may hold a conflict block) to a bare remote whose `pre-receive` is mainstay's, and to
one without a hook, alternating, each push to a fresh copy of the remote.
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ROOT / "target" / "x86_64-unknown-linux-gnu" / "release"


def env(home):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "MAINSTAY"))}
    clean.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1")
    return clean


def run(args, cwd, environ, stdin=None):
    subprocess.run(args, cwd=cwd, env=environ, check=True, input=stdin,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def timed(args, cwd, environ, stdin=None):
    start = time.perf_counter_ns()
    run(args, cwd, environ, stdin)
    return (time.perf_counter_ns() - start) / 1e6


def cpu_timed(args, cwd, environ):
    """The CPU time (user and system, ms) of the command and every process it waited for: on a
    shared machine it moves less than the wall clock when others load it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run(args, cwd, environ)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000


def build_baseline(rev):
    """Builds `rev` in a worktree under target/; returns its release directory."""
    tree = ROOT / "target" / "bench-baseline" / rev
    if not tree.exists():
        tree.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), rev], cwd=ROOT, check=True)
    subprocess.run(["cargo", "build", "--release", "--locked"], cwd=tree, check=True)
    return tree / "target" / "x86_64-unknown-linux-gnu" / "release"


def setup(base, environ, baseline):
    seed = base / "seed"
    seed.mkdir()
    run(["git", "init", "-q", "-b", "main"], seed, environ)
    (seed / "README.md").write_text("# bench\n")
    run(["git", "add", "-A"], seed, environ)
    run(["git", "commit", "-q", "-m", "initial"], seed, environ)
    clones = {}
    names = ["plain", "noop", "reftx", "mainstay"] + (["baseline"] if baseline else [])
    for name in names:
        bare = base / f"{name}.git"
        run(["git", "clone", "-q", "--bare", str(seed), str(bare)], base, environ)
        work = base / name
        run(["git", "clone", "-q", str(bare), str(work)], base, environ)
        clones[name] = work
    # git's own price for running any pre-push hook: one that does nothing.
    noop = clones["noop"] / ".git" / "hooks" / "pre-push"
    shutil.copy("/bin/true", noop)
    # What a post-push built on reference-transaction would cost every commit: a hook that only
    # returns, which git runs on each ref update.
    shutil.copy("/bin/true", clones["reftx"] / ".git" / "hooks" / "reference-transaction")
    builds = {"mainstay": RELEASE}
    if baseline:
        builds["baseline"] = baseline
    for name, release in builds.items():
        run([str(release / "install-hooks"), "--repo", str(clones[name])], base, environ)
        run(["git", "add", ".gitattributes"], clones[name], environ)
        run(["git", "commit", "-q", "-m", "route ledgers"], clones[name], environ)
        run(["git", "push", "-q", "origin", "main"], clones[name], environ)
    return clones


def medians(runs, *sides):
    samples = [[] for _ in sides]
    for i in range(runs):
        # Alternate, so drift on the machine hits every side alike.
        for side, out in zip(sides, samples):
            out.append(side(i))
    return [statistics.median(s) for s in samples]


def first_line_time(log):
    text = log.read_text() if log.exists() else ""
    if not text:
        return None
    stamp = text.split(" ", 1)[0]
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--baseline", type=Path, help="another build's release directory")
    parser.add_argument("--baseline-rev", help="a revision to build and compare against")
    parser.add_argument("--markdown", action="store_true", help="only the many-files push")
    parser.add_argument("--files", type=int, default=10000)
    parser.add_argument("--bin-dir", type=Path, help="take this build instead of building")
    args = parser.parse_args()
    runs = args.runs
    global RELEASE
    if args.bin_dir:
        RELEASE = args.bin_dir.resolve()
    else:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    if args.markdown:
        markdown_push(args.files, runs)
        return
    baseline = args.baseline or (build_baseline(args.baseline_rev) if args.baseline_rev else None)
    base = Path(tempfile.mkdtemp(prefix="mainstay-bench-"))
    try:
        home = base / "home"
        home.mkdir()
        (home / ".gitconfig").write_text(
            "[user]\n\tname = Bench\n\temail = bench@example.com\n[commit]\n\tgpgSign = false\n")
        environ = env(home)
        clones = setup(base, environ, baseline)

        def commit(name):
            return lambda i: timed(["git", "commit", "-q", "--allow-empty", "-m", f"c{i}"],
                                   clones[name], environ)

        c_plain, c_ours, c_reftx = medians(
            runs * 5, commit("plain"), commit("mainstay"), commit("reftx"))

        delays = {"mainstay": [], "baseline": []}
        cpu = {name: [] for name in clones}

        def push(name):
            def one(i):
                work = clones[name]
                (work / "file.txt").write_text(f"{name} {i}\n")
                run(["git", "commit", "-q", "-am", f"p{i}"], work, environ)
                sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=work, env=environ,
                                     check=True, capture_output=True, text=True).stdout.strip()
                start = time.perf_counter_ns()
                cpu[name].append(cpu_timed(["git", "push", "-q", "origin", "main"], work, environ))
                took = (time.perf_counter_ns() - start) / 1e6
                exited = time.time()
                if name in ("mainstay", "baseline"):
                    log = work / f".deployment-status-{sha[:7]}.log"
                    deadline = time.time() + 10
                    while first_line_time(log) is None and time.time() < deadline:
                        time.sleep(0.001)
                    stamp = first_line_time(log)
                    if stamp is not None:
                        delays[name].append(max(0.0, (stamp - exited) * 1000))
                return took
            return one

        for name in clones:
            (clones[name] / "file.txt").write_text("")
            run(["git", "add", "file.txt"], clones[name], environ)
        sides = [push("plain"), push("noop"), push("mainstay")]
        if baseline:
            sides.append(push("baseline"))
        p_plain, p_noop, p_ours, *p_base = medians(runs, *sides)

        # pre-push on 1,000 new commits: run the installed hook as git would, on a side branch so
        # only the policy is measured (no deploy follows a side branch).
        pre = bulk_pre_push(clones["mainstay"], environ, runs)
        pre_base = bulk_pre_push(clones["baseline"], environ, runs) if baseline else None

        print(f"runs per figure: {runs} (commits: {runs * 5})")
        print(f"{'measure':<44}{'without':>10}{'with':>10}{'ratio':>8}")
        print(f"{'git commit (ms, median)':<44}{c_plain:>10.2f}{c_ours:>10.2f}{c_ours / c_plain:>8.3f}")
        print(f"{'  same, a reference-transaction that returns':<44}{c_plain:>10.2f}{c_reftx:>10.2f}{c_reftx / c_plain:>8.3f}")
        print(f"{'git push to a local bare remote (ms, median)':<44}{p_plain:>10.2f}{p_ours:>10.2f}{p_ours / p_plain:>8.3f}")
        print(f"{'  same, a pre-push that does nothing':<44}{p_plain:>10.2f}{p_noop:>10.2f}{p_noop / p_plain:>8.3f}")
        print(f"{'  mainstay against that no-op hook':<44}{p_noop:>10.2f}{p_ours:>10.2f}{p_ours / p_noop:>8.3f}")
        if baseline:
            b = p_base[0]
            print(f"{'  the baseline build':<44}{p_plain:>10.2f}{b:>10.2f}{b / p_plain:>8.3f}")
            print(f"{'  this build against the baseline':<44}{b:>10.2f}{p_ours:>10.2f}{p_ours / b:>8.3f}")
        c = {name: statistics.median(v) for name, v in cpu.items() if v}
        print(f"{'git push, CPU time (ms, median)':<44}{c['plain']:>10.2f}{c['mainstay']:>10.2f}{c['mainstay'] / c['plain']:>8.3f}")
        print(f"{'  same, a pre-push that does nothing':<44}{c['plain']:>10.2f}{c['noop']:>10.2f}{c['noop'] / c['plain']:>8.3f}")
        print(f"{'  mainstay against that no-op hook':<44}{c['noop']:>10.2f}{c['mainstay']:>10.2f}{c['mainstay'] / c['noop']:>8.3f}")
        if baseline:
            print(f"{'  the baseline build against the no-op hook':<44}{c['noop']:>10.2f}{c['baseline']:>10.2f}{c['baseline'] / c['noop']:>8.3f}")
            print(f"{'  this build against the baseline':<44}{c['baseline']:>10.2f}{c['mainstay']:>10.2f}{c['mainstay'] / c['baseline']:>8.3f}")
        for name, label in (("mainstay", "push exit -> monitor's first log line (ms)"),
                            ("baseline", "  the baseline build (ms)")):
            if delays[name]:
                d = delays[name]
                print(f"{label}: median {statistics.median(d):.1f}, max {max(d):.1f} over {len(d)} pushes")
        print(f"pre-push on 1,000 new commits (ms): median {statistics.median(pre):.2f}, max {max(pre):.2f}")
        if pre_base:
            print(f"  the baseline build (ms): median {statistics.median(pre_base):.2f}, max {max(pre_base):.2f}")
    finally:
        time.sleep(0.5)
        shutil.rmtree(base, ignore_errors=True)


def markdown_push(files, runs):
    """A push of `files` Markdown-quoting files, with mainstay's pre-receive and with none."""
    base = Path(tempfile.mkdtemp(prefix="mainstay-bench-"))
    try:
        home = base / "home"
        home.mkdir()
        (home / ".gitconfig").write_text(
            "[user]\n\tname = Bench\n\temail = bench@example.com\n[commit]\n\tgpgSign = false\n")
        environ = env(home)
        seed = base / "seed"
        seed.mkdir()
        run(["git", "init", "-q", "-b", "main"], seed, environ)
        (seed / "README.md").write_text("# bench\n")
        run(["git", "add", "-A"], seed, environ)
        run(["git", "commit", "-q", "-m", "initial"], seed, environ)
        work = base / "work"
        run(["git", "clone", "-q", str(seed), str(work)], base, environ)
        docs = work / "docs"
        for i in range(files):
            part = docs / f"{i % 100}"
            part.mkdir(parents=True, exist_ok=True)
            (part / f"note{i}.md").write_text(f"< quoted {i}\nplain text\n> answered\n")
        run(["git", "add", "-A"], work, environ)
        run(["git", "commit", "-q", "-m", "notes"], work, environ)
        size = sum(p.stat().st_size for p in docs.rglob("*.md"))

        def remote(name, i):
            bare = base / f"{name}-{i}.git"
            run(["git", "clone", "-q", "--bare", str(seed), str(bare)], base, environ)
            if name == "mainstay":
                run([str(RELEASE / "install-hooks"), "--server", "--repo", str(bare)], base, environ)
            return bare

        def push(name):
            def one(i):
                bare = remote(name, i)
                took = timed(["git", "push", "-q", str(bare), "main"], work, environ)
                shutil.rmtree(bare)
                return took
            return one

        plain, ours = medians(runs, push("plain"), push("mainstay"))
        print(f"push of {files} Markdown-quoting files ({size / 1e6:.2f} MB), median of {runs}:")
        print(f"  without a hook {plain:.1f} ms, mainstay's pre-receive {ours:.1f} ms, "
              f"ratio {ours / plain:.2f}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def bulk_pre_push(work, environ, runs):
    """The installed pre-push on a push of 1,000 new commits, timed `runs` times."""
    old = subprocess.run(["git", "rev-parse", "HEAD"], cwd=work, env=environ, check=True,
                         capture_output=True, text=True).stdout.strip()
    stream = ["reset refs/heads/bulk", f"from {old}", ""]
    for i in range(1000):
        stream += [f"commit refs/heads/bulk", f"committer B <b@example.com> {1700000000 + i} +0000",
                   "data 2", "c", f"M 644 inline bulk/{i % 50}.txt", f"data {len(str(i)) + 1}", str(i), ""]
    run(["git", "fast-import", "--quiet"], work, environ, ("\n".join(stream) + "\n").encode())
    new = subprocess.run(["git", "rev-parse", "bulk"], cwd=work, env=environ, check=True,
                         capture_output=True, text=True).stdout.strip()
    line = f"refs/heads/bulk {new} refs/heads/bulk {old}\n".encode()
    hook = work / ".git" / "hooks" / "pre-push"
    return [timed([str(hook), "origin", "url"], work, environ, line) for _ in range(runs)]


if __name__ == "__main__":
    main()
