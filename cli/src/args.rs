//! The command line: global options and one subcommand per task (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The global options' help heading for the connection settings.
const CONNECTION: &str = "Connection (flags, then environment, then the saved login)";
/// The global options' help heading for the embedded sandbox.
const SANDBOX: &str = "Sandbox (with --sandbox)";

/// Everyday Strava work from the terminal: sign in, list and export activities, upload
/// files, keep a resumable local SQLite mirror, watch the rate limits.
#[derive(Debug, Parser)]
#[command(
    name = "strava",
    version,
    propagate_version = true,
    after_help = "Examples:
  strava login                            # sign in with the browser, once
  strava activities --after 2025-01-01    # a table of activities
  strava export 1234567890 -o ride.gpx    # an activity's track as GPX
  strava sync --streams                   # mirror everything into SQLite
  strava --sandbox activities --limit 5   # try it all offline, no account needed

Errors are one line on stderr (the causes with -v); data goes to stdout, progress to
stderr. Exit codes: 0 done, 1 failed, 2 bad usage, 75 stopped at the rate limit
(--no-wait), 130 interrupted."
)]
pub struct Cli {
    /// The options every command takes.
    #[command(flatten)]
    pub global: Global,
    /// The task.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// Show the cause chain of errors.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// No progress bars, countdowns or closing summaries on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Run against the embedded offline Strava (started in this process, seeded), so
    /// every command can be tried without an account.
    #[arg(long, global = true)]
    pub sandbox: bool,

    /// Where the saved login lives (default: the platform's config directory, e.g.
    /// ~/.config/strava-cli); when given, the default database goes there too.
    #[arg(long, global = true, env = "STRAVA_CONFIG_DIR", value_name = "DIR")]
    pub config_dir: Option<PathBuf>,

    /// Units for people: the athlete's preference by default.
    #[arg(long, global = true, value_enum)]
    pub units: Option<Units>,

    /// The app's client id.
    #[arg(long, global = true, env = "STRAVA_CLIENT_ID", help_heading = CONNECTION)]
    pub client_id: Option<u64>,

    /// The app's client secret (prefer the environment: flags show in `ps`).
    #[arg(
        long,
        global = true,
        env = "STRAVA_CLIENT_SECRET",
        hide_env_values = true,
        help_heading = CONNECTION
    )]
    pub client_secret: Option<String>,

    /// An access token to use instead of the saved login.
    #[arg(
        long,
        global = true,
        env = "STRAVA_ACCESS_TOKEN",
        hide_env_values = true,
        help_heading = CONNECTION
    )]
    pub access_token: Option<String>,

    /// A refresh token to use instead of the saved login (with the client id and secret,
    /// access tokens are refreshed as needed).
    #[arg(
        long,
        global = true,
        env = "STRAVA_REFRESH_TOKEN",
        hide_env_values = true,
        help_heading = CONNECTION
    )]
    pub refresh_token: Option<String>,

    /// The API base URL (default: Strava's, www.strava.com/api/v3).
    #[arg(long, global = true, env = "STRAVA_API_BASE", value_name = "URL", help_heading = CONNECTION)]
    pub api_base: Option<String>,

    /// The OAuth base URL (default: Strava's, www.strava.com/oauth).
    #[arg(long, global = true, env = "STRAVA_OAUTH_BASE", value_name = "URL", help_heading = CONNECTION)]
    pub oauth_base: Option<String>,

    /// The seed of the sandbox's generated data.
    #[arg(long, global = true, default_value_t = 1, value_name = "N", help_heading = SANDBOX)]
    pub sandbox_seed: u64,

    /// Activities of the sandbox's athlete.
    #[arg(long, global = true, default_value_t = 120, value_name = "N", help_heading = SANDBOX)]
    pub sandbox_activities: usize,

    /// The sandbox's rate limits: overall 15-minute and daily, read 15-minute and daily.
    #[arg(
        long,
        global = true,
        value_name = "A,B,C,D",
        value_parser = parse_limits,
        help_heading = SANDBOX
    )]
    pub sandbox_limits: Option<[u32; 4]>,

    /// The sandbox clock's start (RFC 3339, e.g. 2026-03-10T12:14:50Z): its activities
    /// end that day, and its rate-limit windows follow that clock.
    #[arg(long, global = true, value_name = "TIME", help_heading = SANDBOX)]
    pub sandbox_start: Option<chrono::DateTime<chrono::Utc>>,
}

fn parse_limits(text: &str) -> Result<[u32; 4], String> {
    let parts: Vec<u32> = text
        .split(',')
        .map(|p| p.trim().parse::<u32>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("`{text}` is not four numbers"))?;
    match parts[..] {
        [a, b, c, d] if a > 0 && b > 0 && c > 0 && d > 0 => Ok([a, b, c, d]),
        _ => Err(format!("`{text}` is not four positive numbers")),
    }
}

/// Units to show distances, speeds and elevations in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Units {
    /// Kilometers, meters, km/h, pace per kilometer.
    Metric,
    /// Miles, feet, mph, pace per mile.
    Imperial,
}

