//! What `/proc` tells about a process: CPU time, resident memory, open-file limit.

use std::time::Instant;

/// Clock ticks per second of `/proc/*/stat` times (`getconf CLK_TCK`, 100 on Linux).
fn ticks_per_s() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// CPU time used by a process so far, in seconds: (user + system, user).
pub(crate) fn cpu_seconds(pid: u32) -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start at field 3.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    let t = ticks_per_s();
    Some(((utime + stime) / t, utime / t))
}

/// Resident set size of a process in bytes (`VmRSS`).
pub(crate) fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Busy and total jiffies of every CPU (`/proc/stat`), by CPU number.
fn machine_cpu() -> Vec<(u64, u64)> {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else { return Vec::new() };
    stat.lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .map(|l| {
            let v: Vec<u64> = l.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
            let total: u64 = v.iter().take(8).sum();
            let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
            (total - idle, total)
        })
        .collect()
}

/// The soft and hard limits on open files of this process.
pub(crate) fn nofile_limits() -> Option<(u64, u64)> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let mut it = line["Max open files".len()..].split_whitespace();
    let soft = it.next()?.parse().ok()?;
    let hard = it.next()?.parse().ok()?;
    Some((soft, hard))
}

/// Raises this process's soft open-file limit to at least `want` (at most the hard limit)
/// with util-linux `prlimit`; returns the soft limit in force afterwards.
pub(crate) fn raise_nofile(want: u64) -> u64 {
    let Some((soft, hard)) = nofile_limits() else { return 0 };
    if soft >= want {
        return soft;
    }
    let target = want.min(hard);
    let _ = std::process::Command::new("prlimit")
        .arg("--pid")
        .arg(std::process::id().to_string())
        .arg(format!("--nofile={target}:{hard}"))
        .status();
    nofile_limits().map_or(soft, |l| l.0)
}

/// CPU use over a window: this process, the server (when its pid is known), every CPU.
pub(crate) struct CpuWindow {
    at: Instant,
    own: Option<(f64, f64)>,
    server: Option<(f64, f64)>,
    machine: Vec<(u64, u64)>,
    server_pid: Option<u32>,
}

/// CPU seconds the server used inside a window: (total, user).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ServerCpu {
    pub(crate) total: f64,
    pub(crate) user: f64,
}

impl CpuWindow {
    /// Starts a window now.
    pub(crate) fn start(server_pid: Option<u32>) -> Self {
        Self {
            at: Instant::now(),
            own: cpu_seconds(std::process::id()),
            server: server_pid.and_then(cpu_seconds),
            machine: machine_cpu(),
            server_pid,
        }
    }

    /// Ends the window: the server's CPU seconds and the JSON summary (`cores` = CPU seconds
    /// per second of wall time).
    pub(crate) fn finish(&self) -> (Option<ServerCpu>, serde_json::Value) {
        let wall = self.at.elapsed().as_secs_f64().max(1e-9);
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        let own = match (self.own, cpu_seconds(std::process::id())) {
            (Some(a), Some(b)) => Some((b.0 - a.0, b.1 - a.1)),
            _ => None,
        };
        let server = match (self.server, self.server_pid.and_then(cpu_seconds)) {
            (Some(a), Some(b)) => Some(ServerCpu { total: b.0 - a.0, user: b.1 - a.1 }),
            _ => None,
        };
        let machine: Vec<f64> = self
            .machine
            .iter()
            .zip(machine_cpu())
            .map(|(a, b)| {
                let total = b.1.saturating_sub(a.1).max(1) as f64;
                round(b.0.saturating_sub(a.0) as f64 / total)
            })
            .collect();
        let json = serde_json::json!({
            "loadgen_cores": own.map(|o| round(o.0 / wall)),
            "loadgen_user_cores": own.map(|o| round(o.1 / wall)),
            "server_cores": server.map(|s| round(s.total / wall)),
            "server_user_cores": server.map(|s| round(s.user / wall)),
            "machine_cpu_busy": machine,
        });
        (server, json)
    }
}
