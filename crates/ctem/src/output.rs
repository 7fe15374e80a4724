//! Writing to standard output safely: a closed pipe ends the process
//! quietly, and text from reports or people cannot forge terminal output.

/// Writes to standard output like `print!`. A reader that closed the pipe
/// (`ctem intel status | head -1`) ends the process quietly with success,
/// where `print!` would panic.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(error) = write!(std::io::stdout().lock(), $($arg)*) {
            if error.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            panic!("failed to write to standard output: {error}");
        }
    }};
}

/// Writes a line to standard output like `println!`; see [`out!`].
macro_rules! outln {
    ($($arg:tt)*) => {{
        out!($($arg)*);
        out!("\n");
    }};
}

/// Replaces control characters in a path or name from the file system, so
/// a file named with terminal escapes or line breaks cannot forge output.
pub fn printable(text: impl std::fmt::Display) -> String {
    text.to_string()
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// The longest text a table cell shows; longer report text is cut, because
/// the table layout slows down sharply on very long words.
const MAX_CELL_CHARS: usize = 300;

/// Whether `c` changes the direction of the text around it (U+200E, U+200F,
/// U+202A to U+202E, U+2066 to U+2069), which would let a name in a report
/// display as something else.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Report text made safe for a terminal table: control characters (which
/// could carry escape sequences from an untrusted report) and direction
/// overrides become spaces,
/// and text past [`MAX_CELL_CHARS`] is cut with an ellipsis.
pub fn table_cell(text: &str) -> String {
    let mut cell = terminal_text(&text.chars().take(MAX_CELL_CHARS).collect::<String>());
    if text.chars().nth(MAX_CELL_CHARS).is_some() {
        cell.push('…');
    }
    cell
}

/// Text made safe for a terminal like [`table_cell`], but whole: for
/// sentences printed outside a table, where no layout limits the length.
pub fn terminal_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if (c.is_control() && c != '\n') || is_bidi_control(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_cell_removes_control_characters() {
        assert_eq!(table_cell("red\u{1b}[31m text"), "red [31m text");
    }

    #[test]
    fn table_cell_cuts_long_text() {
        let cell = table_cell(&"a".repeat(10_000));
        assert_eq!(cell.chars().count(), MAX_CELL_CHARS + 1);
        assert!(cell.ends_with('…'));
    }

    #[test]
    fn terminal_text_keeps_long_text() {
        let text = terminal_text(&format!("{}\u{202E}", "a".repeat(10_000)));
        assert_eq!(text.chars().count(), 10_001);
        assert!(text.ends_with(' '));
    }
}
