//! Where token sets live between runs: the [`TokenStore`] trait, an in-memory store and a
//! JSON file store with atomic replacement.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use tokio::io::AsyncReadExt as _;

use super::TokenSet;
use crate::error::{Error, ErrorKind, Result};

/// Keeps an athlete's [`TokenSet`] between uses.
///
/// Object-safe (`Arc<dyn TokenStore>` works) and async through [`BoxFuture`]. A client
/// that refreshes tokens saves the new set here *before* using it, because Strava may
/// rotate the refresh token and the old one stops working once the new one is used.
///
/// Implement it for your own storage (a database, a keyring):
///
/// ```
/// use futures::future::BoxFuture;
/// use stravalib::auth::{TokenSet, TokenStore};
///
/// #[derive(Debug)]
/// struct Nowhere;
///
/// impl TokenStore for Nowhere {
///     fn load(&self) -> BoxFuture<'_, stravalib::Result<Option<TokenSet>>> {
///         Box::pin(async { Ok(None) })
///     }
///     fn save<'a>(&'a self, _tokens: &'a TokenSet) -> BoxFuture<'a, stravalib::Result<()>> {
///         Box::pin(async { Ok(()) })
///     }
/// }
/// ```
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The stored token set; `Ok(None)` when nothing has been stored yet.
    fn load(&self) -> BoxFuture<'_, Result<Option<TokenSet>>>;

    /// Stores `tokens`, replacing what was there.
    fn save<'a>(&'a self, tokens: &'a TokenSet) -> BoxFuture<'a, Result<()>>;

    /// Before a refresh: takes a lock that keeps other processes sharing this store from
    /// refreshing the same tokens at once, waiting (bounded) while another holds it.
    /// `Ok(None)`, the default, for stores no other process shares. While the client holds
    /// the lock it reads the store again (another process may have refreshed), refreshes
    /// only if still needed, and saves the new set before releasing it.
    fn lock_refresh(&self) -> BoxFuture<'_, Result<Option<super::refresh_lease::RefreshLease>>> {
        Box::pin(async { Ok(None) })
    }
}

impl<T: TokenStore + ?Sized> TokenStore for Arc<T> {
    fn load(&self) -> BoxFuture<'_, Result<Option<TokenSet>>> {
        (**self).load()
    }

    fn save<'a>(&'a self, tokens: &'a TokenSet) -> BoxFuture<'a, Result<()>> {
        (**self).save(tokens)
    }

    fn lock_refresh(&self) -> BoxFuture<'_, Result<Option<super::refresh_lease::RefreshLease>>> {
        (**self).lock_refresh()
    }
}

impl<T: TokenStore + ?Sized> TokenStore for Box<T> {
    fn load(&self) -> BoxFuture<'_, Result<Option<TokenSet>>> {
        (**self).load()
    }

    fn save<'a>(&'a self, tokens: &'a TokenSet) -> BoxFuture<'a, Result<()>> {
        (**self).save(tokens)
    }

    fn lock_refresh(&self) -> BoxFuture<'_, Result<Option<super::refresh_lease::RefreshLease>>> {
        (**self).lock_refresh()
    }
}

