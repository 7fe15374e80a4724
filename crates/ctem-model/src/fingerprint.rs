//! Finding fingerprints: a finding's identity across runs.
//!
//! Scheme `v1` hashes (SHA-256, first 128 bits in hex) these fields,
//! separated by a unit separator:
//!
//! 1. the tool, lowercased;
//! 2. the rule id;
//! 3. the asset key;
//! 4. the component's purl, or its name and version, where there is one;
//! 5. the normalized path (`file://` dropped, backslashes turned into
//!    slashes, a leading `./` dropped);
//! 6. the tool's own fingerprint where the report has one, otherwise the
//!    start line;
//! 7. the URL, the HTTP method and the parameter;
//! 8. the port and the protocol.
//!
//! Titles, descriptions, severities, scores and dates are never part of it:
//! tools reword them between versions and a fingerprint must not drift with
//! them. A component's version is part of it, so an upgrade that still has
//! the weakness is a new finding and the old one is fixed. A change of the
//! scheme bumps [`FINGERPRINT_VERSION`] and its prefix.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Finding;

/// The version of the fingerprint scheme, written as the prefix `v1:`.
pub const FINGERPRINT_VERSION: u32 = 1;

/// A finding's identity across runs, such as `v1:4f0c...` (32 hex digits).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// Computes the fingerprint of a finding with the current scheme.
    pub fn of(finding: &Finding) -> Fingerprint {
        let mut hasher = Sha256::new();
        let mut field = |value: &str| {
            hasher.update(value.as_bytes());
            hasher.update([0x1f]);
        };

        field(&finding.tool.to_ascii_lowercase());
        field(&finding.rule_id);
        field(finding.asset.as_str());

        match &finding.component {
            Some(component) => match &component.purl {
                Some(purl) => field(purl.as_str()),
                None => {
                    field(&component.name);
                    field(component.version.as_deref().unwrap_or(""));
                }
            },
            None => field(""),
        }

        let location = &finding.location;
        field(&normalize_path(location.path.as_deref().unwrap_or("")));
        match (&finding.tool_fingerprint, location.start_line) {
            (Some(tool_fingerprint), _) => field(tool_fingerprint),
            (None, Some(line)) => field(&line.to_string()),
            (None, None) => field(""),
        }
        field(location.url.as_deref().unwrap_or(""));
        field(&location.method.as_deref().unwrap_or("").to_ascii_uppercase());
        field(location.parameter.as_deref().unwrap_or(""));
        field(&location.port.map(|p| p.to_string()).unwrap_or_default());
        field(&location.protocol.as_deref().unwrap_or("").to_ascii_lowercase());

        let digest = hasher.finalize();
        Fingerprint(format!("v{FINGERPRINT_VERSION}:{}", hex::encode(&digest[..16])))
    }

    /// Wraps a fingerprint read back from storage.
    pub fn from_stored(text: String) -> Fingerprint {
        Fingerprint(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Normalizes a path so that the same file reported by two runs, or on two
/// operating systems, compares equal.
pub fn normalize_path(path: &str) -> String {
    let path = path.strip_prefix("file://").unwrap_or(path);
    let path = path.replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    path.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AssetKey, AssetKind, Component, FindingKind, Severity};

    fn sample() -> Finding {
        let mut finding = Finding::new(
            "trivy",
            "CVE-2021-44228",
            FindingKind::Vulnerability,
            "log4j-core: remote code execution",
            Severity::Critical,
            AssetKey::new(AssetKind::ContainerImage, "acme/shop:1.0"),
        );
        finding.component = Some(Component {
            name: "log4j-core".into(),
            version: Some("2.13.2".into()),
            ..Component::default()
        });
        finding
    }

    #[test]
    fn has_version_prefix() {
        let fingerprint = sample().fingerprint();
        assert!(fingerprint.as_str().starts_with("v1:"));
        assert_eq!(fingerprint.as_str().len(), 3 + 32);
    }

    #[test]
    fn ignores_drifting_fields() {
        let base = sample().fingerprint();
        let mut reworded = sample();
        reworded.title = "Apache Log4j2 JNDI features do not protect".into();
        reworded.description = Some("long text".into());
        reworded.severity = Severity::High;
        assert_eq!(reworded.fingerprint(), base);
    }

    #[test]
    fn changes_with_identity_fields() {
        let base = sample().fingerprint();
        let mut other_asset = sample();
        other_asset.asset = AssetKey::new(AssetKind::ContainerImage, "acme/shop:2.0");
        assert_ne!(other_asset.fingerprint(), base);

        let mut upgraded = sample();
        upgraded.component.as_mut().unwrap().version = Some("2.15.0".into());
        assert_ne!(upgraded.fingerprint(), base);

        let mut other_rule = sample();
        other_rule.rule_id = "CVE-2021-45046".into();
        assert_ne!(other_rule.fingerprint(), base);
    }

    #[test]
    fn tool_fingerprint_replaces_line() {
        let mut a = sample();
        a.location.start_line = Some(10);
        a.tool_fingerprint = Some("abc".into());
        let mut b = a.clone();
        b.location.start_line = Some(12);
        assert_eq!(a.fingerprint(), b.fingerprint());

        a.tool_fingerprint = None;
        b.tool_fingerprint = None;
        assert_ne!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn paths_normalize() {
        assert_eq!(normalize_path("file://src\\main.c"), "src/main.c");
        assert_eq!(normalize_path("./src/main.c"), "src/main.c");
    }
}
