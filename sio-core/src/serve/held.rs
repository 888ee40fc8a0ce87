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
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll, ready};

use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

const SWITCHING: &[u8] = b"HTTP/1.1 101 ";

/// [`Hold::state`]: nothing asked, nothing held.
const IDLE: u8 = 0;
/// A request asked for the hold; its answer has not started.
const ARMED: u8 = 1;
/// A `101` is in [`Hold::held`].
const HOLDING: u8 = 2;

/// What the connection and its requests share.
#[derive(Debug, Default)]
struct Hold {
    state: AtomicU8,
    /// Only the connection touches it (the lock is never contended): it lives here so that
    /// the connection needs one word for the whole business.
    held: Mutex<Held>,
}

#[derive(Debug, Default)]
struct Held {
    /// Taken but not sent: they go first, in the same `writev(2)` as the next write.
    bytes: Vec<u8>,
    /// The `101` is being written: its bytes stay through hyper's flush.
    collecting: bool,
}

/// Asks the connection a request came on to hold its `101` back until the first WebSocket
/// frame (see the [module](self)). In the request's extensions under [`serve`](crate::serve).
#[derive(Clone, Debug)]
pub(crate) struct WriteHold(Arc<Hold>);

impl WriteHold {
    /// The answer to this request, if it is a `101`, leaves with the next write.
    pub(crate) fn arm(&self) {
        let _ = self.0.state.compare_exchange(IDLE, ARMED, Ordering::AcqRel, Ordering::Acquire);
    }
}

/// The accepted socket as hyper sees it. It lives as long as the connection (an upgraded
/// WebSocket keeps it), so it is one word more than the socket, which a WebSocket's
/// allocation has room for: no byte more per connection.
#[derive(Debug)]
pub(crate) struct HeldWrites {
    tcp: TcpStream,
    /// Shared with the requests' [`WriteHold`]; dropped once the first `101` is on its way
    /// (nothing after it is HTTP).
    hold: Option<Arc<Hold>>,
}

impl HeldWrites {
    pub(crate) fn new(tcp: TcpStream) -> (Self, WriteHold) {
        let hold = Arc::new(Hold::default());
        (Self { tcp, hold: Some(hold.clone()) }, WriteHold(hold))
    }

    /// The hold, if it has bytes or is about to (a write may start a `101`).
    fn active(&mut self, first: Option<&[u8]>) -> Option<&Hold> {
        let hold = self.hold.as_ref()?;
        match hold.state.load(Ordering::Acquire) {
            HOLDING => {}
            state => {
                let first = first?;
                if !first.starts_with(SWITCHING) {
                    // A hold asked for by a request answered otherwise goes with that answer.
                    if state == ARMED {
                        hold.state.store(IDLE, Ordering::Release);
                    }
                    return None;
                }
                if state != ARMED {
                    self.hold = None;
                    return None;
                }
                hold.state.store(HOLDING, Ordering::Release);
                hold.held.lock().collecting = true;
            }
        }
        self.hold.as_deref()
    }

    /// Writes the held bytes, then `bufs`, in one call; ready with how much of `bufs` went.
    fn poll_write_after_held(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(hold) = self.hold.as_ref().filter(|h| h.state.load(Ordering::Acquire) == HOLDING) {
            let mut held = hold.held.lock();
            while !held.bytes.is_empty() {
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
                drop(held);
                self.hold = None;
                if past > 0 || bufs.iter().all(|b| b.is_empty()) {
                    return Poll::Ready(Ok(past));
                }
                break;
            }
        }
        if bufs.iter().all(|b| b.is_empty()) {
            // A flush with nothing held: no `writev(2)` of nothing.
            return Poll::Ready(Ok(0));
        }
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn poll_write_bufs(&mut self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let first = bufs.iter().find(|b| !b.is_empty()).map(|b| &b[..]);
        if let Some(hold) = self.active(first) {
            let mut held = hold.held.lock();
            if held.collecting {
                let mut n = 0;
                for b in bufs {
                    held.bytes.extend_from_slice(b);
                    n += b.len();
                }
                return Poll::Ready(Ok(n));
            }
        }
        self.poll_write_after_held(cx, bufs)
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
        if this.active(Some(buf)).is_none() {
            return Pin::new(&mut this.tcp).poll_write(cx, buf);
        }
        this.poll_write_bufs(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_bufs(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(hold) = this.active(None)
            && std::mem::take(&mut hold.held.lock().collecting)
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

impl Drop for HeldWrites {
    fn drop(&mut self) {
        // An upgrade that ended before its first frame: the `101` (and a close) still go out
        // if the socket takes them now.
        if let Some(hold) = &self.hold
            && hold.state.load(Ordering::Acquire) == HOLDING
        {
            let held = hold.held.lock();
            if !held.bytes.is_empty() {
                let _ = self.tcp.try_write(&held.bytes);
            }
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

    #[test]
    fn one_word_on_top_of_the_socket() {
        assert_eq!(size_of::<HeldWrites>(), size_of::<TcpStream>() + size_of::<usize>());
    }

    #[tokio::test]
    async fn an_armed_101_leaves_with_the_next_write() {
        let (mut io, hold, mut client) = pair().await;
        hold.arm();
        io.write_all(HEAD).await.expect("write");
        io.flush().await.expect("flush");
        let held = io.hold.as_ref().map(|h| h.held.lock().bytes.clone());
        assert_eq!(held.as_deref(), Some(HEAD), "held through the flush");
        io.write_all(b"\x81\x010").await.expect("write");
        let (got, reads) = read_exactly(&mut client, HEAD.len() + 3).await;
        assert_eq!((&got[..HEAD.len()], &got[HEAD.len()..], reads), (HEAD, &b"\x81\x010"[..], 1));
        assert!(io.hold.is_none(), "the flag goes once the 101 went");
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