/// A store in process memory; clones share the same slot. Tokens are lost on exit.
#[derive(Clone, Debug, Default)]
pub struct MemoryTokenStore {
    slot: Arc<Mutex<Option<TokenSet>>>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding `tokens`.
    pub fn with_tokens(tokens: TokenSet) -> Self {
        Self {
            slot: Arc::new(Mutex::new(Some(tokens))),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<TokenSet>> {
        // A panic while holding the lock cannot leave a half-written TokenSet.
        self.slot
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl TokenStore for MemoryTokenStore {
    fn load(&self) -> BoxFuture<'_, Result<Option<TokenSet>>> {
        let tokens = self.lock().clone();
        Box::pin(async move { Ok(tokens) })
    }

    fn save<'a>(&'a self, tokens: &'a TokenSet) -> BoxFuture<'a, Result<()>> {
        *self.lock() = Some(tokens.clone());
        Box::pin(async { Ok(()) })
    }
}

/// A JSON file holding one [`TokenSet`].
///
/// Saving writes a temporary file in the same directory (created with `0600` permissions
/// on Unix before any secret is written), flushes it to disk, and renames it over the
/// target: readers see the old file or the new one, never a partial one, and a crash
/// mid-save leaves the old file intact. The directory must exist. File work runs on
/// Tokio's blocking pool. Errors have kind [`ErrorKind::TokenStore`] and name the path,
/// never the contents.
///
/// On Unix, loading refuses a file its group or other users have any access to (mode
/// bits `0o077`, such as a `0644` file written by hand or copied around): the error names
/// the path and the fix, `chmod 600 <path>`. A save always leaves a `0600` file. Opt out
/// with [`allow_loose_permissions`](Self::allow_loose_permissions) when the file is
/// meant to be shared (for example by a group of service accounts). On other platforms no
/// permission check is made: protect the file with the platform's own means (ACLs).
#[derive(Clone, Debug)]
pub struct FileTokenStore {
    path: PathBuf,
    /// Load a file others may read or write (no permission check on load).
    allow_loose_permissions: bool,
    /// Serializes saves from this store (and its clones) so the last save wins.
    save_lock: Arc<tokio::sync::Mutex<()>>,
}

impl FileTokenStore {
    /// A store at `path` (the file need not exist yet; its directory must).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            allow_loose_permissions: false,
            save_lock: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// `true` loads the file even when its group or other users may access it (see the
    /// [type docs](Self)); `false`, the default, refuses such a file on Unix. Has no effect
    /// on other platforms, where no check is made.
    pub fn allow_loose_permissions(mut self, allow: bool) -> Self {
        self.allow_loose_permissions = allow;
        self
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn load_file(&self) -> Result<Option<TokenSet>> {
        let read_error = |e: std::io::Error| {
            store_error(
                format!("could not read the token file {}: {e}", self.path.display()),
                Some(e),
            )
        };
        let mut file = match tokio::fs::File::open(&self.path).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(read_error(e)),
        };
        // The mode of the file opened, not of whatever is at the path by now.
        if !self.allow_loose_permissions {
            self.check_permissions(&file.metadata().await.map_err(read_error)?)?;
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).await.map_err(read_error)?;
        match serde_json::from_slice::<TokenSet>(&bytes) {
            Ok(tokens) => Ok(Some(tokens)),
            // serde's message may quote the file's contents: report only where it failed.
            Err(e) => Err(store_error(
                format!(
                    "the token file {} is not a valid token set ({} error at line {} column {})",
                    self.path.display(),
                    match e.classify() {
                        serde_json::error::Category::Io => "I/O",
                        serde_json::error::Category::Syntax => "JSON syntax",
                        serde_json::error::Category::Data => "unexpected data",
                        serde_json::error::Category::Eof => "truncated JSON",
                    },
                    e.line(),
                    e.column()
                ),
                None,
            )),
        }
    }

    /// Unix: refuses a regular file its group or other users have any access to.
    #[cfg(unix)]
    fn check_permissions(&self, metadata: &std::fs::Metadata) -> Result<()> {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = metadata.permissions().mode() & 0o777;
        // Anything else (a directory...) fails when read, with its own error.
        if !metadata.is_file() || mode & 0o077 == 0 {
            return Ok(());
        }
        let path = self.path.display();
        Err(store_error(
            format!(
                "the token file {path} is accessible to other users (mode {mode:03o}): refusing \
                 to load it; restrict it with `chmod 600 {path}` (or opt out with \
                 FileTokenStore::allow_loose_permissions(true))"
            ),
            None,
        ))
    }

    /// Other platforms: no permission check (see the type docs).
    #[cfg(not(unix))]
    fn check_permissions(&self, _metadata: &std::fs::Metadata) -> Result<()> {
        Ok(())
    }

    async fn save_file(&self, tokens: &TokenSet) -> Result<()> {
        let json = serde_json::to_vec_pretty(tokens).map_err(|_| {
            store_error(
                format!("could not serialize tokens for {}", self.path.display()),
                None,
            )
        })?;
        let _guard = self.save_lock.lock().await;
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || write_atomically(&path, &json))
            .await
            .map_err(|e| {
                store_error(
                    format!(
                        "saving the token file {} was interrupted: {e}",
                        self.path.display()
                    ),
                    None,
                )
            })?
    }
}

impl TokenStore for FileTokenStore {
    fn load(&self) -> BoxFuture<'_, Result<Option<TokenSet>>> {
        Box::pin(self.load_file())
    }

    fn save<'a>(&'a self, tokens: &'a TokenSet) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.save_file(tokens))
    }
}

fn store_error(message: String, source: Option<std::io::Error>) -> Error {
    let err = Error::new(ErrorKind::TokenStore, message);
    match source {
        Some(source) => err.with_source(source),
        None => err,
    }
}

/// Blocking: temp file (0600) → write → fsync → rename over `path` → fsync the directory.
fn write_atomically(path: &Path, contents: &[u8]) -> Result<()> {
    let fail = |what: &str, e: std::io::Error| {
        store_error(
            format!("could not save tokens to {}: {what}: {e}", path.display()),
            Some(e),
        )
    };
    let file_name = path.file_name().ok_or_else(|| {
        store_error(
            format!("the token file path {} has no file name", path.display()),
            None,
        )
    })?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).expect("random bytes from the operating system");
    let suffix = u64::from_ne_bytes(random);
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(file_name);
    temp_name.push(format!(".{suffix:016x}.tmp"));
    let temp = dir.join(temp_name);

    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(&temp)
        .map_err(|e| fail("creating a temporary file", e))?;

    let result = (|| {
        // The umask may have narrowed the mode; make it exactly 0600 before writing.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|e| fail("setting permissions", e))?;
        }
        file.write_all(contents)
            .map_err(|e| fail("writing the temporary file", e))?;
        file.sync_all()
            .map_err(|e| fail("flushing the temporary file", e))?;
        drop(file);
        std::fs::rename(&temp, path).map_err(|e| fail("replacing the file", e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
        return result;
    }
    // Make the rename itself durable; failing here does not undo a completed save.
    #[cfg(unix)]
    if let Ok(dir) = std::fs::File::open(&dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}
