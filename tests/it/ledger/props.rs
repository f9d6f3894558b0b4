//! Properties of the merge on random ledgers with random edits on both sides.
//!
//! Cases: `PROPTEST_CASES` if set, else 10,000 under CI (`CI` set, as CI services do) and 256
//! locally. 10,000 take about 20 s in a debug build.
//! Entries are checked at the text level (a row is a `| ST-… |` line, an item a `- [ ] IT-…` line,
//! a section a `## SEC-…` heading), independently of the parser under test.

use std::collections::{BTreeMap, BTreeSet};

use std::sync::LazyLock;

use mainstay::ledger::{Context, Fallback, Kind, Options, Prepared, Side};
use proptest::prelude::*;
use proptest::sample::Index;

#[derive(Debug, Clone, PartialEq)]
struct Ledger {
    version: u32,
    /// `**Last Updated:**`, in days from 2026-01-01 (28-day months keep it simple).
    updated: u32,
    /// The `TOTAL` counter cell of the summary table.
    total: i64,
    sections: Vec<Sec>,
}

#[derive(Debug, Clone, PartialEq)]
struct Sec {
    id: u32,
    title: String,
    rows: Vec<Row>,
    items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq)]
struct Row {
    id: u32,
    status: String,
    note: String,
}

#[derive(Debug, Clone, PartialEq)]
struct Item {
    id: u32,
    text: String,
    done: bool,
}

impl Ledger {
    fn render(&self) -> String {
        let (month, day) = (1 + self.updated / 28, 1 + self.updated % 28);
        let mut out = format!(
            "# Roadmap\n\n**Version:** 1.{}\n**Last Updated:** 2026-{month:02}-{day:02}\n\n\
             | Area | Count |\n|---|---|\n| TOTAL | **{}** |\n",
            self.version, self.total
        );
        for s in &self.sections {
            out += &format!("\n## SEC-{:04}: {}\n\n", s.id, s.title);
            out += "| Task | Status | Note |\n|---|---|---|\n";
            for r in &s.rows {
                out += &format!("| ST-{:04} | {} | {} |\n", r.id, r.status, r.note);
            }
            if !s.items.is_empty() {
                out += "\n";
            }
            for i in &s.items {
                let mark = if i.done { 'x' } else { ' ' };
                out += &format!("- [{mark}] IT-{:04} {}\n", i.id, i.text);
            }
        }
        out
    }
}

#[derive(Debug, Clone)]
enum Edit {
    AddRow(Index, Index, String),
    DeleteRow(Index, Index),
    SetStatus(Index, Index, String),
    SetNote(Index, Index, String),
    MoveRow(Index, Index, Index),
    AddItem(Index, Index, String),
    DeleteItem(Index, Index),
    ToggleItem(Index, Index),
    AddSection(Index, String),
    DeleteSection(Index),
    Retitle(Index, String),
    BumpVersion(u32),
    BumpDate(u32),
    Count(i64),
}

fn word() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "open", "done", "blocked", "wip", "alpha", "beta", "x", "y y",
    ])
    .prop_map(str::to_owned)
}

fn edit() -> impl Strategy<Value = Edit> {
    let i = any::<Index>;
    prop_oneof![
        (i(), i(), word()).prop_map(|(a, b, w)| Edit::AddRow(a, b, w)),
        (i(), i()).prop_map(|(a, b)| Edit::DeleteRow(a, b)),
        (i(), i(), word()).prop_map(|(a, b, w)| Edit::SetStatus(a, b, w)),
        (i(), i(), word()).prop_map(|(a, b, w)| Edit::SetNote(a, b, w)),
        (i(), i(), i()).prop_map(|(a, b, c)| Edit::MoveRow(a, b, c)),
        (i(), i(), word()).prop_map(|(a, b, w)| Edit::AddItem(a, b, w)),
        (i(), i()).prop_map(|(a, b)| Edit::DeleteItem(a, b)),
        (i(), i()).prop_map(|(a, b)| Edit::ToggleItem(a, b)),
        (i(), word()).prop_map(|(a, w)| Edit::AddSection(a, w)),
        i().prop_map(Edit::DeleteSection),
        (i(), word()).prop_map(|(a, w)| Edit::Retitle(a, w)),
        (1..5u32).prop_map(Edit::BumpVersion),
        (1..40u32).prop_map(Edit::BumpDate),
        prop_oneof![-3..0i64, 1..4i64].prop_map(Edit::Count),
    ]
}

