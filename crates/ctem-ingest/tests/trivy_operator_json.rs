//! Tests of the Trivy Operator JSON parser: fixtures, snapshots, hostile
//! input and the shared corpus.

mod common;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, detect, find, parse_bytes};
use ctem_model::{AssetKind, Finding, FindingKind, RelationshipKind, Severity};
use serde_json::json;

const FORMAT: &str = "trivy-operator-json";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{FORMAT}/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    parse_bytes(find(FORMAT).expect("registered"), name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    parse(name, &fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

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

fn targets(report: &ParsedReport) -> Vec<&str> {
    assert!(
        report.targets.iter().all(|(tool, _)| tool == "trivy-operator"),
        "{:?}",
        report.targets
    );
    report.targets.iter().map(|(_, target)| target.as_str()).collect()
}

fn ids(finding: &Finding) -> Vec<&str> {
    finding.vulnerability_ids.iter().map(|id| id.as_str()).collect()
}

fn assert_every_finding_has_scope(report: &ParsedReport) {
    let declared = targets(report);
    for finding in &report.findings {
        let target = finding.target.as_deref().expect("a scope target");
        assert!(declared.contains(&target), "{target} is not declared in {declared:?}");
        assert!(
            report.assets.iter().any(|a| a.key == finding.asset),
            "the asset {} of {} is not sent",
            finding.asset,
            finding.rule_id
        );
    }
}

fn occurrences(finding: &Finding) -> usize {
    finding
        .attributes
        .get("occurrences")
        .map_or(1, |count| count.parse().expect("a count"))
}

#[test]
fn detects_fixtures() {
    let parser = find(FORMAT).expect("registered");
    for name in [
        "empty.json",
        "one.json",
        "many.json",
        "compliance.json",
        "compliance_summary.json",
        "by_type.json",
    ] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
    }
    assert_eq!(parser.detect(b"{\"kind\": \"VulnerabilityReport\"}"), Detection::No);
    assert_eq!(
        parser.detect(b"{\"apiVersion\": \"apps/v1\", \"kind\": \"Deployment\"}"),
        Detection::No
    );
}

#[test]
fn empty_report_declares_workload() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    assert_eq!(
        targets(&report),
        ["shop/ReplicaSet/checkout-7d9f8b6c5d#vulnerabilities"]
    );
    let kinds: Vec<AssetKind> = report.assets.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, [AssetKind::KubernetesWorkload, AssetKind::ContainerImage]);
    let image = &report.assets[1];
    assert_eq!(
        image.key.as_str(),
        "container_image:registry.example.test/shop/checkout:2.4.1"
    );
    assert_eq!(image.identifier_values("image_digest").count(), 1);
    assert_eq!(image.attributes.get("os").map(String::as_str), Some("alpine 3.20.3"));
    assert_eq!(report.relationships.len(), 1);
    assert_eq!(report.relationships[0].kind, RelationshipKind::RunsOn);
    assert_eq!(report.relationships[0].from, report.assets[0].key);
    assert_eq!(report.relationships[0].to, image.key);
}

#[test]
fn one_snapshot() {
    let report = parse_fixture("one.json");
    assert_eq!(report.findings.len(), 1);
    assert_every_finding_has_scope(&report);
    insta::assert_json_snapshot!("one", normalized(&report));
}

#[test]
fn many_snapshot() {
    let report = parse_fixture("many.json");
    assert_eq!(
        report.findings.len(),
        7,
        "3 vulnerabilities, 2 failed checks, 2 secrets"
    );
    assert_every_finding_has_scope(&report);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn vulnerability_fields() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.rule_id, "CVE-2024-6197");
    assert_eq!(
        finding.title,
        "CVE-2024-6197 in curl 8.9.0-r0: curl: freeing stack buffer in utf8asn1str"
    );
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(ids(finding), ["CVE-2024-6197"]);
    assert_eq!(finding.fix.fixed_versions, ["8.9.1-r0"]);
    assert_eq!(finding.references, ["https://avd.aquasec.com/nvd/cve-2024-6197"]);
    assert_eq!(finding.attributes.get("cvss_score").map(String::as_str), Some("7.5"));
    assert_eq!(finding.attributes.get("container").map(String::as_str), Some("api"));
    assert_eq!(
        finding.asset.as_str(),
        "kubernetes_workload:shop/ReplicaSet/checkout-7d9f8b6c5d"
    );
    let component = finding.component.as_ref().expect("a component");
    assert_eq!(component.purl.as_ref().map(|p| p.ty()), Some("apk"));
    let contains = report
        .relationships
        .iter()
        .find(|r| r.kind == RelationshipKind::Contains)
        .expect("contains");
    assert_eq!(
        contains.from.as_str(),
        "container_image:registry.example.test/shop/checkout:2.4.1"
    );
}

