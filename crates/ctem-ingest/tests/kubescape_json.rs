//! Tests of the Kubescape JSON parser: fixtures, hostile input and the
//! shared corpus.

mod common;

use std::collections::BTreeSet;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{AssetKind, Finding, FindingKind, RelationshipKind, Severity, SourceStatus};
use serde_json::json;

const FORMAT: &str = "kubescape-json";

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

/// Converts the report to JSON for snapshots, with each finding's fingerprint.
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
        report.targets.iter().all(|(tool, _)| tool == "kubescape"),
        "{:?}",
        report.targets
    );
    report.targets.iter().map(|(_, target)| target.as_str()).collect()
}

fn by_rule<'r>(report: &'r ParsedReport, rule: &str) -> &'r Finding {
    report
        .findings
        .iter()
        .find(|f| f.attributes.get("rule").map(String::as_str) == Some(rule))
        .unwrap_or_else(|| panic!("no finding for rule {rule}"))
}

#[test]
fn passed_controls_are_empty() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    assert_eq!(targets(&report), ["kubescape-json:empty.json"]);
    let kinds: Vec<_> = report.assets.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, [AssetKind::KubernetesWorkload, AssetKind::ContainerImage]);
}

#[test]
fn one_finding_snapshot() {
    let report = parse_fixture("one.json");
    assert_eq!(report.findings.len(), 1);
    insta::assert_json_snapshot!("one", normalized(&report));
}

#[test]
fn many_findings_snapshot() {
    let report = parse_fixture("many.json");
    assert_eq!(report.findings.len(), 6);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn control_fields_map() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "kubescape");
    assert_eq!(finding.rule_id, "C-0017");
    assert_eq!(finding.kind, FindingKind::Misconfiguration);
    assert_eq!(finding.title, "Immutable container filesystem - Deployment checkout");
    assert_eq!(finding.severity, Severity::High, "score factor 7");
    assert_eq!(
        finding.tool_fingerprint.as_deref(),
        Some("immutable-container-filesystem")
    );
    assert_eq!(
        finding.fix.description.as_deref(),
        Some("Set spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem to true")
    );
    assert_eq!(finding.references, ["https://hub.armosec.io/docs/c-0017"]);
    assert_eq!(finding.target.as_deref(), Some("prod-eu-1"));
    assert_eq!(
        finding.attributes.get("category").map(String::as_str),
        Some("Workload > Node escape")
    );
    assert_eq!(
        finding.description.as_deref(),
        Some(
            "The Deployment shop/checkout failed control C-0017 (Immutable container filesystem), rule \
             immutable-container-filesystem.\n\nCategory: Workload > Node escape."
        )
    );
}

#[test]
fn cluster_names_scope_and_assets() {
    let report = parse_fixture("one.json");
    assert_eq!(targets(&report), ["prod-eu-1"]);
    let workload = &report.assets[0];
    assert_eq!(workload.kind, AssetKind::KubernetesWorkload);
    assert_eq!(
        workload.key.as_str(),
        "kubernetes_workload:prod-eu-1/shop/Deployment/checkout"
    );
    assert_eq!(workload.name, "shop/Deployment/checkout");
    assert_eq!(
        workload.attributes.get("cluster").map(String::as_str),
        Some("prod-eu-1")
    );
    assert_eq!(report.findings[0].asset, workload.key);
}

#[test]
fn workload_runs_on_images() {
    let report = parse_fixture("many.json");
    let edges: Vec<_> = report
        .relationships
        .iter()
        .map(|r| (r.from.as_str(), r.kind, r.to.as_str()))
        .collect();
    assert_eq!(
        edges,
        [
            (
                "kubernetes_workload:Deployment/storefront",
                RelationshipKind::RunsOn,
                "container_image:registry.shop.example/storefront-migrate:3.2.0"
            ),
            (
                "kubernetes_workload:Deployment/storefront",
                RelationshipKind::RunsOn,
                "container_image:registry.shop.example/storefront:3.2.0"
            ),
            (
                "kubernetes_workload:Deployment/storefront",
                RelationshipKind::RunsOn,
                "container_image:registry.shop.example/log-shipper:1.0.4"
            ),
            (
                "kubernetes_workload:CronJob/nightly-report",
                RelationshipKind::RunsOn,
                "container_image:registry.shop.example/report:0.7.2"
            ),
        ]
    );
}

#[test]
fn each_failed_rule_is_finding() {
    let report = parse_fixture("many.json");
    let bundled: Vec<_> = report.findings.iter().filter(|f| f.rule_id == "CIS-5.7.3").collect();
    assert_eq!(bundled.len(), 2, "the passed rule gives none");
    assert_eq!(
        bundled[0].title,
        "Apply Security Context to Your Pods and Containers: immutable-container-filesystem - Deployment storefront"
    );
    assert_ne!(bundled[0].fingerprint(), bundled[1].fingerprint());
    assert_eq!(
        bundled[1].fix.description.as_deref(),
        Some(
            "Set spec.template.spec.containers[0].securityContext.runAsNonRoot to true\n\
             Set spec.template.spec.containers[1].securityContext.runAsNonRoot to true"
        )
    );
}

