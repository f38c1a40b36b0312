//! The capture readers on the project's fixture captures and on randomly damaged copies of them.
//!
//! The byte-for-byte equality with the Python readers is tested from Python (tests/capture/
//! test_native_equal.py); these tests pin the main behaviours on the Rust side and run a randomized smoke
//! test (stable Rust, so it runs in CI where `cargo fuzz` cannot).

use std::io::Write;
use std::path::PathBuf;

use super::frames::FrameBatch;
use super::source::CaptureSource;
use super::CaptureError;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/pcaps")
        .join(name)
}

struct Read {
    frames: Vec<(i64, u32, Vec<u8>)>,
    warnings: Vec<String>,
    error: Option<CaptureError>,
    source: CaptureSource,
}

fn read(source: CaptureSource) -> Read {
    read_switching(source, None)
}

/// Reads `source` to its end, on a reader thread after `switch_after` batches if given.
fn read_switching(mut source: CaptureSource, switch_after: Option<usize>) -> Read {
    let mut batch = FrameBatch::new();
    let (mut frames, mut warnings, mut error) = (Vec::new(), Vec::new(), None);
    for batches in 0.. {
        if switch_after == Some(batches) {
            source.use_reader_thread();
        }
        match source.next_batch(&mut batch) {
            Ok(more) => {
                frames.extend(
                    source
                        .frames(&batch)
                        .map(|(ts, lt, f)| (ts, lt, f.to_vec())),
                );
                warnings.extend(source.take_warnings());
                if !more {
                    break;
                }
            }
            Err(err) => {
                warnings.extend(source.take_warnings());
                error = Some(err);
                break;
            }
        }
    }
    Read {
        frames,
        warnings,
        error,
        source,
    }
}

fn read_files(names: &[&str]) -> Read {
    let paths: Vec<PathBuf> = names.iter().map(|n| fixture(n)).collect();
    read(CaptureSource::open(&paths, None).expect("fixtures exist"))
}

fn read_memory(data: Vec<u8>) -> Read {
    read(CaptureSource::from_memory(
        vec![("mem.cap".to_owned(), data)],
        None,
    ))
}

/// Reads `files` in chunks of at most `read_cap` bytes on this thread, then again on a reader thread from
/// batch `switch_after` on, and checks that both reads give the same frames, warnings, error and counters.
fn assert_reader_thread_changes_nothing(
    files: &[(String, Vec<u8>)],
    read_cap: usize,
    switch_after: usize,
) -> Read {
    let here = read(CaptureSource::from_memory_in_chunks(
        files.to_vec(),
        None,
        read_cap,
    ));
    let there = read_switching(
        CaptureSource::from_memory_in_chunks(files.to_vec(), None, read_cap),
        Some(switch_after),
    );
    let what = format!("read_cap {read_cap}, switch after {switch_after}");
    assert_eq!(here.frames.len(), there.frames.len(), "{what}");
    assert!(here.frames == there.frames, "{what}: frames differ");
    assert_eq!(here.warnings, there.warnings, "{what}");
    assert_eq!(here.error, there.error, "{what}");
    assert_eq!(here.source.packets(), there.source.packets(), "{what}");
    assert_eq!(
        here.source.bytes_read(),
        there.source.bytes_read(),
        "{what}"
    );
    assert_eq!(here.source.counters(), there.source.counters(), "{what}");
    there
}

