//! OpenTelemetry traces over OTLP/HTTP (protobuf), when `otlp_endpoint` is set: each
//! request's `tracing` span (`api::observe`) becomes an OTLP server span named after its
//! method and route template, with the request id, route, client address and status as
//! attributes, and the caller's W3C `traceparent` as its parent. Spans carry what the
//! span's fields hold and nothing else: never a header, so never a bearer token.
//!
//! The official crates do the work (`opentelemetry_sdk`'s batch processor, on its own
//! thread; `opentelemetry-otlp`'s protobuf encoding; `tracing-opentelemetry`'s layer).
//! They are handed the server's own reqwest client ([`Transport`]), so no second HTTP
//! stack or gRPC is compiled in. The OTel SDK's `OTEL_*` variables (e.g.
//! `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_EXPORTER_OTLP_HEADERS`) apply as usual.

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use axum::body::Bytes;
use axum::http::{HeaderMap, Request, Response};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{HttpClient, HttpError};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;

/// The path of traces under an OTLP/HTTP collector's address.
const TRACES_PATH: &str = "/v1/traces";

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether spans are exported (the request layer then names its spans for OTel).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The traces URL for a collector's address: `http://collector:4318` gets `/v1/traces`;
/// a URL that already ends in it is kept.
pub fn traces_url(endpoint: &str) -> String {
    let endpoint = endpoint.trim();
    if endpoint.trim_end_matches('/').ends_with(TRACES_PATH) {
        return endpoint.trim_end_matches('/').to_string();
    }
    format!("{}{TRACES_PATH}", endpoint.trim_end_matches('/'))
}

/// The running exporter; [`Traces::shutdown`] sends what is still buffered.
#[derive(Debug)]
pub struct Traces {
    provider: SdkTracerProvider,
}

impl Traces {
    /// An exporter to `endpoint` (the collector's OTLP/HTTP address), and the `tracing`
    /// layer that feeds it. Call from inside the tokio runtime.
    pub fn start<S>(endpoint: &str) -> anyhow::Result<(Traces, impl tracing_subscriber::Layer<S>)>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        let transport = Transport {
            http: postctl_core::tls::client_builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .context("could not make the HTTP client for traces")?,
            runtime: tokio::runtime::Handle::try_current()
                .context("traces need the server's runtime")?,
        };
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(traces_url(endpoint))
            .with_http_client(transport)
            .build()
            .with_context(|| format!("could not set up the OTLP exporter to {endpoint}"))?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                opentelemetry_sdk::Resource::builder()
                    .with_service_name("postctl-server")
                    .build(),
            )
            .build();
        let tracer = provider.tracer("postctl-server");
        ENABLED.store(true, Ordering::Relaxed);
        let layer = tracing_opentelemetry::layer().with_tracer(tracer);
        Ok((Traces { provider }, layer))
    }

    /// Exports the spans still buffered and stops (the export runs on the runtime, so
    /// this waits on a blocking thread).
    pub async fn shutdown(self) {
        let provider = self.provider;
        let result = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        if let Ok(Err(e)) = result {
            tracing::warn!("could not send the last traces: {e}");
        }
    }
}

/// The W3C trace context (`traceparent`) a caller sent, to parent its request's span.
pub fn remote_parent(headers: &HeaderMap) -> opentelemetry::Context {
    use opentelemetry::propagation::TextMapPropagator;
    opentelemetry_sdk::propagation::TraceContextPropagator::new()
        .extract(&opentelemetry_http::HeaderExtractor(headers))
}

/// The exporter's HTTP client: the server's reqwest client, run on the server's runtime
/// (the SDK's batch thread has none of its own).
#[derive(Debug)]
struct Transport {
    http: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl HttpClient for Transport {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let http = self.http.clone();
        let task = self.runtime.spawn(async move {
            let request = reqwest::Request::try_from(request.map(reqwest::Body::from))?;
            let response = http.execute(request).await?;
            let mut answer = Response::builder().status(response.status());
            if let Some(headers) = answer.headers_mut() {
                *headers = response.headers().clone();
            }
            let body = response.bytes().await?;
            Ok::<_, HttpError>(answer.body(body)?)
        });
        task.await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_path_is_added_once() {
        for (given, url) in [
            ("http://collector:4318", "http://collector:4318/v1/traces"),
            ("http://collector:4318/", "http://collector:4318/v1/traces"),
            (
                "https://otel.example/otlp",
                "https://otel.example/otlp/v1/traces",
            ),
            ("http://c:4318/v1/traces", "http://c:4318/v1/traces"),
            ("http://c:4318/v1/traces/", "http://c:4318/v1/traces"),
        ] {
            assert_eq!(traces_url(given), url, "{given}");
        }
    }
}
