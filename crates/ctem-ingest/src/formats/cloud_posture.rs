//! Pieces that the cloud posture (CSPM) parsers share: Prowler in its
//! JSON, CSV and OCSF outputs, and ScoutSuite.
//!
//! Every one of them reports checks of a cloud account's configuration, so
//! they share the same model mapping:
//!
//! - the scope target is the account, written `<provider>:<account>`
//!   (`aws:123456789012`, `azure:<subscription>`, `gcp:<project>`), so that
//!   a rescan of the account closes the findings that it no longer reports;
//! - the account is a [`AssetKind::CloudResource`] asset keyed by that same
//!   text, and it `Contains` every resource that a finding names;
//! - a resource is a [`AssetKind::CloudResource`] keyed by its ARN or its
//!   Azure resource id, which are unique across accounts, or else by its id
//!   qualified with the provider, the account and the region (see
//!   [`resource_identifier`]).
//!
//! The module also reads CSV with the safeguards the Prowler CSV parsers
//! need: delimiter detection from the header line, a bound on the length
//! of a line, and errors with the line of the bad record.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::io::{self, BufRead, Read};
use std::marker::PhantomData;

use ctem_model::{
    Asset, AssetKey, AssetKind, Finding, FindingKind, Relationship, RelationshipKind, Severity, SourceStatus,
};

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::{ParseContext, ParseError, Position, Sink, util};

/// The maximum length in bytes of one line of a CSV report. Prowler writes
/// one finding per line, and its largest field (the resource details) stays
/// far below this, so a longer line means a corrupt or hostile file.
pub(crate) const MAX_CSV_LINE_BYTES: usize = 16 * 1024 * 1024;

/// The outcome of a check, read from Prowler's status words (`PASS`,
/// `FAIL`, `INFO`, `MANUAL`, `WARNING`, `MUTED`) in any case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The check failed.
    Fail,
    Pass,
    /// Prowler v2 writes `INFO` where a check had nothing to judge (no
    /// resource of its kind in a region) or only gives information.
    Info,
    /// The check needs a person to look (`MANUAL`, Prowler 4 and later).
    Manual,
    /// A failed check that the user muted, in a report that writes it as
    /// the status instead of setting a separate muted flag: `MUTED`, or the
    /// `WARNING` of Prowler v2, which its README describes as what it shows
    /// "when a resource is excluded" by the allowlist.
    Muted,
    /// Any other word, such as `ERROR` for a check that could not run.
    Other,
}

impl Verdict {
    /// Reads a status word.
    pub(crate) fn parse(text: &str) -> Verdict {
        match text.trim().to_ascii_uppercase().as_str() {
            "FAIL" | "FAILED" => Verdict::Fail,
            "PASS" | "PASSED" => Verdict::Pass,
            "INFO" => Verdict::Info,
            "MANUAL" => Verdict::Manual,
            "MUTED" | "WARNING" => Verdict::Muted,
            _ => Verdict::Other,
        }
    }
}

/// A cloud account (an AWS account, an Azure subscription, a GCP project,
/// a Kubernetes cluster) as a report names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CloudAccount {
    /// The provider in lowercase: `aws`, `azure`, `gcp`, `kubernetes`...
    pub provider: String,
    pub uid: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub organization: Option<String>,
}

impl CloudAccount {
    /// Builds an account from report text, or `None` when the report names
    /// no account.
    pub(crate) fn new(provider: &str, uid: Option<&str>) -> Option<CloudAccount> {
        let uid = util::non_empty(uid)?;
        Some(CloudAccount {
            provider: provider_name(provider),
            uid,
            ..CloudAccount::default()
        })
    }

    /// Returns the scope target and the identifier of the account asset:
    /// `<provider>:<account>`.
    pub(crate) fn target(&self) -> String {
        format!("{}:{}", self.provider, self.uid)
    }
}

