//! WebSocket framing (RFC 6455) over an upgraded HTTP connection: the server's side, and the
//! client's for `sio-client` ([`WsConn::client`]: it reads unmasked frames and masks what it
//! writes).
//!
//! Written for many idle connections: a connection owns no read or write buffer while it is
//! idle. Reads go into a per-thread scratch buffer and only the bytes that arrived are kept
//! (one allocation per read, which the messages then share); a partial frame keeps its bytes
//! until it completes. Writes are encoded into a per-thread buffer and written at once; only
//! what the socket does not take waits in a buffer of the connection.
//!
//! The one extension is permessage-deflate (RFC 7692), when the handshake agreed on it
//! ([`super::compress`]): RSV1 marks the first frame of a compressed message; any other
//! reserved bit, or RSV1 on a control or continuation frame or without the extension, is a
//! protocol error. A compressed message is inflated once whole, at most to the size limit
//! (1009 beyond it, 1007 for data that is not deflate). Client frames must be masked;
//! control frames are at most 125 bytes and never fragmented; text messages must be UTF-8.
//! A ping is answered with a pong on the next write.
//!
//! A peer's close frame is echoed with its status code when that code is one a peer may send
//! (RFC 6455 §7.4); any other code is a protocol error. A protocol error is answered with a
//! close frame whose code says why (§7.4.1): 1007 for text that is not UTF-8, 1009 for a
//! message over the size limit, 1002 for everything else; then the connection is dropped.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf as _, Bytes, BytesMut};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::compress::{Deflate, InflateError};
use super::packet::Frame;

/// The transport under the WebSocket.
pub(crate) type Io = TokioIo<Upgraded>;

/// Bytes read from the socket per read call when no frame is partially buffered.
const MIN_READ: usize = 1024;
/// Largest read straight into a partial frame's buffer (zeroed before each read).
const MAX_DIRECT_READ: usize = 64 * 1024;
/// Bytes encoded per write call; more frames wait for the next round.
const WRITE_CHUNK: usize = 64 * 1024;

thread_local! {
    static READ_SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static WRITE_SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

const OP_CONTINUATION: u8 = 0x0;
const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;
/// The first header bit after FIN: a compressed message (RFC 7692 §6).
const RSV1: u8 = 0x40;

/// A message from the peer.
#[derive(Debug, PartialEq, Eq)]
pub enum WsMessage {
    /// A text message (valid UTF-8).
    Text(Bytes),
    /// A binary message.
    Binary(Bytes),
    /// The client sent a close frame.
    Close,
}

/// Status codes of the close frames this side sends on a protocol error (RFC 6455 §7.4.1).
pub(crate) const CLOSE_PROTOCOL_ERROR: u16 = 1002;
pub(crate) const CLOSE_INVALID_DATA: u16 = 1007;
pub(crate) const CLOSE_TOO_BIG: u16 = 1009;

/// Why a WebSocket connection cannot go on.
#[derive(Debug)]
pub enum WsError {
    /// The connection went away: end of stream without a close frame, reset, I/O error.
    Gone(io::Error),
    /// The peer broke the protocol or a size limit; the close frame sent back carries `code`.
    Protocol {
        /// The status code of the close frame sent back.
        code: u16,
        /// What the peer did.
        what: &'static str,
    },
}

impl WsError {
    /// A protocol error answered with 1002.
    fn protocol(what: &'static str) -> Self {
        WsError::Protocol { code: CLOSE_PROTOCOL_ERROR, what }
    }
}

impl fmt::Display for WsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WsError::Gone(e) => write!(f, "connection lost: {e}"),
            WsError::Protocol { code, what } => write!(f, "websocket protocol error ({code}): {what}"),
        }
    }
}

/// Whether a peer may send `code` in a close frame (RFC 6455 §7.4.1 and §7.4.2, and the
/// codes registered since: 1012 to 1014). 1004 is reserved; 1005, 1006 and 1015 only stand
/// for "no code", "no close frame" and "TLS failure" locally and are never sent.
fn valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

impl From<io::Error> for WsError {
    fn from(e: io::Error) -> Self {
        WsError::Gone(e)
    }
}

/// A fragmented message being assembled.
struct Fragments {
    text: bool,
    /// The message is compressed (RSV1 on its first frame).
    compressed: bool,
    data: BytesMut,
}

/// Where the close handshake stands on our side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CloseOut {
    None,
    /// A close frame is to be written, with this status code (echoed from the peer's).
    Queued(Option<u16>),
    Written,
}

/// One WebSocket connection over `T` (an upgraded HTTP connection; the fuzz target uses
/// bytes in memory), the server's side unless made with [`WsConn::client`].
pub(crate) struct WsConn<T = Io> {
    io: T,
    /// The client's side: frames read are unmasked, frames written are masked.
    client: bool,
    max_message: usize,
    read_size: usize,
    /// Received bytes not parsed yet (a partial frame); no allocation while empty.
    rbuf: BytesMut,
    /// Further buffers of whole frames from the same read, the next one last.
    queued: Vec<BytesMut>,
    fragments: Option<Fragments>,
    /// The status code of our close frame: the peer's, echoed, or that of the protocol error
    /// the peer made.
    close_code: Option<u16>,
    /// Payload of the last ping, answered on the next write.
    pong: Option<Bytes>,
    close: CloseOut,
    /// Encoded bytes the socket did not take yet; no allocation while empty.
    wbuf: Vec<u8>,
    wpos: usize,
    /// permessage-deflate, when negotiated.
    deflate: Option<Box<Deflate>>,
    /// Engine.IO v3: binary messages carry the packet type (`4`) as their first byte.
    eio3: bool,
}

