//! Prometheus metrics (cargo feature `metrics`): what [`Server::stats`](crate::Server::stats)
//! counts, plus a histogram of handler latency, in the OpenMetrics text format Prometheus
//! scrapes.
//!
//! Built on [`prometheus-client`](https://docs.rs/prometheus-client), the Prometheus
//! project's own Rust client: no global registry (a [`Metrics`] is a value you mount where
//! you like, or fold into your own registry), and counters read at scrape time. Everything
//! but the latency histogram is read from the server's counters when Prometheus scrapes, so
//! the hot path pays nothing for them; the histogram costs two clock reads and an atomic
//! add per handled event, and nothing at all when the server was built without
//! [`ServerBuilder::metrics`](crate::ServerBuilder::metrics).
//!
//! ```
//! use sio_core::metrics::Metrics;
//! use sio_core::{Handlers, Server};
//!
//! let metrics = Metrics::new();
//! let io = Server::builder().metrics(&metrics).ns("/", Handlers::new()).build();
//! let app: axum::Router = axum::Router::new().merge(io.router()).merge(metrics.router("/metrics"));
//! assert!(metrics.render().contains("socketio_connections{transport=\"websocket\"} 0"));
//! ```
//!
//! | metric | type | labels | what |
//! |---|---|---|---|
//! | `socketio_connections` | gauge | `transport` | Engine.IO sessions open now, by transport |
//! | `socketio_connections_opened_total` | counter | | sessions opened since start |
//! | `socketio_upgrades_total` | counter | | polling sessions upgraded to WebSocket |
//! | `socketio_connections_closed_total` | counter | `reason` | closed sessions by reason (`transport close`, `ping timeout`, `forced close`, …) |
//! | `socketio_sockets` | gauge | `namespace` | connected sockets |
//! | `socketio_rooms` | gauge | `namespace` | non-empty rooms (besides each socket's own) |
//! | `socketio_acks_pending` | gauge | `namespace` | emits with ack still waiting for the reply |
//! | `socketio_messages_received_total` | counter | | Engine.IO messages received |
//! | `socketio_received_bytes_total` | counter | | their payload bytes |
//! | `socketio_frames_sent_total` | counter | | Engine.IO frames sent (messages and control) |
//! | `socketio_sent_bytes_total` | counter | | their bytes |
//! | `socketio_volatile_dropped_total` | counter | | volatile emits dropped on a full queue |
//! | `socketio_adapter_requests_total` | counter | `namespace` | requests to the other servers (fetch sockets, server count, server-side emits and broadcasts with ack) |
//! | `socketio_adapter_failures_total` | counter | `namespace` | of which failed |
//! | `socketio_handler_duration_seconds` | histogram | `namespace` | time from an event's arrival to its handler's end (middlewares included) |

use std::fmt;
use std::sync::{Arc, OnceLock};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::Server;

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = [(&'static str, String); 1];
type LatencyFamily = Family<Labels, Histogram, fn() -> Histogram>;

/// Handler latency buckets, in seconds: 50 µs to 10 s.
const BUCKETS: [f64; 14] =
    [0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5, 10.0];

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// The Prometheus metrics of one [`Server`]: give it to
/// [`ServerBuilder::metrics`](crate::ServerBuilder::metrics), then serve
/// [`Metrics::router`] (or [`Metrics::render`] from a route of your own). Cheap to clone.
///
/// A `Metrics` describes one server: giving it to a second builder has no effect on the
/// stats (the first server's are reported) beyond recording the second's handler latency.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    shared: Arc<Shared>,
    recorder: Recorder,
}

#[derive(Default)]
struct Shared {
    server: OnceLock<Server>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared").field("attached", &self.server.get().is_some()).finish()
    }
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").field("attached", &self.inner.shared.server.get().is_some()).finish()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// The handler latency of one namespace, as the dispatch records it.
#[derive(Clone, Debug)]
pub(crate) struct Latency(Histogram);

impl Latency {
    pub(crate) fn observe(&self, since: std::time::Instant) {
        self.0.observe(since.elapsed().as_secs_f64());
    }
}

/// The families the server side writes into (kept in its config).
#[derive(Clone, Debug)]
pub(crate) struct Recorder {
    latency: LatencyFamily,
}

impl Recorder {
    /// The histogram of namespace `path`.
    pub(crate) fn latency(&self, path: &str) -> Latency {
        Latency(self.latency.get_or_create(&[("namespace", path.to_owned())]).clone())
    }
}

impl Metrics {
    /// Metrics with no server yet (see [`ServerBuilder::metrics`](crate::ServerBuilder::metrics)).
    pub fn new() -> Self {
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        let shared = Arc::new(Shared::default());
        let mut registry = Registry::default();
        registry.register_with_unit(
            "socketio_handler_duration",
            "Time from an event's arrival to its handler's end, middlewares included",
            Unit::Seconds,
            latency.clone(),
        );
        registry.register_collector(Box::new(StatsCollector { shared: shared.clone() }));
        Self { inner: Arc::new(Inner { registry, shared, recorder: Recorder { latency } }) }
    }

    pub(crate) fn recorder(&self) -> Recorder {
        self.inner.recorder.clone()
    }

    pub(crate) fn attach(&self, server: &Server) {
        let _ = self.inner.shared.server.set(server.clone());
    }

    /// The metrics now, in the OpenMetrics text format ([`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail; an encoder error would be a bug in a collector.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.inner.registry);
        out
    }

    /// A router answering `GET path` with [`Metrics::render`]; merge it into the app.
    pub fn router<S: Clone + Send + Sync + 'static>(&self, path: &str) -> axum::Router<S> {
        let metrics = self.clone();
        axum::Router::new().route(
            path,
            axum::routing::get(move || {
                let metrics = metrics.clone();
                async move { ([(http::header::CONTENT_TYPE, CONTENT_TYPE)], metrics.render()) }
            }),
        )
    }
}

