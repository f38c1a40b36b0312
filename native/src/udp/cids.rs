//! QUIC connection IDs as the UDP flow table reads them: the native twin of tlsmon/udp/cids.py (its docstring
//! has the theory), held equal to it by tests/engines.
//!
//! IDs are learned from the first packet of each datagram of a flow when it is a long header of a known QUIC
//! version (its DCID addresses the receiver, its SCID the sender), and looked up for a datagram of an unknown
//! 4-tuple: a long header's DCID field, or a short header's bytes after the first byte at each length a live ID
//! has. At most [`MAX_CIDS_PER_FLOW`] IDs of [`MIN_INDEXED_CID`] bytes or more per flow; the first flow to learn
//! an ID keeps it, and it leaves the index when that flow ends.

use std::collections::HashMap;

use ahash::RandomState;

pub const QUIC_V1: u32 = 0x0000_0001;
pub const QUIC_V2: u32 = 0x6b33_43cf;
/// IETF drafts 29 to 32 share draft-29's layout.
pub const QUIC_DRAFT_29: u32 = 0xff00_001d;
pub const QUIC_DRAFT_32: u32 = 0xff00_0020;
/// RFC 9000 §17.2: a v1/v2 connection ID is at most 20 bytes.
pub const MAX_CID_LENGTH: usize = 20;
/// Shorter IDs are not indexed: too likely to match the bytes of an unrelated datagram.
pub const MIN_INDEXED_CID: usize = 4;
/// A flow's IDs: the client's first DCID, both SCIDs, and a Retry's SCID.
pub const MAX_CIDS_PER_FLOW: usize = 4;
/// 4-tuples one flow may hold (its first and the paths it moved to).
pub const MAX_PATHS_PER_FLOW: usize = 8;

/// A connection ID, kept inline (unused bytes zero, so equality and hashing see only the ID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cid {
    len: u8,
    bytes: [u8; MAX_CID_LENGTH],
}

impl Cid {
    /// None when longer than 20 bytes.
    pub fn new(id: &[u8]) -> Option<Self> {
        if id.len() > MAX_CID_LENGTH {
            return None;
        }
        let mut bytes = [0; MAX_CID_LENGTH];
        bytes[..id.len()].copy_from_slice(id);
        Some(Self {
            len: u8::try_from(id.len()).ok()?,
            bytes,
        })
    }

    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

fn is_known_version(version: u32) -> bool {
    version == QUIC_V1 || version == QUIC_V2 || (QUIC_DRAFT_29..=QUIC_DRAFT_32).contains(&version)
}

/// The DCID and SCID of the datagram's first packet if it is a long header of a known QUIC version.
pub fn long_header_cids(d: &[u8]) -> Option<(&[u8], &[u8])> {
    if d.len() < 7 || d[0] & 0x80 == 0 {
        return None;
    }
    if !is_known_version(u32::from_be_bytes([d[1], d[2], d[3], d[4]])) {
        return None;
    }
    let dcid_len = usize::from(d[5]);
    let mut pos = 6;
    if dcid_len > MAX_CID_LENGTH || pos + dcid_len + 1 > d.len() {
        return None;
    }
    let dcid = &d[pos..pos + dcid_len];
    pos += dcid_len;
    let scid_len = usize::from(d[pos]);
    pos += 1;
    if scid_len > MAX_CID_LENGTH || pos + scid_len > d.len() {
        return None;
    }
    Some((dcid, &d[pos..pos + scid_len]))
}

/// Connection ID → (flow id, whether the ID addresses the flow's originator), for the live flows.
#[derive(Default)]
pub struct CidIndex {
    by_cid: HashMap<Cid, (u64, bool), RandomState>,
    /// Live IDs of each length: the lengths a short header is tried at.
    lengths: [u32; MAX_CID_LENGTH + 1],
}

impl CidIndex {
    pub fn len(&self) -> usize {
        self.by_cid.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_cid.is_empty()
    }

    /// Note `cid` for flow `flow` (`known`: the flow's IDs so far, appended to) unless it is too short, the
    /// flow has its fill, or the ID is already known.
    pub fn learn(&mut self, flow: u64, known: &mut Vec<Cid>, cid: &[u8], addressed_is_orig: bool) {
        if cid.len() < MIN_INDEXED_CID || known.len() >= MAX_CIDS_PER_FLOW {
            return;
        }
        let Some(cid) = Cid::new(cid) else {
            return;
        };
        if known.contains(&cid) {
            return;
        }
        known.push(cid);
        if let std::collections::hash_map::Entry::Vacant(slot) = self.by_cid.entry(cid) {
            slot.insert((flow, addressed_is_orig));
            self.lengths[cid.len()] += 1;
        }
    }

    /// The flow ended: its IDs leave the index (those another flow learned first stay that flow's).
    pub fn forget(&mut self, flow: u64, known: &[Cid]) {
        for cid in known {
            if self
                .by_cid
                .get(cid)
                .is_some_and(|&(owner, _)| owner == flow)
            {
                self.by_cid.remove(cid);
                self.lengths[cid.len()] -= 1;
            }
        }
    }

