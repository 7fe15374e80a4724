//! Tests of the SARIF parser: fixtures, hostile input and the shared
//! corpus.

mod common;

use std::collections::BTreeSet;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{AssetKind, Cwe, Finding, FindingKind, Severity, SourceStatus};
use serde_json::json;

const FORMAT: &str = "sarif";

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

fn scopes(report: &ParsedReport) -> Vec<(&str, &str)> {
    report
        .targets
        .iter()
        .map(|(tool, target)| (tool.as_str(), target.as_str()))
        .collect()
}

#[test]
fn empty_run_declares_scope() {
    let report = parse_fixture("empty.sarif");
    assert!(report.findings.is_empty());
    assert_eq!(
        scopes(&report),
        [("codeql", "https://git.shop.example/acme/storefront")]
    );
    assert_eq!(report.assets.len(), 1);
    let asset = &report.assets[0];
    assert_eq!(asset.kind, AssetKind::Repository);
    assert_eq!(asset.attributes.get("branch").map(String::as_str), Some("main"));
}

#[test]
fn two_runs_two_scopes() {
    let report = parse_fixture("two_runs.sarif");
    assert!(report.findings.is_empty());
    assert_eq!(
        scopes(&report),
        [
            ("first-scanner", "sarif:two_runs.sarif"),
            ("second-scanner", "sarif:two_runs.sarif")
        ]
    );
}

#[test]
fn one_finding_snapshot() {
    let report = parse_fixture("one.sarif");
    assert_eq!(report.findings.len(), 1);
    insta::assert_json_snapshot!("one", normalized(&report));
}

#[test]
fn many_findings_snapshot() {
    let report = parse_fixture("many.sarif");
    assert_eq!(report.findings.len(), 5);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn codeql_result_maps() {
    let report = parse_fixture("one.sarif");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "codeql");
    assert_eq!(finding.rule_id, "js/sql-injection");
    assert_eq!(finding.kind, FindingKind::CodeWeakness);
    assert_eq!(
        finding.title,
        "This query string depends on a [user-provided value](1)."
    );
    assert_eq!(finding.severity, Severity::High, "security-severity 8.8");
    assert_eq!(finding.cwes, [Cwe(89), Cwe(90), Cwe(943)]);
    assert_eq!(finding.location.path.as_deref(), Some("src/routes/orders.js"));
    assert_eq!(finding.location.start_line, Some(42));
    assert_eq!(finding.location.start_column, Some(19));
    assert_eq!(
        finding.tool_fingerprint.as_deref(),
        Some("primaryLocationLineHash:b2f3c5e17a9d0c44:1|primaryLocationStartColumnFingerprint:14")
    );
    assert_eq!(
        finding.references,
        ["https://codeql.github.com/codeql-query-help/javascript/js-sql-injection/"]
    );
    assert_eq!(
        finding.target.as_deref(),
        Some("https://git.shop.example/acme/storefront")
    );
    let description = finding.description.as_deref().unwrap_or_default();
    assert!(description.contains("Building a database query"), "{description}");
}

#[test]
fn message_template_arguments() {
    let report = parse_fixture("many.sarif");
    let finding = &report.findings[0];
    assert_eq!(
        finding.title,
        "Variable \"total\" was used before it was set at line 17; {braces} stay."
    );
    assert_eq!(finding.fix.description.as_deref(), Some("Initialize total to 0."));
    assert_eq!(finding.severity, Severity::Medium, "rule default level warning");
}

#[test]
fn base_ids_resolve_to_repository() {
    let report = parse_fixture("many.sarif");
    assert_eq!(
        report.findings[0].location.path.as_deref(),
        Some("service/src/ledger.c")
    );
    assert_eq!(report.findings[1].location.path.as_deref(), Some("service/src/auth.c"));
    assert_eq!(
        report.findings[3].location.path.as_deref(),
        Some("file:///opt/build/payments/service/tools/ping.py"),
        "absolute uris stay"
    );
}

