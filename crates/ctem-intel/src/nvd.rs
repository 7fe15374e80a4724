//! NVD CVE API 2.0 JSON: the CVE entries of the US National Vulnerability
//! Database with NVD's analysis.
//!
//! The API (<https://nvd.nist.gov/developers/vulnerabilities>) returns
//! one JSON object: `resultsPerPage`, `startIndex`, `totalResults`,
//! `format: "NVD_CVE"`, `version: "2.0"`, `timestamp` and
//! `vulnerabilities[]`, each item holding one `cve` object. [`NvdFile`]
//! reads such a response page, and also a file with a single item
//! (`{"cve": {...}}`) or a single bare `cve` object, as tools that save
//! one CVE per file write them.
//!
//! How the fields map, for each `cve`: `id`, `sourceIdentifier`,
//! `published`, `lastModified` (NVD writes UTC without an offset) and
//! `vulnStatus` are plain fields of [`NvdCve`]. Every other value is a
//! [`Fact`] whose [`Provenance`] has kind [`SourceKind::Nvd`], the date of
//! `lastModified` (day), the file as path and, where NVD names one, the
//! `source` of the value as author (`nvd@nist.gov`, or a CNA's address):
//!
//! - `descriptions[]`: the first English one;
//! - `metrics.cvssMetricV2`, `cvssMetricV30`, `cvssMetricV31`,
//!   `cvssMetricV40`: [`CvssMetric`] with the `cvssData` vector, its stated
//!   `baseScore` and `baseSeverity` (for v2, the metric's `baseSeverity`),
//!   and `type` (`Primary` or `Secondary`); a stated score that disagrees
//!   with the vector is a warning in [`NvdCve::warnings`], not an error;
//! - `weaknesses[].description[]`: CWEs, without `NVD-CWE-noinfo` and
//!   `NVD-CWE-Other`; the author is the weakness's `source`;
//! - `configurations[]`: [`NvdConfiguration`], the CPE match criteria with
//!   version ranges, the vulnerable flag and the operators;
//! - `cisaExploitAdd`, `cisaActionDue`, `cisaRequiredAction`,
//!   `cisaVulnerabilityName`: [`NvdKev`], present when CISA lists the CVE
//!   in KEV;
//! - `references[]`: [`Reference`] with tags; an `Exploit` tag marks
//!   exploit evidence.
//!
//! Validation matches the CVE JSON 5 loader: the CVE id, dates, CVSS
//! vectors, CWE ids, operators and the type of every field read are
//! checked, and a bad value rejects the file with an
//! [`IntelError::Invalid`] naming the JSON path. A response whose `format`
//! is not `NVD_CVE` or whose `version` is not 2.x is rejected as another
//! format. Files are limited to [`NVD_MAX_BYTES`] and nesting to 128 levels.
//!
//! Not read: `cveTags`, `evaluatorComment`, `evaluatorSolution`,
//! `evaluatorImpact`, `vendorComments`, the sub-scores and separate metric
//! fields of `cvssData` (the vector holds them), and the v2 flags such as
//! `acInsufInfo`. CPE criteria are kept as text after a check of their
//! `cpe:2.3:` prefix.

use std::io::Read;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use ctem_model::{CveId, CvssVersion, Cwe};
use serde::Serialize;

use crate::error::{IntelError, shorten};
use crate::json::{self, Node};
use crate::provenance::{Fact, Provenance, SourceKind};
use crate::vuln::{CvssMetric, MetricType, Reference, read_cve_id, read_cvss, read_cwe, read_english, read_reference};

/// The largest NVD file that [`NvdFile::load`] reads. A page contains at most
/// 2,000 CVEs, the API's maximum `resultsPerPage`, and the limit stops a
/// wrong file before it fills memory.
///
/// NOTE: the limit is an estimate of a full page with long configuration
/// lists; no full page was measured.
pub const NVD_MAX_BYTES: u64 = 128 * 1024 * 1024;

const FORMAT: &str = "an NVD CVE API 2.0 response";

/// The CVSS metric arrays of `metrics`, with the version each holds.
const METRIC_KEYS: [(&str, CvssVersion); 4] = [
    ("cvssMetricV2", CvssVersion::V2),
    ("cvssMetricV30", CvssVersion::V30),
    ("cvssMetricV31", CvssVersion::V31),
    ("cvssMetricV40", CvssVersion::V40),
];

