//! Connection rows written natively as Arrow columns (`tlsmon/records`): the transport half's computed
//! columns (`conn`), Zeek's (`zeek`), and the batch Python takes (`batch`).

pub mod batch;
pub mod conn;
pub mod zeek;
