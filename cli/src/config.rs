//! Where things live (config and data directories), the saved login, and the client built
//! from flags, then the environment, then the saved login — or from the embedded sandbox.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use stravalib::Client;
use stravalib::auth::{ClientCredentials, FileTokenStore, Scope, TokenSet, TokenStore as _};
use stravalib::rate_limit::{Clock, RateLimitPolicy, SystemClock};
use stravalib_sandbox::Sandbox;

use crate::args::{Global, Units};
use crate::output::Ui;

/// The file holding the saved tokens (written by the library's [`FileTokenStore`], 0600).
pub const TOKENS_FILE: &str = "tokens.json";
/// The file holding the app's client id and secret and the base URLs used at login (0600).
pub const APP_FILE: &str = "app.json";

/// The saved app settings: what `strava login` was run with.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SavedApp {
    /// The app's client id.
    pub client_id: u64,
    /// The app's client secret.
    pub client_secret: String,
    /// The API base URL used at login, when not Strava's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base: Option<String>,
    /// The OAuth base URL used at login, when not Strava's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_base: Option<String>,
}

impl std::fmt::Display for SavedApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "app {}", self.client_id)
    }
}

/// Where the tool keeps its files.
#[derive(Clone, Debug)]
pub struct Paths {
    /// The saved login's directory (`sandbox/` below the config dir with `--sandbox`).
    pub config_dir: PathBuf,
    /// Where the default database lives.
    pub data_dir: PathBuf,
    /// The default database's file name.
    pub default_db: &'static str,
}

impl Paths {
    /// The directories for these options: `--config-dir`/`STRAVA_CONFIG_DIR` or the
    /// platform's config directory; the platform's data directory.
    pub fn resolve(global: &Global) -> Result<Self> {
        let dirs = directories::ProjectDirs::from("", "", "strava-cli");
        let config_dir = match (&global.config_dir, &dirs) {
            (Some(dir), _) => dir.clone(),
            (None, Some(dirs)) => dirs.config_dir().to_path_buf(),
            (None, None) => bail!(
                "no home directory to keep the login in: set STRAVA_CONFIG_DIR or --config-dir"
            ),
        };
        // A config dir given explicitly holds the default database too (tests, portable
        // setups); otherwise the platform's data directory does.
        let data_dir = match (&global.config_dir, &dirs) {
            (Some(dir), _) => dir.clone(),
            (None, Some(dirs)) => dirs.data_dir().to_path_buf(),
            (None, None) => PathBuf::from("."),
        };
        let (config_dir, default_db) = if global.sandbox {
            (config_dir.join("sandbox"), "sandbox.sqlite")
        } else {
            (config_dir, "strava.sqlite")
        };
        Ok(Self {
            config_dir,
            data_dir,
            default_db,
        })
    }

    /// `tokens.json` in the config directory.
    pub fn tokens_file(&self) -> PathBuf {
        self.config_dir.join(TOKENS_FILE)
    }

    /// `app.json` in the config directory.
    pub fn app_file(&self) -> PathBuf {
        self.config_dir.join(APP_FILE)
    }

    /// The saved app settings, if any.
    pub fn load_app(&self) -> Result<Option<SavedApp>> {
        let path = self.app_file();
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        check_private(&path)?;
        // serde's message could quote the file (a secret): only say where it failed.
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            anyhow!(
                "{} is not valid (line {}, column {}): delete it and run `strava login`",
                path.display(),
                e.line(),
                e.column()
            )
        })
    }

    /// Saves the app settings (0600, atomically).
    pub fn save_app(&self, app: &SavedApp) -> Result<()> {
        self.ensure_config_dir()?;
        let json = serde_json::to_vec_pretty(app)?;
        write_private(&self.app_file(), &json)
    }

    /// Creates the config directory (0700 on Unix) if needed.
    pub fn ensure_config_dir(&self) -> Result<()> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt as _;
            builder.mode(0o700);
        }
        builder
            .create(&self.config_dir)
            .with_context(|| format!("cannot create {}", self.config_dir.display()))
    }

    /// The saved tokens' store.
    pub fn token_store(&self) -> FileTokenStore {
        FileTokenStore::new(self.tokens_file())
    }
}

