//! Configuration: the committed `.mainstay.toml` at the repository root, plus the environment.
//!
//! Every setting has a default, so no file is needed. Each section's type lives in the module that
//! uses it (`policy::Settings`, `deploy::Settings`, ...); this module only composes and loads them.
//! Secrets (database password, API tokens, webhook URLs) are never read from this file: they come
//! from the environment alone, where the module that needs them reads them.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::ledger::Kind;

/// The file name looked up at the top of the work tree.
pub const FILE_NAME: &str = ".mainstay.toml";

/// The kill switch for every hook: `MAINSTAY=0` makes each of them do nothing and succeed.
pub const KILL_SWITCH: &str = "MAINSTAY";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}{}: {message}", path.display(), at(.position))]
    Syntax {
        path: PathBuf,
        position: Option<Position>,
        message: String,
    },
    #[error("{}{}: key `{key}`: {message}", path.display(), at(.position))]
    Invalid {
        path: PathBuf,
        position: Option<Position>,
        key: String,
        message: String,
    },
}

/// A line and column in the file, both from 1 (the column in characters), as editors count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// Where byte `offset` of `text` is.
    fn of(text: &str, offset: usize) -> Position {
        let end = (0..=offset.min(text.len()))
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        let before = &text[..end];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Position {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }

    /// Where a TOML error points, when it points anywhere.
    fn of_error(text: &str, error: &toml::de::Error) -> Option<Position> {
        error.span().map(|span| Position::of(text, span.start))
    }
}

/// `:line:column` after the file's name, as compilers write it; nothing without a position.
fn at(position: &Option<Position>) -> String {
    position.map_or_else(String::new, |p| format!(":{}:{}", p.line, p.column))
}

/// The whole configuration, one field per `[section]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub push: crate::policy::Settings,
    pub deploy: crate::deploy::Settings,
    pub ledgers: Ledgers,
    pub alerts: crate::deploy::alerts::Settings,
    pub sync: crate::push::Settings,
    pub stats: crate::stats::Settings,
}

/// `[ledgers]`: which files are merged as records, by kind: `<kind> = [".gitattributes
/// patterns"]` for each of [`crate::ledger::KINDS`], each defaulting to the kind's own patterns.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Ledgers {
    /// `[ledgers.merge]`: how the merge driver recognises and merges entries.
    pub merge: crate::ledger::Options,
    /// The patterns set per kind name; a kind not named keeps its defaults.
    #[serde(flatten)]
    pub kinds: std::collections::BTreeMap<String, Vec<String>>,
}

impl Ledgers {
    /// Every (kind, pattern) pair, in kind order.
    pub fn patterns(&self) -> impl Iterator<Item = (Kind, &str)> {
        Kind::all().flat_map(move |kind| {
            let patterns: Vec<&str> = match self.kinds.get(kind.name()) {
                Some(set) => set.iter().map(String::as_str).collect(),
                None => kind.spec().patterns.to_vec(),
            };
            patterns.into_iter().map(move |p| (kind, p))
        })
    }
}

/// A `[section]` of the file, for the executables that read only some of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Push,
    Deploy,
    Ledgers,
    Alerts,
    Sync,
    Stats,
}

impl Config {
    /// Loads `.mainstay.toml` from `worktree`, every section validated, or the defaults when there
    /// is none: for `doctor` and `install-hooks --check`, which judge the whole file. It is
    /// committed, so untrusted: only a regular file of at most 1 MiB is read, never a link.
    pub fn load(worktree: &Path) -> Result<Config, Error> {
        match read(worktree)? {
            Some((text, path)) => Config::parse(&text, &path),
            None => Ok(Config::default()),
        }
    }

    /// Loads and validates only `sections`; the others keep their defaults, and a mistake in one
    /// of them stops nothing here. Each executable reads what it uses: a typo in `[stats]` must
    /// not refuse every push.
    pub fn load_only(worktree: &Path, sections: &[Section]) -> Result<Config, Error> {
        match read(worktree)? {
            Some((text, path)) => Config::parse_only(&text, &path, sections),
            None => Ok(Config::default()),
        }
    }