/// One NVD file: a response page or a single CVE.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NvdFile {
    pub path: String,
    /// The paging fields of a response; `None` for a file with a single CVE.
    pub page: Option<NvdPage>,
    pub cves: Vec<NvdCve>,
}

/// The header of an API response page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NvdPage {
    pub results_per_page: u64,
    pub start_index: u64,
    /// How many CVEs matched the request over all pages.
    pub total_results: u64,
    /// When NVD produced the response.
    pub timestamp: Option<DateTime<Utc>>,
}

/// One CVE as NVD describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NvdCve {
    pub cve: CveId,
    /// `sourceIdentifier`: the CNA that assigned the CVE, as an address or UUID.
    pub source_identifier: Option<String>,
    pub published: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    /// `vulnStatus`, such as `Analyzed`, `Awaiting Analysis` or `Rejected`.
    pub vuln_status: Option<String>,
    /// The entry as a whole: NVD, dated by `lastModified`.
    pub source: Provenance,
    pub description: Option<Fact<String>>,
    pub cvss: Vec<Fact<CvssMetric>>,
    pub cwes: Vec<Fact<Cwe>>,
    pub configurations: Vec<NvdConfiguration>,
    pub kev: Option<Fact<NvdKev>>,
    pub references: Vec<Fact<Reference>>,
    /// Problems that did not stop loading, such as a stated CVSS score that
    /// differs from the one computed from its vector.
    pub warnings: Vec<String>,
}

/// One item of `configurations[]`: nodes combined by `operator`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NvdConfiguration {
    /// The operator that combines the nodes, or `None` when there is one node.
    pub operator: Option<NvdOperator>,
    pub negate: bool,
    pub nodes: Vec<NvdNode>,
}

/// A node of a configuration: CPE matches combined by `operator`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NvdNode {
    pub operator: NvdOperator,
    pub negate: bool,
    pub cpe_match: Vec<NvdCpeMatch>,
}

/// The logical operator that combines nodes or CPE matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum NvdOperator {
    And,
    Or,
}

/// A CPE match criterion with an optional version range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NvdCpeMatch {
    /// Whether matching products are vulnerable, rather than only a
    /// condition (such as the operating system they run on).
    pub vulnerable: bool,
    /// A CPE 2.3 name, such as `cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*`.
    pub criteria: String,
    pub match_criteria_id: Option<String>,
    pub version_start_including: Option<String>,
    pub version_start_excluding: Option<String>,
    pub version_end_including: Option<String>,
    pub version_end_excluding: Option<String>,
}

/// The KEV fields that NVD copies from CISA's catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NvdKev {
    /// `cisaExploitAdd`: the day CISA added the CVE to KEV.
    pub date_added: NaiveDate,
    /// `cisaActionDue`: the remediation deadline for US federal agencies.
    pub action_due: Option<NaiveDate>,
    pub required_action: Option<String>,
    pub vulnerability_name: Option<String>,
}

impl NvdFile {
    /// Loads an NVD response page or single-CVE file.
    pub fn load(path: impl AsRef<Path>) -> Result<NvdFile, IntelError> {
        let path = path.as_ref();
        let (display, file) = json::open(path)?;
        NvdFile::from_reader(&display, file)
    }

    /// Reads an NVD file from `reader`. `path_for_errors` names the source
    /// in errors and in every [`Provenance`].
    pub fn from_reader(path_for_errors: &str, reader: impl Read) -> Result<NvdFile, IntelError> {
        let path = path_for_errors;
        let bytes = json::read_limited(path, reader, NVD_MAX_BYTES, "NVD CVE API")?;
        let value = json::parse(path, &bytes, FORMAT)?;
        drop(bytes);

        let root = Node::root(path, &value);
        if root.expect_object().is_err() {
            return Err(not_nvd(path, "the top level is not a JSON object".to_string()));
        }

        let (page, cves) = if root.field("vulnerabilities").is_some() {
            read_response(&root)?
        } else if let Some(cve) = root.field("cve") {
            (None, vec![read_cve(&cve)?])
        } else if root.field("id").is_some() && root.field("lastModified").is_some() {
            (None, vec![read_cve(&root)?])
        } else if root.field("dataType").is_some() || root.field("cveMetadata").is_some() {
            return Err(not_nvd(
                path,
                "the file is a CVE JSON 5 record; read it with Cve5Record".to_string(),
            ));
        } else {
            return Err(not_nvd(
                path,
                "expected vulnerabilities[] of an API response, a {\"cve\": ...} item or a cve object with id and lastModified"
                    .to_string(),
            ));
        };

        let warnings: usize = cves.iter().map(|cve| cve.warnings.len()).sum();
        if warnings > 0 {
            tracing::debug!(path, warnings, "NVD file loaded with warnings");
        }
        Ok(NvdFile {
            path: path.to_string(),
            page,
            cves,
        })
    }
}

