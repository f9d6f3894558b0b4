#!/usr/bin/env python3
"""The deployment monitor on a scripted four-minute deployment: fixed schedule vs history.

Usage: python3 benches/monitor.py [--runs N] [--seed S] [--scale F]
                                  [--source app|github|netlify|render|vercel|heroku]
       (builds the release `mainstay` first; about five minutes at --scale 1)

With --source netlify, render, vercel or heroku the local server plays that platform's own API
(its listing path, its JSON, its words for a phase and for live, its pagination headers left
out: one page holds everything): each run's target lists the pushed sha's deployment from the
start, in its first phase, then building at a tenth of the way, then live at the scripted end,
behind 20 past deployments of other commits (the history), every answer with a weak `etag`.

With --source github the local server plays GitHub's REST API instead of the app: each run's
repository `acme/<run>` has a deployment of the pushed sha in environment `Production`, listed
from the start, whose statuses go `queued`, then `in_progress` at a tenth of the way, then
`success` at the scripted end; every answer carries an `etag`, and a request naming it gets
`304 Not Modified`. The history runs read 20 past deployments of the environment, from
creation to success, from the API itself (no run records are written), so the figures include
what the history costs. It counts the API requests each run made, and how many were answered
304 (which GitHub does not count against the rate limit). Then every clone pushes a second
commit and the same runs follow its deployment (the same scripted ends), with the first one's
among the past deployments: what the history costs once ended deployments are remembered
between runs.

A local HTTP server plays the app: `/app/<run>/health` reports the old commit until the run's
scripted end, then the pushed one; `/app/<run>/ready` answers 200. Real deployments of "four
minutes" vary, so the durations are drawn from a normal distribution around 240 s with a 10 s
deviation, cut to 3.5 .. 4.5 min: the runs end at the two extremes (210 s, 270 s) and at N
evenly spaced quantiles in between. Each history run reads 20 past durations of its own, drawn
from the same distribution (seeded) and written as run records into its work tree, so the median
is over history draws as well as over durations.

Every run is the real `mainstay monitor <sha>` (release build) in its own git work tree, all of
them at once. For each one it measures:
  - polls: poll rounds made, from the run record;
  - delay: from the scripted end to the `.result` file's modification time;
  - peak RSS of the monitor process, as GNU time (the Debian package `time`) reads it from its
    own wait4: a child forked from this Python process would carry Python's RSS into its
    high-water mark;
  - CPU (user + system) of the monitor and everything it waits for (its `git rev-parse` calls),
    from wait4's rusage on GNU time, whose own share is about a millisecond.
"""

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timezone, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from statistics import NormalDist

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ROOT / "target" / "x86_64-unknown-linux-gnu" / "release"
MEAN, DEVIATION, LOW, HIGH = 240.0, 10.0, 210.0, 270.0
OLD = "0" * 40
TIME = "/usr/bin/time"

# Scripted ends, by run name: (unix time the app starts reporting the new sha, that sha).
SCRIPT = {}
# GitHub mode: each run's own deployments, newest first ({"id", "sha", "start", "end"}), its
# past deployments, and the requests of its current round.
OWN = {}
PAST = {}
REQUESTS = {}
TOKEN = "ghp_benchToken"