    /// [`Config::load_only`] from `.mainstay.toml` as commit `rev` holds it rather than the work
    /// tree: for the push that lands other agents' parked changes, judged by the policy this
    /// clone had before it carried them ([`crate::policy::CONFIG_FROM_VAR`]).
    pub fn load_only_at(worktree: &Path, rev: &str, sections: &[Section]) -> Result<Config, Error> {
        let path = worktree.join(FILE_NAME);
        let git = crate::git::Git::new(worktree);
        let read_error = |message: String| Error::Read {
            path: path.clone(),
            source: std::io::Error::other(message),
        };
        // As from the work tree: a regular file only, never what a link names.
        let entry = git
            .run(["ls-tree", "-l", "--full-tree", rev, "--", FILE_NAME])
            .map_err(|e| read_error(e.to_string()))?;
        let Some((meta, _)) = entry.split_once('\t') else {
            return Ok(Config::default());
        };
        let (id, size) = match meta.split_whitespace().collect::<Vec<_>>()[..] {
            [mode, "blob", id, size] if mode.starts_with("100") => {
                (id.to_owned(), size.parse().unwrap_or(u64::MAX))
            }
            _ => return Err(read_error("not a regular file (a link?)".to_owned())),
        };
        if size > crate::file::SMALL {
            return Err(read_error(format!(
                "larger than {} bytes",
                crate::file::SMALL
            )));
        }
        let text = git
            .run(["cat-file", "blob", &id])
            .map_err(|e| read_error(e.to_string()))?;
        Config::parse_only(&text, &path, sections)
    }

    /// Parses and validates only `sections` of a configuration file's text; `path` names it in
    /// errors.
    pub fn parse_only(text: &str, path: &Path, sections: &[Section]) -> Result<Config, Error> {
        let path = path.to_owned();
        // Parsed with each value's place in the file, so that a wrong one is located too.
        let table = toml::de::DeTable::parse(text).map_err(|e| Error::Syntax {
            path: path.clone(),
            position: Position::of_error(text, &e),
            message: one_line(e.message()),
        })?;
        let table = table.get_ref();
        let mut config = Config::default();
        for section in sections {
            let invalid = |(key, message)| Error::Invalid {
                path: path.clone(),
                position: None,
                key,
                message,
            };
            match section {
                Section::Push => config.push = part(table, "push", text, &path)?,
                Section::Deploy => config.deploy = part(table, "deploy", text, &path)?,
                Section::Ledgers => config.ledgers = part(table, "ledgers", text, &path)?,
                Section::Alerts => config.alerts = part(table, "alerts", text, &path)?,
                Section::Sync => config.sync = part(table, "sync", text, &path)?,
                Section::Stats => config.stats = part(table, "stats", text, &path)?,
            }
            config.validate_section(*section).map_err(invalid)?;
        }
        Ok(config)
    }

    /// Parses the text of a configuration file; `path` only names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
        let deserializer = toml::Deserializer::parse(text).map_err(|e| Error::Syntax {
            path: path.to_owned(),
            position: Position::of_error(text, &e),
            message: one_line(e.message()),
        })?;
        let config: Config =
            serde_path_to_error::deserialize(deserializer).map_err(|e| Error::Invalid {
                path: path.to_owned(),
                position: Position::of_error(text, e.inner()),
                key: e.path().to_string(),
                message: one_line(e.inner().message()),
            })?;
        for section in [
            Section::Push,
            Section::Deploy,
            Section::Sync,
            Section::Stats,
            Section::Ledgers,
            Section::Alerts,
        ] {
            config
                .validate_section(section)
                .map_err(|(key, message)| Error::Invalid {
                    path: path.to_owned(),
                    position: None,
                    key,
                    message,
                })?;
        }
        Ok(config)
    }

    fn validate_section(&self, section: Section) -> Result<(), (String, String)> {
        match section {
            Section::Push => self.push.validate(),
            Section::Deploy => {
                self.deploy.validate()?;
                crate::deploy::sources::validate(&self.deploy)
            }
            Section::Sync => self.sync.validate(),
            Section::Stats => self.stats.validate(),
            Section::Alerts => Ok(()),
            Section::Ledgers => self.ledgers.validate(),
        }
    }
}

impl Ledgers {
    fn validate(&self) -> Result<(), (String, String)> {
        if let Some(unknown) = self.kinds.keys().find(|k| k.parse::<Kind>().is_err()) {
            return Err((
                format!("ledgers.{unknown}"),
                format!(
                    "not a ledger kind; the kinds are {}",
                    crate::ledger::kind_names()
                ),
            ));
        }
        for (kind, pattern) in self.patterns() {
            if pattern.trim().is_empty() || pattern.contains(char::is_whitespace) {
                return Err((
                    format!("ledgers.{kind}"),
                    format!("pattern {pattern:?} must be one non-empty path glob without spaces"),
                ));
            }
        }
        self.merge.validate()
    }
}

/// The file's text and path; `None` when there is no file.
fn read(worktree: &Path) -> Result<Option<(String, PathBuf)>, Error> {
    let path = worktree.join(FILE_NAME);
    match crate::file::read_text(&path, crate::file::SMALL) {
        Ok(Some(text)) => Ok(Some((text, path))),
        Ok(None) => Ok(None),
        Err(source) => Err(Error::Read { path, source }),
    }
}