impl NvdCve {
    /// Returns whether NVD marks the CVE as rejected.
    pub fn is_rejected(&self) -> bool {
        self.vuln_status
            .as_deref()
            .is_some_and(|status| status.eq_ignore_ascii_case("Rejected"))
    }

    /// Returns the references that NVD tags as an exploit.
    pub fn exploit_references(&self) -> impl Iterator<Item = &Fact<Reference>> {
        self.references.iter().filter(|reference| reference.value.is_exploit())
    }
}

fn not_nvd(path: &str, reason: String) -> IntelError {
    IntelError::NotFormat {
        path: path.to_string(),
        expected: FORMAT,
        reason,
    }
}

fn read_response(root: &Node<'_>) -> Result<(Option<NvdPage>, Vec<NvdCve>), IntelError> {
    let path = root.file();
    if let Some(format) = root.str_of("format")?
        && format != "NVD_CVE"
    {
        return Err(not_nvd(
            path,
            format!("format is {:?}, expected \"NVD_CVE\"", shorten(format)),
        ));
    }
    if let Some(version) = root.str_of("version")?
        && !version.starts_with("2.")
    {
        return Err(not_nvd(
            path,
            format!("version is {:?}; this loader reads the API 2.x", shorten(version)),
        ));
    }

    let count = |key: &str| -> Result<u64, IntelError> {
        let node = root.required(key)?;
        let number = node.as_f64()?;
        if number < 0.0 || number.fract() != 0.0 {
            return Err(node.invalid(format!("expected a whole number of at least 0, found {number}")));
        }
        Ok(number as u64)
    };
    let page = NvdPage {
        results_per_page: count("resultsPerPage")?,
        start_index: count("startIndex")?,
        total_results: count("totalResults")?,
        timestamp: root.timestamp_of("timestamp")?,
    };

    let mut cves = Vec::new();
    for item in root.items_of("vulnerabilities")? {
        cves.push(read_cve(&item.required("cve")?)?);
    }
    if cves.len() as u64 != page.results_per_page {
        tracing::warn!(
            path,
            declared = page.results_per_page,
            found = cves.len(),
            "NVD response resultsPerPage disagrees with its vulnerabilities; the vulnerabilities are used"
        );
    }
    Ok((Some(page), cves))
}

fn read_cve(node: &Node<'_>) -> Result<NvdCve, IntelError> {
    node.expect_object()?;
    let cve = read_cve_id(&node.required("id")?)?;
    let published = node
        .timestamp_of("published")?
        .ok_or_else(|| node.invalid("missing required field published"))?;
    let last_modified = node
        .timestamp_of("lastModified")?
        .ok_or_else(|| node.invalid("missing required field lastModified"))?;
    let source = Provenance::new(SourceKind::Nvd, node.file(), Some(last_modified.date_naive()));
    let by = |author: Option<&str>| match author {
        Some(author) => source.clone().by(author),
        None => source.clone(),
    };

    let mut warnings = Vec::new();
    let description = read_english(node, "descriptions", "value")?.map(|text| Fact::new(text, source.clone()));

    let mut cvss = Vec::new();
    if let Some(metrics) = node.field("metrics") {
        for (key, version) in METRIC_KEYS {
            for metric in metrics.items_of(key)? {
                let data = metric.required("cvssData")?;
                // CVSS v2 metrics state the severity beside cvssData, later versions inside it.
                let severity_node = if version == CvssVersion::V2 { &metric } else { &data };
                let mut value = read_cvss(&data, severity_node, version, &mut warnings)?;
                value.metric_type = read_metric_type(&metric)?;
                cvss.push(Fact::new(value, by(metric.str_of("source")?)));
            }
        }
    }

    let mut cwes: Vec<Fact<Cwe>> = Vec::new();
    for weakness in node.items_of("weaknesses")? {
        let fact_source = by(weakness.str_of("source")?);
        for description in weakness.items_of("description")? {
            let value = description.required("value")?;
            if let Some(cwe) = read_cwe(&value, value.as_str()?)? {
                let fact = Fact::new(cwe, fact_source.clone());
                if !cwes.contains(&fact) {
                    cwes.push(fact);
                }
            }
        }
    }

    let mut configurations = Vec::new();
    for configuration in node.items_of("configurations")? {
        configurations.push(read_configuration(&configuration)?);
    }

    let mut references = Vec::new();
    for reference in node.items_of("references")? {
        let fact_source = by(reference.str_of("source")?);
        references.push(Fact::new(read_reference(&reference)?, fact_source));
    }

    Ok(NvdCve {
        source_identifier: node.string_of("sourceIdentifier")?,
        vuln_status: node.string_of("vulnStatus")?,
        kev: read_kev(node)?.map(|kev| Fact::new(kev, source.clone())),
        cve,
        published,
        last_modified,
        source,
        description,
        cvss,
        cwes,
        configurations,
        references,
        warnings,
    })
}

