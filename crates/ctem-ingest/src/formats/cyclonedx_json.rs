//! NOTE: placeholder until the parser lands; it detects nothing.

use std::io::BufRead;

use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink};

pub struct CycloneDxJson;

impl Parser for CycloneDxJson {
    fn info(&self) -> FormatInfo {
        FormatInfo { id: "cyclonedx-json", name: "cyclonedx-json", tool: "cyclonedx-json", versions: "" }
    }

    fn detect(&self, _head: &[u8]) -> Detection {
        Detection::No
    }

    fn parse(&self, context: &ParseContext<'_>, _reader: &mut dyn BufRead, _sink: &mut dyn Sink) -> Result<(), ParseError> {
        Err(ParseError::new(context.path, "cyclonedx-json", None, "not implemented"))
    }
}
