//! tcpdump-style BPF filters for capture files, compiled by libpcap once per link type (mirrors
//! `tlsmon/capture/bpf.py`): a dead capture handle of the link type's DLT_ value compiles the expression
//! (optimised, netmask 0, as pypcap does) and `pcap_offline_filter` runs it on each frame. libpcap's own
//! reason is the error text.

use ::pcap::{BpfProgram, Capture, Linktype};

use super::linktypes::{is_raw_ip, linktype_name, LINKTYPE_LOOP};

/// libpcap's DLT_RAW and DLT_LOOP on Linux (the platform tlsmon runs on).
const DLT_RAW: i32 = 12;
const DLT_LOOP: i32 = 108;

/// The DLT_ value libpcap uses for a file's LINKTYPE_ value.
pub fn libpcap_dlt(linktype: u32) -> i32 {
    if is_raw_ip(linktype) {
        DLT_RAW
    } else if linktype == LINKTYPE_LOOP {
        DLT_LOOP
    } else {
        linktype as i32
    }
}

/// One expression, compiled on first use for each link type met.
pub struct Filter {
    expr: String,
    programs: Vec<(u32, BpfProgram)>,
}

impl Filter {
    pub fn new(expr: &str) -> Self {
        Self {
            expr: expr.to_owned(),
            programs: Vec::new(),
        }
    }

    /// Does `frame` of `linktype` match? `Err` with the one-line reason (no path) if libpcap cannot compile
    /// the expression for that link type.
    pub fn matches(&mut self, linktype: u32, frame: &[u8]) -> Result<bool, String> {
        if let Some((_, program)) = self.programs.iter().find(|(lt, _)| *lt == linktype) {
            return Ok(program.filter(frame));
        }
        let program = compile(&self.expr, linktype)?;
        let matched = program.filter(frame);
        self.programs.push((linktype, program));
        Ok(matched)
    }
}

/// Compiles `expr` for frames of `linktype`.
pub fn compile(expr: &str, linktype: u32) -> Result<BpfProgram, String> {
    let fail = |reason: String| {
        format!(
            "invalid BPF filter {} for link type {linktype} ({}): {reason}",
            py_repr(expr),
            linktype_name(linktype)
        )
    };
    let dead = Capture::dead(Linktype(libpcap_dlt(linktype))).map_err(|e| fail(error_text(e)))?;
    dead.compile(expr, true).map_err(|e| fail(error_text(e)))
}

fn error_text(err: ::pcap::Error) -> String {
    match err {
        ::pcap::Error::PcapError(message) if !message.is_empty() => message,
        ::pcap::Error::PcapError(_) => "bad filter".to_owned(),
        other => other.to_string(),
    }
}

/// Python's `repr()` of a str: quotes and escapes as Python chooses them (exact for ASCII; other
/// characters are kept unless they are control, format or separator characters).
pub fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        let code = c as u32;
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            _ if c == quote => {
                out.push('\\');
                out.push(c);
            }
            _ if code < 0x20 || code == 0x7F => push_escape(&mut out, 'x', code, 2),
            _ if code < 0x7F => out.push(c),
            _ if !c.is_control() && !c.is_whitespace() && !is_format(code) => out.push(c),
            _ if code < 0x100 => push_escape(&mut out, 'x', code, 2),
            _ if code < 0x10000 => push_escape(&mut out, 'u', code, 4),
            _ => push_escape(&mut out, 'U', code, 8),
        }
    }
    out.push(quote);
    out
}

fn push_escape(out: &mut String, kind: char, code: u32, digits: usize) {
    use std::fmt::Write as _;
    let _ = write!(out, "\\{kind}{code:0digits$x}");
}

/// The common Unicode format (Cf) characters Python does not print as they are.
fn is_format(code: u32) -> bool {
    matches!(code, 0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E
        | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0xE0001 | 0xE0020..=0xE007F)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_matches_python() {
        assert_eq!(py_repr("tcp port 443"), "'tcp port 443'");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(py_repr("tab\there\\"), "'tab\\there\\\\'");
        assert_eq!(py_repr("\u{1}é\u{a0}"), "'\\x01é\\xa0'");
    }

    #[test]
    fn libpcap_explains_a_syntax_error() {
        let err = compile("tcp portx 443", 1).err().unwrap();
        assert_eq!(
            err,
            "invalid BPF filter 'tcp portx 443' for link type 1 (ETHERNET): can't parse filter expression: syntax error"
        );
    }

    #[test]
    fn a_compiled_filter_matches_frames() {
        let mut filter = Filter::new("ip");
        let mut frame = vec![0_u8; 34];
        frame[12] = 0x08; // ethertype IPv4
        assert_eq!(filter.matches(1, &frame), Ok(true));
        frame[12] = 0x86;
        frame[13] = 0xDD;
        assert_eq!(filter.matches(1, &frame), Ok(false));
    }
}