/// `times` copies of the records of `name` (a classic pcap) after its file header.
fn repeated_pcap(name: &str, times: usize) -> Vec<u8> {
    let data = std::fs::read(fixture(name)).unwrap();
    let mut out = data[..24].to_vec();
    for _ in 0..times {
        out.extend_from_slice(&data[24..]);
    }
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn counter(source: &CaptureSource, name: &str) -> u64 {
    source
        .counters()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map_or(0, |(_, v)| v)
}

#[test]
fn a_classic_pcap_gives_its_frames_with_nanosecond_timestamps() {
    let got = read_files(&["tls13-basic.pcap"]);
    assert_eq!(got.frames.len(), 15);
    assert_eq!(got.frames[0].0, 1_700_000_000_000_000_000);
    assert_eq!(got.frames[1].0, 1_700_000_000_000_500_000);
    assert!(got.frames.iter().all(|f| f.1 == 1));
    assert!(got.warnings.is_empty() && got.error.is_none());
    assert_eq!(got.source.packets(), 15);
    assert_eq!(got.source.bytes_read(), got.source.total_bytes());
}

#[test]
fn every_file_format_gives_its_frames() {
    for name in [
        "tls13.pcapng",
        "tls13-ns.pcap",
        "tls13.pcap.gz",
        "tls13.pcap.zst",
    ] {
        let got = read_files(&[name]);
        assert!(got.warnings.is_empty(), "{name}: {:?}", got.warnings);
        assert_eq!(got.frames.len(), 15, "{name}");
        assert_eq!(got.source.bytes_read(), got.source.total_bytes());
    }
}

#[test]
fn several_files_are_one_stream() {
    let got = read_files(&["tls13-basic.pcap", "tls13.pcap.zst"]);
    assert_eq!(got.frames.len(), 30);
}

#[test]
fn a_truncated_record_ends_the_file_with_one_warning() {
    let mut data = std::fs::read(fixture("tls13-basic.pcap")).unwrap();
    data.truncate(24 + 16 + 10);
    let got = read_memory(data);
    assert!(got.frames.is_empty());
    assert_eq!(
        got.warnings,
        ["mem.cap: truncated record at byte 24 after 0 packets; rest of file skipped"]
    );
}

#[test]
fn a_corrupt_gzip_stream_names_zlibs_reason() {
    let mut data = std::fs::read(fixture("tls13.pcap.gz")).unwrap();
    data[3] = 0xE0; // reserved FLG bits
    let size = data.len();
    let got = read_memory(data);
    assert_eq!(
        got.warnings,
        [format!(
            "mem.cap: corrupt gzip data near compressed byte {size} \
             (Error -3 while decompressing data: unknown header flags set); file skipped"
        )]
    );
}

#[test]
fn a_file_that_is_not_a_capture_is_an_error() {
    let got = read_memory(b"hello world\n".to_vec());
    assert_eq!(
        got.error,
        Some(CaptureError(
            "mem.cap: not a capture file (magic 0x68656c6c)".to_owned()
        ))
    );
}

#[test]
fn a_missing_file_is_an_error_at_open() {
    let err = CaptureSource::open(&[fixture("no-such.pcap")], None)
        .err()
        .unwrap();
    assert!(
        err.0.ends_with("no-such.pcap: No such file or directory"),
        "{err}"
    );
}

#[test]
fn issue_8_damaged_fixtures_are_counted() {
    let got = read_files(&["damaged/timestamp-past-2262.pcapng"]);
    assert_eq!(counter(&got.source, "capture.bad_timestamp"), 2);
    assert_eq!(got.frames[2].0, got.frames[1].0);
    let got = read_files(&["damaged/unsupported-interface.pcapng"]);
    assert_eq!(got.frames.len(), 15);
    assert_eq!(
        counter(&got.source, "capture.unsupported_interface_packets"),
        3
    );
    let got = read_files(&["damaged/corrupt-header.pcap"]);
    assert_eq!(counter(&got.source, "capture.damaged_files"), 1);
    assert!(got.warnings[0].contains("corrupt file header at byte 0 (version 44510.61374)"));
}

#[test]
fn a_bpf_filter_keeps_matching_frames() {
    let paths = [fixture("sample.pcap")];
    let all = read(CaptureSource::open(&paths, None).unwrap());
    let https = read(CaptureSource::open(&paths, Some("tcp port 443")).unwrap());
    assert!(!https.frames.is_empty() && https.frames.len() < all.frames.len());
    assert_eq!(
        https.source.filtered_out() as usize,
        all.frames.len() - https.frames.len()
    );
}

/// xorshift64*: a reproducible stream of pseudo-random numbers without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, mut data: Vec<u8>) -> Vec<u8> {
    if rng.below(2) == 0 {
        let cut = rng.below(data.len() + 1);
        data.truncate(cut);
    }
    for _ in 0..rng.below(5) {
        let pos = rng.below(data.len() + 1);
        match rng.below(4) {
            0 if pos < data.len() => data[pos] = rng.next() as u8,
            1 => data.insert(pos, rng.next() as u8),
            2 if pos < data.len() => {
                data.remove(pos);
            }
            _ => {
                // a length field made huge or tiny: the readers' favourite corruption
                let value = [0_u32, 1, 12, 0xFFFF_FFFF, 0x0400_0000][rng.below(5)].to_le_bytes();
                for (i, b) in value.iter().enumerate() {
                    if let Some(slot) = data.get_mut(pos + i) {
                        *slot = *b;
                    }
                }
            }
        }
    }
    match rng.below(4) {
        0 => gzip(&data),
        1 => zstd::encode_all(&data[..], 1).unwrap(),
        _ => data,
    }
}

