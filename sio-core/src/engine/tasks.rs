//! Handler futures of one session, driven by the session task itself (no task spawned per
//! message).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::Context;

use futures_util::stream::FuturesUnordered;

/// A boxed handler future.
pub type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Where an [`EngineHandler`](super::EngineHandler) runs the futures its messages start.
///
/// A future given to [`Tasks::run`] is polled once at once, so handlers start in the order
/// their messages arrived and a handler that does not await finishes before the next message
/// is read. One that does await keeps running beside the session's reads and writes, so a
/// slow handler delays neither heartbeats nor other messages.
pub struct Tasks<'a, 'b> {
    set: &'a mut FuturesUnordered<BoxFuture>,
    cx: &'a mut Context<'b>,
}

impl fmt::Debug for Tasks<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tasks").field("running", &self.set.len()).finish()
    }
}

impl<'a, 'b> Tasks<'a, 'b> {
    pub(crate) fn new(set: &'a mut FuturesUnordered<BoxFuture>, cx: &'a mut Context<'b>) -> Self {
        Self { set, cx }
    }

    /// Starts a future on the session task.
    pub fn run(&mut self, mut fut: BoxFuture) {
        if fut.as_mut().poll(self.cx).is_pending() {
            self.set.push(fut);
        }
    }

    /// Starts a future unless it is `None` (convenience for optional work).
    pub fn run_opt(&mut self, fut: Option<BoxFuture>) {
        if let Some(f) = fut {
            self.run(f);
        }
    }
}
