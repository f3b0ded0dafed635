//! Secrets in the OS keychain: Keychain on macOS, Credential Manager on Windows, the Secret Service
//! on Linux.
//!
//! This is the only crate that touches the OS keychain. Credentials live apart from the crate that
//! sends them (`cairn-providers`, with its HTTP client) so that a shell can store, check and remove
//! keys, and the local API can keep its token, without depending on the HTTP client. An [`ApiKey`]
//! never prints itself and is wiped from memory when dropped; a [`Keychain`] files secrets under
//! one service name, an entry per account.
//!
//! ```no_run
//! use cairn_keychain::{ApiKey, Keychain};
//!
//! // `Keychain::default()` is Cairn's own service; an example keeps to one of its own.
//! let keychain = Keychain::new("cairn-example");
//! let key = ApiKey::new("sk-example\n").expect("not empty");
//! keychain.set("openai", &key)?;
//! assert_eq!(keychain.get("openai")?, Some(key.clone()));
//! assert_eq!(key.expose(), "sk-example"); // trimmed
//! println!("{key}"); // prints ***
//! keychain.remove("openai")?;
//! # Ok::<(), cairn_keychain::KeychainError>(())
//! ```
#![deny(missing_docs)]

mod error;
mod keys;

pub use error::KeychainError;
pub use keys::{ApiKey, Keychain, SERVICE};
