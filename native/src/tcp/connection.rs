//! One TCP connection's state: two halves (one per sender), the history letters and how it ended.

use crate::decode::Addr;
use crate::dispatch::Dispatch;
use crate::tcp::endpoint::Endpoints;
use crate::tcp::reassembly::Reassembler;

/// Why a connection's record was written (column `end_reason`); the same words as tlsmon/tcp/connection.py.
pub const END_FIN: &str = "fin";
pub const END_RST: &str = "rst";
pub const END_TIMEOUT: &str = "timeout";
pub const END_EOF: &str = "eof";
pub const END_EVICTED: &str = "evicted";
pub const END_INTERRUPTED: &str = "interrupted";
/// The `end_reason` of an interim record: the connection is still open.
pub const END_INTERIM: &str = "interim";

/// A direction's 4-tuple: sender address, sender port, receiver address, receiver port.
pub type Key = (Addr, u16, Addr, u16);

/// One direction of a connection: what its sender sent.
#[derive(Debug)]
pub struct Half {
    pub pkts: u64,
    pub bytes: u64,
    pub last_ts: i64,
    pub fin: bool,
    pub reasm: Option<Reassembler>,
}

impl Half {
    fn new(ts: i64) -> Self {
        Half {
            pkts: 0,
            bytes: 0,
            last_ts: ts,
            fin: false,
            reasm: None,
        }
    }
}

#[derive(Debug)]
#[allow(clippy::struct_excessive_bools)] // independent facts of one connection, not a state machine
pub struct Connection {
    /// Creation serial: the id Python knows the connection by.
    pub id: u64,
    pub start_ts: i64,
    pub ip_version: u8,
    pub orig_h: Addr,
    pub orig_p: u16,
    pub resp_h: Addr,
    pub resp_p: u16,
    pub vlan: Option<u16>,
    pub orig: Half,
    pub resp: Half,
    pub history: String,
    /// History letters present (bit per letter and direction), so a letter costs one test.
    letters: u16,
    pub syn_seen: bool,
    pub rst: bool,
    /// After an RST: `is_orig` of the direction still reassembled (the reset's receiver).
    pub rst_open_side: Option<bool>,
    pub closed_ts: Option<i64>,
    pub end_reason: &'static str,
    pub bypass: bool,
    /// `tcp.global_buffer_cap` was reported for this connection (once per row).
    pub global_cap_named: bool,
    /// Bumped where the Python tracker asks whether the consumer is finished (see `events`).
    pub epoch: u32,
    /// Zeek's endpoint states and sequence spaces (`endpoint`).
    pub seqs: Endpoints,
    /// Where the stream goes: Python's dispatcher or the native TLS analyzer (`crate::dispatch`).
    pub dispatch: Dispatch,
}

impl Connection {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: u64,
        ts: i64,
        ip_version: u8,
        orig_h: Addr,
        orig_p: u16,
        resp_h: Addr,
        resp_p: u16,
        vlan: Option<u16>,
    ) -> Self {
        Connection {
            id,
            start_ts: ts,
            ip_version,
            orig_h,
            orig_p,
            resp_h,
            resp_p,
            vlan,
            orig: Half::new(ts),
            resp: Half::new(ts),
            history: String::new(),
            letters: 0,
            syn_seen: false,
            rst: false,
            rst_open_side: None,
            closed_ts: None,
            end_reason: END_EOF,
            bypass: false,
            global_cap_named: false,
            epoch: 0,
            seqs: Endpoints::default(),
            dispatch: Dispatch::Python,
        }
    }

    pub fn orig_key(&self) -> Key {
        (self.orig_h, self.orig_p, self.resp_h, self.resp_p)
    }

    pub fn resp_key(&self) -> Key {
        (self.resp_h, self.resp_p, self.orig_h, self.orig_p)
    }

    pub fn half(&mut self, is_orig: bool) -> &mut Half {
        if is_orig {
            &mut self.orig
        } else {
            &mut self.resp
        }
    }

    /// Both halves, the sender's first.
    pub fn halves(&mut self, is_orig: bool) -> (&mut Half, &mut Half) {
        if is_orig {
            (&mut self.orig, &mut self.resp)
        } else {
            (&mut self.resp, &mut self.orig)
        }
    }

    /// Both halves, the sender's first, and the dispatch their streams go to.
    pub fn streams(&mut self, is_orig: bool) -> (&mut Half, &mut Half, &mut Dispatch) {
        if is_orig {
            (&mut self.orig, &mut self.resp, &mut self.dispatch)
        } else {
            (&mut self.resp, &mut self.orig, &mut self.dispatch)
        }
    }

    pub fn last_ts(&self) -> i64 {
        self.orig.last_ts.max(self.resp.last_ts)
    }

    /// Zeek's conn.log history letters, each recorded once per direction; upper case for the originator.
    pub fn add_history(&mut self, is_orig: bool, flags: u8, plen: usize) {
        let letter = if flags & SYN != 0 {
            if flags & ACK == 0 {
                b'S'
            } else {
                b'H'
            }
        } else if flags & FIN != 0 {
            b'F'
        } else if flags & RST != 0 {
            b'R'
        } else if plen > 0 {
            b'D'
        } else if flags & ACK != 0 {
            b'A'
        } else {
            return;
        };
        self.add_letter(letter, is_orig);
        if plen > 0 && flags & (SYN | FIN | RST) != 0 {
            self.add_letter(b'D', is_orig);
        }
    }

    fn add_letter(&mut self, letter: u8, is_orig: bool) {
        let index = match letter {
            b'S' => 0,
            b'H' => 1,
            b'F' => 2,
            b'R' => 3,
            b'D' => 4,
            _ => 5, // b'A'
        };
        let bit = 1u16 << (index + if is_orig { 0 } else { 6 });
        if self.letters & bit == 0 {
            self.letters |= bit;
            self.history.push(char::from(if is_orig {
                letter
            } else {
                letter.to_ascii_lowercase()
            }));
        }
    }
}

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const ACK: u8 = 0x10;
