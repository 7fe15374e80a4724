//! Helpers shared by the parsers of host vulnerability scanners: Nessus
//! CSV, OpenVAS XML and CSV, Qualys XML and CSV.
//!
//! [`table`] reads CSV rows by column name with bounded records,
//! [`xml_walk`] walks an XML document with the path of open elements, and
//! [`hosts`] sends host and service assets once. This module contains the
//! text, severity and CVSS helpers that they all use.

pub(crate) mod hosts;
pub(crate) mod openvas;
pub(crate) mod qualys;
pub(crate) mod table;
pub(crate) mod xml_walk;

use ctem_model::{Finding, Severity};

use crate::util;

/// The maximum size in bytes of the text kept from one report field (a
/// description, a solution, a scan result) while reading. Longer text is
/// counted but not kept, so one huge field cannot fill the memory.
pub(crate) const FIELD_BYTES: usize = 256 * 1024;

/// The maximum size in bytes of a scanner's output kept as evidence.
pub(crate) const EVIDENCE_BYTES: usize = 4096;

/// Text read from a report field, kept up to [`FIELD_BYTES`], with the size
/// of all the text that arrived.
#[derive(Debug, Default)]
pub(crate) struct BoundedText {
    pub text: String,
    pub total_bytes: usize,
}

impl BoundedText {
    /// Appends text, keeping at most [`FIELD_BYTES`] in all.
    pub fn push(&mut self, text: &str) {
        self.total_bytes += text.len();
        let room = FIELD_BYTES.saturating_sub(self.text.len());
        if room >= text.len() {
            self.text.push_str(text);
            return;
        }
        let mut end = room;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        self.text.push_str(&text[..end]);
    }

    /// Returns the text without surrounding whitespace, or `None` when
    /// nothing is left.
    pub fn non_empty(&self) -> Option<String> {
        util::non_empty(Some(&self.text))
    }
}

/// Cuts text to `max_bytes` at a character boundary and appends a line with
/// the kept and the total size. `total_bytes` is the size of the text as
/// the report had it, which exceeds `text.len()` when reading kept only a
/// part.
pub(crate) fn cut(text: &str, max_bytes: usize, total_bytes: usize) -> String {
    if text.len() <= max_bytes && total_bytes <= text.len() {
        return text.to_string();
    }
    let mut end = max_bytes.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n[truncated: {end} of {} bytes kept]",
        &text[..end],
        total_bytes.max(text.len())
    )
}

/// Turns a scanner's output into evidence: trimmed, cut to [`EVIDENCE_BYTES`], or
/// `None` when empty. `total_bytes` is the size the report had, when
/// reading kept only a part of it.
pub(crate) fn evidence(text: &str, total_bytes: usize) -> Option<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return None;
    }
    let total = if total_bytes > text.len() {
        total_bytes
    } else {
        trimmed.len()
    };
    Some(cut(trimmed, EVIDENCE_BYTES, total))
}

/// Long report text (a description, a solution): trimmed, cut to
/// [`FIELD_BYTES`], or `None` when empty or a placeholder such as `N/A`.
pub(crate) fn long_text(text: &str) -> Option<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() || is_placeholder(trimmed) {
        return None;
    }
    Some(cut(trimmed, FIELD_BYTES, trimmed.len()))
}

/// Returns whether report text is a placeholder for no value (`N/A`, `-`, `null`).
pub(crate) fn is_placeholder(text: &str) -> bool {
    matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "" | "-" | "n/a" | "na" | "none" | "null" | "nan"
    )
}

/// Splits a list that reports write in one cell (`CVE-1,CVE-2`,
/// `CVE-1, CVE-2`, one per line) into its items, without placeholders.
pub(crate) fn list_items(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .map(str::trim)
        .filter(|item| !is_placeholder(item))
}

/// Joins the lines of wrapped prose (OpenVAS wraps its texts at about 80
/// columns and indents the continuation) into one line per paragraph.
/// Blank lines separate paragraphs, and lines that start a list item (`-`,
/// `*`, `1.`) keep their line break.
pub(crate) fn unwrap_prose(text: &str) -> String {
    let mut output = String::with_capacity(text.len());
    let mut previous_blank = true;
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            if !previous_blank {
                output.push_str("\n\n");
            }
            previous_blank = true;
            continue;
        }
        if !previous_blank {
            if starts_list_item(line) {
                output.push('\n');
            } else {
                output.push(' ');
            }
        }
        output.push_str(line);
        previous_blank = false;
    }
    output.trim_end().to_string()
}

