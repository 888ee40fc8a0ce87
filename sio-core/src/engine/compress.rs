//! Compression: permessage-deflate on WebSocket (RFC 7692) and gzip/deflate of long-polling
//! responses, with Node's option names and defaults.
//!
//! # Memory per connection (permessage-deflate)
//!
//! zlib's state is large next to an idle connection (about 3 KB): a deflate stream with a
//! 32 KiB window costs about 380 KB (its window, hash table and chains, and pending output;
//! zlib-rs, measured by `tests/tests/deflate_memory.rs`), an inflate stream about 46 KB.
//! So nothing is allocated when a connection opens; each side's state is made when the first
//! compressed message passes, and:
//! - with context takeover (the default, as in Node), a connection that sends or receives a
//!   compressed message keeps that side's state for its lifetime;
//! - without (`server_no_context_takeover`, `client_no_context_takeover`), every message
//!   starts from an empty window, so that side's state is one per thread, shared by the
//!   connections of that thread and reset before each message: no bytes per connection.
//!
//! Decompression is bounded: a message that inflates beyond `max_payload` closes the
//! connection with 1009 once that many bytes came out, whatever its compressed size.

use std::cell::RefCell;
use std::io::Write as _;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use http::HeaderValue;
use http::header::{self, HeaderMap};

/// permessage-deflate settings (RFC 7692; Node's `perMessageDeflate`). Off unless given to
/// [`ServerBuilder::per_message_deflate`](crate::ServerBuilder::per_message_deflate); the
/// defaults are Node's (`threshold: 1024`, context takeover on both sides, 32 KiB windows).
///
/// ```
/// use sio_core::{PerMessageDeflate, Server};
///
/// // No state kept between messages on the server's side: compressing costs no memory per
/// // connection (see the crate's configuration notes).
/// let io = Server::builder()
///     .per_message_deflate(PerMessageDeflate::default().server_no_context_takeover(true))
///     .build();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct PerMessageDeflate {
    threshold: usize,
    level: u32,
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: u8,
    client_max_window_bits: Option<u8>,
}

impl Default for PerMessageDeflate {
    fn default() -> Self {
        Self {
            threshold: 1024,
            level: 6,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: None,
        }
    }
}

impl PerMessageDeflate {
    /// Messages shorter than this many bytes are sent uncompressed (default 1024; Node's
    /// `threshold`).
    pub fn threshold(mut self, bytes: usize) -> Self {
        self.threshold = bytes;
        self
    }

    /// zlib compression level, 0 to 9 (default 6, zlib's default, which Node uses; 1 costs
    /// about half the CPU for a little less compression). Node's `zlibDeflateOptions.level`.
    pub fn level(mut self, level: u32) -> Self {
        self.level = level.min(9);
        self
    }

    /// Starts every outgoing message from an empty window (default false; Node's
    /// `serverNoContextTakeover`). Compresses a little less; the compressor is then shared by
    /// the connections of a thread instead of costing about 380 KB per connection. Also
    /// honoured when the client asks for it.
    pub fn server_no_context_takeover(mut self, yes: bool) -> Self {
        self.server_no_context_takeover = yes;
        self
    }

    /// Asks clients to start every message from an empty window (default false; Node's
    /// `clientNoContextTakeover`); the decompressor is then shared by the connections of a
    /// thread instead of costing about 46 KB per connection that sends compressed messages.
    pub fn client_no_context_takeover(mut self, yes: bool) -> Self {
        self.client_no_context_takeover = yes;
        self
    }

    /// Base-2 logarithm of the window this server compresses with, 9 to 15 (default 15;
    /// Node's `serverMaxWindowBits`). A client may ask for a smaller one.
    pub fn server_max_window_bits(mut self, bits: u8) -> Self {
        self.server_max_window_bits = bits.clamp(9, 15);
        self
    }

    /// Asks clients to compress with a window of at most 2^`bits` bytes, 8 to 15 (default: no
    /// limit; Node's `clientMaxWindowBits`). An offer from a client that cannot limit its
    /// window is then declined (the connection goes on uncompressed).
    pub fn client_max_window_bits(mut self, bits: u8) -> Self {
        self.client_max_window_bits = Some(bits.clamp(8, 15));
        self
    }
}

/// Compression of long-polling responses by the request's `Accept-Encoding` (gzip or
/// deflate; Node's `httpCompression`). On by default, as in Node, with Node's 1024-byte
/// threshold; [`ServerBuilder::http_compression`](crate::ServerBuilder::http_compression)
/// tunes or disables it.
///
/// ```
/// use sio_core::{HttpCompression, Server};
///
/// let io = Server::builder().http_compression(HttpCompression::default().threshold(4096).level(1)).build();
/// let plain = Server::builder().http_compression(None).build(); // Node: httpCompression: false
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct HttpCompression {
    threshold: usize,
    level: u32,
}

