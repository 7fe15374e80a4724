//! Detection by content across the whole shared corpus: every real report
//! must be claimed by one of its folder's formats, and by no format that
//! another folder's reports use.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use ctem_ingest::{DETECTION_HEAD_BYTES, registry};

/// The formats whose parsers may claim the files of each corpus folder.
/// A folder lists several where it mixes formats or format variants.
const FOLDER_FORMATS: &[(&str, &[&str])] = &[
    ("anchore_engine", &["anchore-engine-json"]),
    ("aws_inventory", &["aws-cli-json"]),
    ("bandit_json", &["bandit-json"]),
    ("burp_api_json", &["burp-api-json"]),
    ("burp_xml", &["burp-xml"]),
    ("checkov", &["checkov-json"]),
    ("clair", &["clair-json"]),
    ("csaf_vex", &["csaf-vex-json"]),
    ("cyclonedx", &["cyclonedx-json", "cyclonedx-xml"]),
    ("cyclonedx_vex", &["cyclonedx-json"]),
    ("dependency_check", &["dependency-check-xml"]),
    ("eslint_json", &["eslint-json"]),
    ("gitleaks", &["gitleaks-json"]),
    ("gosec_json", &["gosec-json"]),
    ("grype", &["grype-json"]),
    ("kics", &["kics-json"]),
    ("kube_bench", &["kube-bench-json"]),
    ("kubernetes", &["kubernetes-yaml"]),
    ("kubescape", &["kubescape-json"]),
    ("nessus", &["nessus-xml"]),
    ("nessus_csv", &["nessus-csv"]),
    ("nikto", &["nikto-json", "nikto-xml"]),
    ("nmap", &["nmap-xml"]),
    ("npm_audit", &["npm-audit-json"]),
    ("npm_audit_v2", &["npm-audit-json"]),
    ("nuclei", &["nuclei-jsonl"]),
    ("openvas", &["openvas-xml"]),
    ("openvas_csv", &["openvas-csv"]),
    ("openvex", &["openvex-json"]),
    ("osv_scanner", &["osv-scanner-json"]),
    ("pip_audit", &["pip-audit-json"]),
    ("prowler_ocsf", &["prowler-ocsf-json"]),
    ("prowler_v2_csv", &["prowler-v2-csv"]),
    ("prowler_v2_json", &["prowler-v2-json"]),
    ("prowler_v3_json", &["prowler-v3-json"]),
    ("prowler_v4_csv", &["prowler-v4-csv"]),
    ("qualys", &["qualys-xml"]),
    ("qualys_csv", &["qualys-csv"]),
    ("sarif", &["sarif"]),
    ("scoutsuite", &["scoutsuite-js"]),
    ("semgrep_json", &["semgrep-json"]),
    ("semgrep_pro_json", &["semgrep-pro-json"]),
    ("snyk", &["snyk-json"]),
    ("snyk_code_sarif", &["sarif"]),
    ("spdx", &["spdx-json", "spdx-tag-value"]),
    ("tfsec", &["tfsec-json"]),
    ("trivy", &["trivy-json"]),
    ("trivy_operator", &["trivy-operator-json"]),
    ("trufflehog", &["trufflehog-json"]),
    ("trufflehog3", &["trufflehog3-json"]),
    ("zap_json", &["zap-json"]),
    ("zap_xml", &["zap-xml"]),
];

/// Files this short (a bare `null`, `[]` or `{}`) carry no marker of any
/// format, so no parser can claim them.
const MAX_UNMARKED_BYTES: u64 = 16;

#[test]
fn table_names_registered_formats() {
    let registered: BTreeSet<&str> = registry().iter().map(|parser| parser.info().id).collect();
    for (folder, formats) in FOLDER_FORMATS {
        for format in *formats {
            assert!(
                registered.contains(format),
                "folder {folder} names {format}, which is not a registered format"
            );
        }
    }
}

