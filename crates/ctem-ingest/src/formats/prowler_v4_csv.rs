//! Prowler CSV reports of versions 3 to 5: the results of Prowler's AWS,
//! Azure, GCP and Kubernetes checks, one line per check and resource.
//!
//! # Reads
//!
//! The `-M csv` output of Prowler 4.x and 5.x: semicolon-separated, with
//! the header `AUTH_METHOD;TIMESTAMP;ACCOUNT_UID;ACCOUNT_NAME;ACCOUNT_EMAIL;
//! ACCOUNT_ORGANIZATION_UID;ACCOUNT_ORGANIZATION_NAME;ACCOUNT_TAGS;
//! FINDING_UID;PROVIDER;CHECK_ID;CHECK_TITLE;CHECK_TYPE;STATUS;
//! STATUS_EXTENDED;MUTED;SERVICE_NAME;SUBSERVICE_NAME;SEVERITY;
//! RESOURCE_TYPE;RESOURCE_UID;RESOURCE_NAME;RESOURCE_DETAILS;RESOURCE_TAGS;
//! PARTITION;REGION;DESCRIPTION;RISK;RELATED_URL;
//! REMEDIATION_RECOMMENDATION_TEXT;REMEDIATION_RECOMMENDATION_URL;
//! REMEDIATION_CODE_*;COMPLIANCE;CATEGORIES;DEPENDS_ON;RELATED_TO;NOTES;
//! PROWLER_VERSION;ADDITIONAL_URLS`. The Prowler 3 CSV, with
//! `ASSESSMENT_START_TIME`, `FINDING_UNIQUE_ID`, `ACCOUNT_ID`,
//! `SUBSCRIPTION`, `PROJECT_ID`, `LOCATION`, `TENANT_DOMAIN`, `RESOURCE_ID`
//! and `RESOURCE_ARN` in place of the 4.x names, is read too. Columns are found
//! by name, and the delimiter is the one the header line uses most. A file
//! with a header and no record is an empty report.
//!
//! Failed checks (`FAIL`) are findings. So are the checks that Prowler
//! could not decide (`MANUAL`), which DefectDojo keeps for this format:
//! they get the source status [`SourceStatus::UnderInvestigation`], since
//! a person has to look. Passed checks are dropped. A result with
//! `MUTED` set to `True`, or with the status `MUTED`, gets the source
//! status [`SourceStatus::Suppressed`].
//!
//! # Field mapping
//!
//! | report | finding |
//! | --- | --- |
//! | `CHECK_ID` | `rule_id` |
//! | `CHECK_TITLE`, else `STATUS_EXTENDED` | `title` |
//! | `STATUS_EXTENDED` (the result, naming the resource) | `evidence` |
//! | `SEVERITY` | `severity` (`Info` where missing; a failed check rated informational is `Low`, see below) |
//! | `STATUS`, `MUTED` | `source_status` (see above) |
//! | `DESCRIPTION` and `RISK` | `description` |
//! | `REMEDIATION_RECOMMENDATION_TEXT` | `fix.description` |
//! | `REMEDIATION_RECOMMENDATION_URL`, `RELATED_URL`, `ADDITIONAL_URLS` | `references` |
//! | `FINDING_UID` | `tool_fingerprint` |
//! | `RESOURCE_UID` (else `RESOURCE_NAME`), `RESOURCE_NAME`, `REGION`, `RESOURCE_TYPE`, `SERVICE_NAME`, `PARTITION`, `RESOURCE_TAGS` | the resource asset |
//! | `PROVIDER`, `ACCOUNT_UID`, `ACCOUNT_NAME`, `ACCOUNT_EMAIL`, `ACCOUNT_ORGANIZATION_NAME` | the account asset |
//! | `CHECK_TYPE`, `SUBSERVICE_NAME`, `COMPLIANCE`, `CATEGORIES`, `NOTES`, `TIMESTAMP`, `AUTH_METHOD`, `PROWLER_VERSION`, the `REMEDIATION_CODE_*` snippets | `attributes` |
//!
//! Every finding is a `Misconfiguration`.
//!
//! A failed check that Prowler rates informational still reports a
//! weakness to fix, so its severity is `Low`, as DefectDojo rates it.
//!
//! # Scope target
//!
//! `<PROVIDER>:<ACCOUNT_UID>` (`aws:123456789012`, `azure:<subscription>`,
//! `gcp:<project>`, `kubernetes:<cluster>`) for every account in the
//! report, even when all its checks passed, so that a rescan of the
//! account closes what it no longer finds. A report without account covers
//! [`ParseContext::default_target`].
//!
//! # Fingerprint
//!
//! Tool `prowler`, the check id, the resource asset (its ARN or Azure
//! resource id, or `<provider>:<account>:<region>:<RESOURCE_UID>`), and
//! `FINDING_UID`, which Prowler builds from the provider, the check, the
//! account, the region and the resource. Where it is missing, the parser
//! derives one of the same shape.
//!
//! # Not read yet
//!
//! `RESOURCE_DETAILS`, `ACCOUNT_TAGS`, `ACCOUNT_ORGANIZATION_UID`,
//! `DEPENDS_ON`, `RELATED_TO`; Prowler's compliance CSVs (one per
//! framework), which have other columns.
//!
//! # Reference
//!
//! `docs/tutorials/reporting.md` of Prowler 4
//! (<https://github.com/prowler-cloud/prowler>), section "CSV", which also
//! lists the columns renamed since Prowler 3, and the Prowler 3 writer
//! `generate_provider_output_csv` in `prowler/lib/outputs/models.py`.

