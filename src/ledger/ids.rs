//! Recognising task and session IDs, and the keys that tell entries apart.

use std::borrow::Cow;

use regex::Regex;

use super::hash::Map;

use super::{Error, Ids, Kind, Options};

/// The ID patterns of `[ledgers.merge]`, compiled once.
pub(crate) struct Patterns {
    task: Regex,
    session: Regex,
}

impl Patterns {
    pub(crate) fn new(options: &Options) -> Result<Self, Error> {
        let compile = |name: &'static str, pattern: &str| {
            Regex::new(pattern).map_err(|source| Error::Pattern {
                name,
                source: Box::new(source),
            })
        };
        Ok(Self {
            task: compile("task_id", &options.task_id)?,
            session: compile("session_id", &options.session_id)?,
        })
    }

    /// The patterns in the order `kind` prefers them; cheap, compiled regexes are shared.
    pub(crate) fn for_kind(&self, kind: Kind) -> Recognisers {
        let (primary, secondary) = match kind.spec().ids {
            Ids::TasksFirst => (Some(&self.task), Some(&self.session)),
            Ids::SessionsFirst => (Some(&self.session), Some(&self.task)),
            Ids::Text => (None, None),
        };
        Recognisers {
            primary: primary.cloned(),
            secondary: secondary.cloned(),
            pairs_edits: kind.spec().pairs_edits,
        }
    }
}

/// The compiled ID patterns, in the order a kind prefers them.
#[derive(Debug)]
pub(crate) struct Recognisers {
    /// The kind's own IDs: task IDs for `roadmap`, session IDs for `sessions`; none for text-keyed kinds.
    primary: Option<Regex>,
    secondary: Option<Regex>,
    /// See [`super::Spec::pairs_edits`].
    pub(crate) pairs_edits: bool,
}

impl Recognisers {
    #[cfg(test)]
    pub(crate) fn new(kind: Kind, options: &Options) -> Result<Self, Error> {
        Ok(Patterns::new(options)?.for_kind(kind))
    }

    /// The first ID of the kind's own sort in `text`.
    pub(crate) fn primary<'t>(&self, text: &'t str) -> Option<&'t str> {
        self.primary.as_ref()?.find(text).map(|m| m.as_str())
    }

    /// The first ID in `text`, preferring the kind's own sort.
    pub(crate) fn any<'t>(&self, text: &'t str) -> Option<&'t str> {
        self.primary(text)
            .or_else(|| self.secondary.as_ref()?.find(text).map(|m| m.as_str()))
    }
}

/// What tells an entry apart from its siblings: an ID or its text, and which occurrence of that
/// within its container it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key<'a> {
    /// Borrowed from the file where it can be: most keys are an ID or a cell as written.
    pub(crate) text: Cow<'a, str>,
    pub(crate) nth: u32,
    /// Whether `text` is a recognised ID, which is what makes a move to another table traceable.
    pub(crate) id: bool,
}

impl<'a> Key<'a> {
    pub(crate) fn new(text: impl Into<Cow<'a, str>>, id: bool) -> Self {
        Self {
            text: text.into(),
            nth: 0,
            id,
        }
    }
}

impl std::fmt::Display for Key<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.nth == 0 {
            f.write_str(&self.text)
        } else {
            write!(f, "{} (#{})", self.text, self.nth + 1)
        }
    }
}

/// Numbers repeated keys in order of appearance, so that every key in a container is unique.
pub(crate) fn number<'a, T>(
    items: &mut [T],
    key: impl Fn(&T) -> &Key<'a>,
    set: impl Fn(&mut T, u32),
) {
    let nths: Vec<u32> = {
        let mut seen: Map<&str, u32> = Map::default();
        seen.reserve(items.len());
        items
            .iter()
            .map(|item| {
                let n = seen.entry(&key(item).text).or_insert(0);
                *n += 1;
                *n - 1
            })
            .collect()
    };
    for (item, nth) in items.iter_mut().zip(nths) {
        set(item, nth);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(kind: Kind) -> Recognisers {
        Recognisers::new(kind, &Options::default()).unwrap()
    }

    #[test]
    fn default_task_ids_match_the_issue_examples() {
        let r = ids(Kind::ROADMAP);
        for id in [
            "ST-005",
            "BUG-131",
            "BE-QA-001",
            "DATA-002-AUGMENT",
            "TERP-0007",
            "TER-1052",
        ] {
            assert_eq!(r.primary(&format!("| {id} | x |")), Some(id), "{id}");
        }
        assert_eq!(r.primary("### REL-001: Standardize"), Some("REL-001"));
        assert_eq!(r.primary("Add Missing Database Indexes"), None);
    }

    #[test]
    fn default_session_ids_match_the_issue_examples() {
        let r = ids(Kind::SESSIONS);
        for id in [
            "Session-20260205-TASK-ID-695146",
            "20251114-calendar-events-428937",
            "011CV4V",
        ] {
            assert_eq!(r.primary(&format!("- {id}: note")), Some(id), "{id}");
        }
        assert_eq!(
            r.primary("| Session-20260203-BUG-131-768a8a | BUG-131 |"),
            Some("Session-20260203-BUG-131-768a8a")
        );
    }
}
