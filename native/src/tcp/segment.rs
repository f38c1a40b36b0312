//! Placeholder for the decode stage's output until `crate::decode` lands: the same names and shapes.

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Addr {
    V4(u32),
    V6([u8; 16]),
}

#[derive(Debug)]
pub struct Segment<'a> {
    pub ip_version: u8,
    pub src: Addr,
    pub dst: Addr,
    pub sport: u16,
    pub dport: u16,
    pub flags: u8,
    pub seq: u32,
    pub ack: u32,
    pub payload: &'a [u8],
    pub vlan: Option<u16>,
}
