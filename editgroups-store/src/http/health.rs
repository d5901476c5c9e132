//! `/healthz` (lag and store status, for probes) and `/metrics` (Prometheus
//! text: requests, lag, and the pipeline's counters when one runs beside).

use super::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use editgroups_core::pipeline::PipelineStats;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Instant;

/// The labels of a request: its route (the URL pattern, so that the number of
/// series stays bounded) and its status.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    status: u16,
}

/// The web service's metrics.
#[derive(Debug)]
pub struct HttpMetrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Histogram,
}

/// The pipeline's counters, read at each scrape.
#[derive(Debug)]
struct PipelineCollector(Arc<PipelineStats>);

impl Collector for PipelineCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let stats = self.0.snapshot();
        let counters = [
            (
                "editgroups_pipeline_events_read",
                "Items read from the source",
                stats.events_read,
            ),
            (
                "editgroups_pipeline_attributed",
                "Events a tool rule matched",
                stats.attributed,
            ),
            (
                "editgroups_pipeline_inserted",
                "Attributed edits newly stored",
                stats.inserted,
            ),
            (
                "editgroups_pipeline_duplicates",
                "Re-delivered events already stored",
                stats.duplicates,
            ),
            (
                "editgroups_pipeline_hijacked",
                "Edits dropped for naming another author than their batch's",
                stats.hijacked,
            ),
            (
                "editgroups_pipeline_reverted",
                "Edits newly marked reverted",
                stats.reverted,
            ),
            (
                "editgroups_pipeline_batches_touched",
                "Batch changes",
                stats.batches_touched,
            ),
            (
                "editgroups_pipeline_chunks_applied",
                "Chunks applied to the store",
                stats.chunks_applied,
            ),
        ];
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value);
            let metric = encoder.encode_descriptor(name, help, None, counter.metric_type())?;
            counter.encode(metric)?;
        }
        let skipped = Family::<SkipLabels, Counter>::default();
        for (reason, count) in &stats.skipped {
            skipped
                .get_or_create(&SkipLabels {
                    reason: (*reason).to_owned(),
                })
                .inc_by(*count);
        }
        let metric = encoder.encode_descriptor(
            "editgroups_pipeline_skipped",
            "Items skipped, by reason",
            None,
            skipped.metric_type(),
        )?;
        skipped.encode(metric)?;
        if let Some(latest) = stats.latest_event_time {
            let gauge = ConstGauge::new(latest.timestamp());
            let metric = encoder.encode_descriptor(
                "editgroups_pipeline_latest_event_timestamp_seconds",
                "Unix time of the newest event read",
                None,
                gauge.metric_type(),
            )?;
            gauge.encode(metric)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SkipLabels {
    reason: String,
}

impl HttpMetrics {
    pub(crate) fn new(pipeline: Option<Arc<PipelineStats>>) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "editgroups_http_requests",
            "HTTP requests answered, by route and status",
            requests.clone(),
        );
        let durations = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
        registry.register(
            "editgroups_http_request_duration_seconds",
            "Time to the answer's headers",
            durations.clone(),
        );
        if let Some(stats) = pipeline {
            registry.register_collector(Box::new(PipelineCollector(stats)));
        }
        Self {
            registry,
            requests,
            durations,
        }
    }

    fn record(&self, route: String, status: StatusCode, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                route,
                status: status.as_u16(),
            })
            .inc();
        self.durations.observe(seconds);
    }
}

/// Counts every request by route and status.
pub(crate) async fn count_requests(
    State(metrics): State<Arc<HttpMetrics>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let start = Instant::now();
    let response = next.run(request).await;
    metrics.record(route, response.status(), start.elapsed().as_secs_f64());
    response
}

/// The lag and the store's status.
#[derive(Debug, serde::Serialize)]
struct Health {
    status: &'static str,
    store: &'static str,
    lag_seconds: Option<i64>,
    lag_limit_seconds: u64,
    latest_event_time: Option<String>,
}

/// `/healthz`: 200 when the store answers and the lag is within the limit, 503
/// otherwise.
pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    let limit = state.site.lag_limit_seconds;
    let health = match state.store.latest_event_time().await {
        Ok(latest) => {
            let lag = latest.map(|t| (chrono::Utc::now() - t).num_seconds().max(0));
            let lagging = lag.is_some_and(|l| u64::try_from(l).unwrap_or(0) > limit);
            Health {
                status: if lagging { "lagging" } else { "ok" },
                store: "ok",
                lag_seconds: lag,
                lag_limit_seconds: limit,
                latest_event_time: latest.map(super::views::utc),
            }
        }
        Err(error) => {
            tracing::warn!(%error, "health check: the store does not answer");
            Health {
                status: "store_unavailable",
                store: "error",
                lag_seconds: None,
                lag_limit_seconds: limit,
                latest_event_time: None,
            }
        }
    };
    let code = if health.status == "ok" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::to_string(&health).unwrap_or_default();
    (
        code,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// `/metrics`: the Prometheus (OpenMetrics) text format.
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let mut text = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &state.metrics.registry) {
        tracing::error!(%e, "cannot encode the metrics");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        text,
    )
        .into_response()
}