fn starts_list_item(line: &str) -> bool {
    if line.starts_with("- ") || line.starts_with("* ") {
        return true;
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && line[digits..].starts_with(". ")
}

/// Parses a severity word that host scanners write: the model's words (see
/// `Severity`'s `FromStr`), and OpenVAS's `Log` and `Debug`, which mark
/// results that report facts rather than weaknesses, as `Info`.
pub(crate) fn severity_word(text: &str) -> Option<Severity> {
    let word = text.trim();
    if word.eq_ignore_ascii_case("log") || word.eq_ignore_ascii_case("debug") {
        return Some(Severity::Info);
    }
    word.parse().ok()
}

/// Maps a Nessus severity number to a severity: 0 `Info`, 1 `Low`, 2 `Medium`,
/// 3 `High`, 4 `Critical`.
pub(crate) fn nessus_severity_number(text: &str) -> Option<Severity> {
    match text.trim() {
        "0" => Some(Severity::Info),
        "1" => Some(Severity::Low),
        "2" => Some(Severity::Medium),
        "3" => Some(Severity::High),
        "4" => Some(Severity::Critical),
        _ => None,
    }
}

/// Maps a Qualys severity level to a severity. Qualys rates QIDs from 1
/// (minimal) to 5 (urgent). ctem maps 1 to `Info`, 2 `Low`, 3 `Medium`, 4
/// `High` and 5 `Critical`, the five levels in order, because level 1
/// QIDs are mostly information gathered about the host.
pub(crate) fn qualys_severity(text: &str) -> Option<Severity> {
    match text.trim() {
        "1" => Some(Severity::Info),
        "2" => Some(Severity::Low),
        "3" => Some(Severity::Medium),
        "4" => Some(Severity::High),
        "5" => Some(Severity::Critical),
        _ => None,
    }
}

/// Parses a CVSS score from report text, when it is a number from 0 to 10.
pub(crate) fn cvss_score(text: &str) -> Option<f64> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|score| (0.0..=10.0).contains(score))
}

/// Splits the `score (vector)` form of Qualys (`9.0 (AV:N/AC:H/...)`) into
/// its score and its vector; text without parentheses is a score alone.
pub(crate) fn score_and_vector(text: &str) -> (Option<&str>, Option<&str>) {
    let text = text.trim();
    match text.split_once('(') {
        Some((score, rest)) => {
            let score = score.trim();
            let vector = rest.trim_end().trim_end_matches(')').trim();
            (
                (!score.is_empty()).then_some(score),
                (!vector.is_empty()).then_some(vector),
            )
        }
        None => ((!text.is_empty()).then_some(text), None),
    }
}

/// Adds a CVSS v2 vector, written bare (`AV:N/AC:L/...`), in parentheses or
/// with Nessus's `CVSS2#` prefix.
pub(crate) fn add_cvss_v2(finding: &mut Finding, text: &str) {
    let text = text.trim();
    let bare = text
        .strip_prefix("CVSS2#")
        .or_else(|| text.strip_prefix("CVSS#"))
        .unwrap_or(text);
    if !bare.is_empty() {
        util::add_cvss(finding, bare);
    }
}

/// Adds a CVSS v3 vector. A vector without its `CVSS:3.x/` prefix gets the
/// prefix of `version` (`3.0` or `3.1`), which the caller takes from the
/// report or from what the tool is documented to write.
pub(crate) fn add_cvss_v3(finding: &mut Finding, text: &str, version: &str) {
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    if text.starts_with("CVSS:") {
        util::add_cvss(finding, text);
    } else {
        util::add_cvss(finding, &format!("CVSS:{version}/{text}"));
    }
}

