//! KICS JSON reports: failed queries of Checkmarx KICS over
//! infrastructure-as-code (Terraform, Kubernetes, Helm, CloudFormation,
//! Ansible, Dockerfiles, OpenAPI...).
//!
//! # Reads
//!
//! The `results.json` that `kics scan --report-formats json` writes, from
//! KICS 1.x to 2.x: a root object with `kics_version` (1.5 and later),
//! `files_scanned`, `queries_total`, `severity_counters`, `total_counter`
//! and `queries`. Each query has `query_name`, `query_id`, `query_url`,
//! `severity` (`CRITICAL`, `HIGH`, `MEDIUM`, `LOW`, `INFO`, `TRACE`),
//! `platform`, `cloud_provider`, `category`, `description`, `cwe` and
//! `files`, each file entry with `file_name`, `similarity_id`, `line`,
//! `resource_type`, `resource_name`, `issue_type`, `search_key`,
//! `expected_value`, `actual_value`, `remediation` and `remediation_type`.
//!
//! KICS declares only its own version, and the fields above have kept
//! their meaning across releases, so no version is rejected.
//!
//! # Field mapping
//!
//! One finding per file entry of a query: KICS lists only failed checks.
//!
//! | report | finding |
//! | --- | --- |
//! | `query_id`, else `query_name` | `rule_id` |
//! | `category: query_name` (as DefectDojo titles it), else `query_name` | `title` |
//! | `severity` (`TRACE` is Info) | `severity` |
//! | `category` `Secret Management` | `kind` Secret, else Misconfiguration |
//! | `file_name`, `line` | `location` |
//! | `similarity_id` | `tool_fingerprint` (see below) |
//! | `expected_value`, `actual_value` | `evidence` |
//! | `expected_value` | `fix.description` |
//! | `description`, `platform`, `category`, `issue_type` | `description` |
//! | `cwe` | `cwes` |
//! | `query_url` (unless it is the KICS home page) | `references` |
//! | `query_name`, `platform`, `cloud_provider`, `category`, `issue_type`, `search_key`, `resource_type`, `resource_name`, `remediation`, `remediation_type`, `similarity_id` | `attributes` |
//!
//! KICS replaces the values of secrets with `<SECRET-MASKED-ON-PURPOSE>`
//! before it writes them, so no clear secret reaches the parser and
//! `finding.secret` stays empty.
//!
//! # Scope target
//!
//! KICS names no repository, so the scope is
//! [`ParseContext::default_target`], and the asset is an
//! [`AssetKind::Repository`] keyed by it.
//!
//! # Fingerprint
//!
//! Tool, query id, repository asset, file name and KICS's `similarity_id`,
//! which KICS computes from the query, file, search key and value so that
//! it survives line shifts. KICS gives one similarity id to every entry of
//! one search key: the "RBAC Wildcard In Rule" query reports the wildcard
//! in `apiGroups`, `resources` and `verbs` of one rule under one id. The
//! second and later entries of an id within a query get `#2`, `#3`... in
//! the order KICS writes them, which is the order of the document, so each
//! keeps a finding of its own. Without a similarity id, the line is used.
//!
//! # Not read yet
//!
//! `bill_of_materials` (the `--bom` inventory), `search_line`,
//! `search_value`, the localized `description_id`, and KICS's other report
//! formats (SARIF is read by the `sarif` parser).
//!
//! # Memory
//!
//! Queries stream. One query is held with all its file entries, because
//! KICS writes the query's `category` and `description`, which every
//! finding needs, after its `files`.
//!
//! # Reference
//!
//! <https://docs.kics.io/latest/results/> (JSON results).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::BufRead;

use ctem_model::{AssetKey, Finding, FindingKind, Severity};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::iac_shared::{self, EachElement, LooseText, SeenKeys};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "kics-json";
const TOOL: &str = "kics";

/// The category of KICS's secret queries.
const SECRET_CATEGORY: &str = "Secret Management";

/// The KICS JSON report parser.
pub struct KicsJson;

impl Parser for KicsJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "KICS JSON",
            tool: "KICS",
            versions: "KICS 1.x and 2.x (results.json)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if !head.starts_with(b"{") {
            return Detection::No;
        }
        let has = |key: &[u8]| util::contains(head, key);
        let marker = has(b"\"kics_version\"")
            || has(b"\"queries_total\"")
            || (has(b"\"query_id\"") && has(b"\"similarity_id\""));
        if has(b"\"queries\"") && marker {
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
        let target = context.default_target.to_string();
        let repository = iac_shared::send_repository(sink, TOOL, &target);
        let mut state = ReportState {
            sink,
            repository,
            target,
        };

        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        deserializer
            .deserialize_any(RootVisitor { state: &mut state })
            .and_then(|()| deserializer.end())
            .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))
    }
}

/// State of one file's parse.
struct ReportState<'a> {
    sink: &'a mut dyn Sink,
    repository: AssetKey,
    target: String,
}

/// Accepts the root object and streams its `queries`.
struct RootVisitor<'s, 'a> {
    state: &'s mut ReportState<'a>,
}

impl<'de> Visitor<'de> for RootVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a KICS report: an object with queries")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut has_queries = false;
        let mut seen = SeenKeys::default();
        while let Some(key) = map.next_key::<String>()? {
            seen.push(&key);
            if key != "queries" {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let state = &mut *self.state;
            map.next_value_seed(EachElement::new("an array of KICS queries", |query: Query| {
                state.emit_query(query);
                Ok(())
            }))?;
            has_queries = true;
        }
        if has_queries {
            Ok(())
        } else {
            Err(de::Error::custom(format!(
                "expected a KICS report (an object with queries), found {}; is this another tool's report?",
                seen.describe()
            )))
        }
    }
}

