//! Capture files → frames, the native twin of `tlsmon/capture` (pcap, pcapng, gzip/zstd, several files as
//! one stream, BPF), behaving byte for byte like the Python readers: the same frames, warnings, counters
//! and error texts. Frames are handed out in [`FrameBatch`]es of about 256 KiB, never one call per frame.

pub mod bpf;
pub mod errors;
pub mod frames;
pub mod linktypes;
pub mod live;
pub mod pcap;
pub mod pcapng;
pub mod reader;
pub mod reader_thread;
pub mod source;
pub mod stream;

pub use errors::CaptureError;
pub use frames::FrameBatch;
pub use source::CaptureSource;

#[cfg(test)]
mod tests;
