//! The lean shapes of a SARIF run's parts. Fields that findings do not
//! use are skipped by serde without being kept.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::util;

/// Reads a scalar as text through [`util::loose_text`].
pub(super) struct LooseTextSeed;

impl<'de> DeserializeSeed<'de> for LooseTextSeed {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<String>, D::Error> {
        util::loose_text(deserializer)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Tool {
    pub(super) driver: ToolComponent,
    pub(super) extensions: Vec<ToolComponent>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ToolComponent {
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) name: Option<String>,
    pub(super) rules: Vec<Rule>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Rule {
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) id: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) name: Option<String>,
    pub(super) short_description: Option<Message>,
    pub(super) full_description: Option<Message>,
    pub(super) help: Option<Message>,
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) help_uri: Option<String>,
    pub(super) default_configuration: Option<Configuration>,
    pub(super) message_strings: BTreeMap<String, Message>,
    pub(super) relationships: Vec<RuleRelationship>,
    pub(super) properties: Properties,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Configuration {
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) level: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RuleRelationship {
    pub(super) target: Option<DescriptorReference>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct DescriptorReference {
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) id: Option<String>,
    pub(super) index: Option<i64>,
    pub(super) tool_component: Option<ComponentReference>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ComponentReference {
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) name: Option<String>,
    pub(super) index: Option<i64>,
}

/// A message or multiformat message string.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(super) struct Message {
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) text: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) markdown: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) id: Option<String>,
    #[serde(deserialize_with = "text_list")]
    pub(super) arguments: Vec<String>,
}

/// The property bag keys that findings use, on rules and on results.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Properties {
    #[serde(deserialize_with = "text_list")]
    pub(super) tags: Vec<String>,
    #[serde(rename = "security-severity", deserialize_with = "util::loose_text")]
    pub(super) security_severity: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) severity: Option<String>,
    #[serde(deserialize_with = "text_list")]
    pub(super) cwe: Vec<String>,
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) reference: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) offender: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) commit: Option<String>,
    #[serde(rename = "cvssv3_baseScore", deserialize_with = "util::loose_text")]
    pub(super) cvss3_score: Option<String>,
    #[serde(rename = "cvssv3_version", deserialize_with = "util::loose_text")]
    pub(super) cvss3_version: Option<String>,
    #[serde(rename = "cvssv3_attackVector", deserialize_with = "util::loose_text")]
    pub(super) cvss3_attack_vector: Option<String>,
    #[serde(rename = "cvssv3_attackComplexity", deserialize_with = "util::loose_text")]
    pub(super) cvss3_attack_complexity: Option<String>,
    #[serde(rename = "cvssv3_privilegesRequired", deserialize_with = "util::loose_text")]
    pub(super) cvss3_privileges_required: Option<String>,
    #[serde(rename = "cvssv3_userInteraction", deserialize_with = "util::loose_text")]
    pub(super) cvss3_user_interaction: Option<String>,
    #[serde(rename = "cvssv3_scope", deserialize_with = "util::loose_text")]
    pub(super) cvss3_scope: Option<String>,
    #[serde(rename = "cvssv3_confidentialityImpact", deserialize_with = "util::loose_text")]
    pub(super) cvss3_confidentiality: Option<String>,
    #[serde(rename = "cvssv3_integrityImpact", deserialize_with = "util::loose_text")]
    pub(super) cvss3_integrity: Option<String>,
    #[serde(rename = "cvssv3_availabilityImpact", deserialize_with = "util::loose_text")]
    pub(super) cvss3_availability: Option<String>,
    #[serde(rename = "cvssv2_accessVector", deserialize_with = "util::loose_text")]
    pub(super) cvss2_access_vector: Option<String>,
    #[serde(rename = "cvssv2_accessComplexity", deserialize_with = "util::loose_text")]
    pub(super) cvss2_access_complexity: Option<String>,
    // Dependency-Check 6 spells this key with a trailing "r".
    #[serde(
        rename = "cvssv2_authenticationr",
        alias = "cvssv2_authentication",
        deserialize_with = "util::loose_text"
    )]
    pub(super) cvss2_authentication: Option<String>,
    #[serde(rename = "cvssv2_confidentialImpact", deserialize_with = "util::loose_text")]
    pub(super) cvss2_confidentiality: Option<String>,
    #[serde(rename = "cvssv2_integrityImpact", deserialize_with = "util::loose_text")]
    pub(super) cvss2_integrity: Option<String>,
    #[serde(rename = "cvssv2_availabilityImpact", deserialize_with = "util::loose_text")]
    pub(super) cvss2_availability: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct ArtifactLocation {
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) uri: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) uri_base_id: Option<String>,
    pub(super) index: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Artifact {
    pub(super) location: Option<ArtifactLocation>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct VersionControl {
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) repository_uri: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) revision_id: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) branch: Option<String>,
    pub(super) mapped_to: Option<ArtifactLocation>,
}

