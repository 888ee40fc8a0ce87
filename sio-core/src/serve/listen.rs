//! [`listen`]: a listening socket made for connection storms.

use std::io;
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket};

/// The backlog [`listen`] asks for. Linux caps it at `net.core.somaxconn` (4096 by default
/// since 5.4; `sysctl net.core.somaxconn`), so the kernel's own limit applies.
pub const LISTEN_BACKLOG: u32 = 65_535;

/// Binds a listener for [`serve`](crate::serve) with a backlog that rides out a connection
/// storm, with `TCP_NODELAY` set so that accepted sockets inherit it.
///
/// A reconnect storm (a deploy, a network blip) brings every client back within a second or
/// two. `TcpListener::bind` from tokio asks for a backlog of 1024 (std's, 128): past it the
/// kernel drops SYNs and each client dropped waits a 1 s retransmit, then 3 s, and so on.
/// `listen` asks for [`LISTEN_BACKLOG`], which the kernel lowers to `net.core.somaxconn`;
/// raise that sysctl (and `net.ipv4.tcp_max_syn_backlog`) for bigger storms. The address may
/// be reused at once after a restart (`SO_REUSEADDR`), as Node's `server.listen` allows.
///
/// With a listener of your own (`axum::serve`, another accept loop), set `TCP_NODELAY` on
/// every accepted socket (`TcpStream::set_nodelay(true)`), as [`serve`](crate::serve) does:
/// without it, a small answer written in two parts waits on the client's delayed ACK (up to
/// 40 ms on Linux).
///
/// ```no_run
/// # async fn run(app: axum::Router) -> std::io::Result<()> {
/// let listener = sio_core::listen("0.0.0.0:3000".parse().unwrap())?;
/// sio_core::serve(listener, app).await
/// # }
/// ```
pub fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    // Linux copies it to every accepted socket: one setsockopt less per connection.
    socket.set_nodelay(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Whether sockets accepted from `listener` come with `TCP_NODELAY` already (Linux copies the
/// listener's options to them).
pub(super) fn accepted_inherit_nodelay(listener: &TcpListener) -> bool {
    cfg!(target_os = "linux") && socket2::SockRef::from(listener).tcp_nodelay().unwrap_or(false)
}
