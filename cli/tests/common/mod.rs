//! What the CLI's tests share: a sandbox served from the test process on 127.0.0.1, and
//! the `strava` binary run against it with a clean environment and a temporary config
//! directory, every run bounded in time.
#![allow(dead_code)]

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use stravalib::auth::Scope;
use stravalib_sandbox::{Sandbox, SandboxBuilder};

/// The longest one `strava` run may take in a test.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// A sandbox on its own runtime, so tests can block on the binary while it serves.
pub struct TestSandbox {
    pub sandbox: Sandbox,
    pub runtime: tokio::runtime::Runtime,
    /// The access token of athlete 0 (every scope).
    pub token: String,
}

impl TestSandbox {
    /// A sandbox of `activities` activities for one athlete, with limits high enough
    /// for any test.
    pub fn start(activities: usize) -> Self {
        Self::with(
            Sandbox::builder()
                .seed(7)
                .athletes(1)
                .activities_per_athlete(activities)
                .rate_limits(100_000, 1_000_000, 100_000, 1_000_000)
                .upload_processing(1, Duration::from_secs(2)),
        )
    }

    /// A sandbox built from `builder`.
    pub fn with(builder: SandboxBuilder) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let sandbox = runtime
            .block_on(builder.start())
            .expect("the sandbox starts");
        let token = sandbox
            .issue_tokens(0, Scope::ALL)
            .access_token
            .expose()
            .to_owned();
        Self {
            sandbox,
            runtime,
            token,
        }
    }

    /// Runs `future` on the sandbox's runtime (for calls with the library's client).
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// The environment that points `strava` at this sandbox as athlete 0.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("STRAVA_API_BASE", self.sandbox.api_base()),
            ("STRAVA_OAUTH_BASE", self.sandbox.oauth_base()),
            ("STRAVA_CLIENT_ID", self.sandbox.client_id().to_string()),
            (
                "STRAVA_CLIENT_SECRET",
                self.sandbox.client_secret().to_owned(),
            ),
            ("STRAVA_ACCESS_TOKEN", self.token.clone()),
        ]
    }

    /// The secrets no output may contain.
    pub fn secrets(&self) -> Vec<String> {
        vec![self.token.clone(), self.sandbox.client_secret().to_owned()]
    }

    /// `strava ARGS` against this sandbox.
    pub fn strava(&self, config: &Path, args: &[&str]) -> Run {
        let mut command = strava(config, args);
        command.envs(self.env());
        run(command)
    }
}

/// `strava ARGS` with no STRAVA_* variable from the outside, `config` as the config dir,
/// UTC as the time zone.
pub fn strava(config: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_strava"));
    for (name, _) in std::env::vars() {
        if name.starts_with("STRAVA_") {
            command.env_remove(name);
        }
    }
    command
        .args(args)
        .env("STRAVA_CONFIG_DIR", config)
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    command
}

/// A finished run.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// Panics with both streams unless the run exited with `code`.
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code,
            Some(code),
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Panics unless the run succeeded.
    pub fn ok(self) -> Self {
        self.expect_code(0)
    }

    /// Panics when either stream contains one of `secrets`, or a terminal escape.
    pub fn clean(self, secrets: &[String]) -> Self {
        for secret in secrets {
            assert!(
                !self.stdout.contains(secret.as_str()) && !self.stderr.contains(secret.as_str()),
                "a secret was printed\n--- stdout\n{}\n--- stderr\n{}",
                self.stdout,
                self.stderr
            );
        }
        assert!(
            !self.stdout.contains('\u{1b}') && !self.stderr.contains('\u{1b}'),
            "terminal escapes without a terminal\n{}\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// Runs `command` to its end, killing it after [`RUN_TIMEOUT`].
pub fn run(mut command: Command) -> Run {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the strava binary starts");
    let (stdout, stderr) = drain(&mut child);
    let status = wait_bounded(&mut child, RUN_TIMEOUT);
    Run {
        code: status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
        elapsed: started.elapsed(),
    }
}

/// Threads reading the child's stdout and stderr to their ends.
pub fn drain(
    child: &mut Child,
) -> (
    std::thread::JoinHandle<String>,
    std::thread::JoinHandle<String>,
) {
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let stdout = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = out.read_to_string(&mut text);
        text
    });
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = err.read_to_string(&mut text);
        text
    });
    (stdout, stderr)
}

/// Waits for `child` at most `timeout` (then kills it and panics); its exit code, `None`
/// when a signal ended it.
pub fn wait_bounded(child: &mut Child, timeout: Duration) -> Option<i32> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("waiting for strava") {
            return status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("strava did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A fresh temporary directory.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// `dir/name`.
pub fn path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}