fn ledger() -> impl Strategy<Value = Ledger> {
    let row = (word(), word());
    let item = (word(), any::<bool>());
    let sec = (
        word(),
        prop::collection::vec(row, 0..5),
        prop::collection::vec(item, 0..4),
    );
    (
        0..9u32,
        0..300u32,
        0..200i64,
        prop::collection::vec(sec, 1..5),
    )
        .prop_map(|(version, updated, total, secs)| {
            let mut next = 0;
            let mut fresh = || {
                next += 1;
                next
            };
            let sections = secs
                .into_iter()
                .map(|(title, rows, items)| Sec {
                    id: fresh(),
                    title,
                    rows: rows
                        .into_iter()
                        .map(|(status, note)| Row {
                            id: fresh(),
                            status,
                            note,
                        })
                        .collect(),
                    items: items
                        .into_iter()
                        .map(|(text, done)| Item {
                            id: fresh(),
                            text,
                            done,
                        })
                        .collect(),
                })
                .collect();
            Ledger {
                version,
                updated,
                total,
                sections,
            }
        })
}

/// Applies edits; new IDs come from `fresh`, disjoint between the sides.
fn apply(base: &Ledger, edits: &[Edit], mut fresh: u32) -> Ledger {
    let mut l = base.clone();
    let mut new_id = || {
        fresh += 1;
        fresh
    };
    for edit in edits {
        let n = l.sections.len();
        match edit {
            Edit::AddSection(at, title) => {
                let at = if n == 0 { 0 } else { at.index(n + 1) };
                let id = new_id();
                l.sections.insert(
                    at,
                    Sec {
                        id,
                        title: title.clone(),
                        rows: vec![],
                        items: vec![],
                    },
                );
            }
            Edit::BumpVersion(by) => l.version += by,
            Edit::BumpDate(by) => l.updated += by,
            Edit::Count(by) => l.total += by,
            _ if n == 0 => {}
            Edit::DeleteSection(s) => {
                l.sections.remove(s.index(n));
            }
            Edit::Retitle(s, title) => l.sections[s.index(n)].title = title.clone(),
            Edit::AddRow(s, at, status) => {
                let id = new_id();
                let rows = &mut l.sections[s.index(n)].rows;
                let at = at.index(rows.len() + 1);
                rows.insert(
                    at,
                    Row {
                        id,
                        status: status.clone(),
                        note: "new".into(),
                    },
                );
            }
            Edit::AddItem(s, at, text) => {
                let id = new_id();
                let items = &mut l.sections[s.index(n)].items;
                let at = at.index(items.len() + 1);
                items.insert(
                    at,
                    Item {
                        id,
                        text: text.clone(),
                        done: false,
                    },
                );
            }
            Edit::DeleteRow(s, r)
            | Edit::SetStatus(s, r, _)
            | Edit::SetNote(s, r, _)
            | Edit::MoveRow(s, r, _) => {
                let s = s.index(n);
                let len = l.sections[s].rows.len();
                if len == 0 {
                    continue;
                }
                let r = r.index(len);
                match edit {
                    Edit::DeleteRow(..) => {
                        l.sections[s].rows.remove(r);
                    }
                    Edit::SetStatus(.., w) => l.sections[s].rows[r].status = w.clone(),
                    Edit::SetNote(.., w) => l.sections[s].rows[r].note = w.clone(),
                    Edit::MoveRow(.., to) => {
                        let row = l.sections[s].rows.remove(r);
                        l.sections[to.index(n)].rows.push(row);
                    }
                    _ => unreachable!(),
                }
            }
            Edit::DeleteItem(s, i) | Edit::ToggleItem(s, i) => {
                let items = &mut l.sections[s.index(n)].items;
                if items.is_empty() {
                    continue;
                }
                let i = i.index(items.len());
                if matches!(edit, Edit::DeleteItem(..)) {
                    items.remove(i);
                } else {
                    items[i].done = !items[i].done;
                }
            }
        }
    }
    l
}