impl<T> fmt::Debug for WsConn<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsConn")
            .field("buffered_in", &(self.rbuf.len() + self.queued.iter().map(BytesMut::len).sum::<usize>()))
            .field("buffered_out", &(self.wbuf.len() - self.wpos))
            .finish_non_exhaustive()
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> WsConn<T> {
    /// A connection whose handshake is done. `max_message` bounds a message (and so a
    /// frame); `read_size` is how much one read takes from the socket.
    pub(crate) fn new(io: T, max_message: usize, read_size: usize) -> Self {
        Self {
            io,
            client: false,
            max_message,
            read_size: read_size.max(MIN_READ),
            rbuf: BytesMut::new(),
            queued: Vec::new(),
            fragments: None,
            close_code: None,
            pong: None,
            close: CloseOut::None,
            wbuf: Vec::new(),
            wpos: 0,
            deflate: None,
            eio3: false,
        }
    }

    /// The client's side of a connection whose handshake is done: it refuses masked frames
    /// (RFC 6455 §5.1) and masks every frame it writes with a fresh key (§5.3).
    pub(crate) fn client(io: T, max_message: usize, read_size: usize) -> Self {
        Self { client: true, ..Self::new(io, max_message, read_size) }
    }

    /// Uses permessage-deflate as the handshake agreed.
    pub(crate) fn set_deflate(&mut self, deflate: Option<Box<Deflate>>) {
        self.deflate = deflate;
    }

    /// The Engine.IO revision spoken over this connection (v4 unless told otherwise).
    pub(crate) fn set_protocol(&mut self, protocol: super::ProtocolVersion) {
        self.eio3 = protocol == super::ProtocolVersion::V3;
    }

    /// Whether binary messages carry the Engine.IO v3 type byte.
    pub(crate) fn is_eio3(&self) -> bool {
        self.eio3
    }

    /// The next message. Pings and pongs are handled here.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Result<WsMessage, WsError>> {
        loop {
            match self.parse() {
                Ok(Some(msg)) => return Poll::Ready(Ok(msg)),
                Ok(None) => {}
                Err(e) => {
                    if let WsError::Protocol { code, .. } = e {
                        // The close frame says why (RFC 6455 §7.1.7).
                        self.close_code = Some(code);
                    }
                    return Poll::Ready(Err(e));
                }
            }
            ready!(self.poll_fill(cx))?;
        }
    }

    /// Reads once from the socket into `rbuf`.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        let io = Pin::new(&mut self.io);
        let n = if self.rbuf.is_empty() {
            // The common case, a whole number of frames per read: read into the thread's
            // scratch buffer and keep only what arrived.
            let read_size = self.read_size;
            let (rbuf, queued) = (&mut self.rbuf, &mut self.queued);
            READ_SCRATCH.with(|scratch| {
                let mut scratch = scratch.borrow_mut();
                if scratch.len() < read_size {
                    scratch.resize(read_size, 0);
                }
                let mut rb = ReadBuf::new(&mut scratch[..read_size]);
                ready!(io.poll_read(cx, &mut rb))?;
                let filled = rb.filled();
                if !filled.is_empty() {
                    split_frames(filled, rbuf, queued);
                }
                Poll::Ready(Ok::<_, io::Error>(filled.len()))
            })
        } else {
            // A partial frame: read into its own buffer, which `parse` sized for the frame.
            let len = self.rbuf.len();
            if self.rbuf.capacity() - len < MIN_READ {
                self.rbuf.reserve(self.read_size);
            }
            let room = (self.rbuf.capacity() - len).min(MAX_DIRECT_READ);
            self.rbuf.resize(len + room, 0);
            let mut rb = ReadBuf::new(&mut self.rbuf[len..]);
            let r = io.poll_read(cx, &mut rb);
            let n = rb.filled().len();
            self.rbuf.truncate(len + n);
            ready!(r)?;
            Poll::Ready(Ok(n))
        };
        match ready!(n) {
            Ok(0) => Poll::Ready(Err(WsError::Gone(io::ErrorKind::UnexpectedEof.into()))),
            Ok(_) => Poll::Ready(Ok(())),
            Err(e) => Poll::Ready(Err(e.into())),
        }
    }

    /// Takes complete frames out of `rbuf` until one completes a message.
    fn parse(&mut self) -> Result<Option<WsMessage>, WsError> {
        loop {
            if self.rbuf.is_empty() {
                match self.queued.pop() {
                    Some(next) => self.rbuf = next,
                    None => return Ok(None),
                }
            }
            let b = &self.rbuf[..];
            let have = b.len();
            if have < 2 {
                return Ok(None);
            }
            let (b0, b1) = (b[0], b[1]);
            let fin = b0 & 0x80 != 0;
            let opcode = b0 & 0x0F;
            if b0 & 0x30 != 0 {
                return Err(WsError::protocol("reserved bits set"));
            }
            let compressed = b0 & 0x40 != 0;
            if compressed && (self.deflate.is_none() || !matches!(opcode, OP_TEXT | OP_BINARY)) {
                // RSV1 is only for the first frame of a message, and only with the extension.
                return Err(WsError::protocol("reserved bits set"));
            }
            // Frames from a client are masked, frames from a server are not (§5.1).
            if (b1 & 0x80 == 0) != self.client {
                return Err(WsError::protocol(if self.client {
                    "masked server frame"
                } else {
                    "unmasked client frame"
                }));
            }
            let mask_len = if self.client { 0 } else { 4 };
            let (len, at) = match b1 & 0x7F {
                126 => match b.get(2..4) {
                    Some(l) => (u64::from(u16::from_be_bytes([l[0], l[1]])), 4),
                    None => return Ok(None),
                },
                127 => match b.get(2..10) {
                    Some(l) => {
                        let mut a = [0u8; 8];
                        a.copy_from_slice(l);
                        (u64::from_be_bytes(a), 10)
                    }
                    None => return Ok(None),
                },
                n => (u64::from(n), 2),
            };
            let control = opcode & 0x08 != 0;
            if control && (!fin || len > 125) {
                return Err(WsError::protocol("bad control frame"));
            }
            if !matches!(opcode, OP_CONTINUATION | OP_TEXT | OP_BINARY | OP_CLOSE | OP_PING | OP_PONG) {
                return Err(WsError::protocol("unknown opcode"));
            }
            let assembled = self.fragments.as_ref().map_or(0, |f| f.data.len());
            let len = match usize::try_from(len) {
                Ok(l) if l.saturating_add(assembled) <= self.max_message || control => l,
                _ => return Err(WsError::Protocol { code: CLOSE_TOO_BIG, what: "message too long" }),
            };
            let total = at + mask_len + len;
            if have < total {
                // Make room for the whole frame, so the rest is read straight into place.
                self.rbuf.reserve(total - have);
                return Ok(None);
            }
            let mask = (!self.client).then(|| [b[at], b[at + 1], b[at + 2], b[at + 3]]);
            self.rbuf.advance(at + mask_len);
            let mut payload = self.rbuf.split_to(len);
            if self.rbuf.is_empty() {
                // Let go of the read buffer: the messages hold on to what they need.
                self.rbuf = BytesMut::new();
            }
            if let Some(mask) = mask {
                unmask(&mut payload, mask);
            }
            match opcode {
                OP_PING => self.pong = Some(payload.freeze()),
                OP_PONG => {}
                OP_CLOSE => {
                    if payload.len() == 1 {
                        return Err(WsError::protocol("bad close frame"));
                    }
                    if payload.len() >= 2 {
                        let code = u16::from_be_bytes([payload[0], payload[1]]);
                        if !valid_close_code(code) {
                            return Err(WsError::protocol("invalid close code"));
                        }
                        if std::str::from_utf8(&payload[2..]).is_err() {
                            return Err(WsError::Protocol {
                                code: CLOSE_INVALID_DATA,
                                what: "close reason is not UTF-8",
                            });
                        }
                        self.close_code = Some(code);
                    }
                    return Ok(Some(WsMessage::Close));
                }
                OP_TEXT | OP_BINARY => {
                    if self.fragments.is_some() {
                        return Err(WsError::protocol("new message inside a fragmented one"));
                    }
                    let text = opcode == OP_TEXT;
                    if fin {
                        let data = self.inflated(compressed, payload)?;
                        return message(text, data).map(Some);
                    }
                    self.fragments = Some(Fragments { text, compressed, data: payload });
                }
                _ => {
                    let Some(frag) = self.fragments.as_mut() else {
                        return Err(WsError::protocol("continuation without a message"));
                    };
                    frag.data.extend_from_slice(&payload);
                    if fin && let Some(f) = self.fragments.take() {
                        let data = self.inflated(f.compressed, f.data)?;
                        return message(f.text, data).map(Some);
                    }
                }
            }
        }
    }

    /// A message's payload: as it came, or inflated (at most to the size limit).
    fn inflated(&mut self, compressed: bool, payload: BytesMut) -> Result<Bytes, WsError> {
        let Some(deflate) = self.deflate.as_mut().filter(|_| compressed) else { return Ok(payload.freeze()) };
        match deflate.decompress(&payload, self.max_message) {
            Ok(data) => Ok(Bytes::from(data)),
            Err(InflateError::TooBig) => {
                Err(WsError::Protocol { code: CLOSE_TOO_BIG, what: "message too long" })
            }
            Err(InflateError::Invalid) => {
                Err(WsError::Protocol { code: CLOSE_INVALID_DATA, what: "invalid compressed data" })
            }
        }
    }

    /// Writes `frames` (taking them from the front), after what is pending: an unsent rest,
    /// a pong, and last a close frame once queued. Ready when everything was handed to the
    /// socket; `frames` is then empty.
    pub(crate) fn poll_write<F: WireFrame>(
        &mut self,
        cx: &mut Context<'_>,
        frames: &mut VecDeque<F>,
    ) -> Poll<Result<(), WsError>> {
        let masked = self.client;
        loop {
            while self.wpos < self.wbuf.len() {
                let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.wbuf[self.wpos..]))?;
                if n == 0 {
                    return Poll::Ready(Err(io::Error::from(io::ErrorKind::WriteZero).into()));
                }
                self.wpos += n;
            }
            if !self.wbuf.is_empty() {
                self.wbuf = Vec::new();
                self.wpos = 0;
            }
            let close_due = matches!(self.close, CloseOut::Queued(_)) && frames.is_empty();
            if self.pong.is_none() && frames.is_empty() && !close_due {
                return Poll::Ready(Ok(()));
            }
            let blocked = WRITE_SCRATCH.with(|scratch| {
                let mut out = scratch.borrow_mut();
                out.clear();
                if let Some(p) = self.pong.take() {
                    encode(&mut out, OP_PONG, &p, masked);
                }
                while out.len() < WRITE_CHUNK {
                    let Some(frame) = frames.pop_front() else { break };
                    let (text, payload) = frame.wire();
                    let (opcode, prefix) =
                        if text { (OP_TEXT, None) } else { (OP_BINARY, self.eio3.then_some(V3_MESSAGE)) };
                    let len = payload.len() + usize::from(prefix.is_some());
                    match (self.deflate.as_mut(), prefix) {
                        (Some(d), None) if d.wants(len) => {
                            d.compress(payload, |z| encode(&mut out, RSV1 | opcode, z, masked));
                        }
                        (Some(d), Some(p)) if d.wants(len) => {
                            let whole = [&[p][..], payload].concat();
                            d.compress(&whole, |z| encode(&mut out, RSV1 | opcode, z, masked));
                        }
                        (_, None) => encode(&mut out, opcode, payload, masked),
                        (_, Some(p)) => encode_prefixed(&mut out, opcode, p, payload, masked),
                    }
                }
                if let (CloseOut::Queued(code), true) = (self.close, frames.is_empty()) {
                    let payload = code.map(u16::to_be_bytes);
                    encode(&mut out, OP_CLOSE, payload.as_ref().map_or(&[][..], |p| &p[..]), masked);
                    self.close = CloseOut::Written;
                }
                let mut at = 0;
                let mut blocked = false;
                while at < out.len() {
                    match Pin::new(&mut self.io).poll_write(cx, &out[at..]) {
                        Poll::Ready(Ok(0)) => {
                            return Err(io::Error::from(io::ErrorKind::WriteZero));
                        }
                        Poll::Ready(Ok(n)) => at += n,
                        Poll::Ready(Err(e)) => return Err(e),
                        Poll::Pending => {
                            blocked = true;
                            break;
                        }
                    }
                }
                if at < out.len() {
                    self.wbuf = out[at..].to_vec();
                    self.wpos = 0;
                }
                if out.capacity() > 4 * WRITE_CHUNK {
                    // A very large frame went through: do not keep its buffer for the thread.
                    *out = Vec::new();
                }
                Ok(blocked)
            })?;
            if blocked {
                return Poll::Pending;
            }
        }
    }

    /// Whether written frames are waiting for the socket (or a pong for its turn).
    pub(crate) fn has_pending_writes(&self) -> bool {
        self.wpos < self.wbuf.len() || self.pong.is_some() || matches!(self.close, CloseOut::Queued(_))
    }

    /// Queues the close frame (after every frame written before it), with the code of the
    /// peer's protocol error, or echoing the peer's status code if it sent one. Written by
    /// the next [`poll_write`](Self::poll_write).
    pub(crate) fn queue_close(&mut self) {
        if self.close == CloseOut::None {
            self.close = CloseOut::Queued(self.close_code);
        }
    }

    /// Reads the next message.
    pub(crate) async fn recv(&mut self) -> Result<WsMessage, WsError> {
        std::future::poll_fn(|cx| self.poll_next(cx)).await
    }

    /// Writes one frame now.
    pub(crate) async fn send<F: WireFrame>(&mut self, frame: F) -> Result<(), WsError> {
        let mut frames = VecDeque::from([frame]);
        std::future::poll_fn(|cx| self.poll_write(cx, &mut frames)).await
    }

    /// Sends a close frame and ends the connection (without waiting for the peer's).
    pub(crate) async fn close(mut self) {
        self.queue_close();
        let mut none = VecDeque::<Frame>::new();
        let _ = std::future::poll_fn(|cx| self.poll_write(cx, &mut none)).await;
    }
}

