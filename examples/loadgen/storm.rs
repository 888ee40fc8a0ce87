//! The `storm` scenario (issue 18): N WebSocket clients connected, every transport dropped at
//! once (or the server restarted), all reconnecting as socket.io-client does (its backoff and
//! jitter); how long until all are back, the failures, the connect latency, and with
//! `--recover` how many got their session back (connection state recovery).

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::json;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{Message as Ws, Utf8Bytes};

use crate::Args;
use crate::client::{Target, ws_open};
use crate::hist::Hist;
use crate::procfs::CpuWindow;
use crate::scenarios::{Report, ms, per_op, round, secs};

type Stream = WebSocketStream<TcpStream>;

/// What a client keeps of its session to recover it: Node's client keeps the same.
#[derive(Debug, Clone, Default)]
struct Session {
    sid: String,
    pid: Option<String>,
    offset: Option<String>,
}

fn err(what: impl Into<String>) -> io::Error {
    io::Error::other(what.into())
}

/// The source address of client `i`: 127.0.0.1 .. 127.0.0.`sources`, so more clients than one
/// address has ephemeral ports (about 28,000) can connect.
fn source(i: usize, sources: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, 1 + (i % usize::from(sources.max(1))) as u8)
}

/// socket.io-client's `Backoff.duration()` (engine.io-client 6 / socket.io-client 4): the
/// delay before reconnection attempt `attempt` (0-based), `base·2^attempt`, moved by up to
/// `jitter` of itself in a random direction, capped at `max`.
pub(crate) fn backoff(base: f64, max: f64, jitter: f64, attempt: u32, rand: f64) -> Duration {
    let mut ms = base * 2f64.powi(attempt.min(30) as i32);
    if jitter > 0.0 {
        let deviation = (rand * jitter * ms).floor();
        ms = if ((rand * 10.0).floor() as u64) & 1 == 0 { ms - deviation } else { ms + deviation };
    }
    Duration::from_millis(ms.min(max).max(0.0) as u64)
}

/// A small PRNG (xorshift64*), one per client: the jitter needs no more.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One WebSocket connection from `from`, the open packet, then the CONNECT of `/` (with the
/// session's `pid` and `offset` when given, as socket.io-client sends them): the new session.
async fn connect(
    target: &Target,
    from: Ipv4Addr,
    recover: Option<&Session>,
) -> io::Result<(Stream, Session)> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((from, 0)))?;
    // Dropped, the socket is reset: no close handshake, no TIME_WAIT (the storm's "drop").
    let mut ws = ws_open(target, socket.connect(target.addr).await?).await?;
    let connect = match recover {
        Some(Session { pid: Some(pid), offset: Some(offset), .. }) => {
            format!("40{}", json!({ "pid": pid, "offset": offset }))
        }
        _ => "40".to_owned(),
    };
    ws.send(Ws::Text(connect.into())).await.map_err(|e| err(e.to_string()))?;
    loop {
        match ws.next().await {
            Some(Ok(Ws::Text(t))) if t.starts_with("40") => {
                let v: serde_json::Value =
                    serde_json::from_str(&t[2..]).map_err(|e| err(format!("CONNECT reply: {e}")))?;
                let text = |k: &str| v[k].as_str().map(str::to_owned);
                let sid = text("sid").ok_or_else(|| err("CONNECT reply without sid"))?;
                let mut session = Session { sid, pid: text("pid"), offset: None };
                // Recovered: the offset stays until a newer event.
                if let Some(old) = recover.filter(|old| old.sid == session.sid) {
                    session.offset.clone_from(&old.offset);
                }
                return Ok((ws, session));
            }
            Some(Ok(Ws::Text(t))) if t.starts_with('2') => {
                ws.send(Ws::Text(Utf8Bytes::from_static("3"))).await.map_err(|e| err(e.to_string()))?;
            }
            // Missed packets a recovered session gets before its CONNECT reply.
            Some(Ok(Ws::Text(t))) if t.starts_with("42") => {}
            Some(Ok(Ws::Text(t))) if t.starts_with("44") => return Err(err(format!("refused: {t}"))),
            Some(Ok(Ws::Ping(_) | Ws::Pong(_))) => {}
            other => return Err(err(format!("expected CONNECT, got {other:?}"))),
        }
    }
}

