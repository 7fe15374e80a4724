//! Scanner and inventory parsers.
//!
//! The crate has three roles, in the manner of a searcher and its sinks:
//!
//! - a [`Parser`] turns the bytes of one report into model records and hands
//!   them to a [`Sink`] as it reads, so memory does not grow with the size of
//!   the file beyond the records themselves;
//! - the [`registry`] lists every parser once, with a stable format id;
//! - [`detect`] picks the parser for a file from its content.
//!
//! Parsers never touch the database or the network, hold no state between
//! files, and mask secrets before a record leaves them.
//!
//! ```
//! use ctem_ingest::{detect, parse_bytes};
//!
//! let report = br#"[{"Description":"AWS Access Key","StartLine":3,"EndLine":3,
//!   "Match":"AKIAIOSFODNN7EXAMPLE","Secret":"AKIAIOSFODNN7EXAMPLE",
//!   "File":"deploy.sh","RuleID":"aws-access-token","Fingerprint":"deploy.sh:aws-access-token:3"}]"#;
//! let parser = detect(report).expect("a Gitleaks report");
//! assert_eq!(parser.info().id, "gitleaks-json");
//!
//! let parsed = parse_bytes(parser, "gitleaks.json", report).unwrap();
//! assert_eq!(parsed.findings.len(), 1);
//! assert!(!serde_json::to_string(&parsed.findings).unwrap().contains("EXAMPLE"));
//! ```

mod error;
mod formats;
mod registry;
mod sink;
pub mod util;

pub use error::{ParseError, Position};
pub use registry::{DETECTION_HEAD_BYTES, Detection, FormatInfo, Parser, detect, find, registry};
pub use sink::{CollectingSink, ParsedReport, Sink};

use std::io::BufRead;

/// The facts a parser gets about the file it reads.
#[derive(Debug, Clone)]
pub struct ParseContext<'a> {
    /// The path of the file as the user named it, for error messages.
    pub path: &'a str,
    /// The scope target to use where the report names none, and the
    /// identifier of the scanned asset where the report names none (a SARIF
    /// run without repository, a Gitleaks report). The engine sets it from
    /// `--target`, the configuration, or [`default_target`].
    pub default_target: &'a str,
}

/// The scope target of a report that names none: the format id and the
/// file name, such as `gitleaks-json:secrets.json`. Only the file name is
/// used, never its folder, so the same report copied to a temporary folder
/// keeps its target.
pub fn default_target(format_id: &str, path: &str) -> String {
    let file_name = std::path::Path::new(path)
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string());
    format!("{format_id}:{file_name}")
}

/// Parses a whole report from a reader into memory, with the
/// [`default_target`] of the file.
pub fn parse_reader(parser: &dyn Parser, path: &str, reader: &mut dyn BufRead) -> Result<ParsedReport, ParseError> {
    let mut sink = CollectingSink::default();
    let default_target = default_target(parser.info().id, path);
    let context = ParseContext {
        path,
        default_target: &default_target,
    };
    parser.parse(&context, reader, &mut sink)?;
    Ok(sink.into_report())
}

/// Parses a whole report from bytes into memory.
pub fn parse_bytes(parser: &dyn Parser, path: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    let mut reader = bytes;
    parse_reader(parser, path, &mut reader)
}
