//! Prowler OCSF JSON reports: the results of Prowler's AWS, Azure, GCP and
//! Kubernetes checks as OCSF Detection Findings.
//!
//! # Reads
//!
//! The `-M json-ocsf` output of Prowler 4.x and 5.x (`*.ocsf.json`): one
//! JSON array of OCSF 1.x Detection Finding objects (`class_uid` 2004)
//! with `metadata` (`event_code` is the check id, `product` names Prowler
//! and its version, `version` the OCSF schema), `severity` and
//! `severity_id`, `status_code` (`PASS`, `FAIL`, `MANUAL`), `status`
//! (`New`, or `Suppressed` for a muted result), `status_detail`, `message`,
//! `finding_info` (`uid`, `title`, `desc`, `created_time_dt`), `cloud`
//! (`account`, `org`, `provider`, `region`), `resources` (`uid`, `name`,
//! `type`, `region`, `cloud_partition`, `group`, `labels`, `namespace`,
//! `data`), `remediation` (`desc`, `references`), `risk_details` and
//! `unmapped` (`related_url`, `compliance`, `categories`, `notes`,
//! `additional_urls`, `check_type`). Both layouts before and after Prowler
//! 4.5 (which renamed `event_time` to `time_dt`) are read.
//!
//! Failed checks are findings, and so are the checks that Prowler could
//! not decide (`MANUAL`), which DefectDojo keeps for this format: they get
//! the source status [`SourceStatus::UnderInvestigation`], since a person
//! has to look. Passed checks are dropped. A muted result (`status`
//! `Suppressed`) gets the source status [`SourceStatus::Suppressed`].
//!
//! A report of another OCSF class (the Security Findings, class 2001, of
//! Prowler 3's `json-ocsf`), of another OCSF major version or of another
//! product is rejected with a message that names what it found.
//!
//! # Field mapping
//!
//! | report | finding |
//! | --- | --- |
//! | `metadata.event_code` | `rule_id` |
//! | `message`, else `status_detail`, else `finding_info.title` | `title` |
//! | `status_detail` | `evidence` |
//! | `severity`, else `severity_id` | `severity` (`Info` where missing; a failed check rated informational is `Low`, see below) |
//! | `status_code`, `status` | `source_status` (see above) |
//! | `finding_info.desc` and `risk_details` | `description` |
//! | `remediation.desc` | `fix.description` |
//! | the URLs of `remediation.references`, `unmapped.related_url`, `unmapped.additional_urls` | `references` |
//! | `finding_info.uid` | `tool_fingerprint` |
//! | the first of `resources` (`uid`, `name`, `region`, `type`, `group.name`, `cloud_partition`, `labels`) | the resource asset |
//! | `cloud.provider`, `cloud.account`, `cloud.org.name` | the account asset |
//! | `finding_info.title`, `unmapped.compliance`, `categories`, `notes`, `check_type`, the product and OCSF versions, the creation time | `attributes` |
//!
//! Every finding is a `Misconfiguration`. Prowler writes one resource per
//! finding; the uids of any further resources go to the attribute
//! `other_resources`.
//!
//! A failed check that Prowler rates informational still reports a
//! weakness to fix, so its severity is `Low`, as DefectDojo rates it.
//!
//! # Scope target
//!
//! `<cloud.provider>:<cloud.account.uid>` (`aws:123456789012`,
//! `azure:<subscription>`, `gcp:<project>`) for every account in the
//! report, even when all its checks passed, so that a rescan of the account
//! closes what it no longer finds. Kubernetes results have no `cloud`
//! object and name no cluster, so they, like a report without findings,
//! cover [`ParseContext::default_target`].
//!
//! # Fingerprint
//!
//! Tool `prowler`, the check id, the resource asset (its ARN or Azure
//! resource id, or `<provider>:<account>:<region>:<resource uid>`), and
//! `finding_info.uid`, which Prowler builds from the provider, the check,
//! the account, the region and the resource. Where it is missing, the
//! parser derives one of the same shape.
//!
//! # Not read yet
//!
//! `resources[].data` (the resource's configuration), `cloud.account.labels`,
//! `unmapped.depends_on` and `related_to`, and the time fields beyond the
//! creation time.
//!
//! # Reference
//!
//! The OCSF Detection Finding class:
//! <https://schema.ocsf.io/1.4.0/classes/detection_finding>, and
//! `docs/tutorials/reporting.md` of Prowler
//! (<https://github.com/prowler-cloud/prowler>), whose Prowler 3 example
//! shows the Security Finding class that this parser rejects.

