//! `postctl-server serve`: start the log, lock the data dir (SQLite: so `restore` waits),
//! open the storage (migrating it), print the setup token when there are no users, and
//! answer HTTP until SIGINT or SIGTERM.

use anyhow::Context;

use crate::api::observe::Metrics;
use crate::api::{self, AppState};
use crate::auth::{random_base62, sha256_hex};
use crate::config::Settings;
use crate::storage;

/// How many due targets one process claims at once (at most 20 of one account: core's
/// `Policy::per_account`); it claims again as each account's work ends. Processes sharing
/// a database share a burst this way: with core's 1,000 the first to wake took a burst of
/// 1,000 targets over 200 accounts alone while the others looked for work after every
/// result.
const CLAIM_BATCH: usize = 100;

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let traces = crate::logging::init(
        settings.log_format,
        &settings.log_level,
        settings.otlp_endpoint.as_deref(),
    )?;
    if let Some(endpoint) = &settings.otlp_endpoint {
        tracing::info!("sending traces to {}", crate::traces::traces_url(endpoint));
    }
    let _lock = match settings.database_url {
        Some(_) => None,
        None => {
            let dir = settings.data_dir.clone();
            Some(
                tokio::task::spawn_blocking(move || crate::backup::hold_serve_lock(&dir))
                    .await
                    .context("could not lock the data dir")??,
            )
        }
    };
    let storage = storage::open(settings.database_url.as_deref(), &settings.sqlite_path())
        .await
        .with_context(|| format!("could not open the database ({})", settings.database()))?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| {
            format!(
                "could not listen on {}; choose another address with --listen",
                settings.listen
            )
        })?;
    let address = listener
        .local_addr()
        .context("the listening socket has no address")?;
    tracing::info!(
        "postctl-server {} listening on http://{address} ({})",
        env!("CARGO_PKG_VERSION"),
        settings.database()
    );
    if storage.count_users().await? == 0 {
        let token = format!("pst_{}", random_base62(32)?);
        storage
            .replace_setup_token(
                &sha256_hex(token.as_bytes()),
                chrono::Utc::now().timestamp_millis(),
            )
            .await?;
        // For the operator at the console: a one-time token, replaced at each start while
        // there are no users, and useless once the first user exists.
        tracing::warn!(
            "No users yet. Create the first (an administrator, with a workspace and an API key) with this one-time token:\n\
             \n  curl -sS -X POST http://{address}/api/v1/setup -H 'Content-Type: application/json' \\\n    \
             -d '{{\"token\": \"{token}\", \"name\": \"admin\", \"password\": \"choose-a-password\"}}'\n\
             \nor with `postctl-server user add NAME --password-stdin --admin`. A restart prints a new token."
        );
    }
    tokio::spawn(crate::retention::daily(
        storage.clone(),
        settings.retention_days,
    ));
    let media = std::sync::Arc::new(crate::media_store::MediaStore::from_settings(&settings)?);
    let media_dir = settings.data_dir.join("media");
    match api::media::adopt_old_layout(&media_dir) {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            "moved {n} media file(s) to <sha256>.<extension> in {}",
            media_dir.display()
        ),
        Err(e) => tracing::warn!("could not move media files stored by an earlier version: {e}"),
    }
    tracing::info!("media files are kept in {}", media.describe());
    if settings.database_url.is_some()
        && matches!(*media, crate::media_store::MediaStore::Directory(_))
    {
        tracing::warn!(
            "media files are kept in {}, which other processes sharing this database do not \
             see: configure a bucket in [media] when several processes serve it",
            media.describe()
        );
    }
    let metrics = Metrics::new(settings.metrics_token.as_deref());
    let guard = crate::auth::Guard::from_settings(&settings)?;
    if settings.database_url.is_some()
        && std::env::var_os(crate::auth::sealed::KEY_VAR).is_none_or(|v| v.is_empty())
    {
        tracing::warn!(
            "{} is not set, so TOTP and webhook secrets are sealed with {}; every \
             process sharing this database needs the same key: set {} for all of them",
            crate::auth::sealed::KEY_VAR,
            settings
                .data_dir
                .join(crate::auth::sealed::KEY_FILE)
                .display(),
            crate::auth::sealed::KEY_VAR
        );
    }
    let guard = std::sync::Arc::new(guard);
    let outbox = std::sync::Arc::new(crate::webhooks::worker::Outbox::new(
        storage.clone(),
        settings.webhooks.clone(),
    ));
    if settings.webhooks.allow_private {
        tracing::warn!(
            "allow_private_webhooks is on: webhooks may reach loopback, private and link-local addresses"
        );
    }
    tokio::spawn(crate::approvals::sweep(storage.clone(), outbox.clone()));
    let client = crate::webhooks::worker::client(&settings.webhooks)?;
    let worker = tokio::spawn(crate::webhooks::worker::run(
        outbox.clone(),
        guard.clone(),
        client,
    ));
    let policy = postctl_core::publish::Policy {
        lease: chrono::Duration::from_std(settings.publish_lease)
            .unwrap_or(chrono::Duration::minutes(2)),
        batch: CLAIM_BATCH,
        ..postctl_core::publish::Policy::default()
    };
    let failure_metrics = metrics.clone();
    let failures: crate::publisher::RefreshObserver =
        std::sync::Arc::new(move |network: &str, reason: &'static str| {
            failure_metrics.record_refresh_failure(network, reason);
        });
    let networks = std::sync::Arc::new(crate::publisher::engine_with_media(
        storage.clone(),
        guard.clone(),
        &settings.data_dir,
        &media,
        policy,
        None,
        Some(failures.clone()),
    )?);
    let feeds = tokio::spawn(crate::feeds::worker::run(
        outbox.clone(),
        crate::feeds::worker::Policy {
            interval_ms: settings.feed_poll.as_millis() as i64,
            timeout_ms: settings.webhooks.timeout_ms,
            allow_private: settings.webhooks.allow_private,
        },
        crate::webhooks::worker::client(&settings.webhooks)?,
    ));
    let publisher = match settings.publish {
        true => {
            let observer_metrics = metrics.clone();
            let observer: crate::publisher::Observer =
                std::sync::Arc::new(move |network: &str, outcome: &str, due_ms: Option<i64>| {
                    let outcome = match outcome {
                        "published" => "published",
                        "retry" => "retry",
                        "failed" => "failed",
                        "uncertain" => "uncertain",
                        _ => "released",
                    };
                    let lag = due_ms
                        .filter(|_| outcome == "published")
                        .map(|due| (chrono::Utc::now().timestamp_millis() - due) as f64 / 1000.0);
                    observer_metrics.record_publish(network, outcome, lag);
                });
            let publisher = crate::publisher::Publisher::start(
                storage.clone(),
                guard.clone(),
                &settings.data_dir,
                &media,
                policy,
                observer,
                failures,
            )?;
            tracing::info!(
                "publishing what comes due (publish = false makes this an API-only node)"
            );
            // Counters are read by the processes that publish, each target by one at once.
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let tally_metrics = metrics.clone();
            let collector = tokio::spawn(crate::analytics::run(
                storage.clone(),
                networks.clone(),
                format!("analytics-{}", uuid::Uuid::now_v7()),
                std::sync::Arc::new(move |tally: &crate::analytics::Tally| {
                    tally_metrics.record_readings(tally);
                }),
                stop.clone(),
            ));
            Some((publisher, collector, stop))
        }
        false => {
            tracing::info!(
                "not publishing: publish = false ({})",
                crate::config::ENV_PUBLISH
            );
            None
        }
    };
    let notifier = std::sync::Arc::new(
        crate::notify::worker::Notifier::new(
            storage.clone(),
            settings.notify.clone(),
            // The same key as the guard's, read again: a key is never copied in memory.
            std::sync::Arc::new(crate::auth::sealed::ServerKey::load(&settings.data_dir)?),
        )
        .with_networks(networks.clone()),
    );
    let notifier_task = tokio::spawn(crate::notify::worker::run(
        notifier.clone(),
        crate::webhooks::worker::client(&crate::webhooks::Policy {
            timeout_ms: settings.notify.timeout_ms,
            ..settings.webhooks.clone()
        })?,
    ));
    let app = api::router(AppState {
        storage,
        notifier,
        guard,
        metrics,
        outbox,
        edge: std::sync::Arc::new(api::Edge::from_settings(&settings)),
        media,
        networks,
    });
    // The peer address feeds sign-in lockouts and keys' IP allowlists.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
        .context("the server stopped")?;
    // An attempt cut short here is sent again by whichever process claims it after its
    // lease: receivers deduplicate on `webhook-id`.
    worker.abort();
    feeds.abort();
    if let Some((publisher, collector, stop)) = publisher {
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // A reading cut short is claimed again when its lease runs out.
        collector.abort();
        publisher.stop();
        let released = publisher.join().await;
        tracing::info!("the publisher stopped ({released} target(s) handed back)");
    }
    notifier_task.abort();
    tracing::info!("postctl-server stopped");
    if let Some(traces) = traces {
        traces.shutdown().await;
    }
    Ok(())
}

async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
