//! The container substrate of Cutover's ECS compute platform: what the host agent calls to run container services on
//! its local Docker engine (`docs/containers.md`).
//!
//! - [`TaskDefinition`]: a service revision (containers, ports, HTTP health checks, desired count), from JSON or
//!   YAML, validated with every problem named by its field.
//! - [`TaskSets`]: task sets on the engine: start, wait until healthy, reconcile to a count (replacing dead and
//!   unhealthy tasks), stop, list, logs. Every container is labelled, so the state is rediscovered after a restart.
//! - `testimage` (feature `test-support`): builds small test images with `docker import`, since no image can be
//!   pulled where the tests run.

pub mod definition;
mod driver;
mod error;
mod health;
#[cfg(feature = "test-support")]
pub mod testimage;

pub use definition::{
    ContainerDefinition, FieldProblem, Format, HealthCheck, PortMapping, TaskDefinition, TaskDefinitionError,
};
pub use driver::{
    ContainerLogs, DEFAULT_PUBLISH_IP, LogLine, LogStream, PublishedPort, Reconciliation, ReplacedTask, Task,
    TaskContainer, TaskSet, TaskSets, labels,
};
pub use error::{Error, Result};
