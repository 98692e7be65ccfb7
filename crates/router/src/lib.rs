//! Traffic routing for Cutover.
//!
//! [`TrafficController`] is the one interface the server shifts traffic through: it sets a pool's members (weights
//! and states) in one call and reads them back with health and in-flight counts. Two drivers implement it:
//! [`BuiltinRouter`] drives the `cutover-router` binary built from this crate (the [`proxy`] and its [`control`] API),
//! and [`HaproxyRuntime`] drives HAProxy through its Runtime API. `docs/traffic.md` describes both.

mod client;
pub mod config;
pub mod control;
pub mod driver;
mod haproxy;
mod pool;
pub mod proxy;
pub mod service;

pub use client::{BUILTIN_MAX_WEIGHT, BuiltinRouter};
pub use driver::{
    Member, MemberState, MemberStatus, RouterConfig, TrafficController, TrafficError, connect, validate_members,
};
pub use haproxy::{HAPROXY_MAX_WEIGHT, HaproxyRuntime};
pub use pool::Pool;