/// Every entry ID in a text, with how often it occurs as an entry.
fn entries(text: &str) -> BTreeMap<String, usize> {
    let mut ids = BTreeMap::new();
    for line in text.lines() {
        let id = if let Some(rest) = line.strip_prefix("| ST-") {
            format!("ST-{}", &rest[..4])
        } else if let Some(rest) = line.strip_prefix("- [").filter(|r| r.len() > 10) {
            rest[3..10].to_owned()
        } else if let Some(rest) = line.strip_prefix("## SEC-") {
            format!("SEC-{}", &rest[..4])
        } else {
            continue;
        };
        *ids.entry(id).or_insert(0) += 1;
    }
    ids
}

fn run(base: &str, ours: &str, theirs: &str, receiving: Side) -> (String, bool) {
    let context = Context {
        kind: Kind::ROADMAP,
        receiving,
        marker_size: 7,
    };
    static PREPARED: LazyLock<Prepared> =
        LazyLock::new(|| Prepared::new(&Options::default()).unwrap());
    let outcome = PREPARED.merge(
        base.as_bytes(),
        ours.as_bytes(),
        theirs.as_bytes(),
        &context,
    );
    // Well-formed ledgers are merged as records; where the record merge cannot place a change
    // (a section renumbered on one side, added to on the other), git's marked line merge is the
    // designed answer, never a clean result that the entry check rejected.
    let designed = match outcome.fallback {
        None => true,
        Some(Fallback::Unverified | Fallback::Wider) => !outcome.conflicts.is_empty(),
        Some(Fallback::Markers | Fallback::NotText) => false,
    };
    assert!(
        designed,
        "fell back ({:?}) on well-formed ledgers:\n--- base\n{base}--- ours\n{ours}--- theirs\n{theirs}",
        outcome.fallback
    );
    (
        String::from_utf8(outcome.text.clone()).unwrap(),
        outcome.is_clean(),
    )
}

fn sides() -> impl Strategy<Value = (Ledger, Ledger, Ledger)> {
    (
        ledger(),
        prop::collection::vec(edit(), 0..6),
        prop::collection::vec(edit(), 0..6),
    )
        .prop_map(|(base, o, t)| {
            let ours = apply(&base, &o, 1000);
            let theirs = apply(&base, &t, 2000);
            (base, ours, theirs)
        })
}

