//! Handler futures of one session, driven by the session task itself (no task spawned per
//! message).

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::FutureExt as _;
use futures_util::stream::FuturesUnordered;

/// A boxed handler future.
pub type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A handler future as the session task holds it: a panic inside is caught and reported
/// (`Err`), so it cannot take the session task down with it.
pub(crate) type Guarded = futures_util::future::CatchUnwind<AssertUnwindSafe<BoxFuture>>;

/// Where an [`EngineHandler`](super::EngineHandler) runs the futures its messages start.
///
/// A future given to [`Tasks::run`] is polled once at once, so handlers start in the order
/// their messages arrived and a handler that does not await finishes before the next message
/// is read. One that does await keeps running beside the session's reads and writes, so a
/// slow handler delays neither heartbeats nor other messages.
pub struct Tasks<'a, 'b> {
    /// Pending futures: a set made when the first future needs one (an idle session keeps
    /// none).
    set: &'a mut Option<FuturesUnordered<Guarded>>,
    cx: &'a mut Context<'b>,
    panicked: &'a mut bool,
}

impl fmt::Debug for Tasks<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let running = self.set.as_ref().map_or(0, |s| s.len());
        f.debug_struct("Tasks").field("running", &running).finish()
    }
}

impl<'a, 'b> Tasks<'a, 'b> {
    /// Futures that do not finish at once go to `set`, created then if it is `None`.
    pub(crate) fn new(
        set: &'a mut Option<FuturesUnordered<Guarded>>,
        cx: &'a mut Context<'b>,
        panicked: &'a mut bool,
    ) -> Self {
        Self { set, cx, panicked }
    }

    /// Starts a future on the session task. A panic in it is caught: it is logged and the
    /// session is closed, other sessions are untouched.
    pub fn run(&mut self, fut: BoxFuture) {
        let mut fut = AssertUnwindSafe(fut).catch_unwind();
        match fut.poll_unpin(self.cx) {
            Poll::Pending => self.set.get_or_insert_with(FuturesUnordered::new).push(fut),
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(_)) => *self.panicked = true,
        }
    }

    /// Starts a future unless it is `None` (convenience for optional work).
    pub fn run_opt(&mut self, fut: Option<BoxFuture>) {
        if let Some(f) = fut {
            self.run(f);
        }
    }
}
