//! Prowler v3 JSON reports: the results of Prowler's AWS, Azure and GCP
//! checks, one JSON object per check and resource.
//!
//! # Reads
//!
//! The `-M json` output of Prowler 3.x (the Python version, before the
//! OCSF output of 4.x replaced it): one JSON array of objects with
//! `AssessmentStartTime`, `FindingUniqueId`, `Provider` (`aws`, `azure`,
//! `gcp`), `Profile`, `AccountId`, `OrganizationsInfo`, `Region`, `CheckID`,
//! `CheckTitle`, `CheckType`, `ServiceName`, `SubServiceName`, `Status`,
//! `StatusExtended`, `Severity`, `ResourceType`, `ResourceDetails`,
//! `Description`, `Risk`, `RelatedUrl`, `Remediation` (`Code` and
//! `Recommendation` with `Text` and `Url`), `Compliance`, `Categories`,
//! `Notes`, `ResourceId`, `ResourceArn` and `ResourceTags`. Azure results
//! name their subscription in `Subscription` and their tenant in
//! `Tenant_Domain`, GCP results their project in `ProjectId` and their
//! region in `Location`.
//!
//! Only failed checks (`FAIL`) are findings, as in DefectDojo: passed,
//! informational and manual results are no weaknesses that the tool saw.
//!
//! # Field mapping
//!
//! | report | finding |
//! | --- | --- |
//! | `CheckID` | `rule_id` |
//! | `StatusExtended` (the result, naming the resource), else `CheckTitle` | `title`, `evidence` |
//! | `Severity` | `severity` (`Info` where missing; a failed check rated informational is `Low`, see below) |
//! | `Description` and `Risk` | `description` |
//! | `Remediation.Recommendation.Text` | `fix.description` |
//! | `Remediation.Recommendation.Url`, `RelatedUrl` | `references` |
//! | `FindingUniqueId` | `tool_fingerprint` |
//! | `ResourceArn` (else `ResourceId`), `ResourceName`, `Region` or `Location`, `ResourceType`, `ServiceName`, `ResourceTags` | the resource asset |
//! | `AccountId`, `Subscription` or `ProjectId`, `OrganizationsInfo`, `Tenant_Domain` | the account asset |
//! | `CheckTitle`, `CheckType`, `SubServiceName`, `Compliance`, `Categories`, `Notes`, `Profile`, `AssessmentStartTime`, the `Remediation.Code` snippets | `attributes` |
//!
//! Every finding is a `Misconfiguration`.
//!
//! A failed check that Prowler rates informational still reports a
//! weakness to fix, so its severity is `Low`, as DefectDojo rates it.
//!
//! # Scope target
//!
//! `<Provider>:<account>` (`aws:123456789012`, `azure:<subscription>`,
//! `gcp:<project>`) for every account in the report, even when all its
//! checks passed, so that a rescan of the account closes what it no longer
//! finds. A report without account covers
//! [`ParseContext::default_target`].
//!
//! # Fingerprint
//!
//! Tool `prowler`, the check id, the resource asset (its ARN, or
//! `<provider>:<account>:<region>:<ResourceId>`), and `FindingUniqueId`,
//! which Prowler builds from the provider, the check, the account, the
//! region and the resource, so that it tells apart the results of one
//! resource in two regions. Where it is missing, the parser derives one of
//! the same shape.
//!
//! # Not read yet
//!
//! `ResourceDetails`, `DependsOn`, `RelatedTo`; Prowler 3's CSV output
//! (read by `prowler-v4-csv`), its ASFF and its OCSF outputs.
//!
//! # Reference
//!
//! `Check_Output_JSON` and `generate_provider_output_json` in
//! `prowler/lib/outputs/models.py` of Prowler 3
//! (<https://github.com/prowler-cloud/prowler>), which also build
//! `FindingUniqueId`.

use std::collections::BTreeMap;
use std::io::BufRead;

use ctem_model::SourceStatus;
use serde::Deserialize;

use super::cloud_posture::{
    self, CheckFinding, CloudAccount, CloudAssets, CloudResource, Compliance, Tags, Texts, Verdict,
};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "prowler-v3-json";
const TOOL: &str = "prowler";

/// The Prowler v3 JSON parser.
pub struct ProwlerV3Json;

impl Parser for ProwlerV3Json {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Prowler v3 JSON",
            tool: "Prowler",
            versions: "3.x (-M json)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if !head.starts_with(b"[") {
            return Detection::No;
        }
        let keys = [&b"\"FindingUniqueId\""[..], b"\"CheckID\"", b"\"StatusExtended\""];
        if keys.iter().all(|key| util::contains(head, key)) {
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
        let mut assets = CloudAssets::new(TOOL);
        cloud_posture::read_json_array(reader, "a Prowler v3 JSON report", |record: Record| {
            if let Some(check) = read_record(record.0, &mut assets, sink) {
                assets.emit(sink, context, check);
            }
        })
        .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))?;

        assets.finish(sink, context);
        Ok(())
    }
}

