//! `strava upload FILE…`: checks every file first, then sends the good ones one by one
//! with a progress bar each (bytes sent, then Strava's processing), and says what became
//! of each: a new activity, the activity it duplicates, or an error.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use bytes::Bytes;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use stravalib::Id;
use stravalib::types::UpdatableActivity;
use stravalib::upload::{DataType, UploadError, UploadFile, UploadHandle, UploadStatus};
use tokio::io::{AsyncRead, ReadBuf};

use crate::args::UploadArgs;
use crate::config::Ctx;
use crate::people::sport;
use crate::wait::{OnLimit, with_limits};

/// Directories are walked this deep at most.
const MAX_DEPTH: usize = 32;
/// Files taken from directories at most.
const MAX_FILES: usize = 10_000;
/// Bytes sent per read, so the bar moves.
const CHUNK: usize = 16 * 1024;

/// A file that passed the checks.
#[derive(Debug)]
struct Candidate {
    path: PathBuf,
    name: String,
    bytes: Bytes,
    data_type: DataType,
}

/// How one upload ended.
enum Outcome {
    Created(Id),
    Duplicate(Option<Id>),
    Sent(Id),
    Failed(String),
}

/// `strava upload`.
pub async fn run(ctx: &Ctx, args: UploadArgs) -> Result<()> {
    ctx.require_login()?;
    let sport = args.sport.as_deref().map(sport).transpose()?;
    let forced = args.data_type.as_deref().map(DataType::from);

    // Everything is checked before anything is sent.
    let mut paths = Vec::new();
    let mut refused: Vec<(PathBuf, String)> = Vec::new();
    let mut skipped = 0usize;
    for path in &args.files {
        if path.is_dir() {
            walk(path, 0, &mut paths, &mut skipped)?;
        } else {
            paths.push(path.clone());
        }
    }
    let mut candidates = Vec::new();
    for path in paths {
        match check(&path, forced.as_ref()) {
            Ok(candidate) => candidates.push(candidate),
            Err(reason) => refused.push((path, reason)),
        }
    }
    for (path, reason) in &refused {
        eprintln!("refused {}: {reason}", path.display());
    }
    if skipped > 0 {
        ctx.ui.note(&format!(
            "skipped {skipped} file(s) in the directories that are not activity files"
        ));
    }
    if candidates.is_empty() {
        bail!(
            "nothing to upload: {} file(s) refused, nothing was sent",
            refused.len()
        );
    }

    let multi = ctx.ui.multi();
    let mut created = 0;
    let mut duplicates = 0;
    let mut sent = 0;
    let mut failed = 0;
    for candidate in &candidates {
        let outcome = upload_one(ctx, &args, &multi, candidate, sport.as_ref()).await;
        let line = match outcome {
            Outcome::Created(id) => {
                created += 1;
                format!("{}: activity {id}", candidate.path.display())
            }
            Outcome::Duplicate(Some(id)) => {
                duplicates += 1;
                format!("{}: duplicate of activity {id}", candidate.path.display())
            }
            Outcome::Duplicate(None) => {
                duplicates += 1;
                format!(
                    "{}: duplicate of an existing activity",
                    candidate.path.display()
                )
            }
            Outcome::Sent(upload) => {
                sent += 1;
                format!("{}: upload {upload} (processing)", candidate.path.display())
            }
            Outcome::Failed(reason) => {
                failed += 1;
                multi.suspend(|| eprintln!("failed {}: {reason}", candidate.path.display()));
                continue;
            }
        };
        multi.suspend(|| crate::output::print_line(&line))?;
    }
    let total = candidates.len() + refused.len();
    let mut parts = Vec::new();
    if args.no_wait {
        parts.push(format!("{sent} sent"));
    } else {
        parts.push(format!("{created} uploaded"));
        parts.push(format!("{duplicates} duplicate(s)"));
    }
    parts.push(format!("{failed} failed"));
    parts.push(format!("{} refused", refused.len()));
    ctx.ui
        .note(&format!("{total} file(s): {}", parts.join(", ")));
    if failed > 0 || !refused.is_empty() {
        bail!(
            "{} of {total} file(s) were not uploaded",
            failed + refused.len()
        );
    }
    Ok(())
}

/// Collects the activity files under `dir`, sorted, counting the others.
fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>, skipped: &mut usize) -> Result<()> {
    if depth > MAX_DEPTH {
        bail!("{} is nested too deeply", dir.display());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| anyhow!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, depth + 1, out, skipped)?;
        } else if DataType::from_file_name(&path.to_string_lossy()).is_some() {
            if out.len() >= MAX_FILES {
                bail!("more than {MAX_FILES} files to upload: upload them in smaller batches");
            }
            out.push(path);
        } else {
            *skipped += 1;
        }
    }
    Ok(())
}

