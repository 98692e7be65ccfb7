//! The EC2/on-premises AppSpec: its model, parser and validator.
//!
//! `parse` accepts YAML (and therefore JSON) and returns either a fully validated [`AppSpec`] or every problem found,
//! each with its line and field, so that a user fixes all of them in one round.

mod ecs;
mod lambda;
mod model;
mod parse;
mod resource;

pub use ecs::{EcsAppSpec, EcsService, TaskDefinitionSource, parse_ecs};
pub use lambda::{LambdaAppSpec, LambdaFunction, parse_lambda};
pub use model::*;
pub use parse::parse;