#[test]
fn summary_after_results_sets_severity() {
    let report = parse_fixture("many.json");
    let severities: Vec<_> = report
        .findings
        .iter()
        .map(|f| (f.rule_id.as_str(), f.severity))
        .collect();
    assert_eq!(
        severities,
        [
            ("CIS-5.7.3", Severity::High),
            ("CIS-5.7.3", Severity::High),
            ("C-0078", Severity::Medium),
            ("C-0016", Severity::Medium),
            ("C-0004", Severity::High),
            ("C-0035", Severity::Critical),
        ]
    );
}

#[test]
fn old_paths_are_read() {
    let report = parse_fixture("many.json");
    let finding = by_rule(&report, "rule-allow-privilege-escalation");
    assert_eq!(
        finding.evidence.as_deref(),
        Some("spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation")
    );
    assert_eq!(
        finding.fix.description.as_deref(),
        Some("Set spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation to false")
    );
    assert_eq!(
        finding.attributes.get("exceptions").map(String::as_str),
        Some("storefront-alert-only")
    );
    assert_eq!(
        finding.source_status,
        Some(SourceStatus::Suppressed),
        "Kubescape counts an alert-only exception as excluded"
    );
}

#[test]
fn excluded_rule_is_suppressed() {
    let report = parse_fixture("many.json");
    let finding = by_rule(&report, "resources-memory-limit-and-request");
    assert_eq!(finding.source_status, Some(SourceStatus::Suppressed));
    assert_eq!(finding.location.path.as_deref(), Some("deploy/report.yaml"));
}

#[test]
fn subject_is_identity() {
    let report = parse_fixture("many.json");
    let finding = by_rule(&report, "rule-list-all-cluster-admins-v1");
    assert_eq!(finding.asset.as_str(), "identity:shop/ServiceAccount/deployer");
    assert_eq!(finding.title, "Administrative Roles - ServiceAccount deployer");
    assert_eq!(
        finding.evidence.as_deref(),
        Some("relatedObjects[1].rules[0].verbs[0] (review)")
    );
    let identity = report
        .assets
        .iter()
        .find(|a| a.key == finding.asset)
        .expect("identity asset");
    assert_eq!(identity.kind, AssetKind::Identity);
}

#[test]
fn failed_control_without_failed_rule() {
    let report = parse_fixture("failed_control_without_rule.json");
    assert_eq!(report.findings.len(), 1, "a passed control with exceptions gives none");
    let finding = &report.findings[0];
    assert_eq!(finding.rule_id, "C-0260");
    assert_eq!(finding.title, "Missing network policy - Deployment ledger");
    assert_eq!(finding.tool_fingerprint, None);
    assert_eq!(finding.severity, Severity::Medium);
    assert_eq!(
        finding.attributes.get("control_status").map(String::as_str),
        Some("failed (configuration)")
    );
    assert_eq!(
        finding.asset.as_str(),
        "kubernetes_workload:staging/payments/Deployment/ledger"
    );
    assert_eq!(targets(&report), ["staging"]);
}

#[test]
fn fingerprints_are_distinct() {
    let report = parse_fixture("many.json");
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), report.findings.len());
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in [
        "empty.json",
        "one.json",
        "many.json",
        "failed_control_without_rule.json",
    ] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
        assert_eq!(
            ctem_ingest::detect(&fixture(name)).map(|p| p.info().id),
            Some(FORMAT),
            "{name}"
        );
    }
    assert_eq!(parser.detect(b"{\"clusterName\": \"x\"}"), Detection::No);
    assert_eq!(parser.detect(b"[{\"controlReports\": []}]"), Detection::No);
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture("many.json");
    let error = parse("cut.json", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { .. })), "{error}");
    assert!(error.to_string().starts_with("cut.json: line "), "{error}");
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse("bad.json", b"{\"results\": [{]}").unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 15 }));
}

