//! `client_load`: sio-client as a load generator, with the workload of the bench kit's
//! `sioload echo --clients 100 --pipeline 16` ("echo-p16"), so the two can be compared side by
//! side against the same server (one honouring the bench contract: `echo` acked with the same
//! arguments, e.g. `examples/bench_server`).
//!
//! ```text
//! cargo run --release --example client_load -- [--url http://127.0.0.1:3000] [--clients 100]
//!     [--pipeline 16] [--mode batch|window] [--duration 10] [--warmup 1] [--payload 64]
//!     [--op-timeout 5] [--connect-timeout 10] [--server-pid PID] [--threads N]
//! ```
//!
//! Each of `--clients` sockets (WebSocket only, no reconnection) runs a closed loop of
//! `emit_with_ack("echo", (payload,))`, the payload being a JSON string of `--payload` bytes
//! `abc…zabc…` (as sioload's). `--mode batch` (the default, sioload's): `--pipeline` emits,
//! then wait for all their acks; `--mode window`: keep `--pipeline` acks in flight, a new emit
//! as each ack arrives. Each reply is read as a `String` and checked against the payload.
//!
//! Acks are counted when they resolve inside the measured window (after `--warmup`);
//! `ops_per_s` = acks in the window / `--duration`, as sioload computes it. CPU times come from
//! `/proc/<pid>/stat` (user + system), read on a plain thread at the window's edges:
//! `loadgen_cpu_us_per_op` is this process's CPU per ack, `server_cpu_us_per_op` the server's
//! (with `--server-pid`). `--threads` defaults to the CPUs this process may run on (1 under
//! `taskset -c 1`: tokio's current-thread runtime, like sioload).
//!
//! Prints one JSON line on stdout. Bounded: the run stops after connect + warmup + duration,
//! and a watchdog thread exits the process (status 3) if anything hangs past that budget.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde_json::json;
use sio_client::{Socket, Transport};

#[derive(Debug, Clone)]
struct Args {
    url: String,
    clients: usize,
    pipeline: usize,
    window_mode: bool,
    duration: f64,
    warmup: f64,
    payload: usize,
    op_timeout: f64,
    connect_timeout: f64,
    server_pid: Option<u32>,
    threads: Option<usize>,
}

impl Default for Args {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:3000".into(),
            clients: 100,
            pipeline: 16,
            window_mode: false,
            duration: 10.0,
            warmup: 1.0,
            payload: 64,
            op_timeout: 5.0,
            connect_timeout: 10.0,
            server_pid: None,
            threads: None,
        }
    }
}

const USAGE: &str = "usage: client_load [--url http://127.0.0.1:PORT] [--clients N] [--pipeline P] \
[--mode batch|window] [--duration S] [--warmup S] [--payload BYTES] [--op-timeout S] \
[--connect-timeout S] [--server-pid PID] [--threads N]";

