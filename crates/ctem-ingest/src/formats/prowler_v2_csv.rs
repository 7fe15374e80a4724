//! Prowler v2 CSV reports: the results of Prowler's AWS checks, one line
//! per check and resource.
//!
//! # Reads
//!
//! The `-M csv` output of Prowler 2.x (the shell version):
//! comma-separated, with the header `PROFILE,ACCOUNT_NUM,REGION,TITLE_ID,
//! CHECK_RESULT,ITEM_SCORED,ITEM_LEVEL,TITLE_TEXT,CHECK_RESULT_EXTENDED,
//! CHECK_ASFF_COMPLIANCE_TYPE,CHECK_SEVERITY,CHECK_SERVICENAME,
//! CHECK_ASFF_RESOURCE_TYPE,CHECK_ASFF_TYPE,CHECK_RISK,CHECK_REMEDIATION,
//! CHECK_DOC,CHECK_CAF_EPIC` and, in later 2.x versions,
//! `CHECK_RESOURCE_ID`, `PROWLER_START_TIME` and (from 2.8) the
//! `ACCOUNT_DETAILS_*` columns. The column names of early 2.x reports that
//! DefectDojo also reads (`RESULT`, `SCORED`, `LEVEL`, `SEVERITY` and
//! `NOTES`) are read too. Columns are found by name, so their order does
//! not matter. An empty file is an empty report.
//!
//! Every result is a finding, passed and informational ones included,
//! because DefectDojo keeps them for this format and the conformance counts
//! follow it. They stay apart from failed checks: a `PASS` or `INFO`
//! result has severity `Info` and the source status
//! [`SourceStatus::NotAffected`], which ranks it last. `INFO` is what
//! Prowler v2 writes when a check had nothing to judge ("No RDS instances
//! found") or only gives information, so it reports no weakness either.
//! `FAIL` is a weakness. `WARNING` is a failed check on a resource that the
//! allowlist excludes, so it gets the source status
//! [`SourceStatus::Suppressed`].
//!
//! # Field mapping
//!
//! | report | finding |
//! | --- | --- |
//! | the id in brackets of `TITLE_TEXT` (`[check11] ...` -> `check11`), else `TITLE_ID` | `rule_id` |
//! | `CHECK_RESULT_EXTENDED` (the result, naming the resource), else the `TITLE_TEXT` text | `title`, `evidence` |
//! | `CHECK_SEVERITY` for a failed check (`Low` for an `Informational` one, see below), else `Info` | `severity` |
//! | `CHECK_RESULT` | `source_status` (see above) |
//! | the `TITLE_TEXT` text and `CHECK_RISK` | `description` |
//! | `CHECK_REMEDIATION` | `fix.description` |
//! | `CHECK_DOC` | `references` |
//! | `CHECK_RESOURCE_ID`, `REGION`, `CHECK_SERVICENAME`, `CHECK_ASFF_RESOURCE_TYPE` | the resource asset |
//! | `ACCOUNT_NUM`, `ACCOUNT_DETAILS_NAME`, `ACCOUNT_DETAILS_EMAIL`, `ACCOUNT_DETAILS_ORG` | the account asset |
//! | `PROFILE`, `TITLE_ID`, `ITEM_LEVEL`, `ITEM_SCORED`, the ASFF types, `CHECK_CAF_EPIC`, `PROWLER_START_TIME`, the check's own severity | `attributes` |
//!
//! Every finding is a `Misconfiguration`. Reports without the resource
//! column have their findings on the account asset.
//!
//! A failed check that Prowler rates informational still reports a
//! weakness to fix, so its severity is `Low`, as DefectDojo rates it.
//!
//! # Scope target
//!
//! `aws:<ACCOUNT_NUM>` for every account in the report, so that a rescan
//! of the account closes what it no longer finds. A report without account
//! (an empty file) covers [`ParseContext::default_target`].
//!
//! # Fingerprint
//!
//! Tool `prowler`, the check id, the asset (the resource when the report
//! names one, else the account), and as tool fingerprint the region and
//! `CHECK_RESULT_EXTENDED`, which names the resource in the reports that
//! have no resource column, as in Prowler v2's own Security Hub finding
//! ids.
//!
//! NOTE: a few checks put a changing number in the result text (days since
//! a last use), so such a result gets a new fingerprint when the number
//! changes.
//!
//! # Not read yet
//!
//! `ACCOUNT_DETAILS_TAGS`, `ACCOUNT_DETAILS_ARN`; the JSON output (read by
//! `prowler-v2-json`) and the ASFF output.
//!
//! # Reference
//!
//! The Prowler 2 README (`README.md` of
//! <https://github.com/prowler-cloud/prowler> before 3.0), sections "Output
//! Formats" and "Show or log only FAILs".

