//! Test helpers for this crate and the crates above it (feature `test-support`).

pub mod fixture;
pub mod server;