/// A frame to write: whether it is text, and its payload.
pub trait WireFrame {
    /// (text, payload): a text frame's payload is UTF-8.
    fn wire(&self) -> (bool, &[u8]);
}

impl WireFrame for Frame {
    fn wire(&self) -> (bool, &[u8]) {
        match self {
            Frame::Text(t) => (true, t.as_bytes()),
            Frame::Binary(b) => (false, b),
        }
    }
}

/// Bytes in one buffer of frames, at most (a longer frame stays whole).
const FRAMES_CHUNK: usize = 960;

/// Copies what one read brought into buffers of whole frames of at most [`FRAMES_CHUNK`]
/// bytes each (a longer frame, or the partial frame at the end, stays whole), the first into
/// `first`, the others into `rest` (the next one last). Each is then a small allocation, which
/// the allocator serves from its per-thread caches; one large buffer per read costs it several
/// times more.
fn split_frames(filled: &[u8], first: &mut BytesMut, rest: &mut Vec<BytesMut>) {
    let mut emit = |range: std::ops::Range<usize>, first: &mut BytesMut| {
        if first.is_empty() {
            *first = BytesMut::from(&filled[range]);
        } else {
            rest.push(BytesMut::from(&filled[range]));
        }
    };
    let (mut start, mut pos) = (0, 0);
    while let Some(len) = frame_len(&filled[pos..]) {
        let end = pos.saturating_add(len);
        if end > filled.len() {
            break;
        }
        if end - start > FRAMES_CHUNK && pos > start {
            emit(start..pos, first);
            start = pos;
        }
        pos = end;
    }
    emit(start..filled.len(), first);
    rest.reverse();
}

