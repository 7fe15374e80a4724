//! Tests of the Trivy JSON parser: fixtures, hostile input and the shared
//! corpus.

mod common;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{AssetKind, Finding, FindingKind, RelationshipKind, Severity, SourceStatus};
use serde_json::json;

const FORMAT: &str = "trivy-json";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{FORMAT}/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    parse_bytes(find(FORMAT).expect("registered"), name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    parse(name, &fixture(name)).unwrap_or_else(|e| panic!("{e}"))
}

/// Renders the report as JSON for snapshots, with each finding's fingerprint.
fn normalized(report: &ParsedReport) -> serde_json::Value {
    let findings: Vec<_> = report
        .findings
        .iter()
        .map(|f| json!({"fingerprint": f.fingerprint(), "finding": f}))
        .collect();
    json!({
        "targets": report.targets,
        "assets": report.assets,
        "relationships": report.relationships,
        "findings": findings,
    })
}

/// Returns the targets of the report's scopes, after checking that every
/// scope is Trivy's.
fn targets(report: &ParsedReport) -> Vec<&str> {
    assert!(
        report.targets.iter().all(|(tool, _)| tool == "trivy"),
        "{:?}",
        report.targets
    );
    report.targets.iter().map(|(_, target)| target.as_str()).collect()
}

fn finding<'r>(report: &'r ParsedReport, rule_id: &str) -> &'r Finding {
    report
        .findings
        .iter()
        .find(|f| f.rule_id == rule_id)
        .unwrap_or_else(|| panic!("no finding {rule_id}"))
}

fn cvss_strings(finding: &Finding) -> Vec<String> {
    finding.cvss.iter().map(ToString::to_string).collect()
}

fn assert_every_finding_has_scope(report: &ParsedReport) {
    let declared = targets(report);
    for finding in &report.findings {
        let target = finding.target.as_deref().expect("a scope target");
        assert!(declared.contains(&target), "{target} is not declared in {declared:?}");
        assert!(!finding.title.is_empty());
        assert!(
            report.assets.iter().any(|a| a.key == finding.asset),
            "the asset {} of {} is not sent",
            finding.asset,
            finding.rule_id
        );
    }
}

#[test]
fn detects_fixtures() {
    let parser = find(FORMAT).expect("registered");
    for name in [
        "empty.json",
        "many.json",
        "kubernetes_resources.json",
        "kubernetes_lists.json",
    ] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
    }
    assert_eq!(parser.detect(&fixture("legacy.json")), Detection::Maybe);
    assert_eq!(parser.detect(b"{\"runs\": []}"), Detection::No);
    assert_eq!(parser.detect(b"[{\"Description\": \"x\"}]"), Detection::No);
}

#[test]
fn empty_report_declares_image() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    assert_eq!(targets(&report), ["registry.example.test/shop/cart:2.3.0"]);

    let image = &report.assets[0];
    assert_eq!(image.kind, AssetKind::ContainerImage);
    assert_eq!(
        image.key.as_str(),
        "container_image:registry.example.test/shop/cart:2.3.0"
    );
    assert_eq!(
        image.identifier_values("image_id").collect::<Vec<_>>(),
        ["sha256:4b1f7c3a9e2d8f60b5c4a3e2d1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2"]
    );
    assert_eq!(image.identifier_values("image_digest").count(), 1);
    assert_eq!(image.attributes.get("os").map(String::as_str), Some("alpine 3.20.3"));
}

#[test]
fn one_vulnerability_snapshot() {
    let report = parse_fixture("one_vulnerability.json");
    assert_eq!(report.findings.len(), 1);
    assert_every_finding_has_scope(&report);
    insta::assert_json_snapshot!("one_vulnerability", normalized(&report));
}