/// Returns the provider name in lowercase, or `cloud` when the report
/// gives none.
pub(crate) fn provider_name(text: &str) -> String {
    let name = text.trim().to_ascii_lowercase();
    if name.is_empty() { "cloud".to_string() } else { name }
}

/// A resource that a check judged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CloudResource {
    /// The resource's id as the report gives it: an ARN, an Azure resource
    /// id, or a name or id that is only unique within its account.
    pub uid: String,
    pub name: Option<String>,
    pub region: Option<String>,
    /// The provider's or the tool's resource type (`AwsIamRole`).
    pub resource_type: Option<String>,
    pub service: Option<String>,
    /// The AWS partition (`aws`, `aws-cn`, `aws-us-gov`).
    pub partition: Option<String>,
    /// Tags as `key=value`.
    pub tags: Vec<String>,
}

/// Returns the identifier of a resource asset. ARNs and Azure resource ids
/// name a resource across accounts and are kept, Azure ids in lowercase
/// because Azure compares them without case and tools spell their segments
/// differently. A resource whose id is the account's id is the account
/// itself. Any other id is qualified as `<provider>:<account>:<region>:<id>`,
/// leaving out the parts that the report does not give.
pub(crate) fn resource_identifier(
    account: Option<&CloudAccount>,
    provider: &str,
    region: Option<&str>,
    uid: &str,
) -> String {
    let uid = uid.trim();
    if let Some(account) = account
        && account.uid == uid
    {
        return account.target();
    }
    if uid.starts_with("arn:") {
        return uid.to_string();
    }
    let azure_prefix = uid.get(..15).filter(|_| uid.len() > 15);
    if azure_prefix.is_some_and(|prefix| prefix.eq_ignore_ascii_case("/subscriptions/")) {
        return uid.to_ascii_lowercase();
    }

    let mut parts = vec![provider.to_string()];
    if let Some(account) = account {
        parts.push(account.uid.clone());
    }
    if let Some(region) = util::non_empty(region) {
        parts.push(region);
    }
    parts.push(uid.to_string());
    parts.join(":")
}

/// Returns the last segment of an ARN or Azure resource id, a name for
/// people (`arn:aws:s3:::shop-assets` -> `shop-assets`), or the id itself.
fn short_name(uid: &str) -> &str {
    let is_global = uid.starts_with("arn:") || uid.starts_with('/');
    match uid.rsplit(['/', ':']).next() {
        Some(last) if is_global && !last.is_empty() => last,
        _ => uid,
    }
}

/// The accounts and resources of one report already sent to the sink, and
/// the scope targets already declared.
pub(crate) struct CloudAssets {
    tool: &'static str,
    sent: HashSet<AssetKey>,
    targets: HashSet<String>,
}

impl CloudAssets {
    pub(crate) fn new(tool: &'static str) -> CloudAssets {
        CloudAssets {
            tool,
            sent: HashSet::new(),
            targets: HashSet::new(),
        }
    }

    /// Declares the scope target of the account, sends the account asset
    /// the first time, and returns the target.
    pub(crate) fn account(&mut self, sink: &mut dyn Sink, account: &CloudAccount) -> String {
        let target = account.target();
        if self.targets.insert(target.clone()) {
            sink.target(self.tool, &target);
        }

        let key = AssetKey::new(AssetKind::CloudResource, &target);
        if self.sent.insert(key) {
            let name = account.name.clone().unwrap_or_else(|| account.uid.clone());
            let mut asset = Asset::new(AssetKind::CloudResource, &target, name);
            asset.add_identifier("cloud_account", target.clone());
            asset.attributes.insert("provider".into(), account.provider.clone());
            asset.attributes.insert("account_id".into(), account.uid.clone());
            asset.attributes.insert("resource_type".into(), "account".into());
            let optional = [
                ("account_name", &account.name),
                ("account_email", &account.email),
                ("organization", &account.organization),
            ];
            for (name, value) in optional {
                if let Some(value) = value {
                    asset.attributes.insert(name.to_string(), value.clone());
                }
            }
            sink.asset(asset);
        }
        target
    }

