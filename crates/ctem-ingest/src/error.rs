use std::fmt;

/// A place in a file where a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// A line and column, both counted from 1 (JSON, CSV, text formats).
    LineColumn { line: u64, column: u64 },
    /// A byte offset from the start of the file (XML readers report these).
    Byte(u64),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::LineColumn { line, column } => write!(f, "line {line}, column {column}"),
            Position::Byte(offset) => write!(f, "byte {offset}"),
        }
    }
}

/// A report that could not be read: the file, the format, where, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {}{message}", position.map(|p| format!("{p}: ")).unwrap_or_default())]
pub struct ParseError {
    pub path: String,
    /// The format id of the parser that rejected the file.
    pub format: String,
    pub position: Option<Position>,
    /// What is wrong, and where possible what to do about it.
    pub message: String,
}

impl ParseError {
    pub fn new(path: &str, format: &str, position: Option<Position>, message: impl Into<String>) -> ParseError {
        ParseError {
            path: path.to_string(),
            format: format.to_string(),
            position,
            message: message.into(),
        }
    }

    /// Wraps a serde_json error, keeping its line and column.
    pub fn from_json(path: &str, format: &str, error: &serde_json::Error) -> ParseError {
        let position = (error.line() > 0).then(|| Position::LineColumn {
            line: error.line() as u64,
            column: error.column() as u64,
        });
        let message = match error.classify() {
            serde_json::error::Category::Eof => format!("the file ends too early, it may be truncated ({error})"),
            serde_json::error::Category::Io => format!("read failed: {error}"),
            _ => format!("invalid {format} report: {error}"),
        };
        // serde_json appends " at line L column C"; the position already gives it.
        let message = match message.rfind(" at line ") {
            Some(index) if position.is_some() => {
                let mut trimmed = message[..index].to_string();
                if message.ends_with(')') {
                    trimmed.push(')');
                }
                trimmed
            }
            _ => message,
        };
        ParseError::new(path, format, position, message)
    }

    /// Wraps a quick-xml error, at the reader's byte offset.
    pub fn from_xml(path: &str, format: &str, offset: u64, error: &quick_xml::Error) -> ParseError {
        let message = match error {
            quick_xml::Error::Syntax(_) | quick_xml::Error::IllFormed(_) => {
                format!("invalid XML, the file may be truncated or corrupt: {error}")
            }
            _ => format!("invalid XML: {error}"),
        };
        ParseError::new(path, format, Some(Position::Byte(offset)), message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_path_and_position() {
        let error = ParseError::new(
            "scans/a.json",
            "trivy-json",
            Some(Position::LineColumn { line: 3, column: 7 }),
            "expected a string",
        );
        assert_eq!(error.to_string(), "scans/a.json: line 3, column 7: expected a string");
    }

    #[test]
    fn json_truncation_is_named() {
        let error = serde_json::from_str::<serde_json::Value>("{\"a\": [1, 2").unwrap_err();
        let parse_error = ParseError::from_json("x.json", "sarif", &error);
        assert!(parse_error.message.contains("truncated"), "{}", parse_error.message);
        assert_eq!(parse_error.position, Some(Position::LineColumn { line: 1, column: 11 }));
    }
}