#[test]
fn other_object_is_wrong_format() {
    let error = parse("tfsec.json", br#"{"findings": [], "clusterName": "x"}"#).unwrap_err();
    assert!(
        error.message.contains("expected a Kubescape report"),
        "{}",
        error.message
    );
    assert!(error.message.contains("\"findings\""), "{}", error.message);
}

#[test]
fn v1_array_is_rejected() {
    let error = parse("v1.json", br#"[{"name": "NSA", "controlReports": []}]"#).unwrap_err();
    assert!(error.message.contains("v1 format"), "{}", error.message);
    assert!(error.message.contains("--format-version v2"), "{}", error.message);
}

#[test]
fn unknown_format_version_is_rejected() {
    let text = br#"{"clusterName": "", "summaryDetails": {}, "resources": [], "results": [],
        "metadata": {"scanMetadata": {"formatVersion": "v9"}}}"#;
    let error = parse("v9.json", text).unwrap_err();
    assert!(
        error.message.contains("unsupported Kubescape formatVersion \"v9\""),
        "{}",
        error.message
    );
}

#[test]
fn wrong_field_type_is_rejected() {
    let error = parse(
        "types.json",
        br#"{"results": [{"resourceID": "a", "controls": {"C-0001": 1}}]}"#,
    )
    .unwrap_err();
    assert!(error.message.contains("invalid type"), "{}", error.message);
}

#[test]
fn trailing_data_is_rejected() {
    let error = parse("two.json", br#"{"results": []} []"#).unwrap_err();
    assert!(error.message.contains("trailing"), "{}", error.message);
}

#[test]
fn invalid_utf8_is_rejected() {
    let mut bytes = br#"{"clusterName": ""#.to_vec();
    bytes.extend_from_slice(&[0xed, 0xa0, 0x80]);
    bytes.extend_from_slice(br#"", "results": []}"#);
    let error = parse("latin1.json", &bytes).unwrap_err();
    assert!(error.position.is_some(), "{error}");
    assert!(error.message.contains("invalid unicode"), "{}", error.message);
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let text = format!("{{\"results\": {}{}}}", "[".repeat(depth), "]".repeat(depth));
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.position.is_some(), "{error}");
}

/// Nested pod specs are typed, so a hostile resource that nests them
/// without end stops at serde's recursion limit instead of the stack's.
#[test]
fn deep_spec_errors() {
    let depth = 5_000;
    let open = r#"{"template": {"spec": "#.repeat(depth);
    let close = "}}".repeat(depth);
    let text = format!(
        r#"{{"resources": [{{"resourceID": "a", "object": {{"kind": "Deployment", "spec": {open}{{}}{close}}}}}], "results": []}}"#
    );
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert!(error.message.contains("recursion limit"), "{}", error.message);
}

#[test]
fn large_report_parses() {
    let resources = 2_000;
    let controls = 10;
    let mut text = String::from(
        r#"{"customerGUID": "", "clusterName": "load", "summaryDetails": {"controls": {"C-0001": {"name": "Generated", "scoreFactor": 5}}}, "resources": ["#,
    );
    for r in 0..resources {
        if r > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"resourceID": "path={r}/api=apps/v1/gen/Deployment/app{r}", "object": {{"kind": "Deployment", "metadata": {{"name": "app{r}", "namespace": "gen"}}}}}}"#
        ));
    }

    text.push_str(r#"], "results": ["#);
    for r in 0..resources {
        if r > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"resourceID": "path={r}/api=apps/v1/gen/Deployment/app{r}", "controls": ["#
        ));
        for c in 0..controls {
            if c > 0 {
                text.push(',');
            }
            text.push_str(&format!(
                r#"{{"controlID": "C-{c:04}", "name": "Generated {c}", "status": {{"status": "failed"}}, "rules": [{{"name": "rule-{c}", "status": "failed"}}]}}"#
            ));
        }
        text.push_str("]}");
    }
    text.push_str("]}");

    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), resources * controls);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), resources * controls);
    assert_eq!(report.assets.len(), resources);
}

/// DefectDojo gives one finding per failed rule of a failed control and
/// resource, as ctem does.
fn group_key(finding: &Finding) -> String {
    finding.fingerprint().to_string()
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("kubescape", FORMAT, group_key);
    common::check_detection("kubescape", FORMAT, |_| true);
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

    // Kubescape's own counters: 26 high, 151 medium and 52 low failed
    // resources over the failed controls, not counting resources that an
    // exception policy matched.
    let many = report("many_findings.json");
    assert_eq!(many.findings.len(), 349);
    let controls: BTreeSet<_> = many
        .findings
        .iter()
        .filter(|f| f.source_status.is_none())
        .map(|f| {
            let resource = f.attributes.get("resource_id").map(String::as_str).unwrap_or_default();
            (resource, f.rule_id.as_str(), f.severity)
        })
        .collect();
    let count = |severity| controls.iter().filter(|(_, _, s)| *s == severity).count();
    assert_eq!(count(Severity::High), 26);
    assert_eq!(count(Severity::Medium), 151);
    assert_eq!(count(Severity::Low), 52);
    assert_eq!(targets(many), ["kubescape-json:many_findings.json"]);
    let first = &many.findings[0];
    assert_eq!(
        first.title,
        "Immutable container filesystem - Deployment paymentservice"
    );
    assert_eq!(
        first.location.path.as_deref(),
        Some("examples/online-boutique/paymentservice.yaml")
    );

    let failure = report("with_a_failure.json");
    let ids: Vec<_> = failure.findings.iter().map(|f| f.rule_id.as_str()).collect();
    assert_eq!(ids, ["C-0030", "C-0055", "C-0260"]);
    assert!(failure.findings.iter().all(|f| f.severity == Severity::Medium));
    assert_eq!(
        failure.findings[0].asset.as_str(),
        "kubernetes_workload:Deployment/nginx-deployment"
    );
    assert_eq!(failure.findings[0].location.path.as_deref(), Some("nginx.yaml"));
}
