//! The one list of parsers, and detection by content.

use std::io::BufRead;

use crate::{ParseContext, ParseError, Sink, formats};

/// How many bytes from the start of a file [`detect`] looks at.
pub const DETECTION_HEAD_BYTES: usize = 64 * 1024;

/// A format's stable id and what it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatInfo {
    /// Stable id used by `--as`, in the database and in reports. Never
    /// renamed once released.
    pub id: &'static str,
    /// The format's name for people.
    pub name: &'static str,
    /// The tool (or tools) that write it.
    pub tool: &'static str,
    /// The format or tool versions the parser reads.
    pub versions: &'static str,
}

/// How sure a parser is that a file is in its format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Detection {
    No,
    /// The content fits, but other formats may fit as well.
    Maybe,
    /// A marker that only this format has (a schema URL, a root element).
    Certain,
}

/// One format parser. Implementations hold no state: one value serves every
/// file, from any thread.
pub trait Parser: Sync + Send {
    fn info(&self) -> FormatInfo;

    /// Looks at the first [`DETECTION_HEAD_BYTES`] of a file (or all of a
    /// shorter one) and says whether it is in this format.
    fn detect(&self, head: &[u8]) -> Detection;

    /// Reads one report and hands its records to the sink. On error the
    /// caller discards whatever the sink received.
    fn parse(
        &self,
        context: &ParseContext<'_>,
        reader: &mut dyn BufRead,
        sink: &mut dyn Sink,
    ) -> Result<(), ParseError>;
}

static PARSERS: &[&dyn Parser] = &[
    &formats::sarif::Sarif,
    &formats::cyclonedx_json::CycloneDxJson,
    &formats::cyclonedx_xml::CycloneDxXml,
    &formats::trivy_json::TrivyJson,
    &formats::grype_json::GrypeJson,
    &formats::nmap_xml::NmapXml,
    &formats::nessus_xml::NessusXml,
    &formats::zap_json::ZapJson,
    &formats::gitleaks_json::GitleaksJson,
    &formats::pip_audit_json::PipAuditJson,
    &formats::npm_audit_json::NpmAuditJson,
    &formats::osv_scanner_json::OsvScannerJson,
    &formats::spdx_json::SpdxJson,
    &formats::spdx_tag_value::SpdxTagValue,
    &formats::anchore_engine_json::AnchoreEngineJson,
    &formats::clair_json::ClairJson,
    &formats::dependency_check_xml::DependencyCheckXml,
    &formats::snyk_json::SnykJson,
    &formats::trivy_operator_json::TrivyOperatorJson,
    &formats::checkov_json::CheckovJson,
    &formats::tfsec_json::TfsecJson,
    &formats::kics_json::KicsJson,
    &formats::kube_bench_json::KubeBenchJson,
    &formats::kubescape_json::KubescapeJson,
    &formats::openvas_xml::OpenVasXml,
    &formats::openvas_csv::OpenVasCsv,
    &formats::nessus_csv::NessusCsv,
    &formats::qualys_xml::QualysXml,
    &formats::qualys_csv::QualysCsv,
    &formats::prowler_v2_json::ProwlerV2Json,
    &formats::prowler_v2_csv::ProwlerV2Csv,
    &formats::prowler_v3_json::ProwlerV3Json,
    &formats::prowler_v4_csv::ProwlerV4Csv,
    &formats::prowler_ocsf_json::ProwlerOcsfJson,
    &formats::scoutsuite_js::ScoutSuiteJs,
    &formats::semgrep_json::SemgrepJson,
    &formats::semgrep_pro_json::SemgrepProJson,
    &formats::bandit_json::BanditJson,
    &formats::eslint_json::EslintJson,
    &formats::gosec_json::GosecJson,
    &formats::trufflehog_json::TrufflehogJson,
    &formats::trufflehog3_json::Trufflehog3Json,
    &formats::zap_xml::ZapXml,
    &formats::burp_xml::BurpXml,
    &formats::burp_api_json::BurpApiJson,
    &formats::nuclei_jsonl::NucleiJsonl,
    &formats::nikto_xml::NiktoXml,
    &formats::nikto_json::NiktoJson,
    &formats::openvex_json::OpenVexJson,
    &formats::csaf_vex_json::CsafVexJson,
    &formats::aws_cli_json::AwsCliJson,
    &formats::kubernetes_yaml::KubernetesYaml,
    &formats::ctem_json::CtemJson,
];

/// Every parser, in a fixed order.
pub fn registry() -> &'static [&'static dyn Parser] {
    PARSERS
}

/// The parser with this format id.
pub fn find(id: &str) -> Option<&'static dyn Parser> {
    PARSERS.iter().copied().find(|parser| parser.info().id == id)
}

/// Picks the parser for a file from the start of its content: the most
/// certain answer wins, and of equally certain ones the first registered.
pub fn detect(head: &[u8]) -> Option<&'static dyn Parser> {
    let head = &head[..head.len().min(DETECTION_HEAD_BYTES)];
    let mut best: Option<(&'static dyn Parser, Detection)> = None;
    for parser in PARSERS.iter().copied() {
        let detection = parser.detect(head);
        if detection == Detection::No {
            continue;
        }
        if best.is_none_or(|(_, so_far)| detection > so_far) {
            best = Some((parser, detection));
        }
    }
    best.map(|(parser, _)| parser)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn ids_are_unique() {
        let ids: BTreeSet<_> = registry().iter().map(|p| p.info().id).collect();
        assert_eq!(ids.len(), registry().len());
    }

    #[test]
    fn ids_are_lowercase_words() {
        for parser in registry() {
            let id = parser.info().id;
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{id} should be lowercase words joined by hyphens"
            );
        }
    }

    #[test]
    fn every_parser_has_fixtures() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        for parser in registry() {
            let folder = root.join(parser.info().id);
            let count = std::fs::read_dir(&folder).map(|entries| entries.count()).unwrap_or(0);
            assert!(
                count >= 3,
                "{} needs fixtures (empty, one, many) in {}",
                parser.info().id,
                folder.display()
            );
        }
    }

    #[test]
    fn detect_rejects_unknown_content() {
        assert!(detect(b"hello world").is_none());
        assert!(detect(b"").is_none());
    }
}
