//! Handshake message reassembly for one direction (`tlsmon/tls/handshake.py`).
//!
//! Theory of operation: [`HandshakeReassembler::feed`] takes the body of each plaintext handshake record and
//! returns every message it completes as `(msg_type, body)`; an incomplete tail waits for the next record. A
//! declared length above [`MAX_HANDSHAKE_MESSAGE`] sets [`HandshakeReassembler::error`] and drops the buffer
//! rather than hold up to 16 MiB of an attacker's choosing.

use super::anomalies::{self, Anomaly};

/// Largest handshake message kept (1 MiB; Zeek's tls-fragmented-handshake trace has a valid 332 KiB one).
pub use super::codes::MAX_HANDSHAKE_MESSAGE;

#[derive(Default)]
pub struct HandshakeReassembler {
    buf: Vec<u8>,
    pub error: Option<Anomaly>,
}

impl HandshakeReassembler {
    /// Bytes of an incomplete message held back.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Drop a partial message (the direction turned encrypted or stopped).
    pub fn reset(&mut self) {
        self.buf = Vec::new();
    }

    pub fn feed(&mut self, fragment: &[u8]) -> Vec<(u32, Vec<u8>)> {
        let mut messages = Vec::new();
        if self.error.is_some() {
            return messages;
        }
        self.buf.extend_from_slice(fragment);
        let data = &self.buf;
        let end = data.len();
        let mut pos = 0;
        while pos + 4 <= end {
            let length = (data[pos + 1] as usize) << 16
                | (data[pos + 2] as usize) << 8
                | data[pos + 3] as usize;
            if length > MAX_HANDSHAKE_MESSAGE {
                self.error = Some(anomalies::HANDSHAKE_TOO_LONG);
                self.buf = Vec::new();
                return messages;
            }
            let start = pos + 4;
            if start + length > end {
                break;
            }
            messages.push((u32::from(data[pos]), data[start..start + length].to_vec()));
            pos = start + length;
        }
        self.buf.drain(..pos);
        messages
    }
}
