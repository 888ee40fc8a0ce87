//! Helpers of the PostgreSQL adapter tests: the database to use, names of a test's own
//! (channel prefix, attachment table, application name), adapters and emitters that fail
//! with a clear message when PostgreSQL is not there, and the Node suites' runner.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use sio_postgres::{PostgresAdapter, PostgresConfig, PostgresEmitter};

/// The PostgreSQL to test against: `DATABASE_URL`, else the local default.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Names of a test's own: a channel prefix and an attachment table (a lowercase SQL
/// identifier), so tests run in parallel on one database.
#[derive(Debug, Clone)]
pub struct Names {
    /// The channel prefix (short: PostgreSQL channel names are at most 63 bytes).
    pub prefix: String,
    /// The attachment table.
    pub table: String,
}

/// Fresh [`Names`] for test `test`.
pub fn unique(test: &str) -> Names {
    let id: String = sio_core::Sid::new()
        .as_str()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect();
    Names { prefix: format!("sio-pg-{test}-{id}"), table: format!("sio_att_{id}") }
}

/// `url` with the connections named `app` (`application_name`), so a test can find its
/// own backends in `pg_stat_activity`.
pub fn named(url: &str, app: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}application_name={app}")
}

/// The settings of the tests: short heartbeats and timeouts.
pub fn config(names: &Names) -> PostgresConfig {
    PostgresConfig {
        channel_prefix: names.prefix.clone(),
        table_name: names.table.clone(),
        heartbeat_interval: Duration::from_millis(500),
        heartbeat_timeout: Duration::from_secs(3),
        requests_timeout: Duration::from_secs(2),
        ..Default::default()
    }
}

fn no_postgres(e: &dyn std::fmt::Display, url: &str) -> ! {
    panic!(
        "{e}\nThe PostgreSQL adapter tests need a PostgreSQL server at {url}: install the Debian \
         package postgresql and start a cluster (`.ci/run` does both), or set DATABASE_URL \
         (default postgres://postgres@127.0.0.1:5432/postgres, trust authentication)."
    )
}

/// Connects an adapter, failing with a clear message when PostgreSQL is not there.
pub async fn adapter(url: &str, config: PostgresConfig) -> PostgresAdapter {
    match PostgresAdapter::connect(url, config).await {
        Ok(a) => a,
        Err(e) => no_postgres(&e, url),
    }
}

/// Connects an emitter, failing with a clear message when PostgreSQL is not there.
pub async fn emitter(url: &str, config: PostgresConfig) -> PostgresEmitter {
    match PostgresEmitter::connect(url, config).await {
        Ok(e) => e,
        Err(e) => no_postgres(&e, url),
    }
}

/// A plain SQL connection (to send notifications, look at and end backends).
pub async fn sql(url: &str) -> tokio_postgres::Client {
    let (client, conn) = match tokio_postgres::connect(url, tokio_postgres::NoTls).await {
        Ok(c) => c,
        Err(e) => no_postgres(&e, url),
    };
    tokio::spawn(conn);
    client
}

/// Drops a test's attachment table.
pub async fn drop_table(url: &str, names: &Names) {
    let _ = sql(url).await.batch_execute(&format!("DROP TABLE IF EXISTS {}", names.table)).await;
}

/// Runs the node:test suite in `tests/js/<dir>` (env `SIO_URL`, `DATABASE_URL`, `PREFIX`,
/// `TABLE`) and checks that all `tests` of it passed.
pub async fn run_node_suite(dir: &str, addr: SocketAddr, url: &str, names: &Names, tests: usize) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    assert!(
        root.join("node_modules/@socket.io/postgres-adapter").exists(),
        "tests/node_modules is missing: run `npm ci --prefix tests` (the README's test command does)"
    );
    let child = tokio::process::Command::new("node")
        .args(["--test", "--test-concurrency=1", "--test-reporter=spec", &format!("{dir}/")])
        .current_dir(root.join("js"))
        .env("SIO_URL", format!("http://{addr}"))
        .env("DATABASE_URL", url)
        .env("PREFIX", &names.prefix)
        .env("TABLE", &names.table)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node must be installed to run the cluster suites");
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("the JS suite {dir} did not finish within 120 s"))
        .expect("node ran");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "JS suite {dir} failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("\u{2139} pass {tests}\n")),
        "expected {tests} passing tests:\n{stdout}"
    );
}
