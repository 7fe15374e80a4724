//! Helpers that the software composition analysis parsers share (pip-audit,
//! npm audit, OSV-Scanner, SPDX, CycloneDX XML): package URLs built from an
//! ecosystem and a name, the inventory of a scanned project (its subject
//! asset, the component assets it contains), and serde seeds that hand each
//! element of a JSON array or object to a closure as it is read.

use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;

use ctem_model::{Asset, AssetKey, AssetKind, Component, Purl, Relationship, RelationshipKind};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::{Sink, util};

/// Builds a purl from its parts, or `None` when the parts make no valid
/// purl (an empty name, a type with invalid characters).
pub(crate) fn purl_from_parts(ty: &str, namespace: Option<&str>, name: &str, version: Option<&str>) -> Option<Purl> {
    let mut purl = packageurl::PackageUrl::new(ty, name).ok()?;
    if let Some(namespace) = namespace.filter(|n| !n.is_empty()) {
        purl.with_namespace(namespace).ok()?;
    }
    if let Some(version) = version.filter(|v| !v.is_empty()) {
        purl.with_version(version).ok()?;
    }
    purl.to_string().parse().ok()
}

/// Builds the purl of a package from its ecosystem as OSV and the audit
/// tools name it (`npm`, `PyPI`, `Go`, `Maven`, `crates.io`, `Packagist`,
/// `RubyGems`, `NuGet`, `Pub`, `Hex`, `Debian`, `Alpine`...), splitting
/// the name where the purl type has a namespace (`@scope/name` for npm,
/// `vendor/name` for Composer, `group:artifact` for Maven, the module path
/// for Go). Returns `None` for an ecosystem without a purl type.
pub(crate) fn ecosystem_purl(ecosystem: &str, name: &str, version: Option<&str>) -> Option<Purl> {
    let name = name.trim();
    // OSV writes a distribution release after a colon (`Debian:11`).
    let base = ecosystem.split(':').next().unwrap_or_default().trim();
    let ty = match base.to_ascii_lowercase().as_str() {
        "npm" => "npm",
        "pypi" => "pypi",
        "go" | "golang" => "golang",
        "maven" => "maven",
        "crates.io" | "cargo" => "cargo",
        "packagist" | "composer" => "composer",
        "rubygems" | "gem" => "gem",
        "nuget" => "nuget",
        "pub" => "pub",
        "hex" => "hex",
        "swifturl" => "swift",
        "cran" => "cran",
        "debian" | "ubuntu" => "deb",
        "alpine" => "apk",
        "rocky linux" | "almalinux" | "red hat" => "rpm",
        _ => return None,
    };
    let (namespace, short_name) = match ty {
        "maven" => match name.split_once(':') {
            Some((group, artifact)) => (Some(group), artifact),
            None => (None, name),
        },
        "npm" if name.starts_with('@') => match name.split_once('/') {
            Some((scope, short)) => (Some(scope), short),
            None => (None, name),
        },
        "composer" | "golang" => match name.rsplit_once('/') {
            Some((namespace, short)) => (Some(namespace), short),
            None => (None, name),
        },
        "deb" if base.eq_ignore_ascii_case("ubuntu") => (Some("ubuntu"), name),
        "deb" => (Some("debian"), name),
        "apk" => (Some("alpine"), name),
        _ => (None, name),
    };
    purl_from_parts(ty, namespace, short_name, version)
}

/// The scanned project of one report and the components sent for it: each
/// component asset is sent once, with one `Contains` relationship from the
/// subject.
pub(crate) struct Inventory {
    subject: AssetKey,
    sent: HashSet<AssetKey>,
}

impl Inventory {
    /// Sends the subject asset (a [`AssetKind::Repository`] named by the
    /// scope target, as audit tools scan a project or its lock files) and
    /// declares the scope.
    pub(crate) fn repository(sink: &mut dyn Sink, tool: &str, target: &str) -> Inventory {
        let asset = Asset::new(AssetKind::Repository, target, target);
        let subject = asset.key.clone();
        sink.asset(asset);
        sink.target(tool, target);
        Inventory {
            subject,
            sent: HashSet::new(),
        }
    }

