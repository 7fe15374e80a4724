//! Prowler v2 JSON reports: the results of Prowler's AWS checks, one JSON
//! object per check and resource.
//!
//! # Reads
//!
//! The `-M json` output of Prowler 2.x (the shell version): one
//! JSON object per line, or the same objects in one JSON array, with the
//! keys `Profile`, `Account Number`, `Control`, `Message`, `Severity`,
//! `Status` (`PASS`, `FAIL`, `INFO`, `WARNING`, in any case), `Scored`,
//! `Level`, `Control ID`, `Region`, `Timestamp`, `Compliance`, `Service`,
//! `CAF Epic`, `Risk`, `Remediation`, `Doc link`, `Resource ID`,
//! `Account Email`, `Account Name`, `Account ARN` and `Account
//! Organization`. An empty file is an empty report.
//!
//! Only failed checks are findings: passed and informational results are
//! not weaknesses, and DefectDojo drops them from this format as well.
//! `WARNING` is a failed check on a resource that the allowlist excludes,
//! so it is a finding with the source status [`SourceStatus::Suppressed`].
//!
//! # Field mapping
//!
//! | report | finding |
//! | --- | --- |
//! | the id in brackets of `Control` (`[check114] ...` -> `check114`), else `Control ID` | `rule_id` |
//! | `Message` (the result, naming the resource), else the `Control` text | `title`, `evidence` |
//! | `Severity` | `severity` (`Info` where missing; a failed check rated informational is `Low`, see below) |
//! | the `Control` text and `Risk` | `description` |
//! | `Remediation` | `fix.description` |
//! | `Doc link` | `references` |
//! | `Resource ID`, `Region`, `Service` | the resource asset |
//! | `Account Number`, `Account Name`, `Account Email`, `Account Organization` | the account asset |
//! | `Profile`, `Control ID`, `Level`, `Scored`, `Compliance`, `CAF Epic`, `Timestamp`, `Region`, `Service` | `attributes` |
//!
//! Every finding is a `Misconfiguration`. A result without `Resource ID`
//! is a finding on the account.
//!
//! A failed check that Prowler rates informational still reports a
//! weakness to fix, so its severity is `Low`, as DefectDojo rates it.
//!
//! # Scope target
//!
//! `aws:<Account Number>` for every account in the report, even when all
//! its checks passed, so that a rescan of the account closes what it no
//! longer finds. A report without account (an empty file) covers
//! [`ParseContext::default_target`].
//!
//! # Fingerprint
//!
//! Tool `prowler`, the check id, the resource asset (its ARN, or
//! `aws:<account>:<region>:<Resource ID>`), and as tool fingerprint the
//! region and the `Message`, which Prowler v2 also uses to name a result in
//! its Security Hub finding ids: one check can report several results on
//! one resource (access key 1 and access key 2 of a user).
//!
//! NOTE: a few checks put a changing number in `Message` (days since a last
//! use), so such a result gets a new fingerprint when the number changes.
//!
//! # Not read yet
//!
//! `Account tags`; the ASFF and CSV outputs of Prowler v2 (CSV is read by
//! `prowler-v2-csv`).
//!
//! # Reference
//!
//! The Prowler 2 README (`README.md` of
//! <https://github.com/prowler-cloud/prowler> before 3.0), sections "Output
//! Formats" and "Show or log only FAILs".

use std::collections::BTreeMap;
use std::fmt;
use std::io::BufRead;

use ctem_model::SourceStatus;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::cloud_posture::{self, CheckFinding, CloudAccount, CloudAssets, CloudResource, Verdict};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "prowler-v2-json";
const TOOL: &str = "prowler";
const PROVIDER: &str = "aws";

/// The Prowler v2 JSON parser.
pub struct ProwlerV2Json;

