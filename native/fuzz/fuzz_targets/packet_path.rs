//! Fuzz target `packet_path`: frames through the decoder and the flow table with reassembly, under tiny
//! limits so eviction, tombstones, sweeps, lingers and both reassembly caps happen all the time.
//!
//! Input layout: byte 0 sets the connection cap (1-4) and byte 1 the per-direction and global reassembly
//! caps; then records of `[flags, ts step, length high, length low, frame …]`, each frame Ethernet. Bit 0 of
//! `flags` asks for every open connection to be bypassed after the frame (as Python does between crossings).
//! The tracker must never panic, and every connection opened must end exactly once by `finish`.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use tlsmon_native::decode::Decoder;
use tlsmon_native::tcp::events::EventKind;
use tlsmon_native::tcp::tracker::{Tracker, TrackerConfig};
use tlsmon_native::tls::Limits;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let config = TrackerConfig {
        idle_timeout_ns: 50,
        linger_ns: 5,
        max_connections: usize::from(data[0] % 4) + 1,
        max_buffered_per_direction: usize::from(data[1]) * 8,
        max_buffered_total: usize::from(data[1]) * 16,
        sweep_interval_ns: 10,
        check_every_packets: 3,
        // half the inputs analyze connections TLS from their first byte natively (crate::dispatch)
        tls_limits: (data[0] & 0x80 != 0).then(Limits::default),
        ..TrackerConfig::default()
    };
    let mut tracker = Tracker::new(config);
    let mut decoder = Decoder::default();
    let mut open: HashSet<u64> = HashSet::new();
    let mut ended: HashSet<u64> = HashSet::new();
    let mut rest = &data[2..];
    let mut ts = 0i64;
    while rest.len() >= 4 {
        let (flags, step) = (rest[0], rest[1]);
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        let (frame, next) = rest[4..].split_at(len.min(rest.len() - 4));
        rest = next;
        ts += i64::from(step as i8);
        tracker.frame(ts);
        if let Some(segment) = decoder.decode(ts, 1, frame) {
            tracker.segment(ts, &segment);
        }
        account(&tracker, &mut open, &mut ended);
        tracker.out.clear();
        if flags & 1 != 0 {
            for &id in &open {
                tracker.bypass(id);
            }
        }
    }
    tracker.finish("eof");
    account(&tracker, &mut open, &mut ended);
    assert_eq!(tracker.live(), 0);
    assert!(open.is_empty(), "connections never ended: {open:?}");
});

fn account(tracker: &Tracker, open: &mut HashSet<u64>, ended: &mut HashSet<u64>) {
    for event in &tracker.out.events {
        match event.kind {
            EventKind::Open { .. } | EventKind::OpenUdp { .. } => {
                assert!(open.insert(event.conn), "opened twice");
            }
            EventKind::End { .. } => {
                assert!(open.remove(&event.conn), "ended without being open");
                assert!(ended.insert(event.conn), "ended twice");
            }
            // a natively analyzed connection never opens in Python: it only ends, once
            EventKind::TlsEnd { tls, .. } => {
                assert!(!open.contains(&event.conn), "a Python connection ended natively");
                assert!(ended.insert(event.conn), "ended twice");
                assert!(tls < tracker.out.tls.len());
            }
            _ => assert!(open.contains(&event.conn), "event of a connection not open: {:?}", event.kind),
        }
    }
}
