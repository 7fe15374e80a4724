//! The errors of the intelligence loaders. Each names the file and, where
//! the problem is inside it, the line (or the KEV entry), the field and the
//! rejected value.

use std::io;

/// A threat-intelligence file that could not be read or is invalid.
#[derive(Debug, thiserror::Error)]
pub enum IntelError {
    /// The file or folder could not be opened or read.
    #[error("failed to read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },

    /// Reading failed in the middle of a text file, most often because a
    /// gzip stream is corrupt or cut short.
    #[error("{path}: line {line}: failed to read: {source}; the file may be corrupt or truncated, download it again")]
    Read {
        path: String,
        line: u64,
        #[source]
        source: io::Error,
    },

    /// The file exceeds the size limit of its kind.
    #[error("{path} is larger than the limit of {limit} bytes for a {kind} file; check that it is the right file")]
    TooLarge {
        path: String,
        kind: &'static str,
        limit: u64,
    },

    /// The JSON is malformed, truncated or has a value of the wrong type.
    #[error("{path}: line {line}, column {column}: {message}")]
    Json {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },

    /// Valid JSON that lacks what every KEV catalog has.
    #[error("{path}: not a CISA KEV catalog: {reason}")]
    NotKev { path: String, reason: String },

    /// A top-level field of a KEV catalog with an invalid value.
    #[error("{path}: {field}: invalid value {value:?}: {reason}")]
    KevHeader {
        path: String,
        field: &'static str,
        value: String,
        reason: String,
    },

    /// A KEV entry without a field that ctem needs.
    #[error("{path}: vulnerabilities[{index}]: missing required field {field}")]
    KevMissingField {
        path: String,
        index: usize,
        field: &'static str,
    },

    /// A KEV entry field with an invalid value.
    #[error("{path}: vulnerabilities[{index}].{field}: invalid value {value:?}: {reason}")]
    KevEntry {
        path: String,
        index: usize,
        /// The JSON field, with an array index where it has one (`cwes[1]`).
        field: String,
        value: String,
        reason: String,
    },

    /// A CSV file that is not in one of the EPSS layouts.
    #[error("{path}: not an EPSS scores file: {reason}")]
    NotEpss { path: String, reason: String },

    /// An EPSS row with the wrong number of columns.
    #[error("{path}: line {line}: expected 3 columns (cve,epss,percentile), found {found}: {row:?}")]
    EpssColumns {
        path: String,
        line: u64,
        found: usize,
        /// The row, shortened to a readable length.
        row: String,
    },

    /// An EPSS value (CVE id, probability, percentile or score date) that is invalid.
    #[error("{path}: line {line}: invalid {field} {value:?}: {reason}")]
    EpssValue {
        path: String,
        line: u64,
        field: &'static str,
        /// The value, shortened to a readable length.
        value: String,
        reason: String,
    },

    /// A CVE that one EPSS file scores twice on the same day with different values.
    #[error(
        "{path}: line {line}: {cve} is scored again with different values ({},{} here, {},{} on an earlier line); \
         a file scores each CVE once a day, so it is corrupt or joined from different files",
        .here.epss, .here.percentile, .earlier.epss, .earlier.percentile
    )]
    EpssConflict {
        path: String,
        line: u64,
        cve: String,
        /// The score of the earlier row.
        earlier: crate::EpssScore,
        /// The score of this row.
        here: crate::EpssScore,
    },

    /// A line longer than any line of the format can be.
    #[error(
        "{path}: line {line} is longer than {limit} bytes; EPSS lines are under 100 bytes, so the file is corrupt or not an EPSS file"
    )]
    LineTooLong { path: String, line: u64, limit: usize },

    /// A text file with more lines than the loader accepts.
    #[error(
        "{path}: more than {limit} lines; the EPSS file of every published CVE has far fewer, so the file is corrupt or not an EPSS file"
    )]
    TooManyLines { path: String, limit: u64 },

    /// A file that is not of the format its loader reads.
    #[error("{path}: not {expected}: {reason}")]
    NotFormat {
        path: String,
        /// The format, with an article: `a CVE JSON 5 record`.
        expected: &'static str,
        reason: String,
    },

    /// A record of a file with a value that ctem cannot use. The location
    /// is a line (`line 12`) or a JSON path (`containers.adp[0].metrics[2]`).
    #[error("{path}: {location}: {reason}")]
    Invalid {
        path: String,
        location: String,
        reason: String,
    },

    /// A line that is not UTF-8 text.
    #[error("{path}: line {line} is not valid UTF-8; EPSS files are ASCII text")]
    NotUtf8 { path: String, line: u64 },
}

/// Shortens text from a file for an error message, so that a hostile value
/// of megabytes does not end up in a log line.
pub(crate) fn shorten(text: &str) -> String {
    const MAX_CHARS: usize = 80;
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_keeps_short_text() {
        assert_eq!(shorten("CVE-2025-0001"), "CVE-2025-0001");
    }

    #[test]
    fn shorten_cuts_long_text() {
        let long = "x".repeat(1000);
        let short = shorten(&long);
        assert_eq!(short.len(), 83);
        assert!(short.ends_with("..."));
    }

    #[test]
    fn shorten_respects_char_boundaries() {
        let long = "é".repeat(200);
        assert_eq!(shorten(&long).chars().count(), 83);
    }
}
