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
//!
//! A fingerprint names one tool's report of a weakness. Two tools that
//! report the same weakness give two fingerprints, and the store merges
//! them into one finding through their [`MergeKey`], which leaves the tool
//! out where the weakness has a tool-independent name:
//!
//! - a vulnerability with a CVE id (or, without one, a GHSA id) merges by
//!   that id, the asset and the component: its package name without
//!   namespace or group, and its version. Trivy and Grype reports of one CVE
//!   in one package of one image are one finding. So are Nessus and Nuclei
//!   reports of one CVE on one host;
//! - a secret merges by the hash of the secret, the asset and the path, so
//!   Gitleaks and TruffleHog reports of one key in one file are one finding;
//! - anything else keeps the fingerprint's fields, so two findings merge only
//!   when one tool reported them twice. Two URLs of one DAST rule stay two
//!   findings.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Component, Finding, VulnerabilityId};

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

    /// Computes the identity of a code finding without its line, for findings that
    /// carry a line and no tool fingerprint: two reports with the same
    /// drift key and nearby lines may be one finding whose code moved.
    /// `None` for findings whose fingerprint does not hold a line.
    pub fn drift_key(finding: &Finding) -> Option<String> {
        let location = &finding.location;
        if finding.tool_fingerprint.is_some() || location.start_line.is_none() || location.url.is_some() {
            return None;
        }
        let mut hasher = Sha256::new();
        let component = finding.component.as_ref().map(component_identity).unwrap_or_default();
        for field in [
            finding.tool.to_ascii_lowercase().as_str(),
            &finding.rule_id,
            finding.asset.as_str(),
            &component,
            &normalize_path(location.path.as_deref().unwrap_or("")),
        ] {
            hasher.update(field.as_bytes());
            hasher.update([0x1f]);
        }
        Some(hex::encode(&hasher.finalize()[..12]))
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

/// The version of the merge key scheme, written as the prefix `m1:`.
pub const MERGE_KEY_VERSION: u32 = 1;

/// The fields that made two reports one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeRule {
    /// The vulnerability id, the asset and the component.
    Vulnerability,
    /// The secret's hash, the asset and the path.
    Secret,
    /// Every field of the fingerprint (the same tool reported it).
    Fingerprint,
}

impl MergeRule {
    pub fn as_str(self) -> &'static str {
        match self {
            MergeRule::Vulnerability => "vulnerability",
            MergeRule::Secret => "secret",
            MergeRule::Fingerprint => "fingerprint",
        }
    }
}

/// The identity under which the store merges reports of one weakness from
/// several tools (see the module documentation), such as `m1:9b1e...`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MergeKey {
    value: String,
    rule: MergeRule,
    /// The values that were compared, for people: `CVE-2021-44228 in
    /// pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1 on image:shop`.
    basis: String,
}

impl MergeKey {
    /// Computes the merge key of a finding with the current scheme.
    pub fn of(finding: &Finding) -> MergeKey {
        let asset = finding.asset.as_str();
        if finding.kind == crate::FindingKind::Vulnerability
            && let Some(id) = primary_vulnerability_id(finding)
        {
            let component = finding.component.as_ref().map(component_identity).unwrap_or_default();
            let basis = if component.is_empty() {
                format!("{id} on {asset}")
            } else {
                format!("{id} in {component} on {asset}")
            };
            return MergeKey::build(
                MergeRule::Vulnerability,
                &["vulnerability", &id, asset, &component],
                basis,
            );
        }
        if let Some(secret) = &finding.secret {
            let path = normalize_path(finding.location.path.as_deref().unwrap_or(""));
            let basis = format!("secret {} in {path} on {asset}", secret.masked);
            return MergeKey::build(MergeRule::Secret, &["secret", &secret.sha256, asset, &path], basis);
        }
        let fingerprint = Fingerprint::of(finding);
        let basis = format!("fingerprint {fingerprint}");
        MergeKey::build(MergeRule::Fingerprint, &["fingerprint", fingerprint.as_str()], basis)
    }

