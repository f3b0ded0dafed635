//! Why the keychain could not be used.

/// A keychain operation that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeychainError {
    /// The OS keychain refused or failed the operation (on Linux, often: no Secret Service is
    /// running, or it is locked); the text is the platform's own account of why.
    #[error("the keychain could not be used: {0}")]
    Unavailable(String),
}

impl KeychainError {
    /// A stable, machine-readable identifier.
    pub fn code(&self) -> &'static str {
        match self {
            KeychainError::Unavailable(_) => "keychain",
        }
    }
}
