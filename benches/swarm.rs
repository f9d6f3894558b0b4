//! The swarm, measured: AGENTS clones of one bare remote push COMMITS commits each, back to back
//! and all at once; each commit adds a roadmap row, completes the agent's previous task, appends a
//! session line and edits a file of the agent's own.
//!
//! `cargo bench --bench swarm -- [AGENTS] [COMMITS] [--rtt MS] [--jitter MS] [--modes LIST] [--app]`
//! - AGENTS x COMMITS: 16 x 10 by default;
//! - `--rtt MS`: the remote behind `git daemon` and a relay that delays every connection by a
//!   round trip and every chunk by half of one, plus up to `--jitter MS` (default: a local path);
//! - `--modes`: any of `mainstay` (the defaults), `no-park` (`[sync] park = false`), `plain` (a
//!   `git pull --rebase && git push` loop that, on a conflict, keeps one side's whole file, as
//!   such scripts do), `union` (that loop with `merge=union` on the ledgers); all by default;
//! - `--app`: instead, follows every landed push to a local app (which serves the remote's main
//!   a second late) and counts the app's requests per landed push, for one agent and for AGENTS;
//! - `--netns PREFIX`: agents in network namespaces `PREFIX-aNN`, the remote in `PREFIX-srv`
//!   (`benches/swarm-netns.sh` makes them and runs this).
//!
//! Every `mainstay push` that exits 75 is counted and run again (the table says how often).
//! Prints a Markdown table: commits landed, `mainstay push` runs, exits 75, attempts per landed
//! commit, time from an agent's first push of a commit to it landing, commits landed per second
//! against the best a serial remote allows (one `mainstay push` after another from one clone),
//! entries lost and duplicated, rows whose last status change was lost, conflicts left to a person.

#[allow(dead_code)]
#[path = "../tests/it/util.rs"]
mod util;

#[allow(dead_code)]
#[path = "../tests/it/swarm.rs"]
mod swarm;

#[allow(dead_code)]
#[path = "../tests/it/http.rs"]
mod http;

#[path = "swarm_net.rs"]
mod net;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use util::Sandbox;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Mainstay,
    NoPark,
    Plain,
    Union,
}