use std::collections::BTreeMap;
use std::io::BufRead;

use ctem_model::{Severity, SourceStatus};

use super::cloud_posture::{self, CheckFinding, CloudAccount, CloudAssets, CloudResource, CsvTable, Verdict};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Position, Sink, util};

const FORMAT_ID: &str = "prowler-v2-csv";
const TOOL: &str = "prowler";
const PROVIDER: &str = "aws";

/// The Prowler v2 CSV parser.
pub struct ProwlerV2Csv;

impl Parser for ProwlerV2Csv {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Prowler v2 CSV",
            tool: "Prowler",
            versions: "2.x (-M csv)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if head.starts_with(b"PROFILE,ACCOUNT_NUM,REGION,TITLE_ID,") {
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
    profile: Option<usize>,
    account: usize,
    region: Option<usize>,
    title_id: Option<usize>,
    result: usize,
    scored: Option<usize>,
    level: Option<usize>,
    title_text: usize,
    result_extended: Option<usize>,
    compliance_type: Option<usize>,
    severity: Option<usize>,
    service: Option<usize>,
    resource_type: Option<usize>,
    asff_type: Option<usize>,
    risk: Option<usize>,
    remediation: Option<usize>,
    doc: Option<usize>,
    caf_epic: Option<usize>,
    resource_id: Option<usize>,
    start_time: Option<usize>,
    account_email: Option<usize>,
    account_name: Option<usize>,
    account_organization: Option<usize>,
}

impl Columns {
    /// Finds the columns in the header, which must have the account, the
    /// result and the check title.
    fn find(table: &CsvTable<'_>, context: &ParseContext<'_>) -> Result<Columns, ParseError> {
        let required = |names: &[&str]| {
            table.column(names).ok_or_else(|| {
                ParseError::new(
                    context.path,
                    FORMAT_ID,
                    Some(Position::LineColumn { line: 1, column: 1 }),
                    format!(
                        "the header has no column {}; expected a Prowler v2 CSV report \
                         (PROFILE,ACCOUNT_NUM,REGION,TITLE_ID,CHECK_RESULT,...)",
                        names[0]
                    ),
                )
            })
        };
        Ok(Columns {
            account: required(&["ACCOUNT_NUM"])?,
            result: required(&["CHECK_RESULT", "RESULT"])?,
            title_text: required(&["TITLE_TEXT"])?,
            profile: table.column(&["PROFILE"]),
            region: table.column(&["REGION"]),
            title_id: table.column(&["TITLE_ID"]),
            scored: table.column(&["ITEM_SCORED", "SCORED"]),
            level: table.column(&["ITEM_LEVEL", "LEVEL"]),
            result_extended: table.column(&["CHECK_RESULT_EXTENDED", "NOTES"]),
            compliance_type: table.column(&["CHECK_ASFF_COMPLIANCE_TYPE"]),
            severity: table.column(&["CHECK_SEVERITY", "SEVERITY"]),
            service: table.column(&["CHECK_SERVICENAME"]),
            resource_type: table.column(&["CHECK_ASFF_RESOURCE_TYPE"]),
            asff_type: table.column(&["CHECK_ASFF_TYPE"]),
            risk: table.column(&["CHECK_RISK"]),
            remediation: table.column(&["CHECK_REMEDIATION"]),
            doc: table.column(&["CHECK_DOC"]),
            caf_epic: table.column(&["CHECK_CAF_EPIC"]),
            resource_id: table.column(&["CHECK_RESOURCE_ID"]),
            start_time: table.column(&["PROWLER_START_TIME"]),
            account_email: table.column(&["ACCOUNT_DETAILS_EMAIL"]),
            account_name: table.column(&["ACCOUNT_DETAILS_NAME"]),
            account_organization: table.column(&["ACCOUNT_DETAILS_ORG"]),
        })
    }
}

