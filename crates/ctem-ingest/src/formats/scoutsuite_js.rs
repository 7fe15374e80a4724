//! ScoutSuite results: the rules of a cloud security posture audit of an
//! AWS, Azure, GCP, Alibaba Cloud or Oracle Cloud account, and the
//! resources each rule flagged.
//!
//! # Reads
//!
//! The `scoutsuite_results_<account>.js` file that ScoutSuite 5.x writes
//! next to its HTML report: the line `scoutsuite_results =` followed by one
//! JSON object with `account_id`, `provider_code`, `provider_name`,
//! `last_run` (`version`, `time`, `ruleset_name`, `summary`) and
//! `services`. Each service has `findings`, a map of rule keys to rules
//! with `description`, `rationale`, `remediation`, `references`, `level`
//! (`danger` or `warning`), `path`, `display_path`, `dashboard_name`,
//! `compliance`, `checked_items`, `flagged_items` and `items`, the paths
//! of the flagged resources within the service
//! (`ec2.regions.eu-west-1.vpcs.vpc-1.security_groups.sg-2.rules.ingress.protocols.TCP.ports.22.cidrs.0.CIDR`).
//! The same object without the `scoutsuite_results =` line (the JSON
//! result format) is read too. A report whose `last_run.version` is not
//! 5.x is rejected.
//!
//! The object is read as a stream. The resource data of each service is
//! walked once to note the name, ARN and region of every resource, so that
//! a flagged path can name its resource. The notes of a service are
//! dropped once its findings are sent.
//!
//! # Field mapping
//!
//! One finding per flagged item (a rule that flags 17 regions gives 17
//! findings):
//!
//! | report | finding |
//! | --- | --- |
//! | `<provider_code>:<rule key>` (`aws:cloudtrail-not-configured`) | `rule_id` |
//! | `description` without HTML tags | `title` |
//! | `level`: `danger` -> `Critical`, `warning` -> `Medium`, as DefectDojo maps them | `severity` |
//! | `rationale` as plain text | `description` |
//! | `remediation` | `fix.description` |
//! | `references` | `references` |
//! | the item path | `tool_fingerprint`, `evidence` |
//! | `protocols.<protocol>.ports.<port>` in the item path | `location.protocol`, `location.port` |
//! | `service`, `dashboard_name`, `level`, `compliance`, `last_run` | `attributes` |
//!
//! The resource of an item is the item path cut after the last `id` of the
//! rule's `display_path` (else its `path`): `s3.buckets.id` turns
//! `s3.buckets.5eb6...logging` into the bucket `s3.buckets.5eb6...`.
//! A rule whose path has no `id` (`iam.password_policy`) judges a setting
//! of the service, whose first two path segments name it. The resource's
//! ARN (or Azure resource id) keys its asset when ScoutSuite noted one,
//! else `<provider>:<account>:<region>:<resource path>`. Its name and
//! region come from the resource data, or from the path.
//!
//! Every finding is a `Misconfiguration`. ScoutSuite gives no CWE, so
//! none is set.
//!
//! # Scope target
//!
//! `<provider_code>:<account_id>` (`aws:123456789012`, `gcp:<project>`),
//! also for a report without flagged items, so that a rescan of the
//! account closes what it no longer flags. A report without `account_id`
//! covers [`ParseContext::default_target`].
//!
//! # Fingerprint
//!
//! Tool `scoutsuite`, the rule id, the resource asset and the item path,
//! which names the resource, the region and the flagged setting.
//!
//! # Not read yet
//!
//! `last_run.summary` and `run_parameters`, the `filters` and
//! `service_groups`, the `sg_map` and `subnet_map`, and the exceptions file
//! (`exceptions =`) of the HTML report.
//!
//! # Reference
//!
//! `JavaScriptEncoder.save_to_file` in `ScoutSuite/output/result_encoder.py`
//! of ScoutSuite 5 (<https://github.com/nccgroup/ScoutSuite>), which writes
//! the `scoutsuite_results =` line, then the JSON object with sorted keys.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::BufRead;
use std::rc::Rc;

use ctem_model::{Finding, FindingKind, Severity};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::cloud_posture::{self, CloudAccount, CloudAssets, CloudResource, LooseText, Texts};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "scoutsuite-js";
const TOOL: &str = "scoutsuite";
/// The assignment that opens a `.js` results file.
const JS_PREFIX: &[u8] = b"scoutsuite_results";
/// The maximum number of resources noted per service. Past it, flagged
/// items name their resource by path only, so that a hostile file cannot
/// grow the notes without bound.
const MAX_NOTED_RESOURCES: usize = 1_000_000;