/// The length of the frame at the start of `b` (header, mask and payload), once its header
/// is complete.
fn frame_len(b: &[u8]) -> Option<usize> {
    let b1 = *b.get(1)?;
    let mask = if b1 & 0x80 != 0 { 4 } else { 0 };
    let (len, header) = match b1 & 0x7F {
        126 => (u64::from(u16::from_be_bytes([*b.get(2)?, *b.get(3)?])), 4),
        127 => {
            let mut a = [0u8; 8];
            a.copy_from_slice(b.get(2..10)?);
            (u64::from_be_bytes(a), 10)
        }
        n => (u64::from(n), 2),
    };
    usize::try_from(len).ok()?.checked_add(header + mask)
}

fn message(text: bool, data: Bytes) -> Result<WsMessage, WsError> {
    if !text {
        return Ok(WsMessage::Binary(data));
    }
    // Most messages are ASCII, which is checked several times faster than UTF-8.
    if !data.is_ascii() && std::str::from_utf8(&data).is_err() {
        return Err(WsError::Protocol { code: CLOSE_INVALID_DATA, what: "text message is not UTF-8" });
    }
    Ok(WsMessage::Text(data))
}

/// The Engine.IO v3 `message` type byte that starts a binary message.
const V3_MESSAGE: u8 = 4;

/// Appends a frame (`opcode` may carry RSV1): a server's unmasked, a client's `masked`.
#[inline]
fn encode(out: &mut Vec<u8>, opcode: u8, payload: &[u8], masked: bool) {
    if masked {
        encode_masked(out, opcode, &[], payload);
    } else {
        encode_header(out, opcode, payload.len(), 0);
        out.extend_from_slice(payload);
    }
}

/// Appends a frame whose payload is `first` then `rest`.
#[inline]
fn encode_prefixed(out: &mut Vec<u8>, opcode: u8, first: u8, rest: &[u8], masked: bool) {
    if masked {
        encode_masked(out, opcode, &[first], rest);
    } else {
        encode_header(out, opcode, rest.len() + 1, 0);
        out.push(first);
        out.extend_from_slice(rest);
    }
}

/// Appends a client's frame: a fresh masking key, then `first` and `rest`, masked (kept out
/// of the server's path, which stays as it was).
fn encode_masked(out: &mut Vec<u8>, opcode: u8, first: &[u8], rest: &[u8]) {
    encode_header(out, opcode, first.len() + rest.len(), 0x80);
    let mask = mask_key();
    out.extend_from_slice(&mask);
    let start = out.len();
    out.extend_from_slice(first);
    out.extend_from_slice(rest);
    unmask(&mut out[start..], mask);
}

