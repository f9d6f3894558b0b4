//! Markdown ledgers (the roadmap, the session registry) merged as records, not lines.
//!
//! A ledger parses into a tree (`model`): sections keyed by the ID or text of their heading, and
//! inside them tables keyed row by row, lists keyed item by item, and prose. [`merge`] merges three
//! such trees entry by entry (`merge`), renders the result in the receiving side's style, and checks
//! that no entry was lost or duplicated before calling it clean. Whatever it cannot vouch for
//! (conflict markers already present, non-UTF-8 or binary input, a result that fails the check)
//! falls back to a plain line merge (`lines`) that is never reported clean.
//!
//! The contract the merge driver builds on: a clean [`Outcome`] has no conflict markers and holds
//! every entry either side added or kept exactly once; anything else is a conflict for a person.

/// How long a record merge may take: real ledgers merge in milliseconds, so only a file made to
/// be slow comes near it. Here, below the driver, so that `mainstay push` can hand what is left
/// of its own budget to every driver call without depending on the driver.
pub const BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// The environment variable that sets the driver's budget.
pub const BUDGET_VAR: &str = "MAINSTAY_MERGE_BUDGET";
mod align;
mod fields;
mod hash;
mod headings;
mod ids;
pub(crate) mod lines;
mod merge;
mod model;
mod moves;
mod table;

use std::str::FromStr;

use serde::Deserialize;

/// A kind of ledger: how its entries are told apart. Everything that deals in kinds (the driver's
/// argument, `[ledgers]` in the configuration, the drivers `install-hooks` registers and the
/// attributes it writes, the fixture tests) iterates [`KINDS`]: a new kind is one entry there.
#[derive(Debug)]
pub struct Spec {
    /// The driver's argument, the `[ledgers]` key and the driver's name (`mainstay-<name>`).
    pub name: &'static str,
    /// What it is for, in a line.
    pub about: &'static str,
    /// Which IDs key entries, in order of preference.
    pub ids: Ids,
    /// Entries are keyed by their own text, so an edit looks like a deletion and an addition:
    /// an entry each side replaced at the same place is taken for one entry edited on both sides
    /// (a conflict when the edits differ), not for two new entries.
    pub pairs_edits: bool,
    /// The `.gitattributes` patterns routed to this kind when `[ledgers]` names none.
    pub patterns: &'static [&'static str],
}

/// Which IDs key a kind's entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ids {
    /// Task IDs (`ST-005`), then session IDs.
    TasksFirst,
    /// Session IDs (`Session-20260205-…`), then task IDs.
    SessionsFirst,
    /// None: headings and entries are keyed by their text.
    Text,
}

/// Every ledger kind.
pub const KINDS: &[Spec] = &[
    Spec {
        name: "roadmap",
        about: "roadmaps: entries keyed by task IDs (ST-005, REL-001)",
        ids: Ids::TasksFirst,
        pairs_edits: false,
        patterns: &["docs/roadmaps/*ROADMAP*.md", "**/ROADMAP.md"],
    },
    Spec {
        name: "sessions",
        about: "session registries and notes: entries keyed by session IDs",
        ids: Ids::SessionsFirst,
        pairs_edits: false,
        patterns: &["docs/ACTIVE_SESSIONS.md", "docs/sessions/**/*.md"],
    },
    Spec {
        name: "markdown",
        about: "keyed Markdown without IDs (a Keep a Changelog CHANGELOG.md, TODO lists, decision \
                logs): entries keyed by their text under their headings",
        ids: Ids::Text,
        pairs_edits: true,
        patterns: &["CHANGELOG.md"],
    },
];

/// Which ledger a file is: one of [`KINDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind(usize);

impl Kind {
    pub const ROADMAP: Kind = Kind(0);
    pub const SESSIONS: Kind = Kind(1);
    pub const MARKDOWN: Kind = Kind(2);

    /// Every kind, in [`KINDS`] order.
    pub fn all() -> impl Iterator<Item = Kind> {
        (0..KINDS.len()).map(Kind)
    }

    pub fn spec(self) -> &'static Spec {
        &KINDS[self.0]
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }
}

impl FromStr for Kind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Kind::all()
            .find(|k| k.name() == s)
            .ok_or_else(|| Error::Kind { name: s.to_owned() })
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The kinds' names, `roadmap, sessions, markdown`, for messages.
pub fn kind_names() -> String {
    KINDS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
}

/// One side of the merge, as git names them to a merge driver: ours is `%A`, theirs is `%B`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Ours,
    Theirs,
}

impl Side {
    /// The receiving side (the branch already on the remote) for the git operation named by
    /// `GIT_REFLOG_ACTION`, given whether a rebase is in progress.
    ///
    /// A rebase (also `git pull --rebase`, or `git pull` with `pull.rebase` set, whose action is
    /// plain `pull`) and `git merge <branch>` have the receiving branch as `%A`; only `git pull`
    /// that merges has it as `%B`.
    pub fn receiving(reflog_action: Option<&str>, rebasing: bool) -> Self {
        match reflog_action {
            Some(action) if action.starts_with("pull") && !rebasing => Self::Theirs,
            _ => Self::Ours,
        }
    }
}

/// What the merge needs to know about this particular merge.
#[derive(Debug, Clone)]
pub struct Context {
    pub kind: Kind,
    /// The side whose entries come first and whose formatting and ties win.
    pub receiving: Side,
    /// Length of conflict markers (git's `%L`).
    pub marker_size: usize,
}

impl Context {
    pub fn new(kind: Kind) -> Self {
        Self {
            kind,
            receiving: Side::Ours,
            marker_size: 7,
        }
    }
}

