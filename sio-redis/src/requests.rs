//! Requests across nodes, the same in both modes. This node's own: one table of those
//! awaiting answers (request id → [`Waiter`]), each awaiting one answer per other node for
//! a bounded time, the answers gathered as they come. And the other nodes' broadcasts with
//! acks, whose replies this node relays back.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rmpv::Value as Mp;
use sio_core::adapter::{AdapterError, LocalAcks, Payload, RemoteAck, SocketInfo};
use tokio::sync::mpsc;

use crate::shared::Shared;
use crate::wire::Args;

/// Where the answers to a pending request go.
pub(crate) enum Waiter {
    /// `fetchSockets`: each node's sockets.
    Sockets(mpsc::UnboundedSender<Vec<SocketInfo>>),
    /// A server-side event with ack: each node's reply.
    Replies(mpsc::UnboundedSender<Payload>),
    /// A broadcast with acks: each node's count, then its sockets' replies.
    Acks(mpsc::UnboundedSender<RemoteAck>),
}

/// What a pending request awaits (for responses that do not say what they are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// [`Answer::Sockets`].
    Sockets,
    /// [`Answer::Reply`].
    Replies,
    /// [`Answer::Ack`].
    Acks,
}

/// One answer to a pending request.
#[derive(Debug)]
pub(crate) enum Answer {
    /// A node's sockets.
    Sockets(Vec<SocketInfo>),
    /// A node's reply to a server-side event.
    Reply(Payload),
    /// A node's count, or one of its sockets' replies, for a broadcast with acks.
    Ack(RemoteAck),
}

impl Waiter {
    fn expects(&self) -> Expect {
        match self {
            Self::Sockets(_) => Expect::Sockets,
            Self::Replies(_) => Expect::Replies,
            Self::Acks(_) => Expect::Acks,
        }
    }
}

/// A namespace's requests to the other nodes.
pub(crate) struct Requests {
    shared: Arc<Shared>,
    /// The channel every node of the namespace listens to: its listeners are the nodes.
    nodes_channel: String,
    /// A fresh request id (each mode makes them as Node does).
    new_id: fn() -> String,
    pending: Mutex<HashMap<String, Waiter>>,
}

/// A request in the table; dropping it (answered, timed out or abandoned) removes it.
struct Pending {
    requests: Arc<Requests>,
    id: String,
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.requests.pending.lock().remove(&self.id);
    }
}

impl Requests {
    /// The requests of a namespace whose nodes all listen to `nodes_channel`.
    pub(crate) fn new(shared: Arc<Shared>, nodes_channel: String, new_id: fn() -> String) -> Arc<Self> {
        Arc::new(Self { shared, nodes_channel, new_id, pending: Mutex::new(HashMap::new()) })
    }

    /// How many nodes there are, this one included.
    pub(crate) async fn server_count(&self) -> Result<usize, AdapterError> {
        self.shared.conns.numsub(&self.nodes_channel).await.map_err(AdapterError::unavailable)
    }

    /// Whether `id` is one of this node's pending requests.
    pub(crate) fn is_pending(&self, id: &str) -> bool {
        self.pending.lock().contains_key(id)
    }

    /// Puts `waiter` in the table under a fresh id.
    fn register(self: &Arc<Self>, waiter: Waiter) -> Pending {
        let mut table = self.pending.lock();
        loop {
            if let Entry::Vacant(slot) = table.entry((self.new_id)()) {
                let id = slot.key().clone();
                slot.insert(waiter);
                return Pending { requests: self.clone(), id };
            }
        }
    }

    /// Asks every other node: `send` publishes the request under the id it is given, and
    /// one answer per other node is awaited for `timeout` at most. With no other node,
    /// nothing is sent and there are no answers.
    pub(crate) async fn ask<T>(
        self: &Arc<Self>,
        waiter: fn(mpsc::UnboundedSender<T>) -> Waiter,
        timeout: Duration,
        send: impl FnOnce(&str),
    ) -> Result<Vec<T>, AdapterError> {
        let others = self.server_count().await?.saturating_sub(1);
        if others == 0 {
            return Ok(Vec::new());
        }
        let (tx, mut rx) = mpsc::unbounded_channel();
        let pending = self.register(waiter(tx));
        send(&pending.id);
        answers(&mut rx, others, timeout).await
    }

