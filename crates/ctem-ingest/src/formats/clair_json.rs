//! Clair v2 image scan reports as two of its clients write them:
//! clair-scanner (`clair-scanner --report report.json`) and klar
//! (`JSON_OUTPUT=true klar <image>`).
//!
//! One parser reads both, because both carry the same Clair v2
//! vulnerability records and differ only in their envelope.
//!
//! # Reads
//!
//! - clair-scanner: `image`, `unapproved` and `vulnerabilities`, each with
//!   `vulnerability`, `featurename`, `featureversion`, `namespace`,
//!   `description`, `link`, `severity` and `fixedby`.
//! - klar 2.x: `LayerCount` and `Vulnerabilities`, an object of severity
//!   buckets (`Defcon1`, `Critical`, `High`, ...) whose records have `Name`,
//!   `NamespaceName`, `Description`, `Link`, `Severity`, `FixedBy`,
//!   `FeatureName`, `FeatureVersion` and `Metadata`.
//!
//! # Field mapping
//!
//! - `vulnerability` / `Name` (a CVE id, or a vendor advisory such as
//!   `RHSA-2019:0109`) -> `rule_id` and the vulnerability id.
//! - `severity` -> `severity`: `Defcon1` is `Critical`, `Negligible` is
//!   `Info`, and `Unknown` falls back to the highest CVSS score of
//!   `Metadata.NVD`, else `Info`. A record without a severity takes the
//!   name of its klar bucket.
//! - `Metadata.NVD.CVSSv2.Vectors` and `Metadata.NVD.CVSSv3.Vectors` ->
//!   `cvss`.
//! - `featurename`, `featureversion` -> `component`; `namespace` (the
//!   distribution, `ubuntu:18.04`) -> the attribute `namespace`.
//! - `fixedby` -> `fix.fixed_versions`; `link` -> `references`;
//!   `description` -> `description`.
//! - Assets: the image, and one component per vulnerable feature that the
//!   image contains.
//!
//! # Scope target
//!
//! clair-scanner's `image`. klar's report names no image, so it uses
//! [`ParseContext::default_target`], which the engine sets from `--target`.
//!
//! # Fingerprint
//!
//! The tool `clair`, the vulnerability id, the image and the feature name
//! and version. Clair reports OS packages, which have no path.
//!
//! # Not read yet
//!
//! clair-scanner's `unapproved` list: it names the vulnerabilities above
//! the severity threshold that no whitelist approved, so a vulnerability
//! missing from it may be whitelisted or merely below the threshold, and
//! it gives no status. klar's `LayerCount`.
//!
//! # Reference
//!
//! <https://github.com/arminc/clair-scanner> and
//! <https://github.com/optiopay/klar>; the record fields are Clair v2's
//! `Vulnerability` and `Feature` API types, <https://github.com/quay/clair/tree/release-2.0>.

use std::collections::HashSet;
use std::fmt;
use std::io::BufRead;

use ctem_model::{Asset, AssetKey, AssetKind, Component, Finding, FindingKind, Severity};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::report_shared::{self, AssetSet, EachElement, present};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "clair-json";
const TOOL: &str = "clair";

/// The Clair (clair-scanner and klar) JSON parser.
pub struct ClairJson;

impl Parser for ClairJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Clair JSON (clair-scanner, klar)",
            tool: "Clair v2 through clair-scanner or klar",
            versions: "clair-scanner reports; klar 2.x JSON output",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        let has = |key: &[u8]| util::contains(head, key);
        if !head.starts_with(b"{") {
            return Detection::No;
        }
        let scanner = has(b"\"unapproved\"") && has(b"\"vulnerabilities\"");
        let klar = has(b"\"LayerCount\"") && has(b"\"Vulnerabilities\"");
        let records = has(b"\"featurename\"") && has(b"\"featureversion\"");
        if scanner || klar {
            Detection::Certain
        } else if records {
            Detection::Maybe
        } else {
            Detection::No
        }
    }

    fn parse(
        &self,
        context: &ParseContext<'_>,
        reader: &mut dyn BufRead,
        sink: &mut dyn Sink,
    ) -> Result<(), ParseError> {
        let mut emitter = Emitter {
            sink,
            default_target: context.default_target,
            image: None,
            pending: Vec::new(),
            assets: AssetSet::default(),
            seen: HashSet::new(),
        };
        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        ReportSeed { emitter: &mut emitter }
            .deserialize(&mut deserializer)
            .and_then(|()| deserializer.end())
            .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))
    }
}

