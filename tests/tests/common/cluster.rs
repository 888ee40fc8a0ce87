//! The client and helpers of the Redis adapter tests (`redis_cluster.rs`,
//! `redis_sharded_cluster.rs`): a client that sends the cluster node's `cmd` event
//! (`tests/src/cluster.rs`), waiting for subscriptions, and a Redis of the test's own.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use sio_core::Server;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::{T, Ws, within};

/// A client of a cluster node: sends `cmd` with an ack id and keeps the events it receives
/// meanwhile .
pub(crate) struct Client {
    pub(crate) ws: Ws,
    pub(crate) sid: String,
    pub(crate) next_id: u64,
    pub(crate) events: Vec<(String, Value)>,
}

impl Client {
    pub(crate) async fn connect(addr: SocketAddr) -> Self {
        let mut ws = Ws::connect(addr).await;
        let sid = ws.connect_ns("/").await;
        Self { ws, sid, next_id: 1, events: Vec::new() }
    }

    /// Reads one packet: an ack `(Some(id), args)` or an event `(None, [name, ..args])`.
    /// Binary attachments are read and replaced by their bytes as an array of numbers.
    pub(crate) async fn read(&mut self) -> (Option<u64>, Value) {
        let text = self.ws.recv_text().await;
        let packet = text.strip_prefix('4').unwrap_or_else(|| panic!("not a message: {text}"));
        let (kind, rest) = packet.split_at(1);
        let (rest, attachments) = if kind == "5" || kind == "6" {
            let (n, rest) = rest.split_once('-').expect("attachment count");
            (rest, n.parse::<usize>().expect("count"))
        } else {
            (rest, 0)
        };
        let start = rest.find('[').expect("array");
        let id = rest[..start].parse::<u64>().ok();
        let mut value: Value = serde_json::from_str(&rest[start..]).expect("json");
        for n in 0..attachments {
            let bin = self.ws.recv_binary().await;
            replace_placeholder(&mut value, n, &bin);
        }
        match kind {
            "3" | "6" => (id, value),
            _ => (None, value),
        }
    }

