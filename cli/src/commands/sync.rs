//! `strava sync`: mirrors the athlete's activities into SQLite (see [`crate::db`]).
//!
//! 1. **List.** Activities that started after the newest one mirrored (all of them the
//!    first time; since `--since` when given) are listed oldest first, 200 a page; each
//!    page is saved in one transaction. A listed activity whose summary changed is
//!    updated and its details and streams are dropped, to be fetched again.
//! 2. **Fetch.** Every mirrored activity still missing its details (and, with
//!    `--streams`, its streams) is fetched, oldest first, and saved in one transaction.
//!    One that Strava no longer has (404) is removed from the mirror.
//!
//! The work left is always what the database says is missing, so an interrupted sync —
//! Ctrl-C, a crash, SIGKILL — continues where it stopped when run again. When the rate
//! limit is spent the sync counts down to the window's reset and goes on, or with
//! `--no-wait` stops cleanly (exit code 75).

use std::future::Future;
use std::time::Instant;

use anyhow::Result;
use serde_json::Value;
use tokio::sync::watch;

use crate::args::SyncArgs;
use crate::commands::activities::{MAX_PER_PAGE, page};
use crate::config::Ctx;
use crate::dates::parse_date;
use crate::db::{Mirror, RunCounts};
use crate::errors::Interrupted;
use crate::track::iso;
use crate::wait::{OnLimit, RateLimitStop, with_limits};

/// Pages listed at most in one run (200 × 10,000 activities).
const MAX_PAGES: u32 = 10_000;

struct Sync<'a> {
    ctx: &'a Ctx,
    mirror: Mirror,
    counts: RunCounts,
    on_limit: OnLimit,
    interrupt: watch::Receiver<bool>,
    /// This run's row in `sync_runs`.
    run_id: Option<i64>,
}

/// `strava sync`.
pub async fn run(ctx: &Ctx, args: SyncArgs) -> Result<()> {
    ctx.require_login()?;
    let now = ctx.clock.now();
    let since = args
        .since
        .as_deref()
        .map(|d| parse_date(d, now))
        .transpose()?;
    let path = args
        .db
        .clone()
        .unwrap_or_else(|| ctx.paths.data_dir.join(ctx.paths.default_db));
    let mirror = Mirror::open(&path)?;
    let started = Instant::now();

    // Ctrl-C (or SIGTERM) stops the run between two requests; what is committed stays.
    let (stop, interrupt) = watch::channel(false);
    let watcher = tokio::spawn(async move {
        if stop_signal().await {
            let _ = stop.send(true);
        }
    });
    let mut sync = Sync {
        ctx,
        mirror,
        counts: RunCounts::default(),
        on_limit: if args.no_wait {
            OnLimit::Stop
        } else {
            OnLimit::Wait
        },
        interrupt,
        run_id: None,
    };
    let result = sync.run(&args, since.map(|t| t.timestamp())).await;
    watcher.abort();

    let outcome = match &result {
        Ok(()) => "complete",
        Err(e) if e.is::<Interrupted>() => "interrupted",
        Err(e) if e.is::<RateLimitStop>() => "rate-limited",
        Err(_) => "failed",
    };
    if let Some(run) = sync.run_id {
        sync.mirror
            .finish_run(run, &iso(ctx.clock.now()), outcome, &sync.counts)?;
    }
    let held = sync.mirror.count()?;
    let c = sync.counts;
    let fetched = match (c.details, c.streams) {
        (0, 0) => "nothing to fetch".to_owned(),
        (d, 0) => format!("{d} details fetched"),
        (0, s) => format!("{s} stream sets fetched"),
        (d, s) => format!("{d} details and {s} stream sets fetched"),
    };
    let removed = if c.removed > 0 {
        format!(", {} removed (gone from Strava)", c.removed)
    } else {
        String::new()
    };
    let head = match outcome {
        "complete" => "sync complete",
        "interrupted" => "sync interrupted (run `strava sync` again to continue)",
        "rate-limited" => "sync stopped at the rate limit (run `strava sync` again to continue)",
        _ => "sync failed (what was fetched is kept; run `strava sync` again)",
    };
    let summary = format!(
        "{head}: {} listed ({} new, {} updated), {fetched}{removed}; {} holds {held} activities ({:.1} s)",
        c.listed,
        c.added,
        c.updated,
        path.display(),
        started.elapsed().as_secs_f64()
    );
    if outcome == "interrupted" {
        // Always said: the exit code alone would not tell what was kept.
        eprintln!("{summary}");
    } else {
        ctx.ui.note(&summary);
    }
    result
}

