//! Helpers that the infrastructure-as-code and Kubernetes posture parsers
//! (Checkov, tfsec, KICS, kube-bench, Kubescape) share.

use std::fmt;

use ctem_model::{Asset, AssetKey, AssetKind};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};

use crate::{Sink, util};

/// The maximum size in bytes of evidence text kept from a report (a code
/// block, a list of failed paths), so that one huge resource does not bloat
/// its finding.
pub(crate) const MAX_EVIDENCE_BYTES: usize = 4096;

/// A scalar that a report writes as a string, a number or a boolean, read as
/// text (see [`util::loose_text`]). Useful inside `Vec`s and maps, where a
/// `deserialize_with` attribute cannot reach.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct LooseText(pub Option<String>);

impl<'de> Deserialize<'de> for LooseText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<LooseText, D::Error> {
        util::loose_text(deserializer).map(LooseText)
    }
}

impl LooseText {
    /// Returns the trimmed text, or `None` when it is missing or blank.
    pub(crate) fn text(&self) -> Option<String> {
        util::non_empty(self.0.as_deref())
    }
}

/// Returns a line number from a report, or `None` for the 0 or negative
/// values that tools write when a check has no line (a Dockerfile-wide
/// check in Checkov, a missing block in tfsec).
pub(crate) fn line_number(value: Option<i64>) -> Option<u32> {
    value.and_then(|v| u32::try_from(v).ok()).filter(|&v| v > 0)
}

/// Sends the repository (or scanned folder) asset of an IaC report and its
/// scope target, and returns the asset's key. An URL target also becomes a
/// `repo_url` identifier.
pub(crate) fn send_repository(sink: &mut dyn Sink, tool: &str, target: &str) -> AssetKey {
    let mut asset = Asset::new(AssetKind::Repository, target, target.to_string());
    if target.contains("://") {
        asset.add_identifier("repo_url", target.to_string());
    }
    let key = asset.key.clone();
    sink.asset(asset);
    sink.target(tool, target);
    key
}

/// Collects the first few keys of an object that turned out not to be the
/// expected report, for the error message.
#[derive(Debug, Default)]
pub(crate) struct SeenKeys(Vec<String>);

impl SeenKeys {
    const MAX: usize = 5;

    pub(crate) fn push(&mut self, key: &str) {
        if self.0.len() < Self::MAX {
            self.0.push(key.to_string());
        }
    }

    /// Describes the object for an error message: `an empty object` or
    /// `an object with keys "a", "b"`.
    pub(crate) fn describe(&self) -> String {
        if self.0.is_empty() {
            return "an empty object".to_string();
        }
        let keys: Vec<String> = self.0.iter().map(|key| format!("{key:?}")).collect();
        format!("an object with keys {}", keys.join(", "))
    }
}

/// Joins the non-empty parts into paragraphs separated by a blank line, or
/// returns `None` when every part is empty.
pub(crate) fn paragraphs<I: IntoIterator<Item = Option<String>>>(parts: I) -> Option<String> {
    let parts: Vec<String> = parts
        .into_iter()
        .flatten()
        .filter(|part| !part.trim().is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

/// Hands each element of a JSON array to a callback as soon as it is read,
/// so that a large array is never held in memory. `null` counts as an
/// empty array, because tools write it for "nothing found".
pub(crate) struct EachElement<T, F> {
    pub(crate) expecting: &'static str,
    pub(crate) callback: F,
    pub(crate) marker: std::marker::PhantomData<T>,
}

impl<T, F> EachElement<T, F> {
    pub(crate) fn new(expecting: &'static str, callback: F) -> EachElement<T, F> {
        EachElement {
            expecting,
            callback,
            marker: std::marker::PhantomData,
        }
    }
}

impl<'de, T, F> DeserializeSeed<'de> for EachElement<T, F>
where
    T: Deserialize<'de>,
    F: FnMut(T) -> Result<(), String>,
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, T, F> Visitor<'de> for EachElement<T, F>
where
    T: Deserialize<'de>,
    F: FnMut(T) -> Result<(), String>,
{
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str(self.expecting)
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(Object(element)) = seq.next_element::<Object<T>>()? {
            (self.callback)(element).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

/// A value that must be a JSON object. Serde's derived structs also accept
/// an array of their fields in order, so without this wrapper `[[]]` would
/// read as a record with every field missing rather than be rejected.
pub(crate) struct Object<T>(pub(crate) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Object<T>, D::Error> {
        struct ObjectVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = Object<T>;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("an object")
            }

            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Object<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Object)
            }
        }

        deserializer.deserialize_map(ObjectVisitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_zero_is_none() {
        assert_eq!(line_number(Some(0)), None);
        assert_eq!(line_number(Some(-3)), None);
        assert_eq!(line_number(Some(12)), Some(12));
        assert_eq!(line_number(Some(i64::MAX)), None);
    }

    #[test]
    fn seen_keys_describe() {
        let mut keys = SeenKeys::default();
        assert_eq!(keys.describe(), "an empty object");
        for key in ["a", "b", "c", "d", "e", "f"] {
            keys.push(key);
        }
        assert_eq!(keys.describe(), r#"an object with keys "a", "b", "c", "d", "e""#);
    }

    #[test]
    fn paragraphs_skip_blanks() {
        let text = paragraphs([
            Some("one".to_string()),
            None,
            Some("  ".to_string()),
            Some("two".to_string()),
        ]);
        assert_eq!(text.as_deref(), Some("one\n\ntwo"));
        assert_eq!(paragraphs([None, Some(String::new())]), None);
    }

    #[derive(Debug, Deserialize)]
    struct Record {
        name: Option<String>,
    }

    #[test]
    fn each_element_streams_and_accepts_null() {
        let mut seen = Vec::new();
        let mut deserializer = serde_json::Deserializer::from_str(r#"[{"name": "a"}, {"name": "b"}, {}]"#);
        EachElement::new("records", |record: Record| {
            seen.push(record.name);
            Ok(())
        })
        .deserialize(&mut deserializer)
        .unwrap();
        assert_eq!(seen, [Some("a".to_string()), Some("b".to_string()), None]);

        let mut deserializer = serde_json::Deserializer::from_str("null");
        EachElement::new("records", |_: Record| Err("not called".to_string()))
            .deserialize(&mut deserializer)
            .unwrap();
    }

    #[test]
    fn each_element_rejects_array_records() {
        let mut deserializer = serde_json::Deserializer::from_str(r#"[{"name": "a"}, ["b"]]"#);
        let mut count = 0;
        let error = EachElement::new("records", |_: Record| {
            count += 1;
            Ok(())
        })
        .deserialize(&mut deserializer)
        .unwrap_err();
        assert!(error.to_string().contains("expected an object"), "{error}");
        assert_eq!(count, 1);
    }

    #[test]
    fn each_element_reports_callback_error() {
        let mut deserializer = serde_json::Deserializer::from_str("[{}]");
        let error = EachElement::new("records", |_: Record| Err("bad element".to_string()))
            .deserialize(&mut deserializer)
            .unwrap_err();
        assert!(error.to_string().contains("bad element"), "{error}");
    }
}
