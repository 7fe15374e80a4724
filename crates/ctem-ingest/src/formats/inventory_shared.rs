//! Helpers of the inventory parsers (AWS CLI exports, Kubernetes
//! manifests, ctem-native JSON): streaming over a JSON array, reading the
//! top-level keys of a JSON head for detection, and sending each asset and
//! relationship once per report.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::io::BufRead;
use std::marker::PhantomData;

use ctem_model::{Asset, AssetKey, Finding, Fingerprint, Relationship, RelationshipKind};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::{Sink, util};

/// A seed that reads a JSON array (or `null`) one element at a time and
/// hands each element to a function, so that only one record of a large
/// array is in memory at once.
pub(crate) struct EachElement<T, F> {
    handle: F,
    element: PhantomData<fn() -> T>,
}

impl<T, F> EachElement<T, F> {
    pub(crate) fn new(handle: F) -> Self {
        EachElement {
            handle,
            element: PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(T)> DeserializeSeed<'de> for EachElement<T, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(T)> Visitor<'de> for EachElement<T, F> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an array of records")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(element) = seq.next_element::<T>()? {
            (self.handle)(element);
        }
        Ok(())
    }
}

/// The keys of the top-level object of a JSON head, in file order, or
/// `None` when the head is not a JSON object. A head cut in the middle of
/// the file gives the keys read before the cut.
pub(crate) fn json_head_keys(head: &[u8]) -> Option<Vec<String>> {
    let head = util::trim_start(head);
    if !head.starts_with(b"{") {
        return None;
    }
    let mut keys = Vec::new();
    let mut deserializer = serde_json::Deserializer::from_slice(head);
    // A cut head ends in an error; the keys read before it still count.
    let _ = deserializer.deserialize_map(KeyCollector { keys: &mut keys });
    Some(keys)
}

struct KeyCollector<'k> {
    keys: &'k mut Vec<String>,
}

impl<'de> Visitor<'de> for KeyCollector<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            self.keys.push(key);
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}

/// Skips whitespace and a byte order mark, and returns the first other
/// byte without consuming it.
pub(crate) fn first_byte(reader: &mut dyn BufRead) -> std::io::Result<Option<u8>> {
    let mut bom_checked = false;
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(None);
        }
        if !bom_checked && buffer.starts_with(b"\xef\xbb\xbf") {
            reader.consume(3);
            bom_checked = true;
            continue;
        }
        bom_checked = true;
        match buffer.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(index) => {
                let byte = buffer[index];
                reader.consume(index);
                return Ok(Some(byte));
            }
            None => {
                let length = buffer.len();
                reader.consume(length);
            }
        }
    }
}

/// A relationship's identity, for sending each edge once.
type EdgeKey = (AssetKey, AssetKey, RelationshipKind, Option<String>, Option<u16>);

/// Sends records to a sink once each per report.
///
/// An asset that the report describes is sent as it is read. An asset that
/// the report only refers to (the subnet of an instance, the role of a
/// function) is kept as a stub and sent at the end, unless the report
/// described it in the meantime, so that every key that a relationship
/// names has an asset, and each asset is sent once.
pub(crate) struct Records<'s> {
    tool: &'static str,
    sink: &'s mut dyn Sink,
    described: HashSet<AssetKey>,
    stubs: BTreeMap<AssetKey, Asset>,
    edges: HashSet<EdgeKey>,
    findings: HashSet<Fingerprint>,
    targets: BTreeSet<String>,
}

impl<'s> Records<'s> {
    pub(crate) fn new(tool: &'static str, sink: &'s mut dyn Sink) -> Self {
        Records {
            tool,
            sink,
            described: HashSet::new(),
            stubs: BTreeMap::new(),
            edges: HashSet::new(),
            findings: HashSet::new(),
            targets: BTreeSet::new(),
        }
    }

    /// Sends an asset that the report describes, unless it was sent
    /// already; a stub of the same key merges into it.
    pub(crate) fn asset(&mut self, mut asset: Asset) {
        if !self.described.insert(asset.key.clone()) {
            return;
        }
        if let Some(stub) = self.stubs.remove(&asset.key) {
            asset.merge(stub);
        }
        self.sink.asset(asset);
    }

    /// Keeps an asset that the report refers to without describing it.
    pub(crate) fn stub(&mut self, asset: Asset) {
        if self.described.contains(&asset.key) {
            return;
        }
        match self.stubs.get_mut(&asset.key) {
            Some(known) => known.merge(asset),
            None => {
                self.stubs.insert(asset.key.clone(), asset);
            }
        }
    }

    /// Sends a relationship unless the same one was sent already.
    pub(crate) fn edge(&mut self, relationship: Relationship) {
        let key = (
            relationship.from.clone(),
            relationship.to.clone(),
            relationship.kind,
            relationship.protocol.clone(),
            relationship.port,
        );
        if self.edges.insert(key) {
            self.sink.relationship(relationship);
        }
    }

    /// Sends a relationship without protocol or port.
    pub(crate) fn link(&mut self, from: &AssetKey, kind: RelationshipKind, to: &AssetKey) {
        self.edge(Relationship::new(from.clone(), kind, to.clone()));
    }

    /// Sends a finding unless one with the same fingerprint was sent.
    pub(crate) fn finding(&mut self, finding: Finding) {
        if self.findings.insert(finding.fingerprint()) {
            self.sink.finding(finding);
        }
    }

    /// Declares a scope target once.
    pub(crate) fn target(&mut self, target: &str) {
        if self.targets.insert(target.to_string()) {
            self.sink.target(self.tool, target);
        }
    }

    /// Whether any scope target was declared.
    pub(crate) fn has_targets(&self) -> bool {
        !self.targets.is_empty()
    }

    /// Sends the stubs of assets that the report never described.
    pub(crate) fn finish(mut self) {
        for (_, stub) in std::mem::take(&mut self.stubs) {
            self.sink.asset(stub);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_keys_survive_a_cut() {
        let keys = json_head_keys(br#" {"Reservations": [{"Instances": []}], "NextToken": "x", "Cut"#);
        assert_eq!(keys, Some(vec!["Reservations".to_string(), "NextToken".to_string()]));
        assert_eq!(json_head_keys(b"[1, 2]"), None);
        assert_eq!(json_head_keys(b"{}"), Some(Vec::new()));
    }
}