impl Sync<'_> {
    async fn run(&mut self, args: &SyncArgs, since: Option<i64>) -> Result<()> {
        let ctx = self.ctx;
        let on_limit = self.on_limit;
        let athlete = self
            .guarded(with_limits(ctx, on_limit, || {
                ctx.client.get_athlete().send()
            }))
            .await?;
        let athlete_id = athlete
            .id
            .and_then(|i| i.as_i64())
            .ok_or_else(|| anyhow::anyhow!("Strava's athlete has no id"))?;
        self.mirror.claim(athlete_id)?;
        self.run_id = Some(self.mirror.begin_run(&iso(ctx.clock.now()))?);
        self.list(since).await?;
        self.fetch(!args.no_details, args.streams).await
    }

    /// Lists and saves, page by page, the activities after the newest mirrored one
    /// (overlapping by a second, for activities that started in the same second).
    async fn list(&mut self, since: Option<i64>) -> Result<()> {
        let ctx = self.ctx;
        let after = match since {
            Some(since) => since,
            None => self.mirror.newest_start()?.map_or(0, |t| t - 1),
        };
        let spinner = ctx.ui.spinner("{spinner} {msg}");
        spinner.set_message("listing activities…");
        for number in 1..=MAX_PAGES {
            let on_limit = self.on_limit;
            let items: Vec<Value> = self
                .guarded(page(ctx, on_limit, Some(after), None, number, MAX_PER_PAGE))
                .await?;
            if items.is_empty() {
                break;
            }
            let outcome = self.mirror.save_page(&items)?;
            self.counts.listed += items.len();
            self.counts.added += outcome.added;
            self.counts.updated += outcome.updated;
            spinner.set_message(format!(
                "listing activities… {} listed, {} new, {} updated",
                self.counts.listed, self.counts.added, self.counts.updated
            ));
        }
        spinner.finish_and_clear();
        Ok(())
    }

    /// Fetches the details (and streams) every mirrored activity is missing.
    async fn fetch(&mut self, details: bool, streams: bool) -> Result<()> {
        let ctx = self.ctx;
        let pending = self.mirror.pending(details, streams)?;
        if pending.is_empty() {
            return Ok(());
        }
        let what = match (details, streams) {
            (true, true) => "details and streams",
            (false, true) => "streams",
            _ => "details",
        };
        let bar = ctx.ui.bar(
            pending.len() as u64,
            "{msg} [{bar:30}] {pos}/{len} ({eta} left)",
        );
        bar.set_message(format!("fetching {what}"));
        for item in pending {
            let on_limit = self.on_limit;
            let id = item.id;
            let mut details = None;
            if item.details {
                details = self
                    .fetch_extra(
                        id,
                        with_limits(ctx, on_limit, || {
                            ctx.client.get_activity(id).send_as::<Value>()
                        }),
                    )
                    .await?;
                if details.is_none() {
                    bar.inc(1);
                    continue;
                }
            }
            let mut stream_set = None;
            if item.streams {
                stream_set = self
                    .fetch_extra(
                        id,
                        with_limits(ctx, on_limit, || {
                            ctx.client.get_activity_streams(id).send_as::<Value>()
                        }),
                    )
                    .await?;
                if stream_set.is_none() {
                    bar.inc(1);
                    continue;
                }
            }
            self.mirror
                .save_extras(id, details.as_ref(), stream_set.as_ref())?;
            self.counts.details += usize::from(details.is_some());
            self.counts.streams += usize::from(stream_set.is_some());
            bar.inc(1);
        }
        bar.finish_and_clear();
        Ok(())
    }

    /// Runs `work`, one fetch of activity `id`'s details or streams; `None` when the
    /// activity is gone (404), once it is removed from the mirror.
    async fn fetch_extra(
        &mut self,
        id: i64,
        work: impl Future<Output = Result<Value>>,
    ) -> Result<Option<Value>> {
        match self.guarded(work).await {
            Ok(value) => Ok(Some(value)),
            Err(e) if is_not_found(&e) => {
                self.mirror.remove(id)?;
                self.counts.removed += 1;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Runs `work` unless Ctrl-C comes first.
    async fn guarded<T>(&self, work: impl Future<Output = Result<T>>) -> Result<T> {
        if *self.interrupt.borrow() {
            return Err(Interrupted.into());
        }
        let mut interrupt = self.interrupt.clone();
        tokio::pin!(work);
        tokio::select! {
            biased;
            stopped = interrupt.wait_for(|stop| *stop) => match stopped {
                Ok(_) => Err(Interrupted.into()),
                // No Ctrl-C handler: never interrupted.
                Err(_) => (&mut work).await,
            },
            result = &mut work => result,
        }
    }
}

/// Waits for Ctrl-C or, on Unix, SIGTERM; `false` when no handler could be installed.
async fn stop_signal() -> bool {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                interrupted = tokio::signal::ctrl_c() => interrupted.is_ok(),
                _ = term.recv() => true,
            };
        }
    }
    tokio::signal::ctrl_c().await.is_ok()
}

fn is_not_found(e: &anyhow::Error) -> bool {
    e.downcast_ref::<stravalib::Error>()
        .is_some_and(stravalib::Error::is_not_found)
}
