//! `strava`: a command-line tool for everyday Strava work, with a resumable local mirror.
//!
//! Every command runs against the real Strava, or with `--sandbox` against the embedded
//! offline Strava of `stravalib-sandbox`, started in this process. See `strava --help`.
//!
//! Output discipline: data goes to stdout, progress and notes to stderr; errors are one
//! line on stderr (the cause chain with `-v`) and a non-zero exit code; bars are drawn
//! only on a terminal; no secret is ever printed.

mod args;
mod commands;
mod config;
mod dates;
mod db;
mod errors;
mod output;
mod people;
mod sparkline;
mod track;
mod wait;

use std::process::ExitCode;

use clap::{CommandFactory as _, Parser as _};

use crate::args::{Cli, Command};
use crate::config::Ctx;
use crate::errors::{Interrupted, one_line};
use crate::output::Ui;
use crate::wait::RateLimitStop;

/// Exit code when the rate limit stopped a `--no-wait` run (EX_TEMPFAIL).
const EXIT_RATE_LIMITED: u8 = 75;
/// Exit code after Ctrl-C.
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let verbose = cli.global.verbose;
    if let Command::Completions { shell } = cli.command {
        let mut command = Cli::command();
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut command, "strava", &mut script);
        return match output::stdout_bytes(&script) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => report(&e, verbose),
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    // Don't wait for the sandbox's or the client's background tasks.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(&e, verbose),
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let ui = Ui::detect(cli.global.quiet);
    let ctx = Ctx::new(&cli.global, ui).await?;
    commands::dispatch(&ctx, cli.command).await
}

/// Prints `e` as one line (its causes on their own lines with `-v`) and picks the exit
/// code.
fn report(e: &anyhow::Error, verbose: bool) -> ExitCode {
    let broken_pipe = |c: &(dyn std::error::Error + 'static)| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
            || c.downcast_ref::<csv::Error>().is_some_and(|e| {
                matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
            })
    };
    if e.chain().any(broken_pipe) {
        // `strava activities | head`: the reader left; not an error.
        return ExitCode::SUCCESS;
    }
    if e.downcast_ref::<Interrupted>().is_some() {
        return ExitCode::from(EXIT_INTERRUPTED);
    }
    eprintln!("error: {}", one_line(e));
    if verbose {
        for cause in e.chain().skip(1) {
            eprintln!("  caused by: {cause}");
        }
    }
    if e.downcast_ref::<RateLimitStop>().is_some() {
        ExitCode::from(EXIT_RATE_LIMITED)
    } else {
        ExitCode::FAILURE
    }
}