impl Default for HttpCompression {
    fn default() -> Self {
        Self { threshold: 1024, level: 6 }
    }
}

impl HttpCompression {
    /// Responses shorter than this many bytes are sent as they are (default 1024; Node's
    /// `threshold`).
    pub fn threshold(mut self, bytes: usize) -> Self {
        self.threshold = bytes;
        self
    }

    /// zlib compression level, 0 to 9 (default 6, as Node's zlib).
    pub fn level(mut self, level: u32) -> Self {
        self.level = level.min(9);
        self
    }
}

/// The HTTP content coding chosen for a polling response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    Gzip,
    Deflate,
}

impl Coding {
    pub(crate) fn header(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
        })
    }
}

/// The coding to answer a request with (gzip preferred, as Node's `accepts(..).encodings(["gzip",
/// "deflate"])`), if its `Accept-Encoding` takes one. `q=0` refuses a coding; `*` takes any.
pub(crate) fn choose_coding(headers: &HeaderMap) -> Option<Coding> {
    let (mut gzip, mut deflate, mut star) = (None, None, None);
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(text) = value.to_str() else { continue };
        for item in text.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let mut q = 1.0f32;
            for p in parts {
                if let Some((k, v)) = p.split_once('=')
                    && k.trim().eq_ignore_ascii_case("q")
                {
                    q = v.trim().parse().unwrap_or(0.0);
                }
            }
            let slot = if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                &mut gzip
            } else if name.eq_ignore_ascii_case("deflate") {
                &mut deflate
            } else if name == "*" {
                &mut star
            } else {
                continue;
            };
            *slot = Some(q);
        }
    }
    let gzip = gzip.or(star).unwrap_or(0.0);
    let deflate = deflate.or(star).unwrap_or(0.0);
    if gzip <= 0.0 && deflate <= 0.0 {
        return None;
    }
    Some(if deflate > gzip { Coding::Deflate } else { Coding::Gzip })
}

/// `body` compressed with `coding` when it is at least the threshold long and the request
/// accepts a coding; `None` to send it as it is.
pub(crate) fn compress_body(cfg: &HttpCompression, coding: Option<Coding>, body: &[u8]) -> Option<Vec<u8>> {
    if body.len() < cfg.threshold {
        return None;
    }
    let level = Compression::new(cfg.level);
    let out = Vec::with_capacity(body.len() / 2 + 64);
    match coding? {
        Coding::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(out, level);
            enc.write_all(body).ok()?;
            enc.finish().ok()
        }
        Coding::Deflate => {
            let mut enc = flate2::write::ZlibEncoder::new(out, level);
            enc.write_all(body).ok()?;
            enc.finish().ok()
        }
    }
}

/// What a connection's permessage-deflate agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Agreed {
    pub(crate) threshold: usize,
    pub(crate) level: u32,
    pub(crate) server_no_context_takeover: bool,
    pub(crate) client_no_context_takeover: bool,
    pub(crate) server_max_window_bits: u8,
}

/// The answer to a handshake's `Sec-WebSocket-Extensions`: the first permessage-deflate offer
/// this server can accept (RFC 7692 §7), and the `Sec-WebSocket-Extensions` header value of
/// the 101. Offers with unknown or malformed parameters are declined, as are other
/// extensions; when none is acceptable the connection goes on uncompressed.
pub(crate) fn negotiate(cfg: &PerMessageDeflate, headers: &HeaderMap) -> Option<(Agreed, HeaderValue)> {
    for value in headers.get_all(header::SEC_WEBSOCKET_EXTENSIONS) {
        let Ok(text) = value.to_str() else { continue };
        for offer in text.split(',') {
            if let Some(accepted) = accept_offer(cfg, offer) {
                return Some(accepted);
            }
        }
    }
    None
}