    pub(crate) async fn cmd(&mut self, cmd: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.ws.send(&format!(r#"42{id}["cmd",{cmd}]"#)).await;
        loop {
            match self.read().await {
                (Some(got), mut args) if got == id => return args[0].take(),
                (None, ev) => self.push_event(ev),
                (Some(other), _) => panic!("unexpected ack {other}"),
            }
        }
    }

    pub(crate) fn push_event(&mut self, ev: Value) {
        let name = ev[0].as_str().unwrap_or_default().to_owned();
        let args = Value::Array(ev.as_array().map(|a| a[1..].to_vec()).unwrap_or_default());
        self.events.push((name, args));
    }

    /// The next event called `name` (earlier ones kept aside are looked at first).
    pub(crate) async fn event(&mut self, name: &str) -> Value {
        if let Some(pos) = self.events.iter().position(|(n, _)| n == name) {
            return self.events.remove(pos).1;
        }
        within(T, &format!("event {name}"), async {
            loop {
                match self.read().await {
                    (None, ev) if ev[0] == name => {
                        return Value::Array(ev.as_array().map(|a| a[1..].to_vec()).unwrap_or_default());
                    }
                    (None, ev) => self.push_event(ev),
                    (Some(id), _) => panic!("unexpected ack {id}"),
                }
            }
        })
        .await
    }

    /// Asserts no event called `name` arrives within `d`.
    pub(crate) async fn no_event(&mut self, name: &str, d: Duration) {
        let _ = tokio::time::timeout(d, async {
            loop {
                let (id, ev) = self.read().await;
                assert!(id.is_none(), "unexpected ack");
                self.push_event(ev);
            }
        })
        .await;
        assert!(!self.events.iter().any(|(n, _)| n == name), "unexpected {name}: {:?}", self.events);
    }

    /// Answers the next event `name` that asks for an ack with `reply`.
    pub(crate) async fn answer(&mut self, name: &str, reply: Value) {
        within(T, &format!("event {name} with ack"), async {
            loop {
                let text = self.ws.recv_text().await;
                let rest = &text[2..];
                let start = rest.find('[').expect("array");
                let ev: Value = serde_json::from_str(&rest[start..]).expect("json");
                if text.starts_with("42") && ev[0] == name {
                    let id: u64 = rest[..start].parse().expect("an ack id");
                    self.ws.send(&format!("43{id}[{reply}]")).await;
                    return;
                }
            }
        })
        .await;
    }

    /// Waits for `41` (the server disconnected this socket from `/`).
    pub(crate) async fn disconnected(&mut self, what: &str) {
        within(T, what, async {
            loop {
                if let WsMessage::Text(t) = self.ws.recv().await
                    && t.as_str() == "41"
                {
                    return;
                }
            }
        })
        .await;
    }
}

pub(crate) fn replace_placeholder(v: &mut Value, n: usize, bin: &[u8]) {
    match v {
        Value::Object(m) if m.get("_placeholder") == Some(&Value::Bool(true)) && m["num"] == n => {
            *v = json!(bin);
        }
        Value::Array(a) => a.iter_mut().for_each(|x| replace_placeholder(x, n, bin)),
        Value::Object(m) => m.values_mut().for_each(|x| replace_placeholder(x, n, bin)),
        _ => {}
    }
}

/// Waits until every node sees `n` servers (their subscriptions are in place).
pub(crate) async fn await_servers(io: &Server, n: usize) {
    let ns = io.of("/").expect("namespace /");
    within(Duration::from_secs(10), &format!("{n} servers subscribed"), async {
        loop {
            if ns.server_count().await.ok() == Some(n) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// A `redis-server` of the test's own, on a free port, that can be stopped and started.
pub(crate) struct OwnRedis {
    pub(crate) port: u16,
    pub(crate) child: Option<tokio::process::Child>,
}

impl OwnRedis {
    pub(crate) async fn start(port: u16) -> Self {
        Self::start_with(port, &["--appendonly", "no"]).await
    }

    /// A Redis that keeps everything in an append-only file in `dir` (written through on
    /// every command), so that what it held survives a restart.
    pub(crate) async fn start_persistent(port: u16, dir: &std::path::Path) -> Self {
        let dir = dir.to_str().expect("a UTF-8 path");
        Self::start_with(port, &["--appendonly", "yes", "--appendfsync", "always", "--dir", dir]).await
    }

    async fn start_with(port: u16, args: &[&str]) -> Self {
        let child = tokio::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--save", "", "--bind", "127.0.0.1"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server must be installed (Debian package redis-server; .ci/run installs it)");
        within(T, "redis-server to listen", async {
            while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        Self { port, child: Some(child) }
    }

    pub(crate) async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A PostgreSQL of the test's own (a fresh cluster in a temporary directory, trust
/// authentication, on a free port), that can be stopped and started again with its data.
/// As root, it runs as the user `postgres` (initdb refuses root).
pub(crate) struct OwnPostgres {
    pub(crate) port: u16,
    dir: std::path::PathBuf,
    bin: std::path::PathBuf,
    child: Option<tokio::process::Child>,
}

impl OwnPostgres {
    /// Makes the cluster (initdb) and starts it.
    pub(crate) async fn start(port: u16) -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|versions| versions.filter_map(Result::ok).map(|v| v.path().join("bin")).max())
            .filter(|bin| bin.join("initdb").exists())
            .expect(
                "PostgreSQL's server binaries are missing (/usr/lib/postgresql/*/bin): install Debian's \
                 postgresql (`apt-get install postgresql`; .ci/run does)",
            );
        let dir = std::env::temp_dir().join(format!("sio-own-postgres-{}", sio_core::Sid::new()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let me = Self { port, dir, bin, child: None };
        me.give_to_postgres().await;
        let pgdata = me.pgdata();
        let initdb = me.bin.join("initdb");
        let status = me
            .command(&initdb)
            .args(["-D", &pgdata, "-U", "postgres", "--auth=trust", "--no-sync"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .expect("initdb runs");
        assert!(status.success(), "initdb failed in {pgdata}");
        me.started().await
    }

    fn pgdata(&self) -> String {
        self.dir.join("data").to_str().expect("a UTF-8 path").to_owned()
    }

    fn as_root() -> bool {
        std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
    }

    /// `program`, as the user `postgres` when the test runs as root (`setpriv` execs it, so
    /// the child is the program itself).
    fn command(&self, program: &std::path::Path) -> tokio::process::Command {
        if Self::as_root() {
            let mut cmd = tokio::process::Command::new("setpriv");
            cmd.args(["--reuid=postgres", "--regid=postgres", "--init-groups"]).arg(program);
            cmd
        } else {
            tokio::process::Command::new(program)
        }
    }

    /// As root, gives the directory to `postgres`.
    async fn give_to_postgres(&self) {
        if Self::as_root() {
            let status = tokio::process::Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&self.dir)
                .status()
                .await
                .expect("chown runs");
            assert!(status.success(), "chown of {}", self.dir.display());
        }
    }

    async fn started(mut self) -> Self {
        let postgres = self.bin.join("postgres");
        let child = self
            .command(&postgres)
            .args(["-D", &self.pgdata(), "-p", &self.port.to_string(), "-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "unix_socket_directories=", "-c", "fsync=off"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("postgres starts");
        self.child = Some(child);
        let url = self.url();
        within(Duration::from_secs(30), "the test's PostgreSQL to accept connections", async {
            while tokio_postgres::connect(&url, tokio_postgres::NoTls).await.is_err() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        self
    }

    /// Stops it (a fast shutdown: every connection is cut) and waits until it is gone.
    pub(crate) async fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        if let Some(pid) = child.id() {
            let _ = std::process::Command::new("kill").args(["-INT", &pid.to_string()]).status();
        }
        if tokio::time::timeout(Duration::from_secs(20), child.wait()).await.is_err() {
            let _ = child.kill().await;
        }
    }

    /// Starts it again on the same port with the same data.
    pub(crate) async fn restart(self) -> Self {
        self.started().await
    }

    pub(crate) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
