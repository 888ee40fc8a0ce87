//! [`HeldWrites`]: the accepted socket, able to send a `101 Switching Protocols` together
//! with the first WebSocket frame after it.
//!
//! hyper writes and flushes the `101` of an upgrade on its own; the WebSocket's first frame
//! (the Engine.IO open packet of a direct WebSocket connection) follows from another task, so
//! each leaves in a write of its own and a client reads twice, and wakes twice, per
//! connection. A request handler that will write at once after its `101` asks for the
//! [`WriteHold`] through the request's extensions: the `101` then waits in memory for the next
//! write, and both go out in one `writev(2)`.
//!
//! Nothing waits longer than that next write: only a response starting with `HTTP/1.1 101 ` is
//! held (an armed hold followed by any other answer writes through), the held bytes go out
//! with the next write, flush or shutdown, and a connection dropped with bytes held makes one
//! last non-blocking attempt. A polling→WebSocket upgrade must not ask: there the client
//! speaks first (the probe) and the server would have nothing to send.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

const SWITCHING: &[u8] = b"HTTP/1.1 101 ";

/// Asks the connection a request came on to hold its `101` back until the first WebSocket
/// frame (see the [module](self)). In the request's extensions under [`serve`](crate::serve).
#[derive(Clone, Debug)]
pub(crate) struct WriteHold(Arc<AtomicBool>);