#[test]
fn locations_split_findings() {
    let report = parse_fixture("many.sarif");
    let weak_hash: Vec<&Finding> = report.findings.iter().filter(|f| f.rule_id == "AL2002").collect();
    assert_eq!(
        weak_hash.len(),
        2,
        "one finding per location; the pass result is skipped"
    );
    assert_eq!(weak_hash[0].title, "MD5 used for password hashing.");
    assert_eq!(weak_hash[0].severity, Severity::Low, "level note");
    assert_eq!(weak_hash[0].cwes, [Cwe(328)]);
    assert_eq!(
        weak_hash[0].tool_fingerprint.as_deref(),
        Some("bbbb2222"),
        "contextHash at v2"
    );
    assert_eq!(weak_hash[1].tool_fingerprint, None, "later locations use their line");
    assert_eq!(
        weak_hash[1].location.path.as_deref(),
        Some("service/src/legacy/auth_old.c")
    );
    assert_ne!(weak_hash[0].fingerprint(), weak_hash[1].fingerprint());
}

#[test]
fn extension_rule_and_suppression() {
    let report = parse_fixture("many.sarif");
    let command = report.findings.iter().find(|f| f.rule_id == "SEC900").expect("SEC900");
    assert_eq!(command.severity, Severity::Critical, "security-severity word");
    assert_eq!(command.cwes, [Cwe(78)]);
    assert_eq!(command.source_status, Some(SourceStatus::Suppressed));
    assert_eq!(command.title, "Shell command built from the request parameter host.");
}

#[test]
fn rejected_suppression_and_absent() {
    let report = parse_fixture("many.sarif");
    let debug: Vec<&Finding> = report.findings.iter().filter(|f| f.rule_id == "AL3003").collect();
    assert_eq!(debug.len(), 1, "the absent result is skipped");
    assert_eq!(debug[0].source_status, None, "a rejected suppression does not count");
    assert_eq!(debug[0].severity, Severity::Info, "level none");
    assert_eq!(
        debug[0].attributes.get("baseline_state").map(String::as_str),
        Some("unchanged")
    );
}

#[test]
fn results_before_tool_held() {
    let report = parse_fixture("sorted_keys.sarif");
    assert_eq!(report.findings.len(), 1);
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "semgrep");
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(finding.cwes, [Cwe(89)]);
    assert_eq!(
        finding.target.as_deref(),
        Some("https://git.shop.example/acme/backoffice")
    );
    assert_eq!(finding.tool_fingerprint.as_deref(), Some("5d1e6a0b4c"));
    assert_eq!(
        scopes(&report),
        [("semgrep", "https://git.shop.example/acme/backoffice")]
    );
}

#[test]
fn secret_snippet_is_masked() {
    let report = parse_fixture("secrets.sarif");
    let finding = &report.findings[0];
    assert_eq!(finding.kind, FindingKind::Secret);
    assert_eq!(finding.tool, "gitleaks");
    assert_eq!(finding.secret.as_ref().map(|s| s.masked.as_str()), Some("AKIA********"));
    assert_eq!(finding.evidence.as_deref(), Some("AKIA********"));
    let output = normalized(&report).to_string();
    assert!(!output.contains("AKIAIOSFODNN7EXAMPLE"), "{output}");
}

