//! Markdown ticket bodies for GitHub and GitLab, with the idempotency
//! marker in an HTML comment that both render invisibly.

use crate::tracker::TicketDraft;

const MARKER_PREFIX: &str = "<!-- ctem-marker: ";

/// Renders a draft as Markdown, ending with the marker comment.
pub fn render(draft: &TicketDraft) -> String {
    let mut text = format!("{}\n\n", escape(&draft.lead));
    for (name, value) in &draft.facts {
        text.push_str(&format!("- **{}:** {}\n", escape(name), escape(value)));
    }
    if !draft.findings.is_empty() {
        text.push_str("\n### Findings\n\n");
        for (index, finding) in draft.findings.iter().enumerate() {
            text.push_str(&format!("{}. {}\n", index + 1, escape(finding)));
        }
    }
    text.push_str(&format!("\n{MARKER_PREFIX}{} -->\n", draft.marker));
    text
}

/// Returns the marker of a body that ctem rendered, if any.
pub fn marker_of(body: &str) -> Option<&str> {
    let start = body.rfind(MARKER_PREFIX)? + MARKER_PREFIX.len();
    let rest = &body[start..];
    let marker = rest[..rest.find(" -->")?].trim();
    let valid = marker.starts_with("ctem-") && marker.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-');
    valid.then_some(marker)
}

/// Escapes the characters that would start Markdown markup, an HTML tag or
/// a mention, so that finding titles render as written and never ping
/// anyone.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if matches!(
            character,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '@' | '~'
        ) {
            escaped.push('\\');
        }
        if character == '\n' || character == '\r' {
            escaped.push(' ');
        } else {
            escaped.push(character);
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralizes_markup() {
        assert_eq!(escape("<b>@team</b> *x*"), r"\<b\>\@team\</b\> \*x\*");
        assert_eq!(escape("a\nb"), "a b");
    }

    #[test]
    fn marker_is_found_at_the_end() {
        let body = "lead\n\n<!-- ctem-marker: ctem-0123abc -->\n";
        assert_eq!(marker_of(body), Some("ctem-0123abc"));
        assert_eq!(marker_of("no marker"), None);
        assert_eq!(marker_of("<!-- ctem-marker: ctem-x y -->"), None);
        assert_eq!(marker_of("<!-- ctem-marker: ctem-abc"), None);
    }
}