impl Parser for ProwlerV2Json {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Prowler v2 JSON",
            tool: "Prowler",
            versions: "2.x (-M json, JSON lines or an array)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if !head.starts_with(b"{") && !head.starts_with(b"[") {
            return Detection::No;
        }
        let first_object = match head.iter().position(|&b| b == b'}') {
            Some(end) => &head[..end],
            None => head,
        };
        let keys = [&b"\"Account Number\""[..], b"\"Control\"", b"\"Status\""];
        if keys.iter().all(|key| util::contains(first_object, key)) {
            Detection::Certain
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
        let mut state = ReportState {
            context,
            sink,
            assets: CloudAssets::new(TOOL),
        };
        let mut deserializer = serde_json::Deserializer::from_reader(reader);

        // JSON lines: one value after the other until only whitespace is
        // left. `end` fails on anything else, which the next value reads.
        while deserializer.end().is_err() {
            deserializer
                .deserialize_any(RootVisitor { state: &mut state })
                .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))?;
        }

        state.assets.finish(state.sink, context);
        Ok(())
    }
}

struct ReportState<'a, 'c> {
    context: &'a ParseContext<'c>,
    sink: &'a mut dyn Sink,
    assets: CloudAssets,
}

/// Accepts one top-level value: a record (a line of JSON lines) or an
/// array of records, read one at a time.
struct RootVisitor<'s, 'a, 'c> {
    state: &'s mut ReportState<'a, 'c>,
}

impl<'de> Visitor<'de> for RootVisitor<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a Prowler v2 JSON record (an object) or an array of records")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let record = Record::deserialize(de::value::MapAccessDeserializer::new(map))?;
        self.state.emit(record);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(record) = seq.next_element::<Record>()? {
            self.state.emit(record);
        }
        Ok(())
    }
}

/// One check result, as Prowler v2 writes it. Every field is read as text,
/// whatever its JSON type, so that a number where a string was expected
/// does not make the report unreadable.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawRecord {
    #[serde(rename = "Profile", deserialize_with = "util::loose_text")]
    profile: Option<String>,
    #[serde(rename = "Account Number", deserialize_with = "util::loose_text")]
    account_number: Option<String>,
    #[serde(rename = "Control", deserialize_with = "util::loose_text")]
    control: Option<String>,
    #[serde(rename = "Message", deserialize_with = "util::loose_text")]
    message: Option<String>,
    #[serde(rename = "Severity", deserialize_with = "util::loose_text")]
    severity: Option<String>,
    #[serde(rename = "Status", deserialize_with = "util::loose_text")]
    status: Option<String>,
    #[serde(rename = "Scored", deserialize_with = "util::loose_text")]
    scored: Option<String>,
    #[serde(rename = "Level", deserialize_with = "util::loose_text")]
    level: Option<String>,
    #[serde(rename = "Control ID", deserialize_with = "util::loose_text")]
    control_id: Option<String>,
    #[serde(rename = "Region", deserialize_with = "util::loose_text")]
    region: Option<String>,
    #[serde(rename = "Timestamp", deserialize_with = "util::loose_text")]
    timestamp: Option<String>,
    #[serde(rename = "Compliance", deserialize_with = "util::loose_text")]
    compliance: Option<String>,
    #[serde(rename = "Service", deserialize_with = "util::loose_text")]
    service: Option<String>,
    #[serde(rename = "CAF Epic", deserialize_with = "util::loose_text")]
    caf_epic: Option<String>,
    #[serde(rename = "Risk", deserialize_with = "util::loose_text")]
    risk: Option<String>,
    #[serde(rename = "Remediation", deserialize_with = "util::loose_text")]
    remediation: Option<String>,
    #[serde(rename = "Doc link", deserialize_with = "util::loose_text")]
    doc_link: Option<String>,
    #[serde(rename = "Resource ID", deserialize_with = "util::loose_text")]
    resource_id: Option<String>,
    #[serde(rename = "Account Email", deserialize_with = "util::loose_text")]
    account_email: Option<String>,
    #[serde(rename = "Account Name", deserialize_with = "util::loose_text")]
    account_name: Option<String>,
    #[serde(rename = "Account Organization", deserialize_with = "util::loose_text")]
    account_organization: Option<String>,
}