#[test]
fn many_snapshot() {
    let report = parse_fixture("many.json");
    assert_eq!(report.findings.len(), 7);
    assert_every_finding_has_scope(&report);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn vulnerability_fields() {
    let report = parse_fixture("one_vulnerability.json");
    let finding = finding(&report, "CVE-2023-38545");
    assert_eq!(finding.kind, FindingKind::Vulnerability);
    assert_eq!(
        finding.title,
        "CVE-2023-38545 in curl 7.88.1-10+deb12u3: curl: heap based buffer overflow in the SOCKS5 proxy handshake"
    );
    assert_eq!(
        finding.severity,
        Severity::High,
        "the Severity field wins over the CVSS score 9.8"
    );
    assert_eq!(
        finding.source_status,
        Some(SourceStatus::Affected),
        "Trivy's fixed means a fix exists for the affected version"
    );
    assert_eq!(finding.fix.fixed_versions, ["7.88.1-10+deb12u4"]);
    assert_eq!(finding.cwes.len(), 1);
    assert_eq!(cvss_strings(finding).len(), 2);
    assert_eq!(finding.location.path, None, "OS packages have no path");
    assert_eq!(finding.references[0], "https://avd.aquasec.com/nvd/cve-2023-38545");
    assert_eq!(finding.references.len(), 2, "the primary URL is not repeated");

    let component = finding.component.as_ref().expect("a component");
    assert_eq!(component.name, "curl");
    assert_eq!(component.version.as_deref(), Some("7.88.1-10+deb12u3"));
    assert_eq!(component.ecosystem.as_deref(), Some("debian"));
    assert!(component.purl.is_some());

    let contains = report
        .relationships
        .iter()
        .find(|r| r.kind == RelationshipKind::Contains)
        .expect("the image contains the package");
    assert_eq!(contains.from, finding.asset);
    assert!(
        report
            .assets
            .iter()
            .any(|a| a.key == contains.to && a.kind == AssetKind::Component)
    );
}

#[test]
fn unknown_severity_uses_cvss() {
    let report = parse_fixture("many.json");
    assert_eq!(finding(&report, "CVE-2016-2781").severity, Severity::Medium);
    assert_eq!(
        finding(&report, "CVE-2024-2511").severity,
        Severity::Low,
        "LOW wins over 7.5"
    );
}

#[test]
fn vendor_ids_and_vectors() {
    let report = parse_fixture("many.json");
    let log4j = finding(&report, "GHSA-jfh8-c2jp-5v3q");
    let ids: Vec<&str> = log4j.vulnerability_ids.iter().map(|id| id.as_str()).collect();
    assert_eq!(ids, ["GHSA-jfh8-c2jp-5v3q", "CVE-2021-44228"]);
    assert_eq!(log4j.fix.fixed_versions, ["2.15.0", "2.12.2"]);
    assert_eq!(
        log4j.location.path.as_deref(),
        Some("opt/worker/lib/log4j-core-2.14.1.jar")
    );
    let vectors = cvss_strings(log4j);
    assert!(vectors.iter().any(|v| v.starts_with("CVSS:4.0/")), "{vectors:?}");
    assert!(vectors.iter().any(|v| v.starts_with("AV:N/AC:M/Au:N")), "{vectors:?}");
    assert_eq!(vectors.len(), 3, "the same v3.1 vector of two sources is kept once");

    let gpgv = finding(&report, "CVE-2022-3219");
    assert_eq!(gpgv.source_status, Some(SourceStatus::WillNotFix));
    assert!(gpgv.fix.is_empty());
}

#[test]
fn misconfiguration_fields() {
    let report = parse_fixture("many.json");
    assert!(!report.findings.iter().any(|f| f.rule_id == "DS001"), "PASS is skipped");
    let ds002 = finding(&report, "DS002");
    assert_eq!(ds002.kind, FindingKind::Misconfiguration);
    assert_eq!(ds002.title, "DS002 - Image user should not be 'root'");
    assert_eq!(ds002.severity, Severity::High);
    assert_eq!(ds002.location.path.as_deref(), Some("opt/worker/Dockerfile"));
    assert_eq!(ds002.location.start_line, Some(14));
    assert_eq!(
        ds002.evidence.as_deref(),
        Some("Last USER command in Dockerfile should not be 'root'")
    );
    assert!(ds002.fix.description.as_deref().unwrap_or_default().contains("USER"));
    assert_eq!(ds002.attributes.get("avd_id").map(String::as_str), Some("AVD-DS-0002"));
}

#[test]
fn redacted_secret_kept() {
    let report = parse_fixture("many.json");
    let secret = finding(&report, "slack-web-hook");
    assert_eq!(secret.kind, FindingKind::Secret);
    assert_eq!(secret.title, "Slack Webhook in /opt/worker/config/settings.env");
    assert_eq!(secret.location.start_line, Some(3));
    assert!(
        secret
            .evidence
            .as_deref()
            .unwrap_or_default()
            .starts_with("ALERT_WEBHOOK=****")
    );
    assert!(secret.secret.is_none(), "a redacted match has no clear value to hash");
}

#[test]
fn clear_secret_never_leaves() {
    let clear = "ghp_Zq8LmN3vT5wX7yA9bC1dE2fG4hJ6kP0rS2uV";
    let report = parse_fixture("clear_secret.json");
    let secret = finding(&report, "github-pat");
    let masked = secret.secret.as_ref().expect("the clear value is masked and hashed");
    assert_eq!(masked.masked, "ghp_********");
    assert_eq!(secret.evidence.as_deref(), Some("GITHUB_TOKEN=ghp_********"));
    let serialized = normalized(&report).to_string();
    assert!(!serialized.contains(clear));
    assert!(!serialized.contains("Zq8LmN3vT5wX"));
}

#[test]
fn repository_asset() {
    let report = parse_fixture("clear_secret.json");
    assert_eq!(targets(&report), ["https://git.example.test/ops/deploy-scripts"]);
    let repository = &report.assets[0];
    assert_eq!(repository.kind, AssetKind::Repository);
    assert_eq!(repository.identifier_values("repo_url").count(), 1);
    assert_eq!(repository.attributes.get("branch").map(String::as_str), Some("main"));
}

#[test]
fn license_fields() {
    let report = parse_fixture("many.json");
    let license = finding(&report, "GPL-3.0-or-later");
    assert_eq!(license.kind, FindingKind::License);
    assert_eq!(license.title, "License GPL-3.0-or-later (restricted) in coreutils");
    assert_eq!(license.severity, Severity::High);
    assert_eq!(license.component.as_ref().map(|c| c.name.as_str()), Some("coreutils"));
    assert!(license.references.is_empty(), "an empty Link is no reference");
}

#[test]
fn legacy_array() {
    let report = parse_fixture("legacy.json");
    assert_eq!(report.findings.len(), 1);
    assert_eq!(targets(&report), ["trivy-json:legacy.json"]);
    let lodash = finding(&report, "CVE-2021-23337");
    assert_eq!(lodash.location.path.as_deref(), Some("app/package-lock.json"));
    assert_eq!(lodash.severity, Severity::High);
    assert_every_finding_has_scope(&report);
}

#[test]
fn legacy_null_is_empty() {
    let report = parse_fixture("legacy_null.json");
    assert!(report.findings.is_empty());
    assert_eq!(targets(&report), ["trivy-json:legacy_null.json"]);
}

#[test]
fn kubernetes_resources() {
    let report = parse_fixture("kubernetes_resources.json");
    assert_eq!(targets(&report), ["prod-eu-1"]);
    assert_eq!(report.findings.len(), 3);
    assert_every_finding_has_scope(&report);

    let workloads: Vec<&str> = report
        .assets
        .iter()
        .filter(|a| a.kind == AssetKind::KubernetesWorkload)
        .map(|a| a.key.as_str())
        .collect();
    assert_eq!(
        workloads,
        [
            "kubernetes_workload:prod-eu-1/payments/Deployment/checkout",
            "kubernetes_workload:prod-eu-1/payments/Service/checkout",
            "kubernetes_workload:prod-eu-1/ClusterRole/ops-admin",
        ]
    );

    let vulnerability = finding(&report, "CVE-2024-6119");
    assert_eq!(vulnerability.asset.as_str(), workloads[0]);
    let runs_on = report
        .relationships
        .iter()
        .find(|r| r.kind == RelationshipKind::RunsOn)
        .expect("the workload runs on its image");
    assert_eq!(
        runs_on.to.as_str(),
        "container_image:registry.example.test/payments/checkout:3.2.0"
    );
    assert!(
        report
            .relationships
            .iter()
            .any(|r| r.kind == RelationshipKind::Contains && r.from == runs_on.to),
        "the image contains the package"
    );

    let misconfiguration = finding(&report, "KSV046");
    assert_eq!(misconfiguration.asset.as_str(), workloads[2]);
    assert_eq!(misconfiguration.severity, Severity::Critical);
}

#[test]
fn kubernetes_lists() {
    let report = parse_fixture("kubernetes_lists.json");
    assert_eq!(targets(&report), ["staging"]);
    assert_eq!(report.findings.len(), 2);
    let workloads = report
        .assets
        .iter()
        .filter(|a| a.kind == AssetKind::KubernetesWorkload)
        .count();
    assert_eq!(workloads, 1, "a workload in both lists is sent once");
    assert_eq!(
        finding(&report, "CVE-2023-4911").asset,
        finding(&report, "KSV001").asset
    );
}

#[test]
fn reordered_keys_match_ordered() {
    let ordered = parse(
        "api.json",
        br#"{"SchemaVersion": 2, "ArtifactName": "registry.example.test/shop/api:1.4.0",
            "ArtifactType": "container_image",
            "Metadata": {"ImageID": "sha256:1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d"},
            "Results": [{"Target": "registry.example.test/shop/api:1.4.0 (debian 12.5)", "Class": "os-pkgs",
              "Type": "debian", "Vulnerabilities": [{"VulnerabilityID": "CVE-2023-38545", "PkgName": "curl",
              "InstalledVersion": "7.88.1-10+deb12u3", "FixedVersion": "7.88.1-10+deb12u4", "Severity": "HIGH"}]}]}"#,
    )
    .expect("parses");
    let reordered = parse_fixture("reordered_keys.json");
    assert_eq!(normalized(&reordered), normalized(&ordered));
}

