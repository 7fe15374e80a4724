//! VEX statements: what a supplier states about a vulnerability in its
//! products (Vulnerability Exploitability eXchange).
//!
//! A [`VexStatement`] comes from an OpenVEX, CSAF or CycloneDX VEX
//! document. It names one vulnerability, the products it speaks about and
//! their [`VexStatus`], with the justification and the document it came
//! from. It is validated when it is built: it always names at least one
//! product, every CPE and name in it is well formed, and its timestamp is
//! RFC 3339.
//!
//! ```
//! use ctem_model::{ProductId, VexProduct, VexSource, VexStatement, VexStatus};
//!
//! let purl = "pkg:maven/org.example/app@1.2.0".parse().unwrap();
//! let product = VexProduct::new(ProductId::Purl { purl });
//! let source = VexSource::new("openvex-json", "vex/app.json");
//! let statement = VexStatement::new("CVE-2021-44228".parse().unwrap(), VexStatus::NotAffected, vec![product], source)
//!     .unwrap()
//!     .with_justification("vulnerable_code_not_in_execute_path")
//!     .with_timestamp("2024-05-01T10:00:00Z")
//!     .unwrap();
//! assert_eq!(statement.status().as_str(), "not_affected");
//! assert_eq!(statement.products().len(), 1);
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Purl, SourceStatus, VulnerabilityId};

/// A VEX statement or one of its parts that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VexError {
    #[error("a VEX statement about {vulnerability} names no product: expected at least one product")]
    NoProducts { vulnerability: String },
    #[error("invalid VEX product: {reason}")]
    Product { reason: String },
    #[error(
        "invalid CPE {value:?}: expected cpe:2.3:part:vendor:product:version... or cpe:/part:vendor:product:version"
    )]
    Cpe { value: String },
    #[error("invalid VEX timestamp {value:?}: expected an RFC 3339 date and time such as 2024-05-01T10:00:00Z")]
    Timestamp { value: String },
    #[error("unknown VEX status {value:?}: expected not_affected, affected, fixed or under_investigation")]
    Status { value: String },
}

/// The status that a VEX statement gives its products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VexStatus {
    /// The products do not have the vulnerability, or cannot be attacked through it.
    NotAffected,
    /// The products have the vulnerability.
    Affected,
    /// The products contain a fix for the vulnerability.
    Fixed,
    /// The supplier does not know yet.
    UnderInvestigation,
}

impl VexStatus {
    /// Returns the status as OpenVEX writes it (`not_affected`).
    pub fn as_str(self) -> &'static str {
        match self {
            VexStatus::NotAffected => "not_affected",
            VexStatus::Affected => "affected",
            VexStatus::Fixed => "fixed",
            VexStatus::UnderInvestigation => "under_investigation",
        }
    }

    /// Returns the finding status that this VEX status sets.
    pub fn source_status(self) -> SourceStatus {
        match self {
            VexStatus::NotAffected => SourceStatus::NotAffected,
            VexStatus::Affected => SourceStatus::Affected,
            VexStatus::Fixed => SourceStatus::Fixed,
            VexStatus::UnderInvestigation => SourceStatus::UnderInvestigation,
        }
    }
}

impl FromStr for VexStatus {
    type Err = VexError;

    /// Accepts the OpenVEX words, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "not_affected" => Ok(VexStatus::NotAffected),
            "affected" => Ok(VexStatus::Affected),
            "fixed" => Ok(VexStatus::Fixed),
            "under_investigation" => Ok(VexStatus::UnderInvestigation),
            _ => Err(VexError::Status { value: s.to_string() }),
        }
    }
}

impl fmt::Display for VexStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A CPE name in the 2.3 formatted-string form (`cpe:2.3:a:apache:log4j:2.14.1:*:...`)
/// or the 2.2 URI form (`cpe:/a:apache:log4j:2.14.1`), kept as written,
/// with its vendor, product and version parts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cpe {
    text: String,
    vendor: String,
    product: String,
    version: Option<String>,
}