    fn build(rule: MergeRule, fields: &[&str], basis: String) -> MergeKey {
        let mut hasher = Sha256::new();
        for field in fields {
            hasher.update(field.as_bytes());
            hasher.update([0x1f]);
        }
        let digest = hasher.finalize();
        MergeKey {
            value: format!("m{MERGE_KEY_VERSION}:{}", hex::encode(&digest[..16])),
            rule,
            basis,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    pub fn rule(&self) -> MergeRule {
        self.rule
    }

    /// Returns the compared values, for people.
    pub fn basis(&self) -> &str {
        &self.basis
    }
}

impl fmt::Display for MergeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// Returns the id that names a vulnerability across tools: the first CVE id in
/// text order among the rule id and the vulnerability ids, else the first
/// GHSA id. Other ids (vendor advisories, plugin ids) name it only within
/// one tool.
pub fn primary_vulnerability_id(finding: &Finding) -> Option<String> {
    let rule: Option<VulnerabilityId> = finding.rule_id.parse().ok();
    let ids = || rule.iter().chain(finding.vulnerability_ids.iter());
    let cve = ids()
        .filter_map(|id| match id {
            VulnerabilityId::Cve(cve) => Some(cve.as_str()),
            _ => None,
        })
        .min();
    if let Some(cve) = cve {
        return Some(cve.to_string());
    }
    ids()
        .filter_map(|id| match id {
            VulnerabilityId::Ghsa(ghsa) => Some(ghsa.as_str()),
            _ => None,
        })
        .min()
        .map(str::to_string)
}

/// A component as tools agree on it: its package name without namespace or
/// group, and its version, in lowercase. Tools spell the rest differently.
/// Trivy names a Maven package `org.apache.commons:commons-compress`, and
/// older Trivy reports carry no purl. Grype gives
/// `pkg:maven/org.apache.commons/commons-compress@1.21`. Purl qualifiers
/// (`arch`, `distro`) and subpaths vary between tools too. Within one
/// vulnerability on one asset the short name and version are enough to
/// tell packages apart.
pub fn component_identity(component: &Component) -> String {
    let (name, version) = match &component.purl {
        Some(purl) => (purl.name(), purl.version().or(component.version.as_deref())),
        None => (component.name.as_str(), component.version.as_deref()),
    };
    // `group:artifact` (Maven in Trivy), `@scope/name` and `namespace/name`.
    let short = name.rsplit([':', '/']).next().unwrap_or(name);
    match version {
        Some(version) => format!("{short}@{version}").to_lowercase(),
        None => short.to_lowercase(),
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
    use crate::{AssetKey, AssetKind, Component, FindingKind, MaskedSecret, Severity};

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
    fn merge_key_leaves_the_tool_out_of_vulnerabilities() {
        let mut trivy = sample();
        trivy.component.as_mut().unwrap().purl = Some(
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2?type=jar"
                .parse()
                .unwrap(),
        );
        let mut grype = trivy.clone();
        grype.tool = "grype".into();
        grype.rule_id = "GHSA-jfh8-c2jp-5v3q".into();
        grype.vulnerability_ids = vec!["CVE-2021-44228".parse().unwrap()];
        grype.component.as_mut().unwrap().purl =
            Some("pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2".parse().unwrap());
        let key = MergeKey::of(&trivy);
        assert_eq!(key, MergeKey::of(&grype));
        assert_eq!(key.rule(), MergeRule::Vulnerability);
        assert!(key.as_str().starts_with("m1:"), "{key}");
        assert!(key.basis().contains("CVE-2021-44228"), "{}", key.basis());
        assert_ne!(trivy.fingerprint(), grype.fingerprint());

        let mut other_image = grype.clone();
        other_image.asset = AssetKey::new(AssetKind::ContainerImage, "acme/shop:2.0");
        assert_ne!(MergeKey::of(&other_image), key);
        let mut other_version = grype.clone();
        other_version.component.as_mut().unwrap().purl =
            Some("pkg:maven/org.apache.logging.log4j/log4j-core@2.15.0".parse().unwrap());
        assert_ne!(MergeKey::of(&other_version), key);
    }

    #[test]
    fn merge_key_matches_components_without_purls() {
        let mut trivy = sample();
        trivy.component = Some(Component {
            name: "org.apache.commons:commons-compress".into(),
            version: Some("1.21".into()),
            ..Component::default()
        });
        let mut grype = trivy.clone();
        grype.tool = "grype".into();
        grype.component = Some(Component {
            name: "commons-compress".into(),
            version: Some("1.21".into()),
            purl: Some("pkg:maven/org.apache.commons/commons-compress@1.21".parse().unwrap()),
            ecosystem: Some("java-archive".into()),
        });
        assert_eq!(MergeKey::of(&trivy), MergeKey::of(&grype));
        grype.component.as_mut().unwrap().purl =
            Some("pkg:maven/org.apache.commons/commons-compress@1.22".parse().unwrap());
        assert_ne!(MergeKey::of(&trivy), MergeKey::of(&grype));

        let alpine = Component {
            name: "freetype".into(),
            version: Some("2.9.1-r2".into()),
            ..Component::default()
        };
        let alpine_purl = Component {
            purl: Some("pkg:apk/alpine/freetype@2.9.1-r2?arch=x86_64".parse().unwrap()),
            ..alpine.clone()
        };
        assert_eq!(component_identity(&alpine), component_identity(&alpine_purl));
        assert_eq!(component_identity(&alpine), "freetype@2.9.1-r2");
    }

    #[test]
    fn merge_key_of_other_kinds_is_the_fingerprint() {
        let mut first = Finding::new(
            "zap",
            "40012",
            FindingKind::WebWeakness,
            "Cross Site Scripting (Reflected)",
            Severity::High,
            AssetKey::new(AssetKind::WebApp, "https://shop.example"),
        );
        first.location.url = Some("https://shop.example/search".into());
        let mut second = first.clone();
        second.location.url = Some("https://shop.example/login".into());
        assert_eq!(MergeKey::of(&first).rule(), MergeRule::Fingerprint);
        assert_ne!(MergeKey::of(&first), MergeKey::of(&second));
        let mut reworded = first.clone();
        reworded.title = "XSS".into();
        assert_eq!(MergeKey::of(&first), MergeKey::of(&reworded));
    }

    #[test]
    fn merge_key_of_secrets_uses_the_hash() {
        let secret = MaskedSecret::new("AKIAIOSFODNN7EXAMPLE");
        let mut gitleaks = Finding::new(
            "gitleaks",
            "aws-access-token",
            FindingKind::Secret,
            "AWS key",
            Severity::High,
            AssetKey::new(AssetKind::Repository, "github.com/acme/shop"),
        );
        gitleaks.secret = Some(secret);
        gitleaks.location.path = Some("./config/app.env".into());
        let mut trufflehog = gitleaks.clone();
        trufflehog.tool = "trufflehog".into();
        trufflehog.rule_id = "AWS".into();
        trufflehog.location.path = Some("config/app.env".into());
        assert_eq!(MergeKey::of(&gitleaks), MergeKey::of(&trufflehog));
        assert_eq!(MergeKey::of(&gitleaks).rule(), MergeRule::Secret);
    }

    #[test]
    fn primary_id_prefers_a_cve() {
        let mut finding = sample();
        finding.rule_id = "GHSA-jfh8-c2jp-5v3q".into();
        assert_eq!(
            primary_vulnerability_id(&finding).as_deref(),
            Some("GHSA-jfh8-c2jp-5v3q")
        );
        finding.vulnerability_ids = vec!["CVE-2021-45046".parse().unwrap(), "CVE-2021-44228".parse().unwrap()];
        assert_eq!(primary_vulnerability_id(&finding).as_deref(), Some("CVE-2021-44228"));
        finding.rule_id = "19506".into();
        finding.vulnerability_ids.clear();
        assert_eq!(primary_vulnerability_id(&finding), None);
    }

    #[test]
    fn drift_key_leaves_the_line_out() {
        let mut a = sample();
        a.location.path = Some("src/app.py".into());
        a.location.start_line = Some(10);
        let mut b = a.clone();
        b.location.start_line = Some(14);
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(Fingerprint::drift_key(&a), Fingerprint::drift_key(&b));
        assert!(Fingerprint::drift_key(&a).is_some());
        b.location.path = Some("src/other.py".into());
        assert_ne!(Fingerprint::drift_key(&a), Fingerprint::drift_key(&b));
        a.tool_fingerprint = Some("abc".into());
        assert_eq!(Fingerprint::drift_key(&a), None);
    }

    #[test]
    fn paths_normalize() {
        assert_eq!(normalize_path("file://src\\main.c"), "src/main.c");
        assert_eq!(normalize_path("./src/main.c"), "src/main.c");
    }
}