#[test]
fn dot_artifact_uses_default_target() {
    let report = parse_fixture("filesystem_dot.json");
    assert_eq!(targets(&report), ["trivy-json:filesystem_dot.json"]);
    let go = finding(&report, "GO-2024-2687");
    assert_eq!(go.asset.as_str(), "repository:trivy-json:filesystem_dot.json");
    assert_eq!(go.location.path.as_deref(), Some("go.mod"));
    assert_eq!(go.severity, Severity::Info, "UNKNOWN without CVSS is Info");
    let ids: Vec<&str> = go.vulnerability_ids.iter().map(|id| id.as_str()).collect();
    assert_eq!(ids, ["GO-2024-2687", "CVE-2023-45288", "GHSA-4v7x-pqxf-cx7m"]);
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture("many.json");
    let error = parse("cut.json", &bytes[..bytes.len() / 2]).unwrap_err();
    assert_eq!(error.path, "cut.json");
    assert_eq!(error.format, FORMAT);
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { line, .. }) if line > 1));
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse("bad.json", b"{\"SchemaVersion\": 2, \"Results\": [}").unwrap_err();
    assert!(
        matches!(error.position, Some(Position::LineColumn { line: 1, .. })),
        "{error}"
    );
}

#[test]
fn other_format_is_rejected() {
    let error = parse("sarif.json", br#"{"version": "2.1.0", "runs": []}"#).unwrap_err();
    assert!(error.message.contains("not a Trivy JSON report"), "{}", error.message);
    assert!(error.message.contains("version, runs"), "{}", error.message);

    let error = parse("list.json", br#"[{"Description": "AWS key", "StartLine": 3}]"#).unwrap_err();
    assert!(error.message.contains("no Target"), "{}", error.message);

    let error = parse("string.json", br#""hello""#).unwrap_err();
    assert!(error.message.contains("Trivy JSON report"), "{}", error.message);
}

#[test]
fn unsupported_schema_version() {
    let error = parse(
        "v3.json",
        br#"{"SchemaVersion": 3, "ArtifactName": "x", "Results": []}"#,
    )
    .unwrap_err();
    assert!(
        error.message.contains("unsupported SchemaVersion 3"),
        "{}",
        error.message
    );
}

#[test]
fn missing_vulnerability_id_is_rejected() {
    let bytes = br#"{"SchemaVersion": 2, "ArtifactName": "app", "ArtifactType": "filesystem",
        "Results": [{"Target": "go.mod", "Class": "lang-pkgs", "Vulnerabilities": [{"PkgName": "x"}]}]}"#;
    let error = parse("noid.json", bytes).unwrap_err();
    assert!(error.message.contains("no VulnerabilityID"), "{}", error.message);
    assert!(error.position.is_some());
}

/// `depth` nested arrays as the value of `key` in a SchemaVersion 2 report.
fn nested_report(key: &str, depth: usize) -> Vec<u8> {
    let mut bytes = format!("{{\"SchemaVersion\": 2, \"ArtifactName\": \"x\", \"{key}\": ").into_bytes();
    bytes.extend(std::iter::repeat_n(b'[', depth));
    bytes.extend(std::iter::repeat_n(b']', depth));
    bytes.push(b'}');
    bytes
}

#[test]
fn deep_nesting_in_records_errors() {
    let error = parse("deep.json", &nested_report("Results", 100_000)).unwrap_err();
    assert!(error.message.contains("invalid type: sequence"), "{}", error.message);
    assert!(error.position.is_some());
}

#[test]
fn deep_nesting_in_unknown_key_is_skipped() {
    // serde_json skips unknown values without recursion, so depth cannot
    // exhaust the stack there.
    let report = parse("deep.json", &nested_report("Extra", 100_000)).expect("parses");
    assert!(report.findings.is_empty());
}

#[test]
fn large_report_streams() {
    let count = 20_000;
    let mut bytes =
        br#"{"SchemaVersion": 2, "ArtifactName": "registry.example.test/big:1", "ArtifactType": "container_image",
        "Results": [{"Target": "Java", "Class": "lang-pkgs", "Type": "jar", "Vulnerabilities": ["#
            .to_vec();
    for index in 0..count {
        if index > 0 {
            bytes.push(b',');
        }
        let record = format!(
            r#"{{"VulnerabilityID": "CVE-2024-{:05}", "PkgName": "lib{}", "InstalledVersion": "1.0.{}",
               "PkgPath": "app/lib{}.jar", "Severity": "MEDIUM"}}"#,
            10_000 + index,
            index % 50,
            index % 7,
            index % 50
        );
        bytes.extend(record.as_bytes());
    }
    bytes.extend(b"]}]}");
    let report = parse("big.json", &bytes).expect("parses");
    assert_eq!(report.findings.len(), count);
    let components = report.assets.iter().filter(|a| a.kind == AssetKind::Component).count();
    assert_eq!(components, 50 * 7, "each pair of name and version is sent once");
}

/// Keys a finding by its fingerprint: each record of a Trivy report is one
/// finding in DefectDojo as in ctem, so distinct fingerprints count them.
fn group_key(finding: &Finding) -> String {
    finding.fingerprint().to_string()
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("trivy", FORMAT, group_key);
    if reports.is_empty() {
        return;
    }
    let report = |name: &str| {
        &reports
            .iter()
            .find(|(file, _)| file == name)
            .unwrap_or_else(|| panic!("{name} parsed"))
            .1
    };

    let statuses: Vec<Option<SourceStatus>> = report("all_statuses.json")
        .findings
        .iter()
        .map(|f| f.source_status)
        .collect();
    assert_eq!(
        statuses,
        [
            None,
            Some(SourceStatus::NotAffected),
            Some(SourceStatus::Affected),
            Some(SourceStatus::Affected),
            Some(SourceStatus::UnderInvestigation),
            Some(SourceStatus::WillNotFix),
            Some(SourceStatus::WillNotFix),
            Some(SourceStatus::WillNotFix),
        ]
    );
    let binutils = &report("all_statuses.json").findings[3];
    assert!(
        binutils.title.starts_with("CVE-2018-1000876 in binutils 2.31.1-16"),
        "{}",
        binutils.title
    );
    assert_eq!(binutils.cwes.iter().map(|c| c.0).collect::<Vec<_>>(), [190, 787]);
    assert_eq!(
        report("all_statuses.json").findings[4]
            .cwes
            .iter()
            .map(|c| c.0)
            .collect::<Vec<_>>(),
        [476]
    );

    let sources = &report("cvss_severity_source.json").findings;
    assert_eq!(sources[0].severity, Severity::Medium);
    assert!(cvss_strings(&sources[0]).contains(&"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N".to_string()));
    assert_eq!(sources[1].severity, Severity::High);

    let prio = &report("severity_prio.json").findings;
    assert_eq!(prio[0].severity, Severity::Low, "Trivy's Severity wins over CVSS 6.5");
    assert_eq!(
        prio[1].severity,
        Severity::Critical,
        "Trivy's Severity wins over CVSS 7.5"
    );

    let certifi = &report("issue_9092.json").findings[0];
    assert_eq!(certifi.severity, Severity::High);
    assert_eq!(certifi.location.path.as_deref(), Some("requirements.txt"));

    let ksv116 = &report("issue_9170.json").findings[0];
    assert_eq!(ksv116.title, "KSV116 - Runs with a root primary or supplementary GID");
    assert_eq!(ksv116.severity, Severity::Low);
    assert_eq!(report("issue_9333.json").findings[0].severity, Severity::Low);

    let kubernetes = report("kubernetes.json");
    assert_eq!(
        targets(kubernetes),
        ["arn:aws:eks:us-east-1:576036489467:cluster/monitoring-test-cluster"]
    );
    let apt = &kubernetes.findings[0];
    assert!(apt.title.starts_with("CVE-2020-27350 in apt 1.8.2.1"), "{}", apt.title);
    assert_eq!(apt.severity, Severity::Medium);
    assert_eq!(apt.fix.fixed_versions, ["1.8.2.2"]);
    assert!(
        apt.asset.as_str().ends_with("default/Deployment/redis-follower"),
        "{}",
        apt.asset
    );
    assert_eq!(
        apt.attributes.get("result_target").map(String::as_str),
        Some("gcr.io/google_samples/gb-redis-follower:v2 (debian 10.4)")
    );
    assert!(
        kubernetes.findings[5]
            .asset
            .as_str()
            .ends_with("default/Deployment/redis-leader")
    );
    let ksv001 = &kubernetes.findings[10];
    assert_eq!(ksv001.title, "KSV001 - Process can elevate its own privileges");
    assert_eq!(ksv001.severity, Severity::Medium);
    assert!(ksv001.component.is_none());

    let license = &report("license_scheme.json").findings[0];
    assert_eq!(license.severity, Severity::High);
    assert_eq!(license.rule_id, "GPL-2.0");
    assert_eq!(
        license.attributes.get("category").map(String::as_str),
        Some("restricted")
    );
    assert_eq!(
        license.component.as_ref().map(|c| c.name.as_str()),
        Some("alpine-baselayout")
    );

    let mixed = &report("misconfigurations_and_secrets.json").findings;
    assert_eq!(mixed[2].title, "DS002 - Image user should not be 'root'");
    assert_eq!(mixed[2].severity, Severity::High);
    assert_eq!(mixed[2].location.path.as_deref(), Some("Dockerfile"));
    assert_eq!(mixed[3].kind, FindingKind::Secret);
    assert_eq!(mixed[3].title, "GitHub Personal Access Token in Dockerfile");
    assert_eq!(mixed[3].severity, Severity::Critical);
    assert_eq!(mixed[3].location.start_line, Some(24));

    let many = &report("scheme_2_many_vulns.json").findings;
    assert!(many[0].title.starts_with("CVE-2020-15999 in freetype 2.9.1-r2"));
    assert_eq!(many[0].severity, Severity::Medium);
    assert_eq!(many[0].cwes.iter().map(|c| c.0).collect::<Vec<_>>(), [787]);
    assert_eq!(many[0].location.path.as_deref(), Some("app/libs/freetype-2.9.1-r2"));
    assert_eq!(many[0].fix.fixed_versions, ["2.9.1-r3"]);
    assert!(cvss_strings(&many[0]).contains(&"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H".to_string()));
    assert_eq!(many[1].severity, Severity::High);
    assert_eq!(many[1].cwes.iter().map(|c| c.0).collect::<Vec<_>>(), [674]);
    assert_eq!(many[1].fix.fixed_versions, ["1.15.5-r1"]);
}

#[test]
fn corpus_golden_files() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    // Trivy's own integration outputs, with the counts of their records.
    let cases = [
        (
            "alpine-310.json.golden",
            4,
            "testdata/fixtures/images/alpine-310.tar.gz",
        ),
        (
            "debian-buster.json.golden",
            2,
            "testdata/fixtures/images/debian-buster.tar.gz",
        ),
        ("dockerfile.json.golden", 1, "testdata/fixtures/repo/dockerfile"),
        ("gomod-vex.json.golden", 4, "testdata/fixtures/repo/gomod"),
        ("secrets.json.golden", 2, "testdata/fixtures/repo/secrets"),
    ];
    for (name, count, target) in cases {
        let report = common::parse_file(FORMAT, &corpus.join("trivy").join(name)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.findings.len(), count, "{name}");
        assert_eq!(targets(&report), [target], "{name}");
        assert_every_finding_has_scope(&report);
    }
}

#[test]
fn corpus_detection() {
    common::check_detection("trivy", FORMAT, |_| true);
}
