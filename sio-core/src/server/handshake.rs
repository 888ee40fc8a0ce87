//! What the client sent when it connected: headers, query, address, time.

use std::net::SocketAddr;
use std::time::SystemTime;

use http::{HeaderMap, Uri};

/// The handshake request of a connection, shared by all its sockets
/// ([`Conn::handshake`](crate::Conn::handshake); Node's `socket.handshake`).
///
/// ```
/// use sio_core::{Conn, ConnectError, Handlers};
///
/// let h = Handlers::new().on_connect(|conn: Conn| async move {
///     let hs = conn.handshake();
///     let room = hs.query("room").unwrap_or_else(|| "lobby".into()); // io(url, { query: { room } })
///     let cookie = hs.headers().get("cookie").and_then(|v| v.to_str().ok());
///     println!("from {:?} at {:?}, wants {room}", hs.address(), hs.time());
///     conn.join(room);
///     Ok::<(), ConnectError>(())
/// });
/// ```
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
        form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
    }

    /// The peer address, when the server was started with [`crate::serve`] or with axum's
    /// `into_make_service_with_connect_info::<SocketAddr>()` (`None` otherwise). Behind a
    /// proxy it is the proxy's; read `X-Forwarded-For` from [`Handshake::headers`] then.
    ///
    /// ```no_run
    /// # async fn run(io: sio_core::Server) -> std::io::Result<()> {
    /// use std::net::SocketAddr;
    ///
    /// let app = axum::Router::new().merge(io.router());
    /// let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await?;
    /// sio_core::serve(listener, app).await
    /// // or: axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await
    /// # }
    /// ```
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
            for (k, v) in form_urlencoded::parse(q.as_bytes()) {
                query.insert(k.into_owned(), v.into_owned().into());
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
        let (parts, ()) = http::Request::get("/socket.io/?room=%61").body(()).expect("request").into_parts();
        assert_eq!(
            Handshake::from_parts(&parts).query("room").as_deref(),
            Some("a"),
            "an escape at the very end"
        );
    }
}
