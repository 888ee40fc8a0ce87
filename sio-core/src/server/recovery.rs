//! Connection state recovery (Node's `connectionStateRecovery`): a socket that lost its
//! transport gets its id, rooms, data and the packets it missed back when its client
//! reconnects in time.
//!
//! How it works, per namespace:
//! - every event packet sent to a socket without an ack id and not volatile (broadcasts, room
//!   broadcasts, direct emits, and broadcasts from other nodes) gets the next *offset*, a
//!   decimal string appended as its last argument, and is kept once in the namespace's *log*
//!   with the selection it was sent to. socket.io-client remembers the last offset it saw.
//!   Appending, encoding and delivering happen under the log's lock, so the log's order is the
//!   order every socket receives them in;
//! - a socket leaving for a recoverable reason (transport closed or failed, ping timeout,
//!   server shutdown) leaves a *session* behind: id, private id (`pid`), rooms, data;
//! - a CONNECT whose auth carries a live `pid` and an `offset` the log still covers takes the
//!   session (once) and gets a socket with the old id, rooms and data; when the socket enters
//!   the namespace (after the connect handler, under the log's lock) the packets after the
//!   client's offset that its rooms selected are queued to it, then the CONNECT reply.
//!
//! Bounds: the log keeps at most `max_buffered_packets` packets and `max_buffered_bytes` bytes
//! and nothing older than the window, whatever the number of disconnected sockets (they share
//! it); a session whose missed packets are no longer all in the log is not recovered (the
//! client gets a fresh socket, as with an expired session). Sessions expire with the window.
//! A bogus `pid` costs one hash lookup.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::encode::{self, Encoded};
use super::namespace::Selection;
use super::reason::DisconnectReason;
use crate::adapter::{RestoredSession, SessionState};
use crate::protocol::Parser;
use crate::protocol::{Payload, ToArgs, WriteArgs};
use crate::{Room, Sid};

/// Connection state recovery settings ([`ServerBuilder::connection_state_recovery`]), Node's
/// `connectionStateRecovery` option.
///
/// ```
/// use std::time::Duration;
/// use sio_core::{RecoveryConfig, Server};
///
/// let io = Server::builder()
///     .connection_state_recovery(RecoveryConfig {
///         max_disconnection_duration: Duration::from_secs(30),
///         ..RecoveryConfig::default()
///     })
///     .build();
/// # let _ = io;
/// ```
///
/// [`ServerBuilder::connection_state_recovery`]: crate::ServerBuilder::connection_state_recovery
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryConfig {
    /// How long a disconnected socket's session is kept, and how far back the log of sent
    /// packets reaches (Node's `maxDisconnectionDuration`; default 2 minutes).
    pub max_disconnection_duration: Duration,
    /// A recovered socket skips the namespace's connect middlewares (Node's
    /// `skipMiddlewares`; default true). The connect handler runs either way and sees
    /// [`Conn::recovered`](crate::Conn::recovered).
    pub skip_middlewares: bool,
    /// At most this many packets in a namespace's log (default 65,536); the oldest go first.
    pub max_buffered_packets: usize,
    /// At most this many bytes of packets in a namespace's log (default 32 MiB).
    pub max_buffered_bytes: usize,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        Self {
            max_disconnection_duration: Duration::from_secs(120),
            skip_middlewares: true,
            max_buffered_packets: 65_536,
            max_buffered_bytes: 32 << 20,
        }
    }
}

impl DisconnectReason {
    /// Whether a socket that left for this reason can be recovered (Node's list: the
    /// transport closed or failed, the ping timed out, the server shut down).
    pub fn is_recoverable(&self) -> bool {
        matches!(
            self,
            DisconnectReason::TransportClose
                | DisconnectReason::TransportError
                | DisconnectReason::PingTimeout
                | DisconnectReason::ServerShutdown
                | DisconnectReason::ForcedClose
        )
    }
}

