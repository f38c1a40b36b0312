//! The capture readers (classic pcap, pcapng, gzip/zstd) on arbitrary bytes: never a panic, frames and
//! one-line warnings or a one-line CaptureError. The first byte picks how the rest is presented: as it is
//! (the decompressors then meet raw garbage after a magic), gzip-compressed or zstd-compressed (the record
//! readers behind a sound compressed stream), or after a good file in the same source.

#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use tlsmon_native::capture::{CaptureSource, FrameBatch};

/// A minimal valid classic pcap with one frame, read before the fuzzed file in mode 3.
const GOOD: &[u8] = b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00\
\x01\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x04\x00\x00\x00abcd";

fuzz_target!(|input: &[u8]| {
    let Some((&mode, data)) = input.split_first() else { return };
    let body = match mode % 4 {
        1 => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(data).unwrap();
            enc.finish().unwrap()
        }
        2 => zstd::encode_all(data, 1).unwrap(),
        _ => data.to_vec(),
    };
    let mut files = Vec::new();
    if mode % 4 == 3 {
        files.push(("good.pcap".to_owned(), GOOD.to_vec()));
    }
    files.push(("fuzz.cap".to_owned(), body));
    let mut source = CaptureSource::from_memory(files, None);
    let mut batch = FrameBatch::new();
    let mut frames = 0_u64;
    loop {
        match source.next_batch(&mut batch) {
            Ok(true) => {
                for (_ts, _linktype, frame) in source.frames(&batch) {
                    assert!(frame.len() <= 64 * 1024 * 1024);
                }
                frames += batch.len() as u64;
            }
            Ok(false) => {
                assert_eq!(source.packets(), frames);
                assert_eq!(source.bytes_read(), source.total_bytes());
                break;
            }
            Err(err) => {
                assert!(!err.0.contains('\n'));
                break;
            }
        }
        for line in source.take_warnings() {
            assert!(!line.contains('\n'));
        }
    }
});
