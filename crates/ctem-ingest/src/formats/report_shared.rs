//! Helpers shared by the dependency and image scanner parsers (OWASP
//! Dependency-Check, Snyk, Anchore Engine, Clair and Trivy Operator).

use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;

use ctem_model::{Asset, AssetKey, AssetKind, Component, MaskedSecret, Relationship, RelationshipKind, Severity};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};

use crate::{Sink, util};

/// Deserializes `null` as the default value.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A seed that reads a JSON array (or `null`) one element at a time and
/// hands each element to `handle`, so that only one element is in memory.
/// An error that `handle` returns stops the read at the element's position.
pub(crate) struct EachElement<'f, T, F> {
    handle: &'f mut F,
    expected: &'static str,
    marker: PhantomData<fn() -> T>,
}

impl<'f, T, F> EachElement<'f, T, F>
where
    F: FnMut(T) -> Result<(), String>,
{
    /// `expected` names the array for the message of a type error, such as
    /// "an array of Snyk vulnerabilities".
    pub(crate) fn new(expected: &'static str, handle: &'f mut F) -> Self {
        EachElement {
            handle,
            expected,
            marker: PhantomData,
        }
    }
}

impl<'de, T, F> DeserializeSeed<'de> for EachElement<'_, T, F>
where
    T: Deserialize<'de>,
    F: FnMut(T) -> Result<(), String>,
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, T, F> Visitor<'de> for EachElement<'_, T, F>
where
    T: Deserialize<'de>,
    F: FnMut(T) -> Result<(), String>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expected)
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(element) = seq.next_element::<T>()? {
            (self.handle)(element).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

/// Names the keys found at the top of a document that is not in the
/// expected format, for an error message: "keys a, b, c" or "no key".
pub(crate) fn found_keys(keys: &[String]) -> String {
    if keys.is_empty() {
        "no key".to_string()
    } else {
        format!("keys {}", keys.join(", "))
    }
}

/// Keeps the first few keys of an object for [`found_keys`].
pub(crate) fn remember_key(keys: &mut Vec<String>, key: &str) {
    if keys.len() < 8 {
        keys.push(key.to_string());
    }
}

/// Text of a report field with placeholders removed: empty text and the
/// `None`, `null`, `N/A` that some tools print for a missing value are
/// `None`.
pub(crate) fn present(text: Option<&str>) -> Option<String> {
    util::non_empty(text).filter(|text| {
        !["none", "null", "n/a", "na", "-", "unknown"]
            .iter()
            .any(|placeholder| text.eq_ignore_ascii_case(placeholder))
    })
}

/// Returns the severity word of a report where it rates the finding. Clair's
/// `Defcon1` is above critical, so it is `Critical`. `Unknown` rates
/// nothing, so it is `None` and the caller falls back to CVSS scores.
pub(crate) fn severity_word(word: Option<&str>) -> Option<&str> {
    let word = word.map(str::trim).filter(|w| !w.is_empty())?;
    if word.eq_ignore_ascii_case("defcon1") {
        return Some("critical");
    }
    if word.eq_ignore_ascii_case("unknown") {
        return None;
    }
    word.parse::<Severity>().is_ok().then_some(word)
}

/// Adds the `CVSS:x.y/` prefix that a bare v3 or v4 vector lacks, where the
/// report names the version. v2 vectors have no prefix.
pub(crate) fn prefixed_vector(vector: &str, version: Option<&str>) -> String {
    let vector = vector.trim();
    if vector.starts_with("CVSS:") {
        return vector.to_string();
    }
    match version.map(str::trim) {
        Some(version @ ("3.0" | "3.1" | "4.0")) => format!("CVSS:{version}/{vector}"),
        _ => vector.to_string(),
    }
}

/// Builds the asset of a software component: keyed by its purl, else by
/// `name@version`.
pub(crate) fn component_asset(component: &Component) -> Asset {
    let identifier = match (&component.purl, &component.version) {
        (Some(purl), _) => purl.to_string(),
        (None, Some(version)) => format!("{}@{version}", component.name),
        (None, None) => component.name.clone(),
    };
    let mut asset = Asset::new(AssetKind::Component, &identifier, component.name.clone());
    if let Some(purl) = &component.purl {
        asset.add_identifier("purl", purl.to_string());
    }
    if let Some(version) = &component.version {
        asset.attributes.insert("version".into(), version.clone());
    }
    if let Some(ecosystem) = &component.ecosystem {
        asset.attributes.insert("ecosystem".into(), ecosystem.clone());
    }
    asset
}

/// Sends assets and relationships once per report.
#[derive(Default)]
pub(crate) struct AssetSet {
    assets: HashSet<AssetKey>,
    relationships: HashSet<(AssetKey, RelationshipKind, AssetKey)>,
}

impl AssetSet {
    /// Sends the asset unless an asset with its key was sent before.
    pub(crate) fn send(&mut self, sink: &mut dyn Sink, asset: Asset) {
        if self.assets.insert(asset.key.clone()) {
            sink.asset(asset);
        }
    }

    /// Sends the relationship unless the same one was sent before.
    pub(crate) fn relate(&mut self, sink: &mut dyn Sink, from: &AssetKey, kind: RelationshipKind, to: &AssetKey) {
        if self.relationships.insert((from.clone(), kind, to.clone())) {
            sink.relationship(Relationship::new(from.clone(), kind, to.clone()));
        }
    }

    /// Sends the asset of a component and the relationship of its owner
    /// (an image or a project) that contains it.
    pub(crate) fn send_component(&mut self, sink: &mut dyn Sink, owner: &AssetKey, component: &Component) {
        let asset = component_asset(component);
        let key = asset.key.clone();
        self.send(sink, asset);
        self.relate(sink, owner, RelationshipKind::Contains, &key);
    }
}

/// Masks the secret in a scanner's match text.
///
/// Trivy replaces the secret with asterisks before it writes the match, so
/// a match with a run of asterisks is kept as it is and no secret is
/// returned (the clear value is not in the report to hash). Otherwise the
/// value after the last `=` or `:` (or the whole match when there is none)
/// is taken as the clear secret, and every occurrence of it is replaced by
/// its masked form.
pub(crate) fn mask_match(matched: &str) -> (String, Option<MaskedSecret>) {
    if matched.contains("***") {
        return (matched.to_string(), None);
    }
    let value = matched
        .rfind(['=', ':'])
        .map(|index| matched[index + 1..].trim().trim_matches(['"', '\'', '`']).trim())
        .filter(|value| !value.is_empty())
        .unwrap_or(matched);
    let secret = MaskedSecret::new(value);
    let evidence = matched.replace(value, &secret.masked);
    (evidence, Some(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_absent() {
        assert_eq!(present(Some(" None ")), None);
        assert_eq!(present(Some("N/A")), None);
        assert_eq!(present(Some("")), None);
        assert_eq!(present(Some("1.2.3")).as_deref(), Some("1.2.3"));
    }

    #[test]
    fn defcon1_is_critical() {
        assert_eq!(severity_word(Some("Defcon1")), Some("critical"));
        assert_eq!(severity_word(Some("Negligible")), Some("Negligible"));
        assert_eq!(severity_word(Some("bogus")), None);
        assert_eq!(severity_word(Some("Unknown")), None);
    }

    #[test]
    fn bare_vectors_get_prefix() {
        assert_eq!(
            prefixed_vector("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Some("3.1")),
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
        );
        assert_eq!(
            prefixed_vector("AV:N/AC:L/Au:N/C:P/I:P/A:P", Some("2.0")),
            "AV:N/AC:L/Au:N/C:P/I:P/A:P"
        );
        assert_eq!(
            prefixed_vector("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:H/A:N", Some("3.1")),
            "CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:H/A:N"
        );
    }

    #[test]
    fn clear_match_is_masked() {
        let (evidence, secret) = mask_match("token = ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ012345");
        let secret = secret.expect("a secret");
        assert!(!evidence.contains("aBcDeF"), "{evidence}");
        assert!(evidence.contains(&secret.masked));
        let (evidence, secret) = mask_match("KEY=\"********\"");
        assert_eq!(evidence, "KEY=\"********\"");
        assert!(secret.is_none());
    }
}
