//! The XML event loop that the ZAP XML, Burp XML and Nikto XML parsers
//! share: a quick-xml pull reader whose events go to a [`XmlHandler`],
//! with the root element checked, references resolved without a DTD, one
//! event bounded in size, and truncation reported.

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::dast_shared::{LimitedReader, MAX_RECORD_BYTES, RecordLimit};
use crate::{ParseContext, ParseError, Position, util};

/// The consumer of one document's elements. Depth counts the open
/// ancestors of an element: the root is at depth 0.
pub(crate) trait XmlHandler {
    /// Checks the root element. An error rejects the file with its message.
    fn root(&mut self, element: &BytesStart<'_>) -> Result<(), String>;

    /// Receives a start tag (or an empty element, which is followed by its
    /// [`XmlHandler::end`]).
    fn start(&mut self, element: &BytesStart<'_>, depth: usize) -> Result<(), String>;

    /// Receives an end tag, at the depth of its start tag.
    fn end(&mut self, name: &[u8], depth: usize);

    /// Returns whether text events are wanted now.
    fn capturing(&self) -> bool;

    /// Receives text, CDATA and resolved references of the element being
    /// captured, in pieces.
    fn text(&mut self, text: &str);
}

/// A text field being read, kept up to a size limit and counted beyond it,
/// so that one huge field cannot fill the memory.
#[derive(Debug, Default)]
pub(crate) struct Field {
    /// The element name.
    pub name: String,
    /// The text read, at most the field's limit.
    pub text: String,
    /// The size of the whole text in bytes.
    pub total_bytes: usize,
    /// The depth of the element.
    pub depth: usize,
}

impl Field {
    pub fn new(name: &str, depth: usize) -> Field {
        Field {
            name: name.to_string(),
            depth,
            ..Field::default()
        }
    }

    /// Appends text, keeping at most `max_bytes` in total.
    pub fn push(&mut self, text: &str, max_bytes: usize) {
        self.total_bytes += text.len();
        let room = max_bytes.saturating_sub(self.text.len());
        self.text.push_str(super::dast_shared::truncate_at_char(text, room));
    }
}

/// Returns an element's local name as text.
pub(crate) fn element_name(element: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(element.local_name().as_ref()).into_owned()
}

/// Reads a whole XML document and hands its events to the handler.
///
/// DTDs are never read: a DOCTYPE is skipped, and references to the
/// entities it declares stay as written (see [`util::xml_reference`]), so
/// an entity expansion attack expands nothing.
pub(crate) fn walk(
    context: &ParseContext<'_>,
    format_id: &str,
    expected: &str,
    reader: &mut dyn BufRead,
    handler: &mut dyn XmlHandler,
) -> Result<(), ParseError> {
    walk_limited(context, format_id, expected, reader, handler, MAX_RECORD_BYTES)
}

/// Reads a whole XML document as [`walk`] does, with one event bounded to
/// `max_event_bytes`.
fn walk_limited(
    context: &ParseContext<'_>,
    format_id: &str,
    expected: &str,
    reader: &mut dyn BufRead,
    handler: &mut dyn XmlHandler,
    max_event_bytes: u64,
) -> Result<(), ParseError> {
    let limit = RecordLimit::new(max_event_bytes);
    let mut reader = Reader::from_reader(LimitedReader::new(reader, limit.clone()));
    let mut buffer = Vec::new();
    let mut depth: usize = 0;
    let mut root_seen = false;

    loop {
        limit.reset();
        let position = reader.buffer_position();
        let event = match reader.read_event_into(&mut buffer) {
            Ok(event) => event,
            Err(error) => {
                let offset = reader.error_position().max(position);
                if limit.exceeded() {
                    return Err(ParseError::new(
                        context.path,
                        format_id,
                        Some(Position::Byte(offset)),
                        format!(
                            "one XML element or text is longer than {} MiB; the file is corrupt or not a \
                             scanner report",
                            limit.max_mib()
                        ),
                    ));
                }
                return Err(ParseError::from_xml(context.path, format_id, offset, &error));
            }
        };
        let fail = |message: String| ParseError::new(context.path, format_id, Some(Position::Byte(position)), message);

        match event {
            Event::Start(element) => {
                if !root_seen {
                    handler.root(&element).map_err(fail)?;
                    root_seen = true;
                }
                handler.start(&element, depth).map_err(fail)?;
                depth += 1;
            }
            Event::Empty(element) => {
                if !root_seen {
                    handler.root(&element).map_err(fail)?;
                    root_seen = true;
                }
                handler.start(&element, depth).map_err(fail)?;
                handler.end(element.local_name().as_ref(), depth);
            }
            Event::End(element) => {
                depth = depth.saturating_sub(1);
                handler.end(element.local_name().as_ref(), depth);
            }
            Event::Text(text) => {
                if handler.capturing() {
                    let text = text.decode().map_err(|error| fail(format!("invalid text: {error}")))?;
                    handler.text(&text);
                }
            }
            Event::CData(data) => {
                if handler.capturing() {
                    let data = data.decode().map_err(|error| fail(format!("invalid CDATA: {error}")))?;
                    handler.text(&data);
                }
            }
            Event::GeneralRef(reference) => {
                if handler.capturing() {
                    let name = reference
                        .decode()
                        .map_err(|error| fail(format!("invalid reference: {error}")))?;
                    handler.text(&util::xml_reference(&name));
                }
            }
            Event::DocType(_) | Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
        buffer.clear();
    }

    let end = reader.buffer_position();
    let at_end = |message: String| ParseError::new(context.path, format_id, Some(Position::Byte(end)), message);
    if !root_seen {
        return Err(at_end(format!("no XML element found: expected {expected}")));
    }
    if depth > 0 {
        return Err(at_end(
            "the file ends inside an open element, it may be truncated".to_string(),
        ));
    }
    Ok(())
}

/// Reads the major number of a version such as `2.16.1`. Returns `None`
/// for a missing or non-numeric version (ZAP weekly builds are named
/// `D-2024-01-08`).
pub(crate) fn major_version(version: Option<&str>) -> Option<u32> {
    let version = version.map(str::trim).filter(|v| !v.is_empty())?;
    version.split('.').next().and_then(|part| part.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A handler that captures all text.
    #[derive(Default)]
    struct TextHandler {
        text: String,
    }

    impl XmlHandler for TextHandler {
        fn root(&mut self, _: &BytesStart<'_>) -> Result<(), String> {
            Ok(())
        }

        fn start(&mut self, _: &BytesStart<'_>, _: usize) -> Result<(), String> {
            Ok(())
        }

        fn end(&mut self, _: &[u8], _: usize) {}

        fn capturing(&self) -> bool {
            true
        }

        fn text(&mut self, text: &str) {
            self.text.push_str(text);
        }
    }

    fn read(document: &str, max_event_bytes: u64) -> Result<String, ParseError> {
        let context = ParseContext {
            path: "test.xml",
            default_target: "test",
        };
        let mut handler = TextHandler::default();
        let mut reader = document.as_bytes();
        walk_limited(
            &context,
            "test-xml",
            "a test document",
            &mut reader,
            &mut handler,
            max_event_bytes,
        )?;
        Ok(handler.text)
    }

    #[test]
    fn long_event_is_rejected() {
        let document = format!("<a><b>{}</b></a>", "x".repeat(3 * 1024 * 1024));
        let error = read(&document, 1024 * 1024).unwrap_err();
        assert!(error.message.contains("longer than 1 MiB"), "{}", error.message);
        assert_eq!(error.position, Some(Position::Byte(6)));
        assert_eq!(read(&document, 4 * 1024 * 1024).unwrap().len(), 3 * 1024 * 1024);
    }

    #[test]
    fn references_resolve_without_dtd() {
        let text = read("<!DOCTYPE a [<!ENTITY e \"boom\">]><a>&amp;&#x41;&e;</a>", 1024).unwrap();
        assert_eq!(text, "&A&e;");
    }
}
