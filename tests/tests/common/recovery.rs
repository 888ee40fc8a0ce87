//! Connection state recovery over raw WebSockets: connecting with a `pid` and an `offset`,
//! and reading offsets (`recovery.rs`, `redis_streams_cluster.rs`).

use std::net::SocketAddr;

use serde_json::Value;

use super::Ws;

/// The CONNECT reply's `sid` and `pid`.
pub(crate) fn connect_reply(text: &str) -> (String, String) {
    let body = text.strip_prefix("40").unwrap_or_else(|| panic!("not a CONNECT reply: {text}"));
    let v: Value = serde_json::from_str(body).expect("json");
    (v["sid"].as_str().expect("sid").to_owned(), v["pid"].as_str().expect("pid").to_owned())
}

/// Connects to `/` with `auth`; returns the connection, the packets before the CONNECT
/// reply, and the reply's sid and pid.
pub(crate) async fn connect(addr: SocketAddr, auth: Option<Value>) -> (Ws, Vec<String>, String, String) {
    let mut ws = Ws::connect(addr).await;
    match auth {
        Some(a) => ws.send(&format!("40{a}")).await,
        None => ws.send("40").await,
    }
    let mut before = Vec::new();
    loop {
        let text = ws.recv_text().await;
        if text.starts_with("40") {
            let (sid, pid) = connect_reply(&text);
            return (ws, before, sid, pid);
        }
        before.push(text);
    }
}

/// The offset an event packet carries (its last argument).
pub(crate) fn offset_of(text: &str) -> String {
    let start = text.find('[').expect("array");
    let v: Vec<Value> = serde_json::from_str(&text[start..]).expect("json");
    v.last().and_then(Value::as_str).expect("a string offset").to_owned()
}
