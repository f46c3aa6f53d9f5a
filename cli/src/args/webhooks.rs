//! `postctl webhooks`: the linked server workspace's outbound webhooks.

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Add an endpoint that receives the workspace's events, signed the Standard Webhooks way
    #[command(after_help = "\
Examples:
  postctl webhooks add https://hooks.example.org/postctl --events post.published,post.failed
  postctl webhooks add https://ci.example.org/hook --events post.scheduled --description \"CI\"

Events: post.scheduled, post.published, post.failed, post.uncertain, post.missed,
approval.requested, approval.decided, account.needs_reauth, analytics.report_ready,
webhook.disabled (another endpoint was disabled after failing; a `ping` reaches every
endpoint). The answer shows the endpoint's `whsec_` signing secret
once: keep it where the receiver reads it, and verify each delivery's `webhook-signature`
with it (the README's \"Integrations\" section has a receiver). Needs an admin or owner.")]
    Add(WebhookAddArgs),
    /// The workspace's endpoints: events, and whether they are enabled
    #[command(after_help = "Examples:\n  postctl webhooks list\n  postctl webhooks list --json")]
    List,
    /// Enable an endpoint again (after the server disabled it for failing), forgetting its failures
    #[command(after_help = "\
Examples:
  postctl webhooks list
  postctl webhooks enable 0193a1b2-…

The server disables an endpoint that keeps failing (or answers 410 Gone) and tells the
workspace's owners and admins (`webhook.disabled`). Fix the receiver, enable it, and test it
with `postctl webhooks ping ID`. Deliveries made while it was disabled are not sent; send
one again with `postctl webhooks redeliver`.")]
    Enable(WebhookIdArgs),
    /// Disable an endpoint: it gets no deliveries until enabled again
    #[command(after_help = "Examples:\n  postctl webhooks disable 0193a1b2-…")]
    Disable(WebhookIdArgs),
    /// Remove an endpoint and its delivery history
    #[command(after_help = "Examples:\n  postctl webhooks remove 0193a1b2-…")]
    Remove(WebhookIdArgs),
    /// An endpoint's deliveries, newest first, with each attempt's answer
    #[command(
        after_help = "Examples:\n  postctl webhooks deliveries 0193a1b2-…\n  postctl webhooks deliveries 0193a1b2-… --limit 5 --json"
    )]
    Deliveries(WebhookDeliveriesArgs),
    /// Send a delivery's event again, as a new delivery (a new webhook-id)
    #[command(
        after_help = "Examples:\n  postctl webhooks redeliver 0193a1c4-…\n\nThe delivery's id is in `postctl webhooks deliveries ID`."
    )]
    Redeliver(WebhookDeliveryArgs),
    /// Send a `ping` event to an endpoint, to test the receiver
    #[command(
        after_help = "Examples:\n  postctl webhooks ping 0193a1b2-…\n  postctl webhooks deliveries 0193a1b2-… --limit 1"
    )]
    Ping(WebhookIdArgs),
}

#[derive(Debug, Args)]
pub struct WebhookAddArgs {
    /// The receiver's URL (https; addresses on private networks are refused unless the server allows them)
    pub url: String,
    /// The event types it receives, comma separated (repeatable)
    #[arg(long, value_delimiter = ',', required = true, value_name = "EVENTS")]
    pub events: Vec<String>,
    /// What the endpoint is for
    #[arg(long)]
    pub description: Option<String>,
}

#[derive(Debug, Args)]
pub struct WebhookIdArgs {
    /// The endpoint's id, as `postctl webhooks list` shows it
    pub id: String,
}

#[derive(Debug, Args)]
pub struct WebhookDeliveriesArgs {
    /// The endpoint's id, as `postctl webhooks list` shows it
    pub id: String,
    /// How many deliveries to show (1 to 100)
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub limit: u32,
}

#[derive(Debug, Args)]
pub struct WebhookDeliveryArgs {
    /// The delivery's id, as `postctl webhooks deliveries ID` shows it
    pub delivery: String,
}