/// A session taken by a CONNECT, and where the client stopped reading.
#[derive(Debug)]
pub(crate) struct Restored {
    pub(crate) saved: SessionState,
    /// Missed packets an adapter found (before `from`'s packets of this node's log).
    found: Vec<Encoded>,
    /// The client's last offset.
    from: u64,
    /// The newest offset when the session was taken: packets up to it are chosen by the
    /// saved rooms, later ones by the socket's rooms when it enters the namespace.
    head: u64,
}

struct Entry {
    offset: u64,
    at: Instant,
    sel: Selection,
    enc: Encoded,
    bytes: usize,
}

#[derive(Default)]
struct Log {
    /// The last offset given out (offsets start at 1).
    head: u64,
    entries: VecDeque<Entry>,
    bytes: usize,
}

#[derive(Default)]
struct Sessions {
    by_pid: HashMap<Sid, (SessionState, Instant)>,
    /// Persisted sessions in order of expiry (entries of taken sessions are skipped).
    expiry: VecDeque<(Instant, Sid)>,
    sweeping: bool,
}

/// The recovery state of one namespace.
pub(crate) struct Recovery {
    pub(crate) config: RecoveryConfig,
    log: Mutex<Log>,
    sessions: Mutex<Sessions>,
}

/// The log, locked: appending and delivering happen while it is held.
pub(crate) struct Appender<'a> {
    rec: &'a Recovery,
    log: parking_lot::MutexGuard<'a, Log>,
}

/// `args` followed by the offset string.
struct WithOffset<'a> {
    args: &'a dyn WriteArgs,
    offset: &'a str,
}

impl ToArgs for WithOffset<'_> {
    fn write_args(&self, out: &mut Vec<u8>, first: bool) -> serde_json::Result<()> {
        let before = out.len();
        self.args.write_dyn(out, first)?;
        if !(first && out.len() == before) {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(self.offset.as_bytes());
        out.push(b'"');
        Ok(())
    }
}

impl Appender<'_> {
    /// The next offset, as the string the packet carries.
    pub(crate) fn next_offset(&mut self) -> (u64, String) {
        self.log.head += 1;
        (self.log.head, self.log.head.to_string())
    }

    /// Gives back the offset just taken (its packet could not be encoded).
    pub(crate) fn unget(&mut self) {
        self.log.head -= 1;
    }

    /// `args` with `offset` appended (for encoding a packet this node emits).
    pub(crate) fn args<'a>(args: &'a dyn WriteArgs, offset: &'a str) -> impl ToArgs + 'a {
        WithOffset { args, offset }
    }

    /// Keeps the packet (already encoded with `offset`) for the sockets `sel` selects.
    pub(crate) fn keep(&mut self, offset: u64, sel: Selection, enc: &Encoded) {
        let bytes = enc
            .frames()
            .iter()
            .map(|f| match f {
                crate::engine::Frame::Text(t) => t.len(),
                crate::engine::Frame::Binary(b) => b.len(),
            })
            .sum::<usize>()
            + 64;
        let now = Instant::now();
        let log = &mut *self.log;
        log.bytes += bytes;
        log.entries.push_back(Entry { offset, at: now, sel, enc: enc.clone(), bytes });
        let config = &self.rec.config;
        while let Some(first) = log.entries.front() {
            let too_old = now.duration_since(first.at) > config.max_disconnection_duration;
            if !(too_old
                || log.entries.len() > config.max_buffered_packets
                || log.bytes > config.max_buffered_bytes)
            {
                break;
            }
            log.bytes -= first.bytes;
            log.entries.pop_front();
        }
    }
}

/// `payload` (a JSON array of arguments) with `offset` appended as its last element.
pub(crate) fn payload_with_offset(payload: &Payload, offset: &str) -> Payload {
    let data = &payload.data[..];
    let end = data.iter().rposition(|&b| b == b']').unwrap_or(data.len());
    let empty = data[..end].iter().rev().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let mut out = Vec::with_capacity(data.len() + offset.len() + 4);
    out.extend_from_slice(&data[..end]);
    if !empty {
        out.push(b',');
    }
    out.push(b'"');
    out.extend_from_slice(offset.as_bytes());
    out.extend_from_slice(b"\"]");
    Payload { data: out.into(), attachments: payload.attachments.clone() }
}

