//! `loadgen report FILE...`: the Markdown table of the standard set, from the JSON lines of
//! several runs (medians per server and bench).

use std::collections::BTreeMap;

use serde_json::Value;

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

fn get(v: &Value, path: &str) -> Option<f64> {
    path.split('.').try_fold(v, |v, k| v.get(k))?.as_f64()
}

/// Runs of one server and bench.
struct Runs<'a>(Vec<&'a Value>);

impl Runs<'_> {
    fn med(&self, path: &str) -> Option<f64> {
        median(self.0.iter().filter_map(|v| get(v, path)).collect())
    }
}

fn int(x: Option<f64>) -> String {
    let Some(x) = x else { return "–".into() };
    thousands(x.round() as i64)
}

/// `1234567` as `1,234,567`.
pub(crate) fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let groups: Vec<&str> =
        digits.as_bytes().rchunks(3).rev().map(|c| std::str::from_utf8(c).unwrap_or("")).collect();
    format!("{}{}", if n < 0 { "-" } else { "" }, groups.join(","))
}

fn ms(x: Option<f64>) -> String {
    x.map_or("–".into(), |us| format!("{:.2}", us / 1000.0))
}

fn us(x: Option<f64>) -> String {
    x.map_or("–".into(), |v| format!("{v:.2}"))
}

fn mb(x: Option<f64>) -> String {
    x.map_or("–".into(), |b| format!("{:.1} MB", b / 1e6))
}

/// Prints the table for the JSON lines in `files`.
pub(crate) fn print(files: &[String]) -> Result<(), String> {
    if files.is_empty() {
        return Err("no result files given".into());
    }
    let mut rows = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| format!("{f}: {e}"))?;
        for line in text.lines().filter(|l| l.trim_start().starts_with('{')) {
            rows.push(serde_json::from_str::<Value>(line).map_err(|e| format!("{f}: {e}"))?);
        }
    }
    // server -> bench -> runs
    let mut by: BTreeMap<String, BTreeMap<String, Runs<'_>>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for r in &rows {
        let label = r["label"].as_str().filter(|s| !s.is_empty()).unwrap_or("server").to_owned();
        let bench = r["bench"]
            .as_str()
            .filter(|s| !s.is_empty())
            .or(r["scenario"].as_str())
            .unwrap_or("?")
            .to_owned();
        if !order.contains(&label) {
            order.push(label.clone());
        }
        by.entry(label).or_default().entry(bench).or_insert_with(|| Runs(Vec::new())).0.push(r);
    }
    let reps = by.values().flat_map(|b| b.values().map(|r| r.0.len())).max().unwrap_or(0);
    println!(
        "| server | echo-p16: acks/s | p50 / p99 ms | CPU µs/ack | fanout 1000: deliveries/s | p99 ms | lost, out of order | CPU µs/delivery | 10k idle: conn/s | bytes/conn | RSS after close | connect: conn/s | p99 ms | CPU µs/conn |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let empty = Runs(Vec::new());
    for label in &order {
        let b = &by[label];
        let e = b.get("echo-p16").or_else(|| b.get("echo")).unwrap_or(&empty);
        let f = b.get("fanout").unwrap_or(&empty);
        let c = b.get("conns").unwrap_or(&empty);
        let k = b.get("connect").unwrap_or(&empty);
        println!(
            "| {label} | {} | {} / {} | {} | {} | {} | {}, {} | {} | {} | {} | {} | {} | {} | {} |",
            int(e.med("ops_per_s")),
            ms(e.med("latency_us.p50")),
            ms(e.med("latency_us.p99")),
            us(e.med("server_cpu_us_per_op")),
            int(f.med("deliveries_per_s")),
            ms(f.med("latency_us.p99")),
            int(f.med("lost")),
            int(f.med("out_of_order")),
            us(f.med("server_cpu_us_per_delivery")),
            int(c.med("conn_per_s")),
            int(c.med("bytes_per_conn")),
            mb(c.med("server_rss_after_close")),
            int(k.med("conn_per_s")),
            ms(k.med("latency_us.p99")),
            us(k.med("server_cpu_us_per_connection")),
        );
    }
    let storms: Vec<(&String, &String, &Runs<'_>)> = order
        .iter()
        .flat_map(|label| {
            by[label].iter().filter(|(b, _)| b.starts_with("storm")).map(move |(b, r)| (label, b, r))
        })
        .collect();
    if !storms.is_empty() {
        println!();
        println!(
            "| server | storm | all back after s | failed | retries | back after p99 ms | connect p50 / p99 ms | recovered | CPU µs/conn |"
        );
        println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        for (label, bench, r) in storms {
            println!(
                "| {label} | {bench} | {} | {} | {} | {} | {} / {} | {} | {} |",
                r.med("time_to_all_back_s").map_or("–".into(), |s| format!("{s:.2}")),
                int(r.med("failed")),
                int(r.med("retries")),
                ms(r.med("back_after_us.p99")),
                ms(r.med("connect_latency_us.p50")),
                ms(r.med("connect_latency_us.p99")),
                int(r.med("recovered")),
                us(r.med("server_cpu_us_per_connection")),
            );
        }
    }
    println!();
    println!(
        "Medians of {reps} run(s) per cell. CPU = server user+system time per operation inside the measured window (from /proc/PID/stat)."
    );
    Ok(())
}
