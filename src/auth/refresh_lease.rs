//! A held refresh lock: what a shared token store hands out so that one process at a time
//! refreshes an athlete's tokens.

use std::fmt;

use futures::future::BoxFuture;

/// A held refresh lock. [`release`](Self::release) it when the refresh is done (the new
/// tokens saved); dropping it releases it too, on a spawned task. A lock never released
/// (its process died) expires by itself.
#[must_use = "the lock is released when the lease is dropped"]
pub struct RefreshLease {
    release: Option<Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send + Sync>>,
}

impl RefreshLease {
    /// A lease whose release runs `release` (once).
    pub fn new(release: impl FnOnce() -> BoxFuture<'static, ()> + Send + Sync + 'static) -> Self {
        Self {
            release: Some(Box::new(release)),
        }
    }

    /// Releases the lock and waits until it is released.
    pub async fn release(mut self) {
        if let Some(release) = self.release.take() {
            release().await;
        }
    }

    /// Forgets the lock without releasing it: it stays held until it expires (what
    /// happens when a process dies while holding it; for tests).
    pub fn abandon(mut self) {
        self.release = None;
    }
}

impl Drop for RefreshLease {
    fn drop(&mut self) {
        if let Some(release) = self.release.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(release());
        }
    }
}

impl fmt::Debug for RefreshLease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshLease")
            .field("held", &self.release.is_some())
            .finish()
    }
}