use std::collections::BTreeMap;
use std::io::BufRead;

use ctem_model::{Severity, SourceStatus};
use serde::Deserialize;

use super::cloud_posture::{
    self, CheckFinding, CloudAccount, CloudAssets, CloudResource, Compliance, Tags, Texts, Verdict,
};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "prowler-ocsf-json";
const TOOL: &str = "prowler";
/// The OCSF class of Detection Findings.
const DETECTION_FINDING: &str = "2004";

/// The Prowler OCSF JSON parser.
pub struct ProwlerOcsfJson;

impl Parser for ProwlerOcsfJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Prowler OCSF JSON",
            tool: "Prowler",
            versions: "4.x, 5.x (-M json-ocsf, OCSF 1.x Detection Finding)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if !head.starts_with(b"[") {
            return Detection::No;
        }
        let ocsf = util::contains(head, b"\"event_code\"") && util::contains(head, b"\"status_code\"");
        if !ocsf {
            return Detection::No;
        }
        if util::contains(head, b"\"Prowler\"") || util::contains(head, b"\"prowler\"") {
            Detection::Certain
        } else {
            Detection::Maybe
        }
    }

    fn parse(
        &self,
        context: &ParseContext<'_>,
        reader: &mut dyn BufRead,
        sink: &mut dyn Sink,
    ) -> Result<(), ParseError> {
        let mut assets = CloudAssets::new(TOOL);
        cloud_posture::read_json_array(reader, "a Prowler OCSF JSON report", |record: Record| {
            if let Some(check) = read_record(record.0, &mut assets, sink) {
                assets.emit(sink, context, check);
            }
        })
        .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))?;

        assets.finish(sink, context);
        Ok(())
    }
}

