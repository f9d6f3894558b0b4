//! git's smart HTTP on 127.0.0.1: a small web server that hands each request to the real
//! `git http-backend` (CGI), for pushes and fetches over `http://` URLs. Stops when dropped.
//!
//! As a web server in front of `git http-backend` is set up to, it asks a push for HTTP Basic
//! credentials (`401`, git then sends those of the URL) and hands the authenticated user to the
//! backend, and so to the hooks, as `REMOTE_USER`; fetches are anonymous. Any password passes:
//! checking one is the web server's business, not what is tested here.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Decides, from the path and query of a request, whether to refuse it with this status.
type Refuse = dyn Fn(&str) -> Option<u16> + Send + Sync;

pub struct GitHttp {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl GitHttp {
    /// Serves the bare repositories under `root`, running `git http-backend` with `env` (the
    /// sandbox's `HOME` and the like) and nothing of the outer environment's git settings;
    /// answers `refuse`'s status instead where it says so.
    pub fn refusing(
        root: &Path,
        env: Vec<(String, String)>,
        refuse: impl Fn(&str) -> Option<u16> + Send + Sync + 'static,
    ) -> GitHttp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let root = root.to_owned();
        let env = Arc::new(env);
        let refuse: Arc<Refuse> = Arc::new(refuse);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (root, env, refuse) = (root.clone(), env.clone(), refuse.clone());
                std::thread::spawn(move || serve(stream, &root, &env, &*refuse));
            }
        });
        GitHttp { addr, stop }
    }

    /// A URL of a served repository with a user and password in it, as people paste them; the
    /// user is who a push authenticates as.
    pub fn url_with_password(&self, user: &str, password: &str, repo: &str) -> String {
        format!("http://{user}:{password}@{}/{repo}", self.addr)
    }
}

impl Drop for GitHttp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(stream: TcpStream, root: &Path, env: &[(String, String)], refuse: &Refuse) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        read_chunked(&mut reader)
    } else {
        let length = header("content-length")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        let _ = reader.read_exact(&mut body);
        body
    };
    let mut stream = stream;
    let user = header("authorization").and_then(|v| basic_user(&v));
    if target.contains("git-receive-pack") && user.is_none() {
        let _ = write!(
            stream,
            "HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Basic realm=\"git\"\r\n\
             content-length: 0\r\nconnection: close\r\n\r\n"
        );
        return;
    }
    if let Some(status) = refuse(&target) {
        let _ = write!(
            stream,
            "HTTP/1.1 {status} Refused\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        );
        return;
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut cmd = Command::new("git");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GIT_") {
            cmd.env_remove(&key);
        }
    }
    cmd.arg("http-backend")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("REQUEST_METHOD", &method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(user) = &user {
        cmd.env("REMOTE_USER", user);
    }
    if let Some(kind) = header("content-type") {
        cmd.env("CONTENT_TYPE", kind);
    }
    if let Some(encoding) = header("content-encoding") {
        cmd.env("HTTP_CONTENT_ENCODING", encoding);
    }
    if let Some(protocol) = header("git-protocol") {
        cmd.env("GIT_PROTOCOL", protocol);
    }
    let mut child = cmd.spawn().expect("start git http-backend");
    let mut stdin = child.stdin.take().expect("stdin");
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let mut output = Vec::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_end(&mut output)
        .expect("read the backend's answer");
    let _ = child.wait();
    let _ = feeder.join();
    let split = output
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| output.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let (head, rest) = match split {
        Some((i, n)) => (
            String::from_utf8_lossy(&output[..i]).into_owned(),
            &output[i + n..],
        ),
        None => (String::new(), &output[..]),
    };
    let mut status = "200 OK".to_owned();
    let mut reply = String::new();
    for line in head.lines() {
        match line.split_once(':') {
            Some((name, value)) if name.eq_ignore_ascii_case("status") => {
                status = value.trim().to_owned();
            }
            Some(_) => reply.push_str(&format!("{line}\r\n")),
            None => {}
        }
    }
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\n{reply}content-length: {}\r\nconnection: close\r\n\r\n",
        rest.len()
    );
    let _ = stream.write_all(rest);
}

/// The user of an `Authorization: Basic <base64 user:password>` header.
fn basic_user(value: &str) -> Option<String> {
    let encoded = value.strip_prefix("Basic ")?.trim();
    let mut bits = 0u32;
    let mut count = 0;
    let mut decoded = Vec::new();
    for c in encoded.bytes().take_while(|&c| c != b'=') {
        let sextet = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(sextet);
        count += 6;
        if count >= 8 {
            count -= 8;
            decoded.push((bits >> count) as u8);
        }
    }
    let text = String::from_utf8(decoded).ok()?;
    let (user, _password) = text.split_once(':')?;
    (!user.is_empty()).then(|| user.to_owned())
}

fn read_chunked(reader: &mut impl BufRead) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        if reader.read_line(&mut size).unwrap_or(0) == 0 {
            break;
        }
        let size =
            usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
        if size == 0 {
            let mut end = String::new();
            let _ = reader.read_line(&mut end);
            break;
        }
        let mut chunk = vec![0; size + 2];
        if reader.read_exact(&mut chunk).is_err() {
            break;
        }
        body.extend_from_slice(&chunk[..size]);
    }
    body
}

/// The directory the served repositories live in, for [`GitHttp::start`].
pub fn root_of(bare: &Path) -> PathBuf {
    bare.parent()
        .expect("a bare repository in a directory")
        .to_owned()
}