#[test]
fn table_lists_every_corpus_folder() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let listed: BTreeSet<&str> = FOLDER_FORMATS.iter().map(|(folder, _)| *folder).collect();
    let present: BTreeSet<String> = std::fs::read_dir(&corpus)
        .expect("corpus folder is readable")
        .map(|entry| entry.expect("corpus entry").path())
        .filter(|path| path.is_dir())
        .map(|path| path.file_name().unwrap_or_default().to_string_lossy().into_owned())
        .collect();
    let missing: Vec<&String> = present
        .iter()
        .filter(|folder| !listed.contains(folder.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "corpus folders without formats in the table: {missing:?}"
    );
    let unknown: Vec<&&str> = listed.iter().filter(|folder| !present.contains(**folder)).collect();
    assert!(unknown.is_empty(), "table folders missing from the corpus: {unknown:?}");
}

#[test]
fn corpus_files_detect_as_their_folder() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let owners = format_owners();
    let mut failures = Vec::new();
    let mut checked = 0;

    for (folder, formats) in FOLDER_FORMATS {
        let rejected: BTreeSet<String> = common::expected_rows(&corpus, folder)
            .into_iter()
            .filter(|row| row.expected == common::Expected::Error)
            .map(|row| row.file)
            .collect();
        for path in folder_files(&corpus.join(folder)) {
            let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or_default();
            if size <= MAX_UNMARKED_BYTES {
                continue;
            }
            checked += 1;
            let head = head(&path);
            let detected = ctem_ingest::detect(&head).map(|parser| parser.info().id);
            let label = format!("{folder}/{name}");

            // A format of another folder that is as sure as the winner
            // loses only by its place in the registry: a conflict that
            // reordering the registry would expose.
            if let Some(winner) = detected.and_then(ctem_ingest::find) {
                let level = winner.detect(&head);
                let rivals: Vec<&str> = registry()
                    .iter()
                    .filter(|parser| parser.detect(&head) == level)
                    .map(|parser| parser.info().id)
                    .filter(|id| *id != winner.info().id && !formats.contains(id))
                    .collect();
                if !rivals.is_empty() {
                    failures.push(format!(
                        "{label}: {rivals:?} claim it as surely ({level:?}) as {}",
                        winner.info().id
                    ));
                }
            }

            match detected {
                Some(id) if formats.contains(&id) => {
                    if rejected.contains(&name) && common::parse_file(id, &path).is_ok() {
                        failures.push(format!("{label}: must be rejected, but {id} parses it"));
                    }
                }
                Some(id) => {
                    let claimed_by = owners.get(id).map(|folders| folders.join(", "));
                    failures.push(format!(
                        "{label}: detected as {id} (the format of {}), expected one of {formats:?}",
                        claimed_by.as_deref().unwrap_or("no corpus folder")
                    ));
                }
                None if rejected.contains(&name) => {}
                None => failures.push(format!("{label}: not detected, expected one of {formats:?}")),
            }
        }
    }

    assert!(checked > 0, "the corpus holds no file to check");
    assert!(
        failures.is_empty(),
        "{} of {checked} corpus files detect wrongly:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Maps each format id to the corpus folders whose files it must claim.
fn format_owners() -> BTreeMap<&'static str, Vec<&'static str>> {
    let mut owners: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (folder, formats) in FOLDER_FORMATS {
        for format in *formats {
            owners.entry(format).or_default().push(folder);
        }
    }
    owners
}

/// Lists the regular files of a folder, in name order.
fn folder_files(folder: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .map(|entry| entry.expect("folder entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Reads the first [`DETECTION_HEAD_BYTES`] of a file, the part that
/// detection looks at.
fn head(path: &Path) -> Vec<u8> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut head = Vec::with_capacity(DETECTION_HEAD_BYTES);
    file.take(DETECTION_HEAD_BYTES as u64)
        .read_to_end(&mut head)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    head
}
