//! Reading JSON intelligence records within limits, and walking them with
//! the JSON path at hand for error messages.
//!
//! CVE JSON 5 records and NVD API responses are read into a
//! [`serde_json::Value`] and then walked field by field. A record is small
//! (under 1 MB), and the walk lets every error name the JSON path of the
//! bad value (`containers.adp[0].metrics[2].cvssV3_1.vectorString`), which
//! typed deserialization cannot. Nesting is bounded by serde_json's
//! recursion limit of 128 levels, so a hostile file cannot overflow the stack.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;

use crate::error::{IntelError, shorten};

/// Opens a file for a loader, returning its path as errors print it.
pub(crate) fn open(path: &Path) -> Result<(String, File), IntelError> {
    let display = path.display().to_string();
    match File::open(path) {
        Ok(file) => Ok((display, file)),
        Err(source) => Err(IntelError::Io { path: display, source }),
    }
}

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

/// Parses JSON text. `expected` names the format in messages (`a CVE JSON 5 record`).
pub(crate) fn parse(path: &str, bytes: &[u8], expected: &str) -> Result<Value, IntelError> {
    serde_json::from_slice(bytes).map_err(|error| {
        // serde_json appends " at line L column C"; the error variant prints the position itself.
        let text = error.to_string();
        let bare = text.rfind(" at line ").map_or(text.as_str(), |cut| &text[..cut]);
        let message = match error.classify() {
            serde_json::error::Category::Eof => {
                format!("the JSON ends early, so the file is truncated; expected {expected}")
            }
            serde_json::error::Category::Syntax => format!("invalid JSON: {bare}"),
            serde_json::error::Category::Data => format!("unexpected value for {expected}: {bare}"),
            serde_json::error::Category::Io => format!("read failed: {bare}"),
        };
        IntelError::Json {
            path: path.to_string(),
            line: error.line(),
            column: error.column(),
            message,
        }
    })
}

/// A value inside a JSON document with its path from the root.
#[derive(Debug, Clone)]
pub(crate) struct Node<'a> {
    file: &'a str,
    value: &'a Value,
    location: String,
}

impl<'a> Node<'a> {
    /// Creates the node of the top-level value of the file `file`.
    pub fn root(file: &'a str, value: &'a Value) -> Node<'a> {
        Node {
            file,
            value,
            location: String::new(),
        }
    }

    /// Returns the file this value was read from, as errors name it.
    pub fn file(&self) -> &'a str {
        self.file
    }

    /// Returns the JSON path of this value, such as `containers.cna.metrics[0]`.
    pub fn location(&self) -> &str {
        if self.location.is_empty() {
            "top level"
        } else {
            &self.location
        }
    }

    /// Creates an [`IntelError::Invalid`] at this value.
    pub fn invalid(&self, reason: impl Into<String>) -> IntelError {
        IntelError::Invalid {
            path: self.file.to_string(),
            location: self.location().to_string(),
            reason: reason.into(),
        }
    }

    /// Returns the member `key` of this object, or `None` when it is absent
    /// or `null`. A value that is no object has no members.
    pub fn field(&self, key: &str) -> Option<Node<'a>> {
        match self.value.get(key) {
            None | Some(Value::Null) => None,
            Some(value) => Some(Node {
                file: self.file,
                value,
                location: if self.location.is_empty() {
                    key.to_string()
                } else {
                    format!("{}.{key}", self.location)
                },
            }),
        }
    }

    /// Returns the member `key`, which the format requires.
    pub fn required(&self, key: &str) -> Result<Node<'a>, IntelError> {
        self.field(key)
            .ok_or_else(|| self.invalid(format!("missing required field {key}")))
    }

    /// Checks that this value is a JSON object.
    pub fn expect_object(&self) -> Result<&'a serde_json::Map<String, Value>, IntelError> {
        self.value.as_object().ok_or_else(|| self.wrong_type("an object"))
    }

    /// Returns the members of this object, in the order of the file.
    pub fn entries(&self) -> Result<Vec<(&'a str, Node<'a>)>, IntelError> {
        let object = self.expect_object()?;
        Ok(object
            .iter()
            .map(|(key, value)| {
                let node = Node {
                    file: self.file,
                    value,
                    location: format!("{}.{key}", self.location()),
                };
                (key.as_str(), node)
            })
            .collect())
    }

    /// Returns the items of this array.
    pub fn items(&self) -> Result<Vec<Node<'a>>, IntelError> {
        let array = self.value.as_array().ok_or_else(|| self.wrong_type("an array"))?;
        Ok(array
            .iter()
            .enumerate()
            .map(|(index, value)| Node {
                file: self.file,
                value,
                location: format!("{}[{index}]", self.location),
            })
            .collect())
    }

    /// Returns the items of the array `key`, or none when the member is absent.
    pub fn items_of(&self, key: &str) -> Result<Vec<Node<'a>>, IntelError> {
        match self.field(key) {
            Some(node) => node.items(),
            None => Ok(Vec::new()),
        }
    }

    pub fn as_str(&self) -> Result<&'a str, IntelError> {
        self.value.as_str().ok_or_else(|| self.wrong_type("a string"))
    }

    pub fn as_bool(&self) -> Result<bool, IntelError> {
        self.value.as_bool().ok_or_else(|| self.wrong_type("true or false"))
    }

    pub fn as_f64(&self) -> Result<f64, IntelError> {
        self.value.as_f64().ok_or_else(|| self.wrong_type("a number"))
    }

    /// Returns the string member `key`, or `None` when it is absent.
    pub fn str_of(&self, key: &str) -> Result<Option<&'a str>, IntelError> {
        self.field(key).map(|node| node.as_str()).transpose()
    }

    /// Returns the string member `key` as an owned string, or `None` when it is absent.
    pub fn string_of(&self, key: &str) -> Result<Option<String>, IntelError> {
        Ok(self.str_of(key)?.map(str::to_string))
    }

    /// Returns the string member `key`, which the format requires.
    pub fn required_str(&self, key: &str) -> Result<&'a str, IntelError> {
        self.required(key)?.as_str()
    }

    /// Parses the date-time member `key` (see [`parse_timestamp`]), or returns `None` when it is absent.
    pub fn timestamp_of(&self, key: &str) -> Result<Option<DateTime<Utc>>, IntelError> {
        let Some(node) = self.field(key) else {
            return Ok(None);
        };
        let text = node.as_str()?;
        let time = parse_timestamp(text).ok_or_else(|| {
            node.invalid(format!(
                "invalid date-time {:?}: expected ISO 8601 such as 2024-09-13T18:13:18.030Z",
                shorten(text)
            ))
        })?;
        Ok(Some(time))
    }

    /// Returns the strings of the array member `key`.
    pub fn strings_of(&self, key: &str) -> Result<Vec<String>, IntelError> {
        self.items_of(key)?
            .iter()
            .map(|item| item.as_str().map(str::to_string))
            .collect()
    }

    fn wrong_type(&self, expected: &str) -> IntelError {
        let found = match self.value {
            Value::Null => "null".to_string(),
            Value::Bool(value) => format!("{value}"),
            Value::Number(number) => format!("the number {number}"),
            Value::String(text) => format!("the string {:?}", shorten(text)),
            Value::Array(_) => "an array".to_string(),
            Value::Object(_) => "an object".to_string(),
        };
        self.invalid(format!("expected {expected}, found {found}"))
    }
}

