//! Waiting for the other nodes: the parts of a request that both wire formats share.

use std::time::Duration;

use sio_core::adapter::{AdapterError, RemoteAck};
use tokio::sync::mpsc;

/// One answer from each of `expected` nodes, within `timeout`.
pub(crate) async fn answers<T>(
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
pub(crate) async fn relay_acks(
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
