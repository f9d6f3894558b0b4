//! The swarm: N agents (2 to 16) each add entries to one changelog, under headings it has or
//! under new ones (a new sub-heading, or a fresh `Unreleased` after a release, spelled as each
//! agent spells it), and their branches are merged in any order, one after another or pairwise.
//! Every merge must be clean and every entry must stand exactly once, under its heading.
//!
//! Cases: `PROPTEST_CASES` if set, else 1,000 under CI (`CI` set) and 64 locally.

use std::sync::LazyLock;

use mainstay::ledger::{Context, Kind, Options, Prepared, Side};
use proptest::prelude::*;

const SUBHEADINGS: &[&str] = &["Added", "Changed", "Fixed", "Security"];

/// One entry an agent adds: under which sub-heading, on top of its list or at the end.
#[derive(Debug, Clone)]
struct Addition {
    subheading: usize,
    on_top: bool,
}

#[derive(Debug, Clone)]
struct Agent {
    additions: Vec<Addition>,
    /// How the agent spells a fresh `Unreleased` heading when the base has none.
    bracketed: bool,
}

#[derive(Debug, Clone)]
enum Order {
    /// Each agent's branch merged into the result so far (a rebase or a merge, in turn).
    InTurn,
    /// Branches merged two by two, then the results two by two.
    Pairwise,
}

#[derive(Debug, Clone)]
struct Swarm {
    /// Whether the base has an `Unreleased` section (with an `Added` list) or just cut a release.
    base_unreleased: bool,
    agents: Vec<Agent>,
    order: Order,
    /// The merge order: a permutation of the agents.
    shuffle: Vec<usize>,
    /// Which side receives in each merge.
    receiving: Vec<bool>,
}

/// A changelog as a release list: `(heading, [(sub-heading, entries)])`.
type Sections = Vec<(String, Vec<(String, Vec<String>)>)>;

fn base(unreleased: bool) -> Sections {
    let mut sections = vec![
        (
            "## [1.1.0] - 2026-12-01".to_owned(),
            vec![
                (
                    "Added".to_owned(),
                    vec!["Parked changes land in order.".to_owned()],
                ),
                (
                    "Fixed".to_owned(),
                    vec!["Pushes retry on a lost lock.".to_owned()],
                ),
            ],
        ),
        (
            "## [1.0.0] - 2026-11-02".to_owned(),
            vec![("Added".to_owned(), vec!["First release.".to_owned()])],
        ),
    ];
    if unreleased {
        let added = vec!["Status reads the lock once.".to_owned()];
        sections.insert(
            0,
            (
                "## [Unreleased]".to_owned(),
                vec![("Added".to_owned(), added)],
            ),
        );
    }
    sections
}

fn render(sections: &Sections) -> String {
    let mut out = String::from("# Changelog\n\nAll notable changes are documented here.\n");
    for (heading, subs) in sections {
        out += &format!("\n{heading}\n");
        for (sub, entries) in subs {
            out += &format!("\n### {sub}\n\n");
            for entry in entries {
                out += &format!("- {entry}\n");
            }
        }
    }
    out
}

/// The agent's changelog: the base with its entries added; and the entries, each with its
/// sub-heading.
fn agent_file(n: usize, agent: &Agent, base_unreleased: bool) -> (String, Vec<(String, String)>) {
    let mut sections = base(base_unreleased);
    if !base_unreleased {
        let heading = if agent.bracketed {
            "## [Unreleased]"
        } else {
            "## Unreleased"
        };
        sections.insert(0, (heading.to_owned(), Vec::new()));
    }
    let mut added = Vec::new();
    for (i, addition) in agent.additions.iter().enumerate() {
        let sub = SUBHEADINGS[addition.subheading % SUBHEADINGS.len()];
        let entry = format!("Agent {n} entry {i}.");
        let subs = &mut sections[0].1;
        let list = match subs.iter().position(|(s, _)| s == sub) {
            Some(at) => &mut subs[at].1,
            None => {
                subs.push((sub.to_owned(), Vec::new()));
                &mut subs.last_mut().expect("just pushed").1
            }
        };
        if addition.on_top {
            list.insert(0, entry.clone());
        } else {
            list.push(entry.clone());
        }
        added.push((sub.to_owned(), entry));
    }
    (render(&sections), added)
}

fn merge(base: &str, ours: &str, theirs: &str, theirs_receiving: bool) -> Result<String, String> {
    static PREPARED: LazyLock<Prepared> =
        LazyLock::new(|| Prepared::new(&Options::default()).expect("the defaults compile"));
    // `git pull` hands the receiving side as %B, with the sides swapped.
    let (ours, theirs, receiving) = if theirs_receiving {
        (theirs, ours, Side::Theirs)
    } else {
        (ours, theirs, Side::Ours)
    };
    let context = Context {
        receiving,
        ..Context::new(Kind::MARKDOWN)
    };
    let outcome = PREPARED.merge(
        base.as_bytes(),
        ours.as_bytes(),
        theirs.as_bytes(),
        &context,
    );
    let text = String::from_utf8(outcome.text.clone()).expect("the merge of UTF-8 is UTF-8");
    if outcome.is_clean() {
        Ok(text)
    } else {
        Err(format!(
            "a conflict ({:?}, {:?}):\n--- base\n{base}\n--- ours\n{ours}\n--- theirs\n{theirs}\n--- result\n{text}",
            outcome.conflicts, outcome.fallback
        ))
    }
}