/// A record that has the keys of a Prowler v2 result.
#[derive(Debug, Deserialize)]
#[serde(try_from = "RawRecord")]
struct Record(RawRecord);

impl TryFrom<RawRecord> for Record {
    type Error = String;

    fn try_from(raw: RawRecord) -> Result<Record, String> {
        if raw.status.is_none() || (raw.control.is_none() && raw.control_id.is_none()) {
            return Err(
                "expected a Prowler v2 JSON record with the keys `Status` and `Control`, \
                 found an object without them; is this another tool's report?"
                    .to_string(),
            );
        }
        Ok(Record(raw))
    }
}

impl ReportState<'_, '_> {
    /// Declares the record's account and sends a finding for a failed
    /// check.
    fn emit(&mut self, record: Record) {
        let record = record.0;
        let mut account = CloudAccount::new(PROVIDER, record.account_number.as_deref());
        if let Some(account) = account.as_mut() {
            account.name = util::non_empty(record.account_name.as_deref());
            account.email = util::non_empty(record.account_email.as_deref());
            account.organization = util::non_empty(record.account_organization.as_deref());
            self.assets.account(self.sink, account);
        }

        let status = record.status.as_deref().unwrap_or_default();
        let source_status = match Verdict::parse(status) {
            Verdict::Fail => None,
            Verdict::Muted => Some(SourceStatus::Suppressed),
            Verdict::Pass | Verdict::Info | Verdict::Manual | Verdict::Other => return,
        };

        let check = build_check(record, account, source_status);
        self.assets.emit(self.sink, self.context, check);
    }
}

fn build_check(record: RawRecord, account: Option<CloudAccount>, source_status: Option<SourceStatus>) -> CheckFinding {
    let (bracket_id, control_text) = cloud_posture::split_v2_title(record.control.as_deref().unwrap_or_default());
    let control_text = util::non_empty(Some(&control_text));
    let control_id = util::non_empty(record.control_id.as_deref());
    let rule_id = bracket_id
        .or_else(|| control_id.clone())
        .unwrap_or_else(|| "unknown-check".to_string());
    let message = util::non_empty(record.message.as_deref());
    let region = util::non_empty(record.region.as_deref());
    let title = message
        .clone()
        .or_else(|| control_text.clone())
        .unwrap_or_else(|| format!("Prowler check {rule_id}"));

    let resource = util::non_empty(record.resource_id.as_deref()).map(|uid| CloudResource {
        uid,
        region: region.clone(),
        service: util::non_empty(record.service.as_deref()),
        ..CloudResource::default()
    });

    let mut attributes = BTreeMap::new();
    let optional = [
        ("profile", &record.profile),
        ("check_title", &control_text),
        ("control_id", &control_id),
        ("level", &record.level),
        ("scored", &record.scored),
        ("compliance", &record.compliance),
        ("caf_epic", &record.caf_epic),
        ("timestamp", &record.timestamp),
        ("region", &region),
        ("service", &record.service),
        ("status", &record.status),
    ];
    for (name, value) in optional {
        cloud_posture::put(&mut attributes, name, value.as_deref());
    }
    if let Some(account) = &account {
        attributes.insert("account_id".into(), account.uid.clone());
    }

    let mut references = Vec::new();
    if let Some(link) = &record.doc_link {
        cloud_posture::add_reference(&mut references, link);
    }

    CheckFinding {
        provider: PROVIDER.to_string(),
        account,
        resource,
        tool_fingerprint: message
            .as_ref()
            .map(|message| format!("{}:{message}", region.as_deref().unwrap_or_default())),
        rule_id,
        title,
        severity: cloud_posture::check_severity(record.severity.as_deref(), true),
        source_status,
        description: cloud_posture::describe(control_text.as_deref(), record.risk.as_deref()),
        remediation: util::non_empty(record.remediation.as_deref()),
        evidence: message,
        references,
        attributes,
    }
}
