//! The sink against a real featurestore-local (flow, retries, terminal errors, the APIs, reading back, the
//! accounting invariant, the service's limit), the transports on the wire, and the adaptive rate on a simulated
//! clock: one test binary (each links the whole crate, so few binaries build faster).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod apis;
mod at_limit;
mod deletes;
mod feature_groups;
mod flow;
mod invariant;
mod panics;
mod readback;
mod retries;
mod support;
mod terminal;
mod throughput_sim;
mod transport_wire;