impl Cpe {
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn vendor(&self) -> &str {
        &self.vendor
    }

    pub fn product(&self) -> &str {
        &self.product
    }

    /// The version part, or `None` where the CPE gives any version (`*`,
    /// `-` or an empty part).
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }
}

impl FromStr for Cpe {
    type Err = VexError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let invalid = || VexError::Cpe { value: s.to_string() };
        let lower = text.to_ascii_lowercase();
        let parts: Vec<&str> = if lower.starts_with("cpe:2.3:") {
            split_cpe23(&text[8..])
        } else if lower.starts_with("cpe:/") {
            text[5..].split(':').collect()
        } else {
            return Err(invalid());
        };
        // part, vendor, product, then the version where there is one.
        let part = parts.first().copied().unwrap_or_default();
        let vendor = parts.get(1).copied().unwrap_or_default();
        let product = parts.get(2).copied().unwrap_or_default();
        if !matches!(part, "a" | "o" | "h" | "*") || product.is_empty() || product == "*" {
            return Err(invalid());
        }
        let version = parts
            .get(3)
            .copied()
            .filter(|v| !v.is_empty() && *v != "*" && *v != "-")
            .map(unescape_cpe);
        Ok(Cpe {
            text: text.to_string(),
            vendor: unescape_cpe(vendor),
            product: unescape_cpe(product),
            version,
        })
    }
}

/// Splits the parts of a CPE 2.3 formatted string after `cpe:2.3:`, where
/// `\:` is a colon inside a part.
fn split_cpe23(rest: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (index, character) in rest.char_indices() {
        match character {
            '\\' if !escaped => escaped = true,
            ':' if !escaped => {
                parts.push(&rest[start..index]);
                start = index + 1;
            }
            _ => escaped = false,
        }
    }
    parts.push(&rest[start..]);
    parts
}

/// Drops the backslashes that CPE 2.3 puts before special characters
/// (`log4j\-core` is `log4j-core`).
fn unescape_cpe(part: &str) -> String {
    let mut text = String::with_capacity(part.len());
    let mut escaped = false;
    for character in part.chars() {
        if character == '\\' && !escaped {
            escaped = true;
            continue;
        }
        escaped = false;
        text.push(character);
    }
    text
}

impl fmt::Display for Cpe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Cpe {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Cpe {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The identifier by which a VEX document names a product or a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProductId {
    /// A package URL; without a version it names every version.
    Purl {
        purl: Purl,
    },
    Cpe {
        cpe: Cpe,
    },
    /// A product name, and its version where the document gives one.
    Name {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        version: Option<String>,
    },
    /// An identifier that ctem cannot resolve to a name or a package by
    /// itself: a CycloneDX BOM-link to a component of another BOM
    /// (`urn:cdx:serial/1#ref`), an OpenVEX product IRI. It only matches an
    /// asset that has the same identifier.
    Reference {
        reference: String,
    },
}

impl ProductId {
    /// Whether the identifier pins one version of the product.
    pub fn has_version(&self) -> bool {
        match self {
            ProductId::Purl { purl } => purl.version().is_some(),
            ProductId::Cpe { cpe } => cpe.version().is_some(),
            ProductId::Name { version, .. } => version.is_some(),
            ProductId::Reference { .. } => true,
        }
    }

