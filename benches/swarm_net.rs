//! The network under the swarm benchmark: `git daemon` serving the remote, a relay that delays
//! every connection and every chunk it forwards (this kernel has no `netem`), and the network
//! namespaces of the many-machines run, which `benches/swarm-netns.sh` creates and removes.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Network latency: a round trip, and up to `jitter` more on each leg.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    pub rtt: Duration,
    pub jitter: Duration,
}

/// A small xorshift generator: jitter only, seeded per connection.
struct Rng(u64);

impl Rng {
    fn up_to(&mut self, max: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        max.mul_f64((self.0 >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// Accepts on `listener` forever; each connection waits a round trip (the handshake) before it
/// is connected to `target`, and each chunk is delivered half a round trip (plus jitter) after
/// it was read, in order.
pub fn relay(listener: TcpListener, target: String, latency: Latency) {
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for client in listener.incoming() {
        let Ok(client) = client else { continue };
        seed = seed.wrapping_add(0x2545_f491_4f6c_dd1d);
        let target = target.clone();
        std::thread::spawn(move || {
            let mut rng = Rng(seed | 1);
            std::thread::sleep(latency.rtt + rng.up_to(latency.jitter));
            let Ok(server) = TcpStream::connect(&target) else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (c2, s2) = (client.try_clone(), server.try_clone());
            let (Ok(c2), Ok(s2)) = (c2, s2) else { return };
            let up = std::thread::spawn(move || pipe(client, server, latency, Rng(seed ^ 7 | 1)));
            pipe(s2, c2, latency, rng);
            let _ = up.join();
        });
    }
}

/// Copies `from` to `to`, each chunk delayed by half a round trip plus jitter, never reordered.
fn pipe(mut from: TcpStream, mut to: TcpStream, latency: Latency, mut rng: Rng) {
    let (send, receive) = mpsc::channel::<(Instant, Vec<u8>)>();
    let writer = std::thread::spawn(move || {
        for (due, chunk) in receive {
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if to.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
    let mut last = Instant::now();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let due = (Instant::now() + latency.rtt / 2 + rng.up_to(latency.jitter)).max(last);
        last = due;
        if send.send((due, buf[..n].to_vec())).is_err() {
            break;
        }
    }
    drop(send);
    let _ = writer.join();
}

/// `git daemon` serving every repository under `base`, pushes allowed, on `listen:port`, run
/// through `wrap` (a network namespace) when given.
pub fn daemon(base: &Path, listen: &str, port: u16, wrap: Option<&str>) -> Child {
    let mut args: Vec<String> = Vec::new();
    if let Some(ns) = wrap {
        args.extend(["ip", "netns", "exec", ns].map(str::to_owned));
    }
    // The daemon itself, not the `git` wrapper, which would leave it running when killed.
    let exec_path = Command::new("git")
        .arg("--exec-path")
        .output()
        .expect("git --exec-path");
    let exec_path = String::from_utf8_lossy(&exec_path.stdout).trim().to_owned();
    args.push(format!("{exec_path}/git-daemon"));
    args.extend(
        [
            "--reuseaddr",
            "--export-all",
            "--enable=receive-pack",
            "--max-connections=0",
        ]
        .map(str::to_owned),
    );
    args.push(format!("--base-path={}", base.display()));
    args.push(format!("--listen={listen}"));
    args.push(format!("--port={port}"));
    args.push(base.display().to_string());
    let child = Command::new(&args[0])
        .args(&args[1..])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start git daemon");
    wait_for_port(listen, port, wrap);
    child
}

/// Waits until something listens on `host:port` (inside namespace `wrap`, when given).
pub fn wait_for_port(host: &str, port: u16, wrap: Option<&str>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let up = match wrap {
            None => TcpStream::connect((host, port)).is_ok(),
            Some(ns) => Command::new("ip")
                .args(["netns", "exec", ns, "bash", "-c"])
                .arg(format!("exec 3<>/dev/tcp/{host}/{port}"))
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success()),
        };
        if up {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "nothing listens on {host}:{port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}
