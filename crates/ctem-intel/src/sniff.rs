//! Recognizes intelligence files in a folder from their name and first KiB,
//! so that a folder of mixed data (CVE records, SSVC tables, other CSVs)
//! loads quickly: only KEV catalogs and EPSS files are parsed in full.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::epss::{classify_first_line, open_text};
use crate::error::{IntelError, shorten};

/// How many bytes of a file (after gzip decompression) detection looks at.
pub(crate) const SNIFF_BYTES: u64 = 1024;

/// The kind of a file in an intelligence folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Detected {
    Kev,
    Epss,
    /// Not an intelligence file that ctem reads, with the reason.
    Other(String),
}

/// Detects the kind of a file. A `.json` whose first KiB contains the keys
/// `catalogVersion` and `vulnerabilities` is a KEV catalog, unless it also
/// contains `$schema` as the KEV JSON schema does. A `.csv` or `.csv.gz`
/// whose first line is an EPSS comment, header or row is an EPSS file.
pub(crate) fn detect(path: &Path) -> Result<Detected, IntelError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();

    if name.ends_with(".json") {
        let head = read_head(path, File::open(path).map_err(|source| io_error(path, source))?)?;
        return Ok(detect_json(&head));
    }
    if name.ends_with(".csv") || name.ends_with(".csv.gz") {
        return detect_csv(path);
    }
    Ok(Detected::Other("not a .json, .csv or .csv.gz file".to_string()))
}

fn detect_json(head: &[u8]) -> Detected {
    if contains(head, b"\"$schema\"") {
        return Detected::Other("a JSON schema, not a KEV catalog".to_string());
    }
    if contains(head, b"\"catalogVersion\"") && contains(head, b"\"vulnerabilities\"") {
        return Detected::Kev;
    }
    Detected::Other(
        "JSON without catalogVersion and vulnerabilities in its first KiB, so not a KEV catalog".to_string(),
    )
}

fn detect_csv(path: &Path) -> Result<Detected, IntelError> {
    let display = path.display().to_string();
    let file = File::open(path).map_err(|source| io_error(path, source))?;
    let text = open_text(&display, file)?;

    let mut head = Vec::new();
    // A corrupt gzip stream is a file that cannot be identified, not a
    // failed load: it is skipped with the reason.
    if let Err(error) = text.take(SNIFF_BYTES).read_to_end(&mut head) {
        return Ok(Detected::Other(format!("unreadable CSV: {error}")));
    }

    let first_line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let first_line = String::from_utf8_lossy(first_line);
    let first_line = first_line.trim_start_matches('\u{feff}').trim_end_matches('\r');
    match classify_first_line(first_line) {
        Some(_) => Ok(Detected::Epss),
        None => Ok(Detected::Other(format!(
            "CSV whose first line {:?} is no EPSS comment, header or row",
            shorten(first_line)
        ))),
    }
}

fn read_head(path: &Path, reader: impl Read) -> Result<Vec<u8>, IntelError> {
    let mut head = Vec::new();
    reader
        .take(SNIFF_BYTES)
        .read_to_end(&mut head)
        .map_err(|source| io_error(path, source))?;
    Ok(head)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

fn io_error(path: &Path, source: std::io::Error) -> IntelError {
    IntelError::Io {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_detection() {
        let catalog = br#"{"title": "CISA Catalog", "catalogVersion": "2025.08.25", "count": 1, "vulnerabilities": ["#;
        assert_eq!(detect_json(catalog), Detected::Kev);
        let schema = br#"{"$schema": "http://json-schema.org/draft-07/schema#", "properties": {"catalogVersion": {}, "vulnerabilities": {}}}"#;
        assert!(matches!(detect_json(schema), Detected::Other(reason) if reason.contains("schema")));
        let cve_record = br#"{"dataType": "CVE_RECORD", "cveMetadata": {"cveId": "CVE-2023-4966"}}"#;
        assert!(matches!(detect_json(cve_record), Detected::Other(_)));
    }
}