/// One query with the file entries where it failed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Query {
    query_name: Option<String>,
    query_id: Option<String>,
    query_url: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    severity: Option<String>,
    platform: Option<String>,
    cloud_provider: Option<String>,
    category: Option<String>,
    description: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    cwe: Option<String>,
    files: Option<Vec<FileEntry>>,
}

/// One place where a query failed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FileEntry {
    file_name: Option<String>,
    similarity_id: Option<String>,
    line: Option<i64>,
    resource_type: Option<String>,
    resource_name: Option<String>,
    issue_type: Option<String>,
    search_key: Option<String>,
    expected_value: Option<String>,
    actual_value: Option<String>,
    remediation: LooseText,
    remediation_type: Option<String>,
}

impl ReportState<'_> {
    /// Sends one finding per file entry of a query.
    fn emit_query(&mut self, mut query: Query) {
        let files = query.files.take().unwrap_or_default();
        // Occurrences of each similarity id in this query; ids never repeat
        // across queries, because KICS hashes the query id into them.
        let mut occurrences: HashMap<String, u32> = HashMap::new();
        for entry in files {
            let tool_fingerprint = util::non_empty(entry.similarity_id.as_deref()).map(|id| {
                let count = occurrences.entry(id.clone()).or_insert(0);
                *count += 1;
                match *count {
                    1 => id,
                    n => format!("{id}#{n}"),
                }
            });
            let mut finding = build_finding(&query, entry, self.repository.clone(), &self.target);
            finding.tool_fingerprint = tool_fingerprint;
            self.sink.finding(finding);
        }
    }
}

fn build_finding(query: &Query, entry: FileEntry, asset: AssetKey, target: &str) -> Finding {
    let name = util::non_empty(query.query_name.as_deref());
    let category = util::non_empty(query.category.as_deref());
    let rule_id = util::non_empty(query.query_id.as_deref())
        .or_else(|| name.clone())
        .unwrap_or_else(|| "unknown-query".to_string());
    let title = match (&category, &name) {
        (Some(category), Some(name)) => format!("{category}: {name}"),
        (_, Some(name)) => name.clone(),
        (_, None) => rule_id.clone(),
    };
    let kind = match category.as_deref() {
        Some(SECRET_CATEGORY) => FindingKind::Secret,
        _ => FindingKind::Misconfiguration,
    };

    let mut finding = Finding::new(TOOL, rule_id, kind, title, Severity::Info, asset);
    let word = query.severity.as_deref().map(str::trim);
    finding.severity = match word {
        Some(word) if word.eq_ignore_ascii_case("TRACE") => Severity::Info,
        _ => util::severity_or_cvss(word, &finding),
    };
    if let Some(cwe) = util::non_empty(query.cwe.as_deref()) {
        util::add_cwe(&mut finding, &cwe);
    }

    finding.location.path = util::non_empty(entry.file_name.as_deref());
    finding.location.start_line = iac_shared::line_number(entry.line);

    let expected = util::non_empty(entry.expected_value.as_deref());
    let actual = util::non_empty(entry.actual_value.as_deref());
    finding.evidence = iac_shared::paragraphs([
        expected.as_ref().map(|value| format!("Expected: {value}")),
        actual.as_ref().map(|value| format!("Actual: {value}")),
    ])
    .map(|text| util::truncate_text(&text, iac_shared::MAX_EVIDENCE_BYTES));
    finding.fix.description = expected;

    let platform = util::non_empty(query.platform.as_deref());
    let issue_type = util::non_empty(entry.issue_type.as_deref());
    let facts: Vec<String> = [
        platform.as_ref().map(|value| format!("Platform: {value}.")),
        category.as_ref().map(|value| format!("Category: {value}.")),
        issue_type.as_ref().map(|value| format!("Issue type: {value}.")),
    ]
    .into_iter()
    .flatten()
    .collect();
    finding.description = iac_shared::paragraphs([
        util::non_empty(query.description.as_deref()),
        (!facts.is_empty()).then(|| facts.join(" ")),
    ]);

    // KICS writes its home page as the URL of queries that have no page of
    // their own, and that page has no facts about the finding.
    let url = util::non_empty(query.query_url.as_deref()).filter(|url| url.trim_end_matches('/') != "https://kics.io");
    finding.references.extend(url);

    let attributes = [
        ("query_name", name),
        ("platform", platform),
        ("cloud_provider", util::non_empty(query.cloud_provider.as_deref())),
        ("category", category),
        ("issue_type", issue_type),
        ("search_key", util::non_empty(entry.search_key.as_deref())),
        ("resource_type", util::non_empty(entry.resource_type.as_deref())),
        ("resource_name", util::non_empty(entry.resource_name.as_deref())),
        ("remediation", entry.remediation.text()),
        ("remediation_type", util::non_empty(entry.remediation_type.as_deref())),
        ("similarity_id", util::non_empty(entry.similarity_id.as_deref())),
    ];
    finding.attributes = attributes
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| (name.to_string(), value)))
        .collect::<BTreeMap<_, _>>();
    finding.target = Some(target.to_string());
    finding
}