fn config() -> ProptestConfig {
    let cases = match (std::env::var("PROPTEST_CASES"), std::env::var_os("CI")) {
        (Ok(n), _) => n.parse().expect("PROPTEST_CASES is a number"),
        (Err(_), Some(_)) => 10_000,
        (Err(_), None) => 256,
    };
    ProptestConfig {
        cases,
        // Failures are reported with the three ledgers; fixed ones become fixture cases.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn clean_merges_keep_every_added_or_kept_entry_exactly_once(
        (base, ours, theirs) in sides(),
        receiving in prop_oneof![Just(Side::Ours), Just(Side::Theirs)],
    ) {
        let (b, o, t) = (base.render(), ours.render(), theirs.render());
        let (out, clean) = run(&b, &o, &t, receiving);
        prop_assert_eq!(clean, !out.contains("<<<<<<<"), "exit 0 if and only if no markers");
        if clean {
            let (be, oe, te, got) = (entries(&b), entries(&o), entries(&t), entries(&out));
            for (id, n) in &got {
                prop_assert_eq!(*n, 1, "{} is in the result {} times:\n{}", id, n, out);
            }
            for id in oe.keys().chain(te.keys()) {
                let kept_by_both = oe.contains_key(id) && te.contains_key(id);
                let added = !be.contains_key(id);
                if kept_by_both || added {
                    prop_assert!(got.contains_key(id), "{} lost:\n{}", id, out);
                }
            }
        }
    }

    #[test]
    fn one_side_unchanged_gives_the_other_byte_for_byte(
        (base, _, theirs) in sides(),
        receiving in prop_oneof![Just(Side::Ours), Just(Side::Theirs)],
    ) {
        let (b, t) = (base.render(), theirs.render());
        prop_assert_eq!(&run(&b, &b, &t, receiving).0, &t);
        prop_assert_eq!(&run(&b, &t, &b, receiving).0, &t);
    }

    #[test]
    fn the_same_change_on_both_sides_gives_it((base, ours, _) in sides()) {
        let (b, o) = (base.render(), ours.render());
        let (out, clean) = run(&b, &o, &o, Side::Ours);
        prop_assert!(clean);
        prop_assert_eq!(out, o);
    }

    #[test]
    fn git_pull_and_git_pull_rebase_give_the_same_file((base, ours, theirs) in sides()) {
        // A rebase hands the driver the receiving side as %A; a `git pull` that merges, as %B.
        let (b, o, t) = (base.render(), ours.render(), theirs.render());
        let (rebased, clean) = run(&b, &o, &t, Side::Ours);
        let (pulled, pulled_clean) = run(&b, &t, &o, Side::Theirs);
        prop_assert_eq!(clean, pulled_clean);
        if clean {
            prop_assert_eq!(pulled, rebased);
        }
    }

    #[test]
    fn bumped_fields_and_counters_add_up(
        (base, ours, theirs) in sides(),
        receiving in prop_oneof![Just(Side::Ours), Just(Side::Theirs)],
    ) {
        let (b, o, t) = (base.render(), ours.render(), theirs.render());
        let (out, clean) = run(&b, &o, &t, receiving);
        if clean {
            let line = |prefix: &str| {
                let line = out.lines().find(|l| l.starts_with(prefix)).expect("field kept");
                line[prefix.len()..].to_owned()
            };
            let version = ours.version.max(theirs.version);
            prop_assert_eq!(line("**Version:** 1."), version.to_string());
            let updated = Ledger { updated: ours.updated.max(theirs.updated), ..base.clone() };
            let date = |l: &Ledger| l.render().lines().nth(3).expect("date line").to_owned();
            prop_assert_eq!(format!("**Last Updated:**{}", line("**Last Updated:**")), date(&updated));
            // Both changes add up, an identical bump included (each side added its own entry);
            // only two identical sides are one change.
            let total = if o == t {
                ours.total
            } else {
                ours.total + theirs.total - base.total
            };
            prop_assert_eq!(line("| TOTAL | **"), format!("{total}** |"));
        }
    }

    #[test]
    fn swapping_the_sides_gives_the_same_entries((base, ours, theirs) in sides()) {
        let (b, o, t) = (base.render(), ours.render(), theirs.render());
        let (one, _) = run(&b, &o, &t, Side::Ours);
        let (other, _) = run(&b, &t, &o, Side::Ours);
        let ids = |s: &str| entries(s).into_keys().collect::<BTreeSet<_>>();
        prop_assert_eq!(ids(&one), ids(&other));
    }

    #[test]
    fn crlf_in_crlf_out((base, ours, theirs) in sides()) {
        let (b, o, t) = (base.render(), ours.render(), theirs.render());
        let crlf = |s: &str| s.replace('\n', "\r\n");
        let (lf, _) = run(&b, &o, &t, Side::Ours);
        let (cr, _) = run(&crlf(&b), &crlf(&o), &crlf(&t), Side::Ours);
        prop_assert_eq!(cr, crlf(&lf));
    }
}