def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class GitHub(BaseHTTPRequestHandler):
    """GitHub's deployments, statuses, etag and 304, for /repos/acme/<run>/..."""

    def do_GET(self):
        path, _, query = self.path.partition("?")
        parts = path.split("/")
        # /repos/acme/<run>/deployments[/<id>/statuses]
        if len(parts) < 5 or parts[1] != "repos" or parts[3] not in SCRIPT:
            return self.answer(404, '{"message":"Not Found"}')
        if self.headers.get("authorization") != f"Bearer {TOKEN}":
            return self.answer(401, '{"message":"Bad credentials"}')
        run = parts[3]
        REQUESTS.setdefault(run, []).append(None)
        now = time.time()
        own = OWN.get(run, [])
        ours = [{"id": o["id"], "sha": o["sha"], "environment": "Production",
                 "created_at": iso(o["start"])} for o in own]
        past = PAST.get(run, [])
        if parts[4:] == ["deployments"]:
            params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
            listed = ours + [d for d, _ in past]
            if "sha" in params:
                listed = [d for d in listed if d["sha"] == params["sha"]]
            body = json.dumps(listed[:int(params.get("per_page", "30"))])
        elif len(parts) == 7 and parts[4] == "deployments" and parts[6] == "statuses":
            ident = int(parts[5])
            mine = next((o for o in own if o["id"] == ident), None)
            if mine:
                start, end = mine["start"], mine["end"]
                statuses = [{"state": "queued", "created_at": iso(start)}]
                if now >= start + (end - start) / 10:
                    statuses.insert(0, {"state": "in_progress", "created_at": iso(start)})
                if now >= end:
                    statuses.insert(0, {"state": "success", "created_at": iso(end),
                                        "environment_url": f"https://{run}.example"})
            else:
                statuses = next(s for d, s in past if d["id"] == ident)
            body = json.dumps(statuses)
        else:
            return self.answer(404, '{"message":"Not Found"}')
        etag = 'W/"' + hashlib.sha1(body.encode()).hexdigest() + '"'
        if self.headers.get("if-none-match") == etag:
            REQUESTS[run][-1] = 304
            return self.answer(304, "", etag)
        REQUESTS[run][-1] = 200
        return self.answer(200, body, etag)

    def answer(self, status, body, etag=None):
        data = body.encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        if etag:
            self.send_header("etag", etag)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def github_past(name, past):
    """20 finished deployments of other commits, newest first, that took `past` seconds."""
    deployments = []
    for i, seconds in enumerate(past):
        created = 1_700_000_000 - 3600 * (i + 1)
        deployment = {"id": i + 1, "sha": f"{i + 1:040x}", "environment": "Production",
                      "created_at": iso(created)}
        statuses = [{"state": "inactive", "created_at": iso(created + 1800)},
                    {"state": "success", "created_at": iso(created + round(seconds))},
                    {"state": "queued", "created_at": iso(created)}]
        deployments.append((deployment, statuses))
    PAST[name] = deployments


# The platforms' own APIs: per dialect, the listing of a run's target, newest first.
WORDS = {"netlify": ("enqueued", "building", "ready"), "render": ("created", "build_in_progress", "live"),
         "vercel": ("QUEUED", "BUILDING", "READY"), "heroku": ("pending", "pending", "succeeded")}
TOKENS = {"netlify": "NETLIFY_AUTH_TOKEN", "render": "RENDER_API_KEY", "vercel": "VERCEL_TOKEN",
          "heroku": "HEROKU_API_KEY"}
DIALECT = {}


def platform_item(dialect, ident, sha, state, start, end):
    if dialect == "netlify":
        return {"id": ident, "state": state, "context": "production", "commit_ref": sha,
                "created_at": iso(start), "published_at": iso(end) if end else None}
    if dialect == "render":
        return {"deploy": {"id": ident, "status": state, "commit": {"id": sha},
                           "createdAt": iso(start), "finishedAt": iso(end) if end else None},
                "cursor": ident}
    if dialect == "vercel":
        return {"uid": ident, "state": state, "readyState": state, "target": "production",
                "created": round(start * 1000), "ready": round(end * 1000) if end else None,
                "meta": {"githubCommitSha": sha}}
    return {"id": ident, "status": state, "source_blob": {"version": sha},
            "created_at": iso(start), "updated_at": iso(end if end else start)}


class Hosted(BaseHTTPRequestHandler):
    """Netlify's, Render's, Vercel's or Heroku's deployment listing, etag and 304."""

    def do_GET(self):
        dialect = DIALECT["name"]
        path, _, query = self.path.partition("?")
        parts = path.split("/")
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        run = {"netlify": parts[4] if len(parts) > 4 else None,
               "render": parts[3].removeprefix("srv-") if len(parts) > 3 else None,
               "vercel": params.get("projectId"),
               "heroku": parts[2] if len(parts) > 2 else None}[dialect]
        if run not in SCRIPT:
            return GitHub.answer(self, 404, '{"message":"Not Found"}')
        if self.headers.get("authorization") != f"Bearer {TOKEN}" or not self.headers.get("user-agent"):
            return GitHub.answer(self, 401, '{"message":"Unauthorized"}')
        REQUESTS.setdefault(run, []).append(None)
        now = time.time()
        first, building, live = WORDS[dialect]
        items = []
        for o in OWN.get(run, []):
            state = live if now >= o["end"] else building if now >= o["start"] + (o["end"] - o["start"]) / 10 else first
            items.append(platform_item(dialect, f"own{o['id']}", o["sha"], state, o["start"],
                                       o["end"] if now >= o["end"] else None))
        items += PAST.get(run, [])
        body = json.dumps({"deployments": items} if dialect == "vercel" else items)
        etag = 'W/"' + hashlib.sha1(body.encode()).hexdigest() + '"'
        if self.headers.get("if-none-match") == etag:
            REQUESTS[run][-1] = 304
            return GitHub.answer(self, 304, "", etag)
        REQUESTS[run][-1] = 200
        return GitHub.answer(self, 200, body, etag)

    def log_message(self, *args):
        pass


