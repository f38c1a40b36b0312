//! tlsmon's compiled core. Each module mirrors a stage of the Python package (`tlsmon/capture`, `decode`,
//! `tcp`, `udp`, `tls`); `python` holds the PyO3 bindings, the only place that knows about Python.

pub mod capture;
pub mod decode;
pub mod dispatch;
pub mod python;
pub mod records;
pub mod tcp;
pub mod tls;
pub mod udp;

/// The core's own allocations (reassembly buffers, TLS summaries, rows) come from mimalloc; see
/// docs/dependencies.md for what it saved.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