fn accept_offer(cfg: &PerMessageDeflate, offer: &str) -> Option<(Agreed, HeaderValue)> {
    let mut params = offer.split(';');
    if !params.next()?.trim().eq_ignore_ascii_case("permessage-deflate") {
        return None;
    }
    let (mut server_nct, mut client_nct) = (false, false);
    let mut server_bits: Option<u8> = None;
    // Offered at all (`Some(None)`: without a value).
    let mut client_bits: Option<Option<u8>> = None;
    for p in params {
        let (name, value) = match p.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
            None => (p.trim(), None),
        };
        let bits = |v: Option<&str>| -> Option<u8> {
            let v = v?;
            // 1*DIGIT without leading zeros (RFC 7692 §7.1.2).
            if v.starts_with('0') || !v.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            v.parse().ok().filter(|b| (8..=15).contains(b))
        };
        match name.to_ascii_lowercase().as_str() {
            "server_no_context_takeover" if value.is_none() && !server_nct => server_nct = true,
            "client_no_context_takeover" if value.is_none() && !client_nct => client_nct = true,
            "server_max_window_bits" if server_bits.is_none() => server_bits = Some(bits(value)?),
            "client_max_window_bits" if client_bits.is_none() => {
                client_bits = Some(match value {
                    None => None,
                    v => Some(bits(v)?),
                });
            }
            // Unknown, repeated or malformed: decline this offer.
            _ => return None,
        }
    }
    // zlib cannot compress raw deflate with a 256-byte window.
    if server_bits == Some(8) {
        return None;
    }
    // A limit on the client's window needs a client that takes one.
    if cfg.client_max_window_bits.is_some() && client_bits.is_none() {
        return None;
    }
    let agreed = Agreed {
        threshold: cfg.threshold,
        level: cfg.level,
        server_no_context_takeover: cfg.server_no_context_takeover || server_nct,
        client_no_context_takeover: cfg.client_no_context_takeover || client_nct,
        server_max_window_bits: server_bits
            .map_or(cfg.server_max_window_bits, |b| b.min(cfg.server_max_window_bits)),
    };
    let mut answer = String::from("permessage-deflate");
    if agreed.server_no_context_takeover {
        answer.push_str("; server_no_context_takeover");
    }
    if agreed.client_no_context_takeover {
        answer.push_str("; client_no_context_takeover");
    }
    if server_bits.is_some() || agreed.server_max_window_bits < 15 {
        answer.push_str(&format!("; server_max_window_bits={}", agreed.server_max_window_bits));
    }
    if let Some(limit) = cfg.client_max_window_bits {
        let offered = client_bits.flatten().unwrap_or(15);
        answer.push_str(&format!("; client_max_window_bits={}", limit.min(offered)));
    }
    Some((agreed, HeaderValue::from_str(&answer).ok()?))
}

/// Why an incoming compressed message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InflateError {
    /// It inflates beyond the message limit.
    TooBig,
    /// It is not valid deflate data.
    Invalid,
}

/// The compression state of one connection. The zlib streams are made on first use (see the
/// module's notes on memory).
#[derive(Debug)]
pub(crate) struct Deflate {
    pub(crate) agreed: Agreed,
    compress: Option<Box<Compress>>,
    decompress: Option<Box<Decompress>>,
}

