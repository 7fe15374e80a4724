//! Finding the report files of an assessment and reading them.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use ctem_ingest::{CollectingSink, DETECTION_HEAD_BYTES, ParseContext, ParseError, ParsedReport, Parser};
use sha2::{Digest, Sha256};

/// An error of [`read_text`].
#[derive(Debug, thiserror::Error)]
pub enum ReadTextError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("the file has more than {max} bytes; it may have at most {max}")]
    TooLarge { max: u64 },
    /// The position of the first byte that is not UTF-8, counted from 1,
    /// with the column in characters.
    #[error("line {line}, column {column}: invalid UTF-8; save the file as UTF-8")]
    NotUtf8 { line: usize, column: usize },
}

/// Returns the line and the column, both counted from 1 and the column in
/// characters, of the byte `offset` of `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |last| last.chars().count()) + 1;
    (line, column)
}

/// Reads a UTF-8 text file of at most `max_bytes` bytes. Reading stops
/// after the limit, so a device or a pipe that never ends (`/dev/zero`)
/// cannot exhaust memory.
pub fn read_text(path: &Path, max_bytes: u64) -> Result<String, ReadTextError> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(ReadTextError::TooLarge { max: max_bytes });
    }
    String::from_utf8(bytes).map_err(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&byte| byte == b'\n').count() + 1;
        let line_start = valid
            .iter()
            .rposition(|&byte| byte == b'\n')
            .map_or(0, |index| index + 1);
        // The bytes before the invalid one are valid UTF-8.
        let column = std::str::from_utf8(&valid[line_start..]).map_or(0, |text| text.chars().count()) + 1;
        ReadTextError::NotUtf8 { line, column }
    })
}

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

    ctem_ingest::util::skip_byte_order_mark(&mut reader)
        .map_err(|error| ParseError::new(&display, format, None, format!("read failed: {error}")))?;
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
