//! Helpers for tests of the crates that use providers: a provider's HTTP API on loopback
//! ([`server::WireServer`]) that speaks both wire formats and misbehaves on command. Built only
//! with the `test-support` feature, which only dev-dependencies turn on.

pub mod server;
