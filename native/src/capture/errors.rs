//! The one error the capture stage returns: a file that cannot be read as a capture at all.

use std::fmt;
use std::io;

/// A capture file is unusable; the message is one line, `"<path>: <reason>"`, byte for byte the text of
/// Python's `tlsmon.capture.CaptureError`. Damage inside a readable file is a warning, never this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureError(pub String);

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CaptureError {}

/// What Python shows as `exc.strerror or exc`: the C library's text for an OS error, without Rust's
/// `" (os error N)"` suffix.
pub(crate) fn os_reason(err: &io::Error) -> String {
    let text = err.to_string();
    match err.raw_os_error() {
        Some(code) => {
            let suffix = format!(" (os error {code})");
            text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
        }
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_reason_is_the_strerror_text() {
        let err = io::Error::from_raw_os_error(2);
        assert_eq!(os_reason(&err), "No such file or directory");
    }
}
