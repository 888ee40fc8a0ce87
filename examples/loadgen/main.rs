//! A load generator for Socket.IO servers that honour the bench contract (DESIGN §6):
//! Engine.IO v4 + Socket.IO v5 over WebSocket and long-polling, written for this project.
//!
//! ```text
//! cargo run --release --example loadgen -- <scenario> [options]
//!
//! scenarios:
//!   echo     C clients send P `echo` requests each in one flush, wait for the P acks, repeat:
//!            acks/s, latency p50/p99          (--clients 100 --pipeline 1)
//!   fanout   one WebSocket client emits `bcast`, N sockets receive it: deliveries/s, latency,
//!            loss, out-of-order               (--receivers 1000 --window 32 | --rate MSG/S)
//!   room     N sockets, a room of R of them (`join`), one sender emits `to-room`: deliveries/s
//!            to the room, latency, loss, stray deliveries outside it (--sockets 10000 --room-size 100)
//!   conns    open N idle sockets, hold, close: server RSS per connection (with --server-pid),
//!            connections/s                    (--conns 10000 --hold 3)
//!   connect  connections/s, each a full handshake + namespace connect, then closed
//!            (--concurrency 50)
//!   storm    N WebSocket clients connected, then every transport dropped at once (the sockets
//!            reset), all reconnecting with socket.io-client's backoff and jitter: time until
//!            all are back, failures, retries, connect latency p50/p99 (--conns 10000
//!            --reconnect-delay 1000 --reconnect-delay-max 5000 --randomization 0.5
//!            --sources 4: clients spread over 127.0.0.1..4; --storm-timeout 30). --recover:
//!            each client comes back with its pid and last offset (a `bcast` gives everyone
//!            one; the server runs with RECOVERY_MS=N), counting the sessions recovered.
//!            --restart: instead of dropping, wait for the server to close every connection
//!            (kill and restart it meanwhile; run.sh's storm-restart does)
//!   report   FILE...: a Markdown table (medians) from the --json lines of several runs
//!
//! common: --url http://127.0.0.1:3000[/socket.io/]  --also-url URL (more cluster nodes:
//!         clients spread round robin)  --duration 10  --warmup 1  --payload 64
//!         --binary  --polling-share 0.05  --server-pid PID  --json  --label NAME  --bench NAME
//!         --op-timeout 5  --connect-timeout 10  --connect-concurrency 200  --threads N  --drain 2
//! ```
//!
//! Every scenario stops by itself (warm-up + duration + bounded connect and drain phases; a
//! watchdog ends the process if anything hangs) and only targets 127.0.0.1. Output: one human
//! line on stderr, and with `--json` one JSON object on stdout. `examples/loadgen/run.sh` runs
//! the standard set against one or more servers, pinned to CPUs, and prints the table.

mod client;
mod hist;
mod http1;
mod procfs;
mod report;
mod scenarios;
mod storm;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use client::Target;

/// Command-line settings.
#[derive(Debug, Clone)]
pub(crate) struct Args {
    pub(crate) scenario: String,
    pub(crate) files: Vec<String>,
    pub(crate) target: Target,
    /// Further nodes of a cluster (`--also-url`): clients are spread over all of them, round
    /// robin; the sender (fanout, room) and the CPU sampling stay on `target`.
    pub(crate) also: Vec<Target>,
    pub(crate) duration: f64,
    pub(crate) warmup: f64,
    pub(crate) payload: usize,
    pub(crate) binary: bool,
    pub(crate) polling_share: f64,
    pub(crate) clients: usize,
    pub(crate) pipeline: usize,
    pub(crate) receivers: usize,
    pub(crate) window: u64,
    pub(crate) rate: f64,
    pub(crate) drain: f64,
    pub(crate) conns: usize,
    pub(crate) hold: f64,
    pub(crate) sockets: usize,
    pub(crate) room_size: usize,
    pub(crate) concurrency: usize,
    pub(crate) connect_concurrency: usize,
    pub(crate) connect_timeout: f64,
    pub(crate) op_timeout: f64,
    pub(crate) server_pid: Option<u32>,
    pub(crate) json: bool,
    pub(crate) label: String,
    pub(crate) bench: String,
    pub(crate) threads: Option<usize>,
    /// storm: loopback source addresses (127.0.0.1 ..= 127.0.0.N).
    pub(crate) sources: u8,
    /// storm: socket.io-client's `reconnectionDelay`, `reconnectionDelayMax` (ms) and
    /// `randomizationFactor`.
    pub(crate) reconnect_delay: f64,
    pub(crate) reconnect_delay_max: f64,
    pub(crate) randomization: f64,
    pub(crate) storm_recover: bool,
    pub(crate) storm_restart: bool,
    /// storm: how long the clients have to come back (and, with --restart, the server to go).
    pub(crate) storm_timeout: f64,
}

