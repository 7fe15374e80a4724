//! NOTE: placeholder until the parser lands; it detects nothing.

use std::io::BufRead;

use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink};

pub struct NmapXml;

impl Parser for NmapXml {
    fn info(&self) -> FormatInfo {
        FormatInfo { id: "nmap-xml", name: "nmap-xml", tool: "nmap-xml", versions: "" }
    }

    fn detect(&self, _head: &[u8]) -> Detection {
        Detection::No
    }

    fn parse(&self, context: &ParseContext<'_>, _reader: &mut dyn BufRead, _sink: &mut dyn Sink) -> Result<(), ParseError> {
        Err(ParseError::new(context.path, "nmap-xml", None, "not implemented"))
    }
}
