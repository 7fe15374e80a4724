//! Red Hat's CVSS reference vectors, scored through `ctem_model::CvssVector`.
//!
//! Each file has one `VECTOR - SCORES` line per vector. The v2 and v3 files
//! give a tuple `(base, temporal, environmental)`, with `None` for a score
//! the vector does not define. The v4 files give the one CVSS-B, -BT, -BE or
//! -BTE score of the vector, either as `(score,)` or bare. `CvssVector`
//! exposes the base score (for v4 the score of all the vector's metrics), so
//! the first score of each line is compared.

mod common;

use std::fs;

use ctem_model::CvssVector;

/// The reference files and the number of vectors each holds.
const FILES: [(&str, usize); 7] = [
    ("rh_vectors_simple2", 729),
    ("rh_vectors_simple3", 2592),
    ("rh_vectors_simple31", 2592),
    ("rh_vectors_simple4", 1058),
    ("vectors_security4", 54),
    ("vectors_supplemental4", 576),
    ("vectors_threat4", 6),
];

/// Parses `VECTOR - (9.6, 9.6, 9.7)`, `VECTOR - (9.2,)` or `VECTOR - 7.3`
/// into the vector and its first score.
fn parse_line(line: &str) -> (&str, f64) {
    let (vector, scores) = line.split_once(" - ").unwrap_or_else(|| panic!("no ` - ` in {line:?}"));
    let first = scores
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .next()
        .unwrap_or_default()
        .trim();
    let score = first.parse().unwrap_or_else(|_| panic!("no score in {line:?}"));
    (vector.trim(), score)
}

#[test]
fn reference_line_layouts() {
    assert_eq!(
        parse_line("AV:L/AC:H/Au:M/C:N/I:N/A:N - (-0.0, None, None)"),
        ("AV:L/AC:H/Au:M/C:N/I:N/A:N", 0.0)
    );
    assert_eq!(parse_line("CVSS:3.1/AV:N - (9.6, 9.6, 9.7)").1, 9.6);
    assert_eq!(parse_line("CVSS:4.0/AV:N - (9.2,)").1, 9.2);
    assert_eq!(parse_line("CVSS:4.0/AV:N - 7.3").1, 7.3);
}

#[test]
fn reference_vectors_score_as_expected() {
    let Some(shared) = common::shared_dir("reference_vectors_score_as_expected") else {
        return;
    };
    let dir = shared.join("intel/cvss-vectors");

    let mut checked = 0;
    let mut mismatches = Vec::new();
    for (name, expected_count) in FILES {
        let text = fs::read_to_string(dir.join(name)).unwrap_or_else(|error| panic!("{name}: {error}"));
        let mut count = 0;
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            let (vector_text, expected) = parse_line(line);
            count += 1;
            match vector_text.parse::<CvssVector>() {
                Ok(vector) if (vector.base_score() - expected).abs() < 1e-9 => {}
                Ok(vector) => mismatches.push(format!(
                    "{name}: {vector_text}: expected {expected}, computed {}",
                    vector.base_score()
                )),
                Err(error) => mismatches.push(format!("{name}: {vector_text}: expected {expected}, {error}")),
            }
        }
        assert_eq!(count, expected_count, "{name}: number of vectors");
        eprintln!("{name}: {count} vectors");
        checked += count;
    }

    eprintln!("checked {checked} reference vectors, {} mismatches", mismatches.len());
    assert_eq!(checked, 7607);
    assert!(
        mismatches.is_empty(),
        "{} of {checked} vectors score differently:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
