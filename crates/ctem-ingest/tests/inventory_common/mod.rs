//! Shared code of the inventory parser tests (AWS CLI exports, Kubernetes
//! manifests, ctem-native JSON): the structural facts of the corpus files
//! that no other project's tests assert, and a check that detection claims
//! a format for exactly its corpus files.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use ctem_ingest::{ParsedReport, find, parse_reader};

/// Returns the corpus folder, or `None` (with a message on stderr) when
/// `CTEM_SHARED` is unset and the corpus tests are skipped.
pub fn corpus_dir() -> Option<PathBuf> {
    match std::env::var_os("CTEM_SHARED") {
        Some(dir) => Some(PathBuf::from(dir).join("corpus")),
        None => {
            eprintln!("skipped: set CTEM_SHARED to the folder holding corpus/ to run the corpus tests");
            None
        }
    }
}

/// One row of `STRUCTURAL_FACTS.tsv`: a file and its facts as
/// (name, value) pairs, such as `("Instances", "3")` or `("kinds", "['Pod']")`.
#[derive(Debug, Clone)]
pub struct StructuralRow {
    pub file: String,
    pub facts: Vec<(String, String)>,
}

impl StructuralRow {
    /// Returns the fact's value as a count, when it is one.
    pub fn count(&self, name: &str) -> Option<usize> {
        self.facts
            .iter()
            .find(|(fact, _)| fact == name)
            .and_then(|(_, value)| value.parse().ok())
    }
}

/// Reads the rows of `STRUCTURAL_FACTS.tsv` for one corpus folder.
pub fn structural_rows(corpus: &Path, folder: &str) -> Vec<StructuralRow> {
    let table = std::fs::read_to_string(corpus.join("STRUCTURAL_FACTS.tsv")).expect("STRUCTURAL_FACTS.tsv is readable");
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            if columns.len() < 3 || columns[0] != folder {
                return None;
            }
            let facts = columns[2]
                .split("; ")
                .filter_map(|fact| fact.split_once('='))
                .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
                .collect();
            Some(StructuralRow {
                file: columns[1].to_string(),
                facts,
            })
        })
        .collect()
}

/// Parses one corpus file with the parser of `format_id`.
pub fn parse_file(format_id: &str, path: &Path) -> Result<ParsedReport, ctem_ingest::ParseError> {
    let parser = find(format_id).unwrap_or_else(|| panic!("no parser with id {format_id}"));
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = std::io::BufReader::new(file);
    parse_reader(parser, &path.display().to_string(), &mut reader)
}

/// Runs `ctem_ingest::detect` over every file of every corpus folder and
/// checks that `format_id` is detected exactly for the files that `owns`
/// selects (by folder and file name).
pub fn check_detection_everywhere(format_id: &str, owns: fn(&str, &str) -> bool) {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let mut folders: Vec<_> = std::fs::read_dir(&corpus)
        .expect("corpus folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_dir())
        .collect();
    folders.sort();

    let mut failures = Vec::new();
    let mut owned = 0;
    for folder in folders {
        let folder_name = folder.file_name().unwrap_or_default().to_string_lossy().into_owned();
        for entry in std::fs::read_dir(&folder).expect("folder") {
            let path = entry.expect("entry").path();
            let file_name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).expect("readable");
            let detected = ctem_ingest::detect(&bytes).map(|parser| parser.info().id);
            let expected = owns(&folder_name, &file_name);
            owned += usize::from(expected);
            if (detected == Some(format_id)) != expected {
                failures.push(format!("{}: detected as {detected:?}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "detection failures:\n{}", failures.join("\n"));
    assert!(
        owned > 0 || format_id == "ctem-json",
        "no corpus file belongs to {format_id}"
    );
}