    /// Declares a scope target that is no account (the default target of a
    /// report that names none).
    pub(crate) fn other_target(&mut self, sink: &mut dyn Sink, target: &str) {
        if self.targets.insert(target.to_string()) {
            sink.target(self.tool, target);
        }
    }

    /// Sends the asset of a resource the first time, with the account's
    /// `Contains` relationship, and returns its key. The account must have
    /// been sent with [`CloudAssets::account`] before.
    pub(crate) fn resource(
        &mut self,
        sink: &mut dyn Sink,
        account: Option<&CloudAccount>,
        provider: &str,
        resource: &CloudResource,
    ) -> AssetKey {
        let identifier = resource_identifier(account, provider, resource.region.as_deref(), &resource.uid);
        let key = AssetKey::new(AssetKind::CloudResource, &identifier);
        if !self.sent.insert(key.clone()) {
            return key;
        }

        let name = resource
            .name
            .clone()
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| short_name(&resource.uid).to_string());
        let mut asset = Asset::new(AssetKind::CloudResource, &identifier, name);
        asset.add_identifier("resource_id", resource.uid.clone());
        if resource.uid.starts_with("arn:") {
            asset.add_identifier("arn", resource.uid.clone());
        }
        asset.attributes.insert("provider".into(), provider.to_string());
        if let Some(account) = account {
            asset.add_identifier("cloud_account", account.target());
            asset.attributes.insert("account_id".into(), account.uid.clone());
        }
        let optional = [
            ("region", &resource.region),
            ("resource_type", &resource.resource_type),
            ("service", &resource.service),
            ("partition", &resource.partition),
        ];
        for (name, value) in optional {
            if let Some(value) = util::non_empty(value.as_deref()) {
                asset.attributes.insert(name.to_string(), value);
            }
        }
        asset.tags = resource.tags.clone();
        sink.asset(asset);

        if let Some(account) = account {
            let account_key = AssetKey::new(AssetKind::CloudResource, &account.target());
            if account_key != key {
                sink.relationship(Relationship::new(account_key, RelationshipKind::Contains, key.clone()));
            }
        }
        key
    }

    /// Declares the default target when the report named no account, so
    /// that an empty report still covers a scope.
    pub(crate) fn finish(&mut self, sink: &mut dyn Sink, context: &ParseContext<'_>) {
        if self.targets.is_empty() {
            self.other_target(sink, context.default_target);
        }
    }
}

