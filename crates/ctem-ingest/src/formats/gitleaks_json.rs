//! NOTE: placeholder until the parser lands; it detects nothing.

use std::io::BufRead;

use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink};

pub struct GitleaksJson;

impl Parser for GitleaksJson {
    fn info(&self) -> FormatInfo {
        FormatInfo { id: "gitleaks-json", name: "gitleaks-json", tool: "gitleaks-json", versions: "" }
    }

    fn detect(&self, _head: &[u8]) -> Detection {
        Detection::No
    }

    fn parse(&self, context: &ParseContext<'_>, _reader: &mut dyn BufRead, _sink: &mut dyn Sink) -> Result<(), ParseError> {
        Err(ParseError::new(context.path, "gitleaks-json", None, "not implemented"))
    }
}