/// The ScoutSuite results parser.
pub struct ScoutSuiteJs;

impl Parser for ScoutSuiteJs {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "ScoutSuite results",
            tool: "ScoutSuite",
            versions: "5.x (scoutsuite_results_*.js, and the JSON result format)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if head.starts_with(JS_PREFIX) {
            return Detection::Certain;
        }
        let is_results = head.starts_with(b"{")
            && util::contains(head, b"\"last_run\"")
            && util::contains(head, b"\"ruleset_about\"")
            && util::contains(head, b"\"ruleset_name\"");
        if is_results { Detection::Certain } else { Detection::No }
    }

    fn parse(
        &self,
        context: &ParseContext<'_>,
        reader: &mut dyn BufRead,
        sink: &mut dyn Sink,
    ) -> Result<(), ParseError> {
        skip_js_prefix(reader).map_err(|message| ParseError::new(context.path, FORMAT_ID, None, message))?;

        let mut state = ReportState {
            context,
            sink,
            assets: CloudAssets::new(TOOL),
            report: ReportFacts::default(),
            account: None,
            deferred: Vec::new(),
        };
        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        deserializer
            .deserialize_any(RootVisitor { state: &mut state })
            .and_then(|()| deserializer.end())
            .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))?;

        state.flush_deferred();
        state.assets.finish(state.sink, context);
        Ok(())
    }
}

/// Consumes the `scoutsuite_results =` assignment, if the file opens with
/// one, so that the JSON object follows. The JSON keeps its line numbers
/// because the newline after `=` is left for the JSON reader.
fn skip_js_prefix(reader: &mut dyn BufRead) -> Result<(), String> {
    // NOTE: the assignment must arrive in the first fill of the buffer. A
    // `BufReader` fills kilobytes at once, but a reader that returns a few
    // bytes at a time would make the file read as JSON without the prefix.
    let buffer = reader.fill_buf().map_err(|error| format!("read failed: {error}"))?;
    let start = buffer.strip_prefix(b"\xef\xbb\xbf").map_or(0, |_| 3);
    let text = &buffer[start..];
    let Some(after_name) = text.strip_prefix(JS_PREFIX) else {
        return Ok(());
    };
    let Some(equals) = after_name.iter().position(|&b| b == b'=') else {
        return Err("the file opens with `scoutsuite_results` but no `=` follows; is it truncated?".to_string());
    };
    if !after_name[..equals].iter().all(u8::is_ascii_whitespace) {
        return Err("expected `scoutsuite_results =` before the JSON object".to_string());
    }
    let consumed = start + JS_PREFIX.len() + equals + 1;
    reader.consume(consumed);
    Ok(())
}

/// The facts of the report that every finding carries.
#[derive(Debug, Default)]
struct ReportFacts {
    account_id: Option<String>,
    provider_code: Option<String>,
    version: Option<String>,
    time: Option<String>,
    ruleset_name: Option<String>,
    has_services: bool,
}

struct ReportState<'a, 'c> {
    context: &'a ParseContext<'c>,
    sink: &'a mut dyn Sink,
    assets: CloudAssets,
    report: ReportFacts,
    /// The account, once both `account_id` and `provider_code` are read.
    account: Option<CloudAccount>,
    /// Flagged items read before the account was known. ScoutSuite writes
    /// its keys sorted, so `account_id` and `provider_code` come before
    /// `services`, and this only contains the items of a report whose keys
    /// are not sorted or that names no account.
    deferred: Vec<FlaggedItem>,
}

/// One flagged item with its rule and resource, ready to become a finding.
struct FlaggedItem {
    rule_key: Rc<str>,
    rule: Rc<Rule>,
    item: String,
    resource: CloudResource,
}

impl ReportState<'_, '_> {
    /// Declares the account once its id and its provider are read. At the
    /// end of the report (`last` set), an account without provider is
    /// declared with the provider `cloud`.
    fn note_account(&mut self, last: bool) {
        if self.account.is_some() {
            return;
        }
        if self.report.provider_code.is_none() && !last {
            return;
        }
        let provider = self.report.provider_code.as_deref().unwrap_or_default();
        let Some(account) = CloudAccount::new(provider, self.report.account_id.as_deref()) else {
            return;
        };
        self.assets.account(self.sink, &account);
        self.account = Some(account);
    }

