use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A secret that a scanner found, as ctem keeps it: a masked form for people
/// and a SHA-256 digest to match the same secret across reports. The clear
/// value never leaves the parser that read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaskedSecret {
    /// The first four characters of secrets of 16 characters or more (and none of
    /// shorter ones), followed by asterisks.
    pub masked: String,
    /// Lowercase hex SHA-256 of the clear value.
    pub sha256: String,
}

impl MaskedSecret {
    /// Masks and hashes a clear secret.
    pub fn new(clear: &str) -> MaskedSecret {
        let shown = if clear.chars().count() >= 16 { 4 } else { 0 };
        let prefix: String = clear.chars().take(shown).collect();
        MaskedSecret {
            masked: format!("{prefix}********"),
            sha256: hex::encode(Sha256::digest(clear.as_bytes())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_secret_keeps_prefix() {
        let secret = MaskedSecret::new("AKIAIOSFODNN7EXAMPLE");
        assert_eq!(secret.masked, "AKIA********");
        assert!(!secret.masked.contains("EXAMPLE"));
        assert_eq!(secret.sha256.len(), 64);
    }

    #[test]
    fn short_secret_shows_nothing() {
        assert_eq!(MaskedSecret::new("hunter2").masked, "********");
    }

    #[test]
    fn same_secret_same_digest() {
        assert_eq!(MaskedSecret::new("abc").sha256, MaskedSecret::new("abc").sha256);
        assert_ne!(MaskedSecret::new("abc").sha256, MaskedSecret::new("abd").sha256);
    }
}
