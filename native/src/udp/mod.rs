//! The UDP stage: the flow table for TLS over UDP (QUIC, DTLS); datagrams out to Python as events.

pub mod cids;
pub mod flows;
