//! A tiny HTTP/1.1 server on 127.0.0.1 for the sources, readiness and alerts: one thread per
//! connection, one request per connection, answers from a closure. Stops when dropped. It
//! records every request and the status it was answered with, and can answer conditional
//! requests (`etag`, `if-none-match`, `304 Not Modified`) as HTTP APIs do.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// When the request was read.
    pub at: std::time::SystemTime,
    /// The status it was answered with; `None` while unanswered (or hung up on).
    pub answered: Option<u16>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
}

pub enum Reply {
    /// Status, extra headers, body.
    Full(u16, Vec<(&'static str, String)>, String),
    /// Holds the connection open without answering, then closes it.
    Hang(Duration),
    /// A 200 whose head promises `length` bytes, then sends one byte every `every` until the
    /// client hangs up: a server that never quite answers.
    Drip { length: usize, every: Duration },
}

impl Reply {
    pub fn json(status: u16, body: impl Into<String>) -> Reply {
        Reply::Full(status, Vec::new(), body.into())
    }

    /// `body` with an `etag` naming its content, or `304 Not Modified` with no body when the
    /// request's `if-none-match` names that tag.
    pub fn conditional(
        request: &Request,
        status: u16,
        mut headers: Vec<(&'static str, String)>,
        body: String,
    ) -> Reply {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        body.hash(&mut hasher);
        let etag = format!("W/\"{:016x}\"", hasher.finish());
        let unchanged = request
            .header("if-none-match")
            .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag));
        headers.push(("etag", etag));
        if unchanged {
            Reply::Full(304, headers, String::new())
        } else {
            Reply::Full(status, headers, body)
        }
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

pub struct Server {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let (seen, stopped) = (requests.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (handler, seen) = (handler.clone(), seen.clone());
                std::thread::spawn(move || serve(stream, &*handler, &seen));
            }
        });
        Server {
            addr,
            requests,
            stop,
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `http://127.0.0.1:<port>`, as `MAINSTAY_API_HOSTS` names a host a token may be sent to
    /// over plain http (an entry without `http://` gets it over https only).
    pub fn host(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("requests lock").clone()
    }

    /// Requests whose path is `path`.
    pub fn count(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r.path() == path).count()
    }

    /// Requests answered with `status`.
    pub fn answered(&self, status: u16) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.answered == Some(status))
            .count()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(stream: TcpStream, handler: &Handler, seen: &Mutex<Vec<Request>>) {
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
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let request = Request {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        at: std::time::SystemTime::now(),
        answered: None,
    };
    let index = {
        let mut seen = seen.lock().expect("requests lock");
        seen.push(request.clone());
        seen.len() - 1
    };
    let mut stream = stream;
    match handler(&request) {
        Reply::Hang(how_long) => std::thread::sleep(how_long),
        Reply::Drip { length, every } => {
            seen.lock().expect("requests lock")[index].answered = Some(200);
            let head = format!(
                "HTTP/1.1 200 X\r\ncontent-type: application/json\r\ncontent-length: {length}\r\nconnection: close\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes());
            for _ in 0..length {
                std::thread::sleep(every);
                if stream
                    .write_all(b" ")
                    .and_then(|()| stream.flush())
                    .is_err()
                {
                    break;
                }
            }
        }
        Reply::Full(status, extra, body) => {
            seen.lock().expect("requests lock")[index].answered = Some(status);
            let mut head = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            for (name, value) in extra {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
    }
}

/// A loopback address where nothing listens: connections are refused.
pub fn refused_url(path: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{addr}{path}")
}

/// See: issue 23: GitHub answers 301 for a renamed or transferred repository, and the token was
/// dropped on every redirect. It is kept to the same address, and never sent to another.
#[test]
fn a_redirect_keeps_the_token_to_the_same_api_and_drops_it_elsewhere() {
    use mainstay::deploy::http::{Bearer, Client, api_hosts};
    let elsewhere = Server::start(|_| Reply::json(200, "{}"));
    let far = elsewhere.url("/x");
    let api = Server::start(move |r| match r.path() {
        "/repos/old/name" => Reply::Full(
            301,
            vec![("location", "/repositories/1".to_owned())],
            String::new(),
        ),
        "/away" => Reply::Full(302, vec![("location", far.clone())], String::new()),
        _ => Reply::json(200, "{}"),
    });
    let hosts = format!("{},{}", api.host(), elsewhere.host());
    let client = Client::new(Duration::from_secs(2)).trusting(api_hosts(Some(&hosts)));
    let bearer = Bearer {
        token: "s3cret",
        home: "api.github.com",
    };
    let answer = client
        .get(&api.url("/repos/old/name"), Some(bearer))
        .expect("answers");
    assert_eq!(answer.status, 200);
    let followed = api.requests();
    assert_eq!(followed[1].path(), "/repositories/1");
    assert_eq!(followed[1].header("authorization"), Some("Bearer s3cret"));
    let answer = client
        .get(&api.url("/away"), Some(bearer))
        .expect("answers");
    assert_eq!(answer.status, 200);
    assert_eq!(elsewhere.requests().len(), 1);
    assert_eq!(elsewhere.requests()[0].header("authorization"), None);
}