impl Default for Args {
    fn default() -> Self {
        Self {
            scenario: String::new(),
            files: Vec::new(),
            target: Target {
                addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 3000)),
                path: "/socket.io/".into(),
            },
            also: Vec::new(),
            duration: 10.0,
            warmup: 1.0,
            payload: 64,
            binary: false,
            polling_share: 0.0,
            clients: 100,
            pipeline: 1,
            receivers: 1000,
            window: 32,
            rate: 0.0,
            drain: 2.0,
            conns: 10_000,
            hold: 3.0,
            sockets: 10_000,
            room_size: 100,
            concurrency: 50,
            connect_concurrency: 200,
            connect_timeout: 10.0,
            op_timeout: 5.0,
            server_pid: None,
            json: false,
            label: String::new(),
            bench: String::new(),
            threads: None,
            sources: 4,
            reconnect_delay: 1000.0,
            reconnect_delay_max: 5000.0,
            randomization: 0.5,
            storm_recover: false,
            storm_restart: false,
            storm_timeout: 30.0,
        }
    }
}

const USAGE: &str = "usage: loadgen <echo|fanout|room|conns|connect|storm> [options] | loadgen report FILE...
  --url http://127.0.0.1:PORT[/path/]  --also-url URL (another node; repeatable)  --duration S  --warmup S  --payload BYTES  --binary
  --polling-share F  --server-pid PID  --json  --label NAME  --bench NAME  --threads N
  echo: --clients N --pipeline P    fanout: --receivers N --window W | --rate MSG_PER_S --drain S
  room: --sockets N --room-size R --window W    conns: --conns N --hold S    connect: --concurrency C
  storm: --conns N --reconnect-delay MS --reconnect-delay-max MS --randomization F --sources K
         --storm-timeout S --recover --restart
  --connect-concurrency C  --connect-timeout S  --op-timeout S
(see the module documentation of examples/loadgen/main.rs)";

/// Parses a loopback URL: only 127.0.0.1 (or `localhost`) is accepted.
fn parse_url(url: &str) -> Result<Target, String> {
    let rest =
        url.strip_prefix("http://").or_else(|| url.strip_prefix("ws://")).ok_or("the URL must be http://")?;
    let (host_port, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/socket.io/"),
    };
    let (host, port) = host_port.rsplit_once(':').unwrap_or((host_port, "80"));
    if host != "127.0.0.1" && host != "localhost" {
        return Err(format!("only 127.0.0.1 may be targeted, not {host}"));
    }
    let port: u16 = port.parse().map_err(|_| format!("bad port {port}"))?;
    let mut path = if path == "/" { "/socket.io/".to_owned() } else { path.to_owned() };
    if !path.ends_with('/') {
        path.push('/');
    }
    Ok(Target { addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)), path })
}

fn parse_args(argv: Vec<String>) -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = argv.into_iter();
    a.scenario = it.next().ok_or("missing scenario")?;
    fn num<T: std::str::FromStr>(k: &str, v: Option<String>) -> Result<T, String> {
        let v = v.ok_or_else(|| format!("{k} needs a value"))?;
        v.parse().map_err(|_| format!("{k}: bad value {v:?}"))
    }
    while let Some(k) = it.next() {
        match k.as_str() {
            "--url" => a.target = parse_url(&it.next().ok_or("--url needs a value")?)?,
            "--also-url" => a.also.push(parse_url(&it.next().ok_or("--also-url needs a value")?)?),
            "--duration" | "-d" => a.duration = num(&k, it.next())?,
            "--warmup" => a.warmup = num(&k, it.next())?,
            "--payload" | "-p" => a.payload = num(&k, it.next())?,
            "--binary" => a.binary = true,
            "--polling-share" => a.polling_share = num(&k, it.next())?,
            "--clients" => a.clients = num(&k, it.next())?,
            "--pipeline" => a.pipeline = num(&k, it.next())?,
            "--receivers" => a.receivers = num(&k, it.next())?,
            "--window" => a.window = num(&k, it.next())?,
            "--rate" => a.rate = num(&k, it.next())?,
            "--drain" => a.drain = num(&k, it.next())?,
            "--conns" => a.conns = num(&k, it.next())?,
            "--hold" => a.hold = num(&k, it.next())?,
            "--sockets" => a.sockets = num(&k, it.next())?,
            "--room-size" => a.room_size = num(&k, it.next())?,
            "--concurrency" => a.concurrency = num(&k, it.next())?,
            "--connect-concurrency" => a.connect_concurrency = num(&k, it.next())?,
            "--connect-timeout" => a.connect_timeout = num(&k, it.next())?,
            "--op-timeout" => a.op_timeout = num(&k, it.next())?,
            "--server-pid" => a.server_pid = Some(num(&k, it.next())?),
            "--threads" => a.threads = Some(num(&k, it.next())?),
            "--sources" => a.sources = num(&k, it.next())?,
            "--reconnect-delay" => a.reconnect_delay = num(&k, it.next())?,
            "--reconnect-delay-max" => a.reconnect_delay_max = num(&k, it.next())?,
            "--randomization" => a.randomization = num(&k, it.next())?,
            "--recover" => a.storm_recover = true,
            "--restart" => a.storm_restart = true,
            "--storm-timeout" => a.storm_timeout = num(&k, it.next())?,
            "--json" => a.json = true,
            "--label" => a.label = it.next().ok_or("--label needs a value")?,
            "--bench" => a.bench = it.next().ok_or("--bench needs a value")?,
            "-h" | "--help" => return Err(String::new()),
            f if a.scenario == "report" && !f.starts_with("--") => a.files.push(k),
            other => return Err(format!("unknown option {other}")),
        }
    }
    let positive = |x: f64| x.is_finite() && x > 0.0;
    if !positive(a.duration) || !(0.0..=60.0).contains(&a.warmup) || a.duration > 3600.0 {
        return Err("--duration must be in (0, 3600] and --warmup in [0, 60]".into());
    }
    if !(0.0..=1.0).contains(&a.polling_share) {
        return Err("--polling-share must be between 0 and 1".into());
    }
    if a.pipeline == 0 || a.clients == 0 || a.receivers == 0 || a.window == 0 || a.concurrency == 0 {
        return Err("counts must be positive".into());
    }
    if a.connect_concurrency == 0 || !positive(a.connect_timeout) || !positive(a.op_timeout) {
        return Err("--connect-concurrency, --connect-timeout and --op-timeout must be positive".into());
    }
    if a.room_size == 0 || a.room_size >= a.sockets {
        return Err("--room-size must be positive and below --sockets".into());
    }
    if a.hold < 0.0 || a.drain < 0.0 || a.rate < 0.0 || a.hold > 3600.0 || a.drain > 60.0 {
        return Err("--hold, --drain and --rate must be non-negative (hold ≤ 3600 s, drain ≤ 60 s)".into());
    }
    if a.sources == 0
        || !(0.0..=1.0).contains(&a.randomization)
        || a.reconnect_delay < 0.0
        || a.reconnect_delay_max < a.reconnect_delay
        || !positive(a.storm_timeout)
    {
        return Err("--sources must be positive, --randomization in [0, 1], \
                    0 ≤ --reconnect-delay ≤ --reconnect-delay-max, --storm-timeout positive"
            .into());
    }
    Ok(a)
}

