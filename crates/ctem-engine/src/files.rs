//! Finding the report files of an assessment and reading them.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use ctem_ingest::{CollectingSink, DETECTION_HEAD_BYTES, ParseContext, ParseError, ParsedReport, Parser};
use sha2::{Digest, Sha256};

/// A file found under the paths of an assessment.
#[derive(Debug, Clone)]
pub struct InputFile {
    pub path: PathBuf,
    /// Whether the user named the file itself rather than a folder holding it.
    pub named: bool,
}

/// Lists the files under the given paths: named files as they are, folders
/// recursively in a stable (sorted) order. Hidden files and folders
/// (starting with `.`) and the paths in `exclude` are left out.
pub fn collect_files(paths: &[PathBuf], exclude: &BTreeSet<PathBuf>) -> Result<Vec<InputFile>, String> {
    let mut files = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path).map_err(|error| format!("{}: {error}", path.display()))?;
        if metadata.is_file() {
            files.push(InputFile {
                path: path.clone(),
                named: true,
            });
            continue;
        }
        // Links are followed, because "latest.json -> a dated report" is a
        // common layout; walkdir reports a link loop as an error.
        let walker = walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| entry.depth() == 0 || !entry.file_name().to_string_lossy().starts_with('.'));
        for entry in walker {
            let entry = entry.map_err(|error| format!("{}: {error}", path.display()))?;
            if !entry.file_type().is_file() {
                continue;
            }
            let canonical = entry
                .path()
                .canonicalize()
                .unwrap_or_else(|_| entry.path().to_path_buf());
            if exclude.contains(&canonical) {
                continue;
            }
            files.push(InputFile {
                path: entry.into_path(),
                named: false,
            });
        }
    }
    Ok(files)
}

/// A reader that computes the SHA-256 of everything read through it.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let count = self.inner.read(buffer)?;
        self.hasher.update(&buffer[..count]);
        Ok(count)
    }
}

/// The start of a file, for format detection.
pub fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let mut head = Vec::with_capacity(DETECTION_HEAD_BYTES);
    file.take(DETECTION_HEAD_BYTES as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Parses one file, returning its records and the SHA-256 of its bytes.
pub fn parse_file(
    parser: &dyn Parser,
    path: &Path,
    default_target: &str,
) -> Result<(ParsedReport, String), ParseError> {
    let display = path.display().to_string();
    let format = parser.info().id;
    let file = std::fs::File::open(path)
        .map_err(|error| ParseError::new(&display, format, None, format!("cannot open: {error}")))?;
    let mut reader = BufReader::with_capacity(
        256 * 1024,
        HashingReader {
            inner: file,
            hasher: Sha256::new(),
        },
    );

    let mut sink = CollectingSink::default();
    let context = ParseContext {
        path: &display,
        default_target,
    };
    parser.parse(&context, &mut reader, &mut sink)?;

    // Hash what the parser left unread (trailing whitespace, a tail it
    // did not need) so the digest covers the whole file.
    let mut hashing = reader;
    loop {
        let buffered = hashing
            .fill_buf()
            .map_err(|error| ParseError::new(&display, format, None, format!("read failed: {error}")))?;
        if buffered.is_empty() {
            break;
        }
        let count = buffered.len();
        hashing.consume(count);
    }
    let digest = hashing.into_inner().hasher.finalize();
    Ok((sink.into_report(), hex::encode(digest)))
}