/// One check result, as Prowler 3 writes it. Text fields are read whatever
/// their JSON type.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawRecord {
    #[serde(rename = "AssessmentStartTime", deserialize_with = "util::loose_text")]
    assessment_start_time: Option<String>,
    #[serde(rename = "FindingUniqueId", deserialize_with = "util::loose_text")]
    finding_unique_id: Option<String>,
    #[serde(rename = "Provider", deserialize_with = "util::loose_text")]
    provider: Option<String>,
    #[serde(rename = "Profile", deserialize_with = "util::loose_text")]
    profile: Option<String>,
    #[serde(rename = "AccountId", deserialize_with = "util::loose_text")]
    account_id: Option<String>,
    #[serde(rename = "AccountName", deserialize_with = "util::loose_text")]
    account_name: Option<String>,
    #[serde(rename = "AccountEmail", deserialize_with = "util::loose_text")]
    account_email: Option<String>,
    #[serde(rename = "OrganizationsInfo")]
    organizations_info: Option<OrganizationsInfo>,
    #[serde(rename = "Subscription", deserialize_with = "util::loose_text")]
    subscription: Option<String>,
    #[serde(rename = "Tenant_Domain", deserialize_with = "util::loose_text")]
    tenant_domain: Option<String>,
    #[serde(rename = "ProjectId", deserialize_with = "util::loose_text")]
    project_id: Option<String>,
    #[serde(rename = "Region", deserialize_with = "util::loose_text")]
    region: Option<String>,
    #[serde(rename = "Location", deserialize_with = "util::loose_text")]
    location: Option<String>,
    #[serde(rename = "CheckID", deserialize_with = "util::loose_text")]
    check_id: Option<String>,
    #[serde(rename = "CheckTitle", deserialize_with = "util::loose_text")]
    check_title: Option<String>,
    #[serde(rename = "CheckType")]
    check_type: Texts,
    #[serde(rename = "ServiceName", deserialize_with = "util::loose_text")]
    service_name: Option<String>,
    #[serde(rename = "SubServiceName", deserialize_with = "util::loose_text")]
    sub_service_name: Option<String>,
    #[serde(rename = "Status", deserialize_with = "util::loose_text")]
    status: Option<String>,
    #[serde(rename = "StatusExtended", deserialize_with = "util::loose_text")]
    status_extended: Option<String>,
    #[serde(rename = "Severity", deserialize_with = "util::loose_text")]
    severity: Option<String>,
    #[serde(rename = "ResourceType", deserialize_with = "util::loose_text")]
    resource_type: Option<String>,
    #[serde(rename = "Description", deserialize_with = "util::loose_text")]
    description: Option<String>,
    #[serde(rename = "Risk", deserialize_with = "util::loose_text")]
    risk: Option<String>,
    #[serde(rename = "RelatedUrl", deserialize_with = "util::loose_text")]
    related_url: Option<String>,
    #[serde(rename = "Remediation")]
    remediation: Option<Remediation>,
    #[serde(rename = "Compliance")]
    compliance: Compliance,
    #[serde(rename = "Categories")]
    categories: Texts,
    #[serde(rename = "Notes", deserialize_with = "util::loose_text")]
    notes: Option<String>,
    #[serde(rename = "ResourceId", deserialize_with = "util::loose_text")]
    resource_id: Option<String>,
    #[serde(rename = "ResourceArn", deserialize_with = "util::loose_text")]
    resource_arn: Option<String>,
    #[serde(rename = "ResourceName", deserialize_with = "util::loose_text")]
    resource_name: Option<String>,
    #[serde(rename = "ResourceTags")]
    resource_tags: Tags,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OrganizationsInfo {
    #[serde(deserialize_with = "util::loose_text")]
    account_details_email: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    account_details_name: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    account_details_org: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Remediation {
    #[serde(rename = "Code")]
    code: Option<RemediationCode>,
    #[serde(rename = "Recommendation")]
    recommendation: Option<Recommendation>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RemediationCode {
    #[serde(rename = "NativeIaC", deserialize_with = "util::loose_text")]
    native_iac: Option<String>,
    #[serde(rename = "Terraform", deserialize_with = "util::loose_text")]
    terraform: Option<String>,
    #[serde(rename = "CLI", deserialize_with = "util::loose_text")]
    cli: Option<String>,
    #[serde(rename = "Other", deserialize_with = "util::loose_text")]
    other: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Recommendation {
    #[serde(rename = "Text", deserialize_with = "util::loose_text")]
    text: Option<String>,
    #[serde(rename = "Url", deserialize_with = "util::loose_text")]
    url: Option<String>,
}

/// A record that has the keys of a Prowler 3 result.
#[derive(Debug, Deserialize)]
#[serde(try_from = "RawRecord")]
struct Record(RawRecord);

impl TryFrom<RawRecord> for Record {
    type Error = String;

    fn try_from(raw: RawRecord) -> Result<Record, String> {
        if raw.status.is_none() || (raw.check_id.is_none() && raw.finding_unique_id.is_none()) {
            return Err(
                "expected a Prowler v3 JSON finding with the keys `Status` and `CheckID`, \
                 found an object without them; is this another tool's report?"
                    .to_string(),
            );
        }
        Ok(Record(raw))
    }
}

/// Declares the record's account and returns the finding of a failed
/// check.
fn read_record(record: RawRecord, assets: &mut CloudAssets, sink: &mut dyn Sink) -> Option<CheckFinding> {
    let provider = cloud_posture::provider_name(record.provider.as_deref().unwrap_or("aws"));
    let account_uid = [&record.account_id, &record.subscription, &record.project_id]
        .into_iter()
        .find_map(|uid| util::non_empty(uid.as_deref()));
    let mut account = CloudAccount::new(&provider, account_uid.as_deref());
    if let Some(account) = account.as_mut() {
        let organization = record.organizations_info.as_ref();
        account.name = util::non_empty(record.account_name.as_deref())
            .or_else(|| organization.and_then(|o| util::non_empty(o.account_details_name.as_deref())));
        account.email = util::non_empty(record.account_email.as_deref())
            .or_else(|| organization.and_then(|o| util::non_empty(o.account_details_email.as_deref())));
        account.organization = organization
            .and_then(|o| util::non_empty(o.account_details_org.as_deref()))
            .or_else(|| util::non_empty(record.tenant_domain.as_deref()));
        assets.account(sink, account);
    }

    let source_status = match Verdict::parse(record.status.as_deref().unwrap_or_default()) {
        Verdict::Fail => None,
        Verdict::Muted => Some(SourceStatus::Suppressed),
        Verdict::Pass | Verdict::Info | Verdict::Manual | Verdict::Other => return None,
    };
    Some(build_check(record, provider, account, source_status))
}

fn build_check(
    record: RawRecord,
    provider: String,
    account: Option<CloudAccount>,
    source_status: Option<SourceStatus>,
) -> CheckFinding {
    let check_title = util::non_empty(record.check_title.as_deref());
    let rule_id = util::non_empty(record.check_id.as_deref()).unwrap_or_else(|| "unknown-check".to_string());
    let status_extended = util::non_empty(record.status_extended.as_deref());
    let region = util::non_empty(record.region.as_deref()).or_else(|| util::non_empty(record.location.as_deref()));
    let title = status_extended
        .clone()
        .or_else(|| check_title.clone())
        .unwrap_or_else(|| format!("Prowler check {rule_id}"));

    let resource_id = util::non_empty(record.resource_id.as_deref());
    let resource_uid = util::non_empty(record.resource_arn.as_deref()).or_else(|| resource_id.clone());
    let resource = resource_uid.map(|uid| CloudResource {
        name: util::non_empty(record.resource_name.as_deref()).or_else(|| resource_id.clone()),
        uid,
        region: region.clone(),
        resource_type: util::non_empty(record.resource_type.as_deref()),
        service: util::non_empty(record.service_name.as_deref()),
        partition: None,
        tags: record.resource_tags.0,
    });

    let tool_fingerprint = util::non_empty(record.finding_unique_id.as_deref()).unwrap_or_else(|| {
        format!(
            "prowler-{provider}-{rule_id}-{}-{}-{}",
            account.as_ref().map(|a| a.uid.as_str()).unwrap_or_default(),
            region.as_deref().unwrap_or_default(),
            resource_id.as_deref().unwrap_or_default()
        )
    });

    let remediation = record.remediation.unwrap_or_default();
    let recommendation = remediation.recommendation.unwrap_or_default();
    let code = remediation.code.unwrap_or_default();
    let mut references = Vec::new();
    for url in [&recommendation.url, &record.related_url].into_iter().flatten() {
        cloud_posture::add_reference(&mut references, url);
    }

    let mut attributes = BTreeMap::new();
    let check_types = record.check_type.0.join(", ");
    let categories = record.categories.0.join(", ");
    let optional = [
        ("check_title", check_title.as_deref()),
        ("check_type", Some(check_types.as_str())),
        ("service", record.service_name.as_deref()),
        ("sub_service", record.sub_service_name.as_deref()),
        ("compliance", record.compliance.0.as_deref()),
        ("categories", Some(categories.as_str())),
        ("notes", record.notes.as_deref()),
        ("profile", record.profile.as_deref()),
        ("assessment_start_time", record.assessment_start_time.as_deref()),
        ("region", region.as_deref()),
        ("provider", Some(provider.as_str())),
        ("status", record.status.as_deref()),
        ("remediation_cli", code.cli.as_deref()),
        ("remediation_terraform", code.terraform.as_deref()),
        ("remediation_native_iac", code.native_iac.as_deref()),
        ("remediation_other", code.other.as_deref()),
    ];
    for (name, value) in optional {
        cloud_posture::put(&mut attributes, name, value);
    }
    if let Some(account) = &account {
        attributes.insert("account_id".into(), account.uid.clone());
    }

    CheckFinding {
        account,
        resource,
        tool_fingerprint: Some(tool_fingerprint),
        rule_id,
        title,
        severity: cloud_posture::check_severity(record.severity.as_deref(), true),
        source_status,
        description: cloud_posture::describe(record.description.as_deref(), record.risk.as_deref()),
        remediation: util::non_empty(recommendation.text.as_deref()),
        evidence: status_extended,
        references,
        attributes,
        provider,
    }
}