def hosted_past(dialect, name, past):
    """20 finished deployments of other commits, newest first, that took `past` seconds."""
    items = []
    for i, seconds in enumerate(past):
        created = 1_700_000_000 - 3600 * (i + 1)
        items.append(platform_item(dialect, f"p{i + 1}", f"{i + 1:040x}", WORDS[dialect][2],
                                   created, created + seconds))
    PAST[name] = items


def hosted_section(dialect, name, port):
    key = {"netlify": "site_id", "render": "service_id", "vercel": "project", "heroku": "app"}[dialect]
    # Render's service ids are `srv-…`.
    target = f"srv-{name}" if dialect == "render" else name
    return f"[deploy.{dialect}]\n{key} = \"{target}\"\napi_base = \"http://127.0.0.1:{port}\"\n"


class App(BaseHTTPRequestHandler):
    def do_GET(self):
        parts = self.path.split("/")
        # /app/<run>/health or /app/<run>/ready
        if len(parts) != 4 or parts[1] != "app" or parts[2] not in SCRIPT:
            return self.answer(404, "{}")
        end, sha = SCRIPT[parts[2]]
        if parts[3] == "health":
            commit = sha if time.time() >= end else OLD
            return self.answer(200, json.dumps({"status": "ok", "commit": commit}))
        return self.answer(200, '{"ready":true}')

    def answer(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def truncated():
    """The deployment-duration distribution: normal, cut to [LOW, HIGH]."""
    normal = NormalDist()
    lo = normal.cdf((LOW - MEAN) / DEVIATION)
    hi = normal.cdf((HIGH - MEAN) / DEVIATION)
    return lambda p: MEAN + DEVIATION * normal.inv_cdf(lo + (hi - lo) * p)


def history(seed, count=20):
    rng = random.Random(seed)
    past = []
    while len(past) < count:
        x = rng.gauss(MEAN, DEVIATION)
        if LOW <= x <= HIGH:
            past.append(x)
    return past


def env(home):
    drop = ("GIT_", "GITHUB_", "GH_", "MAINSTAY", "DB_", "DIGITALOCEAN", "NETLIFY_", "RENDER_",
            "VERCEL_", "HEROKU_")
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(drop) and "proxy" not in k.lower()}
    clean.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1")
    return clean


def git(args, cwd, environ):
    return subprocess.run(["git", *args], cwd=cwd, env=environ, check=True,
                          capture_output=True, text=True).stdout.strip()


def ms(seconds):
    return f"{max(1, round(seconds * 1000))}ms"


