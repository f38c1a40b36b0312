//! The TLS analyzer of one TCP connection, ported from `tlsmon/tls/` and equal to it on every input.
//!
//! Theory of operation: the modules mirror the Python ones file for file: `record` (the record layer of one
//! direction, SSLv2 hellos included), `handshake` (messages across records), `wire` (the bounds-checked
//! vector readers of `tlsmon/wire/vectors.py` and `buffer.py`), `parse` (message bodies into the structs of
//! `messages`), `fingerprints` (JA3, JA3S, JA4, JA4_r), `analyzer` (the per-connection state machine that
//! fills a [`summary::Summary`]) and `codes` (generated from the Python tables by
//! `scripts/gen_native_codes.py`). Everything is sans-IO: bytes in, state out; nothing here knows Python
//! (`python/tls.rs` is the binding). "Equal" is a test, not a promise: tests/tls_native feeds every TCP
//! connection of every capture and Hypothesis-made re-chunkings to both analyzers and compares every field.

pub mod analyzer;
pub mod anomalies;
#[rustfmt::skip]
pub mod codes;
pub mod digest;
pub mod fingerprints;
pub mod handshake;
pub mod messages;
pub mod parse;
pub mod probe;
pub mod record;
pub mod summary;
pub mod wire;

#[cfg(test)]
pub(crate) mod testdata;
#[cfg(test)]
mod tests;

pub use analyzer::{Limits, TlsAnalyzer};