/// How a command writes its data on stdout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable table, in the athlete's units.
    #[default]
    Table,
    /// One JSON document (Strava's fields, SI units).
    Json,
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header row (SI units).
    Csv,
}

/// What an export is written as.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum TrackFormat {
    /// GPX 1.1 (heart rate, cadence and temperature in Garmin's TrackPointExtension,
    /// power in Garmin's PowerExtension).
    #[default]
    Gpx,
    /// Garmin Training Center (TCX) v2.
    Tcx,
    /// One row per sample.
    Csv,
    /// An array of samples.
    Json,
}

/// What a route is exported as.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum RouteFormat {
    /// GPX, as Strava exports it.
    #[default]
    Gpx,
    /// TCX, as Strava exports it.
    Tcx,
}

/// The tasks.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in with Strava in the browser and save the tokens.
    #[command(after_help = "Examples:
  strava login                                  # opens the browser
  strava login --no-browser --port 8976         # prints the URL to open elsewhere
  strava login --scope read --scope activity:read
  strava --sandbox login --no-browser           # the whole flow, offline

Needs the app's client id and secret (https://www.strava.com/settings/api) from
--client-id/--client-secret or STRAVA_CLIENT_ID/STRAVA_CLIENT_SECRET; they are saved
with the tokens (mode 0600) for later refreshes. The app's Authorization Callback Domain
must be 127.0.0.1 (or localhost). With --sandbox the consent redirect is followed by the
tool itself, and the tokens are saved apart from the real login (in sandbox/).")]
    Login(LoginArgs),

    /// Revoke the saved login on Strava and delete its tokens.
    #[command(after_help = "Example:\n  strava logout")]
    Logout,

    /// The signed-in athlete and the scopes granted.
    #[command(after_help = "Examples:\n  strava whoami\n  strava whoami --format json")]
    Whoami(FormatArgs),

    /// List activities: a table for people, JSON, NDJSON or CSV for scripts.
    #[command(after_help = "Examples:
  strava activities                                   # the 30 latest
  strava activities --after 2025-06-01 --type Run --limit 0
  strava activities --after 30d --format csv > month.csv

DATE is YYYY-MM-DD (local midnight), an RFC 3339 time, Unix seconds, or an age such as
7d, 2w or 12h.")]
    Activities(ActivitiesArgs),

    /// One activity: summary, splits, and sparklines of elevation, heart rate and speed.
    #[command(
        after_help = "Examples:\n  strava activity 1234567890\n  strava activity 1234567890 --format json | jq .splits_metric"
    )]
    Activity(ActivityArgs),

    /// Export an activity's track (built from its streams) as GPX, TCX, CSV or JSON.
    #[command(after_help = "Examples:
  strava export 1234567890 -o morning-ride.gpx
  strava export 1234567890 --format tcx > ride.tcx
  strava export 1234567890 --format csv | head")]
    Export(ExportArgs),

    /// Routes.
    #[command(subcommand)]
    Route(RouteCommand),

    /// Upload activity files (.fit, .tcx, .gpx, optionally .gz) or directories of them.
    #[command(after_help = "Examples:
  strava upload morning-ride.fit
  strava upload exports/ --no-wait
  strava upload run.gpx --name \"Lunch run\" --type TrailRun

Every file is checked before anything is sent (it exists, is not empty, has a known
extension and looks like its format); bad ones are refused and the others uploaded.
Prints one line per file on stdout: the new activity, the existing activity a duplicate
matches, or the upload id with --no-wait.")]
    Upload(UploadArgs),

    /// Mirror the athlete's activities into a local SQLite database, incrementally.
    #[command(after_help = "Examples:
  strava sync                         # activities and their details
  strava sync --streams --db ~/strava.sqlite
  strava sync --since 2025-01-01      # look again at everything since then
  strava sync --no-wait               # stop at the rate limit instead of waiting

Resumable: every page of the list and every activity is committed in its own
transaction, so an interrupted sync (Ctrl-C, a crash, even SIGKILL) loses nothing and
the next run continues where it stopped. Tables: activities (one row per activity,
the summary fields as columns plus the full JSON), activity_details, streams and
stream_sets (with --streams), sync_runs (one row per run).")]
    Sync(SyncArgs),

    /// The app's rate-limit usage: 15-minute and daily windows, overall and read.
    #[command(after_help = "Examples:\n  strava limits\n  strava limits --format json")]
    Limits(FormatArgs),

    /// The app's webhook (push) subscription.
    #[command(subcommand)]
    Webhooks(WebhooksCommand),

    /// Print shell completions.
    #[command(after_help = "Examples:
  strava completions bash > ~/.local/share/bash-completion/completions/strava
  strava completions zsh > ~/.zfunc/_strava
  strava completions fish > ~/.config/fish/completions/strava.fish")]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// `strava login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// A scope to ask for (repeat, or separate with commas). Default:
    /// read, profile:read_all, activity:read_all, activity:write.
    #[arg(long = "scope", value_name = "SCOPE", value_delimiter = ',')]
    pub scopes: Vec<String>,

    /// Print the URL to open instead of opening the browser, and wait.
    #[arg(long)]
    pub no_browser: bool,

    /// The port of the local callback server on 127.0.0.1 (default: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// How long to wait for the authorization, in seconds.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub timeout: u64,
}

