//! The TCP stage: flow table, per-direction reassembly, bypass, connection end; events out to Python.

pub mod connection;
pub mod endpoint;
pub mod events;
pub mod reassembly;
pub mod tracker;