#[test]
fn randomly_damaged_captures_give_frames_and_one_line_warnings_never_a_panic() {
    let seeds: Vec<Vec<u8>> = [
        "tls13-basic.pcap",
        "tls13.pcapng",
        "tls13.pcap.gz",
        "tls13.pcap.zst",
        "sll2.pcap",
        "damaged/unsupported-interface.pcapng",
        "capture/dpkt.pcapng",
    ]
    .iter()
    .map(|n| std::fs::read(fixture(n)).unwrap())
    .collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3000 {
        let seed = &seeds[rng.below(seeds.len())];
        let data = mutate(&mut rng, seed.clone());
        if rng.below(10) == 0 {
            let read_cap = [7, 1500, usize::MAX][rng.below(3)];
            let files = [("mem.cap".to_owned(), data.clone())];
            assert_reader_thread_changes_nothing(&files, read_cap, rng.below(3));
        }
        let size = data.len() as u64;
        let mut source = CaptureSource::from_memory(vec![("mem.cap".to_owned(), data)], None);
        let mut batch = FrameBatch::new();
        let (mut frames, mut warnings) = (0_u64, Vec::new());
        let outcome = loop {
            match source.next_batch(&mut batch) {
                Ok(true) => frames += batch.len() as u64,
                Ok(false) => break Ok(()),
                Err(err) => break Err(err),
            }
            warnings.extend(source.take_warnings());
        };
        warnings.extend(source.take_warnings());
        assert!(warnings.len() <= 2, "{warnings:?}");
        assert!(warnings
            .iter()
            .all(|w| w.starts_with("mem.cap: ") && !w.contains('\n')));
        match outcome {
            Ok(()) => {
                assert_eq!(source.packets(), frames);
                assert_eq!(source.bytes_read(), size);
            }
            Err(err) => assert!(err.0.starts_with("mem.cap: ") && !err.0.contains('\n')),
        }
    }
}

/// Frames per second of the native reader alone on the capture named by `TLSMON_READ_SPEED_FILE`:
/// `cargo test --release --lib read_speed -- --ignored --nocapture` (a measurement, not a check).
#[test]
#[ignore = "a measurement; needs TLSMON_READ_SPEED_FILE"]
#[allow(clippy::cast_precision_loss)]
fn read_speed() {
    let path =
        PathBuf::from(std::env::var("TLSMON_READ_SPEED_FILE").expect("TLSMON_READ_SPEED_FILE"));
    for _ in 0..3 {
        let start = std::time::Instant::now();
        let mut source = CaptureSource::open(std::slice::from_ref(&path), None).unwrap();
        let mut batch = FrameBatch::new();
        let mut bytes = 0_usize;
        while source.next_batch(&mut batch).unwrap() {
            bytes += source.frames(&batch).map(|f| f.2.len()).sum::<usize>();
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{}: {} frames, {bytes} frame bytes in {secs:.3} s: {:.2} M frames/s, {:.0} MB/s",
            path.display(),
            source.packets(),
            source.packets() as f64 / secs / 1e6,
            source.total_bytes() as f64 / secs / 1e6
        );
    }
}

