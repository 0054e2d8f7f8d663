//! `strava whoami`: the signed-in athlete and the scopes granted.

use anyhow::Result;
use serde_json::{Value, json};
use stravalib::auth::Scope;

use crate::args::Format;
use crate::config::{Ctx, TokenSource};
use crate::output::{csv_row, print_csv, print_json, print_ndjson, print_table};
use crate::wait::{OnLimit, with_limits};

const CSV_HEADER: [&str; 10] = [
    "id",
    "username",
    "firstname",
    "lastname",
    "city",
    "state",
    "country",
    "measurement_preference",
    "scopes",
    "login",
];

/// `strava whoami`.
pub async fn run(ctx: &Ctx, format: Format) -> Result<()> {
    ctx.require_login()?;
    let athlete: Value = with_limits(ctx, OnLimit::Wait, || {
        ctx.client.get_athlete().send_as::<Value>()
    })
    .await?;
    let (scopes, login) = match &ctx.tokens {
        TokenSource::Saved(scopes) => (scopes.clone(), "saved"),
        TokenSource::Sandbox => (Some(Scope::ALL.to_vec()), "sandbox"),
        TokenSource::Given | TokenSource::None | TokenSource::Unreadable(_) => {
            (None, "environment")
        }
    };
    let scope_list: Option<Vec<String>> = scopes
        .as_ref()
        .map(|s| s.iter().map(|s| s.to_string()).collect());
    match format {
        Format::Json | Format::Ndjson => {
            let record = json!({"athlete": athlete, "scopes": scope_list, "login": login});
            if format == Format::Json {
                print_json(&record)
            } else {
                print_ndjson([&record])
            }
        }
        Format::Csv => {
            let mut record = athlete.clone();
            if let Some(map) = record.as_object_mut() {
                map.insert(
                    "scopes".into(),
                    scope_list
                        .as_ref()
                        .map_or(Value::Null, |s| Value::String(s.join(","))),
                );
                map.insert("login".into(), Value::String(login.into()));
            }
            print_csv(&CSV_HEADER, [csv_row(&record, &CSV_HEADER)])
        }
        Format::Table => {
            let text = |key: &str| athlete.get(key).and_then(Value::as_str).unwrap_or("");
            let name = format!("{} {}", text("firstname"), text("lastname"));
            let place: Vec<&str> = ["city", "state", "country"]
                .into_iter()
                .map(text)
                .filter(|s| !s.is_empty())
                .collect();
            let login_text = match &ctx.tokens {
                TokenSource::Saved(_) => {
                    format!("saved login ({})", ctx.paths.tokens_file().display())
                }
                TokenSource::Sandbox => "the embedded sandbox".to_owned(),
                _ => "tokens from the flags or environment".to_owned(),
            };
            let mut table = ctx.ui.table(&[]);
            let rows = [
                (
                    "Athlete",
                    athlete.get("id").map(Value::to_string).unwrap_or_default(),
                ),
                ("Name", name.trim().to_owned()),
                ("Username", text("username").to_owned()),
                ("Location", place.join(", ")),
                ("Units", text("measurement_preference").to_owned()),
                (
                    "Scopes",
                    scope_list
                        .as_ref()
                        .map(|s| s.join(", "))
                        .unwrap_or_else(|| "unknown (not recorded with these tokens)".to_owned()),
                ),
                ("Signed in with", login_text),
            ];
            for (key, value) in rows {
                if !value.is_empty() {
                    table.add_row(vec![key.to_owned(), value]);
                }
            }
            print_table(&table)
        }
    }
}
