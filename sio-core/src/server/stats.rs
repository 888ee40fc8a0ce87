//! Counters: [`ServerStats`] and [`NamespaceStats`].

/// A snapshot of a server's counters ([`Server::stats`](crate::Server::stats)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerStats {
    /// Connections (Engine.IO sessions), packets, drops, close reasons.
    pub engine: crate::engine::EngineStats,
    /// Each namespace's sockets and non-empty rooms (besides the sockets' own id rooms).
    pub namespaces: Vec<NamespaceStats>,
}

impl ServerStats {
    /// Sockets over all namespaces.
    pub fn sockets(&self) -> usize {
        self.namespaces.iter().map(|n| n.sockets).sum()
    }

    /// Non-empty rooms over all namespaces.
    pub fn rooms(&self) -> usize {
        self.namespaces.iter().map(|n| n.rooms).sum()
    }
}

/// One namespace in [`ServerStats`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NamespaceStats {
    /// The path.
    pub path: String,
    /// Connected sockets.
    pub sockets: usize,
    /// Non-empty rooms.
    pub rooms: usize,
    /// Emits with ack whose reply has not arrived yet (entries in the sockets' tables).
    pub pending_acks: usize,
    /// Requests to the other servers through the adapter since start: fetch sockets, server
    /// count, server-side emits and broadcasts with ack (0 without an adapter).
    pub adapter_requests: u64,
    /// Of which failed: the adapter could not reach the other servers, or not all of them
    /// answered in time.
    pub adapter_failures: u64,
}
