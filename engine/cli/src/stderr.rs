//! Human messages on stderr that can neither abort the process nor interleave.
//!
//! `eprintln!` panics when stderr is closed (`vksplat render … 2>&1 | head -1`), and the panic
//! hook's own write then aborts the process: a closed stderr must never cost a frame. Every
//! message of the CLI therefore goes through [`line`], which:
//! * builds the whole line first and hands it to the kernel in one `write` (a line never
//!   interleaves with another thread's line or with stdout);
//! * escapes control characters (a newline in a file name cannot forge a second line, such as
//!   an `openjd_status:` or `ERROR:` line);
//! * ignores write errors (stderr is for people; the exit code carries the outcome).

use std::io::Write;

/// `text` with control characters escaped (`\n`, `\r`, `\t`, `\u{1b}` …), so that it is one line.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Writes `text` and a newline to stderr in one write; errors are ignored.
pub fn line(text: &str) {
    let mut buf = escape_controls(text).into_owned();
    buf.push('\n');
    let _ = std::io::stderr().lock().write_all(buf.as_bytes());
}

/// `eprintln!` that never panics: formats, escapes and writes one line (see [`line`]).
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::stderr::line(&format!($($arg)*))
    };
}
pub(crate) use say;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_whatever_the_text() {
        assert_eq!(escape_controls("plain/path.exr"), "plain/path.exr");
        assert_eq!(
            escape_controls("a\nopenjd_status: x\r\t\u{1b}[2J"),
            "a\\nopenjd_status: x\\r\\t\\u{1b}[2J"
        );
    }
}