    fn validate(&self) -> Result<(), VexError> {
        match self {
            ProductId::Name { name, version } => {
                if name.trim().is_empty() {
                    return Err(VexError::Product {
                        reason: "a product name is empty".to_string(),
                    });
                }
                if version.as_deref().is_some_and(|v| v.trim().is_empty()) {
                    return Err(VexError::Product {
                        reason: format!("the version of {name:?} is empty: leave it out to name every version"),
                    });
                }
                Ok(())
            }
            ProductId::Reference { reference } if reference.trim().is_empty() => Err(VexError::Product {
                reason: "a product reference is empty".to_string(),
            }),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for ProductId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProductId::Purl { purl } => write!(f, "{purl}"),
            ProductId::Cpe { cpe } => write!(f, "{cpe}"),
            ProductId::Name {
                name,
                version: Some(version),
            } => write!(f, "{name} {version}"),
            ProductId::Name { name, version: None } => f.write_str(name),
            ProductId::Reference { reference } => f.write_str(reference),
        }
    }
}

/// A product that a statement speaks about: the product itself, or the
/// subcomponents of it that have (or lack) the vulnerability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VexProduct {
    pub id: ProductId,
    /// A version range as the document wrote it (a CycloneDX `vers:` range,
    /// a CSAF `product_version_range`), where the document names versions
    /// by a range rather than one version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_range: Option<String>,
    /// The components of the product that the statement is about (OpenVEX
    /// `subcomponents`, the `product_reference` of a CSAF relationship).
    /// Empty when the statement is about the product as a whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subcomponents: Vec<ProductId>,
}

impl VexProduct {
    /// A product as a whole, without range or subcomponents.
    pub fn new(id: ProductId) -> VexProduct {
        VexProduct {
            id,
            version_range: None,
            subcomponents: Vec::new(),
        }
    }
}

/// The document a statement came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VexSource {
    /// The format id of the parser that read it (`openvex-json`).
    pub format: String,
    /// The path of the file as the user named it.
    pub path: String,
    /// The document's own id: OpenVEX `@id`, CSAF `tracking.id`, CycloneDX
    /// `serialNumber`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
    /// Who wrote it: OpenVEX `author`, CSAF `publisher.name`, CycloneDX
    /// supplier or manufacturer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

impl VexSource {
    pub fn new(format: impl Into<String>, path: impl Into<String>) -> VexSource {
        VexSource {
            format: format.into(),
            path: path.into(),
            document_id: None,
            author: None,
        }
    }
}

impl fmt::Display for VexSource {
    /// Writes the path, and the document id in brackets where there is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.document_id {
            Some(id) => write!(f, "{} ({id})", self.path),
            None => f.write_str(&self.path),
        }
    }
}

/// One VEX statement: the status of one vulnerability in some products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "UncheckedStatement")]
pub struct VexStatement {
    vulnerability: VulnerabilityId,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    aliases: Vec<VulnerabilityId>,
    products: Vec<VexProduct>,
    status: VexStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    impact_statement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    action_statement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_notes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<String>,
    source: VexSource,
}

impl VexStatement {
    /// Builds a statement, checking that it names at least one product and
    /// that every product is well formed.
    pub fn new(
        vulnerability: VulnerabilityId,
        status: VexStatus,
        products: Vec<VexProduct>,
        source: VexSource,
    ) -> Result<VexStatement, VexError> {
        if products.is_empty() {
            return Err(VexError::NoProducts {
                vulnerability: vulnerability.to_string(),
            });
        }
        for product in &products {
            product.id.validate()?;
            for subcomponent in &product.subcomponents {
                subcomponent.validate()?;
            }
        }
        Ok(VexStatement {
            vulnerability,
            aliases: Vec::new(),
            products,
            status,
            justification: None,
            impact_statement: None,
            action_statement: None,
            status_notes: None,
            timestamp: None,
            source,
        })
    }

    /// Adds another id of the same vulnerability (an OpenVEX alias, a GHSA
    /// id for a CVE), unless it is known already.
    pub fn with_alias(mut self, alias: VulnerabilityId) -> VexStatement {
        if alias != self.vulnerability && !self.aliases.contains(&alias) {
            self.aliases.push(alias);
        }
        self
    }

    /// Sets why the products are not affected, such as
    /// `vulnerable_code_not_present`. Blank text leaves it unset.
    pub fn with_justification(mut self, justification: &str) -> VexStatement {
        self.justification = non_blank(justification);
        self
    }

