//! End-to-end tests of VEX documents in `ctem assess`: a Trivy scan of an
//! image and VEX documents about it, assessed together, then listed with
//! `ctem findings`.

mod common;

use common::ctem;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

const IMAGE: &str = "registry.acme.example/storefront:4.2";
const DIGEST: &str = "sha256:9f2c1e6d4b0a8c7e5f3a1b2c4d6e8f0a1b3c5d7e9f1a2b4c6d8e0f2a4b6c8d0e";

fn run(command: &mut Command) -> Output {
    let output = command.output().expect("ctem runs");
    assert!(
        output.status.success(),
        "ctem failed\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{error}\nstdout: {}", String::from_utf8_lossy(&output.stdout)))
}

fn write_json(path: &Path, value: &Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

/// One Trivy vulnerability record.
fn trivy_vulnerability(id: &str, purl: &str, name: &str, version: &str, severity: &str) -> Value {
    json!({
        "VulnerabilityID": id,
        "PkgName": name,
        "PkgIdentifier": {"PURL": purl},
        "InstalledVersion": version,
        "Severity": severity,
        "Title": format!("{name}: {id}"),
        "CVSS": {"nvd": {"V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "V3Score": 10.0}}
    })
}

/// A Trivy scan of the storefront image with three vulnerable packages.
fn trivy_report() -> Value {
    json!({
        "SchemaVersion": 2,
        "CreatedAt": "2026-03-03T06:00:00Z",
        "ArtifactName": IMAGE,
        "ArtifactType": "container_image",
        "Metadata": {
            "OS": {"Family": "debian", "Name": "12.7"},
            "RepoTags": [IMAGE],
            "RepoDigests": [format!("registry.acme.example/storefront@{DIGEST}")]
        },
        "Results": [{
            "Target": "Java",
            "Class": "lang-pkgs",
            "Type": "jar",
            "Vulnerabilities": [
                trivy_vulnerability(
                    "CVE-2021-44228",
                    "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
                    "org.apache.logging.log4j:log4j-core",
                    "2.14.1",
                    "CRITICAL"
                ),
                trivy_vulnerability(
                    "CVE-2022-42889",
                    "pkg:maven/org.apache.commons/commons-text@1.9",
                    "org.apache.commons:commons-text",
                    "1.9",
                    "CRITICAL"
                ),
                trivy_vulnerability(
                    "CVE-2022-1471",
                    "pkg:maven/org.yaml/snakeyaml@1.33",
                    "org.yaml:snakeyaml",
                    "1.33",
                    "HIGH"
                )
            ]
        }]
    })
}

/// An OpenVEX document: Log4Shell does not affect the image's log4j-core.
fn openvex_document() -> Value {
    json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://vex.acme.example/docs/storefront-2026-002",
        "author": "Acme Product Security",
        "timestamp": "2026-03-02T09:00:00Z",
        "version": 1,
        "statements": [{
            "vulnerability": {"name": "CVE-2021-44228"},
            "products": [{
                "@id": format!("pkg:oci/storefront@{}", DIGEST.replace(':', "%3A")),
                "subcomponents": [{"@id": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}]
            }],
            "status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path",
            "impact_statement": "The storefront never logs request data through a lookup pattern."
        }]
    })
}

/// A CSAF VEX document: commons-text 1.9 is fixed by a vendor patch.
fn csaf_document() -> Value {
    json!({
        "document": {
            "category": "csaf_vex",
            "csaf_version": "2.0",
            "publisher": {"category": "vendor", "name": "Acme Product Security", "namespace": "https://acme.example"},
            "tracking": {"id": "ACME-VEX-2026-0009", "current_release_date": "2026-03-02T10:00:00Z"}
        },
        "product_tree": {"full_product_names": [{
            "product_id": "COMMONS-TEXT-1.9",
            "name": "Apache Commons Text 1.9 with the Acme patch",
            "product_identification_helper": {"purl": "pkg:maven/org.apache.commons/commons-text@1.9"}
        }]},
        "vulnerabilities": [{
            "cve": "CVE-2022-42889",
            "product_status": {"fixed": ["COMMONS-TEXT-1.9"]},
            "remediations": [{"category": "vendor_fix", "details": "Rebuilt with the patched interpolator.",
                              "product_ids": ["COMMONS-TEXT-1.9"]}]
        }]
    })
}

/// Assesses the folder into the database and returns the stored findings.
fn assess_and_list(dir: &Path, db: &Path) -> (Value, Vec<Value>) {
    let assess = run(ctem().arg("assess").arg(dir).arg("--db").arg(db).args([
        "--format",
        "json",
        "--at",
        "2026-03-03T08:00:00Z",
    ]));
    // --all: a finding that VEX marks not affected needs no fixing, so the
    // default list leaves it out.
    let listed = run(ctem().args(["findings", "--all", "--format", "json", "--db"]).arg(db));
    let rows = stdout_json(&listed).as_array().expect("an array of findings").clone();
    (stdout_json(&assess), rows)
}

fn by_id<'r>(rows: &'r [Value], id: &str) -> &'r Value {
    rows.iter()
        .find(|row| row["vulnerability_ids"].as_array().unwrap().iter().any(|v| v == id))
        .unwrap_or_else(|| panic!("no finding of {id} in {rows:?}"))
}