/// One OCSF Detection Finding, with the fields Prowler fills. Text fields
/// are read whatever their JSON type.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawRecord {
    metadata: Option<Metadata>,
    #[serde(deserialize_with = "util::loose_text")]
    class_uid: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    severity: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    severity_id: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    status: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    status_code: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    status_detail: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    message: Option<String>,
    finding_info: Option<FindingInfo>,
    cloud: Option<Cloud>,
    resources: Vec<Resource>,
    remediation: Option<Remediation>,
    #[serde(deserialize_with = "util::loose_text")]
    risk_details: Option<String>,
    unmapped: Option<Unmapped>,
    #[serde(deserialize_with = "util::loose_text")]
    time_dt: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Metadata {
    #[serde(deserialize_with = "util::loose_text")]
    event_code: Option<String>,
    product: Option<Product>,
    #[serde(deserialize_with = "util::loose_text")]
    version: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Product {
    #[serde(deserialize_with = "util::loose_text")]
    name: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    version: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FindingInfo {
    #[serde(deserialize_with = "util::loose_text")]
    uid: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    title: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    desc: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    created_time_dt: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    created_time: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Cloud {
    account: Option<Account>,
    org: Option<Named>,
    #[serde(deserialize_with = "util::loose_text")]
    provider: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    region: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Account {
    #[serde(deserialize_with = "util::loose_text")]
    uid: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Named {
    #[serde(deserialize_with = "util::loose_text")]
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Resource {
    #[serde(deserialize_with = "util::loose_text")]
    uid: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    name: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    region: Option<String>,
    #[serde(rename = "type", deserialize_with = "util::loose_text")]
    resource_type: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    cloud_partition: Option<String>,
    group: Option<Named>,
    labels: Tags,
    #[serde(deserialize_with = "util::loose_text")]
    namespace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Remediation {
    #[serde(deserialize_with = "util::loose_text")]
    desc: Option<String>,
    references: Texts,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Unmapped {
    #[serde(deserialize_with = "util::loose_text")]
    related_url: Option<String>,
    compliance: Compliance,
    categories: Texts,
    #[serde(deserialize_with = "util::loose_text")]
    notes: Option<String>,
    additional_urls: Texts,
    check_type: Texts,
}

/// A Detection Finding that Prowler wrote, in a version the parser reads.
#[derive(Debug, Deserialize)]
#[serde(try_from = "RawRecord")]
struct Record(RawRecord);

impl TryFrom<RawRecord> for Record {
    type Error = String;

    fn try_from(raw: RawRecord) -> Result<Record, String> {
        if let Some(class) = raw.class_uid.as_deref()
            && class != DETECTION_FINDING
        {
            return Err(format!(
                "expected OCSF Detection Findings (class_uid 2004), found class_uid {class}; \
                 Prowler 3's json-ocsf output (Security Finding, 2001) is not read, \
                 export the scan with Prowler 4 or later or as Prowler 3 JSON"
            ));
        }

        let metadata = raw.metadata.as_ref();
        if let Some(version) = metadata.and_then(|m| m.version.as_deref())
            && !version.trim().starts_with("1.")
        {
            return Err(format!(
                "the report declares OCSF version {version}; this parser reads OCSF 1.x"
            ));
        }
        let product = metadata
            .and_then(|m| m.product.as_ref())
            .and_then(|p| p.name.as_deref());
        if let Some(product) = product
            && !product.to_ascii_lowercase().contains("prowler")
        {
            return Err(format!(
                "the finding comes from {product:?}; this parser reads the OCSF findings of Prowler"
            ));
        }

        let event_code = metadata.and_then(|m| m.event_code.as_deref());
        if raw.status_code.is_none() || event_code.is_none() {
            return Err(
                "expected a Prowler OCSF finding with `metadata.event_code` and `status_code`, \
                 found an object without them; is this another tool's report?"
                    .to_string(),
            );
        }
        Ok(Record(raw))
    }
}

/// Declares the record's account and returns the finding of a failed or
/// manual check.
fn read_record(record: RawRecord, assets: &mut CloudAssets, sink: &mut dyn Sink) -> Option<CheckFinding> {
    let cloud = record.cloud.as_ref();
    let is_kubernetes = record.resources.iter().any(|resource| resource.namespace.is_some());
    let provider = match cloud.and_then(|c| util::non_empty(c.provider.as_deref())) {
        Some(provider) => cloud_posture::provider_name(&provider),
        None if is_kubernetes => "kubernetes".to_string(),
        None => cloud_posture::provider_name(""),
    };
    let cloud_account = cloud.and_then(|c| c.account.as_ref());
    let mut account = CloudAccount::new(&provider, cloud_account.and_then(|a| a.uid.as_deref()));
    if let Some(account) = account.as_mut() {
        account.name = cloud_account.and_then(|a| util::non_empty(a.name.as_deref()));
        account.organization = cloud
            .and_then(|c| c.org.as_ref())
            .and_then(|org| util::non_empty(org.name.as_deref()));
        assets.account(sink, account);
    }

    let suppressed = record
        .status
        .as_deref()
        .is_some_and(|status| status.trim().eq_ignore_ascii_case("suppressed"));
    let source_status = match (
        Verdict::parse(record.status_code.as_deref().unwrap_or_default()),
        suppressed,
    ) {
        (Verdict::Fail | Verdict::Manual | Verdict::Muted, true) | (Verdict::Muted, false) => {
            Some(SourceStatus::Suppressed)
        }
        (Verdict::Fail, false) => None,
        (Verdict::Manual, false) => Some(SourceStatus::UnderInvestigation),
        (Verdict::Pass | Verdict::Info | Verdict::Other, _) => return None,
    };
    Some(build_check(record, provider, account, source_status))
}

fn build_check(
    record: RawRecord,
    provider: String,
    account: Option<CloudAccount>,
    source_status: Option<SourceStatus>,
) -> CheckFinding {
    let metadata = record.metadata.unwrap_or_default();
    let info = record.finding_info.unwrap_or_default();
    let unmapped = record.unmapped.unwrap_or_default();
    let remediation = record.remediation.unwrap_or_default();
    let check_title = util::non_empty(info.title.as_deref());
    let rule_id = util::non_empty(metadata.event_code.as_deref()).unwrap_or_else(|| "unknown-check".to_string());
    let status_detail = util::non_empty(record.status_detail.as_deref());
    let title = util::non_empty(record.message.as_deref())
        .or_else(|| status_detail.clone())
        .or_else(|| check_title.clone())
        .unwrap_or_else(|| format!("Prowler check {rule_id}"));

    let mut resources = record.resources.into_iter();
    let first = resources.next();
    let other_resources: Vec<String> = resources
        .filter_map(|resource| util::non_empty(resource.uid.as_deref()))
        .collect();
    let region = first
        .as_ref()
        .and_then(|resource| util::non_empty(resource.region.as_deref()))
        .or_else(|| {
            record
                .cloud
                .as_ref()
                .and_then(|cloud| util::non_empty(cloud.region.as_deref()))
        });
    let resource_name = first
        .as_ref()
        .and_then(|resource| util::non_empty(resource.name.as_deref()));
    let namespace = first
        .as_ref()
        .and_then(|resource| util::non_empty(resource.namespace.as_deref()));
    let resource = first.and_then(|resource| {
        let uid = util::non_empty(resource.uid.as_deref()).or_else(|| resource_name.clone())?;
        Some(CloudResource {
            uid,
            name: resource_name.clone(),
            region: region.clone(),
            resource_type: util::non_empty(resource.resource_type.as_deref()),
            service: resource.group.and_then(|group| util::non_empty(group.name.as_deref())),
            partition: util::non_empty(resource.cloud_partition.as_deref()),
            tags: resource.labels.0,
        })
    });

    let tool_fingerprint = util::non_empty(info.uid.as_deref()).unwrap_or_else(|| {
        format!(
            "prowler-{provider}-{rule_id}-{}-{}-{}",
            account.as_ref().map(|a| a.uid.as_str()).unwrap_or_default(),
            region.as_deref().unwrap_or_default(),
            resource_name.as_deref().unwrap_or_default()
        )
    });

    let mut references = Vec::new();
    let urls = remediation
        .references
        .0
        .iter()
        .chain(&unmapped.related_url)
        .chain(&unmapped.additional_urls.0);
    for url in urls {
        cloud_posture::add_reference(&mut references, url);
    }

    let failed = source_status != Some(SourceStatus::UnderInvestigation);
    let severity_word = util::non_empty(record.severity.as_deref())
        .filter(|word| word.parse::<Severity>().is_ok())
        .or_else(|| {
            record
                .severity_id
                .as_deref()
                .and_then(severity_from_id)
                .map(str::to_string)
        });
    let severity = cloud_posture::check_severity(severity_word.as_deref(), failed);

    let product = metadata.product.unwrap_or_default();
    let created = info.created_time_dt.or(info.created_time).or(record.time_dt);
    let mut attributes = BTreeMap::new();
    let categories = unmapped.categories.0.join(", ");
    let check_types = unmapped.check_type.0.join(", ");
    let other_resources = other_resources.join(", ");
    let optional = [
        ("check_title", check_title.as_deref()),
        ("check_type", Some(check_types.as_str())),
        ("compliance", unmapped.compliance.0.as_deref()),
        ("categories", Some(categories.as_str())),
        ("notes", unmapped.notes.as_deref()),
        ("prowler_version", product.version.as_deref()),
        ("ocsf_version", metadata.version.as_deref()),
        ("created_time", created.as_deref()),
        ("region", region.as_deref()),
        ("namespace", namespace.as_deref()),
        ("provider", Some(provider.as_str())),
        ("status", record.status.as_deref()),
        ("status_code", record.status_code.as_deref()),
        ("other_resources", Some(other_resources.as_str())),
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
        severity,
        source_status,
        description: cloud_posture::describe(info.desc.as_deref(), record.risk_details.as_deref()),
        remediation: util::non_empty(remediation.desc.as_deref()),
        evidence: status_detail,
        references,
        attributes,
        provider,
    }
}

/// Returns the severity word of an OCSF `severity_id`: 1 Informational,
/// 2 Low, 3 Medium, 4 High, 5 Critical, 6 Fatal. 0 (Unknown) and 99
/// (Other) give `None`.
fn severity_from_id(id: &str) -> Option<&'static str> {
    match id.trim() {
        "1" => Some("informational"),
        "2" => Some("low"),
        "3" => Some("medium"),
        "4" => Some("high"),
        "5" | "6" => Some("critical"),
        _ => None,
    }
}