// ---------------------------------------------------------------------------
// Report records, deserialized leniently.
// ---------------------------------------------------------------------------

/// One vulnerability: clair-scanner writes lowercase keys, klar Clair's
/// own capitalized ones.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Record {
    #[serde(alias = "Name")]
    vulnerability: Option<String>,
    #[serde(alias = "FeatureName")]
    featurename: Option<String>,
    #[serde(alias = "FeatureVersion")]
    featureversion: Option<String>,
    #[serde(alias = "NamespaceName")]
    namespace: Option<String>,
    #[serde(alias = "Description")]
    description: Option<String>,
    #[serde(alias = "Link")]
    link: Option<String>,
    #[serde(alias = "Severity")]
    severity: Option<String>,
    #[serde(alias = "FixedBy")]
    fixedby: Option<String>,
    #[serde(rename = "Metadata", alias = "metadata")]
    metadata: Option<Metadata>,
}

/// Clair's vulnerability metadata: the NVD scores where Clair had them.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Metadata {
    #[serde(rename = "NVD")]
    nvd: Option<NvdMetadata>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NvdMetadata {
    #[serde(rename = "CVSSv2")]
    cvss_v2: Option<NvdCvss>,
    #[serde(rename = "CVSSv3")]
    cvss_v3: Option<NvdCvss>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NvdCvss {
    #[serde(rename = "Vectors")]
    vectors: Option<String>,
}

// ---------------------------------------------------------------------------
// Normalizing records.
// ---------------------------------------------------------------------------

struct Emitter<'a> {
    sink: &'a mut dyn Sink,
    default_target: &'a str,
    /// The image's key and scope target, once known.
    image: Option<(AssetKey, String)>,
    /// Findings read before `image`, with their components.
    pending: Vec<(Finding, Component)>,
    assets: AssetSet,
    /// (vulnerability, feature, version) of every record sent.
    seen: HashSet<(String, String, String)>,
}