    /// The key of the subject asset.
    pub(crate) fn subject(&self) -> &AssetKey {
        &self.subject
    }

    /// Sends the asset of a component and the subject's `Contains`
    /// relationship to it, unless they were sent already, and returns the
    /// component's key.
    pub(crate) fn component(&mut self, sink: &mut dyn Sink, component: &Component) -> AssetKey {
        let identifier = component_identifier(component);
        self.add(sink, component_asset(component, &identifier))
    }

    /// Sends an asset that the subject contains and the `Contains`
    /// relationship to it, unless an asset with its key was sent already,
    /// and returns its key.
    pub(crate) fn add(&mut self, sink: &mut dyn Sink, asset: Asset) -> AssetKey {
        let key = asset.key.clone();
        if self.sent.insert(key.clone()) {
            sink.asset(asset);
            sink.relationship(Relationship::new(
                self.subject.clone(),
                RelationshipKind::Contains,
                key.clone(),
            ));
        }
        key
    }
}

/// The identifier that keys a component asset: its purl, else
/// `name@version`, else its name.
pub(crate) fn component_identifier(component: &Component) -> String {
    match (&component.purl, &component.version) {
        (Some(purl), _) => purl.to_string(),
        (None, Some(version)) => format!("{}@{version}", component.name),
        (None, None) => component.name.clone(),
    }
}

/// Builds the asset of a component, with its purl as an identifier and its
/// version and ecosystem as attributes.
pub(crate) fn component_asset(component: &Component, identifier: &str) -> Asset {
    let mut asset = Asset::new(AssetKind::Component, identifier, component.name.clone());
    if let Some(purl) = &component.purl {
        asset.add_identifier("purl", purl.to_string());
    }
    if let Some(version) = &component.version {
        asset.attributes.insert("version".to_string(), version.clone());
    }
    if let Some(ecosystem) = &component.ecosystem {
        asset.attributes.insert("ecosystem".to_string(), ecosystem.clone());
    }
    asset
}

/// Returns the texts once each, in their first order, without empty ones.
pub(crate) fn unique_texts<'t>(texts: impl IntoIterator<Item = &'t str>) -> Vec<String> {
    let mut unique: Vec<String> = Vec::new();
    for text in texts {
        if let Some(text) = util::non_empty(Some(text))
            && !unique.contains(&text)
        {
            unique.push(text);
        }
    }
    unique
}