#[test]
fn openvex_marks_finding_not_affected() {
    let temp = tempfile::tempdir().unwrap();
    let scans = temp.path().join("scans");
    write_json(&scans.join("trivy-storefront.json"), &trivy_report());
    write_json(&scans.join("storefront.openvex.json"), &openvex_document());

    let (assessed, rows) = assess_and_list(&scans, &temp.path().join("ctem.db"));
    let formats: Vec<&str> = assessed["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|file| file["format"].as_str())
        .collect();
    assert_eq!(formats, ["openvex-json", "trivy-json"]);
    assert_eq!(rows.len(), 3, "the VEX document adds no finding");

    let log4shell = by_id(&rows, "CVE-2021-44228");
    assert_eq!(log4shell["source_status"], "not_affected");
    assert_eq!(log4shell["attributes"]["vex_status"], "not_affected");
    assert_eq!(
        log4shell["attributes"]["vex_justification"],
        "vulnerable_code_not_in_execute_path"
    );
    assert_eq!(
        log4shell["attributes"]["vex_impact_statement"],
        "The storefront never logs request data through a lookup pattern."
    );
    let source = log4shell["attributes"]["vex_source"].as_str().unwrap();
    assert!(
        source.ends_with("storefront.openvex.json (https://vex.acme.example/docs/storefront-2026-002)"),
        "{source}"
    );
    assert_eq!(log4shell["score"], 0.0);
    assert_eq!(log4shell["tier"], "P4");
    assert_eq!(log4shell["status"], "not_affected");

    let text4shell = by_id(&rows, "CVE-2022-42889");
    assert!(text4shell["source_status"].is_null(), "{text4shell}");
    assert!(text4shell["attributes"].get("vex_status").is_none());
    assert!(text4shell["score"].as_f64().unwrap() > 0.0);
}

#[test]
fn csaf_marks_finding_fixed() {
    let temp = tempfile::tempdir().unwrap();
    let scans = temp.path().join("scans");
    write_json(&scans.join("trivy-storefront.json"), &trivy_report());
    write_json(&scans.join("storefront.csaf.json"), &csaf_document());
    write_json(&scans.join("storefront.openvex.json"), &openvex_document());

    let (_, rows) = assess_and_list(&scans, &temp.path().join("ctem.db"));
    let text4shell = by_id(&rows, "CVE-2022-42889");
    assert_eq!(text4shell["source_status"], "fixed");
    assert_eq!(text4shell["attributes"]["vex_status"], "fixed");
    assert_eq!(
        text4shell["attributes"]["vex_action_statement"],
        "Rebuilt with the patched interpolator."
    );
    assert!(
        text4shell["attributes"]["vex_source"]
            .as_str()
            .unwrap()
            .ends_with("storefront.csaf.json (ACME-VEX-2026-0009)")
    );
    assert_eq!(text4shell["tier"], "P4");

    let snakeyaml = by_id(&rows, "CVE-2022-1471");
    assert!(snakeyaml["source_status"].is_null());
    assert_ne!(snakeyaml["tier"], "P4");
}

#[test]
fn later_statement_wins_across_documents() {
    let temp = tempfile::tempdir().unwrap();
    let scans = temp.path().join("scans");
    write_json(&scans.join("trivy-storefront.json"), &trivy_report());
    write_json(&scans.join("a-storefront.openvex.json"), &openvex_document());
    // A later document of the same supplier: log4j-core is affected after all.
    let mut later = openvex_document();
    later["@id"] = json!("https://vex.acme.example/docs/storefront-2026-005");
    later["timestamp"] = json!("2026-03-03T07:00:00Z");
    later["statements"][0]["status"] = json!("affected");
    let statement = later["statements"][0].as_object_mut().unwrap();
    statement.remove("justification");
    statement.remove("impact_statement");
    later["statements"][0]["action_statement"] = json!("Upgrade log4j-core to 2.17.1.");
    write_json(&scans.join("b-storefront.openvex.json"), &later);

    let (_, rows) = assess_and_list(&scans, &temp.path().join("ctem.db"));
    let log4shell = by_id(&rows, "CVE-2021-44228");
    assert_eq!(log4shell["source_status"], "affected");
    assert_eq!(
        log4shell["attributes"]["vex_action_statement"],
        "Upgrade log4j-core to 2.17.1."
    );
    assert!(log4shell["attributes"].get("vex_justification").is_none());
    assert!(log4shell["score"].as_f64().unwrap() > 0.0);
}

#[test]
fn vex_document_alone_closes_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let scans = temp.path().join("scans");
    let db = temp.path().join("ctem.db");
    write_json(&scans.join("trivy-storefront.json"), &trivy_report());
    let (first, _) = assess_and_list(&scans, &db);
    assert_eq!(first["run"]["new"], 3);

    let vex_only = temp.path().join("vex");
    write_json(&vex_only.join("storefront.openvex.json"), &openvex_document());
    let (second, rows) = assess_and_list(&vex_only, &db);
    assert_eq!(second["run"]["fixed"], 0, "{second}");
    assert_eq!(second["run"]["new"], 0, "{second}");
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|row| row["status"] != "fixed"), "{rows:?}");
}

