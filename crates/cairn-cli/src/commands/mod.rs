//! The commands, one module per group. Each function runs one command (or the subcommands of
//! one) and returns its exit code; an error is printed by `main` and exits with 1.

pub mod ask;
pub mod audit;
pub mod cache;
pub mod feedback;
pub mod guard;
pub mod insight;
pub mod keys;
pub mod library;
pub mod mcp;
pub mod models;
pub mod prompts;
pub mod review;
pub mod search;
pub mod serve;
pub mod watch;
