//! `postctl-server print-unit`: a systemd service unit that runs `serve` with the
//! environment it reads (names from [`crate::config`]) and systemd's sandboxing options.
//! Secrets (the database URL's password, the metrics token) never go in the unit: it
//! points at an environment file for them.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;

use crate::config;

#[derive(Debug, Args)]
pub struct UnitOptions {
    /// The postctl-server binary the unit runs [default: this one]
    #[arg(long, value_name = "PATH")]
    exec: Option<PathBuf>,
    /// Run as this existing system user instead of a dynamic one systemd makes
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    /// The address and port the server listens on
    #[arg(long, value_name = "ADDR:PORT", default_value = config::DEFAULT_LISTEN)]
    listen: String,
    /// The file with the secret settings (POSTCTL_SERVER_DATABASE_URL,
    /// POSTCTL_SERVER_METRICS_TOKEN, POSTCTL_SERVER_KEY), mode 0600; the unit starts without it
    #[arg(long, value_name = "FILE", default_value = "/etc/postctl-server.env")]
    env_file: PathBuf,
    /// Write the log as JSON lines instead of text
    #[arg(long)]
    json_logs: bool,
    /// The reverse proxies (comma-separated addresses or CIDRs) in front of the server,
    /// whose X-Forwarded-For names the client
    #[arg(long, value_name = "CIDRS")]
    trusted_proxies: Option<String>,
}

/// The data dir systemd makes (StateDirectory) when `--data` is not given.
const STATE_DIR: &str = "/var/lib/postctl-server";

fn check_user(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !name.starts_with('-');
    if !ok {
        bail!("--user {name:?} is not a system user name (letters, digits, '_' and '-')");
    }
    Ok(())
}

fn absolute(what: &str, path: &Path) -> anyhow::Result<String> {
    let text = path
        .to_str()
        .with_context(|| format!("{what} {} is not UTF-8", path.display()))?;
    if !path.is_absolute() || text.chars().any(|c| c.is_whitespace() || c == '"') {
        bail!("{what} {text:?} must be an absolute path without spaces or quotes");
    }
    Ok(text.to_string())
}

/// The unit's text. `data` is the global `--data`, if given.
pub fn render(options: &UnitOptions, data: &Option<PathBuf>) -> anyhow::Result<String> {
    let exec = match &options.exec {
        Some(path) => path.clone(),
        None => std::env::current_exe().context("could not find this binary's path")?,
    };
    let exec = absolute("--exec", &exec)?;
    let env_file = absolute("--env-file", &options.env_file)?;
    let listen: std::net::SocketAddr = options.listen.parse().with_context(|| {
        format!(
            "--listen {:?} is not an IP address and port, e.g. 127.0.0.1:8787",
            options.listen
        )
    })?;
    if let Some(user) = &options.user {
        check_user(user)?;
    }
    let data_dir = match data {
        Some(dir) => absolute("--data", dir)?,
        None => STATE_DIR.to_string(),
    };
    let state_directory = data_dir
        .strip_prefix("/var/lib/")
        .filter(|rest| !rest.is_empty() && !rest.contains("..") && rest.chars().all(|c| c != '/'));

    let mut u = String::new();
    let mut line = |text: &str| {
        u.push_str(text);
        u.push('\n');
    };
    line("# postctl-server as a systemd service. Install:");
    line("#   postctl-server print-unit > /etc/systemd/system/postctl-server.service");
    line("#   systemctl daemon-reload && systemctl enable --now postctl-server");
    line(&format!(
        "# Secrets go in {env_file} (mode 0600), never in this file:"
    ));
    line(&format!(
        "#   {}=postgres://USER:PASSWORD@HOST/DATABASE  (leave out for SQLite)",
        config::ENV_DATABASE_URL
    ));
    line(&format!(
        "#   {}=A-LONG-RANDOM-TOKEN  (to protect /metrics)",
        config::ENV_METRICS_TOKEN
    ));
    line(&format!(
        "#   {}=BASE64-32-BYTES  (seals TOTP secrets; the same for every process of one database)",
        config::ENV_KEY
    ));
    line(&format!(
        "# Optional there too: {}=http://COLLECTOR:4318 (traces), {}=https://APP (CORS)",
        config::ENV_OTLP_ENDPOINT,
        config::ENV_CORS_ORIGINS
    ));
    line("");
    line("[Unit]");
    line("Description=postctl-server, the always-on postctl publisher and API");
    line("Wants=network-online.target");
    line("After=network-online.target postgresql.service");
    line("");
    line("[Service]");
    line("Type=exec");
    line(&format!("ExecStart={exec} serve"));
    line(&format!("Environment={}={data_dir}", config::ENV_DATA));
    line(&format!("Environment={}={listen}", config::ENV_LISTEN));
    line(&format!(
        "Environment={}={}",
        config::ENV_LOG_FORMAT,
        if options.json_logs { "json" } else { "text" }
    ));
    line(&format!("Environment={}=info", config::ENV_LOG_LEVEL));
    if let Some(text) = &options.trusted_proxies {
        let nets = config::trusted_proxies(text)?;
        let nets: Vec<String> = nets.iter().map(|n| n.to_string()).collect();
        line(&format!(
            "Environment={}={}",
            config::ENV_TRUSTED_PROXIES,
            nets.join(",")
        ));
    }
    line(&format!("EnvironmentFile=-{env_file}"));
    match &options.user {
        Some(user) => {
            line(&format!("User={user}"));
            line(&format!("Group={user}"));
        }
        None => line("DynamicUser=yes"),
    }
    match state_directory {
        Some(name) => {
            line(&format!("StateDirectory={name}"));
            line("StateDirectoryMode=0700");
        }
        None => line(&format!("ReadWritePaths={data_dir}")),
    }
    line("Restart=on-failure");
    line("RestartSec=2s");
    line("TimeoutStopSec=30s");
    line("UMask=0077");
    line("LimitNOFILE=65536");
    line("# Sandboxing: the server needs its data dir and the network, nothing else.");
    line("NoNewPrivileges=yes");
    line("ProtectSystem=strict");
    line("ProtectHome=yes");
    line("PrivateTmp=yes");
    line("PrivateDevices=yes");
    line("ProtectKernelTunables=yes");
    line("ProtectKernelModules=yes");
    line("ProtectKernelLogs=yes");
    line("ProtectControlGroups=yes");
    line("ProtectClock=yes");
    line("ProtectHostname=yes");
    line("ProtectProc=invisible");
    line("ProcSubset=pid");
    line("RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX");
    line("RestrictNamespaces=yes");
    line("RestrictRealtime=yes");
    line("RestrictSUIDSGID=yes");
    line("LockPersonality=yes");
    line("MemoryDenyWriteExecute=yes");
    line("SystemCallArchitectures=native");
    line("SystemCallFilter=@system-service");
    line("SystemCallFilter=~@privileged @resources");
    if listen.port() < 1024 {
        line("# A port below 1024 needs this one capability.");
        line("CapabilityBoundingSet=CAP_NET_BIND_SERVICE");
        line("AmbientCapabilities=CAP_NET_BIND_SERVICE");
    } else {
        line("CapabilityBoundingSet=");
        line("AmbientCapabilities=");
    }
    line("");
    line("[Install]");
    line("WantedBy=multi-user.target");
    Ok(u)
}
