//! `strava webhooks list|create|delete`: the app's push subscription (managed with the
//! app's client id and secret, not an athlete's token).

use anyhow::Result;
use serde_json::Value;
use stravalib::webhooks::Subscription;

use crate::args::{Format, WebhooksCommand};
use crate::config::Ctx;
use crate::output::{csv_row, print_csv, print_json, print_line, print_ndjson, print_table};
use crate::track::iso;
use crate::wait::{OnLimit, with_limits};

const CSV_HEADER: [&str; 4] = ["id", "application_id", "callback_url", "created_at"];

/// `strava webhooks …`.
pub async fn run(ctx: &Ctx, command: WebhooksCommand) -> Result<()> {
    ctx.require_credentials("managing webhooks")?;
    match command {
        WebhooksCommand::List(args) => {
            let subscriptions =
                with_limits(ctx, OnLimit::Wait, || ctx.client.list_subscriptions()).await?;
            if args.format == Format::Table && subscriptions.is_empty() {
                ctx.ui.note("No subscription.");
                return Ok(());
            }
            print(ctx, &subscriptions, args.format)
        }
        WebhooksCommand::Create { url, token, format } => {
            // Sent once: Strava checks the callback while it answers.
            let subscription = ctx.client.create_subscription(&url, &token).await?;
            print(ctx, std::slice::from_ref(&subscription), format)
        }
        WebhooksCommand::Delete { id } => {
            ctx.client.delete_subscription(id).await?;
            print_line(&format!("Deleted subscription {id}."))
        }
    }
}

fn print(ctx: &Ctx, subscriptions: &[Subscription], format: Format) -> Result<()> {
    let records: Vec<Value> = subscriptions
        .iter()
        .map(serde_json::to_value)
        .collect::<std::result::Result<_, _>>()?;
    match format {
        Format::Json => print_json(&Value::Array(records)),
        Format::Ndjson => print_ndjson(&records),
        Format::Csv => print_csv(&CSV_HEADER, records.iter().map(|r| csv_row(r, &CSV_HEADER))),
        Format::Table => {
            let mut table = ctx.ui.table(&["ID", "Callback URL", "Created"]);
            for s in subscriptions {
                table.add_row(vec![
                    s.id.to_string(),
                    s.callback_url.clone().unwrap_or_default(),
                    s.created_at.map(iso).unwrap_or_default(),
                ]);
            }
            print_table(&table)
        }
    }
}