thread_local! {
    /// The compressor of the connections without server context takeover, with its level and
    /// window bits.
    static SHARED_COMPRESS: RefCell<Option<(u32, u8, Compress)>> = const { RefCell::new(None) };
    /// The decompressor of the connections without client context takeover.
    static SHARED_DECOMPRESS: RefCell<Option<Decompress>> = const { RefCell::new(None) };
    /// Compressed bytes of the message being written.
    static DEFLATED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The empty stored block a sync flush ends with; removed from each message and appended
/// again before inflating (RFC 7692 §7.2.1, §7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xFF, 0xFF];

impl Deflate {
    pub(crate) fn new(agreed: Agreed) -> Self {
        Self { agreed, compress: None, decompress: None }
    }

    /// Whether a message of `len` bytes is sent compressed.
    pub(crate) fn wants(&self, len: usize) -> bool {
        len >= self.agreed.threshold
    }

    /// Bytes of zlib state this connection holds now (not counting per-thread state).
    #[cfg(test)]
    pub(crate) fn holds_state(&self) -> (bool, bool) {
        (self.compress.is_some(), self.decompress.is_some())
    }

    /// Calls `f` with the message compressed (sync flush, the tail removed).
    pub(crate) fn compress<R>(&mut self, payload: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
        let Agreed { level, server_max_window_bits: bits, .. } = self.agreed;
        let new = || Compress::new_with_window_bits(Compression::new(level), false, bits);
        DEFLATED.with(|out| {
            let mut out = out.borrow_mut();
            out.clear();
            if self.agreed.server_no_context_takeover {
                SHARED_COMPRESS.with(|shared| {
                    let mut shared = shared.borrow_mut();
                    let c = match &mut *shared {
                        Some((l, b, c)) if *l == level && *b == bits => c,
                        slot => &mut slot.insert((level, bits, new())).2,
                    };
                    c.reset();
                    deflate_sync(c, payload, &mut out);
                });
            } else {
                let c = self.compress.get_or_insert_with(|| Box::new(new()));
                deflate_sync(c, payload, &mut out);
            }
            let r = f(&out);
            if out.capacity() > 256 * 1024 {
                *out = Vec::new();
            }
            r
        })
    }

    /// The message inflated from `data` (its tail removed), at most `max` bytes.
    pub(crate) fn decompress(&mut self, data: &[u8], max: usize) -> Result<Vec<u8>, InflateError> {
        if self.agreed.client_no_context_takeover {
            SHARED_DECOMPRESS.with(|shared| {
                let mut shared = shared.borrow_mut();
                let d = shared.get_or_insert_with(|| Decompress::new(false));
                d.reset(false);
                inflate_sync(d, data, max)
            })
        } else {
            let d = self.decompress.get_or_insert_with(|| Box::new(Decompress::new(false)));
            let r = inflate_sync(d, data, max);
            if r.is_err() {
                // The connection is closing; do not keep a stream in an unknown state.
                self.decompress = None;
            }
            r
        }
    }
}

/// Compresses `input` into `out` and flushes to a byte boundary, without the final tail.
fn deflate_sync(c: &mut Compress, input: &[u8], out: &mut Vec<u8>) {
    out.reserve(input.len() / 2 + 64);
    let mut pos = 0;
    loop {
        let before = c.total_in();
        if c.compress_vec(&input[pos..], out, FlushCompress::Sync).is_err() {
            // Not reachable with valid parameters; send the message as a stored block rather
            // than fail (any deflate stream is acceptable to the peer).
            out.clear();
            stored_block(input, out);
            return;
        }
        pos += usize::try_from(c.total_in() - before).unwrap_or(0);
        if pos >= input.len() && out.len() < out.capacity() {
            break;
        }
        out.reserve(out.capacity().max(1024));
    }
    if out.ends_with(&TAIL) {
        out.truncate(out.len() - TAIL.len());
    }
}

/// `input` as uncompressed (stored) deflate blocks, not final.
fn stored_block(input: &[u8], out: &mut Vec<u8>) {
    for chunk in input.chunks(0xFFFF) {
        let len = chunk.len() as u16;
        out.push(0);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
}

/// Inflates `data` followed by the tail, stopping as soon as more than `max` bytes came out.
fn inflate_sync(d: &mut Decompress, data: &[u8], max: usize) -> Result<Vec<u8>, InflateError> {
    let mut out: Vec<u8> = Vec::new();
    for input in [data, &TAIL[..]] {
        let mut pos = 0;
        loop {
            if out.len() == out.capacity() {
                if out.len() > max {
                    return Err(InflateError::TooBig);
                }
                // Grow geometrically, never past one byte over the limit.
                let grow = out.capacity().max(input.len().saturating_mul(2)).max(256);
                out.reserve_exact(grow.min(max + 1 - out.len()));
            }
            let (before, produced) = (d.total_in(), out.len());
            let status = d.decompress_vec(&input[pos..], &mut out, FlushDecompress::Sync);
            pos += usize::try_from(d.total_in() - before).unwrap_or(0);
            if out.len() > max {
                return Err(InflateError::TooBig);
            }
            match status {
                Err(_) => return Err(InflateError::Invalid),
                Ok(Status::StreamEnd) => {
                    // A final block: nothing after it belongs to the stream.
                    d.reset(false);
                    return Ok(out);
                }
                Ok(Status::Ok | Status::BufError) => {}
            }
            if pos >= input.len() && out.len() < out.capacity() {
                break;
            }
            if out.len() < out.capacity() && d.total_in() == before && out.len() == produced {
                // No progress with room and input left: a stuck stream.
                return Err(InflateError::Invalid);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(ext: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::SEC_WEBSOCKET_EXTENSIONS, HeaderValue::from_str(ext).expect("header"));
        h
    }

    fn answer(cfg: &PerMessageDeflate, ext: &str) -> Option<String> {
        negotiate(cfg, &headers(ext)).map(|(_, v)| v.to_str().expect("ascii").to_owned())
    }

    #[test]
    fn negotiates_as_rfc_7692_says() {
        let d = PerMessageDeflate::default();
        assert_eq!(answer(&d, "permessage-deflate").as_deref(), Some("permessage-deflate"));
        // What browsers and `ws` offer.
        assert_eq!(
            answer(&d, "permessage-deflate; client_max_window_bits").as_deref(),
            Some("permessage-deflate")
        );
        assert_eq!(
            answer(&d, "permessage-deflate; server_no_context_takeover").as_deref(),
            Some("permessage-deflate; server_no_context_takeover")
        );
        assert_eq!(
            answer(&d, r#"permessage-deflate; server_max_window_bits="10""#).as_deref(),
            Some("permessage-deflate; server_max_window_bits=10")
        );
        // Declined: unknown, repeated or malformed parameters, window 8, other extensions.
        for bad in [
            "permessage-deflate; foo",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=010",
            "permessage-deflate; server_max_window_bits=8",
            "permessage-deflate; client_max_window_bits=7",
            "x-webkit-deflate-frame",
            "",
        ] {
            assert_eq!(answer(&d, bad), None, "{bad}");
        }
        // The first acceptable offer wins.
        assert_eq!(
            answer(&d, "permessage-deflate; foo, permessage-deflate; client_no_context_takeover").as_deref(),
            Some("permessage-deflate; client_no_context_takeover")
        );
        // Server settings show in the answer.
        let s = PerMessageDeflate::default()
            .server_no_context_takeover(true)
            .client_no_context_takeover(true)
            .server_max_window_bits(12)
            .client_max_window_bits(10);
        assert_eq!(
            answer(&s, "permessage-deflate; client_max_window_bits").as_deref(),
            Some(
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
                 server_max_window_bits=12; client_max_window_bits=10"
            )
        );
        // A client limit needs a client that takes one.
        assert_eq!(answer(&s, "permessage-deflate"), None);
        let (agreed, _) = negotiate(
            &s,
            &headers("permessage-deflate; client_max_window_bits=9; server_max_window_bits=11"),
        )
        .expect("accepted");
        assert_eq!(agreed.server_max_window_bits, 11);
    }

    #[test]
    fn round_trips_with_and_without_context_takeover() {
        for snct in [false, true] {
            let agreed = Agreed {
                threshold: 0,
                level: 6,
                server_no_context_takeover: snct,
                client_no_context_takeover: false,
                server_max_window_bits: 15,
            };
            // `client` inflates what `server` deflates: it takes the context over when the
            // server does.
            let reader = Agreed { client_no_context_takeover: snct, ..agreed };
            let (mut server, mut client) = (Deflate::new(agreed), Deflate::new(reader));
            for i in 0..5 {
                let msg = format!("42[\"message\",\"{}\"]", "hello world ".repeat(100 * i + 1));
                let wire = server.compress(msg.as_bytes(), <[u8]>::to_vec);
                assert!(!wire.ends_with(&TAIL));
                if i > 0 {
                    assert!(wire.len() < msg.len() / 4, "compressed: {} of {}", wire.len(), msg.len());
                }
                assert_eq!(client.decompress(&wire, 1 << 20).expect("inflate"), msg.as_bytes());
            }
            assert_eq!(server.holds_state().0, !snct);
            assert_eq!(client.holds_state().1, !snct);
        }
    }

    #[test]
    fn inflation_stops_at_the_limit() {
        let agreed = Agreed {
            threshold: 0,
            level: 9,
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: 15,
        };
        let mut d = Deflate::new(agreed);
        let bomb = d.compress(&vec![b'a'; 10_000_000], <[u8]>::to_vec);
        assert!(bomb.len() < 20_000, "{}", bomb.len());
        assert_eq!(d.decompress(&bomb, 1000), Err(InflateError::TooBig));
        assert_eq!(d.decompress(&bomb, 10_000_000).map(|v| v.len()), Ok(10_000_000));
        assert_eq!(d.decompress(&[0xFF, 0xFF, 0xFF], 1000), Err(InflateError::Invalid));
        // Empty message: just the tail.
        assert_eq!(d.decompress(&[0x00], 1000), Ok(Vec::new()));
    }

    #[test]
    fn picks_the_coding_of_accept_encoding() {
        let h = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).expect("header"));
            h
        };
        assert_eq!(choose_coding(&h("gzip, deflate, br")), Some(Coding::Gzip));
        assert_eq!(choose_coding(&h("deflate")), Some(Coding::Deflate));
        assert_eq!(choose_coding(&h("gzip;q=0.5, deflate")), Some(Coding::Deflate));
        assert_eq!(choose_coding(&h("gzip;q=0")), None);
        assert_eq!(choose_coding(&h("br, identity")), None);
        assert_eq!(choose_coding(&h("*")), Some(Coding::Gzip));
        assert_eq!(choose_coding(&HeaderMap::new()), None);
        let cfg = HttpCompression::default();
        assert_eq!(compress_body(&cfg, Some(Coding::Gzip), &[b'x'; 1023]), None);
        let gz = compress_body(&cfg, Some(Coding::Gzip), &[b'x'; 1024]).expect("gzip");
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut plain).expect("gunzip");
        assert_eq!(plain, [b'x'; 1024]);
    }
}