/// Refuses a file others may read (it holds a secret), as the library's token store does.
fn check_private(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            bail!(
                "{} is accessible to other users (mode {mode:03o}): restrict it with `chmod 600 {}`",
                path.display(),
                path.display()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Writes `contents` to `path` through a temporary file (0600) renamed over it.
fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let result = (|| -> std::io::Result<()> {
        let mut file = options.open(&temp)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// Where the client's tokens come from.
#[derive(Clone, Debug)]
pub enum TokenSource {
    /// `--access-token`/`--refresh-token` or their environment variables.
    Given,
    /// The saved login, with the scopes it was granted.
    Saved(Option<Vec<Scope>>),
    /// The embedded sandbox's athlete 0, with every scope.
    Sandbox,
    /// The saved login could not be read (why); `login` can replace it.
    Unreadable(String),
    /// None: commands that need an athlete fail with a hint to sign in.
    None,
}

/// Everything a command needs: the client, the clock it reads, the terminal, the paths.
pub struct Ctx {
    /// The API client (rate-limit policy: fail fast; commands wait with a countdown).
    pub client: Client,
    /// The client's clock (the sandbox's with `--sandbox`).
    pub clock: Arc<dyn Clock>,
    /// Where tokens came from.
    pub tokens: TokenSource,
    /// The app's credentials, when known.
    pub credentials: Option<ClientCredentials>,
    /// The resolved API and OAuth base URLs (for login).
    pub api_base: Option<String>,
    /// The resolved OAuth base URL.
    pub oauth_base: Option<String>,
    /// The terminal.
    pub ui: Ui,
    /// `--units`.
    pub units: Option<Units>,
    /// The directories.
    pub paths: Paths,
    /// The embedded sandbox, kept running while the command runs.
    pub sandbox: Option<Sandbox>,
}

impl Ctx {
    /// Builds the context: starts the sandbox with `--sandbox`, otherwise resolves flags,
    /// then the environment (clap reads both), then the saved login.
    pub async fn new(global: &Global, ui: Ui) -> Result<Self> {
        let paths = Paths::resolve(global)?;
        if global.sandbox {
            return Self::sandbox(global, ui, paths).await;
        }
        let saved = paths.load_app()?;
        let credentials = match (global.client_id, &global.client_secret) {
            (Some(id), Some(secret)) => Some(ClientCredentials::new(id, secret.as_str())),
            (Some(_), None) | (None, Some(_)) => bail!(
                "the client id and secret go together: set both STRAVA_CLIENT_ID and \
                 STRAVA_CLIENT_SECRET (or --client-id and --client-secret)"
            ),
            (None, None) => saved
                .as_ref()
                .map(|app| ClientCredentials::new(app.client_id, app.client_secret.as_str())),
        };
        let api_base = global
            .api_base
            .clone()
            .or_else(|| saved.as_ref().and_then(|a| a.api_base.clone()));
        let oauth_base = global
            .oauth_base
            .clone()
            .or_else(|| saved.as_ref().and_then(|a| a.oauth_base.clone()));
        let mut builder = Client::builder()
            .rate_limit(RateLimitPolicy::RaiseOnLimit)
            .user_agent(concat!("strava-cli/", env!("CARGO_PKG_VERSION")));
        if let Some(base) = &api_base {
            builder = builder.base_url(base);
        }
        if let Some(base) = &oauth_base {
            builder = builder.oauth_base(base);
        }
        if let Some(credentials) = &credentials {
            builder = builder.credentials(credentials.clone());
        }
        let tokens = match (&global.access_token, &global.refresh_token) {
            (access, Some(refresh)) => {
                // Expiry unknown: with credentials the first request refreshes it.
                let expires_at = if access.is_some() && credentials.is_none() {
                    i64::MAX
                } else {
                    0
                };
                let access = access.clone().unwrap_or_default();
                builder = builder.tokens(TokenSet::new(access, refresh.as_str(), expires_at));
                TokenSource::Given
            }
            (Some(access), None) => {
                builder = builder.access_token(access.as_str());
                TokenSource::Given
            }
            (None, None) => {
                let store = paths.token_store();
                match store.load().await {
                    Ok(Some(saved_tokens)) => {
                        let scopes = saved_tokens.scopes.clone();
                        builder = builder.token_store(store);
                        TokenSource::Saved(scopes)
                    }
                    Ok(None) => TokenSource::None,
                    // Only commands that need it fail; `login` writes a new one.
                    Err(e) => TokenSource::Unreadable(e.to_string()),
                }
            }
        };
        let client = builder.build().context("cannot configure the client")?;
        Ok(Self {
            client,
            clock: Arc::new(SystemClock),
            tokens,
            credentials,
            api_base,
            oauth_base,
            ui,
            units: global.units,
            paths,
            sandbox: None,
        })
    }

    async fn sandbox(global: &Global, ui: Ui, paths: Paths) -> Result<Self> {
        let mut builder = Sandbox::builder()
            .seed(global.sandbox_seed)
            .activities_per_athlete(global.sandbox_activities);
        if let Some([a, b, c, d]) = global.sandbox_limits {
            builder = builder.rate_limits(a, b, c, d);
        }
        if let Some(start) = global.sandbox_start {
            builder = builder.start_time(start);
        }
        let sandbox = builder
            .start()
            .await
            .context("cannot start the embedded sandbox")?;
        let client = sandbox
            .client_builder()
            .rate_limit(sandbox.rate_limit_policy(RateLimitPolicy::RaiseOnLimit))
            .user_agent(concat!("strava-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot configure the sandbox client")?;
        ui.note(&format!(
            "sandbox: an offline Strava on {} (seed {})",
            sandbox.base_url(),
            sandbox.seed()
        ));
        Ok(Self {
            client,
            clock: Arc::new(sandbox.clock()),
            tokens: TokenSource::Sandbox,
            credentials: Some(sandbox.credentials()),
            api_base: Some(sandbox.api_base()),
            oauth_base: Some(sandbox.oauth_base()),
            ui,
            units: global.units,
            paths,
            sandbox: Some(sandbox),
        })
    }

    /// Fails with a hint to sign in when no tokens are configured.
    pub fn require_login(&self) -> Result<()> {
        match &self.tokens {
            TokenSource::Unreadable(why) => {
                bail!("cannot use the saved login: {why} (or run `strava login` again)")
            }
            TokenSource::None => bail!(
                "not signed in: run `strava login` (or set STRAVA_ACCESS_TOKEN; try \
                 `strava --sandbox …` to use the offline sandbox)"
            ),
            _ => Ok(()),
        }
    }

    /// The app's credentials, or an error saying how to set them.
    pub fn require_credentials(&self, what: &str) -> Result<&ClientCredentials> {
        self.credentials.as_ref().ok_or_else(|| {
            anyhow!(
                "{what} needs the app's client id and secret: set STRAVA_CLIENT_ID and \
                 STRAVA_CLIENT_SECRET (from https://www.strava.com/settings/api)"
            )
        })
    }
}