/// Declares the record's account and returns the finding of its result,
/// or `None` for a status that reports nothing (such as `ERROR`).
fn read_record(
    table: &CsvTable<'_>,
    columns: &Columns,
    assets: &mut CloudAssets,
    sink: &mut dyn Sink,
) -> Option<CheckFinding> {
    let text = |column: Option<usize>| table.get(column).map(str::to_string);

    let mut account = CloudAccount::new(PROVIDER, table.get(Some(columns.account)));
    if let Some(account) = account.as_mut() {
        account.name = text(columns.account_name);
        account.email = text(columns.account_email);
        account.organization = text(columns.account_organization);
        assets.account(sink, account);
    }

    let status = table.get(Some(columns.result)).unwrap_or_default();
    let check_severity = text(columns.severity);
    let (severity, source_status) = match Verdict::parse(status) {
        Verdict::Fail => (cloud_posture::check_severity(check_severity.as_deref(), true), None),
        Verdict::Muted => (
            cloud_posture::check_severity(check_severity.as_deref(), true),
            Some(SourceStatus::Suppressed),
        ),
        Verdict::Manual => (
            cloud_posture::check_severity(check_severity.as_deref(), false),
            Some(SourceStatus::UnderInvestigation),
        ),
        Verdict::Pass | Verdict::Info => (Severity::Info, Some(SourceStatus::NotAffected)),
        Verdict::Other => return None,
    };

    let (bracket_id, check_title) =
        cloud_posture::split_v2_title(table.get(Some(columns.title_text)).unwrap_or_default());
    let check_title = util::non_empty(Some(&check_title));
    let title_id = text(columns.title_id);
    let rule_id = bracket_id
        .or_else(|| title_id.clone())
        .unwrap_or_else(|| "unknown-check".to_string());
    let region = text(columns.region);
    let extended = text(columns.result_extended);
    let title = extended
        .clone()
        .or_else(|| check_title.clone())
        .unwrap_or_else(|| format!("Prowler check {rule_id}"));

    let resource = text(columns.resource_id).map(|uid| CloudResource {
        uid,
        region: region.clone(),
        service: text(columns.service),
        resource_type: text(columns.resource_type),
        ..CloudResource::default()
    });

    let mut attributes = BTreeMap::new();
    let optional = [
        ("profile", text(columns.profile)),
        ("check_title", check_title.clone()),
        ("title_id", title_id),
        ("level", text(columns.level)),
        ("scored", text(columns.scored)),
        ("asff_compliance_type", text(columns.compliance_type)),
        ("asff_type", text(columns.asff_type)),
        ("asff_resource_type", text(columns.resource_type)),
        ("caf_epic", text(columns.caf_epic)),
        ("start_time", text(columns.start_time)),
        ("region", region.clone()),
        ("service", text(columns.service)),
        ("status", Some(status.to_string())),
        ("check_severity", check_severity),
    ];
    for (name, value) in optional {
        cloud_posture::put(&mut attributes, name, value.as_deref());
    }
    if let Some(account) = &account {
        attributes.insert("account_id".into(), account.uid.clone());
    }

    let mut references = Vec::new();
    if let Some(doc) = table.get(columns.doc) {
        cloud_posture::add_reference(&mut references, doc);
    }

    Some(CheckFinding {
        provider: PROVIDER.to_string(),
        account,
        resource,
        tool_fingerprint: extended
            .as_ref()
            .map(|extended| format!("{}:{extended}", region.as_deref().unwrap_or_default())),
        rule_id,
        title,
        severity,
        source_status,
        description: cloud_posture::describe(check_title.as_deref(), table.get(columns.risk)),
        remediation: text(columns.remediation),
        evidence: extended,
        references,
        attributes,
    })
}
