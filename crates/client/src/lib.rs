//! Typed HTTP clients for Cutover: [`api::ApiClient`] speaks the CodeDeploy JSON 1.1 API (used by the CLI and
//! tests), [`agent::AgentClient`] speaks the host agent protocol (used by the agent).

pub mod agent;
pub mod api;
mod sign;

pub use cutover_auth::Credentials;