/// One result, without the parts that findings do not use.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct SarifResult {
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) rule_id: Option<String>,
    pub(super) rule_index: Option<i64>,
    pub(super) rule: Option<DescriptorReference>,
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) kind: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) level: Option<String>,
    pub(super) message: Message,
    pub(super) locations: Vec<ResultLocation>,
    #[serde(deserialize_with = "text_map")]
    pub(super) fingerprints: BTreeMap<String, String>,
    #[serde(deserialize_with = "text_map")]
    pub(super) partial_fingerprints: BTreeMap<String, String>,
    pub(super) suppressions: Vec<Suppression>,
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) baseline_state: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) rank: Option<String>,
    pub(super) fixes: Vec<SarifFix>,
    pub(super) properties: Properties,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct ResultLocation {
    pub(super) physical_location: Option<PhysicalLocation>,
    pub(super) logical_locations: Vec<LogicalLocation>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct PhysicalLocation {
    pub(super) artifact_location: Option<ArtifactLocation>,
    pub(super) region: Option<Region>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Region {
    pub(super) start_line: Option<i64>,
    pub(super) end_line: Option<i64>,
    pub(super) start_column: Option<i64>,
    pub(super) snippet: Option<Message>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct LogicalLocation {
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) fully_qualified_name: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    pub(super) name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Suppression {
    /// `accepted`, `underReview` or `rejected`; SARIF drafts called it `state`.
    #[serde(alias = "state", deserialize_with = "util::loose_text")]
    pub(super) status: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SarifFix {
    pub(super) description: Option<Message>,
}

/// Deserializes a string or an array of scalars into a list of texts;
/// other shapes give an empty list.
pub(super) fn text_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    struct TextList;

    impl<'de> Visitor<'de> for TextList {
        type Value = Vec<String>;

        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("a string or an array of strings")
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<Vec<String>, E> {
            Ok(vec![value.to_string()])
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<Vec<String>, E> {
            Ok(vec![value.to_string()])
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<Vec<String>, E> {
            Ok(vec![value.to_string()])
        }

        fn visit_unit<E: de::Error>(self) -> Result<Vec<String>, E> {
            Ok(Vec::new())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut texts = Vec::new();
            while let Some(text) = seq.next_element_seed(LooseTextSeed)? {
                texts.extend(text);
            }
            Ok(texts)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Vec::new())
        }
    }

    deserializer.deserialize_any(TextList)
}

/// Deserializes an object of scalars (fingerprints) into a sorted map of
/// texts, dropping values that are not scalars.
pub(super) fn text_map<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error> {
    struct TextMap;

    impl<'de> Visitor<'de> for TextMap {
        type Value = BTreeMap<String, String>;

        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("an object of strings")
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut texts = BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                if let Some(value) = map.next_value_seed(LooseTextSeed)? {
                    texts.insert(key, value);
                }
            }
            Ok(texts)
        }
    }

    deserializer.deserialize_any(TextMap)
}