/// Turns the HTML that Qualys writes in its knowledge base texts (`<P>`,
/// `<BR>`, `<A HREF>`, lists) into plain text, and returns the link targets
/// as well. Only known tag names are removed, so text such as `key size <
/// 2048` stays as written. A line break right after a tag belongs to the
/// tag's own break (Qualys writes `<BR>` and a new line). Entities are
/// decoded last.
pub(crate) fn html_to_text(html: &str) -> (String, Vec<String>) {
    let mut text = String::with_capacity(html.len());
    let mut links = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        text.push_str(&rest[..start]);
        let candidate = &rest[start..];
        let Some(tag) = html_tag(candidate) else {
            text.push('<');
            rest = &candidate[1..];
            continue;
        };
        match tag.action {
            TagAction::Break => text.push('\n'),
            TagAction::Paragraph => {
                start_line(&mut text);
                if !text.is_empty() && !text.ends_with("\n\n") {
                    text.push('\n');
                }
            }
            TagAction::ListItem => {
                start_line(&mut text);
                text.push_str("- ");
            }
            TagAction::Line => start_line(&mut text),
            TagAction::Indent => {
                start_line(&mut text);
                text.push_str("  ");
            }
            TagAction::Tab => text.push('\t'),
            TagAction::Remove => {}
        }
        if let Some(link) = tag.link.filter(|link| !links.contains(link)) {
            links.push(link);
        }
        rest = &candidate[tag.length..];
        if tag.action != TagAction::Remove {
            rest = rest
                .strip_prefix("\r\n")
                .or_else(|| rest.strip_prefix('\n'))
                .unwrap_or(rest);
        }
    }
    text.push_str(rest);

    let decoded = util::xml_unescape(&text).replace("&nbsp;", " ");
    (tidy_lines(&decoded), links)
}

/// Ends the current line, unless the text is empty or already at the start
/// of a line.
fn start_line(text: &mut String) {
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
}

/// The effect of an HTML tag on the plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TagAction {
    /// A line break (`<BR>`).
    Break,
    /// A blank line (`<P>`, `</P>`).
    Paragraph,
    /// A new line starting with `- ` (`<LI>`).
    ListItem,
    /// A new line (lists, tables, `<PRE>`, `<DT>`).
    Line,
    /// A new indented line (`<DD>`).
    Indent,
    /// A tab between table cells.
    Tab,
    /// Nothing: the tag only formats (`<A>`, `<B>`, closing tags of lists).
    Remove,
}

/// One HTML tag at the start of a text.
struct HtmlTag {
    /// The tag's length in bytes, `<` to `>`.
    length: usize,
    action: TagAction,
    link: Option<String>,
}

/// Recognizes a known HTML tag at the start of `text`.
fn html_tag(text: &str) -> Option<HtmlTag> {
    // A tag longer than this is no tag: Qualys links are shorter.
    const MAX_TAG_BYTES: usize = 4096;
    let mut window_end = text.len().min(MAX_TAG_BYTES);
    while !text.is_char_boundary(window_end) {
        window_end -= 1;
    }
    let window = &text[..window_end];

    let end = window.find('>')?;
    let inside = &window[1..end];
    let closing = inside.starts_with('/');
    let body = inside.trim_start_matches('/');
    let name_length = body.bytes().take_while(u8::is_ascii_alphabetic).count();
    let after_name = body[name_length..].chars().next();
    if name_length == 0 || !matches!(after_name, None | Some(' ' | '\t' | '\n' | '\r' | '/')) {
        return None;
    }

    let name = body[..name_length].to_ascii_lowercase();
    let action = match (name.as_str(), closing) {
        ("br", _) => TagAction::Break,
        ("p", _) => TagAction::Paragraph,
        ("li", false) => TagAction::ListItem,
        ("ul" | "ol" | "pre" | "dl" | "dt" | "tr" | "table" | "div", _) => TagAction::Line,
        ("dd", false) => TagAction::Indent,
        ("td" | "th", false) => TagAction::Tab,
        ("li" | "dd" | "td" | "th", true) => TagAction::Remove,
        ("a" | "b" | "i" | "u" | "em" | "strong" | "font" | "span" | "tt" | "code", _) => TagAction::Remove,
        _ => return None,
    };

    let link = (name == "a" && !closing).then(|| href(body)).flatten();
    Some(HtmlTag {
        length: end + 1,
        action,
        link,
    })
}

/// Returns the `HREF` value of an `<A>` tag body, quoted or not.
fn href(body: &str) -> Option<String> {
    let lower = body.to_ascii_lowercase();
    let start = lower.find("href")? + 4;
    let value = body[start..].trim_start().strip_prefix('=')?.trim_start();
    let value = match value.chars().next()? {
        quote @ ('"' | '\'') => value[1..].split(quote).next()?,
        _ => value.split(|c: char| c.is_whitespace() || c == '>').next()?,
    };
    let value = util::xml_unescape(value.trim()).into_owned();
    (value.starts_with("http://") || value.starts_with("https://")).then_some(value)
}

