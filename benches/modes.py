#!/usr/bin/env python3
"""Times the server-side and the machine-wide installs against what they replace, in one run.

Usage: python3 benches/modes.py [--runs N] [--bin-dir DIR] [--baseline DIR]
  (builds the release executables first, unless --bin-dir names another build's directory;
  --baseline adds `git commit` under another build's --global install, alternating with this one)

Prints, with medians over N runs, alternating the sides:
  - a push of one commit, and of 1,000 commits, to a bare remote whose pre-receive is
    mainstay's (`install-hooks --server`), one that does nothing, and none; then the two hooks
    alone, run as git runs them, on the remote's newest 1 and 1,000 commits;
  - `git commit` in a clone under `install-hooks --global` (dispatchers for every hook name,
    handing on to the clone's own hooks, of which it has none) against a clone without it, and
    how many hooks git runs for one commit there, and the same commit with every dispatcher
    replaced by a script that only exits (what git pays to start a hook script at all).
"""

import argparse
import os
import resource
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


def cpu_timed(args, cwd, environ):
    """The CPU time (user + system, ms) of a command and every process it waited for: on a
    shared machine, steadier than the wall clock."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run(args, cwd, environ)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1e3


def medians(runs, *sides):
    samples = [[] for _ in sides]
    for i in range(runs):
        for side, got in zip(sides, samples):
            value = side(i)
            if value is not None:
                got.append(value)
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
    parser.add_argument("--bin-dir", type=Path, help="another build's release directory")
    parser.add_argument("--baseline", type=Path, help="a build to compare `git commit` against")
    args = parser.parse_args()
    runs = args.runs
    release = args.bin_dir.resolve() if args.bin_dir else RELEASE
    if not args.bin_dir:
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
                run([str(release / "install-hooks"), "--server", "--repo", str(bare)], base, environ)
            work = base / f"{name}-work"
            run(["git", "clone", "-q", str(bare), str(work)], base, environ)
            clones[name] = work

        push_cpu = {}

        def push(name, count):
            def one(i):
                work = clones[name]
                commits(work, environ, count, f"p{count}-{i}")
                args = ["git", "push", "-q", "origin", "main"]
                if i % 2:
                    push_cpu.setdefault((name, count), []).append(cpu_timed(args, work, environ))
                    return None
                return timed(args, work, environ)
            return one

        # Every other push measures CPU time (git, receive-pack and the hook) instead.
        one = medians(runs * 2, *(push(n, 1) for n in clones))
        many = medians(max(10, runs // 5 * 2), *(push(n, 1000) for n in clones))
        one_cpu = [statistics.median(push_cpu[(n, 1)]) for n in clones]
        many_cpu = [statistics.median(push_cpu[(n, 1000)]) for n in clones]

        # The hook alone, run as git runs it in the remote (GIT_DIR set, the line on stdin), on
        # the newest 1 and 1,000 commits of the remote's history: no push around it.
        bare = base / "mainstay.git"
        tip = out(["git", "rev-parse", "main"], bare, environ)

        def hook(program, back):
            line = f"{out(['git', 'rev-parse', f'main~{back}'], bare, environ)} {tip} refs/heads/main\n"
            hook_env = dict(environ, GIT_DIR=".")

            def one(i):
                args = [str(program)]
                if i % 2:
                    before = resource.getrusage(resource.RUSAGE_CHILDREN)
                    run(args, bare, hook_env, line.encode())
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    return ("cpu", ((after.ru_utime - before.ru_utime)
                                    + (after.ru_stime - before.ru_stime)) * 1e3)
                return ("wall", timed(args, bare, hook_env, line.encode()))
            return one

        alone = {}
        for back in (1, 1000):
            sides = [hook("/bin/true", back), hook(release / "pre-receive", back)]
            samples = [[], []]
            for i in range(runs * 2):
                for side, got in zip(sides, samples):
                    got.append(side(i))
            alone[back] = [
                [statistics.median(v for k, v in got if k == kind) for got in samples]
                for kind in ("wall", "cpu")
            ]

        # git commit under the global install, against a plain HOME.
        ghome = home_dir(base, "global-home")
        genv = env(ghome)
        run([str(release / "install-hooks"), "--global"], base, genv)
        plain = base / "plain-commit"
        under = base / "global-commit"
        run(["git", "clone", "-q", str(base / "none.git"), str(plain)], base, environ)
        run(["git", "clone", "-q", str(base / "none.git"), str(under)], base, genv)

        # The floor: the same install with every dispatcher replaced by `#!/bin/sh` and `exit 0`,
        # so what is left is what git pays to start a shell script at all.
        fhome = home_dir(base, "floor-home")
        fenv = env(fhome)
        run([str(release / "install-hooks"), "--global"], base, fenv)
        for hook in (fhome / ".config" / "mainstay" / "hooks").iterdir():
            if hook.read_bytes().startswith(b"#!/bin/sh"):
                hook.write_text("#!/bin/sh\nexit 0\n")
        floor = base / "floor-commit"
        run(["git", "clone", "-q", str(base / "none.git"), str(floor)], base, fenv)

        cpu = {}

        def commit(work, e):
            def one(i):
                args = ["git", "commit", "-q", "--allow-empty", "-m", f"c{i}"]
                if i % 2:
                    cpu.setdefault(work, []).append(cpu_timed(args, work, e))
                    return None
                return timed(args, work, e)
            return one

        sides = [commit(plain, environ), commit(under, genv), commit(floor, fenv)]
        if args.baseline:
            bhome = home_dir(base, "baseline-home")
            benv = env(bhome)
            run([str(args.baseline.resolve() / "install-hooks"), "--global"], base, benv)
            older = base / "baseline-commit"
            run(["git", "clone", "-q", str(base / "none.git"), str(older)], base, benv)
            sides.append(commit(older, benv))
        # Every other run measures CPU time instead of the wall clock.
        c_plain, c_global, c_floor, *c_baseline = medians(runs * 8, *sides)
        works = [plain, under, floor] + ([older] if args.baseline else [])
        u_plain, u_global, u_floor, *u_baseline = [statistics.median(cpu[w]) for w in works]
        trace = base / "trace"
        run(["git", "commit", "-q", "--allow-empty", "-m", "traced"], under,
            env(ghome, GIT_TRACE=str(trace)))
        hooks = ghome / ".config" / "mainstay" / "hooks"
        hook_runs = sum(1 for line in trace.read_text().splitlines()
                        if "run_command:" in line and str(hooks) in line)

        print(f"runs per figure: {runs} (1,000-commit pushes: {max(5, runs // 5)}, commits: "
              f"{runs * 4}), each on the wall clock and, as many again, in CPU time")
        print(f"{'push to a bare remote (ms, median)':<40}{'no hook':>10}{'no-op':>10}{'mainstay':>10}{'vs no-op':>10}")
        for label, (a, b, c) in (("one commit, wall clock", one), ("one commit, CPU time", one_cpu),
                                 ("1,000 commits, wall clock", many),
                                 ("1,000 commits, CPU time", many_cpu)):
            print(f"{'  ' + label:<40}{a:>10.2f}{b:>10.2f}{c:>10.2f}{c - b:>+9.2f}ms")
        print(f"{'pre-receive alone (ms, median)':<40}{'':>10}{'no-op':>10}{'mainstay':>10}{'vs no-op':>10}")
        for back, label in ((1, "newest commit"), (1000, "newest 1,000 commits")):
            for (b, c), kind in zip(alone[back], ("wall clock", "CPU time")):
                print(f"{'  ' + label + ', ' + kind:<40}{'':>10}{b:>10.2f}{c:>10.2f}{c - b:>+9.2f}ms")
        print(f"{'git commit (ms, median)':<40}{'without':>10}{'--global':>10}{'ratio':>10}{'exit 0':>10}")
        print(f"{'  one empty commit, wall clock':<40}{c_plain:>10.2f}{c_global:>10.2f}{c_global / c_plain:>10.3f}{c_floor:>10.2f}")
        print(f"{'  one empty commit, CPU time':<40}{u_plain:>10.2f}{u_global:>10.2f}{u_global / u_plain:>10.3f}{u_floor:>10.2f}")
        if args.baseline:
            print(f"{'  under the --baseline build, wall':<40}{'':>10}{c_baseline[0]:>10.2f}"
                  f"{c_baseline[0] / c_plain:>10.3f}")
            print(f"{'  under the --baseline build, CPU':<40}{'':>10}{u_baseline[0]:>10.2f}"
                  f"{u_baseline[0] / u_plain:>10.3f}")
        print(f"hooks git runs for one commit under --global: {hook_runs}")
    finally:
        time.sleep(0.5)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
