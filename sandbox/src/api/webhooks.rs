//! `/push_subscriptions...`: webhook subscriptions, checked with the app's credentials
//! rather than a token.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};

use super::ctx::{Reply, ok};
use crate::inner::Inner;
use crate::render;
use crate::request::{params, query_map};
use crate::respond::{
    bad_request, bytes_response, json_response, record_not_found, resource_not_found, unauthorized,
};
use crate::state::Subscription;

fn subscription_json(inner: &Inner, s: &Subscription) -> Value {
    json!({
        "id": s.id,
        "resource_state": 2,
        "application_id": inner.config.client_id,
        "callback_url": s.callback_url,
        "created_at": render::iso(s.created_at),
        "updated_at": render::iso(s.created_at),
    })
}

fn check_app(inner: &Inner, p: &HashMap<String, String>) -> Result<(), Response> {
    let id_ok = p
        .get("client_id")
        .and_then(|i| i.trim().parse::<u64>().ok())
        == Some(inner.config.client_id);
    let secret_ok =
        p.get("client_secret").map(String::as_str) == Some(inner.config.client_secret.as_str());
    if id_ok && secret_ok {
        Ok(())
    } else {
        Err(unauthorized("Application", "client_id", "invalid"))
    }
}

/// Answers `/push_subscriptions...`.
pub(crate) async fn dispatch(
    inner: &Arc<Inner>,
    method: &Method,
    segs: &[String],
    req: Request,
) -> Reply {
    let seg: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (method.as_str(), &seg[..]) {
        ("POST", ["push_subscriptions"]) => {
            let p = params(req).await?;
            check_app(inner, &p)?;
            let callback = p
                .get("callback_url")
                .filter(|c| !c.trim().is_empty())
                .ok_or_else(|| bad_request("PushSubscription", "callback_url", "missing"))?
                .trim()
                .to_owned();
            let verify_token = p.get("verify_token").cloned().unwrap_or_default();
            if inner.lock().subscription.is_some() {
                return Err(bad_request("PushSubscription", "", "already exists"));
            }
            let mut url = url::Url::parse(&callback)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| bad_request("PushSubscription", "callback url", "invalid"))?;
            let challenge: String = {
                use rand::Rng;
                let mut rng = rand::rng();
                (0..16)
                    .map(|_| format!("{:02x}", rng.random::<u8>()))
                    .collect()
            };
            url.query_pairs_mut()
                .append_pair("hub.verify_token", &verify_token)
                .append_pair("hub.challenge", &challenge)
                .append_pair("hub.mode", "subscribe");
            let answer = inner
                .http
                .get(url)
                .timeout(std::time::Duration::from_secs(2))
                .send()
                .await;
            let answer = match answer {
                Ok(r) if r.status().as_u16() == 200 => r.bytes().await.ok(),
                _ => None,
            }
            .ok_or_else(|| {
                bad_request(
                    "PushSubscription",
                    "callback url",
                    "GET to callback URL does not return 200",
                )
            })?;
            let echoed = serde_json::from_slice::<Value>(&answer).ok().and_then(|v| {
                v.get("hub.challenge")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
            if echoed.as_deref() != Some(challenge.as_str()) {
                return Err(bad_request(
                    "PushSubscription",
                    "callback url",
                    "not verifiable",
                ));
            }
            let mut state = inner.lock();
            if state.subscription.is_some() {
                return Err(bad_request("PushSubscription", "", "already exists"));
            }
            let id = state.next_subscription;
            state.next_subscription += 1;
            let sub = Subscription {
                id,
                callback_url: callback,
                created_at: inner.now(),
            };
            let body = subscription_json(inner, &sub);
            state.subscription = Some(sub);
            Ok(json_response(201, &body))
        }
        ("GET", ["push_subscriptions"]) => {
            let p = query_map(req.uri().query());
            check_app(inner, &p)?;
            let state = inner.lock();
            ok(&Value::Array(
                state
                    .subscription
                    .iter()
                    .map(|s| subscription_json(inner, s))
                    .collect(),
            ))
        }
        ("DELETE", ["push_subscriptions", id]) => {
            let p = params(req).await?;
            check_app(inner, &p)?;
            let id: u64 = id
                .parse()
                .map_err(|_| record_not_found("PushSubscription"))?;
            let mut state = inner.lock();
            if state.subscription.as_ref().map(|s| s.id) != Some(id) {
                return Err(record_not_found("PushSubscription"));
            }
            state.subscription = None;
            Ok(bytes_response(
                204,
                "application/json; charset=utf-8",
                Vec::new(),
            ))
        }
        _ => Err(resource_not_found()),
    }
}
