//! An XML pull reader that hands each element to a visitor with the path
//! of open elements and, where the visitor requests it, the element's text.
//!
//! The walk resolves the predefined entities and character references
//! (quick-xml 0.38 reports them as separate `GeneralRef` events) and never
//! expands the entities that a DOCTYPE declares, never fetches an external
//! DTD, keeps at most [`FIELD_BYTES`](super::FIELD_BYTES) of one element's
//! text, and rejects documents nested deeper than [`MAX_DEPTH`].

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::BoundedText;
use crate::{ParseContext, ParseError, Position, util};

/// The deepest nesting of elements accepted. Scanner reports nest about ten
/// levels deep; far deeper documents are hostile.
pub(crate) const MAX_DEPTH: usize = 256;

/// The receiver of a walk's elements.
pub(crate) trait XmlVisitor {
    /// Checks the root element; an error message rejects the file.
    fn root(&mut self, element: &BytesStart<'_>) -> Result<(), String>;

    /// An element starts. `path` contains the names of the open elements, this
    /// one last. Returns whether to keep the element's own text for
    /// [`XmlVisitor::close`].
    fn open(&mut self, path: &[String], element: &BytesStart<'_>) -> Result<bool, String>;

    /// Receives the end of an element, with the path as at its start and its
    /// text when [`XmlVisitor::open`] requested it.
    fn close(&mut self, path: &[String], text: Option<BoundedText>) -> Result<(), String>;
}

/// Walks a whole document. `expected` describes the format for the error of
/// a file without elements (`an OpenVAS report with a <report> root element`).
pub(crate) fn walk(
    context: &ParseContext<'_>,
    format: &str,
    expected: &str,
    reader: &mut dyn BufRead,
    visitor: &mut dyn XmlVisitor,
) -> Result<(), ParseError> {
    let mut reader = Reader::from_reader(reader);
    let mut buffer = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut texts: Vec<Option<BoundedText>> = Vec::new();
    let mut root_seen = false;

    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event_into(&mut buffer)
            .map_err(|error| ParseError::from_xml(context.path, format, reader.error_position(), &error))?;
        let fail = |message: String| ParseError::new(context.path, format, Some(Position::Byte(position)), message);
        match event {
            Event::Start(_) | Event::Empty(_) if path.len() >= MAX_DEPTH => {
                return Err(fail(format!(
                    "elements are nested more than {MAX_DEPTH} levels deep, far deeper than a {format} report"
                )));
            }
            Event::Start(element) => {
                if !root_seen {
                    visitor.root(&element).map_err(fail)?;
                    root_seen = true;
                }
                path.push(String::from_utf8_lossy(element.name().as_ref()).into_owned());
                let keep = visitor.open(&path, &element).map_err(fail)?;
                texts.push(keep.then(BoundedText::default));
            }
            Event::Empty(element) => {
                if !root_seen {
                    visitor.root(&element).map_err(fail)?;
                    root_seen = true;
                }
                path.push(String::from_utf8_lossy(element.name().as_ref()).into_owned());
                let keep = visitor.open(&path, &element).map_err(fail)?;
                visitor.close(&path, keep.then(BoundedText::default)).map_err(fail)?;
                path.pop();
            }
            Event::End(_) => {
                let text = texts.pop().flatten();
                visitor.close(&path, text).map_err(fail)?;
                path.pop();
            }
            Event::Text(text) => {
                if let Some(Some(field)) = texts.last_mut() {
                    let text = text.decode().map_err(|error| fail(format!("invalid text: {error}")))?;
                    field.push(&text);
                }
            }
            Event::CData(data) => {
                if let Some(Some(field)) = texts.last_mut() {
                    let data = data.decode().map_err(|error| fail(format!("invalid CDATA: {error}")))?;
                    field.push(&data);
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(Some(field)) = texts.last_mut() {
                    let name = reference
                        .decode()
                        .map_err(|error| fail(format!("invalid reference: {error}")))?;
                    field.push(&util::xml_reference(&name));
                }
            }
            // A DTD is never read, so the entities it declares stay
            // unexpanded references, and an external DTD is never fetched.
            Event::DocType(_) | Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
        buffer.clear();
    }

    let end = reader.buffer_position();
    let at_end = |message: String| ParseError::new(context.path, format, Some(Position::Byte(end)), message);
    if !root_seen {
        return Err(at_end(format!("no XML element found: expected {expected}")));
    }
    if let Some(open) = path.last() {
        return Err(at_end(format!(
            "the file ends inside the element <{open}>, it may be truncated"
        )));
    }
    Ok(())
}

/// Returns whether `path` ends with the element names of `suffix`.
pub(crate) fn ends_with(path: &[String], suffix: &[&str]) -> bool {
    path.len() >= suffix.len()
        && path[path.len() - suffix.len()..]
            .iter()
            .zip(suffix)
            .all(|(name, expected)| name == expected)
}

/// Joins the path below the element at `depth` (its index in `path`), joined with
/// `/`, such as `nvt/name`; empty for the element itself.
pub(crate) fn below(path: &[String], depth: usize) -> String {
    path.get(depth + 1..).map(|names| names.join("/")).unwrap_or_default()
}

/// Returns the name of the root element at the start of a document, or
/// `None` when the start contains none that can be read.
pub(crate) fn root_name(head: &[u8]) -> Option<String> {
    let mut reader = Reader::from_reader(head);
    let mut buffer = Vec::new();
    loop {
        match reader.read_event_into(&mut buffer).ok()? {
            Event::Start(element) | Event::Empty(element) => {
                return Some(String::from_utf8_lossy(element.name().as_ref()).into_owned());
            }
            Event::Eof => return None,
            // A byte order mark is the only text allowed before the root.
            Event::Text(text) if !text.iter().all(u8::is_ascii_whitespace) && text.as_ref() != b"\xef\xbb\xbf" => {
                return None;
            }
            _ => {}
        }
        buffer.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records every closed element as `path=text`.
    #[derive(Default)]
    struct Recorder {
        closed: Vec<String>,
    }

    impl XmlVisitor for Recorder {
        fn root(&mut self, element: &BytesStart<'_>) -> Result<(), String> {
            match element.name().as_ref() {
                b"doc" => Ok(()),
                other => Err(format!("unexpected <{}>", String::from_utf8_lossy(other))),
            }
        }

        fn open(&mut self, _path: &[String], _element: &BytesStart<'_>) -> Result<bool, String> {
            Ok(true)
        }

        fn close(&mut self, path: &[String], text: Option<BoundedText>) -> Result<(), String> {
            let text = text.map(|t| t.text).unwrap_or_default();
            self.closed.push(format!("{}={}", path.join("/"), text.trim()));
            Ok(())
        }
    }

    fn run(document: &str) -> Result<Vec<String>, ParseError> {
        let context = ParseContext {
            path: "t.xml",
            default_target: "t",
        };
        let mut recorder = Recorder::default();
        let mut reader = document.as_bytes();
        walk(&context, "test-xml", "a <doc>", &mut reader, &mut recorder)?;
        Ok(recorder.closed)
    }

    #[test]
    fn texts_belong_to_their_element() {
        let closed =
            run("<doc><host>10.0.0.1<asset/><name>a &amp; b</name></host><x><![CDATA[<p>]]></x></doc>").expect("walks");
        assert_eq!(
            closed,
            [
                "doc/host/asset=",
                "doc/host/name=a & b",
                "doc/host=10.0.0.1",
                "doc/x=<p>",
                "doc="
            ]
        );
    }

    #[test]
    fn wrong_root_is_rejected() {
        let error = run("<other/>").unwrap_err();
        assert_eq!(error.message, "unexpected <other>");
        let error = run("").unwrap_err();
        assert_eq!(error.message, "no XML element found: expected a <doc>");
    }

    #[test]
    fn truncation_is_named() {
        let error = run("<doc><host>").unwrap_err();
        assert!(
            error.message.contains("ends inside the element <host>"),
            "{}",
            error.message
        );
    }

    #[test]
    fn deep_nesting_is_rejected() {
        let document = format!("<doc>{}", "<a>".repeat(MAX_DEPTH + 10));
        let error = run(&document).unwrap_err();
        assert!(error.message.contains("nested more than"), "{}", error.message);
    }

    #[test]
    fn root_names_are_found() {
        assert_eq!(
            root_name(b"\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!DOCTYPE A SYSTEM \"a.dtd\">\n<!-- c --><A x=\"1\">"),
            Some("A".to_string())
        );
        assert_eq!(root_name(b"{\"json\": true}"), None);
        assert_eq!(root_name(b"Plugin ID,Name\n"), None);
    }

    #[test]
    fn path_helpers() {
        let path: Vec<String> = ["report", "results", "result", "nvt", "name"]
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(ends_with(&path, &["nvt", "name"]));
        assert!(!ends_with(&path, &["result", "name"]));
        assert_eq!(below(&path, 2), "nvt/name");
        assert_eq!(below(&path, 4), "");
    }
}