/// Reads [`Server::stats`] at each scrape.
#[derive(Debug)]
struct StatsCollector {
    shared: Arc<Shared>,
}

/// One metric family: a sample per label (or one without labels).
fn family<M: EncodeMetric>(
    enc: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    values: &[(Option<(&'static str, &str)>, M)],
) -> fmt::Result {
    let Some((_, first)) = values.first() else { return Ok(()) };
    let mut m = enc.encode_descriptor(name, help, None, first.metric_type())?;
    for (label, v) in values {
        match label {
            Some(l) => v.encode(m.encode_family(&[*l])?)?,
            None => v.encode(m.encode_family(&[("", ""); 0])?)?,
        }
    }
    Ok(())
}

fn gauge(
    enc: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    values: &[(Option<(&'static str, &str)>, i64)],
) -> fmt::Result {
    let values: Vec<_> = values.iter().map(|(l, v)| (*l, ConstGauge::new(*v))).collect();
    family(enc, name, help, &values)
}

fn counter(
    enc: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    values: &[(Option<(&'static str, &str)>, u64)],
) -> fmt::Result {
    let values: Vec<_> = values.iter().map(|(l, v)| (*l, ConstCounter::new(*v))).collect();
    family(enc, name, help, &values)
}

fn int(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Collector for StatsCollector {
    fn encode(&self, mut enc: DescriptorEncoder<'_>) -> fmt::Result {
        let Some(server) = self.shared.server.get() else { return Ok(()) };
        let stats = server.stats();
        let e = &stats.engine;
        let enc = &mut enc;
        gauge(
            enc,
            "socketio_connections",
            "Engine.IO sessions open now, by transport",
            &[
                (Some(("transport", "polling")), int(e.polling)),
                (Some(("transport", "websocket")), int(e.websocket)),
            ],
        )?;
        counter(
            enc,
            "socketio_connections_opened",
            "Engine.IO sessions opened since start",
            &[(None, e.opened)],
        )?;
        counter(
            enc,
            "socketio_upgrades",
            "Polling sessions upgraded to WebSocket since start",
            &[(None, e.upgrades)],
        )?;
        let reasons: Vec<(String, u64)> = e.closed.iter().map(|(r, n)| (r.to_string(), *n)).collect();
        let closed: Vec<_> = reasons.iter().map(|(r, n)| (Some(("reason", r.as_str())), *n)).collect();
        counter(
            enc,
            "socketio_connections_closed",
            "Engine.IO sessions closed since start, by reason",
            &closed,
        )?;
        counter(
            enc,
            "socketio_messages_received",
            "Engine.IO messages received since start",
            &[(None, e.messages_in)],
        )?;
        counter(
            enc,
            "socketio_received_bytes",
            "Payload bytes of the messages received since start",
            &[(None, e.bytes_in)],
        )?;
        counter(
            enc,
            "socketio_frames_sent",
            "Engine.IO frames sent since start (messages and control)",
            &[(None, e.frames_out)],
        )?;
        counter(enc, "socketio_sent_bytes", "Bytes of the frames sent since start", &[(None, e.bytes_out)])?;
        counter(
            enc,
            "socketio_volatile_dropped",
            "Volatile emits dropped on a full outbound queue",
            &[(None, e.dropped)],
        )?;
        let ns = &stats.namespaces;
        let per = |f: fn(&crate::NamespaceStats) -> usize| -> Vec<(Option<(&'static str, &str)>, i64)> {
            ns.iter().map(|n| (Some(("namespace", n.path.as_str())), int(f(n)))).collect()
        };
        gauge(enc, "socketio_sockets", "Connected sockets, by namespace", &per(|n| n.sockets))?;
        gauge(
            enc,
            "socketio_rooms",
            "Non-empty rooms besides the sockets' own, by namespace",
            &per(|n| n.rooms),
        )?;
        gauge(
            enc,
            "socketio_acks_pending",
            "Emits with ack still waiting for their reply, by namespace",
            &per(|n| n.pending_acks),
        )?;
        let per64 = |f: fn(&crate::NamespaceStats) -> u64| -> Vec<(Option<(&'static str, &str)>, u64)> {
            ns.iter().map(|n| (Some(("namespace", n.path.as_str())), f(n))).collect()
        };
        counter(
            enc,
            "socketio_adapter_requests",
            "Requests to the other servers through the adapter, by namespace",
            &per64(|n| n.adapter_requests),
        )?;
        counter(
            enc,
            "socketio_adapter_failures",
            "Requests to the other servers that failed, by namespace",
            &per64(|n| n.adapter_failures),
        )?;
        Ok(())
    }
}
