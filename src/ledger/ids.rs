//! Recognising task and session IDs, and the keys that tell entries apart.

use regex::Regex;

use super::{Error, Kind, Options};

/// The compiled ID patterns, in the order a kind prefers them.
#[derive(Debug)]
pub(crate) struct Recognisers {
    /// The kind's own IDs: task IDs for `roadmap`, session IDs for `sessions`.
    primary: Regex,
    secondary: Regex,
}

impl Recognisers {
    pub(crate) fn new(kind: Kind, options: &Options) -> Result<Self, Error> {
        let compile = |name: &'static str, pattern: &str| {
            Regex::new(pattern).map_err(|source| Error::Pattern {
                name,
                source: Box::new(source),
            })
        };
        let task = compile("task_id", &options.task_id)?;
        let session = compile("session_id", &options.session_id)?;
        Ok(match kind {
            Kind::Roadmap => Self {
                primary: task,
                secondary: session,
            },
            Kind::Sessions => Self {
                primary: session,
                secondary: task,
            },
        })
    }

    /// The same patterns in the other kind's order; cheap, compiled regexes are shared.
    pub(crate) fn swapped(&self) -> Self {
        Self {
            primary: self.secondary.clone(),
            secondary: self.primary.clone(),
        }
    }

    /// The first ID of the kind's own sort in `text`.
    pub(crate) fn primary<'t>(&self, text: &'t str) -> Option<&'t str> {
        self.primary.find(text).map(|m| m.as_str())
    }

    /// The first ID in `text`, preferring the kind's own sort.
    pub(crate) fn any<'t>(&self, text: &'t str) -> Option<&'t str> {
        self.primary(text)
            .or_else(|| self.secondary.find(text).map(|m| m.as_str()))
    }
}

/// What tells an entry apart from its siblings: an ID or its text, and which occurrence of that
/// within its container it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) text: Box<str>,
    pub(crate) nth: u32,
    /// Whether `text` is a recognised ID, which is what makes a move to another table traceable.
    pub(crate) id: bool,
}

impl Key {
    pub(crate) fn new(text: &str, id: bool) -> Self {
        Self {
            text: text.into(),
            nth: 0,
            id,
        }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.nth == 0 {
            f.write_str(&self.text)
        } else {
            write!(f, "{} (#{})", self.text, self.nth + 1)
        }
    }
}

/// Numbers repeated keys in order of appearance, so that every key in a container is unique.
pub(crate) fn number<T>(items: &mut [T], key: impl Fn(&mut T) -> &mut Key) {
    let mut seen: std::collections::HashMap<Box<str>, u32> = std::collections::HashMap::new();
    for item in items {
        let key = key(item);
        let n = seen.entry(key.text.clone()).or_insert(0);
        key.nth = *n;
        *n += 1;
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
        let r = ids(Kind::Roadmap);
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
        let r = ids(Kind::Sessions);
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