fn swarm() -> impl Strategy<Value = Swarm> {
    let addition = (0..SUBHEADINGS.len(), any::<bool>())
        .prop_map(|(subheading, on_top)| Addition { subheading, on_top });
    let agent = (prop::collection::vec(addition, 1..=3), any::<bool>()).prop_map(
        |(additions, bracketed)| Agent {
            additions,
            bracketed,
        },
    );
    (
        any::<bool>(),
        prop::collection::vec(agent, 2..=16),
        prop_oneof![Just(Order::InTurn), Just(Order::Pairwise)],
        prop::collection::vec(any::<usize>(), 16),
        prop::collection::vec(any::<bool>(), 16),
    )
        .prop_map(
            |(base_unreleased, agents, order, shuffle, receiving)| Swarm {
                base_unreleased,
                agents,
                order,
                shuffle,
                receiving,
            },
        )
}

/// The agents in the swarm's order: a permutation drawn from its indices.
fn permutation(n: usize, shuffle: &[usize]) -> Vec<usize> {
    let mut left: Vec<usize> = (0..n).collect();
    (0..n)
        .map(|i| left.remove(shuffle[i] % left.len()))
        .collect()
}

fn run(swarm: &Swarm) -> Result<(), TestCaseError> {
    let base_text = render(&base(swarm.base_unreleased));
    let files: Vec<(String, Vec<(String, String)>)> = swarm
        .agents
        .iter()
        .enumerate()
        .map(|(n, a)| agent_file(n, a, swarm.base_unreleased))
        .collect();
    let order = permutation(files.len(), &swarm.shuffle);
    let mut merges = 0;
    let mut receiving = || {
        merges += 1;
        swarm.receiving[merges % swarm.receiving.len()]
    };
    let result = match swarm.order {
        Order::InTurn => {
            let mut acc = files[order[0]].0.clone();
            for &n in &order[1..] {
                acc = merge(&base_text, &acc, &files[n].0, receiving())
                    .map_err(TestCaseError::fail)?;
            }
            acc
        }
        Order::Pairwise => {
            let mut level: Vec<String> = order.iter().map(|&n| files[n].0.clone()).collect();
            while level.len() > 1 {
                let mut next = Vec::new();
                for pair in level.chunks(2) {
                    next.push(match pair {
                        [a, b] => {
                            merge(&base_text, a, b, receiving()).map_err(TestCaseError::fail)?
                        }
                        [a] => a.clone(),
                        _ => unreachable!("chunks of two"),
                    });
                }
                level = next;
            }
            level.pop().expect("one result")
        }
    };
    // Every entry exactly once, under its own sub-heading of the one `Unreleased` section.
    let lines: Vec<&str> = result.lines().collect();
    let unreleased: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].to_ascii_lowercase().contains("unreleased"))
        .collect();
    prop_assert_eq!(unreleased.len(), 1, "one Unreleased section:\n{}", result);
    for (_, added) in &files {
        for (sub, entry) in added {
            let at: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i] == format!("- {entry}"))
                .collect();
            prop_assert_eq!(at.len(), 1, "{} once:\n{}", entry, result);
            let heading = lines[..at[0]].iter().rev().find(|l| l.starts_with('#'));
            let expected = format!("### {sub}");
            prop_assert_eq!(
                heading.copied(),
                Some(expected.as_str()),
                "{} under {}:\n{}",
                entry,
                sub,
                result
            );
        }
    }
    for entry in [
        "Status reads the lock once.",
        "Parked changes land in order.",
    ] {
        let count = lines.iter().filter(|l| **l == format!("- {entry}")).count();
        prop_assert_eq!(
            count,
            usize::from(swarm.base_unreleased || entry.starts_with('P'))
        );
    }
    for sub in SUBHEADINGS {
        // A sub-heading stands at most once in the Unreleased section.
        let end = lines[unreleased[0]..]
            .iter()
            .skip(1)
            .position(|l| l.starts_with("## "))
            .map_or(lines.len(), |p| unreleased[0] + 1 + p);
        let count = lines[unreleased[0]..end]
            .iter()
            .filter(|l| **l == format!("### {sub}"))
            .count();
        prop_assert!(count <= 1, "### {} twice:\n{}", sub, result);
    }
    Ok(())
}

fn config() -> ProptestConfig {
    let cases = match (std::env::var("PROPTEST_CASES"), std::env::var_os("CI")) {
        (Ok(n), _) => n.parse().expect("PROPTEST_CASES is a number"),
        (Err(_), Some(_)) => 1_000,
        (Err(_), None) => 64,
    };
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_agents_entry_lands_once_and_clean(swarm in swarm()) {
        run(&swarm)?;
    }
}

/// Each N from 2 to 16 at least once, in both orders, whatever the random cases drew.
#[test]
fn every_swarm_size_merges_clean() {
    for n in 2..=16 {
        for order in [Order::InTurn, Order::Pairwise] {
            for base_unreleased in [true, false] {
                let agents = (0..n)
                    .map(|i| Agent {
                        additions: vec![
                            Addition {
                                subheading: i * 7,
                                on_top: i % 2 == 0,
                            },
                            Addition {
                                subheading: i * 13 + 5,
                                on_top: i % 3 == 0,
                            },
                        ],
                        bracketed: i % 2 == 1,
                    })
                    .collect();
                let swarm = Swarm {
                    base_unreleased,
                    agents,
                    order: order.clone(),
                    shuffle: (0..16).map(|i| i * 31 + n).collect(),
                    receiving: (0..16).map(|i| (i + n) % 3 == 0).collect(),
                };
                if let Err(e) = run(&swarm) {
                    panic!("{n} agents, {order:?}, unreleased in base: {base_unreleased}: {e}");
                }
            }
        }
    }
}