use std::collections::BTreeMap;
use std::io::BufRead;

use ctem_model::SourceStatus;

use super::cloud_posture::{self, CheckFinding, CloudAccount, CloudAssets, CloudResource, CsvTable, Verdict};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Position, Sink, util};

const FORMAT_ID: &str = "prowler-v4-csv";
const TOOL: &str = "prowler";

/// The Prowler 3, 4 and 5 CSV parser.
pub struct ProwlerV4Csv;

impl Parser for ProwlerV4Csv {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Prowler CSV (3.x to 5.x)",
            tool: "Prowler",
            versions: "3.x, 4.x, 5.x (-M csv)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        let header = match head.iter().position(|&b| b == b'\n') {
            Some(end) => &head[..end],
            None => head,
        };
        let has_uid = util::contains(header, b"FINDING_UID") || util::contains(header, b"FINDING_UNIQUE_ID");
        if has_uid && util::contains(header, b"CHECK_ID") && util::contains(header, b"STATUS_EXTENDED") {
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
        let Some(mut table) = CsvTable::open(context, FORMAT_ID, reader)? else {
            assets.finish(sink, context);
            return Ok(());
        };
        let columns = Columns::find(&table, context)?;

        while table.next_record()? {
            if let Some(check) = read_record(&table, &columns, &mut assets, sink) {
                assets.emit(sink, context, check);
            }
        }

        assets.finish(sink, context);
        Ok(())
    }
}

/// The indexes of the columns the parser reads.
struct Columns {
    check_id: usize,
    status: usize,
    auth_method: Option<usize>,
    timestamp: Option<usize>,
    account_uid: Option<usize>,
    account_name: Option<usize>,
    account_email: Option<usize>,
    account_organization: Option<usize>,
    finding_uid: Option<usize>,
    provider: Option<usize>,
    check_title: Option<usize>,
    check_type: Option<usize>,
    status_extended: Option<usize>,
    muted: Option<usize>,
    service: Option<usize>,
    sub_service: Option<usize>,
    severity: Option<usize>,
    resource_type: Option<usize>,
    resource_uid: Option<usize>,
    resource_id: Option<usize>,
    resource_name: Option<usize>,
    resource_tags: Option<usize>,
    partition: Option<usize>,
    region: Option<usize>,
    description: Option<usize>,
    risk: Option<usize>,
    related_url: Option<usize>,
    remediation_text: Option<usize>,
    remediation_url: Option<usize>,
    code_native_iac: Option<usize>,
    code_terraform: Option<usize>,
    code_cli: Option<usize>,
    code_other: Option<usize>,
    compliance: Option<usize>,
    categories: Option<usize>,
    notes: Option<usize>,
    prowler_version: Option<usize>,
    additional_urls: Option<usize>,
}

