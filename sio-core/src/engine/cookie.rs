//! The session cookie of a handshake (Node's `cookie` option): its attributes and the
//! `Set-Cookie` value, written as Node's `cookie` package writes it.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use http::HeaderValue;

/// The cookie a polling handshake sets to the session id, so a load balancer can send a
/// client's later requests to the same server (sticky sessions). Node's `cookie` option, with
/// the same defaults: `io=<sid>; Path=/; HttpOnly; SameSite=Lax`.
///
/// ```
/// use std::time::Duration;
/// use sio_core::{SameSite, Server, SessionCookie};
///
/// // Node: cookie: { name: "srv", sameSite: "strict", secure: true, maxAge: 3600 }
/// let io = Server::builder()
///     .cookie(SessionCookie::new().name("srv").same_site(SameSite::Strict).secure(true).max_age(Duration::from_secs(3600)))
///     .build();
/// ```
///
/// As in Node, the cookie goes on the answer to the polling handshake only: a client that
/// connects straight over WebSocket has one connection and nothing to stick to.
/// The attributes are written in the order Node's `cookie` package writes them; the ones
/// Node has and this type has not (`priority`, `encode`) are left out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct SessionCookie {
    name: Cow<'static, str>,
    path: Option<String>,
    domain: Option<String>,
    http_only: bool,
    secure: bool,
    same_site: Option<SameSite>,
    max_age: Option<Duration>,
    expires: Option<SystemTime>,
    partitioned: bool,
}

/// The `SameSite` attribute of a [`SessionCookie`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SameSite {
    /// `SameSite=Strict` (Node's `"strict"` or `true`).
    Strict,
    /// `SameSite=Lax` (Node's `"lax"`, the default).
    Lax,
    /// `SameSite=None` (Node's `"none"`): browsers then want [`SessionCookie::secure`] too.
    None,
}

impl Default for SessionCookie {
    fn default() -> Self {
        Self {
            name: Cow::Borrowed("io"),
            path: Some("/".to_owned()),
            domain: None,
            http_only: true,
            secure: false,
            same_site: Some(SameSite::Lax),
            max_age: None,
            expires: None,
            partitioned: false,
        }
    }
}

/// Whether every character of `s` is one of RFC 6265's token characters (Node's
/// `cookieNameRegExp`).
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

impl SessionCookie {
    /// Node's defaults: name `io`, `Path=/`, `HttpOnly`, `SameSite=Lax`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The cookie's name (default `io`).
    ///
    /// # Panics
    /// If `name` is empty or not an RFC 6265 token (Node's `cookie` package throws too).
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        let name = name.into();
        assert!(is_token(&name), "invalid cookie name {name:?}");
        self.name = name;
        self
    }

    /// The `Path` attribute (default `/`); `None` leaves it out.
    ///
    /// # Panics
    /// If `path` holds a `;` or a character outside printable ASCII.
    pub fn path(mut self, path: impl Into<Option<String>>) -> Self {
        let path = path.into();
        if let Some(p) = &path {
            assert!(p.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b';'), "invalid cookie path {p:?}");
        }
        self.path = path;
        self
    }

    /// The `Domain` attribute (none by default).
    ///
    /// # Panics
    /// If `domain` is not a domain name (letters, digits, `-` and `.`).
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        let domain = domain.into();
        let ok =
            !domain.is_empty() && domain.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        assert!(ok, "invalid cookie domain {domain:?}");
        self.domain = Some(domain);
        self
    }

    /// The `HttpOnly` attribute: scripts of the page cannot read the cookie (default true).
    pub fn http_only(mut self, yes: bool) -> Self {
        self.http_only = yes;
        self
    }

    /// The `Secure` attribute: sent over HTTPS only (default false).
    pub fn secure(mut self, yes: bool) -> Self {
        self.secure = yes;
        self
    }

    /// The `SameSite` attribute (default [`SameSite::Lax`]); `None` leaves it out.
    pub fn same_site(mut self, same_site: impl Into<Option<SameSite>>) -> Self {
        self.same_site = same_site.into();
        self
    }

    /// The `Max-Age` attribute in whole seconds (none by default: a session cookie).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// The `Expires` attribute (none by default).
    pub fn expires(mut self, at: SystemTime) -> Self {
        self.expires = Some(at);
        self
    }

    /// The `Partitioned` attribute (CHIPS; default false).
    pub fn partitioned(mut self, yes: bool) -> Self {
        self.partitioned = yes;
        self
    }

    /// The `Set-Cookie` value for session `sid`, attributes in the order of Node's `cookie`
    /// package (0.7): `Max-Age`, `Domain`, `Path`, `Expires`, `HttpOnly`, `Secure`,
    /// `Partitioned`, `SameSite`.
    pub(crate) fn header_value(&self, sid: &str) -> Option<HeaderValue> {
        use std::fmt::Write as _;
        let mut s = format!("{}={}", self.name, sid);
        if let Some(age) = self.max_age {
            let _ = write!(s, "; Max-Age={}", age.as_secs());
        }
        if let Some(domain) = &self.domain {
            let _ = write!(s, "; Domain={domain}");
        }
        if let Some(path) = &self.path {
            let _ = write!(s, "; Path={path}");
        }
        if let Some(at) = self.expires {
            let _ = write!(s, "; Expires={}", httpdate::fmt_http_date(at));
        }
        if self.http_only {
            s.push_str("; HttpOnly");
        }
        if self.secure {
            s.push_str("; Secure");
        }
        if self.partitioned {
            s.push_str("; Partitioned");
        }
        match self.same_site {
            Some(SameSite::Strict) => s.push_str("; SameSite=Strict"),
            Some(SameSite::Lax) => s.push_str("; SameSite=Lax"),
            Some(SameSite::None) => s.push_str("; SameSite=None"),
            None => {}
        }
        HeaderValue::from_str(&s).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_nodes() {
        let v = SessionCookie::new().header_value("abc").expect("value");
        assert_eq!(v, "io=abc; Path=/; HttpOnly; SameSite=Lax");
    }

    #[test]
    fn every_attribute_in_nodes_order() {
        let c = SessionCookie::new()
            .name("srv")
            .domain("example.com")
            .path(Some("/app".to_owned()))
            .max_age(Duration::from_millis(3_600_900))
            .expires(SystemTime::UNIX_EPOCH + Duration::from_secs(86_400))
            .secure(true)
            .partitioned(true)
            .same_site(SameSite::None);
        assert_eq!(
            c.header_value("x").expect("value"),
            "srv=x; Max-Age=3600; Domain=example.com; Path=/app; Expires=Fri, 02 Jan 1970 00:00:00 GMT; \
             HttpOnly; Secure; Partitioned; SameSite=None"
        );
        let bare = SessionCookie::new().path(None).http_only(false).same_site(None);
        assert_eq!(bare.header_value("x").expect("value"), "io=x");
    }

    #[test]
    #[should_panic(expected = "invalid cookie name")]
    fn names_are_tokens() {
        let _ = SessionCookie::new().name("a b");
    }
}