    /// Sends the finding of a flagged item, or keeps it until the end of
    /// the report when the account is not known yet.
    fn send(&mut self, flagged: FlaggedItem) {
        self.note_account(false);
        if self.account.is_none() {
            self.deferred.push(flagged);
            return;
        }
        let finding = self.build_finding(flagged);
        self.sink.finding(finding);
    }

    /// Sends the findings kept until the end of the report, on the account
    /// if the report named one after all.
    fn flush_deferred(&mut self) {
        self.note_account(true);
        for flagged in std::mem::take(&mut self.deferred) {
            let finding = self.build_finding(flagged);
            self.sink.finding(finding);
        }
    }

    fn build_finding(&mut self, flagged: FlaggedItem) -> Finding {
        let provider = match &self.account {
            Some(account) => account.provider.clone(),
            None => cloud_posture::provider_name(self.report.provider_code.as_deref().unwrap_or_default()),
        };
        let target = match &self.account {
            Some(account) => account.target(),
            None => {
                self.assets.other_target(self.sink, self.context.default_target);
                self.context.default_target.to_string()
            }
        };
        let asset = self
            .assets
            .resource(self.sink, self.account.as_ref(), &provider, &flagged.resource);

        let rule = &flagged.rule;
        let title = rule
            .description
            .as_deref()
            .map(cloud_posture::strip_tags)
            .filter(|title| !title.is_empty())
            .unwrap_or_else(|| flagged.rule_key.to_string());
        let mut finding = Finding::new(
            TOOL,
            format!("{provider}:{}", flagged.rule_key),
            FindingKind::Misconfiguration,
            title,
            severity(rule.level.as_deref()),
            asset,
        );
        finding.description = rule
            .rationale
            .as_deref()
            .map(util::html_paragraphs_to_text)
            .filter(|text| !text.is_empty());
        finding.fix.description = rule
            .remediation
            .as_deref()
            .map(util::html_paragraphs_to_text)
            .filter(|text| !text.is_empty());
        for reference in &rule.references.0 {
            cloud_posture::add_reference(&mut finding.references, reference);
        }
        if let Some((protocol, port)) = protocol_and_port(&flagged.item) {
            finding.location.protocol = Some(protocol);
            finding.location.port = Some(port);
        }

        let compliance = rule
            .compliance
            .iter()
            .flatten()
            .map(ComplianceEntry::label)
            .collect::<Vec<_>>()
            .join(" | ");
        let optional = [
            ("service", rule.service.as_deref()),
            ("dashboard_name", rule.dashboard_name.as_deref()),
            ("level", rule.level.as_deref()),
            ("compliance", Some(compliance.as_str())),
            ("region", flagged.resource.region.as_deref()),
            ("account_id", self.report.account_id.as_deref()),
            ("provider", Some(provider.as_str())),
            ("ruleset_name", self.report.ruleset_name.as_deref()),
            ("scoutsuite_version", self.report.version.as_deref()),
            ("run_time", self.report.time.as_deref()),
        ];
        for (name, value) in optional {
            cloud_posture::put(&mut finding.attributes, name, value);
        }

        finding.evidence = Some(flagged.item.clone());
        finding.tool_fingerprint = Some(flagged.item);
        finding.target = Some(target);
        finding
    }
}

/// Maps a ScoutSuite level to a severity. ScoutSuite has two levels; as
/// DefectDojo does, `danger` is `Critical` and `warning` is `Medium`.
fn severity(level: Option<&str>) -> Severity {
    match level.map(|level| level.trim().to_ascii_lowercase()).as_deref() {
        Some("danger") => Severity::Critical,
        Some("warning") => Severity::Medium,
        Some(other) => other.parse().unwrap_or(Severity::Info),
        None => Severity::Info,
    }
}

/// Returns the protocol and the port of a security group rule path
/// (`...protocols.TCP.ports.22...`), when it names one port.
fn protocol_and_port(item: &str) -> Option<(String, u16)> {
    let segments: Vec<&str> = item.split('.').collect();
    let protocols = segments.iter().position(|segment| *segment == "protocols")?;
    let protocol = segments.get(protocols + 1)?;
    if segments.get(protocols + 2) != Some(&"ports") {
        return None;
    }
    let port = segments.get(protocols + 3)?.parse().ok()?;
    Some((protocol.to_ascii_lowercase(), port))
}

