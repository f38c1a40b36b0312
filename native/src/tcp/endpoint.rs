//! Zeek's view of each TCP endpoint: its state and its sequence space, for conn.log's `orig_bytes`,
//! `resp_bytes` and `conn_state`. The same rules as tlsmon/tcp/endpoint.py (its docstring has the theory),
//! transcribed from Zeek's `src/analyzer/protocol/tcp/TCP.cc`.

use crate::tcp::connection::{ACK, FIN, RST, SYN};

pub const INACTIVE: u8 = 0;
pub const SYN_SENT: u8 = 1;
pub const SYN_ACK_SENT: u8 = 2;
pub const PARTIAL: u8 = 3;
pub const ESTABLISHED: u8 = 4;
pub const CLOSED: u8 = 5;
pub const RESET: u8 = 6;

/// A SYN or RST whose sequence number jumps further than this is not trusted (Zeek's TOO_LARGE_SEQ_DELTA).
const TOO_LARGE_SEQ_DELTA: i32 = 1_048_576;

/// One endpoint's state and sequence numbers (Zeek's `TCP_Endpoint`, the parts the row needs).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeqSpace {
    pub state: u8,
    pub prev_state: u8,
    pub start_seq: u32,
    pub last_seq: u32,
    pub ack_seq: u32,
    seq_wraps: u32,
    ack_wraps: u32,
    fin_cnt: u32,
    /// Sent a FIN or RST that closed it (Zeek's `did_close`).
    did_close: bool,
}

/// `a - b` as a signed 32-bit difference (RFC 1982 serial arithmetic).
fn seq_delta(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

impl SeqSpace {
    fn set_state(&mut self, state: u8) {
        if state != self.state {
            self.prev_state = self.state;
            self.state = state;
        }
    }

    fn init(&mut self, start: u32, last: u32) {
        self.start_seq = start;
        self.ack_seq = start;
        self.last_seq = last;
    }

    fn update_last(&mut self, seq: u32) {
        if seq < self.last_seq {
            self.seq_wraps += 1;
        }
        self.last_seq = seq;
    }

    fn update_ack(&mut self, seq: u32) {
        if seq < self.ack_seq {
            self.ack_wraps += 1;
        }
        self.ack_seq = seq;
    }

    fn no_data_acked(&self) -> bool {
        let ack = (u64::from(self.ack_wraps) << 32) | u64::from(self.ack_seq);
        let start = u64::from(self.start_seq);
        ack == start || ack == start + 1
    }

    /// Zeek's `TCP_Endpoint::Size`: stream bytes by sequence space, SYN and FIN not counted.
    pub fn size(&self, peer: &SeqSpace) -> u64 {
        if self.prev_state == SYN_SENT
            && self.state == RESET
            && peer.state == INACTIVE
            && !self.no_data_acked()
        {
            return 0; // a half-open connection discovered and aborted: its numbers mean nothing
        }
        let last = (u64::from(self.seq_wraps) << 32) | u64::from(self.last_seq);
        let ack = (u64::from(self.ack_wraps) << 32) | u64::from(self.ack_seq);
        let size = last
            .max(ack)
            .wrapping_sub(u64::from(self.start_seq))
            .saturating_sub(1);
        if self.fin_cnt > 0 {
            size.saturating_sub(1)
        } else {
            size
        }
    }

    #[allow(clippy::match_same_arms)] // one arm per Zeek endpoint state, as in init_endpoint()
    fn init_endpoint(&mut self, flags: u8, first: u32, past: u32) {
        let syn = flags & SYN != 0;
        match self.state {
            INACTIVE if syn => self.init(first, past),
            INACTIVE => self.init(first.wrapping_sub(1), first),
            SYN_SENT | SYN_ACK_SENT if syn && first != self.start_seq => self.init(first, past),
            ESTABLISHED | PARTIAL if syn => self.init(first, past),
            RESET if syn && self.prev_state == INACTIVE => self.init(first, past),
            _ => {}
        }
    }

    fn update_last_seq(&mut self, past: u32, flags: u8) {
        let delta = seq_delta(past, self.last_seq);
        if flags & (SYN | RST) != 0
            && !(-TOO_LARGE_SEQ_DELTA..=TOO_LARGE_SEQ_DELTA).contains(&delta)
        {
            return;
        }
        if flags & FIN != 0 && self.last_seq == self.start_seq.wrapping_add(1) {
            self.update_last(past);
        } else if self.state == RESET {
        } else if delta > 0 {
            self.update_last(past);
        }
    }

    /// Zeek's `get_relative_seq` underflow test: before the endpoint's start while no wrap is counted.
    fn underflow(&self, value: u32) -> bool {
        let mut wraps = self.ack_wraps;
        let delta = seq_delta(value, self.ack_seq);
        if delta < 0 {
            if wraps > 0 && value > self.ack_seq {
                wraps -= 1;
            }
        } else if delta > 0 && value < self.ack_seq {
            wraps += 1;
        }
        wraps == 0 && seq_delta(value, self.start_seq) < 0
    }
}

/// The two endpoints of a connection, the originator's first.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints {
    pub orig: SeqSpace,
    pub resp: SeqSpace,
    /// Zeek's last time of the connection: the last packet before both endpoints had closed (`duration`).
    pub last_ts: i64,
}