    /// A broadcast with acks to the other nodes: `send` publishes it under the id it is
    /// given. Every other node answers with its count first, then its sockets' replies;
    /// they arrive on the returned receiver, with [`RemoteAck::CountsComplete`] once every
    /// count did, until `timeout` (the broadcast's own, else the configured one).
    pub(crate) fn broadcast_with_ack(
        self: &Arc<Self>,
        timeout: Option<Duration>,
        send: impl FnOnce(&str),
    ) -> mpsc::UnboundedReceiver<RemoteAck> {
        let timeout = timeout.unwrap_or(self.shared.config.requests_timeout);
        let (tx, rx) = mpsc::unbounded_channel();
        let (answers_tx, mut answers_rx) = mpsc::unbounded_channel();
        let pending = self.register(Waiter::Acks(answers_tx));
        send(&pending.id);
        tokio::spawn(async move {
            let others = pending.requests.server_count().await.map(|n| n.saturating_sub(1));
            relay_acks(others, &mut answers_rx, &tx, timeout).await;
            drop(pending);
        });
        rx
    }

    /// Hands an answer to request `id` if it is pending: `answer` makes it from what the
    /// request awaits (`None`: nothing to hand over). An answer of another kind is dropped.
    pub(crate) fn answer(&self, id: &str, answer: impl FnOnce(Expect) -> Option<Answer>) {
        let table = self.pending.lock();
        let Some(waiter) = table.get(id) else { return };
        let Some(answer) = answer(waiter.expects()) else { return };
        // A send fails only when the requester stopped waiting: nothing to do then.
        let _ = match (waiter, answer) {
            (Waiter::Sockets(tx), Answer::Sockets(sockets)) => tx.send(sockets).is_ok(),
            (Waiter::Replies(tx), Answer::Reply(reply)) => tx.send(reply).is_ok(),
            (Waiter::Acks(tx), Answer::Ack(ack)) => tx.send(ack).is_ok(),
            (waiter, answer) => {
                tracing::debug!(expected = ?waiter.expects(), ?answer, "redis adapter: response of an unexpected type ignored");
                false
            }
        };
    }
}

/// One answer from each of `expected` nodes, within `timeout`.
async fn answers<T>(
    rx: &mut mpsc::UnboundedReceiver<T>,
    expected: usize,
    timeout: Duration,
) -> Result<Vec<T>, AdapterError> {
    let mut got = Vec::with_capacity(expected);
    let gather = async {
        while got.len() < expected {
            match rx.recv().await {
                Some(answer) => got.push(answer),
                None => break,
            }
        }
    };
    match tokio::time::timeout(timeout, gather).await {
        Ok(()) => Ok(got),
        Err(_) => Err(AdapterError::Timeout { received: got.len(), expected }),
    }
}

/// Relays what the other nodes answer to a broadcast with acks (`from`) to the server (`to`),
/// adding [`RemoteAck::CountsComplete`] once each of the `others` nodes reported its count.
/// Ends when the server stops listening, or at `timeout`.
async fn relay_acks(
    others: Result<usize, AdapterError>,
    from: &mut mpsc::UnboundedReceiver<RemoteAck>,
    to: &mpsc::UnboundedSender<RemoteAck>,
    timeout: Duration,
) {
    let run = async {
        // Unreachable Redis: dropping `to` tells the server nothing more will come.
        let Ok(others) = others else { return };
        if others == 0 && to.send(RemoteAck::CountsComplete).is_err() {
            return;
        }
        let mut counted = 0;
        while let Some(event) = from.recv().await {
            let is_count = matches!(event, RemoteAck::ClientCount(_));
            if to.send(event).is_err() {
                return;
            }
            if is_count {
                counted += 1;
                if counted == others && to.send(RemoteAck::CountsComplete).is_err() {
                    return;
                }
            }
        }
    };
    let _ = tokio::time::timeout(timeout, run).await;
}

/// This node's part of another node's broadcast with acks (`acks`, already sent to its
/// sockets): `reply` sends back each socket's reply (only its first argument travels;
/// `None` for none) as it comes, for `timeout` and a second at most.
pub(crate) fn relay_replies(
    mut acks: LocalAcks,
    timeout: Duration,
    mut reply: impl FnMut(Option<Mp>) + Send + 'static,
) {
    if acks.count() == 0 {
        return;
    }
    tokio::spawn(async move {
        let relay = async {
            while let Some((_, ack)) = acks.next().await {
                reply(Args::of(&ack).first());
            }
        };
        let _ = tokio::time::timeout(timeout + Duration::from_secs(1), relay).await;
    });
}