/// Whether a packet sent to `sel` reached (or would have reached) a socket `sid` in `rooms`
/// (Node's `shouldIncludePacket`, with the socket's own id room).
fn selects(sel: &Selection, sid: Sid, rooms: &[Room]) -> bool {
    let member = |r: &Room| r.as_str() == sid.as_str() || rooms.contains(r);
    let included = sel.rooms.is_empty() || sel.rooms.iter().any(member);
    included && sel.except_sid != Some(sid) && !sel.except.iter().any(member)
}

impl Recovery {
    pub(crate) fn new(config: RecoveryConfig) -> Self {
        Self { config, log: Mutex::default(), sessions: Mutex::default() }
    }

    /// Locks the log for appending (and delivering under the lock).
    pub(crate) fn appender(&self) -> Appender<'_> {
        Appender { rec: self, log: self.log.lock() }
    }

    /// Keeps what a socket leaving for `reason` needs to be recovered.
    pub(crate) fn persist(self: &Arc<Self>, session: SessionState) {
        let now = Instant::now();
        let pid = session.pid;
        let mut sessions = self.sessions.lock();
        sessions.by_pid.insert(pid, (session, now));
        sessions.expiry.push_back((now + self.config.max_disconnection_duration, pid));
        if !sessions.sweeping && tokio::runtime::Handle::try_current().is_ok() {
            sessions.sweeping = true;
            tokio::spawn(sweep(Arc::downgrade(self)));
        }
    }

    /// Takes the session `pid` if it is live and the log still holds every packet after
    /// `offset`.
    pub(crate) fn take(&self, pid: &str, offset: &str) -> Option<Restored> {
        let pid = Sid::parse(pid)?;
        let from: u64 = offset.parse().ok()?;
        let (saved, at) = self.sessions.lock().by_pid.remove(&pid)?;
        if at.elapsed() > self.config.max_disconnection_duration {
            return None;
        }
        let log = self.log.lock();
        let first = log.entries.front().map_or(log.head + 1, |e| e.offset);
        if from > log.head || first > from.saturating_add(1) {
            tracing::debug!(sid = %saved.sid, "recovery refused: offset unknown or packets dropped");
            return None;
        }
        Some(Restored { head: log.head, from, saved, found: Vec::new() })
    }

    /// A session an adapter restored: its missed packets, then this node's from now on.
    pub(crate) fn restored_remotely(
        &self,
        session: RestoredSession,
        parser: Parser,
        nsp: &str,
    ) -> Option<Restored> {
        let mut found = Vec::with_capacity(session.missed.len());
        for payload in &session.missed {
            match encode::encode_payload(parser, nsp, payload, None) {
                Ok(enc) => found.push(enc),
                Err(e) => {
                    tracing::warn!(sid = %session.session.sid, error = %e, "a missed packet from the adapter does not encode; not recovered");
                    return None;
                }
            }
        }
        let head = self.log.lock().head;
        Some(Restored { saved: session.session, found, from: head, head })
    }

    /// The packets a recovered socket missed, in order, with the log locked while `admit`
    /// (which puts the socket in the namespace) runs, so that none is missed or sent twice.
    /// `rooms` are the socket's rooms now.
    pub(crate) fn replay<R>(
        &self,
        restored: &Restored,
        rooms: &[Room],
        admit: impl FnOnce(Vec<Encoded>) -> R,
    ) -> R {
        let log = self.log.lock();
        let sid = restored.saved.sid;
        let start = log.entries.partition_point(|e| e.offset <= restored.from);
        if log.entries.front().is_some_and(|e| e.offset > restored.from + 1) {
            tracing::warn!(%sid, "packets a recovering socket missed were dropped from the log while it connected");
        }
        let missed = (restored.found.iter().cloned())
            .chain(
                log.entries
                    .range(start..)
                    .filter(|e| {
                        let rooms = if e.offset <= restored.head { &restored.saved.rooms[..] } else { rooms };
                        selects(&e.sel, sid, rooms)
                    })
                    .map(|e| e.enc.clone()),
            )
            .collect();
        admit(missed)
    }

    /// Drops expired sessions and packets; returns when the next session expires, if any.
    fn expire(&self) -> Option<Instant> {
        let now = Instant::now();
        let next = {
            let mut sessions = self.sessions.lock();
            while let Some(&(at, pid)) = sessions.expiry.front() {
                if at > now {
                    break;
                }
                sessions.expiry.pop_front();
                if sessions
                    .by_pid
                    .get(&pid)
                    .is_some_and(|(_, at)| *at + self.config.max_disconnection_duration <= now)
                {
                    sessions.by_pid.remove(&pid);
                }
            }
            if sessions.by_pid.is_empty() {
                sessions.expiry.clear();
                sessions.expiry.shrink_to_fit();
                sessions.by_pid.shrink_to_fit();
            }
            let next = sessions.expiry.front().map(|&(at, _)| at);
            if next.is_none() {
                sessions.sweeping = false;
            }
            next
        };
        let mut log = self.log.lock();
        while log
            .entries
            .front()
            .is_some_and(|e| now.duration_since(e.at) > self.config.max_disconnection_duration)
        {
            if let Some(e) = log.entries.pop_front() {
                log.bytes -= e.bytes;
            }
        }
        if log.entries.is_empty() {
            log.entries.shrink_to_fit();
        }
        next
    }
}

