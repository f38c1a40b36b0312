//! The capture readers (classic pcap, pcapng, gzip/zstd) on arbitrary bytes: never a panic, frames and
//! one-line warnings or a one-line CaptureError. The first byte picks how the rest is presented: as it is
//! (the decompressors then meet raw garbage after a magic), gzip-compressed or zstd-compressed (the record
//! readers behind a sound compressed stream), or after a good file in the same source; its next bits how
//! many bytes one read may ask for (small ones put chunk borders everywhere) and whether the file is read
//! a second time on a reader thread (switched on after 0-3 batches), which must give the same frames,
//! warnings, error and counters.

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
    let read_cap = [usize::MAX, 1, 64, 4096][usize::from(mode >> 2) % 4];
    let here = read(CaptureSource::from_memory_in_chunks(files.clone(), None, read_cap), None);
    if mode & 0x10 != 0 {
        let switch_after = usize::from(mode >> 5) % 4;
        let source = CaptureSource::from_memory_in_chunks(files, None, read_cap);
        assert!(here == read(source, Some(switch_after)), "the reader thread changed the read");
    }
});

/// What a read gave: frames, warnings, the error, and the source's figures.
#[derive(PartialEq)]
struct Read {
    frames: Vec<(i64, u32, Vec<u8>)>,
    warnings: Vec<String>,
    error: Option<String>,
    packets: u64,
    bytes_read: u64,
    counters: Vec<(&'static str, u64)>,
}

fn read(mut source: CaptureSource, switch_after: Option<usize>) -> Read {
    let mut batch = FrameBatch::new();
    let (mut frames, mut warnings, mut error) = (Vec::new(), Vec::new(), None);
    for batches in 0.. {
        if switch_after == Some(batches) {
            source.use_reader_thread();
        }
        match source.next_batch(&mut batch) {
            Ok(true) => {
                for (ts, linktype, frame) in source.frames(&batch) {
                    assert!(frame.len() <= 64 * 1024 * 1024);
                    frames.push((ts, linktype, frame.to_vec()));
                }
            }
            Ok(false) => {
                assert_eq!(source.packets(), frames.len() as u64);
                assert_eq!(source.bytes_read(), source.total_bytes());
                break;
            }
            Err(err) => {
                assert!(!err.0.contains('\n'));
                error = Some(err.0);
                break;
            }
        }
        warnings.extend(source.take_warnings());
    }
    warnings.extend(source.take_warnings());
    for line in &warnings {
        assert!(!line.contains('\n'));
    }
    Read {
        frames,
        warnings,
        error,
        packets: source.packets(),
        bytes_read: source.bytes_read(),
        counters: source.counters(),
    }
}