/// Finds the first CVE or GHSA id in a text such as an advisory URL
/// (`https://example.com/advisories/CVE-2024-10001`), in its canonical form.
pub(crate) fn vulnerability_id_in(text: &str) -> Option<ctem_model::VulnerabilityId> {
    let upper = text.to_ascii_uppercase();
    for prefix in ["CVE-", "GHSA-"] {
        let mut from = 0;
        while let Some(found) = upper[from..].find(prefix) {
            let start = from + found;
            let candidate: String = text[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            let valid = match prefix {
                "CVE-" => candidate.parse::<ctem_model::CveId>().is_ok(),
                _ => is_ghsa(&candidate),
            };
            if valid && let Ok(id) = candidate.parse() {
                return Some(id);
            }
            from = start + prefix.len();
        }
    }
    None
}

/// Whether a text is a GitHub advisory id: `GHSA-` and three groups of
/// four characters of the alphabet `23456789cfghjmpqrvwx`.
fn is_ghsa(text: &str) -> bool {
    let Some(rest) = text.get(5..) else {
        return false;
    };
    let groups: Vec<&str> = rest.split('-').collect();
    groups.len() == 3
        && groups
            .iter()
            .all(|g| g.len() == 4 && g.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// A seed that reads a JSON array and hands each element to a closure as it
/// is read, so only one element is in memory at a time. An error that the
/// closure returns stops the read at that element's position.
pub(crate) struct EachElement<T, F> {
    handle: F,
    element: PhantomData<fn() -> T>,
}

/// Builds an [`EachElement`] seed.
pub(crate) fn each_element<T, F>(handle: F) -> EachElement<T, F> {
    EachElement {
        handle,
        element: PhantomData,
    }
}

impl<'de, T, F> DeserializeSeed<'de> for EachElement<T, F>
where
    T: Deserialize<'de>,
    F: FnMut(T) -> Result<(), String>,
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T, F> Visitor<'de> for EachElement<T, F>
where
    T: Deserialize<'de>,
    F: FnMut(T) -> Result<(), String>,
{
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an array")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        // `null` in place of an empty array.
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(element) = seq.next_element::<T>()? {
            (self.handle)(element).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

/// A seed that reads a JSON object and hands each entry (its key and its
/// value) to a closure as it is read.
pub(crate) struct EachEntry<T, F> {
    handle: F,
    value: PhantomData<fn() -> T>,
}

/// Builds an [`EachEntry`] seed.
pub(crate) fn each_entry<T, F>(handle: F) -> EachEntry<T, F> {
    EachEntry {
        handle,
        value: PhantomData,
    }
}

impl<'de, T, F> DeserializeSeed<'de> for EachEntry<T, F>
where
    T: Deserialize<'de>,
    F: FnMut(String, T) -> Result<(), String>,
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T, F> Visitor<'de> for EachEntry<T, F>
where
    T: Deserialize<'de>,
    F: FnMut(String, T) -> Result<(), String>,
{
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an object")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value::<T>()?;
            (self.handle)(key, value).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

/// Reads a JSON value that reports write as one string or as an array of
/// strings (npm audit's `cwe`, `"CWE-79"` or `["CWE-79"]`) into a list;
/// other values give an empty list. Use with
/// `#[serde(default, deserialize_with = "sca_shared::one_or_many")]`.
pub(crate) fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        // `Many` comes first, because `loose_text` accepts an array too.
        Many(Vec<serde_json::Value>),
        One(#[serde(deserialize_with = "util::loose_text")] Option<String>),
    }

    let texts = match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(text) => text.into_iter().collect(),
        OneOrMany::Many(values) => values
            .into_iter()
            .filter_map(|value| match value {
                serde_json::Value::String(text) => Some(text),
                serde_json::Value::Number(number) => Some(number.to_string()),
                _ => None,
            })
            .collect(),
    };
    Ok(texts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecosystem_purls() {
        let cases = [
            ("npm", "@vercel/fun", Some("1.0.4"), "pkg:npm/%40vercel/fun@1.0.4"),
            ("npm", "lodash", Some("4.17.20"), "pkg:npm/lodash@4.17.20"),
            ("PyPI", "Django_Rest", Some("3.2.9"), "pkg:pypi/django-rest@3.2.9"),
            (
                "Packagist",
                "guzzlehttp/guzzle",
                Some("6.3.3"),
                "pkg:composer/guzzlehttp/guzzle@6.3.3",
            ),
            ("Maven", "org.acme:core", Some("1.0"), "pkg:maven/org.acme/core@1.0"),
            (
                "Go",
                "golang.org/x/net",
                Some("0.1.0"),
                "pkg:golang/golang.org/x/net@0.1.0",
            ),
            ("crates.io", "time", None, "pkg:cargo/time"),
            (
                "Debian:11",
                "openssl",
                Some("1.1.1n-0+deb11u3"),
                "pkg:deb/debian/openssl@1.1.1n-0%2Bdeb11u3",
            ),
        ];
        for (ecosystem, name, version, expected) in cases {
            let purl = ecosystem_purl(ecosystem, name, version).map(|p| p.to_string());
            assert_eq!(purl.as_deref(), Some(expected), "{ecosystem} {name}");
        }
        assert_eq!(ecosystem_purl("Unknown", "x", None), None);
        assert_eq!(ecosystem_purl("npm", "", None), None);
    }

    #[test]
    fn ids_in_urls() {
        let id = |text: &str| vulnerability_id_in(text).map(|id| id.to_string());
        assert_eq!(
            id("https://example.com/advisories/CVE-2024-10001").as_deref(),
            Some("CVE-2024-10001")
        );
        assert_eq!(
            id("https://example.com/advisories/GHSA-jfh8-c2jp-5v3q").as_deref(),
            Some("GHSA-jfh8-c2jp-5v3q")
        );
        assert_eq!(id("https://example.com/advisories/no-identifier-here"), None);
        assert_eq!(id("https://example.com/CVE-24-1/CVE-2023-0001x"), None);
    }
}