#[test]
fn list_of_report_families() {
    let report = parse_fixture("many.json");
    assert_eq!(
        targets(&report),
        [
            "shop/ReplicaSet/checkout-7d9f8b6c5d#config-audit",
            "shop/ReplicaSet/checkout-7d9f8b6c5d#exposed-secrets",
            "shop/ReplicaSet/checkout-7d9f8b6c5d#vulnerabilities"
        ]
    );
    let by_rule = |rule: &str| report.findings.iter().find(|f| f.rule_id == rule).expect(rule);

    let openssl = by_rule("CVE-2024-5535");
    assert_eq!(openssl.severity, Severity::Low, "Trivy's word wins over the score 9.1");
    assert_eq!(openssl.fix.fixed_versions, ["3.3.1-r1", "3.3.2-r0"]);
    assert_eq!(openssl.references.len(), 2, "the repeated primary link is kept once");

    let jwt = by_rule("GHSA-3f84-rpwh-47g6");
    assert_eq!(jwt.severity, Severity::Medium, "UNKNOWN falls back to the score 6.5");
    assert_eq!(jwt.title, "GHSA-3f84-rpwh-47g6 in github.com/golang-jwt/jwt/v4 v4.5.0");
    assert_eq!(jwt.location.path.as_deref(), Some("usr/local/bin/api"));

    let root_fs = by_rule("KSV014");
    assert_eq!(root_fs.kind, FindingKind::Misconfiguration);
    assert_eq!(root_fs.title, "KSV014 - Root file system is not read-only");
    assert_eq!(root_fs.severity, Severity::Low);
    assert!(
        root_fs
            .evidence
            .as_deref()
            .unwrap_or_default()
            .contains("readOnlyRootFilesystem")
    );
    assert!(root_fs.fix.description.is_some());
    assert!(
        report.findings.iter().all(|f| f.rule_id != "KSV001"),
        "a passed check is no finding"
    );
}

#[test]
fn secrets_are_masked() {
    let report = parse_fixture("many.json");
    let secrets: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::Secret)
        .collect();
    assert_eq!(secrets.len(), 2);
    assert_eq!(secrets[0].title, "Secret detected in app/.env - AWS Secret Access Key");
    assert_eq!(secrets[0].severity, Severity::Critical);
    assert_eq!(secrets[0].secret, None, "Trivy redacted the value");
    assert_eq!(secrets[0].location.path.as_deref(), Some("app/.env"));

    let github = secrets[1];
    let masked = github.secret.as_ref().expect("a masked secret");
    assert_eq!(masked.masked, "ghp_********");
    let serialized = serde_json::to_string(&normalized(&report)).expect("serializes");
    assert!(
        !serialized.contains("Zq8XvT2mLp4RkW9sYb3NcH6dFj1GaE5uQo7I"),
        "the clear secret leaks"
    );
    assert!(github.evidence.as_deref().unwrap_or_default().contains("ghp_********"));
}