/// Trims the end of each line and keeps at most one blank line between
/// paragraphs.
fn tidy_lines(text: &str) -> String {
    let mut output = String::with_capacity(text.len());
    let mut blank_lines = 0;
    for line in text.replace("\r\n", "\n").lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank_lines += 1;
            continue;
        }
        if !output.is_empty() {
            output.push_str(if blank_lines > 0 { "\n\n" } else { "\n" });
        }
        output.push_str(line);
        blank_lines = 0;
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_text_keeps_the_limit() {
        let mut field = BoundedText::default();
        field.push(&"é".repeat(FIELD_BYTES));
        assert!(field.text.len() <= FIELD_BYTES);
        assert_eq!(field.total_bytes, FIELD_BYTES * 2);
    }

    #[test]
    fn cut_names_sizes() {
        assert_eq!(cut("short", 10, 5), "short");
        assert_eq!(cut("abcdef", 3, 6), "abc\n[truncated: 3 of 6 bytes kept]");
        assert_eq!(
            cut("abc", 10, 900),
            "abc\n[truncated: 3 of 900 bytes kept]",
            "a field cut while reading names the size that the report had"
        );
    }

    #[test]
    fn evidence_is_trimmed_and_cut() {
        assert_eq!(evidence("  output\n", 9).as_deref(), Some("output"));
        assert_eq!(evidence(" \n", 2), None);
        let long = "y".repeat(EVIDENCE_BYTES + 1);
        assert!(
            evidence(&long, long.len())
                .unwrap()
                .ends_with(&format!("of {} bytes kept]", long.len()))
        );
    }

    #[test]
    fn prose_is_unwrapped() {
        let text = "This host is missing an important security\n  update.\n\n- Windows 10\n\n  - Windows Server\n1. first\n2. second";
        assert_eq!(
            unwrap_prose(text),
            "This host is missing an important security update.\n\n- Windows 10\n\n- Windows Server\n1. first\n2. second"
        );
    }

    #[test]
    fn list_items_split() {
        let items: Vec<_> = list_items("CVE-2013-2566,CVE-2015-2808, CVE-2016-0001\nN/A -").collect();
        assert_eq!(items, ["CVE-2013-2566", "CVE-2015-2808", "CVE-2016-0001"]);
    }

    #[test]
    fn severities_map() {
        assert_eq!(severity_word("Log"), Some(Severity::Info));
        assert_eq!(severity_word("High"), Some(Severity::High));
        assert_eq!(severity_word("False Positive"), None);
        assert_eq!(nessus_severity_number("4"), Some(Severity::Critical));
        assert_eq!(qualys_severity("1"), Some(Severity::Info));
        assert_eq!(qualys_severity("5"), Some(Severity::Critical));
        assert_eq!(qualys_severity("0"), None);
    }

    #[test]
    fn scores_and_vectors_split() {
        assert_eq!(
            score_and_vector("9.0 (AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:H)"),
            (Some("9.0"), Some("AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:H"))
        );
        assert_eq!(score_and_vector("6.4"), (Some("6.4"), None));
        assert_eq!(score_and_vector(""), (None, None));
        assert_eq!(cvss_score("50"), None, "a score above 10 is no CVSS score");
        assert_eq!(cvss_score("7.5"), Some(7.5));
    }

    #[test]
    fn html_becomes_text() {
        let (text, links) = html_to_text(
            "Refer to <A HREF=\"http://xmlsoft.org/downloads.html\" TARGET=\"_blank\">libxml2</A>.<P>\
             Key size &lt; 2048 and version < 2.4<BR>next<UL><LI>one</LI><LI>two</LI></UL>",
        );
        assert_eq!(
            text,
            "Refer to libxml2.\n\nKey size < 2048 and version < 2.4\nnext\n- one\n- two"
        );
        assert_eq!(links, ["http://xmlsoft.org/downloads.html"]);
    }

    #[test]
    fn breaks_swallow_their_new_line() {
        let (text, _) = html_to_text("secure:<BR>\n- one<P>\nSee it.\nKB list:<BR>\n<UL><LI>KB1</LI><LI>KB2</LI></UL>");
        assert_eq!(text, "secure:\n- one\n\nSee it.\nKB list:\n- KB1\n- KB2");
    }

    #[test]
    fn unquoted_href_is_read() {
        let (_, links) = html_to_text("<A HREF= https://success.qualys.com/x#y  TARGET= _blank ></A>");
        assert_eq!(links, ["https://success.qualys.com/x#y"]);
    }
}
