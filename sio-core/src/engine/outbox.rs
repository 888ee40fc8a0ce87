//! The bounded outbound queue of one session.
//!
//! Producers (handlers, broadcasts on any thread) push frames; exactly one consumer at a time
//! drains them: the session task while on WebSocket, the pending GET while on polling. The
//! consumer takes everything queued in one swap, so one wake-up writes a whole batch.

use std::collections::VecDeque;
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

use super::packet::Frame;

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushError {
    /// The queue holds its maximum number of frames: the peer does not read fast enough.
    Full,
    /// The session is closed.
    Closed,
}

#[derive(Debug)]
pub(crate) struct Outbox {
    inner: Mutex<Inner>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Inner {
    queue: VecDeque<Frame>,
    waker: Option<Waker>,
    closed: bool,
}

/// An empty queue (the consumer takes the room of each batch with it) gets room for a typical
/// batch at once rather than growing 4, 8, 16.
fn reserve_batch(queue: &mut VecDeque<Frame>) {
    if queue.capacity() == 0 {
        queue.reserve(16);
    }
}

impl Outbox {
    pub(crate) fn new(capacity: usize) -> Self {
        Self { inner: Mutex::new(Inner::default()), capacity: capacity.max(1) }
    }

    /// Queues one frame.
    pub(crate) fn push(&self, frame: Frame) -> Result<(), PushError> {
        let waker = {
            let mut inner = self.inner.lock();
            if inner.closed {
                return Err(PushError::Closed);
            }
            if inner.queue.len() >= self.capacity {
                return Err(PushError::Full);
            }
            reserve_batch(&mut inner.queue);
            inner.queue.push_back(frame);
            inner.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Queues several frames that must stay together (a binary event and its attachments):
    /// either all are queued or none.
    pub(crate) fn push_all(&self, frames: &[Frame]) -> Result<(), PushError> {
        let waker = {
            let mut inner = self.inner.lock();
            if inner.closed {
                return Err(PushError::Closed);
            }
            if inner.queue.len() + frames.len() > self.capacity.max(frames.len()) {
                return Err(PushError::Full);
            }
            reserve_batch(&mut inner.queue);
            inner.queue.extend(frames.iter().cloned());
            inner.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Queues a frame even when the queue is full (control packets: close, noop, pong).
    pub(crate) fn push_control(&self, frame: Frame) {
        let waker = {
            let mut inner = self.inner.lock();
            reserve_batch(&mut inner.queue);
            inner.queue.push_back(frame);
            inner.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Moves every queued frame into `out` (which must be empty), or registers the waker.
    pub(crate) fn poll_drain(&self, cx: &mut Context<'_>, out: &mut VecDeque<Frame>) -> Poll<()> {
        let mut inner = self.inner.lock();
        if inner.queue.is_empty() {
            if inner.closed {
                return Poll::Ready(());
            }
            match &mut inner.waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
            return Poll::Pending;
        }
        std::mem::swap(&mut inner.queue, out);
        Poll::Ready(())
    }

    /// Wakes the current consumer so it re-checks the session's state.
    pub(crate) fn wake_consumer(&self) {
        let waker = self.inner.lock().waker.take();
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Refuses further pushes; already queued frames can still be drained. Wakes the consumer.
    pub(crate) fn close(&self) {
        let waker = {
            let mut inner = self.inner.lock();
            inner.closed = true;
            inner.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.inner.lock().queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_batched() {
        let outbox = Outbox::new(2);
        assert_eq!(outbox.push(Frame::PING), Ok(()));
        assert_eq!(outbox.push(Frame::NOOP), Ok(()));
        assert_eq!(outbox.push(Frame::PING), Err(PushError::Full));
        assert_eq!(outbox.push_all(&[Frame::PING]), Err(PushError::Full));
        let mut out = VecDeque::new();
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(outbox.poll_drain(&mut cx, &mut out).is_ready());
        assert_eq!(out.len(), 2);
        out.clear();
        assert!(outbox.poll_drain(&mut cx, &mut out).is_pending());
        outbox.close();
        assert_eq!(outbox.push(Frame::PING), Err(PushError::Closed));
        assert!(outbox.poll_drain(&mut cx, &mut out).is_ready());
    }
}