fn parse_args(argv: impl Iterator<Item = String>) -> Result<Args, String> {
    fn num<T: std::str::FromStr>(k: &str, v: Option<String>) -> Result<T, String> {
        let v = v.ok_or_else(|| format!("{k} needs a value"))?;
        v.parse().map_err(|_| format!("{k}: bad value {v:?}"))
    }
    let mut a = Args::default();
    let mut it = argv;
    while let Some(k) = it.next() {
        match k.as_str() {
            "--url" => a.url = it.next().ok_or("--url needs a value")?,
            "--clients" => a.clients = num(&k, it.next())?,
            "--pipeline" => a.pipeline = num(&k, it.next())?,
            "--mode" => {
                a.window_mode = match it.next().as_deref() {
                    Some("batch") => false,
                    Some("window") => true,
                    _ => return Err("--mode is batch or window".into()),
                }
            }
            "--duration" | "-d" => a.duration = num(&k, it.next())?,
            "--warmup" => a.warmup = num(&k, it.next())?,
            "--payload" | "-p" => a.payload = num(&k, it.next())?,
            "--op-timeout" => a.op_timeout = num(&k, it.next())?,
            "--connect-timeout" => a.connect_timeout = num(&k, it.next())?,
            "--server-pid" => a.server_pid = Some(num(&k, it.next())?),
            "--threads" => a.threads = Some(num(&k, it.next())?),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    let positive = |x: f64| x.is_finite() && x > 0.0;
    if !positive(a.duration) || a.duration > 3600.0 || !(0.0..=60.0).contains(&a.warmup) {
        return Err("--duration must be in (0, 3600] and --warmup in [0, 60]".into());
    }
    if !positive(a.op_timeout) || !positive(a.connect_timeout) || a.connect_timeout > 600.0 {
        return Err("--op-timeout and --connect-timeout must be positive (connect ≤ 600 s)".into());
    }
    if a.clients == 0 || a.pipeline == 0 || a.clients > 100_000 {
        return Err("--clients (≤ 100000) and --pipeline must be at least 1".into());
    }
    let rest = a.url.strip_prefix("http://").or_else(|| a.url.strip_prefix("ws://")).unwrap_or("");
    let host = rest.split(['/', '?']).next().unwrap_or("").rsplit_once(':').map_or(rest, |(h, _)| h);
    if host != "127.0.0.1" && host != "localhost" {
        return Err(format!("only http://127.0.0.1 or localhost may be targeted, not {:?}", a.url));
    }
    Ok(a)
}

/// `n` bytes of `abcdefghijklmnopqrstuvwxyzabc...` (sioload's payload).
fn alphabet(n: usize) -> String {
    (b'a'..=b'z').cycle().take(n).map(char::from).collect()
}

/// Clock ticks per second of `/proc/*/stat` times (`getconf CLK_TCK`, 100 on Linux).
fn ticks_per_s() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .filter(|t: &f64| *t > 0.0)
        .unwrap_or(100.0)
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(path: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which may contain spaces) start at field 3.
    let f: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// (busy, total) ticks of every `cpuN` line of `/proc/stat` (iowait counts as idle): the
/// busy fraction includes the softirq time of the loopback TCP stack, which no process is
/// charged for.
fn machine_ticks() -> Vec<(u64, u64)> {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else { return Vec::new() };
    stat.lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .map(|l| {
            let v: Vec<u64> = l.split_whitespace().skip(1).take(8).filter_map(|x| x.parse().ok()).collect();
            let total: u64 = v.iter().sum();
            let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
            (total.saturating_sub(idle), total)
        })
        .collect()
}

/// CPU clocks of this process, of the server and of the machine at one instant.
#[derive(Debug, Clone)]
struct Snapshot {
    at: Instant,
    own: Option<u64>,
    server: Option<u64>,
    machine: Vec<(u64, u64)>,
}

fn snapshot(server_pid: Option<u32>) -> Snapshot {
    Snapshot {
        at: Instant::now(),
        own: cpu_ticks("/proc/self/stat"),
        server: server_pid.and_then(|p| cpu_ticks(&format!("/proc/{p}/stat"))),
        machine: machine_ticks(),
    }
}

/// What one client measured.
#[derive(Debug, Default)]
struct Outcome {
    ops: u64,
    latency_sum_us: u64,
    error: Option<String>,
}

/// Window edges shared by all clients.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    end: Instant,
}

/// One ack in flight: the future and when its emit left.
type InFlight = (sio_client::AckFuture<String>, Instant);

fn emit(socket: &Socket, payload: &str, sent: Instant) -> InFlight {
    (socket.emit_with_ack::<_, String>("echo", (payload,)), sent)
}

/// Waits for one ack; `Ok(false)` when the window closed first. `end` is the client's one
/// timer for the window's end (not a timer per ack: the generator's own cost stays low).
async fn settle(
    fut: InFlight,
    payload: &str,
    window: Window,
    end: std::pin::Pin<&mut tokio::time::Sleep>,
    out: &mut Outcome,
) -> Result<bool, String> {
    let (fut, sent) = fut;
    let reply = tokio::select! {
        biased;
        r = fut => r.map_err(|e| format!("ack failed: {e}"))?,
        () = end => return Ok(false),
    };
    if reply != payload {
        return Err(format!("the reply differs from the payload: {} bytes", reply.len()));
    }
    let now = Instant::now();
    if now >= window.start && now < window.end {
        out.ops += 1;
        out.latency_sum_us += now.duration_since(sent).as_micros() as u64;
    }
    Ok(true)
}

/// One client's closed loop until the window closes.
async fn client(socket: Socket, a: Args, payload: String, window: Window) -> Outcome {
    let mut out = Outcome::default();
    let mut inflight: VecDeque<InFlight> = VecDeque::with_capacity(a.pipeline);
    let end = tokio::time::sleep_until(window.end.into());
    tokio::pin!(end);
    let result: Result<(), String> = async {
        if a.window_mode {
            let sent = Instant::now();
            while inflight.len() < a.pipeline {
                inflight.push_back(emit(&socket, &payload, sent));
            }
            while let Some(f) = inflight.pop_front() {
                if !settle(f, &payload, window, end.as_mut(), &mut out).await? {
                    break;
                }
                let now = Instant::now();
                if now < window.end {
                    inflight.push_back(emit(&socket, &payload, now));
                }
            }
        } else {
            // As sioload: latency from the batch's send.
            'batches: loop {
                let sent = Instant::now();
                if sent >= window.end {
                    break;
                }
                for _ in 0..a.pipeline {
                    inflight.push_back(emit(&socket, &payload, sent));
                }
                while let Some(f) = inflight.pop_front() {
                    if !settle(f, &payload, window, end.as_mut(), &mut out).await? {
                        break 'batches;
                    }
                }
            }
        }
        Ok(())
    }
    .await;
    out.error = result.err();
    socket.disconnect();
    out
}

async fn connect(a: &Args) -> Result<Socket, String> {
    let timeout = Duration::from_secs_f64(a.connect_timeout);
    Socket::builder(&a.url)
        .transports(&[Transport::WebSocket])
        .reconnection(false)
        .timeout(timeout)
        .ack_timeout(Duration::from_secs_f64(a.op_timeout))
        .connect()
        .await
        .map_err(|e| e.to_string())
}