/// Everything configurable about the ledger merge; `[ledgers.merge]` in `.mainstay.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Options {
    /// Regular expression for task IDs (`ST-005`, `BE-QA-001`, `DATA-002-AUGMENT`).
    pub task_id: String,
    /// Regular expression for session IDs (`Session-20260205-TASK-ID-695146`, `011CV4V`).
    pub session_id: String,
    /// Header of the table column that holds a row's ID; tables without it use the first column.
    pub id_column: Option<String>,
    /// When both sides changed one of `field_names`, keep the higher version or later date.
    pub fields: bool,
    /// Field names the `fields` rule applies to, as written between `**` (`Version`).
    pub field_names: Vec<String>,
    /// When both sides changed a number-only table cell, add both changes to the base number.
    pub counters: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            task_id:
                r"(?-u:\b)[A-Z][A-Z0-9]*(?:-[A-Z][A-Z0-9]*)*-[0-9]{2,}(?:-[A-Z][A-Z0-9]*)*(?-u:\b)"
                    .to_owned(),
            session_id: concat!(
                r"(?-u:\b)Session-[0-9]{8}-[A-Za-z0-9-]*[A-Za-z0-9]",
                r"|(?-u:\b)[0-9]{8}-[A-Za-z0-9-]*-[A-Za-z0-9]{5,}(?-u:\b)",
                r"|(?-u:\b)011C[A-Za-z0-9]{3,}(?-u:\b)",
            )
            .to_owned(),
            id_column: None,
            fields: true,
            field_names: vec!["Version".to_owned(), "Last Updated".to_owned()],
            counters: true,
        }
    }
}

impl Options {
    /// Checks the patterns parse, for `.mainstay.toml`: `(key, message)` naming the bad one.
    /// Parsing only: every hook loads the configuration, and compiling the patterns would cost
    /// each of them more than all its own work; the merge driver compiles them when it needs them.
    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        for (name, pattern) in [("task_id", &self.task_id), ("session_id", &self.session_id)] {
            if let Err(e) = regex_syntax::Parser::new().parse(pattern) {
                return Err((format!("ledgers.merge.{name}"), one_line(&e.to_string())));
            }
        }
        Ok(())
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One entry left in conflict for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// Where it is: the keys of the enclosing sections, then the entry's own key.
    pub keys: Vec<String>,
}

/// Why the record merge stepped aside for a plain line merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// An input already holds conflict markers.
    Markers,
    /// An input is not UTF-8 text (or holds NUL bytes).
    NotText,
    /// The record merge's result failed the no-loss, no-duplicate check.
    Unverified,
    /// The record merge left more in conflict than the line merge, whose result this is.
    Wider,
}

/// The result of [`merge`].
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The merged file.
    pub text: Vec<u8>,
    /// Entries left in conflict; empty for a clean merge.
    pub conflicts: Vec<Conflict>,
    /// Set when the record merge stepped aside; the result is then never clean.
    pub fallback: Option<Fallback>,
}

impl Outcome {
    /// Whether the merge is clean: no conflicts, no fallback, no markers.
    pub fn is_clean(&self) -> bool {
        self.conflicts.is_empty() && self.fallback.is_none()
    }
}

/// Errors of the ledger merge: bad settings only; never bad file contents (those fall back to a
/// line merge). Reading and writing files is the driver's ([`crate::merge_driver`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unknown ledger kind {name:?}: the kinds are {}", kind_names())]
    Kind { name: String },
    #[error("ledgers.merge.{name} is not a valid regular expression: {source}")]
    Pattern {
        name: &'static str,
        source: Box<regex::Error>,
    },
}

/// Merges three versions of a ledger: `base` (`%O`), `ours` (`%A`) and `theirs` (`%B`).
pub fn merge(
    base: &[u8],
    ours: &[u8],
    theirs: &[u8],
    context: &Context,
    options: &Options,
) -> Result<Outcome, Error> {
    Ok(Prepared::new(options)?.merge(base, ours, theirs, context))
}

/// [`Options`] with their patterns compiled, for merging many files with the same settings.
#[derive(Debug)]
pub struct Prepared {
    options: Options,
    /// One per kind, in [`KINDS`] order; the compiled patterns are shared.
    ids: Vec<ids::Recognisers>,
}

impl Prepared {
    pub fn new(options: &Options) -> Result<Self, Error> {
        let compiled = ids::Patterns::new(options)?;
        Ok(Self {
            options: options.clone(),
            ids: Kind::all().map(|k| compiled.for_kind(k)).collect(),
        })
    }

    fn ids(&self, kind: Kind) -> &ids::Recognisers {
        &self.ids[kind.0]
    }

    /// Like [`merge`], without compiling the options again.
    pub fn merge(&self, base: &[u8], ours: &[u8], theirs: &[u8], context: &Context) -> Outcome {
        let ids = self.ids(context.kind);
        merge::merge(base, ours, theirs, context, &self.options, ids)
    }

    /// Whether a clean merge of the three made by another tool (`git merge-file`) may stand in
    /// place of a merge this one left in conflict: it holds no markers and no entry more often
    /// than either side does.
    pub fn accepts(&self, sides: [&[u8]; 3], candidate: &[u8], kind: Kind) -> bool {
        merge::accepts(sides, candidate, &self.options, self.ids(kind))
    }

    /// How many lines of a merge result stand in conflict, markers included.
    pub fn conflicted_lines(text: &[u8]) -> usize {
        merge::conflicted_lines(text)
    }

    /// Parses and renders `text` again; for checking that parsing loses nothing.
    #[doc(hidden)]
    pub fn round_trip(&self, text: &str, kind: Kind) -> String {
        model::Doc::parse(text, &self.options, self.ids(kind)).render()
    }
}
