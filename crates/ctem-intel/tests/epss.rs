//! The EPSS loader against both layouts, gzip, malformed rows and hostile inputs.

mod common;

use std::fmt::Write as _;
use std::io::Write as _;

use chrono::NaiveDate;
use common::{fixture, gzip};
use ctem_intel::{EPSS_MAX_LINE_BYTES, EpssScore, EpssScores, IntelError};
use ctem_model::CveId;

fn cve(text: &str) -> CveId {
    text.parse().expect("valid CVE id in test")
}

fn score(scores: &EpssScores, id: &str) -> Option<EpssScore> {
    scores.get(&cve(id)).map(|record| record.score)
}

fn load_error(name: &str) -> (IntelError, String) {
    let path = fixture(&format!("epss/{name}"));
    let error = EpssScores::load(&path).expect_err("the fixture is invalid");
    let message = error.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "the error names the file: {message}"
    );
    (error, message)
}

fn write_temp(bytes: &[u8], name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

#[test]
fn official_layout_keeps_metadata() {
    let scores = EpssScores::load(fixture("epss/official.csv")).unwrap();
    assert_eq!(scores.len(), 4);
    let file = &scores.files()[0];
    assert_eq!(file.model_version.as_deref(), Some("v2025.03.14"));
    assert_eq!(file.score_date, NaiveDate::from_ymd_opt(2025, 3, 14));
    assert_eq!(file.count, 4);
    assert!(file.path.ends_with("official.csv"));
}

#[test]
fn official_layout_rows() {
    let scores = EpssScores::load(fixture("epss/official.csv")).unwrap();
    assert_eq!(
        score(&scores, "CVE-2025-0001"),
        Some(EpssScore {
            epss: 0.00275,
            percentile: 0.50602
        })
    );
    assert_eq!(score(&scores, "CVE-2021-44228").map(|s| s.epss), Some(0.94358));
    assert_eq!(score(&scores, "CVE-2019-0708"), None);
}

#[test]
fn headerless_layout_loads() {
    let scores = EpssScores::load(fixture("epss/headerless.csv")).unwrap();
    assert_eq!(scores.len(), 3);
    assert_eq!(score(&scores, "CVE-2025-0003").map(|s| s.percentile), Some(0.0191));
    let file = &scores.files()[0];
    assert_eq!(file.model_version, None);
    assert_eq!(file.score_date, None);
}

#[test]
fn header_crlf_bom_quotes() {
    let scores = EpssScores::load(fixture("epss/header_crlf_bom.csv")).unwrap();
    assert_eq!(scores.len(), 2);
    assert_eq!(score(&scores, "CVE-2023-4966").map(|s| s.epss), Some(0.94302));
}

#[test]
fn header_without_rows_is_empty() {
    let scores = EpssScores::load(fixture("epss/no_rows.csv")).unwrap();
    assert!(scores.is_empty());
    assert_eq!(scores.files()[0].model_version.as_deref(), Some("v2025.03.14"));
}

#[test]
fn gzip_detected_by_content() {
    let bytes = gzip(&std::fs::read(fixture("epss/official.csv")).unwrap());
    let (_dir, path) = write_temp(&bytes, "scores.csv");
    let scores = EpssScores::load(&path).unwrap();
    assert_eq!(scores.len(), 4);
    assert_eq!(scores.files()[0].score_date, NaiveDate::from_ymd_opt(2025, 3, 14));
}

#[test]
fn plain_text_named_gz_loads() {
    let bytes = std::fs::read(fixture("epss/headerless.csv")).unwrap();
    let (_dir, path) = write_temp(&bytes, "scores.csv.gz");
    assert_eq!(EpssScores::load(&path).unwrap().len(), 3);
}

#[test]
fn gzip_multi_member_loads() {
    let mut bytes = gzip(b"cve,epss,percentile\nCVE-2025-0001,0.00275,0.50602\n");
    bytes.extend(gzip(b"CVE-2025-0003,0.00014,0.0191\n"));
    let scores = EpssScores::from_reader("two-members.csv.gz", bytes.as_slice()).unwrap();
    assert_eq!(scores.len(), 2);
    assert!(score(&scores, "CVE-2025-0003").is_some());
}

#[test]
fn gzip_truncated_is_error() {
    let mut text = String::from("cve,epss,percentile\n");
    for number in 0..20_000 {
        writeln!(text, "CVE-2025-{number:05},0.00{number:03},0.5").unwrap();
    }
    let bytes = gzip(text.as_bytes());
    let cut = &bytes[..bytes.len() / 2];
    let error = EpssScores::from_reader("cut.csv.gz", cut).unwrap_err();
    assert!(matches!(error, IntelError::Read { .. }), "{error}");
    assert!(error.to_string().contains("truncated"), "{error}");
}

#[test]
fn other_csv_is_not_epss() {
    for name in ["wrong_header.csv", "weekly_snapshot.csv"] {
        let (error, message) = load_error(name);
        assert!(matches!(error, IntelError::NotEpss { .. }), "{message}");
        assert!(message.contains("not an EPSS scores file"), "{message}");
        assert!(message.contains("line 1"), "{message}");
    }
}

#[test]
fn empty_file_is_not_epss() {
    let (error, message) = load_error("empty.csv");
    assert!(matches!(error, IntelError::NotEpss { .. }), "{message}");
    assert!(message.contains("empty"), "{message}");
}

#[test]
fn comment_needs_header() {
    let (error, message) = load_error("comment_without_header.csv");
    assert!(matches!(error, IntelError::NotEpss { .. }), "{message}");
    assert!(message.contains("line 2"), "{message}");
}

#[test]
fn invalid_cve_names_line() {
    let (error, message) = load_error("bad_cve.csv");
    assert!(
        matches!(
            error,
            IntelError::EpssValue {
                line: 3,
                field: "cve",
                ..
            }
        ),
        "{message}"
    );
    assert!(message.contains("\"CVE-25-0003\""), "{message}");
}

#[test]
fn invalid_number_names_line() {
    let (error, message) = load_error("bad_number.csv");
    assert!(
        matches!(
            error,
            IntelError::EpssValue {
                line: 3,
                field: "epss",
                ..
            }
        ),
        "{message}"
    );
    assert!(message.contains("\"high\""), "{message}");
}

#[test]
fn out_of_range_names_line() {
    let (error, message) = load_error("out_of_range.csv");
    assert!(
        matches!(
            error,
            IntelError::EpssValue {
                line: 3,
                field: "percentile",
                ..
            }
        ),
        "{message}"
    );
    assert!(message.contains("\"1.5\""), "{message}");
    assert!(message.contains("out of range"), "{message}");
}

#[test]
fn negative_names_line() {
    let (error, message) = load_error("negative.csv");
    assert!(
        matches!(
            error,
            IntelError::EpssValue {
                line: 2,
                field: "epss",
                ..
            }
        ),
        "{message}"
    );
}

#[test]
fn wrong_column_count_names_line() {
    let (error, message) = load_error("wrong_columns.csv");
    assert!(
        matches!(error, IntelError::EpssColumns { line: 4, found: 4, .. }),
        "{message}"
    );
}

#[test]
fn invalid_score_date_names_line() {
    let (error, message) = load_error("bad_score_date.csv");
    assert!(
        matches!(
            error,
            IntelError::EpssValue {
                line: 1,
                field: "score_date",
                ..
            }
        ),
        "{message}"
    );
    assert!(message.contains("\"someday\""), "{message}");
}

#[test]
fn huge_line_is_rejected() {
    let mut text = String::from("cve,epss,percentile\nCVE-2025-0001,0.00275,0.50602\n");
    text.push_str(&"9".repeat(50 * 1024 * 1024));
    let error = EpssScores::from_reader("huge.csv", text.as_bytes()).unwrap_err();
    assert!(
        matches!(
            error,
            IntelError::LineTooLong {
                line: 3,
                limit: EPSS_MAX_LINE_BYTES,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().len() < 300, "{error}");
}

#[test]
fn huge_first_line_is_rejected() {
    let text = "x".repeat(10 * 1024 * 1024);
    let error = EpssScores::from_reader("huge.csv", text.as_bytes()).unwrap_err();
    assert!(matches!(error, IntelError::LineTooLong { line: 1, .. }), "{error}");
}

#[test]
fn binary_input_is_rejected() {
    let bytes: Vec<u8> = (0..=255u8).rev().cycle().take(512).collect();
    let error = EpssScores::from_reader("random.bin", bytes.as_slice()).unwrap_err();
    assert!(
        matches!(error, IntelError::NotUtf8 { line: 1, .. } | IntelError::NotEpss { .. }),
        "{error}"
    );
}

#[test]
fn duplicate_row_with_other_values_is_error() {
    let text = "cve,epss,percentile\nCVE-2025-0001,0.1,0.2\nCVE-2025-0001,0.3,0.4\n";
    let error = EpssScores::from_reader("dup.csv", text.as_bytes()).unwrap_err();
    assert!(matches!(error, IntelError::EpssConflict { line: 3, .. }), "{error}");
    assert!(error.to_string().contains("CVE-2025-0001"), "{error}");
}

#[test]
fn merge_later_date_wins() {
    for newer_first in [true, false] {
        let newer = EpssScores::load(fixture("epss/official.csv")).unwrap();
        let older = EpssScores::load(fixture("epss/official_older.csv")).unwrap();
        let (mut merged, other) = if newer_first { (newer, older) } else { (older, newer) };
        merged.merge(other);

        let log4shell = merged.get(&cve("CVE-2021-44228")).unwrap();
        assert_eq!(log4shell.score.epss, 0.94358, "newer first: {newer_first}");
        assert_eq!(log4shell.file.score_date, NaiveDate::from_ymd_opt(2025, 3, 14));
        let bluekeep = merged.get(&cve("CVE-2019-0708")).unwrap();
        assert_eq!(bluekeep.file.model_version.as_deref(), Some("v2025.01.01"));
        assert_eq!(merged.len(), 5);
        assert_eq!(merged.files().len(), 2);
    }
}

#[test]
fn merge_dated_beats_undated() {
    let undated = "CVE-2025-0001,0.5,0.9\nCVE-2025-9999,0.1,0.1\n";
    let mut merged = EpssScores::load(fixture("epss/official.csv")).unwrap();
    merged.merge(EpssScores::from_reader("undated.csv", undated.as_bytes()).unwrap());
    assert_eq!(score(&merged, "CVE-2025-0001").map(|s| s.epss), Some(0.00275));
    assert_eq!(score(&merged, "CVE-2025-9999").map(|s| s.epss), Some(0.1));
}

#[test]
fn merge_equal_dates_later_wins() {
    let first = "CVE-2025-0001,0.1,0.2\n";
    let second = "CVE-2025-0001,0.3,0.4\n";
    let mut merged = EpssScores::from_reader("first.csv", first.as_bytes()).unwrap();
    merged.merge(EpssScores::from_reader("second.csv", second.as_bytes()).unwrap());
    let record = merged.get(&cve("CVE-2025-0001")).unwrap();
    assert_eq!(record.score.epss, 0.3);
    assert_eq!(record.file.path, "second.csv");
}

#[test]
fn generated_300k_rows_load() {
    let rows = 300_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("epss_scores-generated.csv.gz");
    let file = std::fs::File::create(&path).unwrap();
    let mut encoder = flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::fast());
    writeln!(
        encoder,
        "#model_version:v2025.03.14,score_date:2025-03-14T00:00:00+0000"
    )
    .unwrap();
    writeln!(encoder, "cve,epss,percentile").unwrap();
    for number in 0..rows {
        let year = 1999 + number % 27;
        let probability = (number % 100_000) as f64 / 100_000.0;
        writeln!(encoder, "CVE-{year}-{number:06},{probability:.5},{probability:.5}").unwrap();
    }
    encoder.finish().unwrap().flush().unwrap();

    let scores = EpssScores::load(&path).unwrap();
    assert_eq!(scores.len(), rows);
}
