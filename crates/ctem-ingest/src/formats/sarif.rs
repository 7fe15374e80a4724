//! NOTE: placeholder until the parser lands; it detects nothing.

use std::io::BufRead;

use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink};

pub struct Sarif;

impl Parser for Sarif {
    fn info(&self) -> FormatInfo {
        FormatInfo { id: "sarif", name: "sarif", tool: "sarif", versions: "" }
    }

    fn detect(&self, _head: &[u8]) -> Detection {
        Detection::No
    }

    fn parse(&self, context: &ParseContext<'_>, _reader: &mut dyn BufRead, _sink: &mut dyn Sink) -> Result<(), ParseError> {
        Err(ParseError::new(context.path, "sarif", None, "not implemented"))
    }
}