    /// The flow a datagram names by its DCID, and whether that ID addresses the flow's originator.
    pub fn lookup(&self, d: &[u8]) -> Option<(u64, bool)> {
        if self.by_cid.is_empty() || d.is_empty() {
            return None;
        }
        if d[0] & 0x80 != 0 {
            if d.len() < 6 {
                return None;
            }
            let dcid_len = usize::from(d[5]);
            if !(MIN_INDEXED_CID..=MAX_CID_LENGTH).contains(&dcid_len) || 6 + dcid_len > d.len() {
                return None;
            }
            return self.by_cid.get(&Cid::new(&d[6..6 + dcid_len])?).copied();
        }
        let longest = MAX_CID_LENGTH.min(d.len() - 1);
        (MIN_INDEXED_CID..=longest)
            .filter(|&len| self.lengths[len] > 0)
            .find_map(|len| self.by_cid.get(&Cid::new(&d[1..=len])?).copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A v1 Initial's first bytes: long header, version, DCID, SCID (the rest does not matter here).
    fn initial(dcid: &[u8], scid: &[u8]) -> Vec<u8> {
        let mut d = vec![0xc3, 0, 0, 0, 1];
        d.push(u8::try_from(dcid.len()).unwrap());
        d.extend_from_slice(dcid);
        d.push(u8::try_from(scid.len()).unwrap());
        d.extend_from_slice(scid);
        d.extend_from_slice(&[0, 0x41, 0x00]);
        d
    }

    fn short(dcid: &[u8]) -> Vec<u8> {
        let mut d = vec![0x43];
        d.extend_from_slice(dcid);
        d.extend_from_slice(b"protected payload");
        d
    }

    #[test]
    fn a_known_versions_long_header_gives_its_two_ids() {
        let d = initial(b"\x01\x02\x03\x04\x05\x06\x07\x08", b"\xaa\xbb\xcc\xdd");
        assert_eq!(
            long_header_cids(&d),
            Some((
                &b"\x01\x02\x03\x04\x05\x06\x07\x08"[..],
                &b"\xaa\xbb\xcc\xdd"[..]
            ))
        );
    }

    #[test]
    fn an_unknown_version_or_a_short_header_gives_none() {
        let mut d = initial(b"12345678", b"abcd");
        d[4] = 9;
        assert_eq!(long_header_cids(&d), None);
        assert_eq!(long_header_cids(&short(b"12345678")), None);
    }

    #[test]
    fn an_id_past_the_datagram_gives_none() {
        let d = initial(b"12345678", b"abcd");
        assert_eq!(long_header_cids(&d[..10]), None);
    }

    #[test]
    fn a_short_header_names_its_flow_at_a_learned_length() {
        let (mut index, mut known) = (CidIndex::default(), Vec::new());
        index.learn(7, &mut known, b"server01", false);
        assert_eq!(index.lookup(&short(b"server01")), Some((7, false)));
        assert_eq!(index.lookup(&short(b"server02")), None);
    }

    #[test]
    fn a_long_header_names_its_flow_by_its_dcid_field() {
        let (mut index, mut known) = (CidIndex::default(), Vec::new());
        index.learn(3, &mut known, b"client-1", true);
        assert_eq!(index.lookup(&initial(b"client-1", b"")), Some((3, true)));
        assert_eq!(index.lookup(&initial(b"client-", b"1")), None);
    }

    #[test]
    fn ids_shorter_than_four_bytes_are_not_indexed() {
        let (mut index, mut known) = (CidIndex::default(), Vec::new());
        index.learn(1, &mut known, b"abc", true);
        index.learn(1, &mut known, b"", true);
        assert!(index.is_empty() && known.is_empty());
    }

    #[test]
    fn a_flow_keeps_at_most_four_ids() {
        let (mut index, mut known) = (CidIndex::default(), Vec::new());
        for id in [b"id-1", b"id-2", b"id-3", b"id-4", b"id-5"] {
            index.learn(1, &mut known, id, true);
        }
        assert_eq!((known.len(), index.len()), (4, 4));
        assert_eq!(index.lookup(&short(b"id-5")), None);
    }

    #[test]
    fn the_first_flow_to_learn_an_id_keeps_it_until_it_ends() {
        let (mut index, mut first, mut second) = (CidIndex::default(), Vec::new(), Vec::new());
        index.learn(1, &mut first, b"shared-id", true);
        index.learn(2, &mut second, b"shared-id", false);
        index.forget(2, &second);
        assert_eq!(index.lookup(&short(b"shared-id")), Some((1, true)));
        index.forget(1, &first);
        assert_eq!((index.lookup(&short(b"shared-id")), index.len()), (None, 0));
        assert_eq!(index.lengths[9], 0);
    }
}