/// A CycloneDX VEX document whose products are version ranges. The
/// log4j-core range contains the scanned 2.14.1, the snakeyaml range does
/// not contain 1.33, and the commons-text range is not in the vers: syntax.
fn cyclonedx_range_document() -> Value {
    let statement = |id: &str, purl: &str, range: &str| {
        json!({
            "id": id,
            "source": {"name": "NVD"},
            "analysis": {"state": "not_affected", "justification": "code_not_reachable",
                         "detail": "The vulnerable code is not reachable in these versions."},
            "affects": [{"ref": purl, "versions": [{"range": range, "status": "unaffected"}]}]
        })
    };
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {"timestamp": "2026-03-02T11:00:00Z"},
        "vulnerabilities": [
            statement("CVE-2021-44228", "pkg:maven/org.apache.logging.log4j/log4j-core", "vers:maven/>=2.0.0|<2.15.0"),
            statement("CVE-2022-1471", "pkg:maven/org.yaml/snakeyaml", "vers:maven/<1.30"),
            statement("CVE-2022-42889", "pkg:maven/org.apache.commons/commons-text", ">=1.5 <1.10")
        ]
    })
}

#[test]
fn cyclonedx_range_marks_version_inside() {
    let temp = tempfile::tempdir().unwrap();
    let scans = temp.path().join("scans");
    write_json(&scans.join("trivy-storefront.json"), &trivy_report());
    write_json(&scans.join("storefront.vex.cdx.json"), &cyclonedx_range_document());

    let (assessed, rows) = assess_and_list(&scans, &temp.path().join("ctem.db"));
    assert_eq!(rows.len(), 3, "the VEX document adds no finding");
    assert_eq!(assessed["vex"]["statements"], 3, "{assessed}");
    assert_eq!(assessed["vex"]["findings"], 1, "{assessed}");

    let log4shell = by_id(&rows, "CVE-2021-44228");
    assert_eq!(log4shell["source_status"], "not_affected");
    assert_eq!(log4shell["attributes"]["vex_status"], "not_affected");
    assert_eq!(log4shell["tier"], "P4");
    assert_eq!(log4shell["status"], "not_affected");

    let snakeyaml = by_id(&rows, "CVE-2022-1471");
    assert!(
        snakeyaml["source_status"].is_null(),
        "1.33 is outside <1.30: {snakeyaml}"
    );
    assert_ne!(snakeyaml["tier"], "P4");

    let text4shell = by_id(&rows, "CVE-2022-42889");
    assert!(text4shell["source_status"].is_null(), "{text4shell}");
    let warnings = assessed["vex"]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let warning = warnings[0].as_str().unwrap();
    assert!(warning.contains("CVE-2022-42889"), "{warning}");
    assert!(warning.contains("\">=1.5 <1.10\""), "{warning}");
}