#[test]
fn compliance_detail() {
    let report = parse_fixture("compliance.json");
    assert_every_finding_has_scope(&report);
    assert_eq!(targets(&report), ["ClusterComplianceReport/k8s-cis-1.23"]);
    assert_eq!(report.findings.len(), 2, "the repeated check is one finding");

    let secrets = &report.findings[0];
    assert_eq!(secrets.rule_id, "AVD-KSV-0041");
    assert_eq!(secrets.title, "5.1.2 AVD-KSV-0041 /clusterrole-ops-admin");
    assert_eq!(secrets.severity, Severity::Critical);
    assert_eq!(secrets.asset.as_str(), "kubernetes_workload:ClusterRole/ops-admin");
    assert_eq!(secrets.tool_fingerprint.as_deref(), Some("k8s-cis-1.23:5.1.2"));

    let privileged = &report.findings[1];
    assert_eq!(privileged.severity, Severity::High, "no check severity: the control's");
    assert_eq!(
        privileged.asset.as_str(),
        "kubernetes_workload:monitoring/DaemonSet/node-agent"
    );
    assert_eq!(occurrences(privileged), 2);
    assert_eq!(
        privileged.attributes.get("control").map(String::as_str),
        Some("Minimize the admission of privileged containers")
    );
}

#[test]
fn compliance_summary_controls() {
    let report = parse_fixture("compliance_summary.json");
    assert_every_finding_has_scope(&report);
    assert_eq!(report.findings.len(), 1, "a control without failures is no finding");
    let control = &report.findings[0];
    assert_eq!(control.rule_id, "1.0");
    assert_eq!(control.title, "1.0 Non-root containers");
    assert_eq!(control.severity, Severity::Medium);
    assert_eq!(control.attributes.get("total_fail").map(String::as_str), Some("4"));
}

#[test]
fn arrays_keyed_by_resource_type() {
    let report = parse_fixture("by_type.json");
    assert_every_finding_has_scope(&report);
    assert_eq!(report.findings.len(), 3);
    assert!(targets(&report).contains(&"jobs/Pod/cron-sync#vulnerabilities"));
}

#[test]
fn labels_missing_use_owner() {
    let bytes = br#"{"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "ConfigAuditReport",
        "metadata": {"name": "deployment-web", "namespace": "shop", "ownerReferences": [{"kind": "Deployment", "name": "web"}]},
        "report": {"checks": [{"checkID": "KSV020", "title": "Runs with low user ID", "severity": "MEDIUM", "success": false}]}}"#;
    let report = parse("owner.json", bytes).expect("parses");
    assert_eq!(targets(&report), ["shop/Deployment/web#config-audit"]);
    assert_eq!(
        report.findings[0].asset.as_str(),
        "kubernetes_workload:shop/Deployment/web"
    );
}

#[test]
fn check_without_id_uses_title() {
    let bytes =
        br#"{"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "ConfigAuditReport", "metadata": {"name": "x"},
        "report": {"checks": [{"title": "Missing checkID", "severity": "MEDIUM", "success": false}]}}"#;
    let report = parse("noid.json", bytes).expect("parses");
    assert_eq!(report.findings[0].rule_id, "Missing checkID");
    assert_eq!(report.findings[0].title, "Missing checkID");

    let bytes =
        br#"{"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "ConfigAuditReport", "metadata": {"name": "x"},
        "report": {"checks": [{"severity": "MEDIUM", "success": false}]}}"#;
    let error = parse("empty_check.json", bytes).unwrap_err();
    assert!(error.message.contains("neither checkID nor title"), "{}", error.message);
}

#[test]
fn other_kinds_are_rejected() {
    let error = parse(
        "deploy.json",
        br#"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {}, "status": {}}"#,
    )
    .unwrap_err();
    assert!(error.message.contains("apiVersion \"apps/v1\""), "{}", error.message);

    let bytes = br#"{"apiVersion": "aquasecurity.github.io/v2", "kind": "VulnerabilityReport", "report": {}}"#;
    let error = parse("future.json", bytes).unwrap_err();
    assert!(
        error
            .message
            .contains("this parser reads aquasecurity.github.io/v1alpha1"),
        "{}",
        error.message
    );

    let bytes = br#"[{"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "ScanJob", "report": {}}]"#;
    let error = parse("job.json", bytes).unwrap_err();
    assert!(error.message.contains("is a ScanJob"), "{}", error.message);
    assert!(error.position.is_some());

    let error = parse("grype.json", br#"{"matches": [], "source": {}}"#).unwrap_err();
    assert!(
        error.message.contains("not a Trivy Operator export"),
        "{}",
        error.message
    );
    assert!(error.message.contains("matches, source"), "{}", error.message);

    let error = parse("number.json", b"42").unwrap_err();
    assert!(error.message.contains("Trivy Operator reports"), "{}", error.message);
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture("many.json");
    let error = parse("cut.json", &bytes[..bytes.len() / 2]).unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { line, .. }) if line > 1));
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse(
        "bad.json",
        b"{\"kind\": \"VulnerabilityReport\", \"report\": {\"vulnerabilities\": [}}",
    )
    .unwrap_err();
    assert!(
        matches!(error.position, Some(Position::LineColumn { line: 1, .. })),
        "{error}"
    );
}

