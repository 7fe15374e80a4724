//! NOTE: placeholder until the parser lands; it detects nothing.

use std::io::BufRead;

use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink};

pub struct NessusXml;

impl Parser for NessusXml {
    fn info(&self) -> FormatInfo {
        FormatInfo { id: "nessus-xml", name: "nessus-xml", tool: "nessus-xml", versions: "" }
    }

    fn detect(&self, _head: &[u8]) -> Detection {
        Detection::No
    }

    fn parse(&self, context: &ParseContext<'_>, _reader: &mut dyn BufRead, _sink: &mut dyn Sink) -> Result<(), ParseError> {
        Err(ParseError::new(context.path, "nessus-xml", None, "not implemented"))
    }
}