/// The longest a scenario may take, for the watchdog.
fn time_limit(a: &Args) -> Duration {
    let connects = |n: usize| (n / a.connect_concurrency + 1) as f64 * a.connect_timeout;
    let secs = a.warmup
        + a.duration
        + a.hold
        + a.drain
        + 3.0 * a.op_timeout
        + match a.scenario.as_str() {
            "echo" => connects(a.clients),
            "fanout" => connects(a.receivers + 1),
            "room" => connects(a.sockets + 1),
            "conns" => connects(a.conns) + 10.0,
            "storm" => connects(a.conns) + 2.0 * a.storm_timeout + 10.0,
            _ => a.connect_timeout,
        }
        + 30.0;
    Duration::from_secs_f64(secs)
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.iter().any(|a| a == "--help" || a == "-h") || argv.first().is_some_and(|a| a == "help") {
        println!("{USAGE}");
        return;
    }
    let args = match parse_args(argv) {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("loadgen: {e}");
            }
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    if args.scenario == "report" {
        match report::print(&args.files) {
            Ok(()) => return,
            Err(e) => {
                eprintln!("loadgen report: {e}");
                std::process::exit(2);
            }
        }
    }
    let fds = 2 * match args.scenario.as_str() {
        "conns" | "storm" => args.conns,
        "room" => args.sockets,
        "fanout" => args.receivers,
        "echo" => args.clients,
        _ => args.concurrency,
    } + 64;
    let nofile = procfs::raise_nofile(fds as u64);
    if nofile < fds as u64 {
        eprintln!("loadgen: warning: open-file limit {nofile} < {fds} needed (ulimit -n)");
    }

    let limit = time_limit(&args);
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        eprintln!("loadgen: watchdog: still running after {limit:?}, exiting");
        std::process::exit(3);
    });

    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get));
    let rt = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()
    };
    let rt = match rt {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loadgen: runtime: {e}");
            std::process::exit(2);
        }
    };
    let result = rt.block_on(scenarios::run(&args));
    match result {
        Ok((line, mut json)) => {
            eprintln!("{line}");
            if args.json {
                if let Some(obj) = json.as_object_mut() {
                    obj.insert(
                        "url".into(),
                        format!("http://{}{}", args.target.addr, args.target.path).into(),
                    );
                    obj.insert("label".into(), args.label.clone().into());
                    obj.insert("bench".into(), args.bench.clone().into());
                    obj.insert("threads".into(), threads.into());
                    obj.insert("nofile_limit".into(), nofile.into());
                    obj.insert("polling_share".into(), args.polling_share.into());
                    obj.insert("binary".into(), args.binary.into());
                }
                println!("{json}");
            }
            // Sockets are reset by the OS when the process exits; no need to wait for tasks.
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets() {
        assert!(parse_url("http://127.0.0.1:3000").is_ok());
        assert_eq!(parse_url("http://localhost:9/x").map(|t| t.path).ok().as_deref(), Some("/x/"));
        assert!(parse_url("http://10.0.0.1:3000").is_err());
        assert!(parse_url("http://example.com:80").is_err());
    }
}
