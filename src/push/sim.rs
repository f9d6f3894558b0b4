//! A seeded, deterministic simulation of the parking protocol: N agents, an in-memory remote,
//! and faults at every step, driven through the same decisions `mainstay push` makes (the
//! queue's [`Queue::look`], the landing cascade's [`Plan::after`], every pause from
//! [`pacing`]), and faults at every step (runs killed and restarted, pushes refused or dropped
//! before and after the remote took them, junk and forged parked refs). What git does (rebase, merge, the object database) is modelled: a commit is its
//! owner, its place in the owner's change and its content; the remote's branch and parked refs
//! take atomic pushes with leases, as git's do.
//!
//! After each run the invariants are checked: every change lands exactly once, whole and in its
//! owner's order, or its owner says it did not and nothing of it is left parked; no owner reports
//! a change landed whose content is not on the branch (forged look-alikes included); no parked
//! agent waits past the queue's bound. Each simulated round takes the decisions of
//! [`super::round`] in the order `Run` does. `cargo test --lib push::sim` runs the default seeds;
//! `MAINSTAY_SIM_SEEDS=100000` runs more, and `MAINSTAY_SIM_SEED=<n>` replays one.

use std::collections::{BTreeMap, BinaryHeap};
use std::time::Duration;

use super::carry::{Ended, Plan};
use super::pacing;
use super::queue::{Queue, Turn};
use super::round;
use crate::clock::Jitter;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A commit as the protocol needs it: whose change, which of its commits, what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Commit {
    owner: usize,
    seq: u32,
    content: u64,
}

fn genuine(owner: usize, seq: u32) -> u64 {
    (owner as u64) << 32 | u64::from(seq)
}

#[derive(Debug, Clone)]
struct ParkedRef {
    sha: u64,
    commits: Vec<Commit>,
    /// Nothing to land: every lander puts it aside.
    junk: bool,
    /// The lander's hooks refuse it.
    hostile: bool,
}

#[derive(Default)]
struct Remote {
    branch: Vec<Commit>,
    /// Bumped at every update of the branch: what a lease on it holds.
    version: u64,
    parked: BTreeMap<String, ParkedRef>,
    aside: Vec<ParkedRef>,
    next_sha: u64,
}

impl Remote {
    fn sha(&mut self) -> u64 {
        self.next_sha += 1;
        self.next_sha
    }

    fn listing(&self) -> Vec<(String, String)> {
        self.parked
            .iter()
            .map(|(id, p)| (id.clone(), p.sha.to_string()))
            .collect()
    }