/// One check result to report as a finding, in the terms that every
/// cloud posture format shares.
#[derive(Debug, Clone)]
pub(crate) struct CheckFinding {
    /// The account checked, or `None` when the report names none.
    pub account: Option<CloudAccount>,
    /// The provider in lowercase (see [`provider_name`]).
    pub provider: String,
    /// The resource judged, or `None` for a check of the whole account.
    pub resource: Option<CloudResource>,
    pub rule_id: String,
    pub title: String,
    pub severity: Severity,
    pub source_status: Option<SourceStatus>,
    pub description: Option<String>,
    pub remediation: Option<String>,
    /// The tool's text about this one result (Prowler's extended status).
    pub evidence: Option<String>,
    pub references: Vec<String>,
    pub tool_fingerprint: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

impl CloudAssets {
    /// Sends a check result as a `Misconfiguration` finding on its
    /// resource (or on the account when it names no resource), with the
    /// assets and the scope target it needs.
    pub(crate) fn emit(&mut self, sink: &mut dyn Sink, context: &ParseContext<'_>, check: CheckFinding) {
        let target = match &check.account {
            Some(account) => self.account(sink, account),
            None => {
                self.other_target(sink, context.default_target);
                context.default_target.to_string()
            }
        };

        let asset = match (&check.resource, &check.account) {
            (Some(resource), account) => self.resource(sink, account.as_ref(), &check.provider, resource),
            (None, Some(account)) => AssetKey::new(AssetKind::CloudResource, &account.target()),
            (None, None) => {
                let key = AssetKey::new(AssetKind::CloudResource, &target);
                if self.sent.insert(key.clone()) {
                    sink.asset(Asset::new(AssetKind::CloudResource, &target, target.clone()));
                }
                key
            }
        };

        let mut finding = Finding::new(
            self.tool,
            check.rule_id,
            FindingKind::Misconfiguration,
            check.title,
            check.severity,
            asset,
        );
        finding.description = check.description;
        finding.fix.description = check.remediation;
        finding.evidence = check.evidence;
        finding.references = check.references;
        finding.source_status = check.source_status;
        finding.tool_fingerprint = check.tool_fingerprint;
        finding.attributes = check.attributes;
        finding.target = Some(target);
        sink.finding(finding);
    }
}

/// Reads a JSON report that is one array of records, handing each record
/// to `each` as it is read, so that one record at a time is in memory.
/// `expected` names the report for the message about another root value.
pub(crate) fn read_json_array<T, F>(
    reader: &mut dyn BufRead,
    expected: &'static str,
    each: F,
) -> Result<(), serde_json::Error>
where
    T: DeserializeOwned,
    F: FnMut(T),
{
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    deserializer.deserialize_any(ArrayVisitor {
        expected,
        each,
        record: PhantomData,
    })?;
    deserializer.end()
}

struct ArrayVisitor<T, F> {
    expected: &'static str,
    each: F,
    record: PhantomData<fn() -> T>,
}

impl<'de, T: DeserializeOwned, F: FnMut(T)> Visitor<'de> for ArrayVisitor<T, F> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        write!(formatter, "{} (a JSON array of findings)", self.expected)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(record) = seq.next_element::<T>()? {
            (self.each)(record);
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // The first key is enough to say what the file is.
        let key: Option<String> = map.next_key()?;
        let found = key.map_or_else(
            || "an empty object".to_string(),
            |k| format!("an object with key {k:?}"),
        );
        Err(de::Error::custom(format!(
            "expected {} (a JSON array of findings), found {found}; is this another tool's report?",
            self.expected
        )))
    }
}

/// Compliance requirements, as `framework: ids` joined with ` | ` (the way
/// Prowler's CSV writes them). Reads a map of framework to a list of ids
/// (Prowler 3 and OCSF), a list of texts, or one text.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Compliance(pub Option<String>);

impl<'de> Deserialize<'de> for Compliance {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Compliance, D::Error> {
        struct ComplianceVisitor;

        impl<'de> Visitor<'de> for ComplianceVisitor {
            type Value = Compliance;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("compliance requirements: a map of framework to ids, a list or a text")
            }

            fn visit_unit<E: de::Error>(self) -> Result<Compliance, E> {
                Ok(Compliance(None))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Compliance, E> {
                Ok(Compliance(util::non_empty(Some(text))))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Compliance, A::Error> {
                let mut parts = Vec::new();
                while let Some(text) = seq.next_element::<Texts>()? {
                    parts.extend(text.0);
                }
                Ok(Compliance((!parts.is_empty()).then(|| parts.join(" | "))))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Compliance, A::Error> {
                let mut parts = Vec::new();
                while let Some((framework, ids)) = map.next_entry::<String, Texts>()? {
                    parts.push(format!("{framework}: {}", ids.0.join(", ")));
                }
                Ok(Compliance((!parts.is_empty()).then(|| parts.join(" | "))))
            }
        }

        deserializer.deserialize_any(ComplianceVisitor)
    }
}

/// Texts from a string, a list of strings, or `null`. Numbers become text
/// and nested values are skipped.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Texts(pub Vec<String>);

impl<'de> Deserialize<'de> for Texts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Texts, D::Error> {
        struct TextsVisitor;

        impl<'de> Visitor<'de> for TextsVisitor {
            type Value = Texts;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a text or a list of texts")
            }

