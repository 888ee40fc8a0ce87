//! The scenarios. Each connects its clients first, then measures inside a window that starts
//! after the warm-up, and stops by itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::SinkExt as _;
use futures_util::StreamExt as _;
use serde_json::json;
use tokio::sync::{Mutex, Notify, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::Args;
use crate::client::{Client, In, Out, Target, to_ws};
use crate::hist::Hist;
use crate::procfs::{self, CpuWindow, ServerCpu};

pub(crate) type Report = (String, serde_json::Value);

/// Runs the scenario `args.scenario`.
pub(crate) async fn run(args: &Args) -> Result<Report, String> {
    match args.scenario.as_str() {
        "echo" => echo(args).await,
        "fanout" => fanout(args, false).await,
        "room" => fanout(args, true).await,
        "conns" => conns(args).await,
        "connect" => connect_rate(args).await,
        "storm" => crate::storm::storm(args).await,
        other => Err(format!("unknown scenario {other}")),
    }
}

pub(crate) fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

pub(crate) fn round(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (x * m).round() / m
}

/// Whether client `i` of a run uses polling: `share` of them, spread evenly.
fn is_polling(i: usize, share: f64) -> bool {
    ((i + 1) as f64 * share).floor() > (i as f64 * share).floor()
}

/// A JSON string literal whose content is `len` bytes: `prefix` then padding.
fn padded(prefix: &str, len: usize) -> String {
    let mut s = String::with_capacity(len + 2);
    s.push('"');
    s.push_str(prefix);
    while s.len() < len + 1 {
        s.push('x');
    }
    s.push('"');
    s
}

/// Microseconds from `a` to `b` (0 if `b` is earlier).
fn micros(a: Instant, b: Instant) -> u64 {
    b.saturating_duration_since(a).as_micros() as u64
}

/// Clients connected by [`connect_many`], and how the connecting went.
struct Connected {
    clients: Vec<Client>,
    errors: usize,
    first_errors: Vec<String>,
    handshake: Hist,
    elapsed: Duration,
}

/// Connects `n` clients, `concurrency` handshakes at a time, within a bounded phase. Client
/// `i` uses polling when [`is_polling`] says so.
async fn connect_many(a: &Args, n: usize, share: f64) -> Connected {
    let start = Instant::now();
    let phase_end = start + secs(a.connect_timeout * 2.0 + n as f64 / 500.0);
    let sem = Arc::new(Semaphore::new(a.connect_concurrency));
    let mut set = JoinSet::new();
    for i in 0..n {
        let Ok(permit) = sem.clone().acquire_owned().await else { break };
        let target = match i % (a.also.len() + 1) {
            0 => a.target.clone(),
            k => a.also[k - 1].clone(),
        };
        let timeout = secs(a.connect_timeout).min(phase_end.saturating_duration_since(Instant::now()));
        let polling = is_polling(i, share);
        set.spawn(async move {
            let t0 = Instant::now();
            let r = Client::connect(&target, polling, timeout).await;
            drop(permit);
            (i, r, t0.elapsed())
        });
    }
    let mut slots: Vec<Option<Client>> = (0..n).map(|_| None).collect();
    let mut out = Connected {
        clients: Vec::new(),
        errors: 0,
        first_errors: Vec::new(),
        handshake: Hist::default(),
        elapsed: Duration::ZERO,
    };
    while let Some(r) = set.join_next().await {
        match r {
            Ok((i, Ok(c), t)) => {
                out.handshake.record(t.as_micros() as u64);
                slots[i] = Some(c);
            }
            Ok((_, Err(e), _)) => {
                out.errors += 1;
                if out.first_errors.len() < 3 {
                    out.first_errors.push(e.to_string());
                }
            }
            Err(e) => {
                out.errors += 1;
                if out.first_errors.len() < 3 {
                    out.first_errors.push(e.to_string());
                }
            }
        }
    }
    out.elapsed = start.elapsed();
    out.clients = slots.into_iter().flatten().collect();
    out
}

/// Samples CPU use over `[from, to]` in the background.
fn cpu_sampler(
    pid: Option<u32>,
    from: Instant,
    to: Instant,
) -> tokio::task::JoinHandle<(Option<ServerCpu>, serde_json::Value)> {
    tokio::spawn(async move {
        tokio::time::sleep_until(from).await;
        let w = CpuWindow::start(pid);
        tokio::time::sleep_until(to).await;
        w.finish()
    })
}

pub(crate) fn per_op(cpu: Option<ServerCpu>, ops: u64) -> (Option<f64>, Option<f64>) {
    match cpu {
        Some(c) if ops > 0 => {
            (Some(round(c.total * 1e6 / ops as f64, 3)), Some(round(c.user * 1e6 / ops as f64, 3)))
        }
        _ => (None, None),
    }
}

pub(crate) fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn fmt_rate(x: f64) -> String {
    crate::report::thousands(x.round() as i64)
}

fn cpu_note(us: Option<f64>) -> String {
    us.map_or_else(String::new, |u| format!(", server {u:.2} µs CPU/op"))
}

// ---------------------------------------------------------------------------------------
// echo

#[derive(Default)]
struct EchoStats {
    ops: u64,
    hist: Hist,
    errors: u64,
    first_error: Option<String>,
}

async fn echo_client(mut c: Client, a: Arc<Args>, win_start: Instant, end: Instant) -> EchoStats {
    let mut st = EchoStats::default();
    let body = padded("", a.payload);
    let attachment = Bytes::from(vec![b'x'; a.payload]);
    let op_timeout = secs(a.op_timeout);
    let mut id: u64 = 0;
    'run: while Instant::now() < end {
        let first = id;
        let mut batch = Vec::with_capacity(a.pipeline * 2);
        for _ in 0..a.pipeline {
            if a.binary {
                batch.push(Out::Text(format!(r#"51-{id}["echo",{{"_placeholder":true,"num":0}}]"#)));
                batch.push(Out::Binary(attachment.clone()));
            } else {
                batch.push(Out::Text(format!(r#"2{id}["echo",{body}]"#)));
            }
            id += 1;
        }
        let t0 = Instant::now();
        if let Err(e) = c.send(batch).await {
            st.errors += 1;
            st.first_error.get_or_insert_with(|| e.to_string());
            break;
        }
        let mut pending = a.pipeline;
        let mut binary_ack = false;
        while pending > 0 {
            let m = match tokio::time::timeout(op_timeout, c.recv()).await {
                Ok(Ok(m)) => m,
                Ok(Err(e)) => {
                    st.errors += 1;
                    st.first_error.get_or_insert_with(|| e.to_string());
                    break 'run;
                }
                Err(_) => {
                    st.errors += 1;
                    st.first_error.get_or_insert_with(|| format!("no ack within {op_timeout:?}"));
                    break 'run;
                }
            };
            let done = match m {
                In::Text(t) if t.first() == Some(&b'3') => {
                    let digits = t[1..].iter().take_while(|b| b.is_ascii_digit()).count();
                    let ack: Option<u64> =
                        std::str::from_utf8(&t[1..1 + digits]).ok().and_then(|s| s.parse().ok());
                    if !ack.is_some_and(|x| (first..id).contains(&x)) {
                        st.errors += 1;
                        st.first_error.get_or_insert_with(|| "ack with an unexpected id".into());
                    }
                    true
                }
                In::Text(t) if t.starts_with(b"61-") => {
                    binary_ack = true;
                    false
                }
                In::Binary(_) if binary_ack => {
                    binary_ack = false;
                    true
                }
                _ => false,
            };
            if done {
                pending -= 1;
                let now = Instant::now();
                if now >= win_start && now <= end {
                    st.ops += 1;
                }
                if t0 >= win_start && t0 < end {
                    st.hist.record(micros(t0, now));
                }
            }
        }
    }
    c.close().await;
    st
}

async fn echo(a: &Args) -> Result<Report, String> {
    let conn = connect_many(a, a.clients, a.polling_share).await;
    if conn.clients.is_empty() {
        return Err(format!("no client could connect: {:?}", conn.first_errors));
    }
    let connected = conn.clients.len();
    let polling = conn.clients.iter().filter(|c| c.is_polling()).count();
    let start = Instant::now();
    let win_start = start + secs(a.warmup);
    let end = win_start + secs(a.duration);
    let cpu = cpu_sampler(a.server_pid, win_start, end);
    let shared = Arc::new(a.clone());
    let mut set = JoinSet::new();
    for c in conn.clients {
        set.spawn(echo_client(c, shared.clone(), win_start, end));
    }
    let mut total = EchoStats::default();
    while let Some(r) = set.join_next().await {
        let Ok(s) = r else { continue };
        total.ops += s.ops;
        total.hist.merge(&s.hist);
        total.errors += s.errors;
        if total.first_error.is_none() {
            total.first_error = s.first_error;
        }
    }
    let (server_cpu, cpu_json) = cpu.await.map_err(|e| e.to_string())?;
    let ops_per_s = total.ops as f64 / a.duration;
    let (us_op, us_op_user) = per_op(server_cpu, total.ops);
    let line = format!(
        "echo: {connected} clients ({polling} polling), pipeline {}, {} B{}: {} acks/s, p50 {:.2} ms, p99 {:.2} ms, errors {}{}",
        a.pipeline,
        a.payload,
        if a.binary { " binary" } else { "" },
        fmt_rate(ops_per_s),
        ms(total.hist.quantile(0.5)),
        ms(total.hist.quantile(0.99)),
        total.errors,
        cpu_note(us_op),
    );
    let json = json!({
        "scenario": "echo",
        "clients": a.clients,
        "connected": connected,
        "polling_clients": polling,
        "connect_errors": conn.errors,
        "pipeline": a.pipeline,
        "payload_bytes": a.payload,
        "duration_s": a.duration,
        "ops": total.ops,
        "ops_per_s": round(ops_per_s, 1),
        "latency_us": total.hist.json(),
        "errors": total.errors,
        "first_error": total.first_error,
        "cpu": cpu_json,
        "server_cpu_us_per_op": us_op,
        "server_user_cpu_us_per_op": us_op_user,
    });
    Ok((line, json))
}

// ---------------------------------------------------------------------------------------
// fanout and room

const RING: usize = 4096;

/// State shared by the sender and the receivers of a fan-out.
struct Fan {
    /// Deliveries of message `seq`, at `seq % RING`.
    counts: Vec<AtomicU32>,
    /// Receivers every message should reach.
    expected: u32,
    /// Messages delivered to every receiver.
    completed: AtomicU64,
    progress: Notify,
    sent: AtomicU64,
    done: AtomicBool,
    finished: Notify,
    origin: Instant,
}

#[derive(Default)]
struct RecvStats {
    received: u64,
    in_window: u64,
    hist: Hist,
    out_of_order: u64,
    gaps: u64,
    malformed: u64,
    closed_early: bool,
}

/// Reads `<seq>:<send µs>:` from a message's first string argument (after the event name).
fn parse_text(t: &[u8]) -> Option<(u64, u64)> {
    // 2["bcast","<seq>:<us>:pad"]  or  2["room-msg","<seq>:<us>:pad"]
    let i = t.windows(3).position(|w| w == b"\",\"")? + 3;
    let mut parts = t[i..].splitn(3, |&b| b == b':');
    let seq = std::str::from_utf8(parts.next()?).ok()?.parse().ok()?;
    let us = std::str::from_utf8(parts.next()?).ok()?.parse().ok()?;
    Some((seq, us))
}

fn parse_binary(b: &[u8]) -> Option<(u64, u64)> {
    let seq = u64::from_le_bytes(b.get(..8)?.try_into().ok()?);
    let us = u64::from_le_bytes(b.get(8..16)?.try_into().ok()?);
    Some((seq, us))
}

async fn receiver(mut c: Client, fan: Arc<Fan>, win: (Instant, Instant), hard_end: Instant) -> RecvStats {
    let mut st = RecvStats::default();
    let mut last: Option<u64> = None;
    let mut binary_pending = false;
    loop {
        let finished = fan.finished.notified();
        tokio::pin!(finished);
        finished.as_mut().enable();
        if fan.done.load(Ordering::Acquire) && st.received >= fan.sent.load(Ordering::Acquire) {
            break;
        }
        let m = tokio::select! {
            m = c.recv() => m,
            () = &mut finished => continue,
            () = tokio::time::sleep_until(hard_end) => break,
        };
        let m = match m {
            Ok(m) => m,
            Err(_) => {
                st.closed_early = true;
                break;
            }
        };
        let now = Instant::now();
        let parsed = match m {
            In::Text(t) if t.first() == Some(&b'5') => {
                binary_pending = true;
                continue;
            }
            In::Text(t) => parse_text(&t),
            In::Binary(b) if binary_pending => {
                binary_pending = false;
                parse_binary(&b)
            }
            In::Binary(_) => None,
        };
        let Some((seq, sent_us)) = parsed else {
            st.malformed += 1;
            continue;
        };
        st.received += 1;
        if now >= win.0 && now <= win.1 {
            st.in_window += 1;
        }
        let sent_at = fan.origin + Duration::from_micros(sent_us);
        if sent_at >= win.0 && sent_at < win.1 {
            st.hist.record(micros(sent_at, now));
        }
        match last {
            Some(l) if seq <= l => st.out_of_order += 1,
            Some(l) if seq > l + 1 => st.gaps += 1,
            None if seq > 0 => st.gaps += 1,
            _ => {}
        }
        last = Some(last.map_or(seq, |l| l.max(seq)));
        let n = fan.counts[seq as usize % RING].fetch_add(1, Ordering::AcqRel) + 1;
        if n == fan.expected {
            fan.completed.fetch_add(1, Ordering::AcqRel);
            fan.progress.notify_one();
        }
    }
    c.close().await;
    st
}

/// A socket outside the room: counts whatever reaches it until the run ends.
async fn bystander(mut c: Client, fan: Arc<Fan>, hard_end: Instant) -> u64 {
    let mut stray = 0;
    loop {
        let finished = fan.finished.notified();
        tokio::pin!(finished);
        finished.as_mut().enable();
        if fan.done.load(Ordering::Acquire) {
            break;
        }
        tokio::select! {
            m = c.recv() => match m {
                Ok(_) => stray += 1,
                Err(_) => break,
            },
            () = &mut finished => {}
            () = tokio::time::sleep_until(hard_end) => break,
        }
    }
    c.close().await;
    stray
}

#[derive(Default)]
struct SendStats {
    sent: u64,
    stalls: u64,
    self_received: u64,
    error: Option<String>,
}

/// Emits `<prefix><payload>]` as fast as the window allows (or at `rate`) until `end`.
async fn sender(c: Client, fan: Arc<Fan>, a: Arc<Args>, prefix: String, end: Instant) -> SendStats {
    let mut st = SendStats::default();
    let Some((sink, mut stream)) = c.split() else {
        st.error = Some("the sender must use WebSocket".into());
        return st;
    };
    let sink = Arc::new(Mutex::new(sink));
    // The sender's own incoming messages (a `bcast` reaches it too) are read and counted.
    let reader_sink = sink.clone();
    let hard_end = end + secs(a.drain);
    let reader = tokio::spawn(async move {
        let mut n = 0u64;
        loop {
            let m = tokio::select! {
                m = stream.next() => m,
                () = tokio::time::sleep_until(hard_end) => break,
            };
            match m {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) if t.as_str() == "2" => {
                    let pong = tokio_tungstenite::tungstenite::Message::text("3");
                    let _ = reader_sink.lock().await.send(pong).await;
                }
                Some(Ok(tokio_tungstenite::tungstenite::Message::Text(_))) => n += 1,
                Some(Ok(_)) => {}
                _ => break,
            }
        }
        n
    });
    let interval = if a.rate > 0.0 { Some(Duration::from_secs_f64(1.0 / a.rate)) } else { None };
    let mut next = Instant::now();
    let mut abandoned = 0u64;
    let op_timeout = secs(a.op_timeout);
    let mut seq = 0u64;
    'send: while Instant::now() < end {
        if let Some(iv) = interval {
            tokio::time::sleep_until(next.min(end)).await;
            next += iv;
        } else {
            loop {
                let progress = fan.progress.notified();
                let completed = fan.completed.load(Ordering::Acquire);
                if seq.saturating_sub(completed).saturating_sub(abandoned) < a.window {
                    break;
                }
                tokio::select! {
                    () = progress => {}
                    () = tokio::time::sleep(op_timeout) => {
                        st.stalls += 1;
                        abandoned = seq.saturating_sub(fan.completed.load(Ordering::Acquire));
                    }
                    () = tokio::time::sleep_until(end) => break 'send,
                }
            }
        }
        if Instant::now() >= end {
            break;
        }
        fan.counts[seq as usize % RING].store(0, Ordering::Release);
        let us = micros(fan.origin, Instant::now());
        let mut s = sink.lock().await;
        let r = if a.binary {
            let mut data = vec![b'x'; a.payload.max(16)];
            data[..8].copy_from_slice(&seq.to_le_bytes());
            data[8..16].copy_from_slice(&us.to_le_bytes());
            let header = format!(r#"{}{{"_placeholder":true,"num":0}}]"#, prefix.replacen('2', "51-", 1));
            match s.feed(to_ws(Out::Text(header))).await {
                Ok(()) => s.send(to_ws(Out::Binary(Bytes::from(data)))).await,
                Err(e) => Err(e),
            }
        } else {
            let text = format!("{prefix}{}]", padded(&format!("{seq}:{us}:"), a.payload));
            s.send(to_ws(Out::Text(text))).await
        };
        drop(s);
        if let Err(e) = r {
            st.error = Some(e.to_string());
            break;
        }
        seq += 1;
        fan.sent.store(seq, Ordering::Release);
    }
    st.sent = seq;
    fan.done.store(true, Ordering::Release);
    fan.finished.notify_waiters();
    st.self_received =
        tokio::time::timeout_at(hard_end + secs(1.0), reader).await.ok().and_then(Result::ok).unwrap_or(0);
    st
}

/// Joins `room` with client `c` (`join` must be acknowledged with `true`).
async fn join(c: &mut Client, room: &str, timeout: Duration) -> Result<(), String> {
    c.send(vec![Out::Text(format!(r#"20["join","{room}"]"#))]).await.map_err(|e| e.to_string())?;
    let deadline = Instant::now() + timeout;
    loop {
        match tokio::time::timeout_at(deadline, c.recv()).await {
            Ok(Ok(In::Text(t))) if t.starts_with(b"30") => return Ok(()),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(e.to_string()),
            Err(_) => return Err("join not acknowledged".into()),
        }
    }
}

async fn fanout(a: &Args, room: bool) -> Result<Report, String> {
    // fanout: every socket of `/` receives; room: `room_size` of `sockets` do.
    let total = if room { a.sockets } else { a.receivers };
    let mut conn = connect_many(a, total, a.polling_share).await;
    if conn.clients.is_empty() {
        return Err(format!("no client could connect: {:?}", conn.first_errors));
    }
    let sender_client = Client::connect(&a.target, false, secs(a.connect_timeout))
        .await
        .map_err(|e| format!("the sender could not connect: {e}"))?;
    let mut bystanders = Vec::new();
    if room {
        let rest = conn.clients.split_off(a.room_size.min(conn.clients.len()));
        bystanders = rest;
        let mut set = JoinSet::new();
        for (i, mut c) in conn.clients.drain(..).enumerate() {
            let timeout = secs(a.op_timeout);
            set.spawn(async move { (i, join(&mut c, "r", timeout).await, c) });
        }
        let mut members = Vec::new();
        while let Some(r) = set.join_next().await {
            match r {
                Ok((i, Ok(()), c)) => members.push((i, c)),
                Ok((_, Err(e), _)) => return Err(format!("join failed: {e}")),
                Err(e) => return Err(e.to_string()),
            }
        }
        members.sort_by_key(|(i, _)| *i);
        conn.clients = members.into_iter().map(|(_, c)| c).collect();
    }
    let receivers = conn.clients.len();
    let polling = conn.clients.iter().filter(|c| c.is_polling()).count();
    let polling_bystanders = bystanders.iter().filter(|c| c.is_polling()).count();
    let connect_s = conn.elapsed.as_secs_f64();

    let start = Instant::now();
    let win = (start + secs(a.warmup), start + secs(a.warmup + a.duration));
    let hard_end = win.1 + secs(a.drain);
    let fan = Arc::new(Fan {
        counts: (0..RING).map(|_| AtomicU32::new(0)).collect(),
        expected: receivers as u32,
        completed: AtomicU64::new(0),
        progress: Notify::new(),
        sent: AtomicU64::new(0),
        done: AtomicBool::new(false),
        finished: Notify::new(),
        origin: start,
    });
    let cpu = cpu_sampler(a.server_pid, win.0, win.1);
    let mut set = JoinSet::new();
    for c in conn.clients {
        set.spawn(receiver(c, fan.clone(), win, hard_end));
    }
    let mut by = JoinSet::new();
    for c in bystanders {
        by.spawn(bystander(c, fan.clone(), hard_end));
    }
    let prefix = if room { r#"2["to-room","r","#.to_owned() } else { r#"2["bcast","#.to_owned() };
    let send = tokio::spawn(sender(sender_client, fan.clone(), Arc::new(a.clone()), prefix, win.1));

    let mut stats = Vec::with_capacity(receivers);
    while let Some(r) = set.join_next().await {
        if let Ok(s) = r {
            stats.push(s);
        }
    }
    let mut stray = 0;
    while let Some(r) = by.join_next().await {
        stray += r.unwrap_or(0);
    }
    let snd = send.await.map_err(|e| e.to_string())?;
    let (server_cpu, cpu_json) = cpu.await.map_err(|e| e.to_string())?;

    let mut hist = Hist::default();
    let (mut received, mut in_window, mut ooo, mut gaps, mut malformed, mut closed) = (0, 0, 0, 0, 0, 0);
    let mut min_received = u64::MAX;
    for s in &stats {
        hist.merge(&s.hist);
        received += s.received;
        in_window += s.in_window;
        ooo += s.out_of_order;
        gaps += s.gaps;
        malformed += s.malformed;
        closed += u64::from(s.closed_early);
        min_received = min_received.min(s.received);
    }
    let expected = snd.sent * receivers as u64;
    let lost = expected.saturating_sub(received);
    let deliveries_per_s = in_window as f64 / a.duration;
    let (us_d, us_d_user) = per_op(server_cpu, in_window);
    let name = if room { "room" } else { "fanout" };
    let line = format!(
        "{name}: {receivers} receivers ({polling} polling{}), {} B{}: sent {} ({}/s), {} deliveries/s, p50 {:.2} ms, p99 {:.2} ms, lost {lost}, out of order {ooo}{}{}",
        if room {
            format!(", room of {receivers} among {total} sockets, {polling_bystanders} of the others polling")
        } else {
            String::new()
        },
        a.payload,
        if a.binary { " binary" } else { "" },
        snd.sent,
        fmt_rate(snd.sent as f64 / (a.warmup + a.duration)),
        fmt_rate(deliveries_per_s),
        ms(hist.quantile(0.5)),
        ms(hist.quantile(0.99)),
        if room { format!(", stray {stray}") } else { String::new() },
        cpu_note(us_d).replace("/op", "/delivery"),
    );
    let json = json!({
        "scenario": name,
        "mode": if a.rate > 0.0 { format!("rate {}", a.rate) } else { format!("window {}", a.window) },
        "receivers": receivers,
        "sockets": if room { total + 1 } else { receivers + 1 },
        "polling_receivers": polling,
        "polling_bystanders": polling_bystanders,
        "connected": receivers,
        "connect_errors": conn.errors,
        "first_errors": conn.first_errors,
        "connect_s": round(connect_s, 3),
        "payload_bytes": a.payload,
        "duration_s": a.duration,
        "sent": snd.sent,
        "sent_per_s": round(snd.sent as f64 / (a.warmup + a.duration), 1),
        "deliveries": in_window,
        "deliveries_per_s": round(deliveries_per_s, 1),
        "expected_deliveries": expected,
        "received": received,
        "lost": lost,
        "loss_pct": if expected > 0 { round(lost as f64 * 100.0 / expected as f64, 4) } else { 0.0 },
        "min_received_by_a_receiver": if stats.is_empty() { 0 } else { min_received },
        "out_of_order": ooo,
        "seq_gaps": gaps,
        "malformed": malformed,
        "receivers_closed_early": closed,
        "stray_deliveries": stray,
        "sender_self_received": snd.self_received,
        "send_error": snd.error,
        "window_stalls": snd.stalls,
        "latency_us": hist.json(),
        "cpu": cpu_json,
        "server_cpu_us_per_delivery": us_d,
        "server_user_cpu_us_per_delivery": us_d_user,
    });
    Ok((line, json))
}

// ---------------------------------------------------------------------------------------
// conns

/// Keeps a connection open (answering pings) until told to stop.
async fn idle(mut c: Client, stop: Arc<Notify>, stopping: Arc<AtomicBool>) -> bool {
    loop {
        let stopped = stop.notified();
        tokio::pin!(stopped);
        stopped.as_mut().enable();
        if stopping.load(Ordering::Acquire) {
            c.close().await;
            return true;
        }
        tokio::select! {
            m = c.recv() => if m.is_err() { return false },
            () = &mut stopped => {}
        }
    }
}

async fn conns(a: &Args) -> Result<Report, String> {
    let pid = a.server_pid;
    let rss = || pid.and_then(procfs::rss_bytes);
    let rss_before = rss();
    let cpu_connect = CpuWindow::start(pid);
    let conn = connect_many(a, a.conns, a.polling_share).await;
    let (cpu_c, cpu_connect_json) = cpu_connect.finish();
    if conn.clients.is_empty() {
        return Err(format!("no client could connect: {:?}", conn.first_errors));
    }
    let connected = conn.clients.len();
    let polling = conn.clients.iter().filter(|c| c.is_polling()).count();
    let stop = Arc::new(Notify::new());
    let stopping = Arc::new(AtomicBool::new(false));
    let mut set = JoinSet::new();
    for c in conn.clients {
        set.spawn(idle(c, stop.clone(), stopping.clone()));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_connected = rss();
    let cpu_hold = CpuWindow::start(pid);
    tokio::time::sleep(secs(a.hold)).await;
    let (_, cpu_hold_json) = cpu_hold.finish();
    let rss_held = rss();
    stopping.store(true, Ordering::Release);
    stop.notify_waiters();
    let mut still_open = 0;
    while let Some(r) = set.join_next().await {
        still_open += usize::from(r.unwrap_or(false));
    }
    // Let the server notice the closed connections and free what it can.
    let mut rss_closed = rss();
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = rss();
        if now == rss_closed {
            break;
        }
        rss_closed = now;
    }
    let conn_per_s = connected as f64 / conn.elapsed.as_secs_f64().max(1e-9);
    let per_conn = |r: Option<u64>| match (r, rss_before) {
        (Some(r), Some(b)) => Some((r as i64 - b as i64) / connected as i64),
        _ => None,
    };
    let (us_c, _) = per_op(cpu_c, connected as u64);
    let mb = |r: Option<u64>| r.map_or("?".to_owned(), |r| format!("{:.1} MB", r as f64 / 1e6));
    let line = format!(
        "conns: {connected}/{} connected ({polling} polling) in {:.2} s ({} conn/s, p99 {:.1} ms), still open after {} s: {still_open}; server RSS {} → {} → {} (closed); {} bytes/conn{}",
        a.conns,
        conn.elapsed.as_secs_f64(),
        fmt_rate(conn_per_s),
        ms(conn.handshake.quantile(0.99)),
        a.hold,
        mb(rss_before),
        mb(rss_held),
        mb(rss_closed),
        per_conn(rss_held).map_or("?".into(), |b| b.to_string()),
        cpu_note(us_c).replace("/op", "/connection"),
    );
    let json = json!({
        "scenario": "conns",
        "conns": a.conns,
        "connected": connected,
        "polling_clients": polling,
        "connect_errors": conn.errors,
        "first_errors": conn.first_errors,
        "connect_concurrency": a.connect_concurrency,
        "time_to_all_connected_s": round(conn.elapsed.as_secs_f64(), 3),
        "conn_per_s": round(conn_per_s, 1),
        "handshake_us": conn.handshake.json(),
        "hold_s": a.hold,
        "still_open_after_hold": still_open,
        "server_rss_before": rss_before,
        "server_rss_connected": rss_connected,
        "server_rss_after_hold": rss_held,
        "server_rss_after_close": rss_closed,
        "bytes_per_conn": per_conn(rss_held),
        "bytes_per_conn_at_connect": per_conn(rss_connected),
        "server_cpu_us_per_connection": us_c,
        "cpu_during_connect": cpu_connect_json,
        "cpu_during_hold": cpu_hold_json,
    });
    Ok((line, json))
}

// ---------------------------------------------------------------------------------------
// connect

async fn connect_rate(a: &Args) -> Result<Report, String> {
    let start = Instant::now();
    let win = (start + secs(a.warmup), start + secs(a.warmup + a.duration));
    let cpu = cpu_sampler(a.server_pid, win.0, win.1);
    let mut set = JoinSet::new();
    let target: Arc<Target> = Arc::new(a.target.clone());
    let timeout = secs(a.connect_timeout.min(a.op_timeout));
    for w in 0..a.concurrency {
        let target = target.clone();
        let polling = is_polling(w, a.polling_share);
        set.spawn(async move {
            let mut hist = Hist::default();
            let (mut ok, mut errors) = (0u64, 0u64);
            let mut first_error = None;
            while Instant::now() < win.1 {
                let t0 = Instant::now();
                match Client::connect(&target, polling, timeout).await {
                    Ok(c) => {
                        let t1 = Instant::now();
                        if t1 >= win.0 && t1 <= win.1 {
                            ok += 1;
                            hist.record(micros(t0, t1));
                        }
                        c.close().await;
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| e.to_string());
                        // Back off a little so a refusing server is not hammered.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
            (hist, ok, errors, first_error)
        });
    }
    let mut hist = Hist::default();
    let (mut ok, mut errors, mut first_error) = (0, 0, None);
    while let Some(r) = set.join_next().await {
        let Ok((h, o, e, f)) = r else { continue };
        hist.merge(&h);
        ok += o;
        errors += e;
        if first_error.is_none() {
            first_error = f;
        }
    }
    let (server_cpu, cpu_json) = cpu.await.map_err(|e| e.to_string())?;
    let rate = ok as f64 / a.duration;
    let (us_c, us_c_user) = per_op(server_cpu, ok);
    let line = format!(
        "connect: {} in parallel{}: {} connections/s, p50 {:.2} ms, p99 {:.2} ms, errors {errors}{}",
        a.concurrency,
        if a.polling_share > 0.0 {
            format!(" ({:.0} % polling)", a.polling_share * 100.0)
        } else {
            String::new()
        },
        fmt_rate(rate),
        ms(hist.quantile(0.5)),
        ms(hist.quantile(0.99)),
        cpu_note(us_c).replace("/op", "/connection"),
    );
    let json = json!({
        "scenario": "connect",
        "concurrency": a.concurrency,
        "duration_s": a.duration,
        "connections": ok,
        "conn_per_s": round(rate, 1),
        "latency_us": hist.json(),
        "errors": errors,
        "first_error": first_error,
        "cpu": cpu_json,
        "server_cpu_us_per_connection": us_c,
        "server_user_cpu_us_per_connection": us_c_user,
    });
    Ok((line, json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_sizes_and_parsing() {
        let p = padded("12:345:", 64);
        assert_eq!(p.len(), 66);
        let msg = format!(r#"2["bcast",{p}]"#);
        assert_eq!(parse_text(msg.as_bytes()), Some((12, 345)));
        assert_eq!((0..100).filter(|&i| is_polling(i, 0.05)).count(), 5);
        assert_eq!((0..100).filter(|&i| is_polling(i, 0.0)).count(), 0);
    }
}
