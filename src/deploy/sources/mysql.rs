//! The shared `deployments` table: the newest row for this sha, read with a parameterised query.
//!
//! The connection comes from `MAINSTAY_DB_URL` or `DB_HOST`/`DB_PORT`/`DB_USER`/`DB_PASS`/
//! `DB_NAME`; TLS is required for hosts other than loopback. The committed `tls` setting can only
//! ask for more (`required`); turning TLS off is the environment's call alone
//! (`MAINSTAY_DB_TLS=disabled`), and is logged as a warning. Without TLS the password never
//! goes out in a form a server can read: the server's RSA key for `caching_sha2_password` is
//! taken only from `MAINSTAY_DB_SERVER_KEY`, never fetched from the server. A lost connection is
//! a passing problem: the next poll connects again. The schedule's history and `mainstay stats`
//! read past rows through [`Source::past`].

use std::time::{Duration, SystemTime};

use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder, SslOpts, Value};
use serde::Deserialize;

use super::kind::{
    Check, Configured, Error, Invalid, Kind, Observation, Past, PastStatus, PollContext, Setup,
    Source, Span,
};
use crate::deploy::files::tail;
use crate::deploy::secrets::{Holds, Secrets, Var};

/// `[deploy.mysql]`, or `MAINSTAY_DB_URL` alone.
pub const KIND: MysqlKind = MysqlKind;

pub struct MysqlKind;

/// `mysql://user:password@host:port/database`: setting it makes the table a source.
pub const URL_VAR: &str = "MAINSTAY_DB_URL";

const VARS: &[Var] = &[
    Var {
        name: URL_VAR,
        holds: Holds::UrlWithPassword,
    },
    Var::setting("DB_HOST"),
    Var::setting("DB_PORT"),
    Var::setting("DB_USER"),
    Var::secret("DB_PASS"),
    Var::setting("DB_NAME"),
    Var::setting(TLS_VAR),
    Var::setting(SERVER_KEY_VAR),
];

impl Kind for MysqlKind {
    fn name(&self) -> &'static str {
        "mysql"
    }

    fn vars(&self) -> &'static [Var] {
        VARS
    }

    fn implied(&self, secrets: &Secrets) -> bool {
        secrets.get(URL_VAR).is_some()
    }

    fn configure(&self, section: &toml::Value) -> Result<Box<dyn Configured>, Invalid> {
        let settings: Settings = super::kind::section(section)?;
        settings.validate()?;
        Ok(Box::new(settings))
    }

    fn absent(&self) -> Vec<Check> {
        vec![Check::skipped(
            "mysql",
            format!("no [deploy.mysql] and no {URL_VAR}"),
        )]
    }
}

/// `[deploy.mysql]` in `.mainstay.toml`: where the rows are and what their words mean.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// `deployments`, or `database.deployments`.
    pub table: String,
    pub columns: Columns,
    pub statuses: Statuses,
    pub tls: Tls,
    /// Lines of `buildLogs` copied to the status log on failure.
    pub log_lines: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Columns {
    pub commit_sha: String,
    pub status: String,
    pub started_at: String,
    pub duration: String,
    pub error_message: String,
    pub build_logs: String,
}

/// The status words that end a deployment; any other word is a phase.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Statuses {
    pub success: Vec<String>,
    pub failed: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    /// Required for every host but loopback.
    Auto,
    Required,
    /// Only from the environment (`MAINSTAY_DB_TLS`): a committed file may not turn TLS off.
    Disabled,
}

/// The environment variable that alone may turn TLS off (or set any other mode).
pub const TLS_VAR: &str = "MAINSTAY_DB_TLS";

/// Where the server's RSA public key is read from, for `caching_sha2_password` without TLS.
pub const SERVER_KEY_VAR: &str = "MAINSTAY_DB_SERVER_KEY";

/// A path that can never be a file (`/dev/null` is no directory): given as the server key when
/// the environment names none, so the driver stops before asking the server for its key.
const NO_SERVER_KEY: &str = "/dev/null/no-server-key";

impl Tls {
    fn parse(word: &str) -> Option<Tls> {
        match word.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Tls::Auto),
            "required" => Some(Tls::Required),
            "disabled" => Some(Tls::Disabled),
            _ => None,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            table: "deployments".to_owned(),
            columns: Columns::default(),
            statuses: Statuses::default(),
            tls: Tls::Auto,
            log_lines: 20,
        }
    }
}

