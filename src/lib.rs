//! stravalib: a typed client for the Strava API v3.

pub mod api_v3;
pub mod error;
pub mod generated;
pub mod id;
pub mod params;
pub mod rate_limit;

pub use error::{Error, ErrorKind, Result};
pub use generated::types;
pub use id::Id;