async fn run(a: Args) -> Result<serde_json::Value, String> {
    // Connect every client (all at once: the handshakes are concurrent).
    let tasks: Vec<_> = (0..a.clients)
        .map(|_| {
            let a = a.clone();
            tokio::spawn(async move { connect(&a).await })
        })
        .collect();
    let mut sockets = Vec::with_capacity(a.clients);
    let (mut connect_errors, mut first_error) = (0usize, None::<String>);
    for t in tasks {
        match t.await.map_err(|e| e.to_string()).and_then(|r| r) {
            Ok(s) => sockets.push(s),
            Err(e) => {
                connect_errors += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    if sockets.is_empty() {
        return Err(format!("no client could connect to {}: {}", a.url, first_error.unwrap_or_default()));
    }
    let connected = sockets.len();

    let start = Instant::now();
    let window = Window {
        start: start + Duration::from_secs_f64(a.warmup),
        end: start + Duration::from_secs_f64(a.warmup + a.duration),
    };
    // The CPU clocks at the window's edges, read on a plain thread so the readings land on
    // time even while the runtime's thread is saturated.
    let server_pid = a.server_pid;
    let sampler = std::thread::spawn(move || {
        [window.start, window.end].map(|t| {
            std::thread::sleep(t.saturating_duration_since(Instant::now()));
            snapshot(server_pid)
        })
    });
    let payload = alphabet(a.payload);
    let tasks: Vec<_> =
        sockets.into_iter().map(|s| tokio::spawn(client(s, a.clone(), payload.clone(), window))).collect();
    let (mut ops, mut latency_sum_us, mut errors) = (0u64, 0u64, 0usize);
    for t in tasks {
        match t.await {
            Ok(o) => {
                ops += o.ops;
                latency_sum_us += o.latency_sum_us;
                if let Some(e) = o.error {
                    errors += 1;
                    first_error.get_or_insert(e);
                }
            }
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(e.to_string());
            }
        }
    }
    let [s0, s1] = sampler.join().map_err(|_| "the CPU sampler panicked".to_owned())?;

    let ticks = ticks_per_s();
    let wall = s1.at.duration_since(s0.at).as_secs_f64().max(1e-9);
    let cpu_s = |x: Option<u64>, y: Option<u64>| Some(y?.saturating_sub(x?) as f64 / ticks);
    let own = cpu_s(s0.own, s1.own);
    let server = cpu_s(s0.server, s1.server);
    let machine: Vec<f64> = s0
        .machine
        .iter()
        .zip(&s1.machine)
        .map(|(&(b0, t0), &(b1, t1))| {
            let t = t1.saturating_sub(t0);
            if t == 0 { 0.0 } else { round(b1.saturating_sub(b0) as f64 / t as f64, 3) }
        })
        .collect();
    let per_op = |s: Option<f64>| s.filter(|_| ops > 0).map(|s| round(s * 1e6 / ops as f64, 3));
    Ok(json!({
        "scenario": "echo",
        "generator": "sio-client",
        "url": a.url,
        "mode": if a.window_mode { "window" } else { "batch" },
        "clients": a.clients,
        "connected": connected,
        "connect_errors": connect_errors,
        "pipeline": a.pipeline,
        "payload_bytes": a.payload,
        "duration_s": a.duration,
        "ops": ops,
        "ops_per_s": round(ops as f64 / a.duration, 1),
        "latency_mean_us": if ops == 0 { 0.0 } else { round(latency_sum_us as f64 / ops as f64, 1) },
        "errors": errors,
        "first_error": first_error,
        "loadgen_cores": own.map(|s| round(s / wall, 3)),
        "loadgen_cpu_us_per_op": per_op(own),
        "machine_cpu_busy": machine,
        "server_cores": server.map(|s| round(s / wall, 3)),
        "server_cpu_us_per_op": per_op(server),
    }))
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

fn main() -> std::process::ExitCode {
    let a = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("client_load: {e}");
            }
            eprintln!("{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    // Whatever hangs, the process ends: connect + warmup + duration + an ack's timeout + margin.
    let budget = a.connect_timeout * 2.0 + a.warmup + a.duration + a.op_timeout + 30.0;
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs_f64(budget));
        eprintln!("client_load: watchdog: no result after {budget:.0} s, exiting");
        std::process::exit(3);
    });
    let threads =
        a.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let rt = if threads == 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()
    };
    let rt = match rt {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("client_load: cannot build the runtime: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match rt.block_on(run(a)) {
        Ok(line) => {
            println!("{line}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("client_load: error: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        let a =
            parse_args(["--clients", "3", "--mode", "window"].map(String::from).into_iter()).expect("parses");
        assert_eq!((a.clients, a.pipeline, a.window_mode), (3, 16, true));
        assert!(parse_args(["--url", "http://10.0.0.1:3000"].map(String::from).into_iter()).is_err());
        assert!(parse_args(["--pipeline", "0"].map(String::from).into_iter()).is_err());
        assert_eq!(alphabet(28), "abcdefghijklmnopqrstuvwxyzab");
        assert!(cpu_ticks("/proc/self/stat").is_some());
    }
}