/// One section of the file, its errors keyed from the file's top (`stats.target`) and placed.
fn part<T: serde::de::DeserializeOwned + Default>(
    table: &toml::de::DeTable<'_>,
    name: &str,
    text: &str,
    path: &Path,
) -> Result<T, Error> {
    use serde::de::IntoDeserializer;
    let Some((_, value)) = table.iter().find(|(key, _)| key.get_ref() == name) else {
        return Ok(T::default());
    };
    serde_path_to_error::deserialize(value.clone().into_deserializer()).map_err(|e| {
        Error::Invalid {
            path: path.to_owned(),
            position: Position::of_error(text, e.inner()),
            key: format!("{name}.{}", e.path())
                .trim_end_matches(".")
                .to_owned(),
            message: one_line(e.inner().message()),
        }
    })
}

/// True when the kill switch `MAINSTAY=0` is set in the environment.
pub fn disabled() -> bool {
    std::env::var_os(KILL_SWITCH).is_some_and(|v| v == "0")
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, Error> {
        Config::parse(text, Path::new(".mainstay.toml"))
    }

    #[test]
    fn empty_file_gives_defaults() {
        let config = parse("").expect("empty config is valid");
        assert_eq!(config.push.protected, ["main", "staging", "production"]);
        assert_eq!(config.deploy.branch, "main");
    }

    #[test]
    fn unknown_key_names_key_and_file() {
        let err = parse("[push]\nprotectd = [\"main\"]\n").expect_err("typo must be refused");
        let text = err.to_string();
        assert!(
            text.starts_with(".mainstay.toml:2:1: key `push.protectd`"),
            "{text}"
        );
        assert!(text.contains("protectd"), "{text}");
        assert!(!text.contains('\n'), "{text}");
    }

    #[test]
    fn bad_value_names_key() {
        let err = parse("[deploy]\nbranch = 3\n").expect_err("a number is not a branch");
        assert!(err.to_string().contains("key `deploy.branch`"), "{err}");
    }

    #[test]
    fn a_bad_id_pattern_names_its_key() {
        let err = parse("[ledgers.merge]\ntask_id = \"(\"\n").expect_err("unclosed group");
        let text = err.to_string();
        assert!(text.contains("key `ledgers.merge.task_id`"), "{text}");
        assert!(!text.contains('\n'), "{text}");
    }

    #[test]
    fn ledger_kinds_come_from_the_kinds_list() {
        let config = parse("[ledgers]\nmarkdown = [\"docs/DECISIONS.md\"]\n").expect("valid");
        let pairs: Vec<(String, &str)> = config
            .ledgers
            .patterns()
            .map(|(k, p)| (k.name().to_owned(), p))
            .collect();
        assert!(pairs.contains(&("markdown".to_owned(), "docs/DECISIONS.md")));
        assert!(
            pairs.contains(&("roadmap".to_owned(), "**/ROADMAP.md")),
            "defaults kept"
        );
        assert!(!pairs.iter().any(|(_, p)| *p == "CHANGELOG.md"), "replaced");
        let err = parse("[ledgers]\nroadmaps = [\"x.md\"]\n").expect_err("a typo");
        let text = err.to_string();
        assert!(
            text.contains("key `ledgers.roadmaps`") && text.contains("roadmap, sessions, markdown"),
            "{text}"
        );
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let text = "[push]\nprotected = [\"main\"]\n\n[deploy]\nbranch = \"main\n";
        let err = parse(text).expect_err("an unclosed string");
        assert!(err.to_string().starts_with(".mainstay.toml:5:"), "{err}");
        let only = Config::parse_only(text, Path::new(".mainstay.toml"), &[Section::Push])
            .expect_err("the same, for one section");
        assert!(only.to_string().starts_with(".mainstay.toml:5:"), "{only}");
        let err = parse("[push]\n  protected = = 3\n").expect_err("two equals signs");
        assert!(
            err.to_string().starts_with(".mainstay.toml:2:15: "),
            "{err}"
        );
        // A value of the wrong type, read from the whole file, says where too.
        let err = parse("[deploy]\n\nbranch = 3\n").expect_err("a number");
        assert!(
            err.to_string()
                .starts_with(".mainstay.toml:3:10: key `deploy.branch`"),
            "{err}"
        );
        let only = Config::parse_only(
            "[deploy]\n\nbranch = 3\n",
            Path::new(".mainstay.toml"),
            &[Section::Deploy],
        )
        .expect_err("the same, for one section");
        assert!(
            only.to_string()
                .starts_with(".mainstay.toml:3:10: key `deploy.branch`"),
            "{only}"
        );
        assert_eq!(Position::of("é\nab", 4), Position { line: 2, column: 2 });
    }

    #[test]
    fn syntax_error_is_one_line() {
        let err = parse("[push\n").expect_err("broken toml");
        assert!(err.to_string().starts_with(".mainstay.toml:1:6: "), "{err}");
        assert!(!err.to_string().contains('\n'), "{err}");
    }
}
