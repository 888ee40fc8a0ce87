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

    /// The handshake as the reference server describes it to other nodes (`fetchSockets`):
    /// `headers`, `time`, `address`, `xdomain`, `secure`, `issued`, `url`, `query`, `auth`.
    pub(crate) fn to_json(&self, auth: &str) -> serde_json::Value {
        let mut headers = serde_json::Map::new();
        for (name, value) in &self.headers {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            match headers.get_mut(name.as_str()) {
                // Repeated headers are joined as Node joins them.
                Some(serde_json::Value::String(prev)) => {
                    prev.push_str(", ");
                    prev.push_str(&value);
                }
                _ => {
                    headers.insert(name.as_str().to_owned(), value.into());
                }
            }
        }
        let mut query = serde_json::Map::new();
        if let Some(q) = self.uri.query() {
            for pair in q.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                query.insert(percent_decode(k), percent_decode(v).into());
            }
        }
        let issued = self.time.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
        let time = httpdate::fmt_http_date(self.time);
        serde_json::json!({
            "headers": headers,
            "time": time,
            "address": self.address.map(|a| a.ip().to_string()).unwrap_or_default(),
            "xdomain": self.headers.contains_key(http::header::ORIGIN),
            "secure": false,
            "issued": u64::try_from(issued).unwrap_or(u64::MAX),
            "url": self.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"),
            "query": query,
            "auth": serde_json::from_str::<serde_json::Value>(auth).unwrap_or_default(),
        })
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
