//! Writing to standard output: macros that end quietly on a closed pipe,
//! and text made safe for a terminal.

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