/// Parses the date-times of CVE records and NVD. Accepted forms are RFC 3339
/// (`2024-09-13T18:13:18.030Z`, `2023-04-11T00:00:00+00:00`) and an offset
/// without a colon (`+0000`). A date-time without offset, as NVD writes
/// them (`2019-07-22T18:15:10.917`), is read as UTC, and a bare date as midnight UTC.
pub(crate) fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    if let Ok(time) = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(time.with_timezone(&Utc));
    }
    if let Ok(time) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(time.and_utc());
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
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
    fn timestamp_forms() {
        let cases = [
            ("2024-09-13T18:13:18.030Z", "2024-09-13T18:13:18.030+00:00"),
            ("2023-04-11T00:00:00+00:00", "2023-04-11T00:00:00+00:00"),
            ("2023-08-16T00:00:00.000+02:00", "2023-08-15T22:00:00+00:00"),
            ("2025-03-14T00:00:00+0000", "2025-03-14T00:00:00+00:00"),
            ("2019-07-22T18:15:10.917", "2019-07-22T18:15:10.917+00:00"),
            ("2019-07-22T18:15:10", "2019-07-22T18:15:10+00:00"),
            ("2023-10-05", "2023-10-05T00:00:00+00:00"),
        ];
        for (text, expected) in cases {
            let time = parse_timestamp(text).unwrap_or_else(|| panic!("{text} parses"));
            assert_eq!(time.to_rfc3339(), expected, "{text}");
        }
        for bad in ["", "yesterday", "2023-13-01", "13/09/2024"] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn node_paths_and_types() {
        let value: Value = serde_json::json!({"a": {"b": [1, "x", null]}});
        let root = Node::root("f.json", &value);
        let items = root.required("a").unwrap().items_of("b").unwrap();
        assert_eq!(items[1].location(), "a.b[1]");
        assert_eq!(items[1].as_str().unwrap(), "x");

        let error = items[0].as_str().unwrap_err().to_string();
        assert_eq!(error, "f.json: a.b[0]: expected a string, found the number 1");
        let missing = root.required("z").unwrap_err().to_string();
        assert_eq!(missing, "f.json: top level: missing required field z");
        assert!(root.field("a").unwrap().field("c").is_none());
    }
}

#[cfg(test)]
mod bounds_tests {
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
