use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::definition::TaskDefinitionError;

/// Everything the task-set driver can fail with: one enum for the agent's boundary to the engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the Docker engine at unix socket {} is unreachable: {message}", socket.display())]
    EngineUnreachable { socket: PathBuf, message: String },

    #[error(
        "image {image:?} (container {container:?}) is not on this Docker engine, and Cutover never pulls images: \
         build, load or import it on this host first (docker build / docker load / docker import)"
    )]
    ImageMissing { image: String, container: String },

    #[error("host port {host_port} for container {container:?} is already in use on {ip}: {message}")]
    PortConflict { container: String, host_port: u16, ip: IpAddr, message: String },

    #[error(
        "container {container:?} publishes the fixed host port {host_port}, so only one task fits on a host; \
         {count} were asked for (use hostPort 0 to let Docker pick)"
    )]
    FixedHostPort { container: String, host_port: u16, count: usize },

    #[error(transparent)]
    InvalidDefinition(#[from] TaskDefinitionError),

    #[error("task set id {id:?} must be 1–40 letters, digits, '_', '.' or '-', starting with a letter or digit")]
    InvalidTaskSetId { id: String },

    #[error("task set {id:?} already has {containers} container(s); reconcile it or stop it first")]
    TaskSetExists { id: String, containers: usize },

    #[error("task set {id:?} has no containers on this engine")]
    TaskSetNotFound { id: String },

    #[error("task {task} container {container:?} stopped ({state}) before it was healthy; last output:\n{logs}")]
    TaskStopped { task: String, container: String, state: String, logs: String },

    #[error("task set {task_set:?} was not healthy within {timeout:?}: {}", pending.join("; "))]
    Unhealthy { task_set: String, timeout: Duration, pending: Vec<String> },

    #[error("Docker engine refused to {operation}: {message}")]
    Engine { operation: String, message: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