    fn holds(&self, commits: &[Commit]) -> bool {
        let mut at = 0;
        for c in &self.branch {
            if commits.get(at) == Some(c) {
                at += 1;
            }
        }
        at == commits.len()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Report {
    Pushed,
    Carried,
    GaveUp,
}

struct Agent {
    id: String,
    own: Vec<Commit>,
    /// The local record of what it parked (survives a kill).
    record: Option<u64>,
    parked: Option<u64>,
    queue: Option<Queue>,
    park: bool,
    started: Duration,
    losses: u32,
    attempts: u32,
    /// Rounds in a row that saw its parked change gone without landing.
    unconfirmed: u32,
    report: Option<Report>,
    jitter: Jitter,
    /// When it parked, and when it stepped in: for the queue's bound.
    parked_at: Option<Duration>,
    longest_wait: Duration,
}

/// What one simulated swarm is made of.
struct World {
    rng: Rng,
    remote: Remote,
    agents: Vec<Agent>,
    backoff: Duration,
    budget: Duration,
    /// One push cycle, fetch to push: the remote's pace.
    cycle: Duration,
    events: BinaryHeap<std::cmp::Reverse<(Duration, usize)>>,
    forger: bool,
}

impl World {
    fn new(seed: u64) -> World {
        let mut rng = Rng::new(seed);
        let n = 2 + rng.below(14) as usize;
        let backoff = Duration::from_millis(50 + rng.below(200));
        let cycle = Duration::from_millis(20 + rng.below(400));
        let mut remote = Remote::default();
        // Junk ahead of everyone, some of the time.
        for j in 0..rng.below(3) {
            let sha = remote.sha();
            remote.parked.insert(
                format!("{j:016x}"),
                ParkedRef {
                    sha,
                    commits: Vec::new(),
                    junk: true,
                    hostile: false,
                },
            );
        }
        let mut agents = Vec::new();
        let mut events = BinaryHeap::new();
        for owner in 0..n {
            let commits = 1 + rng.below(3) as u32;
            let own = (0..commits)
                .map(|seq| Commit {
                    owner,
                    seq,
                    content: genuine(owner, seq),
                })
                .collect();
            let start = Duration::from_millis(rng.below(2000));
            agents.push(Agent {
                id: format!("{:016x}", 0x1000_0000_0000_0000 | rng.next() >> 4),
                own,
                record: None,
                parked: None,
                queue: None,
                park: true,
                started: start,
                losses: 0,
                attempts: 0,
                unconfirmed: 0,
                report: None,
                jitter: Jitter::new(rng.next()),
                parked_at: None,
                longest_wait: Duration::ZERO,
            });
            events.push(std::cmp::Reverse((start, owner)));
        }
        let forger = rng.chance(30);
        World {
            rng,
            remote,
            agents,
            backoff,
            budget: Duration::from_secs(120),
            cycle,
            events,
            forger,
        }
    }

    fn patience(&self) -> Duration {
        pacing::patience(self.cycle, self.backoff)
    }

    /// Runs every agent to its report; the invariants that failed, if any.
    fn run(&mut self) -> Result<(), String> {
        let mut steps = 0;
        while let Some(std::cmp::Reverse((now, who))) = self.events.pop() {
            steps += 1;
            if steps > 200_000 {
                return Err("the simulation did not end".to_owned());
            }
            if self.agents[who].report.is_some() {
                continue;
            }
            if self.forger && self.rng.chance(5) {
                self.forge();
            }
            if self.rng.chance(2) {
                // Killed here; the next run from the same clone starts a moment later.
                self.kill(who);
                self.events
                    .push(std::cmp::Reverse((now + self.backoff * 3, who)));
                continue;
            }
            if let Some(next) = self.step(who, now) {
                self.events.push(std::cmp::Reverse((next, who)));
            }
        }
        self.check()
    }

    /// An attacker that read a parked ref writes a look-alike of it: over the ref, or onto
    /// the branch with the ref deleted.
    fn forge(&mut self) {
        let ids: Vec<String> = self
            .remote
            .parked
            .iter()
            .filter(|(_, p)| !p.junk)
            .map(|(id, _)| id.clone())
            .collect();
        let Some(id) = ids.get(self.rng.below(ids.len() as u64) as usize).cloned() else {
            return;
        };
        // Same owner and place (what the old look-alike check compared), other content.
        let forged: Vec<Commit> = self.remote.parked[&id]
            .commits
            .clone()
            .into_iter()
            .map(|c| Commit {
                content: self.rng.next() | 1 << 63,
                ..c
            })
            .collect();
        if self.rng.chance(50) {
            let sha = self.remote.sha();
            self.remote.parked.insert(
                id,
                ParkedRef {
                    sha,
                    commits: forged,
                    junk: false,
                    hostile: false,
                },
            );
        } else {
            self.remote.branch.extend(forged);
            self.remote.version += 1;
            self.remote.parked.remove(&id);
        }
    }

    fn kill(&mut self, who: usize) {
        let agent = &mut self.agents[who];
        agent.parked = None;
        agent.queue = None;
        agent.parked_at = None;
        agent.park = true;
    }

    /// One round of agent `who` at `now`; when it acts next, or `None` once it reported.
    fn step(&mut self, who: usize, now: Duration) -> Option<Duration> {
        let patience = self.patience();
        let listing = self.remote.listing();
        let (backoff, budget, cycle) = (self.backoff, self.budget, self.cycle);
        if now.saturating_sub(self.agents[who].started) >= budget {
            self.give_up(who);
            return None;
        }
        // A restarted run adopts only what its record names.
        if self.agents[who].parked.is_none()
            && let Some(record) = self.agents[who].record
        {
            let id = self.agents[who].id.clone();
            match self.remote.parked.get(&id) {
                Some(p) if p.sha == record => {
                    self.agents[who].parked = Some(record);
                }
                Some(_) => self.agents[who].park = false,
                None => {
                    if self.remote.holds(&self.agents[who].own) {
                        return self.report(who, Report::Carried);
                    }
                    self.agents[who].record = None;
                }
            }
        }
        let agent = &self.agents[who];
        let parked = match agent.parked {
            None => round::Parked::No,
            Some(sha)
                if self
                    .remote
                    .parked
                    .get(&agent.id)
                    .is_some_and(|p| p.sha == sha) =>
            {
                round::Parked::Still
            }
            Some(_) => round::Parked::Gone {
                landed: self.remote.holds(&agent.own),
            },
        };
        match round::check(parked, self.agents[who].unconfirmed) {
            round::Check::Go => self.agents[who].unconfirmed = 0,
            round::Check::Landed => return self.report(who, Report::Carried),
            round::Check::Confirm => {
                let agent = &mut self.agents[who];
                agent.unconfirmed += 1;
                return Some(now + pacing::before_confirming(backoff, &mut agent.jitter));
            }
            round::Check::LeftQueue => {
                let agent = &mut self.agents[who];
                agent.unconfirmed = 0;
                agent.parked = None;
                agent.record = None;
                agent.park = false;
            }
        }
        let agent = &self.agents[who];
        let others = listing.iter().any(|(id, _)| *id != agent.id);
        // Commits to land: not on the branch already (a push whose answer was lost put them).
        let has_commits = !self.remote.holds(&agent.own);
        if round::joins(agent.park, agent.parked.is_some(), others, has_commits) {
            // Parked with a lease that the ref does not exist yet.
            if !self.remote.parked.contains_key(&agent.id) {
                let sha = self.remote.sha();
                let agent = &mut self.agents[who];
                agent.record = Some(sha);
                agent.parked = Some(sha);
                agent.queue = Some(Queue::new(now));
                agent.parked_at = Some(now);
                self.remote.parked.insert(
                    agent.id.clone(),
                    ParkedRef {
                        sha,
                        commits: agent.own.clone(),
                        junk: false,
                        hostile: self.rng.chance(5),
                    },
                );
            }
        }
        let listing = self.remote.listing();
        let agent = &mut self.agents[who];
        if agent.parked.is_some() {
            let queue = agent.queue.get_or_insert_with(|| Queue::new(now));
            if queue.look(now, &agent.id, &listing, patience, false) == Turn::Wait {
                let pause = pacing::between_looks(backoff, listing.len(), &mut agent.jitter);
                return Some(now + pause);
            }
            if let Some(at) = agent.parked_at.take() {
                agent.longest_wait = agent.longest_wait.max(now - at);
            }
        }
        // The rebase finds its commits on the branch already (a push whose answer was lost):
        // nothing to push.
        if self.remote.holds(&self.agents[who].own) {
            return self.report(who, Report::Pushed);
        }
        // An attempt: what it saw now, its push a cycle later.
        let seen = self.remote.version;
        let taken = self.attempt(who, seen);
        self.agents[who].attempts += 1;
        match taken {
            Some(report) => self.report(who, report),
            None => {
                let agent = &mut self.agents[who];
                agent.losses += 1;
                let elapsed = now.saturating_sub(agent.started) + cycle;
                match round::after_loss(
                    agent.attempts,
                    None,
                    agent.losses,
                    elapsed,
                    budget,
                    backoff,
                    &mut agent.jitter,
                ) {
                    round::AfterLoss::Retry(pause) => Some(now + cycle + pause),
                    round::AfterLoss::GiveUp => {
                        self.give_up(who);
                        None
                    }
                }
            }
        }
    }

    /// Rebase, carry and push, against the remote as another agent may have changed it in the
    /// meantime; `Some` once the push took.
    fn attempt(&mut self, who: usize, seen: u64) -> Option<Report> {
        let id = self.agents[who].id.clone();
        // What it carries: every other parked change it can, in the queue's order.
        let mut carried = Vec::new();
        let mut aside = Vec::new();
        if self.agents[who].park || self.agents[who].parked.is_some() {
            for (other, p) in &self.remote.parked {
                if *other == id {
                    continue;
                }
                let entry = (other.clone(), p.sha.to_string());
                if p.junk || p.commits.is_empty() || self.rng.chance(5) {
                    aside.push(entry);
                } else {
                    carried.push(entry);
                }
            }
        }
        let picked_tip = if carried.is_empty() { "own" } else { "tip" };
        let mut plan = Plan {
            own: "own".to_owned(),
            tip: picked_tip.to_owned(),
            carried,
            aside,
        };
        // Another agent's push may land between this one's fetch and its push.
        if self.rng.chance(30) {
            return None;
        }
        loop {
            let ended = self.push(who, &plan, seen);
            match plan.after(ended) {
                Some(next) => plan = next,
                None => return (ended == Ended::Taken).then_some(Report::Pushed),
            }
        }
    }

    /// One atomic push of `plan` by `who`, judged as the remote judges it.
    fn push(&mut self, who: usize, plan: &Plan, seen: u64) -> Ended {
        let id = self.agents[who].id.clone();
        if self.remote.version != seen {
            return Ended::Race;
        }
        for (other, sha) in plan.carried.iter().chain(&plan.aside) {
            if self.remote.parked.get(other).map(|p| p.sha.to_string()) != Some(sha.clone()) {
                return Ended::Race;
            }
        }
        if let Some(own) = self.agents[who].parked
            && self.remote.parked.get(&id).map(|p| p.sha) != Some(own)
        {
            return Ended::Race;
        }
        if plan
            .carried
            .iter()
            .any(|(other, _)| self.remote.parked[other].hostile)
        {
            return Ended::Refused;
        }
        // The connection drops before the remote took it, some of the time.
        if self.rng.chance(3) {
            return Ended::Race;
        }
        let own = self.agents[who].own.clone();
        self.remote.branch.extend(own);
        for (other, _) in &plan.carried {
            let p = self.remote.parked.remove(other).expect("leased");
            self.remote.branch.extend(p.commits);
        }
        for (other, _) in &plan.aside {
            let p = self.remote.parked.remove(other).expect("leased");
            self.remote.aside.push(p);
        }
        self.remote.parked.remove(&id);
        self.remote.version += 1;
        // The connection drops after the remote took it, some of the time: the agent learns
        // it on its next fetch.
        if self.rng.chance(3) {
            return Ended::Race;
        }
        Ended::Taken
    }

    fn give_up(&mut self, who: usize) {
        let agent = &self.agents[who];
        let id = agent.id.clone();
        // Taken back with a lease on what it parked; gone already: it may have landed.
        if let Some(sha) = agent.parked.or(agent.record)
            && self.remote.parked.get(&id).is_some_and(|p| p.sha == sha)
        {
            self.remote.parked.remove(&id);
        }
        let report = if self.remote.holds(&self.agents[who].own) {
            Report::Carried
        } else {
            Report::GaveUp
        };
        self.report(who, report);
    }

    fn report(&mut self, who: usize, report: Report) -> Option<Duration> {
        let agent = &mut self.agents[who];
        agent.report = Some(report);
        agent.record = None;
        None
    }

    fn check(&self) -> Result<(), String> {
        // The bound docs/push.md states: three patiences after parking, and one look more.
        let bound = self.patience() * 3 + self.backoff * 50;
        for (owner, agent) in self.agents.iter().enumerate() {
            let report = agent
                .report
                .ok_or(format!("agent {owner} never reported"))?;
            let landed = agent
                .own
                .iter()
                .map(|c| self.remote.branch.iter().filter(|b| *b == c).count())
                .collect::<Vec<_>>();
            match report {
                Report::Pushed | Report::Carried => {
                    if landed.iter().any(|n| *n != 1) {
                        return Err(format!(
                            "agent {owner} reported {report:?}, its commits are on the branch {landed:?} times"
                        ));
                    }
                    if !self.remote.holds(&agent.own) {
                        return Err(format!("agent {owner}'s commits are out of order"));
                    }
                }
                Report::GaveUp => {
                    if landed.iter().any(|n| *n != 0) {
                        return Err(format!(
                            "agent {owner} gave up, yet its commits are on the branch"
                        ));
                    }
                    if self.remote.parked.values().any(|p| p.commits == agent.own) {
                        return Err(format!("agent {owner} gave up and left its change parked"));
                    }
                }
            }
            if agent.longest_wait > bound {
                return Err(format!(
                    "agent {owner} waited {:?} in the queue, past the bound {bound:?}",
                    agent.longest_wait
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeds() -> Vec<u64> {
        if let Some(one) = std::env::var("MAINSTAY_SIM_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
        {
            return vec![one];
        }
        let count = std::env::var("MAINSTAY_SIM_SEEDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3000);
        (1..=count).collect()
    }

    #[test]
    fn every_seed_keeps_the_invariants() {
        for seed in seeds() {
            let mut world = World::new(seed);
            if let Err(failed) = world.run() {
                panic!(
                    "seed {seed}: {failed}; replay: MAINSTAY_SIM_SEED={seed} cargo test --lib push::sim"
                );
            }
        }
    }
}
