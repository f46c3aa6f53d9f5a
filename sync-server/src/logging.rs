//! The server's log on stderr, through `tracing`: readable lines, or one JSON object per
//! line (`--log-format json`) with the request's span (its id, method and route) on each
//! event logged while answering it.

use crate::config::LogFormat;

/// Installs the logger; `level` is one of `config::LOG_LEVELS`.
pub fn init(format: LogFormat, level: &str) -> anyhow::Result<()> {
    let level: tracing::Level = level
        .parse()
        .map_err(|_| anyhow::anyhow!("the log level {level:?} is not a level"))?;
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false);
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    installed.map_err(|e| anyhow::anyhow!("could not start the log: {e}"))
}
