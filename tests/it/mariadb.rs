//! A real MariaDB server for the tests, started once from the installed binaries on a temporary
//! data directory and a free loopback port.
//!
//! The server runs under a shell watchdog that reads its stdin, a pipe whose write end only this
//! test process holds: when the process ends, however it ends, the pipe closes and the watchdog
//! kills the server. Nothing outlives the test binary. A test that kills the database itself
//! gets a server of its own ([`MariaDb::own`]), which it can kill and start again.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use mysql::prelude::Queryable;

/// The user the monitor connects as; its password is checked to stay out of every file.
pub const USER: &str = "deploy";
pub const PASSWORD: &str = "pw-Secret-4xq";

pub struct MariaDb {
    pub port: u16,
    data: PathBuf,
    /// One watchdog per start of the server. Each one's stdin closes when the test process
    /// exits, or when an own server is dropped: the watchdog then kills its server.
    watchdogs: Mutex<Vec<Child>>,
}

static SERVER: OnceLock<MariaDb> = OnceLock::new();
static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// The shared server, started on first use.
pub fn server() -> &'static MariaDb {
    SERVER.get_or_init(MariaDb::start)
}

fn find(names: &[&str]) -> PathBuf {
    for name in names {
        for dir in ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"] {
            let path = Path::new(dir).join(name);
            if path.is_file() {
                return path;
            }
        }
    }
    panic!("none of {names:?} is installed: install mariadb-server (tests/run.sh does)")
}

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

fn as_user() -> &'static [&'static str] {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if is_root { &["--user=root"] } else { &[] }
}

impl MariaDb {
    /// A server for one test alone, dropped with it.
    pub fn own() -> MariaDb {
        MariaDb::start()
    }

