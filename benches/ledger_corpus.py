#!/usr/bin/env python3
"""Real three-way merges of changelogs, merged again by the driver, `git merge-file` and union.

For every two-parent merge commit in the given repositories where both parents changed the
file (and differently), the file at the merge base, at each parent and at the merge commit
(what the project's people committed) is taken; the driver, `git merge-file` and
`git merge-file --union` merge the three again, and each result is compared with the human's:

- clean: the tool reported no conflict (and wrote no markers);
- agrees: clean, and the same entries as the human's result (the same non-blank lines, each as
  often; placement aside);
- lost: lines the human kept from a side that a clean result lacks;
- duplicated: lines a clean result holds more often than the human's result and either side
  (sub-headings without a version aside: a fresh `Unreleased` opens its own `### Fixed`);
- regressions: cases where git is clean and agrees with the human while a driver conflicts or
  duplicates (the target is 0).

Usage (repositories cloned into a scratch directory first; nothing here is shipped):

    git clone --bare https://github.com/ruby-grape/grape scratch/grape
    python3 benches/ledger_corpus.py --driver new=target/debug/merge-driver \\
        scratch/grape:CHANGELOG.md scratch/sidekiq:Changes.md ...

`--max N` takes the N latest merges per file (default 200); `--keep DIR` writes the cases a
driver got wrong, or that differ between drivers, as fixture directories
(`base.md`, `ours.md`, `theirs.md`, `human.md`); `--json FILE` writes every case's verdicts.
"""

import argparse
import collections
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile


def git(repo, *args, input=None):
    return subprocess.run(
        ["git", "--git-dir", repo, *args],
        input=input,
        capture_output=True,
        check=False,
    ).stdout


def cases(repo, path, limit):
    """(merge, base, ours, theirs, human) blobs of `path`, latest merges first."""
    # No pathspec: with one, git would rewrite the parents it prints.
    merges = git(repo, "rev-list", "--all", "--merges", "--parents").decode()
    rows = [r for r in (line.split() for line in merges.splitlines()) if len(r) == 3]
    query = "".join(f"{c}:{path}\n" for row in rows for c in row).encode()
    answer = git(repo, "cat-file", "--batch-check=%(objectname)", input=query).decode().splitlines()
    blob = lambda s: s if " " not in s and len(s) >= 40 else None
    found = []
    for n, (merge, p1, p2) in enumerate(rows):
        if len(found) >= limit:
            break
        human, ours, theirs = (blob(answer[3 * n + i]) for i in range(3))
        if not (human and ours and theirs) or ours == theirs:
            continue
        base_commit = git(repo, "merge-base", p1, p2).decode().split()
        if not base_commit:
            continue
        base = git(repo, "rev-parse", "--verify", "-q", f"{base_commit[0]}:{path}").decode().strip()
        if not base or base in (ours, theirs):
            continue
        found.append((merge, base, ours, theirs, human))
    return found


def lines(text):
    return collections.Counter(line.strip() for line in text.splitlines() if line.strip())


def has_markers(text):
    return any(line.startswith(("<<<<<<<", ">>>>>>>")) for line in text.splitlines())


def judge(result, clean, sides, human):
    """Verdict of one tool's result against the human's."""
    if not clean or has_markers(result):
        return {"clean": False}
    got, want = lines(result), lines(human)
    base, ours, theirs = sides
    # Lines a side added that the human kept (a side's edit the human reverted is no loss).
    lost = sum(
        max(0, min(want[l], max(ours[l], theirs[l])) - got[l])
        for l in want
        if max(ours[l], theirs[l]) > base[l]
    )
    # A sub-heading (`### Fixed`) is no entry: a fresh `Unreleased` opens its own.
    entry = lambda l: not l.startswith("#") or any(c.isdigit() for c in l)
    duplicated = sum(max(0, got[l] - max(want[l], ours[l], theirs[l])) for l in got if entry(l))
    return {"clean": True, "agrees": got == want, "lost": lost, "duplicated": duplicated}