/// Reads and checks one file: it exists, is not empty, its format is known and its
/// content looks like that format.
fn check(path: &Path, forced: Option<&DataType>) -> std::result::Result<Candidate, String> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        _ => format!("cannot read it: {e}"),
    })?;
    if bytes.is_empty() {
        return Err("the file is empty (0 bytes)".to_owned());
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "activity".to_owned());
    let data_type = match forced {
        Some(t) => t.clone(),
        None => DataType::from_file_name(&name).ok_or_else(|| {
            "not an activity file: the name should end in .fit, .tcx or .gpx (optionally \
             .gz), or give --data-type"
                .to_owned()
        })?,
    };
    sniff(&bytes, &data_type)?;
    Ok(Candidate {
        path: path.to_path_buf(),
        name,
        bytes: Bytes::from(bytes),
        data_type,
    })
}

/// Whether the content looks like `data_type` (a cheap look at its first bytes).
fn sniff(bytes: &[u8], data_type: &DataType) -> std::result::Result<(), String> {
    let kind = data_type.as_str();
    if kind.ends_with(".gz") {
        return if bytes.starts_with(&[0x1f, 0x8b]) {
            Ok(())
        } else {
            Err(format!("not gzip data, though the format is {kind}"))
        };
    }
    match kind {
        "fit" => {
            if bytes.len() >= 12 && &bytes[8..12] == b".FIT" {
                Ok(())
            } else {
                Err("not a FIT file (no .FIT signature in its header)".to_owned())
            }
        }
        "gpx" | "tcx" => {
            let head = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]);
            let text = head.trim_start_matches('\u{feff}').trim_start();
            let root = if kind == "gpx" {
                "<gpx"
            } else {
                "<trainingcenterdatabase"
            };
            if text.starts_with('<') && head.to_ascii_lowercase().contains(root) {
                Ok(())
            } else {
                Err(format!(
                    "not a {} file (no {root}> element)",
                    kind.to_uppercase()
                ))
            }
        }
        _ => Ok(()),
    }
}

