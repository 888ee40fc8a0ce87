//! The environment switches both example servers read (shared/DESIGN.md §5), so any client or
//! suite can be pointed at them. All are off by default.
//!
//! - `PORT`: the listening port.
//! - `SIO_ALLOW_EIO3=1`: also serve Engine.IO v3 clients (socket.io-client 1.x and 2.x), as
//!   Node's `allowEIO3: true`.
//! - `SIO_COMPRESSION=1`: permessage-deflate for clients that offer it, with Node's
//!   `perMessageDeflate` defaults (polling answers are gzipped either way, as in Node).

use sio_core::ServerBuilder;
use sio_core::engine::EngineConfig;

/// The switches, read from the environment.
#[derive(Debug, Clone, Default)]
pub struct Switches {
    /// `PORT`, when set to a port number.
    pub port: Option<u16>,
    /// `SIO_ALLOW_EIO3=1`.
    pub allow_eio3: bool,
    /// `SIO_COMPRESSION=1`.
    pub compression: bool,
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
            compression: on("SIO_COMPRESSION"),
        }
    }

    /// Applies the switches to a Socket.IO server.
    pub fn apply(&self, builder: ServerBuilder) -> ServerBuilder {
        builder
            .allow_eio3(self.allow_eio3)
            .per_message_deflate(self.compression.then(sio_core::PerMessageDeflate::default))
    }

    /// Applies the switches that concern Engine.IO to a bare engine's settings.
    pub fn apply_engine(&self, config: &mut EngineConfig) {
        config.allow_eio3 = self.allow_eio3;
        config.per_message_deflate = self.compression.then(sio_core::PerMessageDeflate::default);
    }

    /// One line saying which switches are on, for the startup message.
    pub fn describe(&self) -> String {
        let mut on = Vec::new();
        if self.allow_eio3 {
            on.push("allow_eio3");
        }
        if self.compression {
            on.push("compression");
        }
        if on.is_empty() { String::new() } else { format!(" [{}]", on.join(", ")) }
    }
}
