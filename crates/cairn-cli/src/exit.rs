//! Exit codes, documented in README.md. Success is 0 and any other failure 1
//! ([`std::process::ExitCode::SUCCESS`] and [`std::process::ExitCode::FAILURE`]).

/// Some files could not be indexed; the others were.
pub const SOME_FAILED: u8 = 2;
/// No file could be indexed.
pub const NONE_INDEXED: u8 = 3;
/// Interrupted (Ctrl-C); what was written stays.
pub const CANCELLED: u8 = 130;
