//! The service's domain: operations, names and ARNs, event times, and feature group definitions with the rules
//! CreateFeatureGroup enforces.

pub mod constraints;
pub mod event_time;
pub mod feature_group;
pub mod names;
pub mod operation;
pub mod text;