def run_case(repo, path, case, drivers, kind):
    merge, *blobs = case
    texts = [git(repo, "cat-file", "blob", b) for b in blobs]
    try:
        decoded = [t.decode("utf-8") for t in texts]
    except UnicodeDecodeError:
        return None
    base, ours, theirs, human = decoded
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for name, text in zip(("base", "ours", "theirs"), texts[:3]):
            p = os.path.join(tmp, f"{name}.md")
            with open(p, "wb") as f:
                f.write(text)
            files.append(p)
        b, o, t = files
        results = {}
        for name, exe in drivers:
            out = subprocess.run([exe, kind, "--stdout", b, o, t], capture_output=True)
            results[name] = (out.stdout.decode("utf-8", "replace"), out.returncode == 0)
        for name, extra in (("git", []), ("union", ["--union"])):
            out = subprocess.run(
                ["git", "merge-file", "-p", *extra, "-L", "ours", "-L", "base", "-L", "theirs", o, b, t],
                capture_output=True,
            )
            results[name] = (out.stdout.decode("utf-8", "replace"), out.returncode == 0)
    sides = (lines(base), lines(ours), lines(theirs))
    verdicts = {name: judge(text, clean, sides, human) for name, (text, clean) in results.items()}
    # The human's own merge holds a release heading more often than either side: a release both
    # sides added, committed twice. Agreeing with it is no merit.
    want = lines(human)
    verdicts["human duplicates"] = any(
        want[l] > max(sides[1][l], sides[2][l])
        for l in want
        if l.startswith("#") and any(c.isdigit() for c in l)
    )
    return {
        "repo": os.path.basename(os.path.dirname(repo.rstrip("/"))) if os.path.basename(repo.rstrip("/")) == "repo" else os.path.basename(repo.rstrip("/")),
        "file": path,
        "merge": merge,
        "verdicts": verdicts,
        "texts": (base, ours, theirs, human),
        "results": {k: v[0] for k, v in results.items()},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sources", nargs="+", help="REPO_GIT_DIR:PATH")
    ap.add_argument("--driver", action="append", required=True, help="NAME=EXECUTABLE")
    ap.add_argument("--kind", default="markdown")
    ap.add_argument("--max", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", help="write cases a driver got wrong here")
    ap.add_argument("--json", help="write every verdict here")
    args = ap.parse_args()
    drivers = [tuple(d.split("=", 1)) for d in args.driver]
    work = []
    for source in args.sources:
        repo, path = source.rsplit(":", 1)
        for case in cases(repo, path, args.max):
            work.append((repo, path, case))
    print(f"{len(work)} merges from {len(args.sources)} files", file=sys.stderr)
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        done = [r for r in pool.map(lambda w: run_case(*w, drivers, args.kind), work) if r]
    tools = [name for name, _ in drivers] + ["git", "union"]
    print(f"{len(done)} cases (UTF-8)\n")
    print("| tool | clean | same entries as the human's merge | lost lines (cases) | duplicated lines (cases) |")
    print("| --- | --- | --- | --- | --- |")
    for tool in tools:
        v = [d["verdicts"][tool] for d in done]
        clean = [x for x in v if x["clean"]]
        agrees = sum(x["agrees"] for x in clean)
        lost = [x["lost"] for x in clean if x["lost"]]
        dup = [x["duplicated"] for x in clean if x["duplicated"]]
        pct = 100 * len(clean) / max(1, len(v))
        print(
            f"| {tool} | {len(clean)} ({pct:.0f} %) | {agrees} | {sum(lost)} ({len(lost)}) | {sum(dup)} ({len(dup)}) |"
        )
    print()
    for name, _ in drivers:
        regressions = [
            d
            for d in done
            if d["verdicts"]["git"]["clean"]
            and d["verdicts"]["git"]["agrees"]
            and (not d["verdicts"][name]["clean"] or d["verdicts"][name]["duplicated"])
        ]
        duplicated_by_human = [d for d in regressions if d["verdicts"]["human duplicates"]]
        better = [
            d
            for d in done
            if not d["verdicts"]["git"]["clean"] and d["verdicts"][name].get("agrees")
        ]
        print(
            f"{name}: {len(regressions) - len(duplicated_by_human)} regressions (git clean and "
            f"right, {name} conflicts or duplicates), besides {len(duplicated_by_human)} where "
            f"git's clean result and the human's hold a release heading more often than either "
            f"side (a release both sides added, committed twice); {len(better)} merges git conflicts "
            f"on that {name} merges as the human did"
        )
        for d in regressions:
            twice = " (the human's merge holds a release twice)" if d in duplicated_by_human else ""
            print(f"  {d['repo']} {d['file']} {d['merge'][:12]}{twice}")
    if args.keep:
        for d in done:
            v = d["verdicts"]
            wrong = [
                n
                for n, _ in drivers
                if not v[n]["clean"] or v[n]["duplicated"] or v[n]["lost"] or not v[n]["agrees"]
            ]
            if not wrong:
                continue
            case = os.path.join(args.keep, f"{d['repo']}-{d['merge'][:12]}")
            os.makedirs(case, exist_ok=True)
            for name, text in zip(("base", "ours", "theirs", "human"), d["texts"]):
                with open(os.path.join(case, f"{name}.md"), "w") as f:
                    f.write(text)
            for name, text in d["results"].items():
                with open(os.path.join(case, f"result-{name}.md"), "w") as f:
                    f.write(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                [{k: d[k] for k in ("repo", "file", "merge", "verdicts")} for d in done], f, indent=1
            )


if __name__ == "__main__":
    main()
