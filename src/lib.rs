//! stravalib: a typed client for the Strava API v3.

pub mod api_v3;
pub mod auth;
pub mod client;
pub mod error;
pub mod generated;
pub mod id;
pub mod params;
pub mod rate_limit;

pub use api_v3::{ApiV3, BASE_URL, OAUTH_BASE_URL, UPCOMING_BASE_URL};
pub use client::{Client, ClientBuilder};
pub use error::{Error, ErrorKind, Result};
pub use generated::types;
pub use id::Id;