impl WriteHold {
    /// The answer to this request, if it is a `101`, leaves with the next write.
    pub(crate) fn arm(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// The accepted socket as hyper sees it. It lives as long as the connection (an upgraded
/// WebSocket keeps it): two words more than the socket.
#[derive(Debug)]
pub(crate) struct HeldWrites {
    tcp: TcpStream,
    /// Shared with the requests' [`WriteHold`]; dropped at the first `101`.
    hold: Option<Arc<AtomicBool>>,
    /// A `101` being held, from its first byte until the write after hyper's flush.
    held: Option<Box<Held>>,
}

#[derive(Debug, Default)]
struct Held {
    /// Taken but not sent: they go first, in the same `writev(2)` as the next write.
    bytes: Vec<u8>,
    /// The `101` is being written: its bytes stay through hyper's flush.
    collecting: bool,
}

impl HeldWrites {
    pub(crate) fn new(tcp: TcpStream) -> (Self, WriteHold) {
        let flag = Arc::new(AtomicBool::new(false));
        (Self { tcp, hold: Some(flag.clone()), held: None }, WriteHold(flag))
    }

    /// Starts holding if a request asked for it and this write begins its `101`.
    fn start_hold(&mut self, first: &[u8]) {
        let Some(flag) = &self.hold else { return };
        // A hold asked for by a request answered otherwise is dropped with that answer.
        let armed = flag.load(Ordering::Acquire) && flag.swap(false, Ordering::AcqRel);
        if first.starts_with(SWITCHING) {
            if armed {
                self.held = Some(Box::new(Held { bytes: Vec::new(), collecting: true }));
            }
            // Nothing after a `101` is HTTP: the flag has no more use.
            self.hold = None;
        }
    }

    /// Writes the held bytes, then `bufs`, in one call; ready with how much of `bufs` went.
    fn poll_write_after_held(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        while let Some(held) = &mut self.held {
            let mut slices = Vec::with_capacity(bufs.len() + 1);
            slices.push(IoSlice::new(&held.bytes));
            slices.extend(bufs.iter().map(|b| IoSlice::new(b)));
            let n = ready!(Pin::new(&mut self.tcp).poll_write_vectored(cx, &slices))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            if n < held.bytes.len() {
                held.bytes.drain(..n);
                continue;
            }
            let past = n - held.bytes.len();
            self.held = None;
            if past > 0 || bufs.iter().all(|b| b.is_empty()) {
                return Poll::Ready(Ok(past));
            }
        }
        if bufs.iter().all(|b| b.is_empty()) {
            // A flush with nothing held: no `writev(2)` of nothing.
            return Poll::Ready(Ok(0));
        }
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }
}

impl AsyncRead for HeldWrites {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for HeldWrites {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.held.is_none() {
            this.start_hold(buf);
            if this.held.is_none() {
                return Pin::new(&mut this.tcp).poll_write(cx, buf);
            }
        }
        this.poll_write_vectored_inner(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_inner(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(held) = &mut this.held
            && std::mem::take(&mut held.collecting)
        {
            // hyper's flush after the `101`: its bytes wait for the first frame.
            return Poll::Ready(Ok(()));
        }
        ready!(this.poll_write_after_held(cx, &[]))?;
        Pin::new(&mut this.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_write_after_held(cx, &[]))?;
        Pin::new(&mut this.tcp).poll_shutdown(cx)
    }
}

impl HeldWrites {
    fn poll_write_vectored_inner(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.held.is_none()
            && let Some(first) = bufs.iter().find(|b| !b.is_empty())
        {
            self.start_hold(first);
        }
        if let Some(held) = &mut self.held
            && held.collecting
        {
            let mut n = 0;
            for b in bufs {
                held.bytes.extend_from_slice(b);
                n += b.len();
            }
            return Poll::Ready(Ok(n));
        }
        self.poll_write_after_held(cx, bufs)
    }
}

impl Drop for HeldWrites {
    fn drop(&mut self) {
        // An upgrade that ended before its first frame: the `101` (and a close) still go out
        // if the socket takes them now.
        if let Some(held) = &self.held {
            let _ = self.tcp.try_write(&held.bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpListener;

    use super::*;

    const T: Duration = Duration::from_secs(5);
    const HEAD: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\n\r\n";

    async fn pair() -> (HeldWrites, WriteHold, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr")).await.expect("connect");
        let (tcp, _) = listener.accept().await.expect("accept");
        let (io, hold) = HeldWrites::new(tcp);
        (io, hold, client)
    }

    /// Reads until `want` bytes came; how many reads it took.
    async fn read_exactly(client: &mut TcpStream, want: usize) -> (Vec<u8>, usize) {
        let mut got = Vec::new();
        let mut reads = 0;
        tokio::time::timeout(T, async {
            let mut buf = [0u8; 1024];
            while got.len() < want {
                let n = client.read(&mut buf).await.expect("read");
                assert!(n > 0, "closed early");
                got.extend_from_slice(&buf[..n]);
                reads += 1;
            }
        })
        .await
        .expect("the bytes in time");
        (got, reads)
    }

    #[tokio::test]
    async fn an_armed_101_leaves_with_the_next_write() {
        let (mut io, hold, mut client) = pair().await;
        hold.arm();
        io.write_all(HEAD).await.expect("write");
        io.flush().await.expect("flush");
        assert_eq!(io.held.as_ref().map(|h| &h.bytes[..]), Some(HEAD), "held through the flush");
        io.write_all(b"\x81\x010").await.expect("write");
        let (got, reads) = read_exactly(&mut client, HEAD.len() + 3).await;
        assert_eq!((&got[..HEAD.len()], &got[HEAD.len()..], reads), (HEAD, &b"\x81\x010"[..], 1));
        assert!(io.hold.is_none() && io.held.is_none());
    }

    #[tokio::test]
    async fn an_unarmed_101_and_an_armed_other_answer_go_at_once() {
        let (mut io, hold, mut client) = pair().await;
        hold.arm();
        io.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await.expect("write");
        io.flush().await.expect("flush");
        read_exactly(&mut client, 28).await;
        // The next request's 101, not armed (a polling upgrade): written through.
        io.write_all(HEAD).await.expect("write");
        io.flush().await.expect("flush");
        assert_eq!(read_exactly(&mut client, HEAD.len()).await.0, HEAD);
    }

    #[tokio::test]
    async fn a_held_101_goes_out_when_the_connection_is_dropped_or_shut_down() {
        let (mut io, hold, mut client) = pair().await;
        hold.arm();
        io.write_all(HEAD).await.expect("write");
        io.flush().await.expect("flush");
        drop(io);
        assert_eq!(read_exactly(&mut client, HEAD.len()).await.0, HEAD);

        let (mut io, hold, mut client) = pair().await;
        hold.arm();
        io.write_all(HEAD).await.expect("write");
        io.flush().await.expect("flush");
        io.shutdown().await.expect("shutdown");
        assert_eq!(read_exactly(&mut client, HEAD.len()).await.0, HEAD);
    }
}