    /// Sets how the vulnerability does (or does not) affect the products.
    pub fn with_impact_statement(mut self, text: &str) -> VexStatement {
        self.impact_statement = non_blank(text);
        self
    }

    /// Sets what users of affected products should do.
    pub fn with_action_statement(mut self, text: &str) -> VexStatement {
        self.action_statement = non_blank(text);
        self
    }

    /// Sets other notes the document gives about the status.
    pub fn with_status_notes(mut self, text: &str) -> VexStatement {
        self.status_notes = non_blank(text);
        self
    }

    /// Sets when the statement was made, as an RFC 3339 date and time kept
    /// as written.
    pub fn with_timestamp(mut self, timestamp: &str) -> Result<VexStatement, VexError> {
        let trimmed = timestamp.trim();
        if !is_rfc3339(trimmed) {
            return Err(VexError::Timestamp {
                value: timestamp.to_string(),
            });
        }
        self.timestamp = Some(trimmed.to_string());
        Ok(self)
    }

    pub fn vulnerability(&self) -> &VulnerabilityId {
        &self.vulnerability
    }

    /// Other ids of the vulnerability that the document gives.
    pub fn aliases(&self) -> &[VulnerabilityId] {
        &self.aliases
    }

    /// The vulnerability id and its aliases.
    pub fn vulnerability_ids(&self) -> impl Iterator<Item = &VulnerabilityId> {
        std::iter::once(&self.vulnerability).chain(self.aliases.iter())
    }

    /// The products, never empty.
    pub fn products(&self) -> &[VexProduct] {
        &self.products
    }

    pub fn status(&self) -> VexStatus {
        self.status
    }

    pub fn justification(&self) -> Option<&str> {
        self.justification.as_deref()
    }

    pub fn impact_statement(&self) -> Option<&str> {
        self.impact_statement.as_deref()
    }

    pub fn action_statement(&self) -> Option<&str> {
        self.action_statement.as_deref()
    }

    pub fn status_notes(&self) -> Option<&str> {
        self.status_notes.as_deref()
    }

    /// The RFC 3339 timestamp as the document wrote it.
    pub fn timestamp(&self) -> Option<&str> {
        self.timestamp.as_deref()
    }

    pub fn source(&self) -> &VexSource {
        &self.source
    }
}

/// The serialized form of a statement, checked by [`VexStatement::new`]
/// when it is read back.
#[derive(Deserialize)]
struct UncheckedStatement {
    vulnerability: VulnerabilityId,
    #[serde(default)]
    aliases: Vec<VulnerabilityId>,
    products: Vec<VexProduct>,
    status: VexStatus,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    impact_statement: Option<String>,
    #[serde(default)]
    action_statement: Option<String>,
    #[serde(default)]
    status_notes: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    source: VexSource,
}

impl TryFrom<UncheckedStatement> for VexStatement {
    type Error = VexError;

    fn try_from(unchecked: UncheckedStatement) -> Result<Self, Self::Error> {
        let mut statement = VexStatement::new(
            unchecked.vulnerability,
            unchecked.status,
            unchecked.products,
            unchecked.source,
        )?;
        for alias in unchecked.aliases {
            statement = statement.with_alias(alias);
        }
        if let Some(text) = unchecked.justification {
            statement = statement.with_justification(&text);
        }
        if let Some(text) = unchecked.impact_statement {
            statement = statement.with_impact_statement(&text);
        }
        if let Some(text) = unchecked.action_statement {
            statement = statement.with_action_statement(&text);
        }
        if let Some(text) = unchecked.status_notes {
            statement = statement.with_status_notes(&text);
        }
        match unchecked.timestamp {
            Some(timestamp) => statement.with_timestamp(&timestamp),
            None => Ok(statement),
        }
    }
}

