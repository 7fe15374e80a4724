//! Bounded reading of JSON intelligence files: a size limit, a nesting
//! limit checked before parsing, and serde errors turned into [`IntelError`].

use std::io::Read;

use crate::error::IntelError;

/// Reads at most `limit` bytes, failing instead of truncating silently.
pub(crate) fn read_limited(
    path: &str,
    reader: impl Read,
    limit: u64,
    kind: &'static str,
) -> Result<Vec<u8>, IntelError> {
    let mut bytes = Vec::new();
    reader
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| IntelError::Io {
            path: path.to_string(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(IntelError::TooLarge {
            path: path.to_string(),
            kind,
            limit,
        });
    }
    Ok(bytes)
}

/// Rejects JSON whose arrays and objects nest deeper than `max_depth`.
///
/// The scan runs before serde so that a hostile file of a million `[`
/// fails fast with its position, whatever the parser's own recursion limit.
/// Brackets inside strings are skipped, escapes included.
pub(crate) fn check_depth(path: &str, bytes: &[u8], max_depth: usize, format: &str) -> Result<(), IntelError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut line = 1usize;
    let mut line_start = 0usize;

    for (offset, &byte) in bytes.iter().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'\n' => {
                line += 1;
                line_start = offset + 1;
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > max_depth {
                    return Err(IntelError::Json {
                        path: path.to_string(),
                        line,
                        column: offset - line_start + 1,
                        message: format!(
                            "JSON nested deeper than {max_depth} levels; {format} documents are much flatter, so the file is corrupt or hostile"
                        ),
                    });
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Turns a serde_json error into [`IntelError::Json`] with the position and
/// a hint that fits `format` (such as "STIX bundle").
pub(crate) fn json_error(path: &str, error: &serde_json::Error, format: &str) -> IntelError {
    // serde_json appends " at line L column C"; the error variant prints the position itself.
    let text = error.to_string();
    let bare = text.rfind(" at line ").map_or(text.as_str(), |cut| &text[..cut]);
    let message = match error.classify() {
        serde_json::error::Category::Eof => format!("the JSON ends early, so the {format} is truncated"),
        serde_json::error::Category::Syntax => format!("invalid JSON: {bare}"),
        serde_json::error::Category::Data => format!("unexpected value in the {format}: {bare}"),
        serde_json::error::Category::Io => format!("read failed: {bare}"),
    };
    IntelError::Json {
        path: path.to_string(),
        line: error.line(),
        column: error.column(),
        message,
    }
}

/// Names the JSON type of a value for error messages.
pub(crate) fn type_name(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_within_limit_passes() {
        assert!(check_depth("a.json", br#"{"a": [[{"b": 1}]]}"#, 4, "test").is_ok());
    }

    #[test]
    fn depth_over_limit_names_position() {
        let error = check_depth("a.json", b"{\n  \"a\": [[[1]]]}", 3, "test").unwrap_err();
        let IntelError::Json { line, column, .. } = error else {
            panic!("expected a JSON error, got {error}");
        };
        assert_eq!((line, column), (2, 10));
    }

    #[test]
    fn depth_ignores_brackets_in_strings() {
        assert!(check_depth("a.json", br#"{"a": "[[[[\"[[[["}"#, 1, "test").is_ok());
    }

    #[test]
    fn read_limited_rejects_oversized() {
        let error = read_limited("big", std::io::repeat(b'x').take(11), 10, "test").unwrap_err();
        assert!(matches!(error, IntelError::TooLarge { limit: 10, .. }), "{error}");
    }
}
