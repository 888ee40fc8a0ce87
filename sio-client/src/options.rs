//! Where to connect and how: socket.io-client's options, with its names in snake case.

use std::time::Duration;

use crate::error::Error;

/// An Engine.IO transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transport {
    /// HTTP long-polling.
    Polling,
    /// WebSocket.
    WebSocket,
}

/// The server: scheme, authority and the Engine.IO path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    authority: String,
    path: String,
}

impl Target {
    /// Reads `http://host:port/nsp` (or `ws://`): the server, and the namespace in the path.
    pub(crate) fn parse(url: &str, path: &str) -> Result<(Self, String), Error> {
        let uri: http::Uri = url.parse().map_err(|e| Error::Config(format!("bad url {url:?}: {e}")))?;
        match uri.scheme_str() {
            Some("http" | "ws") => {}
            Some("https" | "wss") => {
                return Err(Error::Config(format!("{url}: TLS is not supported yet; use http:// or ws://")));
            }
            _ => return Err(Error::Config(format!("{url}: the URL must start with http:// or ws://"))),
        }
        let host = uri.host().ok_or_else(|| Error::Config(format!("{url}: no host")))?;
        let port = uri.port_u16().unwrap_or(80);
        let nsp = match uri.path() {
            "" | "/" => "/".to_owned(),
            p => p.trim_end_matches('/').to_owned(),
        };
        let mut path = path.to_owned();
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        if !path.ends_with('/') {
            path.push('/');
        }
        Ok((Self { authority: format!("{host}:{port}"), path }, nsp))
    }

    /// The URL of a request over `transport`.
    pub(crate) fn url(&self, transport: Transport, sid: Option<&str>, query: &[(String, String)]) -> String {
        let (scheme, name) = match transport {
            Transport::Polling => ("http", "polling"),
            Transport::WebSocket => ("ws", "websocket"),
        };
        let mut url = format!("{scheme}://{}{}?EIO=4&transport={name}", self.authority, self.path);
        if let Some(sid) = sid {
            url.push_str("&sid=");
            encode(&mut url, sid);
        }
        for (k, v) in query {
            url.push('&');
            encode(&mut url, k);
            url.push('=');
            encode(&mut url, v);
        }
        url
    }
}

fn encode(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// The client's settings (socket.io-client's `Manager` options, by their Node names in
/// snake case; defaults as in Node unless said otherwise).
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) path: String,
    pub(crate) transports: Vec<Transport>,
    pub(crate) upgrade: bool,
    pub(crate) reconnection: bool,
    pub(crate) reconnection_attempts: u32,
    pub(crate) reconnection_delay: Duration,
    pub(crate) reconnection_delay_max: Duration,
    pub(crate) randomization_factor: f64,
    pub(crate) timeout: Duration,
    pub(crate) ack_timeout: Duration,
    pub(crate) send_buffer_capacity: usize,
    pub(crate) max_payload: usize,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: http::HeaderMap,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            path: "/socket.io/".into(),
            transports: vec![Transport::Polling, Transport::WebSocket],
            upgrade: true,
            reconnection: true,
            reconnection_attempts: u32::MAX,
            reconnection_delay: Duration::from_millis(1000),
            reconnection_delay_max: Duration::from_millis(5000),
            randomization_factor: 0.5,
            timeout: Duration::from_millis(20_000),
            ack_timeout: Duration::from_millis(20_000),
            send_buffer_capacity: 1024,
            max_payload: 16 << 20,
            query: Vec::new(),
            headers: http::HeaderMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let (t, nsp) = Target::parse("http://127.0.0.1:3000/chat", "/socket.io").expect("parses");
        assert_eq!(nsp, "/chat");
        assert_eq!(
            t.url(Transport::Polling, Some("a b"), &[("k".into(), "v&".into())]),
            "http://127.0.0.1:3000/socket.io/?EIO=4&transport=polling&sid=a%20b&k=v%26"
        );
        let (t, nsp) = Target::parse("ws://localhost", "/x/").expect("parses");
        assert_eq!(
            (t.url(Transport::WebSocket, None, &[]), nsp.as_str()),
            ("ws://localhost:80/x/?EIO=4&transport=websocket".into(), "/")
        );
        assert!(matches!(Target::parse("https://h", "/"), Err(Error::Config(_))));
        assert!(matches!(Target::parse("nope", "/"), Err(Error::Config(_))));
    }
}