#[test]
fn advisory_rule_ids_are_vulnerabilities() {
    let report = parse_fixture("vulnerabilities.sarif");
    let ids: Vec<Vec<&str>> = report
        .findings
        .iter()
        .map(|f| f.vulnerability_ids.iter().map(|id| id.as_str()).collect())
        .collect();
    assert_eq!(ids, [vec!["CVE-2022-42889"], vec!["GHSA-jfh8-c2jp-5v3q"]]);
    assert!(report.findings.iter().all(|f| f.kind == FindingKind::Vulnerability));
    assert_eq!(report.findings[0].severity, Severity::Critical);
    assert_eq!(report.findings[1].severity, Severity::High);
    assert_eq!(report.findings[0].tool, "grype");
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in [
        "empty.sarif",
        "one.sarif",
        "many.sarif",
        "sorted_keys.sarif",
        "secrets.sarif",
        "two_runs.sarif",
    ] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
        assert_eq!(
            ctem_ingest::detect(&fixture(name)).map(|p| p.info().id),
            Some(FORMAT),
            "{name}"
        );
    }
    assert_eq!(parser.detect(br#"{"version": "2.0.0", "runs": []}"#), Detection::No);
    assert_eq!(parser.detect(br#"{"SchemaVersion": 2}"#), Detection::No);
}

#[test]
fn other_version_is_rejected() {
    let error = parse("old.sarif", br#"{"version": "1.0.0", "runLogs": []}"#).unwrap_err();
    assert!(
        error.message.contains("unsupported SARIF version \"1.0.0\""),
        "{}",
        error.message
    );
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn missing_version_is_rejected() {
    let error = parse("bare.sarif", br#"{"runs": []}"#).unwrap_err();
    assert!(error.message.contains("declares no \"version\""), "{}", error.message);
    let with_schema = parse(
        "schema.sarif",
        br#"{"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": []}"#,
    );
    assert!(with_schema.is_ok(), "a $schema of 2.1.0 names the version");
}

#[test]
fn other_json_is_wrong_format() {
    let error = parse("zap.json", br#"{"@version": "2.14.0", "site": []}"#).unwrap_err();
    assert!(error.message.contains("expected a SARIF log"), "{}", error.message);
    assert!(error.message.contains("site"), "{}", error.message);
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture("many.sarif");
    let error = parse("cut.sarif", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { .. })), "{error}");
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse("bad.sarif", b"{\"version\": \"2.1.0\", \"runs\": [}").unwrap_err();
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 31 }));
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let error = parse("deep.sarif", text.as_bytes()).unwrap_err();
    assert!(error.position.is_some(), "{error}");
    let text = format!(
        "{{\"version\": \"2.1.0\", \"runs\": {}{}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let error = parse("deep.sarif", text.as_bytes()).unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

/// serde_json skips a value that the parser does not read without
/// recursion, so depth there costs no stack.
#[test]
fn deep_unread_value_is_skipped() {
    let depth = 10_000;
    let text = format!(
        "{{\"version\": \"2.1.0\", \"runs\": [{{\"results\": [{{\"ruleId\": \"x\", \"codeFlows\": {}{}}}]}}]}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let report = parse("deep.sarif", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), 1);
}

#[test]
fn base_id_cycle_terminates() {
    let text = br#"{"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "loop"}},
        "originalUriBaseIds": {"A": {"uri": "a/", "uriBaseId": "B"}, "B": {"uri": "b/", "uriBaseId": "A"}},
        "results": [{"ruleId": "x", "message": {"text": "m"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": "f.c", "uriBaseId": "A"}}}]}]}]}"#;
    let report = parse("cycle.sarif", text).unwrap();
    let path = report.findings[0].location.path.as_deref().unwrap_or_default();
    assert!(path.ends_with("a/f.c"), "{path}");
}

#[test]
fn repeated_fingerprints_are_numbered() {
    let text = br#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Flawfinder"}}, "results": [
        {"ruleId": "FF1", "message": {"text": "memcpy"}, "fingerprints": {"contextHash/v1": "same"},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.c"}, "region": {"startLine": 3}}}]},
        {"ruleId": "FF1", "message": {"text": "memcpy"}, "fingerprints": {"contextHash/v1": "same"},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.c"}, "region": {"startLine": 90}}}]},
        {"ruleId": "FF1", "message": {"text": "memcpy"}, "fingerprints": {"contextHash/v1": "same"},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.c"}, "region": {"startLine": 3}}}]}]}]}"#;
    let report = parse("repeat.sarif", text).unwrap();
    assert_eq!(report.findings[0].tool_fingerprint.as_deref(), Some("same"));
    assert_eq!(report.findings[1].tool_fingerprint.as_deref(), Some("same#2"));
    assert_ne!(report.findings[0].fingerprint(), report.findings[1].fingerprint());
    assert_eq!(
        report.findings[2].tool_fingerprint.as_deref(),
        Some("same"),
        "a repeat at line 3"
    );
}

#[test]
fn large_log_parses() {
    let count = 20_000;
    let mut text = String::from(
        r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Gen", "rules": [{"id": "G1", "defaultConfiguration": {"level": "error"}}]}}, "results": ["#,
    );
    for i in 0..count {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"ruleId": "G1", "message": {{"text": "issue {i}"}}, "locations": [{{"physicalLocation": {{"artifactLocation": {{"uri": "src/f{}.c"}}, "region": {{"startLine": {}}}}}}}]}}"#,
            i / 1000,
            i % 1000 + 1
        ));
    }
    text.push_str("]}]}");
    let report = parse("large.sarif", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), count);
    assert!(report.findings.iter().all(|f| f.severity == Severity::High));
}

/// Returns the finding's fingerprint as its group: each SARIF result
/// location is one DefectDojo finding and one ctem finding.
fn group_key(finding: &Finding) -> String {
    finding.fingerprint().to_string()
}

fn corpus_report<'r>(reports: &'r [(String, ParsedReport)], name: &str) -> &'r ParsedReport {
    &reports
        .iter()
        .find(|(file, _)| file == name)
        .unwrap_or_else(|| panic!("{name} parsed"))
        .1
}

/// `bash-report.sarif` repeats twelve results (same rule, file, line,
/// column and fingerprints) up to six times each, 27 in all. DefectDojo
/// keeps every copy; ctem gives the copies one identity, so this file is
/// checked by its finding count instead of its groups.
const REPEATED_RESULTS: &str = "bash-report.sarif";

#[test]
fn corpus_conformance() {
    let reports = common::check_folder_where("sarif", FORMAT, group_key, |file| file != REPEATED_RESULTS);
    common::check_detection("sarif", FORMAT, |_| true);
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let bash =
        common::parse_file(FORMAT, &corpus.join("sarif").join(REPEATED_RESULTS)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bash.findings.len(), 27);
    let identities: BTreeSet<_> = bash.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(identities.len(), 12);
    // DefectDojo rates level "note" Info; ctem rates it Low (see the parser's doc).
    let sixth = &bash.findings[6];
    assert_eq!(
        sixth.title,
        "Decimals are not supported. Either use integers only, or use bc or awk to compare."
    );
    assert_eq!(sixth.severity, Severity::Low);
    assert_eq!(
        sixth.tool_fingerprint.as_deref(),
        Some("scanFileHash:5b05533780915bfc|scanPrimaryLocationHash:4d655189c485c086")
    );
    assert_eq!(
        bash.findings[0].location.path.as_deref(),
        Some("file:///home/damien/dd/docker/setEnv.sh")
    );
    assert_eq!(
        scopes(&bash),
        [(
            "shell-script-analysis",
            "https://github.com/damiencarol/django-DefectDojo"
        )]
    );

    check_corpus_facts(&reports);
}

fn check_corpus_facts(reports: &[(String, ParsedReport)]) {
    let export = corpus_report(
        reports,
        "DefectDojo_django-DefectDojo__2020-12-11_13 42 10__export.sarif",
    );
    assert!(export.findings.iter().all(|f| !f.title.is_empty()));
    assert_eq!(export.findings.len(), 510);

    // ctem resolves SRCROOT to "src/" under the repository root that
    // versionControlProvenance maps; DefectDojo keeps the bare uri.
    let appendix_k = corpus_report(reports, "appendix_k.sarif");
    let first = &appendix_k.findings[0];
    assert_eq!(first.location.path.as_deref(), Some("src/collections/list.h"));
    assert_eq!(first.location.start_line, Some(15));
    assert_eq!(first.severity, Severity::High);
    assert_eq!(first.source_status, Some(SourceStatus::Suppressed));

    let k3 = corpus_report(reports, "appendix_k3.sarif");
    assert_eq!(
        k3.findings[0].title,
        "The insecure method \"Crypto.Sha1.Encrypt\" should not be used."
    );
    assert_eq!(
        k3.findings[0].attributes.get("logical_location").map(String::as_str),
        Some("Example.Worker.DoWork")
    );

    let k4 = corpus_report(reports, "appendix_k4.sarif");
    assert_eq!(
        k4.findings[0].title,
        "Variable \"ptr\" was used without being initialized. It was declared [here](0)."
    );
    assert_eq!(k4.findings[0].rule_id, "C2001");
    assert_eq!(
        k4.findings[0].fix.description.as_deref(),
        Some("Initialize the variable to null")
    );

    let codeql = corpus_report(reports, "codeQL-output.sarif");
    let seventh = &codeql.findings[7];
    assert_eq!(seventh.rule_id, "py/call/wrong-named-argument");
    assert_eq!(seventh.location.path.as_deref(), Some("good/mod_user.py"));
    assert_eq!(seventh.location.start_line, Some(33));
    assert_eq!(seventh.severity, Severity::High);

    let grype = corpus_report(reports, "cxf-3.4.6.sarif");
    assert_eq!(grype.findings[0].severity, Severity::Low);
    assert_eq!(grype.findings[6].severity, Severity::High);
    assert_eq!(grype.findings[0].kind, FindingKind::Vulnerability);

    // DefectDojo rates this result High from its level "error", which
    // Dependency-Check writes for every result. ctem uses the CVSS v3 score
    // 6.1 that the result's properties give.
    let dependency_check = corpus_report(reports, "dependency_check.sarif");
    let sixth = &dependency_check.findings[6];
    assert_eq!(
        sixth.vulnerability_ids.iter().map(|id| id.as_str()).collect::<Vec<_>>(),
        ["CVE-2019-11358"]
    );
    assert!(
        sixth
            .title
            .starts_with("CVE-2019-11358 - jQuery before 3.4.0, as used in Drupal"),
        "{}",
        sixth.title
    );
    assert_eq!(sixth.severity, Severity::Medium);
    assert_eq!(
        sixth.cvss.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
        [
            "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
            "AV:N/AC:M/Au:N/C:N/I:P/A:N"
        ]
    );
    assert_eq!(
        dependency_check.findings[0].location.path.as_deref(),
        Some(
            "file:////src/.venv/lib/python3.9/site-packages/tastypie_swagger/static/tastypie_swagger/js/lib/handlebars-1.0.0.js"
        )
    );

    let dockle = corpus_report(reports, "dockle_0_3_15.sarif");
    let rules: Vec<&str> = dockle.findings.iter().map(|f| f.rule_id.as_str()).collect();
    assert_eq!(rules, ["CIS-DI-0010", "CIS-DI-0005", "CIS-DI-0006", "CIS-DI-0008"]);
    assert_eq!(dockle.findings[0].severity, Severity::High);
    assert_eq!(
        dockle.findings[0].references,
        ["https://github.com/goodwithtech/dockle/blob/master/CHECKPOINT.md#CIS-DI-0010"]
    );

    let flawfinder = corpus_report(reports, "flawfinder.sarif");
    let first = &flawfinder.findings[0];
    assert!(
        first
            .title
            .starts_with("random/setstate:This function is not sufficiently random"),
        "{}",
        first.title
    );
    assert_eq!(first.severity, Severity::High);
    assert_eq!(first.location.path.as_deref(), Some("src/tree/param.cc"));
    assert_eq!(first.location.start_line, Some(29));
    assert_eq!(first.cwes, [Cwe(327)]);
    assert_eq!(first.rule_id, "FF1048");
    assert_eq!(
        first.tool_fingerprint.as_deref(),
        Some("e6c1ad2b1d96ffc4035ed8df070600566ad240b8ded025dac30620f3fd4aa9fd")
    );
    assert_eq!(flawfinder.findings[20].rule_id, "FF1004");
    assert_eq!(flawfinder.findings[20].location.start_line, Some(31));
    assert_eq!(flawfinder.findings[20].cwes, [Cwe(120)]);
    assert_eq!(flawfinder.findings[52].cwes, [Cwe(120), Cwe(20)]);
    assert_eq!(flawfinder.findings[52].location.start_line, Some(482));

    let gitleaks = corpus_report(reports, "gitleaks_7.5.0.sarif");
    let first = &gitleaks.findings[0];
    assert_eq!(first.title, "AWS Access Key secret detected");
    assert_eq!(first.severity, Severity::Medium);
    assert_eq!(first.kind, FindingKind::Secret);
    assert_eq!(first.location.start_line, Some(13));
    assert_eq!(gitleaks.findings[3].location.start_line, Some(44));
    assert_eq!(
        gitleaks.findings[7].location.path.as_deref(),
        Some("dojo/unittests/tools/test_gitlab_secret_detection_report_parser.py")
    );
    assert!(!normalized(gitleaks).to_string().contains("AKIAIOSFODNN7EXAMPLE"));

    let semgrep = corpus_report(reports, "issue_10191.json");
    assert!(semgrep.findings.iter().all(|f| f.tool == "semgrep"));
    assert!(semgrep.findings.iter().any(|f| f.severity == Severity::Critical));

    let njsscan = corpus_report(reports, "njsscan.sarif");
    assert_eq!(
        njsscan.findings[0].location.path.as_deref(),
        Some("file:///src/index.js")
    );
    assert_eq!(njsscan.findings[0].cwes, [Cwe(327)]);
    assert_eq!(njsscan.findings[1].location.start_line, Some(235));
    assert_eq!(njsscan.findings[1].cwes, [Cwe(798)]);

    let ms = corpus_report(reports, "SuppressionTestCurrent.sarif");
    assert_eq!(ms.findings[0].title, "New suppressed result.");

    let suppression = corpus_report(reports, "suppression_test.sarif");
    for finding in &suppression.findings {
        let suppressed = finding.source_status == Some(SourceStatus::Suppressed);
        assert_eq!(suppressed, finding.title == "Suppressed", "{}", finding.title);
    }

    // The listed unique id belongs to the last result of the file, which
    // DefectDojo's test reads from another position than the path.
    let taint = corpus_report(reports, "taint-python-report.sarif");
    assert_eq!(
        taint.findings[0].location.path.as_deref(),
        Some("file:///home/damien/dd/dojo/tools/veracode/parser.py")
    );
    let listed = "scanFileHash:4bc9f13947613303|scanPrimaryLocationHash:1a8bbb28fe7380df|scanTagsHash:21de8f8d0eb8d9b2";
    assert!(
        taint
            .findings
            .iter()
            .any(|f| f.tool_fingerprint.as_deref() == Some(listed))
    );
    assert_eq!(
        taint.findings[2].location.path.as_deref(),
        Some("file:///home/damien/dd/dojo/tools/qualys_infrascan_webgui/parser.py")
    );
    assert_eq!(taint.findings[2].location.start_line, Some(169));
    assert_eq!(taint.findings[6].severity, Severity::High);
    assert_eq!(
        taint.findings[6].title,
        "XML injection with user data from `filename in parser_helper.py:167` is used for parsing XML at `parser_helper.py:23`."
    );
}

/// SnykCode writes the CWE on the rule (`properties.cwe`) and repeats
/// `fingerprints["0"]` for two results at one line, so each of its 39
/// results must keep its own identity.
#[test]
fn snyk_code_conformance() {
    let reports = common::check_folder("snyk_code_sarif", FORMAT, group_key);
    common::check_detection("snyk_code_sarif", FORMAT, |_| true);
    if reports.is_empty() {
        return;
    }
    let report = corpus_report(&reports, "snykcode_issue_9270.json");
    assert_eq!(report.findings.len(), 39);

    // DefectDojo's Snyk Code parser titles a finding `<rule>_<path>`; ctem
    // keeps the SARIF message as the title and the rule as the rule id.
    let first = &report.findings[0];
    assert_eq!(first.tool, "snykcode");
    assert_eq!(first.rule_id, "javascript/XSS");
    assert_eq!(first.cwes, [Cwe(79)]);
    assert_eq!(first.severity, Severity::Medium, "level warning");
    assert_eq!(
        first.location.path.as_deref(),
        Some("frontend/src/app/score-board/score-board.component.ts")
    );
    assert_eq!(first.location.start_line, Some(216));
    assert!(report.findings.iter().all(|f| !f.cwes.is_empty()));
}

#[test]
fn rule_property_cwe_is_read() {
    let text = br#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "SnykCode", "rules": [
        {"id": "javascript/XSS", "properties": {"cwe": ["CWE-79", "CWE-80"]}}]}},
        "results": [{"ruleId": "javascript/XSS", "ruleIndex": 0, "message": {"text": "XSS"},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.ts"}, "region": {"startLine": 4}}}]}]}]}"#;
    let report = parse("cwe.sarif", text).unwrap();
    assert_eq!(report.findings[0].cwes, [Cwe(79), Cwe(80)]);
}

#[test]
fn repeat_at_other_column_is_numbered() {
    let text = br#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "SnykCode"}}, "results": [
        {"ruleId": "R", "message": {"text": "password"}, "fingerprints": {"0": "shared", "1": "first.b"},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.ts"}, "region": {"startLine": 85, "startColumn": 77}}}]},
        {"ruleId": "R", "message": {"text": "passwordRepeat"}, "fingerprints": {"0": "shared", "1": "second.b"},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.ts"}, "region": {"startLine": 85, "startColumn": 111}}}]},
        {"ruleId": "R", "message": {"text": "password"}, "fingerprints": {"0": "shared", "1": "first.b"},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.ts"}, "region": {"startLine": 85, "startColumn": 77}}}]}]}]}"#;
    let report = parse("columns.sarif", text).unwrap();
    assert_eq!(report.findings[0].tool_fingerprint.as_deref(), Some("shared"));
    assert_eq!(report.findings[1].tool_fingerprint.as_deref(), Some("shared#2"));
    assert_ne!(report.findings[0].fingerprint(), report.findings[1].fingerprint());
    assert_eq!(
        report.findings[2].fingerprint(),
        report.findings[0].fingerprint(),
        "a repeat at line 85, column 77"
    );
}

/// The run properties in the order of the SARIF schema.
const SCHEMA_ORDER: [&str; 6] = [
    "tool",
    "invocations",
    "versionControlProvenance",
    "originalUriBaseIds",
    "artifacts",
    "results",
];

/// The run properties sorted, as writers that sort keys give them.
const SORTED_ORDER: [&str; 6] = [
    "artifacts",
    "invocations",
    "originalUriBaseIds",
    "results",
    "tool",
    "versionControlProvenance",
];

/// Rewrites a log with the properties of each run in `order`, leaving out
/// those that `order` does not name.
fn reorder(bytes: &[u8], order: &[&str]) -> Vec<u8> {
    let log: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    let runs: Vec<String> = log["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| {
            let properties: Vec<String> = order
                .iter()
                .filter_map(|key| Some(format!("{}:{}", json!(key), run.get(*key)?)))
                .collect();
            format!("{{{}}}", properties.join(",\n"))
        })
        .collect();
    format!("{{\"version\":\"2.1.0\",\"runs\":[{}]}}", runs.join(",")).into_bytes()
}

#[test]
fn sorted_keys_give_schema_order_findings() {
    let fixtures = [
        "empty.sarif",
        "one.sarif",
        "many.sarif",
        "secrets.sarif",
        "two_runs.sarif",
        "vulnerabilities.sarif",
    ];
    for name in fixtures {
        let original = fixture(name);
        let schema = parse(name, &reorder(&original, &SCHEMA_ORDER)).unwrap();
        assert_eq!(
            normalized(&schema),
            normalized(&parse_fixture(name)),
            "{name}: the rewrite keeps the log"
        );
        let sorted = parse(name, &reorder(&original, &SORTED_ORDER)).unwrap();
        assert_eq!(normalized(&sorted), normalized(&schema), "{name}");
    }
    assert_eq!(parse_fixture("many.sarif").findings.len(), 5);
}

/// CodeQL often leaves out `artifacts`, so its results come before a
/// property that never comes.
#[test]
fn missing_artifacts_give_same_findings() {
    let original = fixture("many.sarif");
    let schema_order: Vec<&str> = SCHEMA_ORDER.iter().copied().filter(|k| *k != "artifacts").collect();
    let sorted_order: Vec<&str> = SORTED_ORDER.iter().copied().filter(|k| *k != "artifacts").collect();

    let schema = parse("many.sarif", &reorder(&original, &schema_order)).unwrap();
    let sorted = parse("many.sarif", &reorder(&original, &sorted_order)).unwrap();
    assert_eq!(schema.findings.len(), 5);
    assert_eq!(normalized(&sorted), normalized(&schema));
}

/// Writes a run of `count` results, with repeated tool fingerprints so
/// that the order of the results shows in the numbering.
fn generated_run(count: usize) -> serde_json::Value {
    let results: Vec<serde_json::Value> = (0..count)
        .map(|i| {
            json!({
                "ruleId": format!("G{}", i % 7),
                "message": {"text": format!("issue {i}")},
                "fingerprints": {"contextHash/v1": format!("h{}", i % 13)},
                "codeFlows": [{"threadFlows": [{"locations": []}]}],
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": format!("f{}.c", i % 3), "uriBaseId": "SRC"},
                    "region": {"startLine": i + 1}}}]
            })
        })
        .collect();
    json!({
        "tool": {"driver": {"name": "Gen", "rules": [{"id": "G1", "defaultConfiguration": {"level": "error"}}]}},
        "versionControlProvenance": [{"repositoryUri": "https://git.example/acme/gen", "mappedTo": {"uriBaseId": "ROOT"}}],
        "originalUriBaseIds": {"SRC": {"uri": "src/", "uriBaseId": "ROOT"}},
        "results": results,
    })
}

#[test]
fn generated_sorted_log_keeps_order() {
    let log = serde_json::to_vec(&json!({"version": "2.1.0", "runs": [generated_run(2_000)]})).unwrap();
    let sorted = parse("gen.sarif", &reorder(&log, &SORTED_ORDER)).unwrap();
    let schema = parse("gen.sarif", &reorder(&log, &SCHEMA_ORDER)).unwrap();
    assert_eq!(sorted.findings.len(), 2_000);
    assert_eq!(sorted.findings[0].location.path.as_deref(), Some("src/f0.c"));
    assert_eq!(normalized(&sorted), normalized(&schema));
    let numbered = sorted
        .findings
        .iter()
        .filter(|f| f.tool_fingerprint.as_deref().is_some_and(|t| t.contains('#')))
        .count();
    assert!(numbered > 0, "repeated fingerprints are numbered");
}

#[test]
fn invalid_spilled_result_is_named() {
    let text = br#"{"version": "2.1.0", "runs": [{"results": [
        {"ruleId": "A", "message": {"text": "fine"}},
        {"ruleId": "B", "message": {"text": "bad"}, "locations": "nowhere"}],
        "tool": {"driver": {"name": "Semgrep"}}}]}"#;
    let error = parse("bad.sarif", text).unwrap_err();
    assert!(error.message.contains("runs[0].results[1]"), "{}", error.message);
    assert!(error.message.contains("invalid type"), "{}", error.message);
    // Spilled results are read when the run closes: the position is the
    // end of the run, and the message gives the position within the result.
    assert!(
        matches!(error.position, Some(Position::LineColumn { line: 4, .. })),
        "{error}"
    );
    assert!(error.message.contains("column 66 of the result"), "{}", error.message);
}

#[test]
fn truncated_spilled_log_errors() {
    let sorted = reorder(&fixture("many.sarif"), &SORTED_ORDER);
    let results_end = sorted.windows(8).position(|w| w == b"\"tool\":{").unwrap();
    for cut in [sorted.len() / 3, results_end, sorted.len() - 2] {
        let error = parse("cut.sarif", &sorted[..cut]).unwrap_err();
        assert!(error.message.contains("truncated"), "cut at {cut}: {}", error.message);
        assert!(error.position.is_some(), "cut at {cut}: {error}");
    }
}
