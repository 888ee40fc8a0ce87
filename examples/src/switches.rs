//! The environment switches both example servers read (shared/DESIGN.md §5), so any client or
//! suite can be pointed at them. All are off by default.
//!
//! - `PORT`: the listening port.
//! - `SIO_ALLOW_EIO3=1`: also serve Engine.IO v3 clients (socket.io-client 1.x and 2.x), as
//!   Node's `allowEIO3: true`.
//! - `SIO_PARSER=msgpack`: the Socket.IO packets are MessagePack (`socket.io-msgpack-parser`),
//!   as Node's `parser` option.
//! - `SIO_COMPRESSION=1`: permessage-deflate for clients that offer it and gzip/deflate of
//!   long-polling answers, with Node's defaults (`perMessageDeflate`, `httpCompression`: 1 KB
//!   thresholds). Off, the servers compress nothing (Node gzips polling answers by default;
//!   the example servers keep their contracts byte for byte instead).
//! - `RECOVERY_MS=N`: connection state recovery with a window of N ms, as Node's
//!   `connectionStateRecovery: { maxDisconnectionDuration: N }` (CONNECT replies carry `pid`,
//!   events carry their offset).

use sio_core::engine::EngineConfig;
use sio_core::{Parser, RecoveryConfig, ServerBuilder};

/// The switches, read from the environment.
#[derive(Debug, Clone, Default)]
pub struct Switches {
    /// `PORT`, when set to a port number.
    pub port: Option<u16>,
    /// `SIO_ALLOW_EIO3=1`.
    pub allow_eio3: bool,
    /// `SIO_PARSER=msgpack`.
    pub msgpack: bool,
    /// `SIO_COMPRESSION=1`.
    pub compression: bool,
    /// `RECOVERY_MS=N`, when set to a number of milliseconds.
    pub recovery_ms: Option<u64>,
}

fn on(name: &str) -> bool {
    matches!(std::env::var(name).as_deref(), Ok("1" | "true" | "yes"))
}

impl Switches {
    /// Reads the switches from the environment.
    pub fn from_env() -> Self {
        Self {
            port: std::env::var("PORT").ok().and_then(|p| p.parse().ok()),
            allow_eio3: on("SIO_ALLOW_EIO3"),
            msgpack: std::env::var("SIO_PARSER").is_ok_and(|p| p.eq_ignore_ascii_case("msgpack")),
            compression: on("SIO_COMPRESSION"),
            recovery_ms: std::env::var("RECOVERY_MS").ok().and_then(|ms| ms.parse().ok()),
        }
    }

    /// Applies the switches to a Socket.IO server.
    pub fn apply(&self, builder: ServerBuilder) -> ServerBuilder {
        let parser = if self.msgpack { Parser::MsgPack } else { Parser::Json };
        let builder = match self.recovery_ms {
            Some(ms) => builder.connection_state_recovery(RecoveryConfig {
                max_disconnection_duration: std::time::Duration::from_millis(ms),
                ..RecoveryConfig::default()
            }),
            None => builder,
        };
        builder
            .allow_eio3(self.allow_eio3)
            .parser(parser)
            .per_message_deflate(self.compression.then(sio_core::PerMessageDeflate::default))
            .http_compression(self.compression.then(sio_core::HttpCompression::default))
    }

    /// Applies the switches that concern Engine.IO to a bare engine's settings.
    pub fn apply_engine(&self, config: &mut EngineConfig) {
        config.allow_eio3 = self.allow_eio3;
        config.per_message_deflate = self.compression.then(sio_core::PerMessageDeflate::default);
        config.http_compression = self.compression.then(sio_core::HttpCompression::default);
    }

    /// One line saying which switches are on, for the startup message.
    pub fn describe(&self) -> String {
        let mut on = Vec::new();
        if self.allow_eio3 {
            on.push("allow_eio3".to_owned());
        }
        if self.msgpack {
            on.push("msgpack parser".to_owned());
        }
        if self.compression {
            on.push("compression".to_owned());
        }
        if let Some(ms) = self.recovery_ms {
            on.push(format!("recovery {ms} ms"));
        }
        if on.is_empty() { String::new() } else { format!(" [{}]", on.join(", ")) }
    }
}
