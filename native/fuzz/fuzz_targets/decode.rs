//! Fuzz target `decode`: a stream of frames through one [`Decoder`], so the fragment table carries state
//! from frame to frame (timeouts, the memory cap, reassembled datagrams decoded again as tunnels).
//!
//! Input layout: byte 0 picks the fragment timeout and byte 1 the memory cap (small values make expiry and
//! eviction happen); then records of `[linktype selector, ts step, length high, length low, frame …]`. The
//! decoder must never panic, and a segment's payload must be no longer than the frame or a reassembled
//! datagram (65535 bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tlsmon_native::decode::Decoder;

const LINKTYPES: [u32; 13] = [1, 1, 1, 0, 9, 12, 14, 101, 108, 113, 228, 229, 276];

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let mut decoder = Decoder::new(i64::from(data[0]) * 4, usize::from(data[1]) * 256);
    let mut rest = &data[2..];
    let mut ts = 0i64;
    while rest.len() >= 4 {
        let (selector, step) = (rest[0], rest[1]);
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        let (frame, next) = rest[4..].split_at(len.min(rest.len() - 4));
        rest = next;
        ts += i64::from(step as i8); // time may step back, as in merged captures
        let linktype = LINKTYPES[usize::from(selector) % LINKTYPES.len()];
        if let Some(segment) = decoder.decode(ts, linktype, frame) {
            assert!(segment.payload.len() <= frame.len().max(65535));
        }
    }
    let _ = decoder.counters();
    let _ = decoder.pending_fragments();
});
