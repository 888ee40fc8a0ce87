//! The browser client served from a directory the user names (Node's `serveClient`): a fixed
//! set of file names, read once, answered with an `ETag`.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use axum::body::Body;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};

use crate::engine::{Coding, Cors, add_cors, choose_coding};

/// The files Node's `serveClient` answers (its `CLIENT_FILES`); no other name is ever looked
/// up, so no request can reach another file.
const FILES: [&str; 8] = [
    "socket.io.js",
    "socket.io.js.map",
    "socket.io.min.js",
    "socket.io.min.js.map",
    "socket.io.esm.min.js",
    "socket.io.esm.min.js.map",
    "socket.io.msgpack.min.js",
    "socket.io.msgpack.min.js.map",
];

/// [`ServerBuilder::serve_client_from`](crate::ServerBuilder::serve_client_from) could not
/// read the client's directory, or found no `socket.io.js` in it.
#[derive(Debug)]
pub struct ClientDirError {
    dir: PathBuf,
    source: Option<std::io::Error>,
}

impl ClientDirError {
    /// The directory that was named.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl fmt::Display for ClientDirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(e) => write!(f, "cannot serve the Socket.IO client from {}: {e}", self.dir.display()),
            None => write!(
                f,
                "cannot serve the Socket.IO client from {}: it has no socket.io.js \
                 (expected e.g. node_modules/socket.io-client/dist)",
                self.dir.display()
            ),
        }
    }
}

impl std::error::Error for ClientDirError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

/// One served file.
struct ClientFile {
    name: &'static str,
    body: Bytes,
    /// The body gzipped once, for clients that accept it.
    gzip: Option<Bytes>,
    etag: HeaderValue,
}

/// The client files found in the directory, in memory.
pub(crate) struct ClientDist {
    files: Vec<ClientFile>,
}

impl fmt::Debug for ClientDist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.files.iter().map(|c| c.name)).finish()
    }
}

impl ClientDist {
    /// Reads the client files of `dir`; those missing are not served.
    pub(crate) fn read(dir: &Path) -> Result<Self, ClientDirError> {
        let err = |source| ClientDirError { dir: dir.to_owned(), source };
        let meta = std::fs::metadata(dir).map_err(|e| err(Some(e)))?;
        if !meta.is_dir() {
            return Err(err(Some(std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"))));
        }
        let mut files = Vec::new();
        for name in FILES {
            let body = match std::fs::read(dir.join(name)) {
                Ok(b) => Bytes::from(b),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(err(Some(e))),
            };
            files.push(ClientFile { name, etag: etag(&body), gzip: gzip(&body), body });
        }
        if !files.iter().any(|f| f.name == "socket.io.js") {
            return Err(err(None));
        }
        Ok(Self { files })
    }

    /// The names found, to route.
    pub(crate) fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.files.iter().map(|f| f.name)
    }

    /// The answer to `req` if it asks for one of the files under `base` (the server's path,
    /// with its trailing `/`), with the server's CORS headers as Node's answers have them
    /// (a page on another origin may import the ESM build).
    pub(crate) fn answer<B>(
        &self,
        base: &str,
        cors: Option<&Cors>,
        req: &Request<B>,
    ) -> Option<Response<Body>> {
        let mut resp = self.answer_file(base, req)?;
        if let Some(cors) = cors {
            add_cors(cors, req.headers().get(header::ORIGIN), resp.headers_mut());
        }
        Some(resp)
    }

    fn answer_file<B>(&self, base: &str, req: &Request<B>) -> Option<Response<Body>> {
        let name = req.uri().path().strip_prefix(base)?;
        let file = self.files.iter().find(|f| f.name == name)?;
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return Some(
                Response::builder()
                    .status(StatusCode::METHOD_NOT_ALLOWED)
                    .header(header::ALLOW, "GET, HEAD")
                    .body(Body::empty())
                    .unwrap_or_default(),
            );
        }
        if matches_etag(req.headers(), &file.etag) {
            return Some(
                Response::builder()
                    .status(StatusCode::NOT_MODIFIED)
                    .header(header::ETAG, file.etag.clone())
                    .body(Body::empty())
                    .unwrap_or_default(),
            );
        }
        let content_type = if name.ends_with(".map") {
            "application/json; charset=utf-8"
        } else {
            "application/javascript; charset=utf-8"
        };
        let mut resp = Response::builder()
            .header(header::CONTENT_TYPE, content_type)
            .header(header::CACHE_CONTROL, "public, max-age=0")
            .header(header::ETAG, file.etag.clone())
            .header(header::VARY, "Accept-Encoding");
        let body = match (&file.gzip, choose_coding(req.headers())) {
            (Some(z), Some(Coding::Gzip)) => {
                resp = resp.header(header::CONTENT_ENCODING, "gzip");
                z.clone()
            }
            _ => file.body.clone(),
        };
        let body = if req.method() == Method::HEAD {
            // The length a GET would get, which hyper does not know from an empty body.
            resp = resp.header(header::CONTENT_LENGTH, body.len());
            Body::empty()
        } else {
            Body::from(body)
        };
        Some(resp.body(body).unwrap_or_default())
    }
}

/// A strong ETag of the content: the first 16 bytes of its SHA-1, in hex.
fn etag(body: &[u8]) -> HeaderValue {
    use sha1::Digest as _;
    let digest = sha1::Sha1::digest(body);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("\"{hex}\"")).unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// Whether an `If-None-Match` names `etag` (weakly or not) or is `*`.
fn matches_etag(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Ok(etag) = etag.to_str() else { return false };
    headers.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(',').map(str::trim).any(|t| t == "*" || t == etag || t.strip_prefix("W/") == Some(etag))
    })
}

fn gzip(body: &[u8]) -> Option<Bytes> {
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(body).ok()?;
    z.finish().ok().map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_takes_lists_weak_tags_and_star() {
        let tag = HeaderValue::from_static("\"abc\"");
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::IF_NONE_MATCH, HeaderValue::from_static(v));
            matches_etag(&h, &tag)
        };
        assert!(with("\"abc\""));
        assert!(with("W/\"abc\""));
        assert!(with("\"x\", \"abc\""));
        assert!(with("*"));
        assert!(!with("\"abcd\""));
        assert!(!with("abc"));
        assert!(!matches_etag(&HeaderMap::new(), &tag));
    }

    #[test]
    fn a_missing_directory_is_a_clear_error() {
        let e = ClientDist::read(Path::new("/nonexistent/socket.io-client/dist")).expect_err("missing");
        assert!(e.to_string().starts_with("cannot serve the Socket.IO client from /nonexistent"), "{e}");
    }
}