def prepare(base, name, schedule, past, scale, port, environ, source):
    repo = base / name
    repo.mkdir()
    git(["init", "-q", "-b", "main"], repo, environ)
    (repo / "app.txt").write_text(f"{name}\n")
    git(["add", "app.txt"], repo, environ)
    git(["commit", "-q", "-m", name], repo, environ)
    sha = git(["rev-parse", "HEAD"], repo, environ)
    (repo / ".mainstay.toml").write_text(
        "[deploy]\n"
        f'schedule = "{schedule}"\n'
        f'max_wait = "{ms(480 * scale)}"\n'
        f'poll_initial = "{ms(5 * scale)}"\n'
        f'poll_later = "{ms(15 * scale)}"\n'
        f'poll_switch_after = "{ms(120 * scale)}"\n'
        + ("[deploy.app]\n"
           f'version_url = "http://127.0.0.1:{port}/app/{name}/health"\n'
           f'ready_url = "http://127.0.0.1:{port}/app/{name}/ready"\n'
           if source == "app" else
           "[deploy.github]\n"
           f'repo = "acme/{name}"\n'
           'environment = "Production"\n'
           f'api_base = "http://127.0.0.1:{port}"\n'
           if source == "github" else hosted_section(source, name, port)))
    if source in WORDS:
        if schedule == "history":
            hosted_past(source, name, [seconds * scale for seconds in past])
        return repo, sha
    if source == "github":
        if schedule == "history":
            github_past(name, [seconds * scale for seconds in past])
        return repo, sha
    if schedule == "history":
        started = datetime(2026, 1, 1, tzinfo=timezone.utc)
        for i, seconds in enumerate(past):
            fake = f"{i + 1:07x}"
            record = {
                "sha": fake * 5 + "0" * 5, "pid": 1,
                "started_at": (started + timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "ended_at": None, "verdict": "success", "schedule": "fixed", "source": "app",
                "polls": 1, "phases": [], "live_after_ms": round(seconds * scale * 1000),
                "last_pending_ms": round(seconds * scale * 1000), "ready_after_ms": 0,
                "error": None,
            }
            (repo / f".deployment-status-{fake}.json").write_text(json.dumps(record))
    return repo, sha


def run_one(mainstay, repo, sha, end, environ, out):
    own = OWN.setdefault(repo.name, [])
    own.insert(0, {"id": 1000 + len(own), "sha": sha, "start": time.time(), "end": end})
    peak = repo.parent / f"{repo.name}.rss"
    process = subprocess.Popen([TIME, "-f", "%M", "-o", str(peak), str(mainstay), "monitor", sha],
                               cwd=repo, env=environ, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    result = repo / f".deployment-status-{sha[:7]}.result"
    record = json.loads((repo / f".deployment-status-{sha[:7]}.json").read_text())
    out.update(
        exit=process.returncode,
        verdict=result.read_text().strip() if result.exists() else "none",
        delay=(result.stat().st_mtime_ns / 1e9 - end) if result.exists() else None,
        polls=record["polls"],
        schedule=record["schedule"],
        requests=len(REQUESTS.get(repo.name, [])),
        not_modified=REQUESTS.get(repo.name, []).count(304),
        rss_mb=int(peak.read_text().split()[-1]) / 1024,
        cpu_ms=(usage.ru_utime + usage.ru_stime) * 1000,
    )


def summary(rows, source):
    polls = [r["polls"] for r in rows]
    delays = [r["delay"] for r in rows]
    api = {}
    if source != "app":
        requests = [r["requests"] for r in rows]
        counted = [r["requests"] - r["not_modified"] for r in rows]
        api = {
            "requests (median)": statistics.median(requests),
            "requests (max)": max(requests),
            "counted (median)": statistics.median(counted),
            "counted (max)": max(counted),
        }
    return {
        "polls (median)": statistics.median(polls),
        "polls (max)": max(polls),
        **api,
        "delay (median)": statistics.median(delays),
        "delay (max)": max(delays),
        "peak RSS (max)": max(r["rss_mb"] for r in rows),
        "CPU (max)": max(r["cpu_ms"] for r in rows),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20, help="runs between the two extremes")
    parser.add_argument("--seed", type=int, default=1, help="seed of the drawn history")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="time scale (0.05 checks the script in seconds; figures need 1)")
    parser.add_argument("--source", choices=("app", "github", *WORDS), default="app",
                        help="what the local server plays: the app, GitHub's API, or a "
                             "platform's own")
    args = parser.parse_args()
    if not os.access(TIME, os.X_OK):
        raise SystemExit(f"{TIME} is missing: apt-get install time (GNU time reads the peak RSS)")
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "mainstay"],
                   cwd=ROOT, check=True)
    mainstay = RELEASE / "mainstay"
    quantile = truncated()
    ends = [LOW, HIGH] + [quantile((i + 0.5) / args.runs) for i in range(args.runs)]
    DIALECT["name"] = args.source
    handler = {"app": App, "github": GitHub}.get(args.source, Hosted)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    with tempfile.TemporaryDirectory(prefix="mainstay-monitor-bench-") as tmp:
        base = Path(tmp)
        home = base / "home"
        home.mkdir()
        (home / ".gitconfig").write_text(
            "[user]\n\tname = Bench\n\temail = bench@example.com\n[commit]\n\tgpgSign = false\n")
        environ = env(home)
        # Every time is scaled, the machine's one-second floor between polls too.
        environ.update(MAINSTAY_POLL_FLOOR=ms(args.scale))
        if args.source == "github":
            environ.update(GITHUB_TOKEN=TOKEN, MAINSTAY_API_HOSTS=f"http://127.0.0.1:{port}")
        if args.source in WORDS:
            environ[TOKENS[args.source]] = TOKEN
            environ.update(MAINSTAY_API_HOSTS=f"http://127.0.0.1:{port}")
        runs = []
        for schedule in ("fixed", "history"):
            for i, seconds in enumerate(ends):
                name = f"{schedule}-{i}"
                past = history(args.seed * 1000 + i)
                repo, sha = prepare(base, name, schedule, past, args.scale, port, environ,
                                    args.source)
                runs.append({"name": name, "schedule_kind": schedule, "seconds": seconds,
                             "repo": repo, "sha": sha})
        print(f"{len(runs)} monitors at once, following {args.source}; each history run reads "
              f"20 past runs of its own "
              f"(seed {args.seed}); scripted ends: "
              + ", ".join(f"{s:.1f}" for s in ends) + " s", flush=True)
        wall = run_round(runs, mainstay, environ, args.scale)
        second = []
        if args.source == "github":
            # The next push in every clone: its deployment follows the first one's.
            for run in runs:
                git(["commit", "-q", "--allow-empty", "-m", "second"], run["repo"], environ)
                second.append({**run, "sha": git(["rev-parse", "HEAD"], run["repo"], environ)})
                REQUESTS[run["name"]] = []
            print("the second deployment in the same clones", flush=True)
            wall += run_round(second, mainstay, environ, args.scale)
        server.shutdown()

    report(runs, args, "first deployment" if second else "")
    if second:
        report(second, args, "second deployment, ended ones remembered")
    print(f"wall time {wall:.0f} s")