            fn visit_unit<E: de::Error>(self) -> Result<Texts, E> {
                Ok(Texts::default())
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Texts, E> {
                Ok(Texts(util::non_empty(Some(text)).into_iter().collect()))
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Texts, E> {
                Ok(Texts(vec![value.to_string()]))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Texts, E> {
                Ok(Texts(vec![value.to_string()]))
            }

            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Texts, E> {
                Ok(Texts(vec![value.to_string()]))
            }

            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Texts, E> {
                Ok(Texts(vec![value.to_string()]))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Texts, A::Error> {
                let mut texts = Vec::new();
                while let Some(text) = seq.next_element::<Option<LooseText>>()? {
                    texts.extend(text.and_then(|text| text.0));
                }
                Ok(Texts(texts))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Texts, A::Error> {
                while map.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
                Ok(Texts::default())
            }
        }

        deserializer.deserialize_any(TextsVisitor)
    }
}

/// A scalar read as text (see [`util::loose_text`]), `None` when empty.
pub(crate) struct LooseText(pub Option<String>);

impl<'de> Deserialize<'de> for LooseText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<LooseText, D::Error> {
        let text = util::loose_text(deserializer)?;
        Ok(LooseText(util::non_empty(text.as_deref())))
    }
}

/// Resource tags as `key=value`, from a map (`{"env": "prod"}`), a list of
/// AWS tag objects (`[{"Key": "env", "Value": "prod"}]`) or a list of
/// texts (OCSF labels).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Tags(pub Vec<String>);

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Tags, D::Error> {
        struct TagsVisitor;

        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Tag {
            Pair {
                #[serde(rename = "Key", alias = "key")]
                key: String,
                #[serde(rename = "Value", alias = "value", default)]
                value: Option<String>,
            },
            Text(String),
            Other(de::IgnoredAny),
        }

        impl<'de> Visitor<'de> for TagsVisitor {
            type Value = Tags;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("tags as a map or a list")
            }

            fn visit_unit<E: de::Error>(self) -> Result<Tags, E> {
                Ok(Tags::default())
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Tags, E> {
                Ok(Tags(split_list(text)))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tags, A::Error> {
                let mut tags = Vec::new();
                while let Some(tag) = seq.next_element::<Tag>()? {
                    match tag {
                        Tag::Pair { key, value } => tags.push(format!("{key}={}", value.unwrap_or_default())),
                        Tag::Text(text) if !text.trim().is_empty() => tags.push(text.trim().to_string()),
                        Tag::Text(_) | Tag::Other(_) => {}
                    }
                }
                Ok(Tags(tags))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tags, A::Error> {
                let mut tags = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, LooseText>()? {
                    tags.push(format!("{key}={}", value.0.unwrap_or_default()));
                }
                Ok(Tags(tags))
            }
        }

        deserializer.deserialize_any(TagsVisitor)
    }
}

/// Splits a ` | `-separated list (Prowler's CSV lists), dropping empty
/// items.
pub(crate) fn split_list(text: &str) -> Vec<String> {
    text.split('|')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect()
}

/// Reads the severity word of a Prowler check (`critical` to
/// `informational`), `Info` where it is missing or unknown. A failed check
/// that Prowler rates informational still reports a weakness to fix, so it
/// is `Low`, as DefectDojo rates it; other results keep `Info`.
pub(crate) fn check_severity(word: Option<&str>, failed: bool) -> Severity {
    match word.and_then(|word| word.parse::<Severity>().ok()) {
        Some(Severity::Info) if failed => Severity::Low,
        Some(severity) => severity,
        None => Severity::Info,
    }
}

/// Inserts an attribute when the value has text.
pub(crate) fn put(attributes: &mut BTreeMap<String, String>, name: &str, value: Option<&str>) {
    if let Some(value) = util::non_empty(value) {
        attributes.insert(name.to_string(), value);
    }
}

/// Adds the text as a reference when it is an http or https URL (Prowler
/// lists command lines among its remediation references) and not yet
/// listed.
pub(crate) fn add_reference(references: &mut Vec<String>, text: &str) {
    let text = text.trim();
    let is_url = text.starts_with("https://") || text.starts_with("http://");
    if is_url && !text.contains(char::is_whitespace) && !references.iter().any(|r| r == text) {
        references.push(text.to_string());
    }
}

/// Joins the description and the risk of a check into one text.
pub(crate) fn describe(description: Option<&str>, risk: Option<&str>) -> Option<String> {
    let description = util::non_empty(description);
    let risk = util::non_empty(risk).map(|risk| format!("Risk: {risk}"));
    match (description, risk) {
        (Some(description), Some(risk)) => Some(format!("{description}\n\n{risk}")),
        (description, risk) => description.or(risk),
    }
}

/// Returns the check id in the `[check114] Ensure ...` titles of Prowler v2,
/// and the title without it.
pub(crate) fn split_v2_title(text: &str) -> (Option<String>, String) {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix('[')
        && let Some((id, title)) = rest.split_once(']')
        && !id.trim().is_empty()
    {
        return (Some(id.trim().to_string()), title.trim().to_string());
    }
    (None, text.to_string())
}

/// Removes HTML tags (`<samp>`, `<br>`) from a one-line text.
pub(crate) fn strip_tags(text: &str) -> String {
    let mut output = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => output.push(c),
            _ => {}
        }
    }
    output.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A reader that fails once a line grows longer than a bound, and counts
/// lines so that the failure can name the line.
pub(crate) struct LineLimit<R> {
    inner: R,
    max: usize,
    line: u64,
    run: usize,
    /// The line that grew too long, once one did.
    exceeded: Option<u64>,
}

impl<R: Read> LineLimit<R> {
    pub(crate) fn new(inner: R, max: usize) -> LineLimit<R> {
        LineLimit {
            inner,
            max,
            line: 1,
            run: 0,
            exceeded: None,
        }
    }
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let count = self.inner.read(buffer)?;
        for &byte in &buffer[..count] {
            if byte == b'\n' {
                self.line += 1;
                self.run = 0;
                continue;
            }
            self.run += 1;
            if self.run > self.max {
                self.exceeded = Some(self.line);
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("line {} is longer than {} bytes", self.line, self.max),
                ));
            }
        }
        Ok(count)
    }
}

/// The input of the CSV reader: the header line read for delimiter
/// detection, then the rest of the file, under a bound on line length.
type CsvInput<'r> = LineLimit<io::Chain<io::Cursor<Vec<u8>>, &'r mut dyn BufRead>>;

/// A CSV report opened for reading: the header's column indexes and a
/// reader of the records that follow.
pub(crate) struct CsvTable<'r> {
    reader: csv::Reader<CsvInput<'r>>,
    columns: HashMap<String, usize>,
    path: String,
    format: &'static str,
    record: csv::StringRecord,
}

