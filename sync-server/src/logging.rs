//! The server's log on stderr, through `tracing`: readable lines, or one JSON object per
//! line (`--log-format json`) with the request's span (its id, method and route) on each
//! event logged while answering it. With `otlp_endpoint` set, the same spans also go out
//! as OpenTelemetry traces (`traces`).

use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;
use crate::traces::Traces;

/// Installs the logger; `level` is one of `config::LOG_LEVELS`. With an OTLP endpoint it
/// starts the trace exporter too (call from inside the runtime) and returns it, to be
/// shut down last.
pub fn init(
    format: LogFormat,
    level: &str,
    otlp_endpoint: Option<&str>,
) -> anyhow::Result<Option<Traces>> {
    let level: tracing::Level = level
        .parse()
        .map_err(|_| anyhow::anyhow!("the log level {level:?} is not a level"))?;
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false);
    let lines = match format {
        LogFormat::Text => lines.boxed(),
        LogFormat::Json => lines
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
    };
    let (traces, exporting) = match otlp_endpoint {
        Some(endpoint) => {
            let (traces, layer) = Traces::start(endpoint)?;
            (Some(traces), Some(layer))
        }
        None => (None, None),
    };
    tracing_subscriber::registry()
        .with(lines)
        .with(exporting)
        .with(LevelFilter::from_level(level))
        .try_init()
        .map_err(|e| anyhow::anyhow!("could not start the log: {e}"))?;
    Ok(traces)
}
