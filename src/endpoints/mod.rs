//! What the generated [operations](crate::operations) cannot say on their own, written by
//! hand on the same builders: cursor paging of comments, the athlete's weight as one
//! argument, route streams keyed like the others. Every call still goes through the
//! generated builder and the one pipeline.
//!
//! Each area has its module: [`activities`], [`athlete`], [`streams`].

pub mod activities;
pub mod athlete;
pub mod streams;