impl<'r> CsvTable<'r> {
    /// Reads the header line, picks the delimiter that it uses most (`;`
    /// for Prowler 3 and later, `,` for Prowler 2, or a tab), and returns
    /// `None` for a file with no header at all.
    pub(crate) fn open(
        context: &ParseContext<'_>,
        format: &'static str,
        reader: &'r mut dyn BufRead,
    ) -> Result<Option<CsvTable<'r>>, ParseError> {
        let mut header = Vec::new();
        let limit = MAX_CSV_LINE_BYTES as u64 + 1;
        reader
            .take(limit)
            .read_until(b'\n', &mut header)
            .map_err(|error| ParseError::new(context.path, format, None, format!("read failed: {error}")))?;
        if header.len() as u64 >= limit && !header.ends_with(b"\n") {
            return Err(ParseError::new(
                context.path,
                format,
                Some(Position::LineColumn { line: 1, column: limit }),
                format!("the header line is longer than {MAX_CSV_LINE_BYTES} bytes; this is no CSV report"),
            ));
        }
        if util::trim_start(&header).is_empty() {
            return Ok(None);
        }

        let delimiter = guess_delimiter(&header);
        let input = LineLimit::new(io::Cursor::new(header).chain(reader), MAX_CSV_LINE_BYTES);
        let mut csv_reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(true)
            .flexible(false)
            .from_reader(input);
        let headers = match csv_reader.headers() {
            Ok(headers) => headers.clone(),
            Err(error) => return Err(csv_error(context.path, format, &error, csv_reader.get_ref())),
        };
        let columns = headers
            .iter()
            .enumerate()
            .map(|(index, name)| (name.trim().to_ascii_uppercase(), index))
            .collect();

