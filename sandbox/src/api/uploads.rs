//! `/uploads...`: multipart uploads and their status (processed in
//! [`processing`](crate::processing)).

use std::collections::HashMap;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{Method, header};
use stravalib::auth::Scope;

use super::ctx::{Ctx, Reply, known_sport, known_type, ok};
use crate::request::truthy;
use crate::respond::{bad_request, json_response, record_not_found, resource_not_found};
use crate::state::{Upload, UploadState};
use crate::{parse, processing, render};

/// Answers `POST /uploads` and `GET /uploads/{id}`.
pub(crate) async fn dispatch(ctx: &Ctx<'_>, method: &Method, seg: &[&str], req: Request) -> Reply {
    match (method.as_str(), seg) {
        ("POST", ["uploads"]) => create_upload(ctx, req).await,
        ("GET", ["uploads", id]) => get_upload(ctx, id),
        _ => Err(resource_not_found()),
    }
}

const DATA_TYPES: [&str; 6] = ["fit", "fit.gz", "tcx", "tcx.gz", "gpx", "gpx.gz"];

fn digest(bytes: &[u8]) -> u64 {
    // FNV-1a: identical files have identical digests.
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

async fn create_upload(ctx: &Ctx<'_>, req: Request) -> Reply {
    ctx.require(Scope::ActivityWrite)?;
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(bad_request("Upload", "file", "missing"));
    }
    let mut multipart = Multipart::from_request(req, &())
        .await
        .map_err(|_| bad_request("Upload", "file", "invalid"))?;
    // Clients send the other fields as multipart fields or as query parameters (Strava
    // takes both); a multipart field wins over a query parameter of the same name.
    let mut fields: HashMap<String, String> = ctx.query.clone();
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => return Err(bad_request("Upload", "file", "invalid")),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = field.file_name().unwrap_or("upload").to_owned();
            let bytes = field
                .bytes()
                .await
                .map_err(|_| bad_request("Upload", "file", "invalid"))?;
            file = Some((file_name, bytes.to_vec()));
        } else if let Ok(text) = field.text().await {
            fields.insert(name, text);
        }
    }
    let field = |k: &str| {
        fields
            .get(k)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let data_type = field("data_type")
        .map(|d| d.to_ascii_lowercase())
        .filter(|d| DATA_TYPES.contains(&d.as_str()))
        .ok_or_else(|| bad_request("Upload", "data_type", "invalid"))?;
    let (file_name, bytes) = file
        .filter(|(_, b)| !b.is_empty())
        .ok_or_else(|| bad_request("Upload", "file", "missing"))?;
    let parsed = parse::parse(&data_type, &bytes);
    let sport_type = field("sport_type")
        .filter(|s| known_sport(s))
        .or_else(|| field("activity_type").filter(|s| known_type(s)));
    let now = ctx.inner.now();
    let mut state = ctx.inner.lock();
    let id = state.next_upload;
    state.next_upload += 1;
    let upload = Upload {
        id,
        athlete: ctx.athlete,
        file_name,
        external_id: field("external_id"),
        name: field("name"),
        description: field("description"),
        trainer: field("trainer").and_then(|v| truthy(&v)).unwrap_or(false),
        commute: field("commute").and_then(|v| truthy(&v)).unwrap_or(false),
        sport_type,
        digest: digest(&bytes),
        parsed,
        created_at: now,
        polls: 0,
        state: UploadState::Processing,
    };
    let body = render::upload_json(&upload);
    state.uploads.insert(id, upload);
    if ctx.inner.config.upload_polls == 0 && ctx.inner.config.upload_time.is_zero() {
        processing::finish(ctx.inner, &mut state, id);
    }
    Ok(json_response(201, &body))
}

fn get_upload(ctx: &Ctx<'_>, id: &str) -> Reply {
    ctx.require(Scope::ActivityWrite)?;
    let id: u64 = id.parse().map_err(|_| record_not_found("Upload"))?;
    let mut state = ctx.inner.lock();
    match state.uploads.get_mut(&id) {
        Some(u) if u.athlete == ctx.athlete => u.polls += 1,
        _ => return Err(record_not_found("Upload")),
    }
    processing::settle(ctx.inner, &mut state);
    ok(&render::upload_json(&state.uploads[&id]))
}