/// Commands whose only option is the output format.
#[derive(Debug, Args)]
pub struct FormatArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `strava activities`.
#[derive(Debug, Args)]
pub struct ActivitiesArgs {
    /// Only activities that started after DATE.
    #[arg(long, value_name = "DATE")]
    pub after: Option<String>,

    /// Only activities that started before DATE.
    #[arg(long, value_name = "DATE")]
    pub before: Option<String>,

    /// Only this sport (Strava's sport_type: Run, Ride, TrailRun...; any case).
    #[arg(long = "type", value_name = "SPORT")]
    pub sport: Option<String>,

    /// At most N activities (0: all).
    #[arg(long, default_value_t = 30, value_name = "N")]
    pub limit: usize,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `strava activity`.
#[derive(Debug, Args)]
pub struct ActivityArgs {
    /// The activity's id.
    pub id: u64,

    /// Output format (json and ndjson: Strava's whole activity, splits and laps
    /// included; csv: one row of its main fields).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `strava export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The activity's id.
    pub id: u64,

    /// The file format.
    #[arg(long, value_enum, default_value_t)]
    pub format: TrackFormat,

    /// Write to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `strava route …`.
#[derive(Debug, Subcommand)]
pub enum RouteCommand {
    /// Export a route as GPX or TCX.
    #[command(
        after_help = "Examples:\n  strava route export 3141592653 -o loop.gpx\n  strava route export 3141592653 --format tcx"
    )]
    Export {
        /// The route's id.
        id: u64,
        /// The file format.
        #[arg(long, value_enum, default_value_t)]
        format: RouteFormat,
        /// Write to FILE instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// `strava upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Files, or directories to upload every activity file of (recursively).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// The activity's name (Strava picks one otherwise).
    #[arg(long)]
    pub name: Option<String>,

    /// The activity's description.
    #[arg(long)]
    pub description: Option<String>,

    /// The sport (Run, Ride, TrailRun...), set once Strava has processed the file.
    #[arg(long = "type", value_name = "SPORT", conflicts_with = "no_wait")]
    pub sport: Option<String>,

    /// The file format, when the file name does not say it.
    #[arg(long, value_name = "TYPE", value_parser = ["fit", "fit.gz", "tcx", "tcx.gz", "gpx", "gpx.gz"])]
    pub data_type: Option<String>,

    /// Mark the activity as done on a trainer.
    #[arg(long)]
    pub trainer: bool,

    /// Mark the activity as a commute.
    #[arg(long)]
    pub commute: bool,

    /// Don't wait for Strava to process the files: print the upload ids.
    #[arg(long)]
    pub no_wait: bool,

    /// How long to wait for Strava to process each file, in seconds.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub timeout: u64,
}

/// `strava sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The database (default: strava.sqlite in the platform's data directory;
    /// sandbox.sqlite with --sandbox).
    #[arg(long, value_name = "PATH", env = "STRAVA_DB")]
    pub db: Option<PathBuf>,

    /// Fetch every activity's streams too (one more request per activity).
    #[arg(long)]
    pub streams: bool,

    /// List again every activity since DATE (picks up edits; default: only activities
    /// newer than the newest one in the database).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,

    /// Don't fetch details (one request per activity): the list only.
    #[arg(long)]
    pub no_details: bool,

    /// Stop cleanly (exit code 75) when the rate limit is spent instead of waiting.
    #[arg(long)]
    pub no_wait: bool,
}

/// `strava webhooks …`.
#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// The app's subscriptions.
    #[command(after_help = "Example:\n  strava webhooks list --format json")]
    List(FormatArgs),
    /// Subscribe: Strava checks the callback at once, so it must already answer the
    /// challenge for TOKEN.
    #[command(
        after_help = "Example:\n  strava webhooks create https://example.com/strava/webhook my-verify-token"
    )]
    Create {
        /// The callback URL.
        url: String,
        /// The verify token the callback expects.
        token: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Delete a subscription.
    #[command(after_help = "Example:\n  strava webhooks delete 120475")]
    Delete {
        /// The subscription's id.
        id: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_an_example() {
        fn walk(cmd: &clap::Command, path: &str) {
            for sub in cmd.get_subcommands() {
                if sub.get_name() == "help" {
                    continue;
                }
                let path = format!("{path} {}", sub.get_name());
                if sub.get_subcommands().next().is_some() {
                    walk(sub, &path);
                    continue;
                }
                let after = sub
                    .get_after_help()
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                assert!(after.contains("Example"), "{path} has no example");
            }
        }
        walk(&Cli::command(), "strava");
    }

    #[test]
    fn limits_parse() {
        assert_eq!(parse_limits("1,2,3,4"), Ok([1, 2, 3, 4]));
        assert!(parse_limits("1,2,3").is_err());
        assert!(parse_limits("0,2,3,4").is_err());
    }
}
