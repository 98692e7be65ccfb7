//! End-to-end traffic tests: real upstream HTTP servers, the real `cutover-router` binary, real HAProxy.

mod builtin;
mod common;
mod control;
mod haproxy;