#[test]
fn invalid_utf8_is_rejected() {
    let error = parse(
        "bytes.json",
        b"{\"kind\": \"Vulnerability\xff\xfeReport\", \"report\": {}}",
    )
    .unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn deep_nesting_errors() {
    let depth = 100_000;
    let mut bytes = b"{\"items\": [{\"report\": ".to_vec();
    bytes.extend(std::iter::repeat_n(b'[', depth));
    bytes.extend(std::iter::repeat_n(b']', depth));
    bytes.extend(b"}]}");
    let error = parse("deep.json", &bytes).unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn long_line_parses() {
    let description = "w".repeat(4 * 1024 * 1024);
    let bytes = format!(
        r#"{{"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "VulnerabilityReport", "metadata": {{"name": "x"}},
           "report": {{"vulnerabilities": [{{"vulnerabilityID": "CVE-2024-0001", "resource": "a", "description": "{description}"}}]}}}}"#
    );
    let report = parse("long.json", bytes.as_bytes()).expect("parses");
    assert_eq!(
        report.findings[0].description.as_ref().map(String::len),
        Some(description.len())
    );
}

#[test]
fn large_list_streams() {
    let count = 20_000;
    let mut bytes = b"{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [".to_vec();
    for index in 0..count {
        if index > 0 {
            bytes.push(b',');
        }
        let record = format!(
            r#"{{"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "VulnerabilityReport",
               "metadata": {{"name": "pod-w{index}-c", "labels": {{"trivy-operator.resource.kind": "Pod",
               "trivy-operator.resource.name": "w{index}", "trivy-operator.resource.namespace": "big"}}}},
               "report": {{"artifact": {{"repository": "lib{}", "tag": "1"}}, "registry": {{"server": "registry.example.test"}},
               "vulnerabilities": [{{"vulnerabilityID": "CVE-2024-{:05}", "resource": "lib{}", "installedVersion": "1.0",
               "severity": "MEDIUM"}}]}}}}"#,
            index % 100,
            10_000 + index,
            index % 100
        );
        bytes.extend(record.as_bytes());
    }
    bytes.extend(b"]}");
    let report = parse("big.json", &bytes).expect("parses");
    assert_eq!(report.findings.len(), count);
    assert_eq!(report.targets.len(), count);
    assert_eq!(
        report
            .assets
            .iter()
            .filter(|a| a.kind == AssetKind::ContainerImage)
            .count(),
        100
    );
}

/// DefectDojo counts one finding per record, as ctem does for every
/// report whose records are not exact repeats.
fn group_key(finding: &Finding) -> String {
    format!(
        "{}|{}",
        finding.fingerprint(),
        finding.target.as_deref().unwrap_or_default()
    )
}

/// The CIS compliance report repeats failed checks for the same resource
/// (795 records, 594 distinct): ctem keeps one finding per check and
/// resource with the count of its repeats, checked in
/// `corpus_cis_benchmark`.
const REPEATED_CHECKS: &str = "cis_benchmark.json";