fn read_metric_type(metric: &Node<'_>) -> Result<Option<MetricType>, IntelError> {
    let Some(node) = metric.field("type") else {
        return Ok(None);
    };
    match node.as_str()? {
        word if word.eq_ignore_ascii_case("Primary") => Ok(Some(MetricType::Primary)),
        word if word.eq_ignore_ascii_case("Secondary") => Ok(Some(MetricType::Secondary)),
        word => Err(node.invalid(format!(
            "invalid metric type {:?}: expected Primary or Secondary",
            shorten(word)
        ))),
    }
}

fn read_operator(node: &Node<'_>) -> Result<NvdOperator, IntelError> {
    match node.as_str()? {
        word if word.eq_ignore_ascii_case("AND") => Ok(NvdOperator::And),
        word if word.eq_ignore_ascii_case("OR") => Ok(NvdOperator::Or),
        word => Err(node.invalid(format!("invalid operator {:?}: expected AND or OR", shorten(word)))),
    }
}

fn read_negate(node: &Node<'_>) -> Result<bool, IntelError> {
    node.field("negate")
        .map(|negate| negate.as_bool())
        .transpose()
        .map(Option::unwrap_or_default)
}

fn read_configuration(configuration: &Node<'_>) -> Result<NvdConfiguration, IntelError> {
    let operator = configuration
        .field("operator")
        .map(|node| read_operator(&node))
        .transpose()?;
    let mut nodes = Vec::new();
    for node in configuration.items_of("nodes")? {
        let mut cpe_match = Vec::new();
        for criterion in node.items_of("cpeMatch")? {
            cpe_match.push(read_cpe_match(&criterion)?);
        }
        nodes.push(NvdNode {
            operator: read_operator(&node.required("operator")?)?,
            negate: read_negate(&node)?,
            cpe_match,
        });
    }
    Ok(NvdConfiguration {
        operator,
        negate: read_negate(configuration)?,
        nodes,
    })
}

fn read_cpe_match(criterion: &Node<'_>) -> Result<NvdCpeMatch, IntelError> {
    let criteria_node = criterion.required("criteria")?;
    let criteria = criteria_node.as_str()?;
    if !criteria.starts_with("cpe:2.3:") {
        return Err(criteria_node.invalid(format!(
            "invalid CPE {:?}: expected a CPE 2.3 name starting with cpe:2.3:",
            shorten(criteria)
        )));
    }
    Ok(NvdCpeMatch {
        vulnerable: criterion.required("vulnerable")?.as_bool()?,
        criteria: criteria.to_string(),
        match_criteria_id: criterion.string_of("matchCriteriaId")?,
        version_start_including: criterion.string_of("versionStartIncluding")?,
        version_start_excluding: criterion.string_of("versionStartExcluding")?,
        version_end_including: criterion.string_of("versionEndIncluding")?,
        version_end_excluding: criterion.string_of("versionEndExcluding")?,
    })
}

/// Reads the `cisa*` fields; `None` when `cisaExploitAdd` is absent.
fn read_kev(node: &Node<'_>) -> Result<Option<NvdKev>, IntelError> {
    let date = |key: &str| -> Result<Option<NaiveDate>, IntelError> {
        let Some(field) = node.field(key) else {
            return Ok(None);
        };
        let text = field.as_str()?;
        let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map_err(|_| field.invalid(format!("invalid date {:?}: expected YYYY-MM-DD", shorten(text))))?;
        Ok(Some(date))
    };
    let Some(date_added) = date("cisaExploitAdd")? else {
        return Ok(None);
    };
    Ok(Some(NvdKev {
        date_added,
        action_due: date("cisaActionDue")?,
        required_action: node.string_of("cisaRequiredAction")?,
        vulnerability_name: node.string_of("cisaVulnerabilityName")?,
    }))
}