    fn start() -> MariaDb {
        let data = tempfile::Builder::new()
            .prefix("mainstay-mariadb-")
            .tempdir()
            .expect("temp dir for MariaDB")
            .keep();
        let dir = data.as_path();
        let install = Command::new(find(&["mariadb-install-db", "mysql_install_db"]))
            .arg("--no-defaults")
            .arg(format!("--datadir={}", dir.join("data").display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
            .args(as_user())
            .output()
            .expect("run mariadb-install-db");
        assert!(
            install.status.success(),
            "mariadb-install-db: {}",
            String::from_utf8_lossy(&install.stderr)
        );
        let server = MariaDb {
            port: free_port(),
            data: data.clone(),
            watchdogs: Mutex::new(Vec::new()),
        };
        let mut root = server.launch();
        root.query_drop(format!(
            "CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}'; GRANT ALL ON *.* TO '{USER}'@'%'"
        ))
        .expect("create the deploy user");
        server
    }

    /// Starts mariadbd on the data directory and port under a new watchdog; a root connection
    /// once it answers.
    fn launch(&self) -> mysql::Conn {
        let dir = self.data.as_path();
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(r#""$@" & server=$!; read _; kill -9 "$server"; wait; rm -rf "$DATA_DIR""#)
            .arg("watchdog")
            .arg(find(&["mariadbd", "mysqld"]))
            .arg("--no-defaults")
            .arg(format!("--datadir={}", dir.join("data").display()))
            .arg(format!("--socket={}", dir.join("sock").display()))
            .arg(format!("--pid-file={}", dir.join("pid").display()))
            .arg(format!("--log-error={}", dir.join("error.log").display()))
            .arg(format!("--port={}", self.port))
            .args(["--bind-address=127.0.0.1", "--skip-log-bin"])
            .args(["--innodb-buffer-pool-size=16M", "--performance-schema=OFF"])
            .args(as_user())
            // Statics are never dropped: the watchdog removes the data directory itself.
            .env("DATA_DIR", dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mariadbd under its watchdog");
        self.watchdogs.lock().expect("watchdogs").push(watchdog);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match mysql::Conn::new(self.opts("root", "", None)) {
                Ok(conn) => return conn,
                Err(e) => {
                    let log = std::fs::read_to_string(self.data.join("error.log"));
                    assert!(
                        Instant::now() < deadline,
                        "MariaDB did not start: {e}\n{log:?}"
                    );
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    /// SIGKILL to mariadbd, as a crash would end it; returns once its port refuses connections.
    pub fn kill(&self) {
        let pid = std::fs::read_to_string(self.data.join("pid")).expect("mariadbd's pid file");
        let status = Command::new("kill")
            .args(["-9", pid.trim()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -9 {pid}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(Instant::now() < deadline, "mariadbd did not die");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Starts mariadbd again on the same data and port, after [`MariaDb::kill`]: it recovers
    /// what was committed.
    pub fn restart(&self) {
        self.launch();
    }

    fn opts(&self, user: &str, password: &str, db: Option<&str>) -> mysql::Opts {
        mysql::OptsBuilder::new()
            .ip_or_hostname(Some("127.0.0.1"))
            .tcp_port(self.port)
            .user(Some(user))
            .pass(Some(password))
            .db_name(db)
            .prefer_socket(false)
            .into()
    }

    /// A fresh database with a `deployments` table in the schema in use; its name.
    pub fn database(&self) -> String {
        let name = format!("deploys_{}", DATABASES.fetch_add(1, Ordering::SeqCst));
        let mut conn = mysql::Conn::new(self.opts(USER, PASSWORD, None)).expect("connect");
        conn.query_drop(format!(
            "CREATE DATABASE {name}; USE {name}; CREATE TABLE deployments (
                id INT AUTO_INCREMENT PRIMARY KEY,
                commitSha VARCHAR(40) NOT NULL,
                status VARCHAR(50) NOT NULL,
                startedAt DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
                completedAt DATETIME NULL,
                duration INT NULL,
                doDeploymentId VARCHAR(64) NULL,
                buildLogs TEXT NULL,
                deploymentUrl VARCHAR(255) NULL,
                errorMessage TEXT NULL)"
        ))
        .expect("create the deployments table");
        name
    }

    /// Runs statements in `db`.
    pub fn exec(&self, db: &str, sql: &str, params: Vec<mysql::Value>) {
        let mut conn = mysql::Conn::new(self.opts(USER, PASSWORD, Some(db))).expect("connect");
        conn.exec_drop(sql, params).expect("statement");
    }

    pub fn count(&self, db: &str, sql: &str) -> u64 {
        let mut conn = mysql::Conn::new(self.opts(USER, PASSWORD, Some(db))).expect("connect");
        conn.query_first(sql).expect("query").unwrap_or(0)
    }

    /// The URL the monitor gets in `MAINSTAY_DB_URL`, to this server or to `port`.
    pub fn url(&self, db: &str, port: u16) -> String {
        format!("mysql://{USER}:{PASSWORD}@127.0.0.1:{port}/{db}")
    }
}

impl Drop for MariaDb {
    /// Only own servers are dropped: closing each watchdog's stdin kills its server and removes
    /// the data directory.
    fn drop(&mut self) {
        for mut watchdog in self.watchdogs.lock().expect("watchdogs").drain(..) {
            drop(watchdog.stdin.take());
            let _ = watchdog.wait();
        }
    }
}

/// A TCP relay to the server that can be cut and restored: the database going away mid-run, as
/// its clients see it (connections reset, new ones refused).
pub struct Relay {
    pub port: u16,
    target: u16,
    up: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    /// A relay on a free port, not yet listening: the database is down.
    pub fn down(target: u16) -> Relay {
        Relay {
            port: free_port(),
            target,
            up: Arc::new(AtomicBool::new(false)),
            connections: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub fn start(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).expect("bind the relay port");
        self.up.store(true, Ordering::SeqCst);
        let (up, connections, target) = (self.up.clone(), self.connections.clone(), self.target);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if !up.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let mut all = connections.lock().expect("connections");
                all.push(client.try_clone().expect("clone"));
                all.push(server.try_clone().expect("clone"));
                pipe(
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                pipe(server, client);
            }
        });
    }

    /// Cuts every connection and stops listening.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        for stream in self.connections.lock().expect("connections").drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        // The listener closes when the accept loop sees the flag; wait for the port to refuse.
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(Instant::now() < deadline, "the relay did not stop");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if self.up.load(Ordering::SeqCst) {
            self.cut();
        }
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buf = [0; 16 * 1024];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 || to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}
