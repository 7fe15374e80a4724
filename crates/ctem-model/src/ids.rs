//! Validated identifiers: CVE ids, other vulnerability ids, CWE ids and purls.

use std::fmt;
use std::str::FromStr;

use compact_str::CompactString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An identifier that failed validation, with the standard it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error(
        "invalid CVE id {value:?}: expected CVE-YYYY-NNNN with a year of four digits and at least four digits after it"
    )]
    Cve { value: String },
    #[error("invalid vulnerability id {value:?}: expected a non-empty id without whitespace")]
    Vulnerability { value: String },
    #[error("invalid CWE id {value:?}: expected CWE-N or a number")]
    Cwe { value: String },
    #[error("invalid package URL {value:?}: {reason}")]
    Purl { value: String, reason: String },
}

/// A CVE id such as `CVE-2021-44228`, stored in upper case.
///
/// The text is a `CompactString`, which stores an id of up to 24 bytes (a
/// number of up to 15 digits) inline. Cloning such an id allocates nothing,
/// and a hash map of EPSS scores compares ids without reading other memory.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CveId(CompactString);

impl CveId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The year part of the id.
    pub fn year(&self) -> u16 {
        self.0[4..8].parse().expect("validated at construction")
    }
}

impl FromStr for CveId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper: CompactString = s.trim().chars().map(|c| c.to_ascii_uppercase()).collect();
        let invalid = || IdError::Cve { value: s.to_string() };
        let rest = upper.strip_prefix("CVE-").ok_or_else(invalid)?;
        let (year, number) = rest.split_once('-').ok_or_else(invalid)?;
        let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || !all_digits(year) || number.len() < 4 || !all_digits(number) {
            return Err(invalid());
        }
        Ok(CveId(upper))
    }
}

impl fmt::Display for CveId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A vulnerability id from any database: a CVE, a GitHub advisory (GHSA), or
/// another namespace that tools report (OSV, RUSTSEC, PYSEC, ALAS, DSA,
/// vendor ids). CVE ids are always validated; other ids only need to be
/// non-empty without whitespace, because their namespaces have no common
/// syntax.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VulnerabilityId {
    Cve(CveId),
    Ghsa(String),
    Other(String),
}

impl VulnerabilityId {
    pub fn as_str(&self) -> &str {
        match self {
            VulnerabilityId::Cve(cve) => cve.as_str(),
            VulnerabilityId::Ghsa(id) | VulnerabilityId::Other(id) => id,
        }
    }

    pub fn as_cve(&self) -> Option<&CveId> {
        match self {
            VulnerabilityId::Cve(cve) => Some(cve),
            _ => None,
        }
    }
}

impl FromStr for VulnerabilityId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        if trimmed.is_empty() || trimmed.chars().any(char::is_whitespace) {
            return Err(IdError::Vulnerability { value: s.to_string() });
        }
        let upper = trimmed.to_ascii_uppercase();
        if upper.starts_with("CVE-") {
            return trimmed.parse().map(VulnerabilityId::Cve);
        }
        if upper.starts_with("GHSA-") {
            // GHSA ids are case-insensitive; GitHub prints them as GHSA-xxxx-xxxx-xxxx.
            let canonical = format!("GHSA-{}", trimmed[5..].to_ascii_lowercase());
            return Ok(VulnerabilityId::Ghsa(canonical));
        }
        Ok(VulnerabilityId::Other(trimmed.to_string()))
    }
}

