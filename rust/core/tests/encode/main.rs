//! The encoder, the schema check and the feature group model, in one test binary (each test binary links the
//! whole crate, so few binaries build faster).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod definitions;
mod event_time;
mod failures;
mod fuzz;
mod limits;
mod model;
mod offline;
mod roundtrip;
mod schema;
mod support;
mod values;