impl Default for Columns {
    fn default() -> Self {
        Columns {
            commit_sha: "commitSha".to_owned(),
            status: "status".to_owned(),
            started_at: "startedAt".to_owned(),
            duration: "duration".to_owned(),
            error_message: "errorMessage".to_owned(),
            build_logs: "buildLogs".to_owned(),
        }
    }
}

impl Default for Statuses {
    fn default() -> Self {
        Statuses {
            success: vec!["success".to_owned()],
            failed: vec!["failed".to_owned()],
        }
    }
}

impl Columns {
    /// Each configured column name with its key under `[deploy.mysql.columns]`.
    pub fn named(&self) -> [(&'static str, &str); 6] {
        [
            ("commit_sha", &self.commit_sha),
            ("status", &self.status),
            ("started_at", &self.started_at),
            ("duration", &self.duration),
            ("error_message", &self.error_message),
            ("build_logs", &self.build_logs),
        ]
    }
}

impl Settings {
    /// `?, ?` for an `IN` of the success statuses, and the statuses to bind to them.
    fn success_marks(&self) -> (String, Vec<Value>) {
        let words = &self.statuses.success;
        let marks = vec!["?"; words.len()].join(", ");
        (
            marks,
            words.iter().map(|w| Value::from(w.as_str())).collect(),
        )
    }

