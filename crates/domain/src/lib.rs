//! Cutover's pure domain: the AppSpec, deployment configurations, the rolling planner, tag filters and the
//! deployment and instance state machines.
//!
//! Architecture invariant: nothing in this crate performs I/O, reads a clock or draws randomness. Time and
//! identifiers are passed in by the caller, so every function here is deterministic and table-testable.

pub mod appspec;
pub mod config;
pub mod ids;
pub mod lifecycle;
pub mod planner;
pub mod status;
pub mod tags;
pub mod time;
pub mod traffic;
pub mod zonal;