impl Columns {
    /// Finds the columns in the header, which must have the check id and
    /// the status.
    fn find(table: &CsvTable<'_>, context: &ParseContext<'_>) -> Result<Columns, ParseError> {
        let required = |name: &str| {
            table.column(&[name]).ok_or_else(|| {
                ParseError::new(
                    context.path,
                    FORMAT_ID,
                    Some(Position::LineColumn { line: 1, column: 1 }),
                    format!(
                        "the header has no column {name}; expected a Prowler CSV report of version 3 or later \
                         (...;FINDING_UID;PROVIDER;CHECK_ID;CHECK_TITLE;CHECK_TYPE;STATUS;...)"
                    ),
                )
            })
        };
        Ok(Columns {
            check_id: required("CHECK_ID")?,
            status: required("STATUS")?,
            auth_method: table.column(&["AUTH_METHOD"]),
            timestamp: table.column(&["TIMESTAMP", "ASSESSMENT_START_TIME"]),
            account_uid: table.column(&["ACCOUNT_UID", "ACCOUNT_ID", "SUBSCRIPTION", "PROJECT_ID"]),
            account_name: table.column(&["ACCOUNT_NAME"]),
            account_email: table.column(&["ACCOUNT_EMAIL"]),
            account_organization: table.column(&["ACCOUNT_ORGANIZATION_NAME", "ACCOUNT_ORG", "TENANT_DOMAIN"]),
            finding_uid: table.column(&["FINDING_UID", "FINDING_UNIQUE_ID"]),
            provider: table.column(&["PROVIDER"]),
            check_title: table.column(&["CHECK_TITLE"]),
            check_type: table.column(&["CHECK_TYPE"]),
            status_extended: table.column(&["STATUS_EXTENDED"]),
            muted: table.column(&["MUTED"]),
            service: table.column(&["SERVICE_NAME"]),
            sub_service: table.column(&["SUBSERVICE_NAME"]),
            severity: table.column(&["SEVERITY"]),
            resource_type: table.column(&["RESOURCE_TYPE"]),
            resource_uid: table.column(&["RESOURCE_UID", "RESOURCE_ARN"]),
            resource_id: table.column(&["RESOURCE_ID"]),
            resource_name: table.column(&["RESOURCE_NAME"]),
            resource_tags: table.column(&["RESOURCE_TAGS"]),
            partition: table.column(&["PARTITION"]),
            region: table.column(&["REGION", "LOCATION"]),
            description: table.column(&["DESCRIPTION"]),
            risk: table.column(&["RISK"]),
            related_url: table.column(&["RELATED_URL"]),
            remediation_text: table.column(&["REMEDIATION_RECOMMENDATION_TEXT"]),
            remediation_url: table.column(&["REMEDIATION_RECOMMENDATION_URL"]),
            code_native_iac: table.column(&[
                "REMEDIATION_CODE_NATIVEIAC",
                "REMEDIATION_RECOMMENDATION_CODE_NATIVEIAC",
            ]),
            code_terraform: table.column(&[
                "REMEDIATION_CODE_TERRAFORM",
                "REMEDIATION_RECOMMENDATION_CODE_TERRAFORM",
            ]),
            code_cli: table.column(&["REMEDIATION_CODE_CLI", "REMEDIATION_RECOMMENDATION_CODE_CLI"]),
            code_other: table.column(&["REMEDIATION_CODE_OTHER", "REMEDIATION_RECOMMENDATION_CODE_OTHER"]),
            compliance: table.column(&["COMPLIANCE"]),
            categories: table.column(&["CATEGORIES"]),
            notes: table.column(&["NOTES"]),
            prowler_version: table.column(&["PROWLER_VERSION"]),
            additional_urls: table.column(&["ADDITIONAL_URLS"]),
        })
    }
}