/// The last argument of a `bcast` event: its offset under connection state recovery.
fn offset_of(text: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text.strip_prefix("42")?).ok()?;
    let args = v.as_array()?;
    (args.first()?.as_str()? == "bcast").then(|| args.last()?.as_str().map(str::to_owned))?
}

/// Waits for the server to close or reset the connection (a restart); false at `deadline`.
async fn wait_closed(ws: &mut Stream, deadline: Instant) -> bool {
    let r = tokio::time::timeout_at(deadline, async {
        loop {
            match ws.next().await {
                Some(Ok(Ws::Text(t))) if t.starts_with('2') => {
                    let _ = ws.send(Ws::Text(Utf8Bytes::from_static("3"))).await;
                }
                Some(Ok(Ws::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    r.is_ok()
}

/// How one client came back.
struct Back {
    /// When its CONNECT reply came.
    at: Instant,
    /// The last attempt, from its start to the CONNECT reply.
    latency: Duration,
    attempts: u32,
    recovered: bool,
    stream: Stream,
}

/// Reconnects as socket.io-client does after a transport closed: waits the backoff, tries,
/// and on failure waits the next one, until `deadline`.
async fn reconnect(a: Arc<Args>, i: usize, old: Session, deadline: Instant) -> Result<Back, (u32, String)> {
    let mut rng = Rng::new(i as u64 + 1);
    let mut attempt = 0;
    let mut last_err = String::new();
    let recover = a.storm_recover.then_some(&old);
    loop {
        let delay =
            backoff(a.reconnect_delay, a.reconnect_delay_max, a.randomization, attempt, rng.next_f64());
        if Instant::now() + delay >= deadline {
            return Err((attempt, last_err));
        }
        tokio::time::sleep(delay).await;
        attempt += 1;
        let start = Instant::now();
        let timeout = secs(a.connect_timeout).min(deadline.saturating_duration_since(start));
        match tokio::time::timeout(timeout, connect(&a.target, source(i, a.sources), recover)).await {
            Ok(Ok((stream, new))) => {
                let now = Instant::now();
                return Ok(Back {
                    at: now,
                    latency: now - start,
                    attempts: attempt,
                    recovered: new.sid == old.sid,
                    stream,
                });
            }
            Ok(Err(e)) => last_err = e.to_string(),
            Err(_) => last_err = "connect timed out".into(),
        }
    }
}

pub(crate) async fn storm(args: &Args) -> Result<Report, String> {
    let a = Arc::new(args.clone());
    let n = a.conns;
    // 1. Connect everyone, `connect_concurrency` at a time.
    let start = Instant::now();
    let sem = Arc::new(Semaphore::new(a.connect_concurrency));
    let mut set = JoinSet::new();
    for i in 0..n {
        let Ok(permit) = sem.clone().acquire_owned().await else { break };
        let a = a.clone();
        set.spawn(async move {
            let r =
                tokio::time::timeout(secs(a.connect_timeout), connect(&a.target, source(i, a.sources), None))
                    .await;
            drop(permit);
            (i, r.unwrap_or_else(|_| Err(err("connect timed out"))))
        });
    }
    let mut clients: Vec<Option<(Stream, Session)>> = (0..n).map(|_| None).collect();
    let mut first_error = None;
    while let Some(r) = set.join_next().await {
        match r {
            Ok((i, Ok(c))) => clients[i] = Some(c),
            Ok((_, Err(e))) => {
                first_error.get_or_insert_with(|| e.to_string());
            }
            Err(e) => {
                first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    let mut clients: Vec<(usize, Stream, Session)> =
        clients.into_iter().enumerate().filter_map(|(i, c)| c.map(|(s, x)| (i, s, x))).collect();
    if clients.len() < n {
        return Err(format!(
            "only {}/{n} clients connected before the storm (first error: {})",
            clients.len(),
            first_error.unwrap_or_default()
        ));
    }
    let connected_in = start.elapsed();
    eprintln!("storm: {n} clients connected in {:.2} s", connected_in.as_secs_f64());

    // 2. With recovery: one `bcast`, so every client has an offset to come back with.
    if a.storm_recover {
        if clients[0].2.pid.is_none() {
            return Err("the server sent no pid: start it with RECOVERY_MS=N".into());
        }
        clients[0].1.send(Ws::Text(r#"42["bcast","storm"]"#.into())).await.map_err(|e| e.to_string())?;
        let deadline = Instant::now() + secs(a.op_timeout);
        let mut set = JoinSet::new();
        for (i, mut ws, mut session) in clients.drain(..) {
            set.spawn(async move {
                while let Ok(Some(Ok(m))) = tokio::time::timeout_at(deadline, ws.next()).await {
                    if let Ws::Text(t) = m
                        && let Some(offset) = offset_of(&t)
                    {
                        session.offset = Some(offset);
                        break;
                    }
                }
                (i, ws, session)
            });
        }
        while let Some(r) = set.join_next().await {
            clients.push(r.map_err(|e| e.to_string())?);
        }
        let missing = clients.iter().filter(|c| c.2.offset.is_none()).count();
        if missing > 0 {
            return Err(format!("{missing} clients got no offset from the bcast"));
        }
    }

    // 3. The storm: every transport dropped at once, or the server restarted.
    // After a restart the server is another process: no CPU figure then.
    let cpu = CpuWindow::start(a.server_pid.filter(|_| !a.storm_restart));
    let mut set = JoinSet::new();
    let first_closed = Arc::new(std::sync::OnceLock::new());
    let mut dropped = Instant::now();
    if a.storm_restart {
        // Each client starts its backoff when it sees its own connection go, as
        // socket.io-client does; the storm starts with the first.
        eprintln!("storm: waiting for the server to go away (restart it now)");
        let gone_by = dropped + secs(a.storm_timeout);
        for (i, mut ws, session) in clients.drain(..) {
            let (a, first) = (a.clone(), first_closed.clone());
            set.spawn(async move {
                if !wait_closed(&mut ws, gone_by).await {
                    return Err((0, "the server did not go away within --storm-timeout".to_owned()));
                }
                drop(ws);
                let closed = *first.get_or_init(Instant::now);
                let deadline = closed + secs(a.storm_timeout);
                reconnect(a, i, session, deadline).await
            });
        }
    } else {
        let deadline = dropped + secs(a.storm_timeout);
        for (i, ws, session) in clients.drain(..) {
            drop(ws);
            set.spawn(reconnect(a.clone(), i, session, deadline));
        }
    }
    let (mut after, mut latency) = (Hist::default(), Hist::default());
    let (mut back, mut recovered, mut retries, mut failed) = (0usize, 0usize, 0u64, 0usize);
    let mut last_back = Duration::ZERO;
    let mut first_failure = None;
    let mut streams = Vec::with_capacity(n);
    let mut back_at = Vec::with_capacity(n);
    while let Some(r) = set.join_next().await {
        match r {
            Ok(Ok(b)) => {
                back += 1;
                recovered += usize::from(b.recovered);
                retries += u64::from(b.attempts - 1);
                back_at.push(b.at);
                latency.record(b.latency.as_micros() as u64);
                streams.push(b.stream);
            }
            Ok(Err((attempts, e))) => {
                failed += 1;
                retries += u64::from(attempts);
                first_failure.get_or_insert(e);
            }
            Err(e) => {
                failed += 1;
                first_failure.get_or_insert(e.to_string());
            }
        }
    }
    let (cpu_s, cpu_json) = cpu.finish();
    drop(streams);
    if let Some(first) = first_closed.get() {
        dropped = *first;
    }
    for at in back_at {
        let d = at.saturating_duration_since(dropped);
        after.record(d.as_micros() as u64);
        last_back = last_back.max(d);
    }
    let (us, _) = per_op(cpu_s, back as u64);
    let mode = match (a.storm_restart, a.storm_recover) {
        (true, _) => "server restarted",
        (false, true) => "transports dropped, recovering",
        (false, false) => "transports dropped",
    };
    let line = format!(
        "storm ({mode}): {back}/{n} back in {:.2} s after the drop ({} failed{}, {retries} retries){}; \
         back after p50 {:.0} ms, p99 {:.0} ms; connect latency p50 {:.1} ms, p99 {:.1} ms{}",
        last_back.as_secs_f64(),
        failed,
        first_failure.as_deref().map_or(String::new(), |e| format!(": {e}")),
        if a.storm_recover { format!("; {recovered} recovered their session") } else { String::new() },
        ms(after.quantile(0.5)),
        ms(after.quantile(0.99)),
        ms(latency.quantile(0.5)),
        ms(latency.quantile(0.99)),
        us.map_or(String::new(), |u| format!(", server {u:.1} µs CPU/connection")),
    );
    let json = json!({
        "scenario": "storm",
        "mode": mode,
        "clients": n,
        "sources": a.sources,
        "reconnect_delay_ms": a.reconnect_delay,
        "reconnect_delay_max_ms": a.reconnect_delay_max,
        "randomization": a.randomization,
        "connected_in_s": round(connected_in.as_secs_f64(), 3),
        "back": back,
        "failed": failed,
        "first_failure": first_failure,
        "retries": retries,
        "recovered": a.storm_recover.then_some(recovered),
        "time_to_all_back_s": round(last_back.as_secs_f64(), 3),
        "back_after_us": after.json(),
        "connect_latency_us": latency.json(),
        "server_cpu_us_per_connection": us,
        "cpu_during_storm": cpu_json,
    });
    Ok((line, json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_socket_io_clients() {
        // rand 0.05: floor(0.5) = 0, even: minus 0.05·0.5·1000 = 25.
        assert_eq!(backoff(1000.0, 5000.0, 0.5, 0, 0.05), Duration::from_millis(975));
        // rand 0.15: floor(1.5) = 1, odd: plus 75.
        assert_eq!(backoff(1000.0, 5000.0, 0.5, 0, 0.15), Duration::from_millis(1075));
        assert_eq!(backoff(1000.0, 5000.0, 0.5, 1, 0.0), Duration::from_millis(2000));
        assert_eq!(backoff(1000.0, 5000.0, 0.5, 5, 0.99), Duration::from_millis(5000));
        let mut rng = Rng::new(7);
        for _ in 0..1000 {
            let d = backoff(1000.0, 5000.0, 0.5, 0, rng.next_f64()).as_millis();
            assert!((500..=1500).contains(&d), "{d}");
        }
    }

    #[test]
    fn sources_spread_over_loopback_addresses() {
        assert_eq!(source(0, 4), Ipv4Addr::new(127, 0, 0, 1));
        assert_eq!(source(5, 4), Ipv4Addr::new(127, 0, 0, 2));
        assert_eq!(source(5, 1), Ipv4Addr::LOCALHOST);
    }

    /// 200 clients against an in-process server with recovery (the `bcast` of the bench
    /// contract): all come back, none fails, all recover their session.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_storm_of_200_comes_back_and_recovers() {
        use sio_core::{Conn, Event, Handlers, RecoveryConfig, Server};
        let handlers = Handlers::new().on("bcast", |conn: Conn, ev: Event| async move {
            let _ = conn.namespace().emit_args("bcast", ev.raw());
        });
        let io = Server::builder()
            .ns("/", handlers)
            .connection_state_recovery(RecoveryConfig {
                max_disconnection_duration: Duration::from_secs(60),
                ..RecoveryConfig::default()
            })
            .build();
        let listener = sio_core::listen(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).expect("listen");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(std::future::IntoFuture::into_future(sio_core::serve(listener, io.router::<()>())));
        let args = Args {
            scenario: "storm".into(),
            target: Target { addr, path: "/socket.io/".into() },
            conns: 200,
            reconnect_delay: 50.0,
            reconnect_delay_max: 200.0,
            storm_recover: true,
            storm_timeout: 20.0,
            ..Args::default()
        };
        let (line, json) = tokio::time::timeout(Duration::from_secs(60), storm(&args))
            .await
            .expect("the storm in time")
            .expect("the storm");
        assert_eq!((json["back"].as_u64(), json["failed"].as_u64()), (Some(200), Some(0)), "{line}");
        assert_eq!(json["recovered"].as_u64(), Some(200), "{line}");
    }

    #[test]
    fn the_offset_is_the_last_argument_of_bcast() {
        assert_eq!(offset_of(r#"42["bcast","storm","17"]"#).as_deref(), Some("17"));
        assert_eq!(offset_of(r#"42["other","x","17"]"#), None);
    }
}
