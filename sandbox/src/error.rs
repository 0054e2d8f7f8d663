//! Why a sandbox could not start.

/// Why [`SandboxBuilder::start`](crate::SandboxBuilder::start) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting the sandbox cannot run with (no athletes, more than 10⁹ activities, a
    /// zero rate limit).
    #[error("sandbox: {0}")]
    InvalidSetting(&'static str),
    /// The port could not be bound on `127.0.0.1`.
    #[error("sandbox: cannot listen on 127.0.0.1:{port}: {source}")]
    Listen {
        /// The port asked for (0: any).
        port: u16,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The bound socket has no local address.
    #[error("sandbox: no local address: {0}")]
    LocalAddr(#[source] std::io::Error),
    /// The HTTP client that delivers webhook events could not be built.
    #[error("sandbox: {0}")]
    Http(#[source] reqwest::Error),
}

/// A result whose error is the sandbox's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
