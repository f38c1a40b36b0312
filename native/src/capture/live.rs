//! A live capture handle through libpcap (the `pcap` crate): the native twin of the handle inside
//! `tlsmon/capture/live.py`'s `LiveSource`, which keeps the polling, the fanout join, the presence check and
//! the widening of libpcap's 32-bit counters. Packets are read here, non-blocking, straight from libpcap's
//! ring into the decoder and the flow table: no Python object per packet.

use std::os::fd::AsRawFd;

use ::pcap::{Active, Capture, Error, Precision};

use crate::capture::bpf::py_repr;
use crate::capture::errors::CaptureError;
use crate::capture::linktypes::{is_supported, linktype_name};

/// libpcap's DLT_RAW and DLT_LOOP on Linux, and the LINKTYPE_ values files (and the decoder) use for them.
const DLT_RAW: i32 = 12;
const LINKTYPE_RAW: u32 = 101;
const DLT_LOOP: i32 = 108;
const LINKTYPE_LOOP: u32 = 108;

pub struct LiveCapture {
    capture: Option<Capture<Active>>,
    pub interface: String,
    pub linktype: u32,
    pub packets: u64,
    pub bytes: u64,
}

/// libpcap's own message, without the crate's "libpcap error: " prefix.
fn reason(err: &Error) -> String {
    match err {
        Error::PcapError(message) => message.clone(),
        other => other.to_string(),
    }
}

impl LiveCapture {
    /// Opens `interface` non-blocking with a 100 ms ring timeout (the caller waits on [`Self::fileno`]),
    /// nanosecond timestamps, and the filter if one is given. Errors are the Python source's texts.
    pub fn open(
        interface: &str,
        bpf: Option<&str>,
        snaplen: i32,
        buffer_bytes: i32,
        promisc: bool,
        timeout_ms: i32,
    ) -> Result<Self, CaptureError> {
        let cannot =
            |e: &Error| CaptureError(format!("{interface}: cannot capture ({})", reason(e)));
        let mut inactive = Capture::from_device(interface)
            .map_err(|e| cannot(&e))?
            .snaplen(snaplen)
            .promisc(promisc)
            .timeout(timeout_ms)
            .immediate_mode(false)
            .precision(Precision::Nano);
        if buffer_bytes > 0 {
            inactive = inactive.buffer_size(buffer_bytes);
        }
        let mut capture = inactive.open().map_err(|e| cannot(&e))?;
        let linktype = match capture.get_datalink().0 {
            DLT_RAW => LINKTYPE_RAW,
            DLT_LOOP => LINKTYPE_LOOP,
            dlt => dlt as u32,
        };
        if !is_supported(linktype) {
            return Err(CaptureError(format!(
                "{interface}: unsupported link type {linktype} ({})",
                linktype_name(linktype)
            )));
        }
        if let Some(expr) = bpf.filter(|e| !e.is_empty()) {
            capture.filter(expr, true).map_err(|e| {
                CaptureError(format!(
                    "{interface}: invalid BPF filter {}: {}",
                    py_repr(expr),
                    reason(&e)
                ))
            })?;
        }
        let capture = capture.setnonblock().map_err(|e| cannot(&e))?;
        Ok(LiveCapture {
            capture: Some(capture),
            interface: interface.to_string(),
            linktype,
            packets: 0,
            bytes: 0,
        })
    }

    /// The descriptor to wait on (poll) before reading.
    pub fn fileno(&self) -> Option<i32> {
        self.capture.as_ref().map(AsRawFd::as_raw_fd)
    }

    /// Hands the packets ready now to `take` (timestamp in ns, link type, frame) until `take` returns false
    /// or none is ready; returns whether `take` asked to stop (more may be ready).
    pub fn read_ready(
        &mut self,
        mut take: impl FnMut(i64, u32, &[u8]) -> bool,
    ) -> Result<bool, CaptureError> {
        let Some(capture) = self.capture.as_mut() else {
            return Ok(false);
        };
        loop {
            match capture.next_packet() {
                Ok(packet) => {
                    #[allow(clippy::useless_conversion)]
                    // time_t and suseconds_t are i64 here, not everywhere
                    let ts = i64::from(packet.header.ts.tv_sec)
                        .saturating_mul(1_000_000_000)
                        .saturating_add(i64::from(packet.header.ts.tv_usec));
                    self.packets += 1;
                    self.bytes += packet.data.len() as u64;
                    if !take(ts, self.linktype, packet.data) {
                        return Ok(true);
                    }
                }
                Err(Error::TimeoutExpired) => return Ok(false),
                Err(err) => {
                    return Err(CaptureError(format!(
                        "{}: capture failed ({})",
                        self.interface,
                        reason(&err)
                    )));
                }
            }
        }
    }

    /// libpcap's counters (received, dropped, interface-dropped), 32-bit as libpcap keeps them; None once
    /// closed or when the handle failed.
    pub fn stats(&mut self) -> Option<(u32, u32, u32)> {
        let stat = self.capture.as_mut()?.stats().ok()?;
        Some((stat.received, stat.dropped, stat.if_dropped))
    }

    pub fn close(&mut self) {
        self.capture = None;
    }
}
