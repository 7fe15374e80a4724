//! NOTE: placeholder until the parser lands; it detects nothing.

use std::io::BufRead;

use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink};

pub struct TrivyJson;

impl Parser for TrivyJson {
    fn info(&self) -> FormatInfo {
        FormatInfo { id: "trivy-json", name: "trivy-json", tool: "trivy-json", versions: "" }
    }

    fn detect(&self, _head: &[u8]) -> Detection {
        Detection::No
    }

    fn parse(&self, context: &ParseContext<'_>, _reader: &mut dyn BufRead, _sink: &mut dyn Sink) -> Result<(), ParseError> {
        Err(ParseError::new(context.path, "trivy-json", None, "not implemented"))
    }
}