#[test]
fn the_reader_thread_gives_the_same_frames_warnings_and_counters() {
    // Chunk borders everywhere in a small file; 1 MiB chunks (the reads of a file on disk) in a large one.
    for (copies, read_cap) in [(10, 5), (400, 4096), (400, usize::MAX)] {
        let plain = repeated_pcap("tls13-basic.pcap", copies);
        let sections = copies / 8 + 1;
        let pcapng = std::fs::read(fixture("tls13.pcapng"))
            .unwrap()
            .repeat(sections);
        for (name, data, frames) in [
            ("plain", plain.clone(), 15 * copies),
            ("gzip", gzip(&plain), 15 * copies),
            (
                "zstd",
                zstd::encode_all(&plain[..], 1).unwrap(),
                15 * copies,
            ),
            ("pcapng", pcapng, 15 * sections),
        ] {
            for switch_after in [0, 3] {
                let got = assert_reader_thread_changes_nothing(
                    &[(format!("{name}.cap"), data.clone())],
                    read_cap,
                    switch_after,
                );
                assert!(got.warnings.is_empty(), "{name}: {:?}", got.warnings);
                assert_eq!(got.frames.len(), frames, "{name}");
            }
        }
    }
}

#[test]
fn a_record_longer_than_the_reader_threads_headroom_is_read_whole() {
    let mut data = repeated_pcap("tls13-basic.pcap", 20);
    data[16..20].copy_from_slice(&262_144_u32.to_le_bytes()); // snaplen
    let big = 200_000_u32;
    data.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
    data.extend_from_slice(&big.to_le_bytes());
    data.extend_from_slice(&big.to_le_bytes());
    data.extend((0..big).map(|i| (i % 251) as u8));
    data.extend_from_slice(&repeated_pcap("tls13-basic.pcap", 20)[24..]);
    for read_cap in [1000, 70_000, usize::MAX] {
        let got = assert_reader_thread_changes_nothing(
            &[("big.cap".to_owned(), data.clone())],
            read_cap,
            0,
        );
        assert_eq!(got.frames.len(), 15 * 40 + 1);
        assert_eq!(got.frames[300].2.len(), big as usize);
        assert_eq!(got.frames[300].2[1000], (1000 % 251) as u8);
    }
}

#[test]
fn the_reader_thread_ends_a_damaged_file_as_this_thread_does() {
    let plain = repeated_pcap("tls13-basic.pcap", 300);
    let mut truncated = plain.clone();
    truncated.truncate(plain.len() - 100);
    let mut cut_gzip = gzip(&plain);
    cut_gzip.truncate(cut_gzip.len() / 2);
    for (data, warning) in [
        (truncated, "truncated record at byte"),
        (cut_gzip, "truncated gzip stream at compressed byte"),
    ] {
        for read_cap in [3000, usize::MAX] {
            let got = assert_reader_thread_changes_nothing(
                &[("bad.cap".to_owned(), data.clone())],
                read_cap,
                1,
            );
            assert_eq!(got.warnings.len(), 1, "{:?}", got.warnings);
            assert!(got.warnings[0].contains(warning), "{:?}", got.warnings);
            assert_eq!(counter(&got.source, "capture.damaged_files"), 1);
        }
    }
}

#[test]
fn files_on_disk_read_on_a_reader_thread_give_the_same_frames() {
    let names = [
        "tls13-basic.pcap",
        "tls13.pcapng",
        "tls13.pcap.gz",
        "tls13.pcap.zst",
        "damaged/corrupt-header.pcap",
        "truncated.pcap",
    ];
    let paths: Vec<PathBuf> = names.iter().map(|n| fixture(n)).collect();
    let here = read(CaptureSource::open(&paths, None).unwrap());
    let mut source = CaptureSource::open(&paths, None).unwrap();
    source.use_reader_thread();
    let there = read(source);
    assert!(here.frames == there.frames);
    assert_eq!(here.warnings, there.warnings);
    assert_eq!(here.source.bytes_read(), there.source.bytes_read());
    assert_eq!(here.source.counters(), there.source.counters());
}

#[test]
fn a_source_can_move_to_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<CaptureSource>();
    assert_send::<FrameBatch>();
}