        Ok(Some(CsvTable {
            reader: csv_reader,
            columns,
            path: context.path.to_string(),
            format,
            record: csv::StringRecord::new(),
        }))
    }

    /// Returns the index of the first of the named columns that the header
    /// has.
    pub(crate) fn column(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|name| self.columns.get(*name).copied())
    }

    /// Reads the next record, or returns `false` at the end of the file.
    pub(crate) fn next_record(&mut self) -> Result<bool, ParseError> {
        self.reader
            .read_record(&mut self.record)
            .map_err(|error| csv_error(&self.path, self.format, &error, self.reader.get_ref()))
    }

    /// Returns the trimmed text of a column of the current record, or
    /// `None` when the column is missing or empty.
    pub(crate) fn get(&self, column: Option<usize>) -> Option<&str> {
        column
            .and_then(|index| self.record.get(index))
            .map(str::trim)
            .filter(|text| !text.is_empty())
    }
}

/// Picks the delimiter that occurs most often outside quotes in the header
/// line, preferring `;` on a tie because Prowler 3 and later use it.
fn guess_delimiter(header: &[u8]) -> u8 {
    let mut counts = [(b';', 0usize), (b',', 0), (b'\t', 0)];
    let mut quoted = false;
    for &byte in header {
        if byte == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(entry) = counts.iter_mut().find(|(delimiter, _)| *delimiter == byte) {
            entry.1 += 1;
        }
    }
    counts
        .iter()
        .fold(
            (b';', 0),
            |best, &(delimiter, count)| if count > best.1 { (delimiter, count) } else { best },
        )
        .0
}