impl Endpoints {
    /// Update the sender's and its peer's numbers and states for one segment, as Zeek's
    /// `TCP_Analyzer::DeliverPacket` does.
    pub fn track(&mut self, ts: i64, is_orig: bool, flags: u8, seq: u32, ack: u32, plen: usize) {
        if !(self.orig.did_close && self.resp.did_close) {
            self.last_ts = ts;
        }
        let plen_seq = plen as u32;
        let mut seg_len = plen_seq;
        if flags & SYN != 0 {
            seg_len = seg_len.wrapping_add(1);
        }
        if flags & FIN != 0 {
            seg_len = seg_len.wrapping_add(1);
        }
        if flags & RST != 0 {
            seg_len = seg_len.wrapping_sub(plen_seq);
        }
        let past = seq.wrapping_add(seg_len);
        let orig_state = self.orig.state;
        let (ep, peer) = if is_orig {
            (&mut self.orig, &mut self.resp)
        } else {
            (&mut self.resp, &mut self.orig)
        };
        ep.init_endpoint(flags, seq, past);
        if flags & FIN != 0 {
            ep.fin_cnt += 1;
        }
        if flags & ACK != 0 {
            if peer.state == INACTIVE {
                peer.init(ack.wrapping_sub(1), ack.wrapping_sub(1));
            } else if !peer.underflow(ack) && flags & RST == 0 {
                let delta = seq_delta(ack, peer.ack_seq);
                if !(ack == 0 && delta > TOO_LARGE_SEQ_DELTA) && delta > 0 {
                    peer.update_ack(ack);
                }
            }
        }
        ep.update_last_seq(past, flags);
        update_state(ep, peer, orig_state, is_orig, flags, seq, plen);
    }
}

fn update_state(
    ep: &mut SeqSpace,
    peer: &mut SeqSpace,
    orig_state: u8,
    is_orig: bool,
    flags: u8,
    seq: u32,
    plen: usize,
) {
    if flags & (FIN | RST) != 0 && ep.state != CLOSED && ep.state != RESET {
        ep.did_close = true; // Zeek's do_close: ConnectionClosed() marks the endpoint
    }
    match ep.state {
        INACTIVE => {
            if flags & SYN != 0 {
                if is_orig {
                    ep.set_state(if flags & ACK != 0 {
                        SYN_ACK_SENT
                    } else {
                        SYN_SENT
                    });
                } else {
                    if flags & ACK == 0 && peer.state == SYN_ACK_SENT && seq == ep.start_seq {
                        peer.set_state(ESTABLISHED); // SYN/SYN-ACK reversal (Zeek also flips the roles)
                    }
                    if peer.state == SYN_SENT {
                        peer.set_state(ESTABLISHED);
                    }
                    ep.set_state(ESTABLISHED);
                }
            }
            if flags & FIN != 0 {
                ep.set_state(CLOSED);
            }
            if flags & RST != 0 {
                ep.set_state(RESET);
            }
            if ep.state == INACTIVE {
                if !is_orig && plen == 0 && orig_state == SYN_SENT {
                    // an ACK of the SYN before the SYN-ACK: not a partial connection
                } else if flags & ACK != 0 && peer.state == ESTABLISHED {
                    ep.set_state(ESTABLISHED); // the SYN was missed, the SYN-ACK was not
                } else {
                    ep.set_state(PARTIAL);
                }
            }
        }
        SYN_SENT | SYN_ACK_SENT => {
            if flags & FIN != 0 {
                ep.set_state(CLOSED);
            }
            if flags & RST != 0 {
                ep.set_state(RESET);
            }
        }
        ESTABLISHED | PARTIAL => {
            if flags & SYN != 0 && ep.state == PARTIAL && peer.state == INACTIVE && flags & ACK == 0
            {
                ep.set_state(SYN_SENT);
            }
            if flags & FIN != 0 && flags & RST == 0 {
                ep.set_state(CLOSED);
                if peer.state == RESET && peer.prev_state == CLOSED {
                    peer.set_state(CLOSED); // the peer's FIN then RST was a normal close
                }
            }
            if flags & RST != 0 {
                ep.set_state(RESET);
            }
        }
        CLOSED if flags & RST != 0 && peer.state != CLOSED => ep.set_state(RESET),
        _ => {}
    }
}