    fn validate(&self) -> Result<(), Invalid> {
        let columns = self
            .columns
            .named()
            .map(|(key, name)| (format!("columns.{key}"), name));
        let names = std::iter::once(("table".to_owned(), self.table.as_str())).chain(columns);
        for (key, name) in names {
            if quote(name).is_none() {
                return Err((
                    key,
                    format!("{name:?} must be a plain SQL name (letters, digits, _)"),
                ));
            }
        }
        if self.tls == Tls::Disabled {
            return Err((
                "tls".to_owned(),
                format!(
                    "\"disabled\" is refused in a committed file; only the environment may turn \
                     TLS off ({TLS_VAR}=disabled)"
                ),
            ));
        }
        if self.statuses.success.is_empty() || self.statuses.failed.is_empty() {
            return Err((
                "statuses".to_owned(),
                "needs success and failed words".to_owned(),
            ));
        }
        Ok(())
    }
}

/// `name` or `db.name` as backquoted identifiers; `None` for anything but plain names, which is
/// what keeps configured names from ever being SQL.
fn quote(name: &str) -> Option<String> {
    let plain = |part: &str| {
        !part.is_empty()
            && !part.starts_with(|c: char| c.is_ascii_digit())
            && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    let parts: Vec<&str> = name.split('.').collect();
    (parts.len() <= 2 && parts.iter().all(|p| plain(p))).then(|| {
        parts
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(".")
    })
}

/// What the database holds where the settings point, as `mainstay doctor` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schema {
    /// No such table; `database` is where it was looked for (`None`: the connection names none).
    NoTable { database: Option<String> },
    /// The table exists; these configured columns are not in it, as (key, name).
    Table {
        missing: Vec<(&'static str, String)>,
    },
}

pub struct Mysql {
    settings: Settings,
    opts: Opts,
    /// `host:port`, for messages.
    target: String,
    secrets: Secrets,
    conn: Option<Conn>,
    warning: Option<String>,
    /// Whether a later deployed commit contains the followed one; not asked by `doctor`.
    through: Option<super::newer::Through>,
}

impl Mysql {
    /// Prepares the connection options; connects on the first poll. `timeout` bounds connecting
    /// and each read and write.
    pub fn new(settings: Settings, secrets: &Secrets, timeout: Duration) -> Result<Mysql, Error> {
        let var = |name: &str| secrets.get(name).map(str::to_owned);
        let base = if let Some(url) = secrets.get(URL_VAR) {
            let opts = Opts::from_url(url).map_err(|e| {
                Error::Fatal(format!(
                    "mysql: MAINSTAY_DB_URL is not a mysql:// URL: {}",
                    secrets.scrub(&e.to_string())
                ))
            })?;
            OptsBuilder::from_opts(opts)
        } else if let Some(host) = var("DB_HOST") {
            let port = match var("DB_PORT") {
                Some(p) => p
                    .parse()
                    .map_err(|_| Error::Fatal(format!("mysql: DB_PORT {p:?} is not a port")))?,
                None => 3306,
            };
            OptsBuilder::new()
                .ip_or_hostname(Some(host))
                .tcp_port(port)
                .user(var("DB_USER"))
                .pass(var("DB_PASS"))
                .db_name(var("DB_NAME"))
        } else {
            return Err(Error::Fatal(
                "mysql: no connection: set MAINSTAY_DB_URL or DB_HOST, DB_PORT, DB_USER, DB_PASS and DB_NAME".to_owned(),
            ));
        };
        let base = base
            .tcp_connect_timeout(Some(timeout))
            .read_timeout(Some(timeout))
            .write_timeout(Some(timeout))
            // Never switch to a local socket behind the configured address.
            .prefer_socket(false)
            .stmt_cache_size(Some(4));
        let probe: Opts = base.clone().into();
        let host = probe.get_ip_or_hostname().to_string();
        let target = format!("{host}:{}", probe.get_tcp_port());
        let tls = match secrets.get(TLS_VAR) {
            None => settings.tls,
            Some(word) => Tls::parse(word).ok_or_else(|| {
                Error::Fatal(format!(
                    "mysql: {TLS_VAR}={word:?} is not auto, required or disabled"
                ))
            })?,
        };
        let encrypted = tls.wanted(&host);
        let server_key = match secrets.get(SERVER_KEY_VAR) {
            Some(path) => std::path::PathBuf::from(path),
            None => std::path::PathBuf::from(NO_SERVER_KEY),
        };
        let opts = base
            .ssl_opts(encrypted.then(SslOpts::default))
            .server_key_path((!encrypted).then_some(server_key))
            .into();
        let warning = (tls == Tls::Disabled).then(|| {
            format!(
                "mysql {target}: warning: TLS is off ({TLS_VAR}=disabled); the password is never \
                 sent in clear, but queries and answers are"
            )
        });
        Ok(Mysql {
            through: None,
            settings,
            opts,
            target,
            secrets: secrets.clone(),
            conn: None,
            warning,
        })
    }

    /// `host:port` of the database, for messages.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Connects and looks the table and its configured columns up in `information_schema`.
    pub fn schema(&mut self) -> Result<Schema, Error> {
        let (database, table) = match self.settings.table.split_once('.') {
            Some((database, table)) => (Some(database.to_owned()), table.to_owned()),
            None => (None, self.settings.table.clone()),
        };
        let sql = "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
                   WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?";
        let rows = self.query(sql, vec![Value::from(database.clone()), Value::from(table)])?;
        let have: Vec<String> = rows
            .into_iter()
            .filter_map(|mut row| text(&mut row, 0))
            .collect();
        if have.is_empty() {
            let database = match database {
                Some(name) => Some(name),
                None => self
                    .query("SELECT DATABASE()", Vec::new())?
                    .into_iter()
                    .next()
                    .and_then(|mut row| text(&mut row, 0)),
            };
            return Ok(Schema::NoTable { database });
        }
        // Column names are case-insensitive in MySQL.
        let missing = self
            .settings
            .columns
            .named()
            .into_iter()
            .filter(|(_, name)| !have.iter().any(|h| h.eq_ignore_ascii_case(name)))
            .map(|(key, name)| (key, name.to_owned()))
            .collect();
        Ok(Schema::Table { missing })
    }

    fn problem(&self, doing: &str, error: &mysql::Error) -> Error {
        let message = self.secrets.scrub(&error.to_string());
        Error::Transient(format!("mysql {}: {doing}: {message}", self.target))
    }

    fn connection(&mut self) -> Result<&mut Conn, Error> {
        if self.conn.is_none() {
            let conn = Conn::new(self.opts.clone()).map_err(|e| match e {
                // Asking again will not make the server offer TLS.
                mysql::Error::DriverError(mysql::DriverError::TlsNotSupported) => {
                    Error::Fatal(format!(
                        "mysql {}: the server does not offer TLS, which is required for hosts \
                         other than loopback; on a trusted network only, turn it off in the \
                         environment ({TLS_VAR}=disabled)",
                        self.target
                    ))
                }
                // Full `caching_sha2_password` authentication without TLS needs the server's key,
                // which is never fetched from the server.
                mysql::Error::IoError(e)
                    if self.opts.get_ssl_opts().is_none()
                        && matches!(e.raw_os_error(), Some(libc::ENOTDIR) | Some(libc::ENOENT)) =>
                {
                    Error::Fatal(format!(
                        "mysql {}: the server asks for full caching_sha2_password authentication, \
                         which without TLS needs its RSA public key: set {SERVER_KEY_VAR} to the \
                         key's PEM file ({}), or connect with TLS; mainstay never asks the server \
                         for its key over a plain connection",
                        self.target,
                        self.opts
                            .get_server_key_path()
                            .map_or_else(String::new, |p| {
                                if p == std::path::Path::new(NO_SERVER_KEY) {
                                    "none is set".to_owned()
                                } else {
                                    format!("{} cannot be read: {e}", p.display())
                                }
                            })
                    ))
                }
                e => self.problem("cannot connect", &e),
            })?;
            self.conn = Some(conn);
        }
        Ok(self.conn.as_mut().expect("connected just above"))
    }

    /// Runs one query; a failed query drops the connection so the next poll starts afresh.
    fn query(&mut self, sql: &str, params: Vec<Value>) -> Result<Vec<mysql::Row>, Error> {
        let result = self.connection()?.exec(sql, params);
        result.map_err(|e| {
            self.conn = None;
            self.problem("query failed", &e)
        })
    }
}

impl Mysql {
    /// Live through the newest successful row, when its commit is another that contains `sha`.
    fn live_through(
        &mut self,
        sha: &str,
        cx: &PollContext<'_>,
    ) -> Result<Option<Observation>, Error> {
        if self.through.is_none() {
            return Ok(None);
        }
        let c = &self.settings.columns;
        let q = |name: &str| quote(name).expect("names are validated with the settings");
        let (marks, params) = self.settings.success_marks();
        let sql = format!(
            "SELECT {} FROM {} WHERE {} IN ({marks}) ORDER BY {} DESC LIMIT 1",
            q(&c.commit_sha),
            q(&self.settings.table),
            q(&c.status),
            q(&c.started_at),
        );
        let rows = self.query(&sql, params)?;
        let Some(later) = rows.into_iter().next().and_then(|mut r| text(&mut r, 0)) else {
            return Ok(None);
        };
        let later = later.trim().to_ascii_lowercase();
        let through = self.through.as_mut().expect("checked above");
        if super::same_commit(&later, sha) || !through.contains(sha, &later, cx) {
            return Ok(None);
        }
        let shown: String = later.chars().take(12).collect();
        Ok(Some(Observation::LiveThrough {
            details: vec![format!(
                "the newest successful row is for {shown}, which contains this commit"
            )],
            commit: later,
        }))
    }

    /// The rows `span` asks for, newest first: the 20 newest successful ones with a duration for
    /// the schedule, or every one started at or after a time for `stats`. Rows whose start cannot
    /// be read are left out: they belong to no day.
    fn rows(&mut self, span: Span) -> Result<Vec<Past>, Error> {
        let c = &self.settings.columns;
        let q = |name: &str| quote(name).expect("names are validated with the settings");
        let columns = format!(
            "{}, {}, {}, {}, {}",
            q(&c.commit_sha),
            q(&c.status),
            q(&c.started_at),
            q(&c.duration),
            q(&c.error_message),
        );
        let (filter, params, limit) = match span {
            Span::Recent => {
                let (marks, params) = self.settings.success_marks();
                let filter = format!("{} IN ({marks}) AND {} > 0", q(&c.status), q(&c.duration));
                (filter, params, " LIMIT 20")
            }
            Span::Since(since) => {
                let ((year, month, day), (hour, minute, second), micros) =
                    crate::time::to_civil(since);
                let since = Value::Date(
                    u16::try_from(year).unwrap_or(u16::MAX),
                    month as u8,
                    day as u8,
                    hour as u8,
                    minute as u8,
                    second as u8,
                    micros,
                );
                (format!("{} >= ?", q(&c.started_at)), vec![since], "")
            }
        };
        let sql = format!(
            "SELECT {columns} FROM {} WHERE {filter} ORDER BY {} DESC{limit}",
            q(&self.settings.table),
            q(&c.started_at),
        );
        let rows = self.query(&sql, params)?;
        let statuses = &self.settings.statuses;
        Ok(rows
            .into_iter()
            .filter_map(|mut row| {
                let started_at = instant(row.take::<Value, usize>(2)?)?;
                let status = text(&mut row, 1).unwrap_or_default();
                let status = if statuses.success.contains(&status) {
                    PastStatus::Success
                } else if statuses.failed.contains(&status) {
                    PastStatus::Failed(status)
                } else {
                    PastStatus::Pending(status)
                };
                let duration = text(&mut row, 3)
                    .and_then(|d| d.parse::<f64>().ok())
                    .filter(|secs| secs.is_finite() && *secs >= 0.0)
                    .map(Duration::from_secs_f64);
                let error_message = text(&mut row, 4).and_then(|m| {
                    let first = m.lines().map(str::trim).find(|l| !l.is_empty());
                    first.map(str::to_owned)
                });
                Some(Past {
                    sha: text(&mut row, 0)?.trim().to_ascii_lowercase(),
                    status,
                    started_at,
                    duration,
                    error_message: error_message.map(|m| self.secrets.scrub(&m)),
                })
            })
            .collect())
    }
}

/// A `DATETIME`/`TIMESTAMP` cell (or text holding one) as an instant, read as UTC.
fn instant(value: Value) -> Option<SystemTime> {
    match value {
        Value::Date(year, month, day, hour, minute, second, micros) => crate::time::from_civil(
            (year.into(), month.into(), day.into()),
            (hour.into(), minute.into(), second.into()),
            micros,
        ),
        Value::Bytes(bytes) => crate::time::parse(std::str::from_utf8(&bytes).ok()?),
        _ => None,
    }
}

impl Tls {
    /// Whether a connection to `host` must use TLS.
    fn wanted(self, host: &str) -> bool {
        match self {
            Tls::Auto => !is_loopback(host),
            Tls::Required => true,
            Tls::Disabled => false,
        }
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            // `::ffff:127.0.0.1` is loopback too.
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// A cell as text; `None` for NULL and for types no status column holds.
fn text(row: &mut mysql::Row, index: usize) -> Option<String> {
    match row.take::<Value, usize>(index)? {
        Value::Bytes(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Value::Int(n) => Some(n.to_string()),
        Value::UInt(n) => Some(n.to_string()),
        Value::Double(x) => Some(x.to_string()),
        Value::Float(x) => Some(x.to_string()),
        _ => None,
    }
}

impl Source for Mysql {
    fn name(&self) -> &'static str {
        KIND.name()
    }

    fn poll(&mut self, sha: &str, cx: &PollContext<'_>) -> Result<Observation, Error> {
        // Validated again here: this value goes into a query, parameterised or not.
        if crate::deploy::validate_sha(sha).is_err() {
            return Err(Error::Fatal(format!("mysql: {sha:?} is not a commit id")));
        }
        let c = &self.settings.columns;
        let q = |name: &str| quote(name).expect("names are validated with the settings");
        let sql = format!(
            "SELECT {}, {}, {} FROM {} WHERE {} = ? ORDER BY {} DESC LIMIT 1",
            q(&c.status),
            q(&c.error_message),
            q(&c.build_logs),
            q(&self.settings.table),
            q(&c.commit_sha),
            q(&c.started_at),
        );
        let rows = self.query(&sql, vec![Value::from(sha.to_ascii_lowercase())])?;
        let Some(mut row) = rows.into_iter().next() else {
            return Ok(self
                .live_through(sha, cx)?
                .unwrap_or_else(|| Observation::Unseen("no row yet".to_owned())));
        };
        let status = text(&mut row, 0).unwrap_or_default();
        let statuses = &self.settings.statuses;
        if statuses.success.contains(&status) {
            return Ok(Observation::live());
        }
        if !statuses.failed.contains(&status) {
            // A later deployment that contains this one went live before this one's did.
            return Ok(self
                .live_through(sha, cx)?
                .unwrap_or(Observation::Pending(status)));
        }
        let error_message = text(&mut row, 1).filter(|m| !m.trim().is_empty());
        let mut details = Vec::new();
        if let Some(message) = &error_message {
            details.push(format!("errorMessage: {}", message.trim()));
        }
        if let Some(logs) = text(&mut row, 2) {
            let lines = tail(&logs, self.settings.log_lines);
            if !lines.is_empty() {
                details.push(format!("buildLogs, last {} lines:", lines.len()));
                details.extend(lines.iter().map(|l| format!("  {l}")));
            }
        }
        let reason = error_message.unwrap_or_else(|| format!("status {status}"));
        Ok(Observation::Failed { reason, details })
    }

    fn past(&mut self, span: Span, _cx: &PollContext<'_>) -> Result<Vec<Past>, Error> {
        self.rows(span)
    }

    fn warning(&self) -> Option<String> {
        self.warning.clone()
    }
}

impl Configured for Settings {
    fn name(&self) -> &'static str {
        KIND.name()
    }

    fn open(&self, setup: &Setup<'_>) -> Result<Box<dyn Source>, Error> {
        let mut source = Mysql::new(self.clone(), setup.secrets, setup.timeout)?;
        source.through = Some(super::newer::Through::new(setup));
        Ok(Box::new(source))
    }

    fn doctor(&self, setup: &Setup<'_>) -> Vec<Check> {
        vec![database(self, setup.secrets, setup.timeout)]
    }

    fn keeps_history(&self) -> bool {
        true
    }
}

/// The database connects and holds the table with every configured column.
fn database(settings: &Settings, secrets: &Secrets, timeout: Duration) -> Check {
    const NAME: &str = "mysql";
    let table = settings.table.clone();
    let mut source = match Mysql::new(settings.clone(), secrets, timeout) {
        Ok(source) => source,
        Err(e) => {
            return Check::problem(
                NAME,
                e.to_string(),
                "set MAINSTAY_DB_URL=mysql://user:password@host:port/database \
                 (or DB_HOST, DB_PORT, DB_USER, DB_PASS and DB_NAME)",
            );
        }
    };
    let target = source.target().to_owned();
    match source.schema() {
        Ok(Schema::Table { missing }) if missing.is_empty() => Check::ok(
            NAME,
            format!("{target}: table `{table}` has every configured column"),
        ),
        Ok(Schema::Table { missing }) => {
            let names: Vec<String> = missing.iter().map(|(_, n)| format!("`{n}`")).collect();
            let keys: Vec<&str> = missing.iter().map(|(k, _)| *k).collect();
            Check::problem(
                NAME,
                format!(
                    "{target}: table `{table}` has no column {}",
                    names.join(", ")
                ),
                format!(
                    "add the column, or set {} under [deploy.mysql.columns] to the name the table uses",
                    keys.join(", ")
                ),
            )
        }
        Ok(Schema::NoTable { database }) => {
            let place = match database {
                Some(db) => format!("in database `{db}`"),
                None => "(the connection names no database)".to_owned(),
            };
            Check::problem(
                NAME,
                format!("{target}: no table `{table}` {place}"),
                "create the table, or set table in [deploy.mysql] (`database.table` names the \
                 database too)",
            )
        }
        Err(e) => Check::problem(
            NAME,
            e.to_string(),
            "start the database, or correct the host, port, user and password in \
             MAINSTAY_DB_URL (or DB_HOST, DB_PORT, DB_USER, DB_PASS)",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_are_quoted() {
        assert_eq!(quote("deployments").as_deref(), Some("`deployments`"));
        assert_eq!(
            quote("ops.deployments").as_deref(),
            Some("`ops`.`deployments`")
        );
        for bad in ["", "a b", "x`y", "a;drop", "1abc", "a.b.c", "a."] {
            assert_eq!(quote(bad), None, "{bad}");
        }
    }

    #[test]
    fn tls_is_skipped_only_for_loopback() {
        assert!(is_loopback("127.0.0.1") && is_loopback("localhost") && is_loopback("::1"));
        assert!(!is_loopback("db.internal") && !is_loopback("10.0.0.5"));
        assert!(Tls::Auto.wanted("db.internal") && !Tls::Auto.wanted("127.0.0.1"));
        assert!(Tls::Required.wanted("localhost") && !Tls::Disabled.wanted("db.internal"));
        assert!(is_loopback("::ffff:127.0.0.1") && !is_loopback("::ffff:10.0.0.5"));
        assert!(Settings::default().tls == Tls::Auto);
    }
}
