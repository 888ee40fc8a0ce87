//! What the client sent when it connected: headers, query, address, time.

use std::net::SocketAddr;
use std::time::SystemTime;

use http::{HeaderMap, Uri};

/// The handshake request of a connection, shared by all its sockets.
#[derive(Debug, Clone)]
pub struct Handshake {
    headers: HeaderMap,
    uri: Uri,
    address: Option<SocketAddr>,
    time: SystemTime,
}

impl Handshake {
    pub(crate) fn from_parts(parts: &http::request::Parts) -> Self {
        let address = parts.extensions.get::<axum::extract::ConnectInfo<SocketAddr>>().map(|c| c.0);
        Self { headers: parts.headers.clone(), uri: parts.uri.clone(), address, time: SystemTime::now() }
    }

    /// The request headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The request URI (path and query).
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The value of query parameter `key` (percent-decoded), e.g. `io(url, { query: { room: "a" } })`.
    pub fn query(&self, key: &str) -> Option<String> {
        let q = self.uri.query()?;
        q.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k) == key).then(|| percent_decode(v))
        })
    }

    /// The peer address, when the server was started with
    /// `into_make_service_with_connect_info::<SocketAddr>()`.
    pub fn address(&self) -> Option<SocketAddr> {
        self.address
    }

    /// When the connection was made.
    pub fn time(&self) -> SystemTime {
        self.time
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex =
                    std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_decoded() {
        let (parts, ()) = http::Request::get("/socket.io/?EIO=4&hello=w%C3%B6rld+x&empty")
            .body(())
            .expect("request")
            .into_parts();
        let h = Handshake::from_parts(&parts);
        assert_eq!(h.query("hello").as_deref(), Some("wörld x"));
        assert_eq!(h.query("empty").as_deref(), Some(""));
        assert_eq!(h.query("nope"), None);
    }
}