/// Zeek's `conn_state` (base/protocols/conn/main.zeek) from the two endpoint states (`conn_state` of
/// tlsmon/tcp/endpoint.py).
pub fn conn_state(
    orig: u8,
    resp: u8,
    orig_size: u64,
    resp_size: u64,
    history: &str,
) -> &'static str {
    let o_inactive = orig == INACTIVE || orig == PARTIAL;
    let r_inactive = resp == INACTIVE || resp == PARTIAL;
    if resp == RESET {
        if orig == SYN_SENT
            || orig == SYN_ACK_SENT
            || (orig == RESET && orig_size == 0 && resp_size == 0)
        {
            return "REJ";
        }
        return if o_inactive { "RSTRH" } else { "RSTR" };
    }
    if orig == RESET {
        if r_inactive {
            return if syn_then_reset(history) {
                "RSTOS0"
            } else {
                "OTH"
            };
        }
        return "RSTO";
    }
    match (orig, resp) {
        (CLOSED, CLOSED) => "SF",
        (CLOSED, _) => {
            if r_inactive {
                "SH"
            } else {
                "S2"
            }
        }
        (_, CLOSED) => {
            if o_inactive {
                "SHR"
            } else {
                "S3"
            }
        }
        (SYN_SENT, INACTIVE) => "S0",
        (ESTABLISHED, ESTABLISHED) => "S1",
        _ => "OTH",
    }
}

/// Zeek's `/\^?S[^HAFGIQ]*R.*/ == history`: the originator's SYN, then its RST, nothing answered.
fn syn_then_reset(history: &str) -> bool {
    let h = history.strip_prefix('^').unwrap_or(history);
    let Some(rest) = h.strip_prefix('S') else {
        return false;
    };
    for ch in rest.chars() {
        if ch == 'R' {
            return true;
        }
        if "HAFGIQ".contains(ch) {
            return false;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_handshake_counts_payload_bytes_only() {
        let mut e = Endpoints::default();
        e.track(0, true, SYN, 1000, 0, 0);
        e.track(0, false, SYN | ACK, 5000, 1001, 0);
        e.track(0, true, ACK, 1001, 5001, 0);
        e.track(0, true, ACK, 1001, 5001, 100);
        e.track(0, true, ACK, 1001, 5001, 100); // retransmission: not counted again
        e.track(0, false, ACK, 5001, 1101, 40);
        e.track(0, true, FIN | ACK, 1101, 5041, 0);
        e.track(0, false, FIN | ACK, 5041, 1102, 0);
        e.track(0, true, ACK, 1102, 5042, 0);
        assert_eq!(e.orig.size(&e.resp), 100);
        assert_eq!(e.resp.size(&e.orig), 40);
        assert_eq!((e.orig.state, e.resp.state), (CLOSED, CLOSED));
    }

    #[test]
    fn bytes_acknowledged_but_never_seen_count() {
        let mut e = Endpoints::default();
        e.track(0, true, SYN, 10, 0, 0);
        e.track(0, false, SYN | ACK, 90, 11, 0);
        e.track(0, false, ACK, 91, 11, 0);
        e.track(0, true, ACK, 11, 1091, 0); // the responder's 1000 bytes were lost before the capture
        assert_eq!(e.resp.size(&e.orig), 1000);
    }
}