/// Expires sessions (and old packets) while there are sessions; ends with the namespace.
async fn sweep(rec: Weak<Recovery>) {
    loop {
        let next = match rec.upgrade() {
            Some(rec) => rec.expire(),
            None => return,
        };
        let Some(at) = next else { return };
        tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn offsets_are_appended_as_the_last_argument() {
        let p = Payload { data: Bytes::from_static(br#"["ev",1]"#), attachments: vec![] };
        assert_eq!(&payload_with_offset(&p, "7").data[..], br#"["ev",1,"7"]"#);
        let p = Payload { data: Bytes::from_static(b"[ ] "), attachments: vec![] };
        assert_eq!(&payload_with_offset(&p, "7").data[..], br#"[ "7"]"#);
        let mut out = Vec::new();
        WithOffset { args: &(1, "x"), offset: "12" }.write_args(&mut out, false).expect("writes");
        assert_eq!(out, br#",1,"x","12""#);
        let mut out = Vec::new();
        WithOffset { args: &(), offset: "3" }.write_args(&mut out, true).expect("writes");
        assert_eq!(out, br#""3""#);
    }

    #[test]
    fn selection_of_missed_packets_follows_rooms_and_exceptions() {
        let sid = Sid::new();
        let rooms = vec![Room::from("a")];
        let sel = |rooms: &[&str], except: &[&str]| Selection {
            rooms: rooms.iter().map(|r| Room::from(*r)).collect(),
            except: except.iter().map(|r| Room::from(*r)).collect(),
            except_sid: None,
        };
        assert!(selects(&sel(&[], &[]), sid, &rooms));
        assert!(selects(&sel(&["a", "b"], &[]), sid, &rooms));
        assert!(selects(&sel(&[sid.as_str()], &[]), sid, &rooms));
        assert!(!selects(&sel(&["b"], &[]), sid, &rooms));
        assert!(!selects(&sel(&[], &["a"]), sid, &rooms));
        assert!(!selects(&sel(&[], &[sid.as_str()]), sid, &rooms));
        let mut s = sel(&[], &[]);
        s.except_sid = Some(sid);
        assert!(!selects(&s, sid, &rooms));
    }
}
