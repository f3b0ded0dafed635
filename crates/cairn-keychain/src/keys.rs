//! API keys, kept in the OS keychain (Keychain on macOS, Credential Manager on Windows, the Secret
//! Service on Linux) and nowhere else: never in a file Cairn writes, never in a log or trace.

use std::fmt;

use zeroize::Zeroizing;

use crate::error::KeychainError;

/// The keychain service Cairn's keys are filed under; the account is the provider's name.
pub const SERVICE: &str = "cairn";

/// A secret. Its `Debug` and `Display` show `***`; its memory is wiped when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(Zeroizing<String>);

impl ApiKey {
    /// A key from its text, trimmed (a key pasted with its newline still works). Empty text is no
    /// key.
    pub fn new(text: &str) -> Option<ApiKey> {
        let text = text.trim();
        (!text.is_empty()).then(|| ApiKey(Zeroizing::new(text.to_string())))
    }

    /// The secret, for the places that need it: a request's header, or the local API's check of
    /// one.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The OS keychain, under one service name: an entry per account (a provider's name, or the local
/// API's token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keychain {
    service: String,
}

impl Default for Keychain {
    fn default() -> Self {
        Keychain::new(SERVICE)
    }
}

fn keychain_error(e: keyring::Error) -> KeychainError {
    KeychainError::Unavailable(e.to_string())
}

impl Keychain {
    /// The keychain entries of `service` (tests use their own).
    pub fn new(service: &str) -> Keychain {
        Keychain {
            service: service.to_string(),
        }
    }

    fn entry(&self, provider: &str) -> Result<keyring::Entry, KeychainError> {
        keyring::Entry::new(&self.service, provider).map_err(keychain_error)
    }

    /// Stores `provider`'s key, replacing any earlier one.
    pub fn set(&self, provider: &str, key: &ApiKey) -> Result<(), KeychainError> {
        self.entry(provider)?
            .set_password(key.expose())
            .map_err(keychain_error)
    }

    /// `provider`'s key, if the keychain holds one.
    pub fn get(&self, provider: &str) -> Result<Option<ApiKey>, KeychainError> {
        match self.entry(provider)?.get_password() {
            Ok(text) => Ok(ApiKey::new(&Zeroizing::new(text))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keychain_error(e)),
        }
    }

    /// Whether the keychain holds a key for `provider` (the key itself is dropped at once).
    pub fn has(&self, provider: &str) -> Result<bool, KeychainError> {
        Ok(self.get(provider)?.is_some())
    }

    /// Removes `provider`'s key; false if there was none.
    pub fn remove(&self, provider: &str) -> Result<bool, KeychainError> {
        match self.entry(provider)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(keychain_error(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_never_shows_itself() {
        let key = ApiKey::new("  sk-live-secret-value\n").unwrap();
        assert_eq!(format!("{key:?}"), "ApiKey(***)");
        assert_eq!(format!("{key}"), "***");
        assert_eq!(format!("{:?}", Some(&key)), "Some(ApiKey(***))");
        assert_eq!(key.expose(), "sk-live-secret-value");
        assert!(ApiKey::new(" \n").is_none());
    }
}
