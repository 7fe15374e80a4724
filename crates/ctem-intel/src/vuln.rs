//! Values that CVE records and NVD share: CVSS metrics with the score the
//! source states, and references with their tags.

use ctem_model::{CveId, CvssVector, CvssVersion, Cwe, Severity};
use serde::Serialize;

use crate::error::{IntelError, shorten};
use crate::json::Node;

/// CWE placeholders that NVD and CNAs use for "no CWE assigned"; they carry
/// no weakness, so the loaders leave them out.
pub(crate) const CWE_PLACEHOLDERS: [&str; 2] = ["NVD-CWE-noinfo", "NVD-CWE-Other"];

/// The largest difference between a stated and a computed CVSS score that
/// counts as agreement. Scores have one decimal, so anything above rounding
/// noise is a real disagreement.
const SCORE_TOLERANCE: f64 = 0.05;

/// Whether NVD counts a CVSS metric as its own analysis or as another party's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum MetricType {
    /// The metric of the NVD analyst, or of the CNA when NVD has none.
    Primary,
    /// A metric of another party, usually the CNA.
    Secondary,
}

/// A CVSS vector as a source states it, with the score and severity that
/// the source gives beside it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CvssMetric {
    /// The parsed vector; its [`CvssVector::base_score`] is computed from the metrics.
    pub vector: CvssVector,
    /// `baseScore` as the source states it.
    pub stated_score: Option<f64>,
    /// `baseSeverity` as the source states it (`NONE` reads as [`Severity::Info`]).
    pub stated_severity: Option<Severity>,
    /// NVD's `type` of the metric; `None` in CVE records, which have no such field.
    pub metric_type: Option<MetricType>,
}

impl CvssMetric {
    /// Returns whether the stated score, if any, agrees with the score computed from the vector.
    pub fn score_agrees(&self) -> bool {
        self.stated_score
            .is_none_or(|stated| (stated - self.vector.base_score()).abs() <= SCORE_TOLERANCE)
    }
}

/// A link from a CVE record or NVD entry, with the source's tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference {
    pub url: String,
    /// The `name` that CVE records may give a link.
    pub name: Option<String>,
    /// Tags as the source writes them: `exploit`, `vendor-advisory` and
    /// `x_refsource_EXPLOIT-DB` in CVE records; `Exploit` and `Patch` in NVD.
    pub tags: Vec<String>,
}

impl Reference {
    /// Returns whether the source marks the link as an exploit: a tag
    /// `exploit` (CVE records), `Exploit` (NVD) or the legacy CVE tag
    /// `x_refsource_EXPLOIT-DB`, which links an Exploit-DB entry.
    pub fn is_exploit(&self) -> bool {
        self.tags
            .iter()
            .any(|tag| tag.eq_ignore_ascii_case("exploit") || tag.eq_ignore_ascii_case("x_refsource_EXPLOIT-DB"))
    }
}

/// Reads a CVSS object (`cvssV3_1` of a CVE record, `cvssData` of NVD):
/// `vectorString` is required, `baseScore` and `baseSeverity` are kept
/// when present. `severity_node` is where the severity sits: the object
/// itself, or for NVD v2 the metric around `cvssData`. Disagreements
/// between the vector and the stated version or score become warnings.
pub(crate) fn read_cvss(
    node: &Node<'_>,
    severity_node: &Node<'_>,
    expected: CvssVersion,
    warnings: &mut Vec<String>,
) -> Result<CvssMetric, IntelError> {
    // NOTE: cvss 3.0.0 accepts a v3.x vector that lacks base metrics
    // (`CVSS:3.1/AV:N`) and scores it 0.0, while it rejects such v2 and v4
    // vectors. The score check below turns a stated score into a warning then.
    let vector_node = node.required("vectorString")?;
    let text = vector_node.as_str()?;
    let vector: CvssVector = text
        .parse()
        .map_err(|error: ctem_model::CvssError| vector_node.invalid(format!("{error}")))?;
    let stated_score = node.field("baseScore").map(|score| score.as_f64()).transpose()?;
    let stated_severity = match severity_node.field("baseSeverity") {
        Some(severity) => {
            let word = severity.as_str()?;
            let parsed = word.parse::<Severity>().map_err(|_| {
                severity.invalid(format!(
                    "invalid severity {:?}: expected NONE, LOW, MEDIUM, HIGH or CRITICAL",
                    shorten(word)
                ))
            })?;
            Some(parsed)
        }
        None => None,
    };

    if vector.version() != expected {
        warnings.push(format!(
            "{}: the vector {vector} is CVSS {}, but the field is for CVSS {}",
            node.location(),
            vector.version().as_str(),
            expected.as_str()
        ));
    }
    let metric = CvssMetric {
        vector,
        stated_score,
        stated_severity,
        metric_type: None,
    };
    if !metric.score_agrees() {
        warnings.push(format!(
            "{}: stated base score {} differs from the score {} computed from {}",
            node.location(),
            stated_score.unwrap_or_default(),
            metric.vector.base_score(),
            metric.vector
        ));
    }
    Ok(metric)
}

/// Reads a reference object with `url` and optional `name`, `tags`.
pub(crate) fn read_reference(node: &Node<'_>) -> Result<Reference, IntelError> {
    Ok(Reference {
        url: node.required_str("url")?.to_string(),
        name: node.string_of("name")?,
        tags: node.strings_of("tags")?,
    })
}

/// Parses a CWE id, or returns `None` for a "no CWE" placeholder.
pub(crate) fn read_cwe(node: &Node<'_>, text: &str) -> Result<Option<Cwe>, IntelError> {
    if CWE_PLACEHOLDERS
        .iter()
        .any(|placeholder| placeholder.eq_ignore_ascii_case(text.trim()))
    {
        return Ok(None);
    }
    let cwe = text.parse::<Cwe>().map_err(|_| {
        node.invalid(format!(
            "invalid CWE id {:?}: expected CWE-N such as CWE-79",
            shorten(text)
        ))
    })?;
    Ok(Some(cwe))
}

/// Reads a CVE id such as `CVE-2023-22515`.
pub(crate) fn read_cve_id(node: &Node<'_>) -> Result<CveId, IntelError> {
    let text = node.as_str()?;
    text.parse().map_err(|_| {
        node.invalid(format!(
            "invalid CVE id {:?}: expected CVE-YYYY-NNNN with a four-digit year and at least four digits after it",
            shorten(text)
        ))
    })
}

/// Returns the `text_key` of the first item of the array `key` whose
/// `lang` is English (`en`, `en-US`, `en_GB`).
pub(crate) fn read_english(node: &Node<'_>, key: &str, text_key: &str) -> Result<Option<String>, IntelError> {
    for item in node.items_of(key)? {
        let lang = item.str_of("lang")?.unwrap_or_default().to_ascii_lowercase();
        if lang == "en" || lang.starts_with("en-") || lang.starts_with("en_") {
            return Ok(Some(item.required_str(text_key)?.to_string()));
        }
    }
    Ok(None)
}
