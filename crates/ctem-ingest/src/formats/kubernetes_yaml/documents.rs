//! Reading a multi-document YAML stream one document at a time, with
//! limits on what a hostile document can cost.

use std::cell::Cell;
use std::fmt;
use std::io::BufRead;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// The largest YAML document read, in bytes. The API server stores
/// objects of at most about 1.5 MiB, so a larger manifest is no object a
/// cluster would accept.
pub(super) const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// The maximum number of nodes (scalars, sequences and mappings) that one
/// document may expand to. Aliases make a small document expand to many nodes: the YAML
/// reader stops exponential expansion, and this budget stops the quadratic
/// one (one large anchor named by many aliases).
pub(super) const MAX_NODES: usize = 500_000;

/// One YAML document of a stream, as text, with the line it starts on.
#[derive(Debug)]
pub(super) struct Document {
    /// The line of the file where the document's text starts, from 1.
    pub first_line: u64,
    pub text: String,
}

/// A document that could not be read, with its line in the file.
#[derive(Debug)]
pub(super) struct DocumentError {
    pub line: u64,
    pub column: u64,
    pub message: String,
}

/// Splits a YAML stream into documents at the `---` and `...` markers.
///
/// A marker in column 0 always ends a document: the YAML specification
/// forbids such a line inside any scalar (the `c-forbidden` production),
/// so the split never cuts a block scalar. Only one document is in memory
/// at a time.
pub(super) struct Documents<'r> {
    reader: &'r mut dyn BufRead,
    line: u64,
    /// Text after a `---` marker on the marker's own line (`--- {a: 1}`).
    carried: Option<String>,
    done: bool,
}

impl<'r> Documents<'r> {
    pub(super) fn new(reader: &'r mut dyn BufRead) -> Self {
        Documents {
            reader,
            line: 0,
            carried: None,
            done: false,
        }
    }

    /// Reads the next document that has content, or `None` at the end.
    pub(super) fn next_document(&mut self) -> Result<Option<Document>, DocumentError> {
        while !self.done {
            let document = self.read_one()?;
            if has_content(&document.text) {
                return Ok(Some(document));
            }
        }
        Ok(None)
    }

    fn read_one(&mut self) -> Result<Document, DocumentError> {
        let mut text = String::new();
        let mut first_line = self.line + 1;
        if let Some(carried) = self.carried.take() {
            first_line = self.line;
            text.push_str(&carried);
        }
        let mut bytes = Vec::new();
        loop {
            bytes.clear();
            let read = self
                .reader
                .read_until(b'\n', &mut bytes)
                .map_err(|error| DocumentError {
                    line: self.line + 1,
                    column: 1,
                    message: format!("read failed: {error}"),
                })?;
            if read == 0 {
                self.done = true;
                return Ok(Document { first_line, text });
            }
            self.line += 1;
            if self.line == 1 && bytes.starts_with(b"\xef\xbb\xbf") {
                bytes.drain(..3);
            }
            let line = std::str::from_utf8(&bytes).map_err(|error| DocumentError {
                line: self.line,
                column: error.valid_up_to() as u64 + 1,
                message: "invalid UTF-8: a Kubernetes manifest must be UTF-8 text".to_string(),
            })?;

            match marker(line) {
                // Directives (`%YAML 1.2`) and comments before a document's
                // first content belong to that document, not a new one.
                Some(Marker::Start(rest)) if !has_content(&text) => {
                    text.push_str(&" ".repeat(3));
                    text.push_str(rest);
                    first_line = first_line.min(self.line);
                }
                Some(Marker::Start(rest)) => {
                    self.carried = Some(format!("   {rest}"));
                    return Ok(Document { first_line, text });
                }
                Some(Marker::End) => return Ok(Document { first_line, text }),
                None => text.push_str(line),
            }
            if text.len() > MAX_DOCUMENT_BYTES {
                return Err(DocumentError {
                    line: first_line,
                    column: 1,
                    message: format!(
                        "the YAML document starting here is larger than {} MiB; a Kubernetes object is at most \
                         about 1.5 MiB, so this is no manifest ctem reads",
                        MAX_DOCUMENT_BYTES / (1024 * 1024)
                    ),
                });
            }
        }
    }
}

enum Marker<'a> {
    /// `---`, with the text after it on the same line.
    Start(&'a str),
    /// `...`
    End,
}

fn marker(line: &str) -> Option<Marker<'_>> {
    let ends_marker = |rest: &str| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']);
    if let Some(rest) = line.strip_prefix("---")
        && ends_marker(rest)
    {
        return Some(Marker::Start(rest));
    }
    if let Some(rest) = line.strip_prefix("...")
        && ends_marker(rest)
    {
        return Some(Marker::End);
    }
    None
}