impl Mode {
    fn parse(name: &str) -> Mode {
        match name {
            "mainstay" => Mode::Mainstay,
            "no-park" => Mode::NoPark,
            "plain" => Mode::Plain,
            "union" => Mode::Union,
            other => panic!("unknown mode {other}: mainstay, no-park, plain, union"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Mode::Mainstay => "`mainstay push`",
            Mode::NoPark => "`mainstay push`, `park = false`",
            Mode::Plain => "`git pull --rebase && git push` loop",
            Mode::Union => "the same loop, `merge=union`",
        }
    }

    fn is_mainstay(self) -> bool {
        matches!(self, Mode::Mainstay | Mode::NoPark)
    }
}

/// Where the agents reach the remote.
#[derive(Clone)]
struct Net {
    latency: Option<net::Latency>,
    /// The namespace prefix of a many-machines run.
    netns: Option<String>,
}

impl Net {
    /// The agent's namespace, in a many-machines run.
    fn agent_ns(&self, agent: usize) -> Option<String> {
        self.netns.as_ref().map(|p| format!("{p}-a{agent:02}"))
    }
}

/// A served remote: the URL agents use, and the processes serving it.
struct Served {
    url: Option<String>,
    daemon: Option<std::process::Child>,
    relay: Option<std::process::Child>,
}

impl Drop for Served {
    fn drop(&mut self) {
        for child in [self.daemon.as_mut(), self.relay.as_mut()]
            .into_iter()
            .flatten()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn serve(sb: &Sandbox, net: &Net) -> Served {
    let Some(latency) = net.latency else {
        return Served {
            url: None,
            daemon: None,
            relay: None,
        };
    };
    match &net.netns {
        None => {
            let port = net::free_port();
            let daemon = net::daemon(sb.path(), "127.0.0.1", port, None);
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("relay port");
            let relay_port = listener.local_addr().expect("relay address").port();
            let target = format!("127.0.0.1:{port}");
            std::thread::spawn(move || net::relay(listener, target, latency));
            Served {
                url: Some(format!("git://127.0.0.1:{relay_port}/swarm.git")),
                daemon: Some(daemon),
                relay: None,
            }
        }
        Some(prefix) => {
            let server = format!("{prefix}-srv");
            let daemon = net::daemon(sb.path(), "127.0.0.1", 9419, Some(&server));
            let relay = Command::new("ip")
                .args(["netns", "exec", &server])
                .arg(std::env::current_exe().expect("this executable"))
                .args([
                    "relay",
                    "10.77.0.1:9418",
                    "127.0.0.1:9419",
                    &latency.rtt.as_millis().to_string(),
                    &latency.jitter.as_millis().to_string(),
                ])
                .spawn()
                .expect("start the relay");
            net::wait_for_port("10.77.0.1", 9418, Some(&server));
            Served {
                url: Some("git://10.77.0.1:9418/swarm.git".to_owned()),
                daemon: Some(daemon),
                relay: Some(relay),
            }
        }
    }
}

/// One commit's way to the remote.
#[derive(Clone, Copy)]
struct Landing {
    /// From the first push of the commit to its landing.
    took: Duration,
    /// Pushes to the branch made for it (for `mainstay push`, as it reports them).
    attempts: u32,
}

#[derive(Default)]
struct Counts {
    landings: Vec<Landing>,
    runs: usize,
    exits_75: usize,
    conflicts: usize,
    /// Pushes that moved main.
    pushes: usize,
    carried: usize,
}

struct Row {
    mode: Mode,
    counts: Counts,
    landed: usize,
    lost: usize,
    duplicated: usize,
    stale: usize,
    seconds: f64,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("relay") {
        let [_, listen, target, rtt, jitter] = &args[..] else {
            panic!("relay LISTEN TARGET RTT_MS JITTER_MS");
        };
        let ms = |s: &str| Duration::from_millis(s.parse().expect("milliseconds"));
        let listener = std::net::TcpListener::bind(listen).expect("listen");
        net::relay(
            listener,
            target.clone(),
            net::Latency {
                rtt: ms(rtt),
                jitter: ms(jitter),
            },
        );
        return;
    }
    let mut numbers = Vec::new();
    let mut modes = vec![Mode::Mainstay, Mode::NoPark, Mode::Plain, Mode::Union];
    let (mut rtt, mut jitter, mut netns, mut app) = (None, 30, None, false);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().expect("a value after the option").clone();
        match arg.as_str() {
            "--rtt" => rtt = Some(value().parse::<u64>().expect("--rtt MS")),
            "--jitter" => jitter = value().parse().expect("--jitter MS"),
            "--modes" => modes = value().split(',').map(Mode::parse).collect(),
            "--netns" => netns = Some(value()),
            "--app" => app = true,
            "--bench" => {}
            n => numbers.push(n.parse::<usize>().expect("AGENTS COMMITS")),
        }
    }
    if netns.is_some() && rtt.is_none() {
        rtt = Some(150);
    }
    let net = Net {
        latency: rtt.map(|ms| net::Latency {
            rtt: Duration::from_millis(ms),
            jitter: Duration::from_millis(jitter),
        }),
        netns,
    };
    let agents = numbers.first().copied().unwrap_or(16);
    let commits = numbers.get(1).copied().unwrap_or(10);
    let place = match (&net.netns, rtt) {
        (Some(_), Some(ms)) => format!(
            "agents in network namespaces, the remote behind git daemon in another, {ms} ms round trip +- {jitter} ms"
        ),
        (None, Some(ms)) => {
            format!("the remote behind git daemon and a relay, {ms} ms round trip +- {jitter} ms")
        }
        _ => "the remote a local path".to_owned(),
    };
    if app {
        assert!(net.netns.is_none(), "--app runs on this machine's loopback");
        follow_the_app(&net, agents, commits);
        return;
    }
    println!("{agents} agents x {commits} commits; {place}");
    let cycle = serial_cycle(&net);
    println!(
        "serial: one `mainstay push` after another from one clone takes {:.2} s: at best {:.2} commits/s\n",
        cycle.as_secs_f64(),
        1.0 / cycle.as_secs_f64()
    );
    println!(
        "| push | landed | runs | exits 75 | attempts per commit (mean, max) | time to land p50 / p95 / max | commits/s (of serial best) | lost | duplicated | stale | conflicts |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for mode in modes {
        let row = run(mode, &net, agents, commits);
        print_row(&row, cycle);
    }
}

fn print_row(row: &Row, cycle: Duration) {
    let c = &row.counts;
    let mut took: Vec<f64> = c.landings.iter().map(|l| l.took.as_secs_f64()).collect();
    took.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        took.get(((took.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(f64::NAN)
    };
    let attempts: Vec<u32> = c.landings.iter().map(|l| l.attempts).collect();
    let mean = attempts.iter().sum::<u32>() as f64 / attempts.len().max(1) as f64;
    let max = attempts.iter().max().copied().unwrap_or(0);
    let rate = row.landed as f64 / row.seconds;
    let (runs, exits) = if row.mode.is_mainstay() {
        (c.runs.to_string(), c.exits_75.to_string())
    } else {
        ("-".to_owned(), "-".to_owned())
    };
    println!(
        "| {} | {} | {runs} | {exits} | {mean:.2}, {max} | {:.1} / {:.1} / {:.1} s | {rate:.2} ({:.0} %) | {} | {} | {} | {} |",
        row.mode.name(),
        row.landed,
        pct(0.5),
        pct(0.95),
        pct(1.0),
        100.0 * rate * cycle.as_secs_f64(),
        row.lost,
        row.duplicated,
        row.stale,
        c.conflicts,
    );
}

/// A clone of the remote, reaching it through `url` when served.
fn agent_clone(sb: &Sandbox, remote: &Path, name: &str, url: Option<&str>) -> PathBuf {
    let dir = sb.clone_repo(remote, name);
    if let Some(url) = url {
        sb.git(&dir, &["remote", "set-url", "origin", url]);
    }
    dir
}

/// One `mainstay push`, inside the agent's namespace when there is one.
fn mainstay_push(sb: &Sandbox, dir: &Path, ns: Option<&str>) -> Output {
    let mut cmd = match ns {
        Some(ns) => {
            let mut cmd = sb.command("ip", dir);
            cmd.args(["netns", "exec", ns]).arg(util::bin("mainstay"));
            cmd
        }
        None => sb.command(util::bin("mainstay"), dir),
    };
    cmd.arg("push").output().expect("run mainstay push")
}

/// How long one `mainstay push` of one commit takes with nobody else pushing.
fn serial_cycle(net: &Net) -> Duration {
    let sb = Sandbox::new();
    let remote = swarm::seeded_remote(&sb);
    let served = serve(&sb, net);
    let dir = agent_clone(&sb, &remote, "serial", served.url.as_deref());
    sb.install(&dir);
    let rounds = 5;
    let mut total = Duration::ZERO;
    for commit in 0..rounds {
        swarm::edit_and_commit(&sb, &dir, 0, commit);
        let start = Instant::now();
        let out = mainstay_push(&sb, &dir, net.agent_ns(0).as_deref());
        assert!(
            out.status.success(),
            "{}",
            util::describe("mainstay push", &dir, &out)
        );
        total += start.elapsed();
    }
    total / rounds as u32
}

/// The number after `(attempt ` in what `mainstay push` printed last (none: carried while
/// parked, without a push of its own).
fn attempts_said(stdout: &str) -> u32 {
    stdout
        .rsplit_once("(attempt ")
        .and_then(|(_, rest)| rest.split([',', ')']).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn run(mode: Mode, net: &Net, agents: usize, commits: usize) -> Row {
    run_in(Arc::new(Sandbox::new()), mode, net, agents, commits, "")
}

/// [`run`] in a given sandbox, with `config` as the project's `.mainstay.toml`.
fn run_in(
    sb: Arc<Sandbox>,
    mode: Mode,
    net: &Net,
    agents: usize,
    commits: usize,
    config: &str,
) -> Row {
    let remote = swarm::seeded_remote(&sb);
    let served = serve(&sb, net);
    let setup = sb.clone_repo(&remote, "setup");
    let mut extra = config.to_owned();
    if mode == Mode::NoPark {
        extra.push_str("[sync]\npark = false\n");
    }
    if !extra.is_empty() {
        util::write(&setup.join(".mainstay.toml"), &extra);
        sb.git(&setup, &["add", ".mainstay.toml"]);
        sb.git(&setup, &["commit", "-q", "-m", "settings"]);
    }
    if mode == Mode::Union {
        let lines = format!(
            "{} merge=union\n{} merge=union\n",
            swarm::ROADMAP,
            swarm::SESSIONS
        );
        util::write(&setup.join(".gitattributes"), &lines);
        sb.git(&setup, &["commit", "-q", "-am", "union"]);
    }
    sb.git(&setup, &["push", "-q", "origin", "main"]);
    let counts = Arc::new(Mutex::new(Counts::default()));
    let clones: Vec<PathBuf> = (0..agents)
        .map(|agent| {
            let dir = agent_clone(
                &sb,
                &remote,
                &format!("agent{agent:02}"),
                served.url.as_deref(),
            );
            if mode.is_mainstay() {
                sb.install(&dir);
            }
            dir
        })
        .collect();
    let start = Instant::now();
    let threads: Vec<_> = clones
        .into_iter()
        .enumerate()
        .map(|(agent, dir)| {
            let (sb, counts) = (Arc::clone(&sb), Arc::clone(&counts));
            let ns = net.agent_ns(agent);
            std::thread::spawn(move || {
                for commit in 0..commits {
                    swarm::edit_and_commit(&sb, &dir, agent, commit);
                    let first = Instant::now();
                    let attempts = if mode.is_mainstay() {
                        push_with_mainstay(&sb, &dir, ns.as_deref(), &counts)
                    } else {
                        plain_push(&sb, &dir, ns.as_deref(), &counts)
                    };
                    if let Some(attempts) = attempts {
                        counts.lock().expect("counts").landings.push(Landing {
                            took: first.elapsed(),
                            attempts,
                        });
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("agent thread");
    }
    let seconds = start.elapsed().as_secs_f64();
    drop(served);
    let log = sb.git(&remote, &["log", "--format=%s", "main"]);
    let landed = log.lines().filter(|l| l.starts_with("agent ")).count();
    let roadmap = sb.git(&remote, &["show", &format!("main:{}", swarm::ROADMAP)]);
    let sessions = sb.git(&remote, &["show", &format!("main:{}", swarm::SESSIONS)]);
    let (mut lost, mut duplicated, mut stale) = (0, 0, 0);
    for agent in 0..agents {
        for commit in 0..commits {
            let id = format!("| {} |", swarm::task_id(agent, commit));
            let rows: Vec<&str> = roadmap.lines().filter(|l| l.starts_with(&id)).collect();
            let line = swarm::session_line(agent, commit);
            for count in [rows.len(), sessions.lines().filter(|l| *l == line).count()] {
                lost += usize::from(count == 0);
                duplicated += usize::from(count > 1);
            }
            let status = swarm::last_status(commit, commits);
            stale += usize::from(rows.len() == 1 && !rows[0].contains(status));
        }
    }
    let counts = std::mem::take(&mut *counts.lock().expect("counts"));
    Row {
        mode,
        counts,
        landed,
        lost,
        duplicated,
        stale,
        seconds,
    }
}

/// `mainstay push` until it lands (exit 75 counted and run again); the attempts it reported, or
/// `None` when a person must step in.
fn push_with_mainstay(
    sb: &Sandbox,
    dir: &Path,
    ns: Option<&str>,
    counts: &Mutex<Counts>,
) -> Option<u32> {
    let mut attempts = 0;
    loop {
        let out = mainstay_push(sb, dir, ns);
        let said = String::from_utf8_lossy(&out.stdout);
        let mut c = counts.lock().expect("counts");
        c.runs += 1;
        attempts += attempts_said(&said);
        match out.status.code() {
            Some(0) => {
                c.pushes += usize::from(said.contains("pushed "));
                c.carried += usize::from(said.contains("carried by another"));
                return Some(attempts);
            }
            Some(75) => c.exits_75 += 1,
            _ => {
                eprintln!("{}", util::describe("mainstay push", dir, &out));
                c.conflicts += 1;
                return None;
            }
        }
    }
}

/// The plain loop: rebase, and on a conflict keep the remote's ledger whole; the pushes it took.
fn plain_push(sb: &Sandbox, dir: &Path, ns: Option<&str>, counts: &Mutex<Counts>) -> Option<u32> {
    let git = |args: &[&str]| -> Output {
        match ns {
            Some(ns) => sb
                .command("ip", dir)
                .args(["netns", "exec", ns, "git"])
                .args(args)
                .output()
                .expect("run git"),
            None => sb.git_output(dir, args),
        }
    };
    let mut attempts = 0;
    loop {
        if !git(&["pull", "-q", "--rebase"]).status.success() {
            counts.lock().expect("counts").conflicts += 1;
            loop {
                let unmerged = sb.git(dir, &["diff", "--name-only", "--diff-filter=U"]);
                if unmerged.is_empty() {
                    break;
                }
                for file in unmerged.lines() {
                    sb.git(dir, &["checkout", "--ours", "--", file]);
                    sb.git(dir, &["add", "--", file]);
                }
                let next = sb
                    .command("git", dir)
                    .args(["-c", "core.editor=true", "rebase", "--continue"])
                    .output();
                if next.expect("git rebase --continue").status.success() {
                    break;
                }
            }
        }
        attempts += 1;
        if git(&["push", "-q", "origin", "main"]).status.success() {
            counts.lock().expect("counts").pushes += 1;
            return Some(attempts);
        }
    }
}

/// Deploy-API requests per landed push: every landed push is followed by a monitor polling a
/// local app, which serves the remote's main as it was a second before; once with one agent,
/// once with `agents`.
fn follow_the_app(net: &Net, agents: usize, commits: usize) {
    println!(
        "| agents x commits | pushes that landed | monitors | app requests | requests per landed push |"
    );
    println!("| --- | --- | --- | --- | --- |");
    for n in [1, agents] {
        let sb = Arc::new(Sandbox::new());
        // The app: main as it was a second ago, as a deploy that takes a second would show it.
        let history: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
        let served_history = Arc::clone(&history);
        let app = http::Server::start(move |_| {
            let history = served_history.lock().expect("history");
            let due = Instant::now() - Duration::from_secs(1);
            let sha = history
                .iter()
                .rev()
                .find(|(at, _)| *at <= due)
                .or(history.first())
                .map(|(_, sha)| sha.clone())
                .unwrap_or_default();
            http::Reply::json(200, format!("{{\"commit\":\"{sha}\"}}"))
        });
        let config = format!(
            "[deploy]\nschedule = \"fixed\"\npoll_initial = \"1s\"\nmax_wait = \"2m\"\n\
             [deploy.app]\nversion_url = \"{}\"\ncommit_pointer = \"/commit\"\n",
            app.url("/version")
        );
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let remote = sb.path().join("swarm.git");
        let watcher = {
            let (done, history, remote) = (Arc::clone(&done), Arc::clone(&history), remote.clone());
            std::thread::spawn(move || {
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    if let Ok(out) = Command::new("git")
                        .args([
                            "--git-dir",
                            &remote.display().to_string(),
                            "rev-parse",
                            "main",
                        ])
                        .output()
                    {
                        let sha = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                        let mut history = history.lock().expect("history");
                        if out.status.success() && history.last().is_none_or(|(_, s)| *s != sha) {
                            history.push((Instant::now(), sha));
                        }
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        let row = run_in(Arc::clone(&sb), Mode::Mainstay, net, n, commits, &config);
        // Every monitor ends with a result file; wait for all of them.
        let deadline = Instant::now() + Duration::from_secs(300);
        let (mut logs, mut results);
        loop {
            (logs, results) = (0, 0);
            for agent in 0..n {
                let dir = sb.path().join(format!("agent{agent:02}"));
                for entry in std::fs::read_dir(&dir).expect("agent dir").flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if name.starts_with(".deployment-status-") {
                        logs += usize::from(name.ends_with(".log"));
                        results += usize::from(name.ends_with(".result"));
                    }
                }
            }
            if logs == results || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = watcher.join();
        let requests = app.count("/version");
        println!(
            "| {n} x {commits} | {} | {logs} | {requests} | {:.1} |",
            row.counts.pushes,
            requests as f64 / row.counts.pushes.max(1) as f64
        );
    }
}