impl Emitter<'_> {
    fn set_image(&mut self, name: Option<&str>) {
        let target = present(name).unwrap_or_else(|| self.default_target.to_string());
        let asset = Asset::new(AssetKind::ContainerImage, &target, target.clone());
        self.sink.target(TOOL, &target);
        let key = asset.key.clone();
        self.assets.send(self.sink, asset);
        self.image = Some((key, target));
        for (finding, component) in std::mem::take(&mut self.pending) {
            self.send(finding, component);
        }
    }

    /// Normalizes one record, with the name of its klar severity bucket.
    fn handle(&mut self, record: Record, bucket: Option<&str>) -> Result<(), String> {
        let Some(id) = util::non_empty(record.vulnerability.as_deref()) else {
            return Err("a vulnerability has no name (vulnerability or Name)".to_string());
        };
        let Some(name) = util::non_empty(record.featurename.as_deref()) else {
            return Err(format!(
                "the vulnerability {id} names no feature (featurename or FeatureName)"
            ));
        };
        let version = util::non_empty(record.featureversion.as_deref());
        if !self
            .seen
            .insert((id.clone(), name.clone(), version.clone().unwrap_or_default()))
        {
            return Ok(());
        }

        let title = match &version {
            Some(version) => format!("{id} in {name} {version}"),
            None => format!("{id} in {name}"),
        };
        let placeholder = AssetKey::new(AssetKind::Other, "");
        let mut finding = Finding::new(
            TOOL,
            &id,
            FindingKind::Vulnerability,
            title,
            Severity::Info,
            placeholder,
        );
        util::add_vulnerability_id(&mut finding, &id);
        if let Some(nvd) = record.metadata.and_then(|metadata| metadata.nvd) {
            for (cvss, version) in [(nvd.cvss_v2, None), (nvd.cvss_v3, Some("3.1"))] {
                if let Some(vector) = cvss.and_then(|cvss| present(cvss.vectors.as_deref())) {
                    util::add_cvss(&mut finding, &report_shared::prefixed_vector(&vector, version));
                }
            }
        }
        let word = util::non_empty(record.severity.as_deref()).or_else(|| bucket.map(str::to_string));
        finding.severity = util::severity_or_cvss(report_shared::severity_word(word.as_deref()), &finding);
        finding.description = util::non_empty(record.description.as_deref());
        finding.references.extend(present(record.link.as_deref()));
        finding.fix.fixed_versions.extend(present(record.fixedby.as_deref()));
        if let Some(namespace) = present(record.namespace.as_deref()) {
            finding.attributes.insert("namespace".into(), namespace);
        }

        let component = Component {
            name,
            version,
            purl: None,
            ecosystem: None,
        };
        if self.image.is_some() {
            self.send(finding, component);
        } else {
            self.pending.push((finding, component));
        }
        Ok(())
    }

    fn send(&mut self, mut finding: Finding, component: Component) {
        let Some((key, target)) = &self.image else {
            return;
        };
        finding.asset = key.clone();
        finding.target = Some(target.clone());
        self.assets.send_component(self.sink, key, &component);
        finding.component = Some(component);
        self.sink.finding(finding);
    }
}

// ---------------------------------------------------------------------------
// Streaming: the top-level object, clair-scanner's array and klar's buckets.
// ---------------------------------------------------------------------------

struct ReportSeed<'s, 'a> {
    emitter: &'s mut Emitter<'a>,
}

impl<'de> DeserializeSeed<'de> for ReportSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ReportSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a Clair report: an object with image and vulnerabilities (clair-scanner) or Vulnerabilities (klar)",
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let emitter = self.emitter;
        let mut has_records = false;
        let mut other_keys = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "image" => {
                    let image: Option<String> = map.next_value()?;
                    if emitter.image.is_none() {
                        emitter.set_image(image.as_deref());
                    }
                }
                "vulnerabilities" => {
                    let mut handle = |record: Record| emitter.handle(record, None);
                    map.next_value_seed(EachElement::new("an array of Clair vulnerabilities", &mut handle))?;
                    has_records = true;
                }
                "Vulnerabilities" => {
                    // klar names no image: the scope is known from the start.
                    if emitter.image.is_none() {
                        emitter.set_image(None);
                    }
                    map.next_value_seed(BucketsSeed { emitter: &mut *emitter })?;
                    has_records = true;
                }
                _ => {
                    report_shared::remember_key(&mut other_keys, &key);
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        if !has_records {
            return Err(de::Error::custom(format!(
                "not a Clair report: expected a vulnerabilities array (clair-scanner) or a Vulnerabilities \
                 object (klar) at the top level, found {}",
                report_shared::found_keys(&other_keys)
            )));
        }
        if emitter.image.is_none() {
            emitter.set_image(None);
        }
        Ok(())
    }
}

/// klar's `Vulnerabilities`: an object of arrays keyed by severity.
struct BucketsSeed<'s, 'a> {
    emitter: &'s mut Emitter<'a>,
}

impl<'de> DeserializeSeed<'de> for BucketsSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for BucketsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of vulnerability arrays keyed by severity")
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(bucket) = map.next_key::<String>()? {
            let mut handle = |record: Record| self.emitter.handle(record, Some(&bucket));
            map.next_value_seed(EachElement::new("an array of klar vulnerabilities", &mut handle))?;
        }
        Ok(())
    }
}