/// Accepts the root object and reads its keys.
struct RootVisitor<'s, 'a, 'c> {
    state: &'s mut ReportState<'a, 'c>,
}

impl<'de> Visitor<'de> for RootVisitor<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("ScoutSuite results (a JSON object with account_id, provider_code, last_run and services)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys_seen = 0usize;
        while let Some(key) = map.next_key::<String>()? {
            keys_seen += 1;
            match key.as_str() {
                "account_id" => {
                    self.state.report.account_id = map.next_value::<LooseText>()?.0;
                    self.state.note_account(false);
                }
                "provider_code" => {
                    self.state.report.provider_code = map.next_value::<LooseText>()?.0;
                    self.state.note_account(false);
                }
                "last_run" => {
                    let last_run: Option<LastRun> = map.next_value()?;
                    let last_run = last_run.unwrap_or_default();
                    if let Some(version) = last_run.version.as_deref()
                        && !version.trim().starts_with("5.")
                    {
                        return Err(de::Error::custom(format!(
                            "the report was written by ScoutSuite {version}; this parser reads ScoutSuite 5.x results"
                        )));
                    }
                    self.state.report.version = last_run.version;
                    self.state.report.time = last_run.time;
                    self.state.report.ruleset_name = last_run.ruleset_name;
                }
                "services" => {
                    self.state.report.has_services = true;
                    map.next_value_seed(ServicesSeed { state: self.state })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        let report = &self.state.report;
        if !report.has_services && report.account_id.is_none() && report.version.is_none() {
            let found = if keys_seen == 0 {
                "an empty object"
            } else {
                "an object without them"
            };
            return Err(de::Error::custom(format!(
                "expected ScoutSuite results with `account_id`, `last_run` and `services`, found {found}; \
                 is this another tool's report?"
            )));
        }
        Ok(())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LastRun {
    #[serde(deserialize_with = "util::loose_text")]
    version: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    time: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    ruleset_name: Option<String>,
}

/// A ScoutSuite rule, as the `findings` map of a service contains it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Rule {
    #[serde(deserialize_with = "util::loose_text")]
    description: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    rationale: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    remediation: Option<String>,
    references: Texts,
    #[serde(deserialize_with = "util::loose_text")]
    level: Option<String>,
    items: Texts,
    #[serde(deserialize_with = "util::loose_text")]
    path: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    display_path: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    dashboard_name: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    service: Option<String>,
    compliance: Option<Vec<ComplianceEntry>>,
}

/// One compliance reference of a rule: a benchmark, its version and the
/// requirement.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ComplianceEntry {
    #[serde(deserialize_with = "util::loose_text")]
    name: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    version: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    reference: Option<String>,
}

impl ComplianceEntry {
    /// Formats the entry as `CIS Amazon Web Services Foundations 1.2.0: 2.6`.
    fn label(&self) -> String {
        let name = [self.name.as_deref(), self.version.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        match self.reference.as_deref() {
            Some(reference) => format!("{name}: {reference}"),
            None => name,
        }
    }
}

/// Reads the `services` map, one service at a time.
struct ServicesSeed<'s, 'a, 'c> {
    state: &'s mut ReportState<'a, 'c>,
}

impl<'de> DeserializeSeed<'de> for ServicesSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ServicesSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a map of ScoutSuite services")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(service) = map.next_key::<String>()? {
            let mut walk = ServiceWalk {
                path: vec![service.clone()],
                notes: HashMap::new(),
            };
            let rules = map.next_value_seed(ServiceSeed { walk: &mut walk })?;
            for (rule_key, rule) in rules {
                let rule_key: Rc<str> = Rc::from(rule_key.as_str());
                let rule = Rc::new(rule);
                for item in &rule.items.0 {
                    let resource = walk.resolve(item, &rule);
                    self.state.send(FlaggedItem {
                        rule_key: Rc::clone(&rule_key),
                        rule: Rc::clone(&rule),
                        item: item.clone(),
                        resource,
                    });
                }
            }
        }
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Facts about one resource, from the resource data of its service.
#[derive(Debug, Default, Clone)]
struct ResourceNote {
    /// An ARN, or an Azure resource id.
    uid: Option<String>,
    name: Option<String>,
    region: Option<String>,
}

/// The walk of one service's data: the path of the value being read and
/// the resources noted so far, keyed by their dotted path.
struct ServiceWalk {
    path: Vec<String>,
    notes: HashMap<String, ResourceNote>,
}

impl ServiceWalk {
    /// Names the resource of a flagged item (see the module documentation).
    fn resolve(&self, item: &str, rule: &Rule) -> CloudResource {
        let segments: Vec<&str> = item.split('.').collect();
        let pattern = rule
            .display_path
            .as_deref()
            .filter(|pattern| !pattern.trim().is_empty())
            .or(rule.path.as_deref())
            .unwrap_or_default();
        let pattern: Vec<&str> = pattern.split('.').collect();
        let last_id = pattern.iter().rposition(|segment| *segment == "id");
        let depth = last_id.map_or(2, |index| index + 1).min(segments.len()).max(1);
        let resource_path = segments[..depth].join(".");

        let note = self.notes.get(&resource_path).cloned().unwrap_or_default();
        let path_region = segments[..depth]
            .windows(2)
            .find(|pair| pair[0] == "regions" || pair[0] == "zones")
            .map(|pair| pair[1].to_string());
        // The collection that contains the resource (`buckets`), or the
        // name of a service setting (`password_policy`).
        let type_index = match last_id {
            Some(_) => depth.checked_sub(2),
            None => Some(depth - 1),
        };
        let resource_type = type_index
            .and_then(|index| segments.get(index))
            .map(|segment| segment.to_string());

        CloudResource {
            uid: note.uid.unwrap_or_else(|| resource_path.clone()),
            name: note
                .name
                .or_else(|| segments.get(depth - 1).map(|segment| segment.to_string())),
            region: path_region.or(note.region),
            resource_type,
            service: segments.first().map(|segment| segment.to_string()),
            partition: None,
            tags: Vec::new(),
        }
    }
}

/// Reads one service object: its rules, and notes about its resources.
struct ServiceSeed<'w> {
    walk: &'w mut ServiceWalk,
}

