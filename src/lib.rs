//! stravalib: a typed client for the Strava API v3.

pub mod api_v3;
pub mod generated;
pub mod params;

pub use generated::types;