#[test]
fn corpus_conformance() {
    let reports = common::check_folder_where("trivy_operator", FORMAT, group_key, |file| file != REPEATED_CHECKS);
    if reports.is_empty() {
        return;
    }
    let report = |name: &str| &reports.iter().find(|(file, _)| file == name).expect(name).1;

    let single = &report("vulnerabilityreport_single_vuln.json").findings[0];
    assert_eq!(single.severity, Severity::Critical);
    assert!(
        single.title.starts_with("CVE-2023-23914 in curl 7.87.0-r1"),
        "{}",
        single.title
    );
    assert_eq!(single.fix.fixed_versions, ["7.87.0-r2"]);
    assert_eq!(single.attributes.get("cvss_score").map(String::as_str), Some("4.2"));

    let many = &report("vulnerabilityreport_many.json").findings;
    assert_eq!(many[1].rule_id, "CVE-2023-23916");
    assert_eq!(many[1].severity, Severity::High);
    assert_eq!(many[1].fix.fixed_versions, ["7.87.0-r2"]);

    let extended = &report("vulnerabilityreport_extended.json").findings[0];
    assert_eq!(extended.rule_id, "CVE-2024-0553");
    assert_eq!(extended.severity, Severity::Medium);
    assert_eq!(
        extended.attributes.get("target").map(String::as_str),
        Some("ubuntu:20.04 (ubuntu 20.04)")
    );

    let audit = &report("configauditreport_many.json").findings;
    assert_eq!(
        (audit[0].rule_id.as_str(), audit[0].severity),
        ("KSV014", Severity::Low)
    );
    assert_eq!(audit[0].title, "KSV014 - Root file system is not read-only");
    assert_eq!(audit[1].rule_id, "KSV016");

    let missing = &report("configauditreport_missing_checkid.json").findings[0];
    assert_eq!(missing.severity, Severity::Medium);
    assert_eq!(missing.rule_id, "Missing checkID test");

    let secrets = &report("exposedsecretreport_many.json").findings;
    assert_eq!(
        secrets[1].title,
        "Secret detected in root/github_secret.txt - GitHub Personal Access Token"
    );
    assert_eq!(secrets[0].location.path.as_deref(), Some("root/aws_secret.txt"));
    assert!(secrets.iter().all(|s| s.severity == Severity::Critical));

    let severities = &report("compliance_severity.json").findings;
    assert_eq!(severities[0].severity, Severity::Medium);
    assert_eq!(severities[1].severity, Severity::High);
    for (_, parsed) in &reports {
        assert_every_finding_has_scope(parsed);
    }
}

#[test]
fn corpus_cis_benchmark() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let report = common::parse_file(FORMAT, &corpus.join("trivy_operator").join(REPEATED_CHECKS)).expect("parses");
    assert_every_finding_has_scope(&report);
    assert_eq!(report.findings.len(), 594);
    assert_eq!(
        report.findings.iter().map(occurrences).sum::<usize>(),
        795,
        "the count DefectDojo asserts"
    );
    let first = &report.findings[0];
    assert_eq!(first.title, "5.1.2 AVD-KSV-0041 /clusterrole-admin");
    assert_eq!(first.severity, Severity::Critical);
    let privileged = report
        .findings
        .iter()
        .find(|f| f.title == "5.2.2 AVD-KSV-0017 kube-system/daemonset-csi-azuredisk-node")
        .expect("a privileged DaemonSet");
    assert_eq!(privileged.severity, Severity::High);
    assert!(report.findings.iter().any(|f| f.title
        == "5.2.7 AVD-KSV-0012 opentelemetry-demo/replicaset-opentelemetry-demo-frauddetectionservice-6c6c4b7994"
        && f.severity == Severity::Medium));
}

#[test]
fn corpus_detection() {
    common::check_detection("trivy_operator", FORMAT, |_| true);
}

/// Checks that detection picks this format for every corpus file of its
/// folders and for no file of the other folders.
#[test]
fn corpus_detection_is_exclusive() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let ours = ["trivy_operator"];
    let mut failures = Vec::new();
    for folder in std::fs::read_dir(&corpus).expect("the corpus folder") {
        let folder = folder.expect("a corpus entry").path();
        if !folder.is_dir() {
            continue;
        }
        let expected = folder
            .file_name()
            .is_some_and(|name| ours.iter().any(|ours| name == *ours));
        for file in std::fs::read_dir(&folder).expect("a corpus folder") {
            let path = file.expect("a corpus file").path();
            let bytes = std::fs::read(&path).expect("a readable file");
            let detected = detect(&bytes).map(|parser| parser.info().id);
            if (detected == Some(FORMAT)) != expected {
                failures.push(format!("{}: detected as {detected:?}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "detection failures:\n{}", failures.join("\n"));
}