def run_round(runs, mainstay, environ, scale):
    """Every run's monitor at once; the round's wall time."""
    threads = []
    start = time.time()
    for run in runs:
        end = time.time() + run["seconds"] * scale
        SCRIPT[run["name"]] = (end, run["sha"])
        run["end"] = end
        t = threading.Thread(target=run_one, args=(mainstay, run["repo"], run["sha"], end,
                                                   environ, run))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    return time.time() - start


def report(runs, args, title):
    failed = [r for r in runs if r["verdict"] != "success" or r["exit"] != 0]
    if failed:
        raise SystemExit(f"runs without success: {[(r['name'], r['verdict']) for r in failed]}")
    if title:
        print(f"\n== {title}")
    print(f"\nper run (delay in s, scaled back by 1/{args.scale:g}):")
    print(f"{'end (s)':>8} | {'fixed polls':>11} {'reqs':>5} {'delay':>6} | "
          f"{'history polls':>13} {'reqs':>5} {'delay':>6}")
    by = {k: [r for r in runs if r["schedule_kind"] == k] for k in ("fixed", "history")}
    for f, h in zip(by["fixed"], by["history"]):
        print(f"{f['seconds']:8.1f} | {f['polls']:11d} {f['requests']:5d} "
              f"{f['delay'] / args.scale:6.2f} | "
              f"{h['polls']:13d} {h['requests']:5d} {h['delay'] / args.scale:6.2f}")
    fixed, hist = summary(by["fixed"], args.source), summary(by["history"], args.source)
    print(f"\n{'measure':<16} {'fixed':>9} {'history':>9}  goal (history)")
    goals = {"polls (max)": "<= 12", "delay (median)": "<= 3 s", "peak RSS (max)": "<= 10 MB",
             "CPU (max)": "<= 100 ms"}
    units = {"delay (median)": " s", "delay (max)": " s", "peak RSS (max)": " MB",
             "CPU (max)": " ms"}
    for key in fixed:
        scale = args.scale if key.startswith("delay") else 1
        unit = units.get(key, "")
        print(f"{key:<16} {fixed[key] / scale:>7.1f}{unit:<2} {hist[key] / scale:>7.1f}{unit:<2}"
              f"  {goals.get(key, '')}")
    print(f"\nhistory schedule of the first run: {by['history'][0]['schedule']}")


if __name__ == "__main__":
    main()