/// Turns a CSV reader error into a parse error that names the line.
fn csv_error<R>(path: &str, format: &str, error: &csv::Error, input: &LineLimit<R>) -> ParseError {
    let at_line = |line: u64| Some(Position::LineColumn { line, column: 1 });
    match error.kind() {
        csv::ErrorKind::Io(_) if input.exceeded.is_some() => {
            let line = input.exceeded.unwrap_or(input.line);
            ParseError::new(
                path,
                format,
                Some(Position::LineColumn {
                    line,
                    column: input.max as u64 + 1,
                }),
                format!(
                    "the line is longer than {} bytes; the file is corrupt or no {format} report",
                    input.max
                ),
            )
        }
        csv::ErrorKind::Io(io_error) => ParseError::new(path, format, None, format!("read failed: {io_error}")),
        csv::ErrorKind::Utf8 { pos, err } => ParseError::new(
            path,
            format,
            pos.as_ref().and_then(|pos| at_line(pos.line())),
            format!(
                "field {} of the record is not valid UTF-8 (after byte {} of the field); \
                 save the report as UTF-8",
                err.field() + 1,
                err.valid_up_to()
            ),
        ),
        csv::ErrorKind::UnequalLengths { pos, expected_len, len } => ParseError::new(
            path,
            format,
            pos.as_ref().and_then(|pos| at_line(pos.line())),
            format!(
                "the record has {len} fields but the header has {expected_len}; \
                 the file may be truncated or use another delimiter"
            ),
        ),
        _ => ParseError::new(path, format, None, format!("invalid CSV: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> CloudAccount {
        CloudAccount::new("AWS", Some("123456789012")).expect("an account")
    }

    #[test]
    fn verdict_words() {
        assert_eq!(Verdict::parse("Pass"), Verdict::Pass);
        assert_eq!(Verdict::parse("FAIL"), Verdict::Fail);
        assert_eq!(Verdict::parse("WARNING"), Verdict::Muted);
        assert_eq!(Verdict::parse("info"), Verdict::Info);
        assert_eq!(Verdict::parse("MANUAL"), Verdict::Manual);
        assert_eq!(Verdict::parse("MUTED"), Verdict::Muted);
        assert_eq!(Verdict::parse("ERROR"), Verdict::Other);
    }

    #[test]
    fn failed_informational_checks_are_low() {
        assert_eq!(check_severity(Some("Informational"), true), Severity::Low);
        assert_eq!(check_severity(Some("Informational"), false), Severity::Info);
        assert_eq!(check_severity(Some("critical"), true), Severity::Critical);
        assert_eq!(check_severity(None, true), Severity::Info);
        assert_eq!(check_severity(Some("severe"), true), Severity::Info);
    }

    #[test]
    fn identifiers_keep_global_ids() {
        let account = account();
        let arn = "arn:aws:iam::123456789012:role/deploy";
        assert_eq!(resource_identifier(Some(&account), "aws", Some("us-east-1"), arn), arn);
        assert_eq!(
            resource_identifier(Some(&account), "azure", None, "/subscriptions/AB/resourceGroups/RG"),
            "/subscriptions/ab/resourcegroups/rg"
        );
    }

    #[test]
    fn identifiers_qualify_local_ids() {
        let account = account();
        assert_eq!(
            resource_identifier(Some(&account), "aws", Some("eu-west-1"), "sg-0a1b"),
            "aws:123456789012:eu-west-1:sg-0a1b"
        );
        assert_eq!(
            resource_identifier(None, "kubernetes", None, "kube-apiserver"),
            "kubernetes:kube-apiserver"
        );
        assert_eq!(
            resource_identifier(None, "azure", None, "/subscriptionsé/x"),
            "azure:/subscriptionsé/x",
            "a multibyte character at the prefix boundary"
        );
        assert_eq!(
            resource_identifier(Some(&account), "aws", Some("us-east-1"), "123456789012"),
            "aws:123456789012",
            "the account itself"
        );
    }

    #[test]
    fn short_names_are_last_segments() {
        assert_eq!(short_name("arn:aws:s3:::shop-assets"), "shop-assets");
        assert_eq!(short_name("arn:aws:iam::123456789012:role/deploy"), "deploy");
        assert_eq!(
            short_name("/subscriptions/ab/resourceGroups/rg/providers/x/vaults/kv1"),
            "kv1"
        );
        assert_eq!(short_name("sg-0a1b"), "sg-0a1b");
        assert_eq!(short_name("arn:aws:s3:::logs/"), "arn:aws:s3:::logs/");
    }

    #[test]
    fn v2_titles_split() {
        assert_eq!(
            split_v2_title("[check114] Ensure hardware MFA is enabled"),
            (
                Some("check114".to_string()),
                "Ensure hardware MFA is enabled".to_string()
            )
        );
        assert_eq!(split_v2_title("No bracket"), (None, "No bracket".to_string()));
    }

    #[test]
    fn tags_are_stripped() {
        assert_eq!(
            strip_tags("Managed <samp>iam:PassRole</samp>  for all"),
            "Managed iam:PassRole for all"
        );
    }

    #[test]
    fn delimiters_are_guessed() {
        assert_eq!(guess_delimiter(b"A;B;C\n"), b';');
        assert_eq!(guess_delimiter(b"A,B,C\n"), b',');
        assert_eq!(guess_delimiter(b"\"A;x\",B,C\n"), b',');
        assert_eq!(guess_delimiter(b"A\tB\n"), b'\t');
    }

    #[test]
    fn references_are_urls() {
        let mut references = Vec::new();
        add_reference(&mut references, "https://docs.example/a");
        add_reference(&mut references, "https://docs.example/a");
        add_reference(&mut references, "--enable-admission-plugins=AlwaysPullImages");
        assert_eq!(references, ["https://docs.example/a"]);
    }
}