impl<'de> DeserializeSeed<'de> for ServiceSeed<'_> {
    type Value = Vec<(String, Rule)>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ServiceSeed<'_> {
    type Value = Vec<(String, Rule)>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a ScoutSuite service object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut flagged = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "findings" => {
                    let rules: Option<BTreeMap<String, Rule>> = map.next_value()?;
                    flagged.extend(rules.into_iter().flatten().filter(|(_, rule)| !rule.items.0.is_empty()));
                }
                "filters" => {
                    map.next_value::<IgnoredAny>()?;
                }
                _ => {
                    self.walk.path.push(key);
                    map.next_value_seed(NoteSeed {
                        walk: self.walk,
                        keep: false,
                    })?;
                    self.walk.path.pop();
                }
            }
        }
        Ok(flagged)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
}

/// Walks a value of a service's data and notes every object that has an
/// `arn`, a `name` or an Azure resource `id`. Returns the value's text
/// when it is a string and `keep` is set (the value of a key the note
/// reads), so that other strings are not copied.
struct NoteSeed<'w> {
    walk: &'w mut ServiceWalk,
    keep: bool,
}

impl<'de> DeserializeSeed<'de> for NoteSeed<'_> {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<String>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NoteSeed<'_> {
    type Value = Option<String>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Option<String>, E> {
        Ok(self.keep.then(|| value.to_string()))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<String>, A::Error> {
        let mut index = 0usize;
        loop {
            self.walk.path.push(index.to_string());
            let element = seq.next_element_seed(NoteSeed {
                walk: self.walk,
                keep: false,
            });
            self.walk.path.pop();
            if element?.is_none() {
                return Ok(None);
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<String>, A::Error> {
        let mut note = ResourceNote::default();
        while let Some(key) = map.next_key::<String>()? {
            let keep = matches!(key.as_str(), "arn" | "id" | "name" | "region");
            self.walk.path.push(key);
            let value = map.next_value_seed(NoteSeed { walk: self.walk, keep });
            let key = self.walk.path.pop().unwrap_or_default();
            let Some(value) = value? else {
                continue;
            };
            match key.as_str() {
                "arn" if value.starts_with("arn:") => note.uid = Some(bucket_arn(value)),
                "id" if note.uid.is_none() && value.to_ascii_lowercase().starts_with("/subscriptions/") => {
                    note.uid = Some(value)
                }
                "name" => note.name = util::non_empty(Some(&value)),
                "region" => note.region = util::non_empty(Some(&value)),
                _ => {}
            }
        }

        let noted = note.uid.is_some() || note.name.is_some();
        if noted && self.walk.notes.len() < MAX_NOTED_RESOURCES {
            self.walk.notes.insert(self.walk.path.join("."), note);
        }
        Ok(None)
    }
}

/// Returns an S3 ARN as the bucket's ARN: ScoutSuite notes a bucket with
/// the ARN of its objects (`arn:aws:s3:::logs/*`), while AWS and other
/// tools name the bucket `arn:aws:s3:::logs`.
fn bucket_arn(arn: String) -> String {
    let is_s3 = arn.split(':').nth(2) == Some("s3");
    match arn.strip_suffix("/*") {
        Some(bucket) if is_s3 && !bucket.contains('/') => bucket.to_string(),
        _ => arn,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_come_from_rule_paths() {
        let item =
            "ec2.regions.eu-west-1.vpcs.vpc-1.security_groups.sg-2.rules.ingress.protocols.TCP.ports.22.cidrs.0.CIDR";
        assert_eq!(protocol_and_port(item), Some(("tcp".to_string(), 22)));
        let range = "ec2.regions.eu-west-1.vpcs.vpc-1.security_groups.sg-2.rules.ingress.protocols.ALL.ports.1-65535";
        assert_eq!(protocol_and_port(range), None);
        assert_eq!(protocol_and_port("s3.buckets.abc.logging"), None);
    }

    #[test]
    fn bucket_arns_drop_object_suffix() {
        assert_eq!(
            bucket_arn("arn:aws:s3:::shop-logs/*".to_string()),
            "arn:aws:s3:::shop-logs"
        );
        assert_eq!(
            bucket_arn("arn:aws:s3:::shop-logs".to_string()),
            "arn:aws:s3:::shop-logs"
        );
        let role = "arn:aws:iam::123456789012:role/*";
        assert_eq!(bucket_arn(role.to_string()), role);
    }

    #[test]
    fn levels_map_to_severities() {
        assert_eq!(severity(Some("danger")), Severity::Critical);
        assert_eq!(severity(Some("warning")), Severity::Medium);
        assert_eq!(severity(Some("low")), Severity::Low);
        assert_eq!(severity(Some("odd")), Severity::Info);
        assert_eq!(severity(None), Severity::Info);
    }

    #[test]
    fn resources_resolve_from_paths() {
        let mut walk = ServiceWalk {
            path: Vec::new(),
            notes: HashMap::new(),
        };
        walk.notes.insert(
            "s3.buckets.5eb6".to_string(),
            ResourceNote {
                uid: Some("arn:aws:s3:::shop-logs".to_string()),
                name: Some("shop-logs".to_string()),
                region: Some("eu-west-1".to_string()),
            },
        );
        let bucket_rule = Rule {
            path: Some("s3.buckets.id".to_string()),
            ..Rule::default()
        };
        let bucket = walk.resolve("s3.buckets.5eb6.logging", &bucket_rule);
        assert_eq!(bucket.uid, "arn:aws:s3:::shop-logs");
        assert_eq!(bucket.name.as_deref(), Some("shop-logs"));
        assert_eq!(bucket.region.as_deref(), Some("eu-west-1"));
        assert_eq!(bucket.resource_type.as_deref(), Some("buckets"));

        let policy_rule = Rule {
            path: Some("iam.password_policy.MinimumPasswordLength".to_string()),
            ..Rule::default()
        };
        let policy = walk.resolve("iam.password_policy.MinimumPasswordLength", &policy_rule);
        assert_eq!(policy.uid, "iam.password_policy");
        assert_eq!(policy.resource_type.as_deref(), Some("password_policy"));

        let region_rule = Rule {
            path: Some("cloudtrail.regions.id".to_string()),
            ..Rule::default()
        };
        let region = walk.resolve("cloudtrail.regions.ap-northeast-1.NotConfigured", &region_rule);
        assert_eq!(region.uid, "cloudtrail.regions.ap-northeast-1");
        assert_eq!(region.region.as_deref(), Some("ap-northeast-1"));
    }
}