/// Appends a frame's header; `mask_bit` is 0x80 for a masked frame (its key follows).
#[inline]
fn encode_header(out: &mut Vec<u8>, opcode: u8, len: usize, mask_bit: u8) {
    out.push(0x80 | opcode);
    if len < 126 {
        out.push(mask_bit | len as u8);
    } else if let Ok(l) = u16::try_from(len) {
        out.push(mask_bit | 126);
        out.extend_from_slice(&l.to_be_bytes());
    } else {
        out.push(mask_bit | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

thread_local! {
    /// The masking keys of the client's frames: a ChaCha12 generator per thread, seeded from
    /// the thread's own (which the OS seeds). RFC 6455 §10.3 asks for keys a script cannot
    /// predict; `rand::random` per frame (what tungstenite does) cost ~150 instructions a
    /// frame, this ~20.
    static MASKS: RefCell<rand::rngs::StdRng> =
        RefCell::new(rand::SeedableRng::from_rng(&mut rand::rng()));
}

/// A fresh masking key.
fn mask_key() -> [u8; 4] {
    MASKS.with(|r| rand::RngCore::next_u32(&mut *r.borrow_mut()).to_ne_bytes())
}

/// XORs `buf` with the 4-byte `mask`, 8 bytes at a time.
fn unmask(buf: &mut [u8], mask: [u8; 4]) {
    let mut wide = [0u8; 8];
    wide[..4].copy_from_slice(&mask);
    wide[4..].copy_from_slice(&mask);
    let wide = u64::from_ne_bytes(wide);
    let mut chunks = buf.chunks_exact_mut(8);
    for c in &mut chunks {
        let mut a = [0u8; 8];
        a.copy_from_slice(c);
        c.copy_from_slice(&(u64::from_ne_bytes(a) ^ wide).to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
}

/// The frame parser on bytes in memory, for the fuzz target.
#[cfg(any(test, feature = "__internals"))]
pub(crate) mod fuzz {
    use super::*;

    /// Client bytes, handed out `chunk` at a time, then end of stream; writes are taken whole
    /// and kept.
    struct Chunked<'a> {
        data: &'a [u8],
        chunk: usize,
        written: Vec<u8>,
    }

    impl AsyncRead for Chunked<'_> {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let n = self.chunk.min(self.data.len()).min(buf.remaining());
            buf.put_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Poll::Ready(Ok(()))
        }
    }

    impl AsyncWrite for Chunked<'_> {
        fn poll_write(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
            self.written.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// How a connection ended.
    #[derive(Debug, PartialEq, Eq)]
    enum End {
        /// The peer's close frame.
        PeerClose,
        /// A protocol error, answered with this close code.
        Failed(u16),
        /// End of stream.
        Gone,
    }

    /// What a connection (the server's side, or the `client`'s) makes of `data` read `chunk`
    /// bytes at a time: its messages, how it ended, and what it wrote back (pongs, then the
    /// close frame, which is checked here; a client's frames unmasked).
    fn run(
        data: &[u8],
        chunk: usize,
        max: usize,
        deflate: bool,
        client: bool,
    ) -> (Vec<WsMessage>, End, Vec<u8>) {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let io = Chunked { data, chunk, written: Vec::new() };
        let mut ws = if client { WsConn::client(io, max, MIN_READ) } else { WsConn::new(io, max, MIN_READ) };
        // With context takeover: compressed messages build on the ones before.
        let agreed = super::super::compress::Agreed {
            threshold: 1024,
            level: 1,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
        };
        ws.set_deflate(deflate.then(|| Box::new(Deflate::new(agreed))));
        let mut out = Vec::new();
        let end = loop {
            // The reader never waits, so neither does the parser.
            let Poll::Ready(next) = ws.poll_next(&mut cx) else { unreachable!("in-memory reads are ready") };
            match next {
                Ok(WsMessage::Close) => break End::PeerClose,
                Ok(msg) => {
                    let (WsMessage::Text(b) | WsMessage::Binary(b)) = &msg else { unreachable!() };
                    assert!(b.len() <= max, "message over the limit");
                    if let WsMessage::Text(t) = &msg {
                        assert!(std::str::from_utf8(t).is_ok(), "text message not UTF-8");
                    }
                    out.push(msg);
                }
                Err(WsError::Protocol { code, .. }) => break End::Failed(code),
                Err(WsError::Gone(_)) => break End::Gone,
            }
            // Answers a ping if one came, as the session does between messages.
            let mut none = VecDeque::<Frame>::new();
            let Poll::Ready(w) = ws.poll_write(&mut cx, &mut none) else { unreachable!("writes are taken") };
            w.expect("in-memory write");
        };
        ws.queue_close();
        let mut none = VecDeque::<Frame>::new();
        let Poll::Ready(w) = ws.poll_write(&mut cx, &mut none) else { unreachable!("writes are taken") };
        w.expect("in-memory write");
        assert!(!ws.has_pending_writes());
        // However it ended, the last frame written is a close frame: with the code of the
        // protocol error, the peer's code echoed (only one a peer may send), or none.
        let written = unmasked(&ws.io.written, client);
        let close = last_close_payload(&written).expect("no close frame written");
        match (&end, close) {
            (End::Failed(code), c) => {
                assert!(matches!(*code, CLOSE_PROTOCOL_ERROR | CLOSE_INVALID_DATA | CLOSE_TOO_BIG));
                assert_eq!(c, code.to_be_bytes(), "close code of a protocol error");
            }
            (End::PeerClose, []) | (End::Gone, []) => {}
            (End::PeerClose, &[a, b]) => {
                assert!(valid_close_code(u16::from_be_bytes([a, b])), "an invalid close code echoed");
            }
            (_, c) => panic!("{end:?} answered with close payload {c:?}"),
        }
        (out, end, written)
    }

    /// The frames a connection wrote, short control frames, with the client's masks taken
    /// off (each must be masked, with a key of its own; a server's never).
    pub(super) fn unmasked(mut written: &[u8], client: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut keys = Vec::new();
        while let Some((&[b0, b1], rest)) = written.split_first_chunk::<2>() {
            assert_eq!(b1 & 0x80 != 0, client, "a frame masked by a server or unmasked by a client");
            let len = usize::from(b1 & 0x7F);
            assert!(len < 126, "control frame too long");
            out.extend_from_slice(&[b0, b1 & 0x7F]);
            let (key, rest) = if client {
                let (&key, rest) = rest.split_first_chunk::<4>().expect("a masking key");
                keys.push(key);
                (key, rest)
            } else {
                ([0; 4], rest)
            };
            let (payload, rest) = rest.split_at_checked(len).expect("a whole frame");
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
            written = rest;
        }
        assert!(written.is_empty(), "a partial frame written");
        if keys.len() > 1 {
            assert!(keys.windows(2).any(|w| w[0] != w[1]), "the same masking key for every frame");
        }
        out
    }

    /// The payload of the close frame that ends `written`, a sequence of pongs and one close
    /// frame (short unmasked control frames).
    fn last_close_payload(mut written: &[u8]) -> Option<&[u8]> {
        loop {
            let (&[b0, len], rest) = written.split_first_chunk::<2>()?;
            assert!(len < 126, "control frame too long");
            let (payload, rest) = rest.split_at_checked(usize::from(len))?;
            match b0 {
                0x8A => written = rest,
                0x88 if rest.is_empty() => return Some(payload),
                _ => panic!("unexpected frame {b0:#x} written"),
            }
        }
    }

    /// The first byte picks a read size (1 to 128 bytes) and, with its high bit, whether
    /// permessage-deflate was negotiated; the rest is what the peer sent, read by the
    /// server's side and (without deflate, which `sio-client` never asks for) by the
    /// client's. The outcome must not depend on how the bytes were cut into reads.
    pub(crate) fn frames(data: &[u8]) {
        let Some((&seed, wire)) = data.split_first() else { return };
        let max = 4096;
        let deflate = seed & 0x80 != 0;
        for client in [false, true] {
            if client && deflate {
                continue;
            }
            let whole = run(wire, usize::MAX, max, deflate, client);
            let cut = run(wire, usize::from(seed & 0x7F) + 1, max, deflate, client);
            assert_eq!(whole, cut, "the outcome depends on the read size");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fuzz_unmasked(written: &[u8]) -> Vec<u8> {
        fuzz::unmasked(written, true)
    }

    fn masked(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [0x12, 0x34, 0x56, 0x78];
        let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
        let len = payload.len();
        if len < 126 {
            out.push(0x80 | len as u8);
        } else if len <= 0xFFFF {
            out.push(0x80 | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            out.push(0x80 | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    /// A connected pair: the server's `WsConn` and the client's raw end.
    async fn pair(max: usize) -> (WsConn, tokio::io::DuplexStream) {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let (client, server) = tokio::io::duplex(1 << 20);
        let conn = hyper::server::conn::http1::Builder::new().serve_connection(
            TokioIo::new(server),
            hyper::service::service_fn(|mut req: http::Request<hyper::body::Incoming>| async move {
                let on = hyper::upgrade::on(&mut req);
                tokio::spawn(async move {
                    let io = on.await.expect("upgrade");
                    UPGRADED.with(|u| u.borrow_mut().push(io));
                });
                Ok::<_, std::convert::Infallible>(
                    http::Response::builder()
                        .status(101)
                        .header("upgrade", "websocket")
                        .header("connection", "upgrade")
                        .body(http_body_util::Empty::<Bytes>::new())
                        .expect("response"),
                )
            }),
        );
        tokio::spawn(conn.with_upgrades());
        let mut client = client;
        client
            .write_all(b"GET / HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n")
            .await
            .expect("write");
        let mut head = vec![0u8; 1024];
        let mut got = 0;
        while !head[..got].ends_with(b"\r\n\r\n") {
            got += client.read(&mut head[got..]).await.expect("read");
        }
        let io = loop {
            tokio::task::yield_now().await;
            if let Some(io) = UPGRADED.with(|u| u.borrow_mut().pop()) {
                break io;
            }
        };
        (WsConn::new(TokioIo::new(io), max, 4096), client)
    }

    thread_local! {
        static UPGRADED: RefCell<Vec<Upgraded>> = const { RefCell::new(Vec::new()) };
    }

    #[test]
    fn unmask_matches_the_bytewise_definition() {
        let mask = [1, 2, 3, 4];
        for n in 0..40 {
            let orig: Vec<u8> = (0..n as u8).collect();
            let mut buf = orig.clone();
            unmask(&mut buf, mask);
            let expected: Vec<u8> = orig.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]).collect();
            assert_eq!(buf, expected);
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_client_and_a_server_talk_both_ways_and_the_client_masks_every_frame() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let (a, b) = tokio::io::duplex(1 << 20);
        let mut server = WsConn::new(a, 1 << 20, MIN_READ);
        let mut client = WsConn::client(b, 1 << 20, MIN_READ);
        let big = "y".repeat(70_000);
        let frames =
            [Frame::message("hello"), Frame::Binary(Bytes::from_static(&[0, 1, 2])), Frame::message(&big)];
        // Client to server: the server's side refuses unmasked frames, so these were masked.
        let mut out = VecDeque::from(frames.clone());
        std::future::poll_fn(|cx| client.poll_write(cx, &mut out)).await.expect("client writes");
        assert_eq!(server.recv().await.expect("text"), WsMessage::Text(Bytes::from_static(b"4hello")));
        assert_eq!(server.recv().await.expect("binary"), WsMessage::Binary(Bytes::from_static(&[0, 1, 2])));
        assert_eq!(server.recv().await.expect("big"), WsMessage::Text(Bytes::from(format!("4{big}"))));
        // Server to client: unmasked, as the client's side expects.
        let mut out = VecDeque::from(frames);
        std::future::poll_fn(|cx| server.poll_write(cx, &mut out)).await.expect("server writes");
        assert_eq!(client.recv().await.expect("text"), WsMessage::Text(Bytes::from_static(b"4hello")));
        assert_eq!(client.recv().await.expect("binary"), WsMessage::Binary(Bytes::from_static(&[0, 1, 2])));
        assert_eq!(client.recv().await.expect("big"), WsMessage::Text(Bytes::from(format!("4{big}"))));
        // The client's close frame reaches the server, which echoes it.
        client.close().await;
        assert_eq!(server.recv().await.expect("close"), WsMessage::Close);

        // A server's ping is answered with a masked pong; a masked frame from a server is
        // refused with 1002 (RFC 6455 §5.1), in a masked close frame.
        let (mut raw, b) = tokio::io::duplex(1 << 16);
        let mut client = WsConn::client(b, 1 << 20, MIN_READ);
        raw.write_all(&[0x89, 2, b'p', b'q']).await.expect("write");
        raw.write_all(&masked(true, OP_TEXT, b"4x")).await.expect("write");
        match client.recv().await {
            Err(WsError::Protocol { code: CLOSE_PROTOCOL_ERROR, what }) => {
                assert_eq!(what, "masked server frame")
            }
            other => panic!("a masked server frame gave {other:?}"),
        }
        client.close().await;
        let mut written = Vec::new();
        raw.read_to_end(&mut written).await.expect("read");
        let plain = fuzz_unmasked(&written);
        assert_eq!(
            plain,
            [&[0x8A, 2, b'p', b'q'][..], &[0x88, 2], &CLOSE_PROTOCOL_ERROR.to_be_bytes()].concat()
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn reads_messages_fragments_and_answers_pings() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let (mut ws, mut client) = pair(1 << 20).await;
        let big = vec![b'x'; 70_000];
        let mut wire = masked(true, OP_TEXT, b"hello");
        wire.extend(masked(false, OP_BINARY, b"ab"));
        wire.extend(masked(true, OP_PING, b"p"));
        wire.extend(masked(true, OP_CONTINUATION, b"cd"));
        wire.extend(masked(true, OP_TEXT, &big));
        wire.extend(masked(true, OP_CLOSE, &1000u16.to_be_bytes()));
        // Byte by byte for the first frames, then the rest at once.
        for b in &wire[..9] {
            client.write_all(&[*b]).await.expect("write");
        }
        client.write_all(&wire[9..]).await.expect("write");
        assert_eq!(ws.recv().await.expect("text"), WsMessage::Text(Bytes::from_static(b"hello")));
        assert_eq!(ws.recv().await.expect("binary"), WsMessage::Binary(Bytes::from_static(b"abcd")));
        assert_eq!(ws.recv().await.expect("big"), WsMessage::Text(Bytes::from(big.clone())));
        assert_eq!(ws.recv().await.expect("close"), WsMessage::Close);
        ws.send(Frame::message("x")).await.expect("send");
        ws.close().await;
        let mut out = Vec::new();
        client.read_to_end(&mut out).await.expect("read");
        assert_eq!(out, [&[0x8A, 1, b'p'][..], &[0x81, 2, b'4', b'x'], &[0x88, 2, 0x03, 0xE8]].concat());
    }

    #[test]
    fn reads_are_cut_into_small_buffers_of_whole_frames() {
        let mut wire = Vec::new();
        for i in 0..40u8 {
            wire.extend(masked(true, OP_TEXT, &[b'a' + i % 26; 90]));
        }
        wire.extend(masked(true, OP_BINARY, &[7; 2000]));
        wire.extend(masked(true, OP_TEXT, b"tail")[..5].iter());
        let (mut first, mut rest) = (BytesMut::new(), Vec::new());
        split_frames(&wire, &mut first, &mut rest);
        let mut all = vec![first];
        all.extend(rest.into_iter().rev());
        assert_eq!(all.concat(), wire);
        // 96-byte frames, 10 per buffer; then the long frame with the partial one after it.
        assert_eq!(all.iter().map(BytesMut::len).collect::<Vec<_>>(), [960, 960, 960, 960, 2013]);
    }

    /// The fuzz target's seeds, each under every read size: whatever the cut, the same
    /// messages and the same ending.
    #[test]
    fn fuzz_seeds_parse_the_same_under_every_read_size() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/ws_frames");
        let mut seeds = 0;
        for entry in std::fs::read_dir(&dir).expect("seed corpus") {
            let mut data = std::fs::read(entry.expect("seed").path()).expect("seed");
            for cut in 0..=u8::MAX {
                data[0] = cut;
                fuzz::frames(&data);
            }
            seeds += 1;
        }
        assert!(seeds >= 5, "seeds found: {seeds}");
    }

    /// The compressed seeds, mutated at random (a few bytes flipped, cut, or repeated): the
    /// deflate path never panics and parses the same under any read size. A cheap stand-in
    /// for the fuzz target where cargo-fuzz is not at hand.
    #[test]
    fn mutated_compressed_frames_parse_the_same_under_every_read_size() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/ws_frames");
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for name in ["deflate", "deflate-bomb", "deflate-rsv1-continuation"] {
            let seed = std::fs::read(dir.join(name)).expect("seed");
            for _ in 0..3000 {
                let mut data = seed.clone();
                for _ in 0..1 + next() % 4 {
                    let at = 1 + (next() as usize) % (data.len() - 1);
                    match next() % 3 {
                        0 => data[at] ^= 1 << (next() % 8),
                        1 => data.truncate(at.max(2)),
                        _ => {
                            let tail = data[at..].to_vec();
                            data.extend_from_slice(&tail);
                        }
                    }
                }
                data[0] = 0x80 | (next() as u8 & 0x7F);
                fuzz::frames(&data);
            }
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn many_frames_in_one_read_come_out_in_order() {
        use tokio::io::AsyncWriteExt as _;
        let (mut ws, mut client) = pair(1 << 20).await;
        let mut wire = Vec::new();
        for i in 0..100u32 {
            wire.extend(masked(true, OP_TEXT, format!("{i:0>80}").as_bytes()));
        }
        client.write_all(&wire).await.expect("write");
        for i in 0..100u32 {
            let expected = Bytes::from(format!("{i:0>80}"));
            assert_eq!(ws.recv().await.expect("message"), WsMessage::Text(expected));
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn refuses_protocol_violations_with_the_close_code_that_says_why() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let close =
            |code: u16, reason: &[u8]| masked(true, OP_CLOSE, &[&code.to_be_bytes()[..], reason].concat());
        let cases: Vec<(Vec<u8>, u16)> = vec![
            (vec![0x81, 0x00], 1002),                                    // unmasked
            ([&[0xC1][..], &masked(true, 1, b"a")[1..]].concat(), 1002), // RSV1
            ([&[0xA1][..], &masked(true, 1, b"a")[1..]].concat(), 1002), // RSV2
            ([&[0x91][..], &masked(true, 1, b"a")[1..]].concat(), 1002), // RSV3
            (masked(true, 0x3, b""), 1002),                              // unknown data opcode
            (masked(true, 0xB, b""), 1002),                              // unknown control opcode
            (masked(false, OP_PING, b""), 1002),                         // fragmented control frame
            (masked(true, OP_PING, &[0; 126]), 1002),                    // control frame too long
            (masked(true, OP_CONTINUATION, b"a"), 1002),                 // continuation without a message
            ([masked(false, OP_TEXT, b"a"), masked(true, OP_TEXT, b"b")].concat(), 1002),
            ([masked(false, OP_TEXT, b"a"), masked(true, OP_BINARY, b"b")].concat(), 1002),
            (masked(true, OP_TEXT, &[0xFF]), 1007), // not UTF-8
            ([masked(false, OP_TEXT, &[0xC3]), masked(true, OP_CONTINUATION, b"(")].concat(), 1007),
            (masked(true, OP_BINARY, &[0; 101]), 1009), // over the limit
            ([masked(false, OP_BINARY, &[0; 60]), masked(true, OP_CONTINUATION, &[0; 60])].concat(), 1009),
            (masked(true, OP_CLOSE, &[3]), 1002), // one-byte close payload
            (close(1000, &[0xFF]), 1007),         // close reason not UTF-8
            (close(0, b""), 1002),
            (close(999, b""), 1002),
            (close(1004, b""), 1002),
            (close(1005, b""), 1002),
            (close(1006, b""), 1002),
            (close(1015, b""), 1002),
            (close(1016, b""), 1002),
            (close(2999, b""), 1002),
            (close(5000, b""), 1002),
            (close(u16::MAX, b"x"), 1002),
        ];
        for (i, (wire, code)) in cases.into_iter().enumerate() {
            let (mut ws, mut client) = pair(100).await;
            client.write_all(&wire).await.expect("write");
            match ws.recv().await {
                Err(WsError::Protocol { code: c, .. }) => assert_eq!(c, code, "case {i}"),
                other => panic!("case {i}: {other:?}"),
            }
            ws.close().await;
            let mut out = Vec::new();
            client.read_to_end(&mut out).await.expect("read");
            assert_eq!(out, [&[0x88, 2][..], &code.to_be_bytes()].concat(), "case {i}: the close frame");
        }
        let (mut ws, client) = pair(100).await;
        drop(client);
        assert!(matches!(ws.recv().await, Err(WsError::Gone(_))));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn echoes_the_close_codes_a_peer_may_send() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        for code in [
            1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
        ] {
            let (mut ws, mut client) = pair(100).await;
            let wire = masked(true, OP_CLOSE, &[&code.to_be_bytes()[..], "bye é".as_bytes()].concat());
            client.write_all(&wire).await.expect("write");
            assert_eq!(ws.recv().await.expect("close"), WsMessage::Close, "{code}");
            ws.close().await;
            let mut out = Vec::new();
            client.read_to_end(&mut out).await.expect("read");
            assert_eq!(out, [&[0x88, 2][..], &code.to_be_bytes()].concat(), "{code} echoed");
        }
        // No code: an empty close frame back.
        let (mut ws, mut client) = pair(100).await;
        client.write_all(&masked(true, OP_CLOSE, b"")).await.expect("write");
        assert_eq!(ws.recv().await.expect("close"), WsMessage::Close);
        ws.close().await;
        let mut out = Vec::new();
        client.read_to_end(&mut out).await.expect("read");
        assert_eq!(out, [0x88, 0]);
    }

    /// Raw deflate of `data`, sync-flushed, without the tail (what a client sends).
    fn deflated(c: &mut flate2::Compress, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 64);
        c.compress_vec(data, &mut out, flate2::FlushCompress::Sync).expect("deflate");
        assert!(out.ends_with(&[0, 0, 0xFF, 0xFF]));
        out.truncate(out.len() - 4);
        out
    }

    fn with_deflate(ws: &mut WsConn, threshold: usize) {
        ws.set_deflate(Some(Box::new(Deflate::new(super::super::compress::Agreed {
            threshold,
            level: 6,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
        }))));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn permessage_deflate_both_ways() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let (mut ws, mut client) = pair(100_000).await;
        with_deflate(&mut ws, 1024);
        let mut c = flate2::Compress::new(flate2::Compression::default(), false);
        let big = format!("4{}", "compress me ".repeat(200));
        // One compressed frame, a compressed message in two fragments (RSV1 on the first
        // only), a plain message, a ping between fragments; context is taken over.
        let mut wire = Vec::new();
        let z = deflated(&mut c, big.as_bytes());
        wire.extend([&[0xC1][..], &masked(true, OP_TEXT, &z)[1..]].concat());
        let z = deflated(&mut c, big.as_bytes());
        let (a, b) = z.split_at(z.len() / 2);
        wire.extend([&[0x41][..], &masked(false, OP_TEXT, a)[1..]].concat());
        wire.extend(masked(true, OP_PING, b"p"));
        wire.extend(masked(true, OP_CONTINUATION, b));
        wire.extend(masked(true, OP_BINARY, b"plain"));
        client.write_all(&wire).await.expect("write");
        for _ in 0..2 {
            assert_eq!(ws.recv().await.expect("text"), WsMessage::Text(Bytes::from(big.clone())));
        }
        assert_eq!(ws.recv().await.expect("binary"), WsMessage::Binary(Bytes::from_static(b"plain")));
        // Above the threshold compressed, below plain.
        let long = "x".repeat(2000);
        ws.send(Frame::message(&long)).await.expect("send");
        ws.send(Frame::message("short")).await.expect("send");
        ws.close().await;
        let mut out = Vec::new();
        client.read_to_end(&mut out).await.expect("read");
        assert_eq!(&out[..3], [0x8A, 1, b'p']);
        let rest = &out[3..];
        assert_eq!(rest[0], 0xC1, "RSV1 on the compressed frame");
        let len = usize::from(rest[1]);
        assert!(len < 126, "2 KB of x compress to a few bytes");
        let mut d = flate2::Decompress::new(false);
        let mut plain = Vec::with_capacity(4096);
        let input = [&rest[2..2 + len], &[0, 0, 0xFF, 0xFF]].concat();
        d.decompress_vec(&input, &mut plain, flate2::FlushDecompress::Sync).expect("inflate");
        assert_eq!(plain, format!("4{long}").as_bytes());
        assert_eq!(&rest[2 + len..], [&[0x81, 6][..], b"4short", &[0x88, 0]].concat());
    }

    /// Engine.IO v3 binary messages carry their type byte inside the compressed payload.
    #[tokio::test(flavor = "current_thread")]
    async fn v3_binary_frames_are_compressed_with_their_type_byte() {
        use tokio::io::AsyncReadExt as _;
        let (mut ws, mut client) = pair(100_000).await;
        with_deflate(&mut ws, 1024);
        ws.set_protocol(super::super::ProtocolVersion::V3);
        let data = vec![7u8; 3000];
        ws.send(Frame::Binary(Bytes::from(data.clone()))).await.expect("send");
        ws.send(Frame::Binary(Bytes::from_static(b"ab"))).await.expect("send");
        ws.close().await;
        let mut out = Vec::new();
        client.read_to_end(&mut out).await.expect("read");
        assert_eq!(out[0], 0xC2, "FIN + RSV1 + binary");
        let len = usize::from(out[1]);
        let mut plain = Vec::with_capacity(4096);
        let input = [&out[2..2 + len], &[0, 0, 0xFF, 0xFF]].concat();
        flate2::Decompress::new(false)
            .decompress_vec(&input, &mut plain, flate2::FlushDecompress::Sync)
            .expect("inflate");
        assert_eq!(plain, [&[4][..], &data].concat());
        assert_eq!(&out[2 + len..], [0x82, 3, 4, b'a', b'b', 0x88, 0]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn compressed_frames_that_break_the_rules() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut c = flate2::Compress::new(flate2::Compression::best(), false);
        let bomb = deflated(&mut c, &vec![b'a'; 1_000_000]);
        assert!(bomb.len() < 2000);
        let rsv1 = |frame: Vec<u8>| [&[frame[0] | 0x40][..], &frame[1..]].concat();
        let cases: Vec<(bool, Vec<u8>, u16)> = vec![
            // RSV1 without the extension.
            (false, rsv1(masked(true, OP_TEXT, b"a")), 1002),
            // RSV1 on a continuation frame.
            (true, [masked(false, OP_TEXT, b"a"), rsv1(masked(true, OP_CONTINUATION, b"b"))].concat(), 1002),
            // RSV1 on a control frame.
            (true, rsv1(masked(true, OP_PING, b"")), 1002),
            // Inflates beyond the limit.
            (true, rsv1(masked(true, OP_BINARY, &bomb)), 1009),
            // Not deflate data.
            (true, rsv1(masked(true, OP_BINARY, &[0xFF; 8])), 1007),
            // Inflates to text that is not UTF-8.
            (
                true,
                rsv1(masked(
                    true,
                    OP_TEXT,
                    &deflated(&mut flate2::Compress::new(flate2::Compression::default(), false), &[0xFF]),
                )),
                1007,
            ),
        ];
        for (i, (deflate, wire, code)) in cases.into_iter().enumerate() {
            let (mut ws, mut client) = pair(100_000).await;
            if deflate {
                with_deflate(&mut ws, 1024);
            }
            client.write_all(&wire).await.expect("write");
            match ws.recv().await {
                Err(WsError::Protocol { code: c, .. }) => assert_eq!(c, code, "case {i}"),
                other => panic!("case {i}: {other:?}"),
            }
            ws.close().await;
            let mut out = Vec::new();
            client.read_to_end(&mut out).await.expect("read");
            assert_eq!(out, [&[0x88, 2][..], &code.to_be_bytes()].concat(), "case {i}: the close frame");
        }
    }

    #[test]
    fn close_codes_a_peer_may_send() {
        let valid: Vec<u16> = (0..=u16::MAX).filter(|&c| valid_close_code(c)).collect();
        let expected: Vec<u16> = (1000..=1003).chain(1007..=1014).chain(3000..=4999).collect();
        assert_eq!(valid, expected);
    }
}
