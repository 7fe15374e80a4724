//! Helpers of the tests of the SAST and secret scanner parsers: reading
//! fixtures, normalizing reports for snapshots, and detection over the
//! whole shared corpus.

#![allow(dead_code)]

use std::io::Read;

use ctem_ingest::{DETECTION_HEAD_BYTES, ParseError, ParsedReport, find, parse_bytes};
use serde_json::json;

/// Reads a fixture of `tests/fixtures/<format>/`.
pub fn fixture(format: &str, name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{format}/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Parses bytes with the parser of `format`, as a file named `name`.
pub fn parse(format: &str, name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    parse_bytes(find(format).expect("registered"), name, bytes)
}

/// Parses a fixture, which must be valid.
pub fn parse_fixture(format: &str, name: &str) -> ParsedReport {
    parse(format, name, &fixture(format, name)).unwrap_or_else(|e| panic!("{e}"))
}

/// Converts a report to JSON for snapshots, with each finding's fingerprint.
pub fn normalized(report: &ParsedReport) -> serde_json::Value {
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

/// Everything a report holds, as one JSON text, to search for clear secrets.
pub fn serialized(report: &ParsedReport) -> String {
    normalized(report).to_string()
}

/// Builds nested JSON arrays `depth` deep.
pub fn nested_arrays(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// Files this short (`[]`, `{}`, `null`) fit several formats and are not
/// checked, as `common::check_detection` does not check them either.
const AMBIGUOUS_BYTES: usize = 16;

/// Checks that `format_id` is detected for every file of `folders` whose
/// name passes `select`, and for no other corpus file, so that adding a
/// parser never takes another format's reports.
pub fn check_exact_detection(format_id: &str, folders: &[&str], select: fn(&str) -> bool) {
    let Some(corpus) = std::env::var_os("CTEM_SHARED").map(|dir| std::path::PathBuf::from(dir).join("corpus")) else {
        eprintln!("skipped: set CTEM_SHARED to the folder holding corpus/ to run the detection tests");
        return;
    };

    let mut failures = Vec::new();
    let mut own_files = 0;
    let mut folders_seen: Vec<_> = std::fs::read_dir(&corpus)
        .expect("corpus folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_dir())
        .collect();
    folders_seen.sort();
    for folder in folders_seen {
        let folder_name = folder.file_name().unwrap_or_default().to_string_lossy().into_owned();
        for entry in std::fs::read_dir(&folder).expect("folder") {
            let path = entry.expect("entry").path();
            let file_name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
            let mut head = Vec::new();
            std::fs::File::open(&path)
                .and_then(|file| file.take(DETECTION_HEAD_BYTES as u64).read_to_end(&mut head))
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let detected = ctem_ingest::detect(&head).map(|parser| parser.info().id);

            let own = folders.contains(&folder_name.as_str()) && select(&file_name);
            if own {
                own_files += 1;
                if detected != Some(format_id) && head.len() > AMBIGUOUS_BYTES {
                    failures.push(format!("{folder_name}/{file_name}: detected as {detected:?}"));
                }
            } else if detected == Some(format_id) {
                failures.push(format!("{folder_name}/{file_name}: wrongly detected as {format_id}"));
            }
        }
    }
    assert!(own_files > 0, "no corpus file in {folders:?}");
    assert!(failures.is_empty(), "detection failures:\n{}", failures.join("\n"));
}
