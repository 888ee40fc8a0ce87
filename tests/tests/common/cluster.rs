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