impl fmt::Display for VulnerabilityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A CWE id, stored as its number (`CWE-79` is `Cwe(79)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cwe(pub u32);

impl FromStr for Cwe {
    type Err = IdError;

    /// Accepts `CWE-79`, `cwe-79`, `CWE:79` and `79`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        let upper = trimmed.to_ascii_uppercase();
        let digits = upper
            .strip_prefix("CWE-")
            .or_else(|| upper.strip_prefix("CWE:"))
            .unwrap_or(&upper);
        digits
            .parse()
            .map(Cwe)
            .map_err(|_| IdError::Cwe { value: s.to_string() })
    }
}

impl fmt::Display for Cwe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CWE-{}", self.0)
    }
}

/// A package URL (purl), validated by the `packageurl` crate and stored in
/// its canonical text form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Purl {
    canonical: String,
    ty: String,
    name: String,
    namespace: Option<String>,
    version: Option<String>,
}

impl Purl {
    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    /// The package type, such as `npm`, `maven` or `deb`.
    pub fn ty(&self) -> &str {
        &self.ty
    }

    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }
}

impl FromStr for Purl {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = packageurl::PackageUrl::from_str(s.trim()).map_err(|error| IdError::Purl {
            value: s.to_string(),
            reason: error.to_string(),
        })?;
        Ok(Purl {
            canonical: parsed.to_string(),
            ty: parsed.ty().to_string(),
            name: parsed.name().to_string(),
            namespace: parsed.namespace().map(str::to_string),
            version: parsed.version().map(str::to_string),
        })
    }
}

impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

/// Implements `Serialize` as the display string and `Deserialize` through
/// `FromStr`, so invalid ids are rejected when a stored record is read back.
macro_rules! string_serde {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

string_serde!(CveId);
string_serde!(VulnerabilityId);
string_serde!(Purl);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cve_normalizes_case() {
        let cve: CveId = " cve-2021-44228".parse().unwrap();
        assert_eq!(cve.as_str(), "CVE-2021-44228");
        assert_eq!(cve.year(), 2021);
    }

    #[test]
    fn cve_rejects_malformed() {
        for bad in [
            "CVE-21-44228",
            "CVE-2021-442",
            "CVE-2021-44228x",
            "2021-44228",
            "CVE-2021",
        ] {
            assert!(bad.parse::<CveId>().is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn vulnerability_id_kinds() {
        let cve: VulnerabilityId = "CVE-2018-7489".parse().unwrap();
        assert!(cve.as_cve().is_some());
        let ghsa: VulnerabilityId = "ghsa-4374-P667-p6c8".parse().unwrap();
        assert_eq!(ghsa, VulnerabilityId::Ghsa("GHSA-4374-p667-p6c8".into()));
        let other: VulnerabilityId = "SNYK-JAVA-COMFASTERXMLJACKSONCORE-32111".parse().unwrap();
        assert!(matches!(other, VulnerabilityId::Other(_)));
    }

    #[test]
    fn vulnerability_id_rejects_cve_lookalike() {
        assert!("CVE-XXXX-1".parse::<VulnerabilityId>().is_err());
        assert!("".parse::<VulnerabilityId>().is_err());
        assert!("two words".parse::<VulnerabilityId>().is_err());
    }

    #[test]
    fn cwe_forms() {
        assert_eq!("CWE-79".parse::<Cwe>().unwrap(), Cwe(79));
        assert_eq!("cwe:89".parse::<Cwe>().unwrap(), Cwe(89));
        assert_eq!("502".parse::<Cwe>().unwrap(), Cwe(502));
        assert!("CWE-abc".parse::<Cwe>().is_err());
    }

    #[test]
    fn purl_parts() {
        let purl: Purl = "pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2".parse().unwrap();
        assert_eq!(purl.ty(), "maven");
        assert_eq!(purl.namespace(), Some("org.apache.logging.log4j"));
        assert_eq!(purl.name(), "log4j-core");
        assert_eq!(purl.version(), Some("2.13.2"));
    }

    #[test]
    fn purl_rejects_missing_scheme() {
        let error = "npm/lodash@4.17.20".parse::<Purl>().unwrap_err();
        assert!(error.to_string().contains("npm/lodash@4.17.20"));
    }

    #[test]
    fn ids_round_trip_through_json() {
        let id: VulnerabilityId = "CVE-2021-44228".parse().unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"CVE-2021-44228\"");
        let back: VulnerabilityId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
        assert!(serde_json::from_str::<CveId>("\"CVE-1\"").is_err());
    }
}