/// Declares the record's account and returns the finding of a failed or
/// manual check.
fn read_record(
    table: &CsvTable<'_>,
    columns: &Columns,
    assets: &mut CloudAssets,
    sink: &mut dyn Sink,
) -> Option<CheckFinding> {
    let text = |column: Option<usize>| table.get(column).map(str::to_string);

    let provider = cloud_posture::provider_name(table.get(columns.provider).unwrap_or("aws"));
    let mut account = CloudAccount::new(&provider, table.get(columns.account_uid));
    if let Some(account) = account.as_mut() {
        account.name = text(columns.account_name);
        account.email = text(columns.account_email);
        account.organization = text(columns.account_organization);
        assets.account(sink, account);
    }

    let status = table.get(Some(columns.status)).unwrap_or_default();
    let muted = table
        .get(columns.muted)
        .is_some_and(|muted| muted.eq_ignore_ascii_case("true"));
    let source_status = match (Verdict::parse(status), muted) {
        (Verdict::Fail | Verdict::Manual | Verdict::Muted, true) | (Verdict::Muted, false) => {
            Some(SourceStatus::Suppressed)
        }
        (Verdict::Fail, false) => None,
        (Verdict::Manual, false) => Some(SourceStatus::UnderInvestigation),
        (Verdict::Pass | Verdict::Info | Verdict::Other, _) => return None,
    };

    let rule_id = table.get(Some(columns.check_id)).unwrap_or("unknown-check").to_string();
    let check_title = text(columns.check_title);
    let status_extended = text(columns.status_extended);
    let region = text(columns.region);
    let title = check_title
        .clone()
        .or_else(|| status_extended.clone())
        .unwrap_or_else(|| format!("Prowler check {rule_id}"));

    let resource_id = text(columns.resource_id);
    let resource_name = text(columns.resource_name).or_else(|| resource_id.clone());
    let resource_uid = text(columns.resource_uid)
        .or_else(|| resource_id.clone())
        .or_else(|| resource_name.clone());
    let tool_fingerprint = text(columns.finding_uid).unwrap_or_else(|| {
        format!(
            "prowler-{provider}-{rule_id}-{}-{}-{}",
            account.as_ref().map(|a| a.uid.as_str()).unwrap_or_default(),
            region.as_deref().unwrap_or_default(),
            resource_name.as_deref().unwrap_or_default()
        )
    });
    let resource = resource_uid.map(|uid| CloudResource {
        uid,
        name: resource_name,
        region: region.clone(),
        resource_type: text(columns.resource_type),
        service: text(columns.service),
        partition: text(columns.partition),
        tags: table
            .get(columns.resource_tags)
            .map(cloud_posture::split_list)
            .unwrap_or_default(),
    });

    let mut references = Vec::new();
    let urls = [columns.remediation_url, columns.related_url, columns.additional_urls];
    for url in urls.into_iter().filter_map(|column| table.get(column)) {
        for url in cloud_posture::split_list(url) {
            cloud_posture::add_reference(&mut references, &url);
        }
    }

    let mut attributes = BTreeMap::new();
    let optional = [
        ("check_title", check_title.as_deref()),
        ("check_type", table.get(columns.check_type)),
        ("service", table.get(columns.service)),
        ("sub_service", table.get(columns.sub_service)),
        ("compliance", table.get(columns.compliance)),
        ("categories", table.get(columns.categories)),
        ("notes", table.get(columns.notes)),
        ("timestamp", table.get(columns.timestamp)),
        ("auth_method", table.get(columns.auth_method)),
        ("prowler_version", table.get(columns.prowler_version)),
        ("region", region.as_deref()),
        ("provider", Some(provider.as_str())),
        ("status", Some(status)),
        ("muted", muted.then_some("true")),
        ("remediation_cli", table.get(columns.code_cli)),
        ("remediation_terraform", table.get(columns.code_terraform)),
        ("remediation_native_iac", table.get(columns.code_native_iac)),
        ("remediation_other", table.get(columns.code_other)),
    ];
    for (name, value) in optional {
        cloud_posture::put(&mut attributes, name, value);
    }
    if let Some(account) = &account {
        attributes.insert("account_id".into(), account.uid.clone());
    }

    Some(CheckFinding {
        account,
        resource,
        tool_fingerprint: Some(tool_fingerprint),
        rule_id,
        title,
        severity: cloud_posture::check_severity(
            table.get(columns.severity),
            source_status != Some(SourceStatus::UnderInvestigation),
        ),
        source_status,
        description: cloud_posture::describe(table.get(columns.description), table.get(columns.risk)),
        remediation: text(columns.remediation_text),
        evidence: status_extended,
        references,
        attributes,
        provider,
    })
}
