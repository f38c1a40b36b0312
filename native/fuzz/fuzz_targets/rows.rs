//! Fuzz target `rows`: rows of natively analyzed connections built as Arrow columns (`tlsmon_native::records`)
//! from random transport facts and the TLS summary the analyzer makes of random bytes.
//!
//! Input layout: bytes 0-47 are the transport facts (times, addresses, ports, counters, endpoint states and
//! sequence numbers, missed bytes, paths); the rest are calls of `[control, length, bytes …]` fed to the
//! analyzer, control bit 0 the direction. The row is pushed three times and built in two batches. Checks: no
//! panic, whatever `fits` says; every batch has its rows and the table's 97 columns; the rows left for later
//! stay; the counts count every row.
#![no_main]

use arrow_array::Array;
use libfuzzer_sys::fuzz_target;
use tlsmon_native::decode::Addr;
use tlsmon_native::dispatch::TlsRow;
use tlsmon_native::records::batch::{fits, NativeRows};
use tlsmon_native::tcp::endpoint::Endpoints;
use tlsmon_native::tcp::events::ConnEnd;
use tlsmon_native::tls::{Limits, TlsAnalyzer};

fn u64_at(b: &[u8], i: usize) -> u64 {
    u64::from_be_bytes(b[i..i + 8].try_into().expect("8 bytes"))
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes(b[i..i + 4].try_into().expect("4 bytes"))
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 48 {
        return;
    }
    let (head, mut rest) = data.split_at(48);
    let mut analyzer = TlsAnalyzer::new("t", Limits::default());
    while rest.len() >= 2 {
        let (control, length) = (rest[0], usize::from(rest[1]) * 16);
        let (chunk, next) = rest[2..].split_at(length.min(rest.len() - 2));
        analyzer.data(control & 1 == 1, chunk);
        rest = next;
    }
    analyzer.end();
    let v6 = head[0] & 1 == 1;
    let addr = |i: usize| {
        if v6 {
            Addr::V6(head[i..i + 16].try_into().expect("16 bytes"))
        } else {
            Addr::V4(u32_at(head, i))
        }
    };
    let mut seqs = Endpoints::default();
    seqs.orig.state = head[1] % 8;
    seqs.resp.state = head[2] % 8;
    seqs.orig.start_seq = u32_at(head, 3);
    seqs.resp.last_seq = u32_at(head, 7);
    seqs.last_ts = u64_at(head, 40) as i64;
    let end = ConnEnd {
        conn: 1,
        start_ts: u64_at(head, 32) as i64,
        last_ts: u64_at(head, 40) as i64,
        ip_version: if v6 { 6 } else { 4 },
        orig_h: addr(11),
        orig_p: u16::from_be_bytes([head[27], head[28]]),
        resp_h: addr(14),
        resp_p: u16::from_be_bytes([head[29], head[30]]),
        vlan: (head[31] & 1 == 1).then_some(u16::from(head[31])),
        orig_pkts: u64::from(head[3]),
        resp_pkts: u64::from(head[4]),
        orig_bytes: u64::from(head[5]),
        resp_bytes: u64::from(head[6]),
        history: String::from_utf8_lossy(&head[8..11]).into_owned(),
        end_reason: ["fin", "rst", "timeout", "eof", "evicted", "interrupted"]
            [usize::from(head[7]) % 6],
        seqs,
        orig_seen: head[1] & 0x10 != 0,
        resp_seen: head[2] & 0x10 != 0,
        proto: 6,
        paths: u32::from(head[30]),
        addresses_changed: false,
    };
    let row = || TlsRow {
        summary: analyzer.summary.clone(),
        tls_anomalies: analyzer.anomalies.clone(),
        transport_anomalies: vec!["tcp.overlap_mismatch"],
        missed: [u64::from(head[12]), u64::from(head[13])],
    };
    let _ = fits(&end, &analyzer.summary);
    let mut rows = NativeRows::default();
    for _ in 0..3 {
        rows.push(end.clone(), row());
    }
    let (first, counts) = rows
        .build(
            &[1, 2],
            &[(1, vec!["x509.certificate_unparseable".to_owned()])],
        )
        .expect("two of three rows");
    assert_eq!((first.len(), first.num_columns()), (2, 97));
    assert_eq!(counts.versions.values().sum::<u64>(), 2);
    assert_eq!(rows.len(), 1);
    let (last, _) = rows.build(&[3], &[]).expect("the third row");
    assert_eq!(last.len(), 1);
    assert!(rows.is_empty());
});