fn non_blank(text: &str) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// Whether text is an RFC 3339 date and time: `YYYY-MM-DDTHH:MM:SS`, an
/// optional fraction, then `Z` or an offset `+HH:MM` (section 5.6 of the
/// RFC; a lowercase `t` or `z`, and a space for the `T`, are allowed).
pub fn is_rfc3339(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = bytes.get(range)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let date_time = (|| {
        let (_year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
        let separators = bytes.get(4) == Some(&b'-')
            && bytes.get(7) == Some(&b'-')
            && matches!(bytes.get(10), Some(b'T' | b't' | b' '))
            && bytes.get(13) == Some(&b':')
            && bytes.get(16) == Some(&b':');
        let in_range =
            (1..=12).contains(&month) && (1..=31).contains(&day) && hour <= 23 && minute <= 59 && second <= 60;
        (separators && in_range).then_some(())
    })();
    if date_time.is_none() {
        return false;
    }

    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let count = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if count == 0 {
            return false;
        }
        rest = &fraction[count..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            [h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit())
                && (h1 - b'0') * 10 + (h2 - b'0') <= 23
                && (m1 - b'0') * 10 + (m2 - b'0') <= 59
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> VexSource {
        VexSource::new("openvex-json", "vex.json")
    }

    fn product(purl: &str) -> VexProduct {
        VexProduct::new(ProductId::Purl {
            purl: purl.parse().unwrap(),
        })
    }

    fn statement() -> VexStatement {
        VexStatement::new(
            "CVE-2021-44228".parse().unwrap(),
            VexStatus::NotAffected,
            vec![product("pkg:maven/org.example/app@1.0")],
            source(),
        )
        .unwrap()
    }

    #[test]
    fn statement_needs_a_product() {
        let error = VexStatement::new(
            "CVE-2021-44228".parse().unwrap(),
            VexStatus::Fixed,
            Vec::new(),
            source(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("CVE-2021-44228"), "{error}");
    }

    #[test]
    fn statement_rejects_blank_names() {
        let blank = VexProduct::new(ProductId::Name {
            name: " ".into(),
            version: None,
        });
        let result = VexStatement::new(
            "CVE-2021-44228".parse().unwrap(),
            VexStatus::Fixed,
            vec![blank],
            source(),
        );
        assert!(matches!(result, Err(VexError::Product { .. })));

        let mut nested = product("pkg:oci/app");
        nested.subcomponents.push(ProductId::Reference { reference: "".into() });
        let result = VexStatement::new(
            "CVE-2021-44228".parse().unwrap(),
            VexStatus::Fixed,
            vec![nested],
            source(),
        );
        assert!(matches!(result, Err(VexError::Product { .. })));
    }

    #[test]
    fn aliases_skip_duplicates() {
        let statement = statement()
            .with_alias("GHSA-jfh8-c2jp-5v3q".parse().unwrap())
            .with_alias("ghsa-jfh8-c2jp-5v3q".parse().unwrap())
            .with_alias("CVE-2021-44228".parse().unwrap());
        let ids: Vec<&str> = statement.vulnerability_ids().map(|id| id.as_str()).collect();
        assert_eq!(ids, ["CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"]);
    }

    #[test]
    fn blank_texts_stay_unset() {
        let statement = statement().with_justification("  ").with_impact_statement("");
        assert_eq!(statement.justification(), None);
        assert_eq!(statement.impact_statement(), None);
    }

    #[test]
    fn timestamps_are_rfc3339() {
        for good in [
            "2023-01-08T18:02:03.647787998-06:00",
            "2024-01-04T17:17:25+01:00",
            "2022-03-03T11:00:00.000Z",
            "2026-07-29 00:00:00z",
        ] {
            assert!(is_rfc3339(good), "{good} should be accepted");
        }
        for bad in [
            "2023-01-08",
            "2023-13-08T00:00:00Z",
            "2023-01-08T24:00:00Z",
            "2023-01-08T18:02:03",
            "2023-01-08T18:02:03.Z",
            "2023-01-08T18:02:03+0600",
            "yesterday",
            "2023-01-08T18:02:03Zjunk",
        ] {
            assert!(!is_rfc3339(bad), "{bad} should be rejected");
        }
        let error = statement().with_timestamp("last week").unwrap_err();
        assert!(error.to_string().contains("last week"), "{error}");
    }

    #[test]
    fn status_words_parse() {
        assert_eq!("not_affected".parse::<VexStatus>().unwrap(), VexStatus::NotAffected);
        assert_eq!(
            "Under_Investigation".parse::<VexStatus>().unwrap(),
            VexStatus::UnderInvestigation
        );
        assert!("unknown".parse::<VexStatus>().is_err());
        assert_eq!(VexStatus::Fixed.source_status(), SourceStatus::Fixed);
    }

    #[test]
    fn cpe_parts() {
        let cpe: Cpe = "cpe:2.3:a:apache:log4j\\-core:2.14.1:*:*:*:*:*:*:*".parse().unwrap();
        assert_eq!(cpe.vendor(), "apache");
        assert_eq!(cpe.product(), "log4j-core");
        assert_eq!(cpe.version(), Some("2.14.1"));

        let any: Cpe = "cpe:2.3:o:redhat:enterprise_linux:*:*:*:*:*:*:*:*".parse().unwrap();
        assert_eq!(any.version(), None);

        let uri: Cpe = "cpe:/o:redhat:rhel_aus:7.6::server".parse().unwrap();
        assert_eq!(uri.product(), "rhel_aus");
        assert_eq!(uri.version(), Some("7.6"));

        for bad in ["cpe:2.3:x:a:b", "cpe:/a:vendor", "log4j", "cpe:2.3:a:apache:*:1.0"] {
            assert!(bad.parse::<Cpe>().is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn statement_round_trips_through_json() {
        let mut nested = product("pkg:oci/alpine");
        nested.subcomponents.push(ProductId::Name {
            name: "libssl3".into(),
            version: Some("3.0.8-r3".into()),
        });
        let statement = VexStatement::new(
            "CVE-2023-1255".parse().unwrap(),
            VexStatus::Fixed,
            vec![
                nested,
                VexProduct::new(ProductId::Cpe {
                    cpe: "cpe:/a:openssl:openssl:3.0.8".parse().unwrap(),
                }),
            ],
            source(),
        )
        .unwrap()
        .with_timestamp("2023-07-17T18:28:47-06:00")
        .unwrap()
        .with_action_statement("Upgrade to 3.0.9.");
        let json = serde_json::to_string(&statement).unwrap();
        let back: VexStatement = serde_json::from_str(&json).unwrap();
        assert_eq!(back, statement);
    }

    #[test]
    fn invalid_json_statement_is_rejected() {
        let json = r#"{"vulnerability":"CVE-2023-1255","products":[],"status":"fixed",
            "source":{"format":"openvex-json","path":"a.json"}}"#;
        let error = serde_json::from_str::<VexStatement>(json).unwrap_err();
        assert!(error.to_string().contains("names no product"), "{error}");

        let json = r#"{"vulnerability":"CVE-2023-1255","products":[{"id":{"kind":"name","name":"a"}}],
            "status":"fixed","timestamp":"soon","source":{"format":"openvex-json","path":"a.json"}}"#;
        let error = serde_json::from_str::<VexStatement>(json).unwrap_err();
        assert!(error.to_string().contains("soon"), "{error}");
    }

    #[test]
    fn source_names_path_and_id() {
        let mut source = source();
        assert_eq!(source.to_string(), "vex.json");
        source.document_id = Some("https://openvex.dev/docs/public/vex-1".into());
        assert_eq!(source.to_string(), "vex.json (https://openvex.dev/docs/public/vex-1)");
    }
}