/// Returns whether a document has any line other than blanks, comments and
/// directives.
fn has_content(text: &str) -> bool {
    text.lines().any(|line| {
        let trimmed = line.trim();
        !trimmed.is_empty() && !trimmed.starts_with('#') && !line.starts_with('%')
    })
}

/// Reads one document into a JSON value, counting nodes against
/// [`MAX_NODES`]. The error names the line and column in the file.
pub(super) fn parse(document: &Document) -> Result<Value, DocumentError> {
    let nodes = Cell::new(0);
    let deserializer = yaml_serde::Deserializer::from_str(&document.text);
    BudgetedValue { nodes: &nodes }
        .deserialize(deserializer)
        .map_err(|error| {
            let (line, column) = error
                .location()
                .map(|location| (location.line() as u64, location.column() as u64))
                .unwrap_or((1, 1));
            DocumentError {
                line: document.first_line + line.saturating_sub(1),
                column,
                message: yaml_message(&error.to_string()),
            }
        })
}

/// Removes the position that the YAML reader appends to its message,
/// because it is relative to the document; the caller gives the position
/// in the file.
fn yaml_message(message: &str) -> String {
    let message = match message.find(" at line ") {
        Some(index) => &message[..index],
        None => message,
    };
    format!("invalid YAML: {message}")
}

/// A seed that builds a JSON value and fails once the document has more
/// than [`MAX_NODES`] nodes.
#[derive(Clone, Copy)]
pub(super) struct BudgetedValue<'n> {
    pub nodes: &'n Cell<usize>,
}

impl BudgetedValue<'_> {
    fn count<E: de::Error>(&self) -> Result<(), E> {
        let nodes = self.nodes.get() + 1;
        self.nodes.set(nodes);
        if nodes > MAX_NODES {
            return Err(E::custom(format!(
                "the document expands to more than {MAX_NODES} nodes, which only YAML aliases that repeat a large \
                 anchor produce; rejected as hostile"
            )));
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for BudgetedValue<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for BudgetedValue<'_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a YAML value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        self.count()?;
        Ok(Value::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        self.count()?;
        Ok(Value::from(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        self.count()?;
        Ok(Value::from(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        self.count()?;
        Ok(serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        self.count()?;
        Ok(Value::String(value.to_string()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Value, E> {
        self.count()?;
        Ok(Value::String(value))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.count()?;
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.count()?;
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.count()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.count()?;
        let mut object = Map::new();
        while let Some(key) = map.next_key_seed(self)? {
            let key = match key {
                Value::String(text) => text,
                // YAML allows numbers and booleans as keys (`80: http`).
                other => other.to_string(),
            };
            let value = map.next_value_seed(self)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<(u64, String)> {
        let mut reader = text.as_bytes();
        let mut documents = Documents::new(&mut reader);
        let mut found = Vec::new();
        while let Some(document) = documents.next_document().unwrap() {
            found.push((document.first_line, document.text));
        }
        found
    }

    #[test]
    fn markers_split_documents() {
        let found = split("a: 1\n---\nb: 2\n--- # note\nc: 3\n...\n---\n");
        assert_eq!(found.len(), 3);
        assert_eq!(found[0], (1, "a: 1\n".to_string()));
        assert_eq!(
            found[1].0, 2,
            "the marker's line is the first line of the document's text"
        );
        assert_eq!(found[2].0, 4);
    }

    #[test]
    fn directives_stay_with_document() {
        let found = split("%YAML 1.2\n---\nkind: Pod\n");
        assert_eq!(found.len(), 1);
        assert!(found[0].1.contains("kind: Pod"));
    }

    #[test]
    fn indented_dashes_are_content() {
        let found = split("data: |\n  ---\n  text\n");
        assert_eq!(found.len(), 1);
    }

    #[test]
    fn positions_are_file_lines() {
        let mut reader = "a: 1\n---\nb:\n\tc: 2\n".as_bytes();
        let mut documents = Documents::new(&mut reader);
        parse(&documents.next_document().unwrap().unwrap()).unwrap();
        let error = parse(&documents.next_document().unwrap().unwrap()).unwrap_err();
        assert_eq!(error.line, 4);
        assert!(error.message.starts_with("invalid YAML: "), "{}", error.message);
        assert!(!error.message.contains(" at line "), "{}", error.message);
    }

    #[test]
    fn quadratic_aliases_hit_budget() {
        let anchor: Vec<String> = (0..2000).map(|i| i.to_string()).collect();
        let mut text = format!("a: &a [{}]\nb: [", anchor.join(","));
        text.push_str(&vec!["*a"; 1000].join(","));
        text.push_str("]\n");
        let document = Document { first_line: 1, text };
        let error = parse(&document).unwrap_err();
        assert!(error.message.contains("more than 500000 nodes"), "{}", error.message);
    }
}