/// Sends one file and, unless `--no-wait`, waits for Strava to process it.
async fn upload_one(
    ctx: &Ctx,
    args: &UploadArgs,
    multi: &MultiProgress,
    candidate: &Candidate,
    sport: Option<&stravalib::types::SportType>,
) -> Outcome {
    let bar = multi.add(ctx.ui.bar(
        candidate.bytes.len() as u64,
        "{prefix:20!} [{bar:25}] {bytes}/{total_bytes} {msg}",
    ));
    bar.set_prefix(candidate.name.clone());
    bar.set_message("sending");
    let sent = with_limits(ctx, OnLimit::Wait, || {
        bar.set_position(0);
        let reader = ProgressReader {
            bytes: candidate.bytes.clone(),
            at: 0,
            bar: bar.clone(),
        };
        let mut upload = ctx
            .client
            .upload(UploadFile::from_reader(candidate.name.clone(), reader))
            .data_type(candidate.data_type.clone());
        if let Some(name) = &args.name {
            upload = upload.name(name);
        }
        if let Some(description) = &args.description {
            upload = upload.description(description);
        }
        if args.trainer {
            upload = upload.trainer(true);
        }
        if args.commute {
            upload = upload.commute(true);
        }
        upload.send()
    })
    .await;
    let mut handle = match sent {
        Ok(handle) => handle,
        Err(e) => {
            bar.abandon_with_message("failed");
            return Outcome::Failed(crate::errors::one_line(&e));
        }
    };
    if args.no_wait {
        bar.finish_with_message(format!("sent: upload {}", handle.id()));
        return Outcome::Sent(handle.id());
    }
    bar.set_style(
        ProgressStyle::with_template("{prefix:20!} {spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    if ctx.ui.bars() {
        bar.enable_steady_tick(Duration::from_millis(120));
    }
    let outcome = process(ctx, &bar, &mut handle, Duration::from_secs(args.timeout)).await;
    let outcome = match (outcome, sport) {
        (Outcome::Created(id), Some(sport)) => {
            bar.set_message(format!("setting the sport to {sport}"));
            let body = UpdatableActivity {
                sport_type: Some(sport.clone()),
                ..UpdatableActivity::default()
            };
            let updated = with_limits(ctx, OnLimit::Wait, || {
                ctx.client
                    .update_activity_by_id(id)
                    .body(body.clone())
                    .send()
            })
            .await;
            match updated {
                Ok(_) => Outcome::Created(id),
                Err(e) => Outcome::Failed(format!(
                    "activity {id} was created, but setting its sport failed: {}",
                    crate::errors::one_line(&e)
                )),
            }
        }
        (outcome, _) => outcome,
    };
    match &outcome {
        Outcome::Created(id) => bar.finish_with_message(format!("activity {id}")),
        Outcome::Duplicate(_) => bar.finish_with_message("duplicate"),
        Outcome::Sent(_) => bar.finish(),
        Outcome::Failed(_) => bar.abandon_with_message("failed"),
    }
    outcome
}

/// Polls the upload (at most once a second, waiting out the rate limit) until Strava
/// has processed it or `timeout` has passed.
async fn process(
    ctx: &Ctx,
    bar: &ProgressBar,
    handle: &mut UploadHandle,
    timeout: Duration,
) -> Outcome {
    let deadline = tokio::time::Instant::now() + timeout;
    // Bounded: one poll a second until the deadline.
    let max_polls = timeout.as_secs() + 2;
    for _ in 0..=max_polls {
        let status = handle.status();
        if status.is_finished() {
            // The state is known: `wait` classifies it without another request.
            return match handle.wait(Duration::ZERO, Duration::from_secs(1)).await {
                Ok(id) => Outcome::Created(id),
                Err(UploadError::Duplicate {
                    existing_activity_id,
                    ..
                }) => Outcome::Duplicate(existing_activity_id),
                Err(e) => Outcome::Failed(e.to_string()),
            };
        }
        if let UploadStatus::Processing { status } = &status {
            bar.set_message(format!("Strava is processing it: {status}"));
        }
        if tokio::time::Instant::now() >= deadline {
            return Outcome::Failed(format!(
                "still processing after {} s (upload {}); look for it on Strava later",
                timeout.as_secs(),
                handle.id()
            ));
        }
        tokio::time::sleep(stravalib::upload::MIN_POLL_INTERVAL).await;
        let polled = with_limits(ctx, OnLimit::Wait, || {
            let mut copy = handle.clone();
            async move { copy.poll().await.map(|_| copy) }
        })
        .await;
        match polled {
            Ok(updated) => *handle = updated,
            Err(e) => return Outcome::Failed(crate::errors::one_line(&e)),
        }
    }
    Outcome::Failed(format!("upload {} did not finish", handle.id()))
}

/// The file's bytes, read in chunks that move the bar.
struct ProgressReader {
    bytes: Bytes,
    at: usize,
    bar: ProgressBar,
}

impl AsyncRead for ProgressReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        let n = (this.bytes.len() - this.at).min(buf.remaining()).min(CHUNK);
        buf.put_slice(&this.bytes[this.at..this.at + n]);
        this.at += n;
        this.bar.set_position(this.at as u64);
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, content: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, content).unwrap();
            path
        };
        let gpx = write(
            "a.gpx",
            b"<?xml version=\"1.0\"?>\n<gpx version=\"1.1\"></gpx>",
        );
        assert!(check(&gpx, None).is_ok());
        assert!(
            check(&write("e.gpx", b""), None)
                .unwrap_err()
                .contains("empty")
        );
        assert!(
            check(&write("n.txt", b"hello"), None)
                .unwrap_err()
                .contains("not an activity file")
        );
        assert!(
            check(&write("f.fit", b"not a fit file"), None)
                .unwrap_err()
                .contains("FIT")
        );
        assert!(
            check(&write("g.gpx.gz", b"<gpx>"), None)
                .unwrap_err()
                .contains("gzip")
        );
        assert!(
            check(&write("t.tcx", b"<gpx></gpx>"), None)
                .unwrap_err()
                .contains("TCX")
        );
        assert!(
            check(&dir.path().join("missing.gpx"), None)
                .unwrap_err()
                .contains("no such file")
        );
        let mut fit = vec![14u8, 0x10, 0, 0, 0, 0, 0, 0];
        fit.extend_from_slice(b".FIT");
        fit.extend_from_slice(&[0, 0]);
        assert!(check(&write("r.fit", &fit), None).is_ok());
        // A forced data type wins over the name.
        assert!(check(&write("x.dat", b"<gpx/>"), Some(&DataType::Gpx)).is_ok());
    }

    #[test]
    fn directories_are_walked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for name in ["b.gpx", "a.fit", "notes.txt", ".hidden.gpx", "sub/c.tcx.gz"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let (mut out, mut skipped) = (Vec::new(), 0);
        walk(dir.path(), 0, &mut out, &mut skipped).unwrap();
        let names: Vec<String> = out
            .iter()
            .map(|p| {
                p.strip_prefix(dir.path())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["a.fit", "b.gpx", "sub/c.tcx.gz"]);
        assert_eq!(skipped, 1);
    }
}
