//! The task definition: what one task of a container service runs (ECS's task definition, reduced to what a plain
//! Docker engine can do), read from JSON or YAML and validated with every problem named by its field.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One revision of a container service: the containers of one task and how many tasks to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskDefinition {
    /// The service this revision belongs to (a label on every container; not unique per revision).
    pub family: String,
    /// One container of each runs in every task.
    pub containers: Vec<ContainerDefinition>,
    /// Tasks to keep running; the deployment may start a task set with another count.
    #[serde(default = "default_desired_count")]
    pub desired_count: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerDefinition {
    /// Unique within the task; the load balancer names its target container by it.
    pub name: String,
    /// A reference to an image already on the engine (`repo:tag` or `sha256:…`): images are never pulled.
    pub image: String,
    /// Replaces the image's CMD; empty keeps it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub port_mappings: Vec<PortMapping>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
    /// Run Docker's init (tini) as PID 1, so a process without a SIGTERM handler still stops on SIGTERM and zombies
    /// are reaped. On by default: most services are not written to be PID 1.
    #[serde(default = "yes")]
    pub init_process: bool,
}

/// A container port published on the host's loopback interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PortMapping {
    pub container_port: u16,
    /// 0 (the default): Docker picks a free port, so any number of tasks fit on one host.
    #[serde(default)]
    pub host_port: u16,
}

/// An HTTP check the agent makes from the host, through the published port (the images need no curl).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HealthCheck {
    /// A `containerPort` of this container's `portMappings`.
    pub port: u16,
    #[serde(default = "default_health_path")]
    pub path: String,
    #[serde(default = "default_interval")]
    pub interval_seconds: f64,
    #[serde(default = "default_timeout")]
    pub timeout_seconds: f64,
    /// Consecutive successes before a new task counts as healthy.
    #[serde(default = "default_healthy_threshold")]
    pub healthy_threshold: u32,
    /// Consecutive failures before a running task is replaced.
    #[serde(default = "default_unhealthy_threshold")]
    pub unhealthy_threshold: u32,
    /// Failures in this time after a container was first seen do not count.
    #[serde(default)]
    pub start_period_seconds: f64,
}

fn default_desired_count() -> usize {
    1
}
fn yes() -> bool {
    true
}
fn default_health_path() -> String {
    "/".to_owned()
}
fn default_interval() -> f64 {
    5.0
}
fn default_timeout() -> f64 {
    2.0
}
fn default_healthy_threshold() -> u32 {
    2
}
fn default_unhealthy_threshold() -> u32 {
    3
}

impl HealthCheck {
    pub fn interval(&self) -> Duration {
        Duration::from_secs_f64(self.interval_seconds)
    }
    pub fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout_seconds)
    }
    pub fn start_period(&self) -> Duration {
        Duration::from_secs_f64(self.start_period_seconds)
    }
}

/// The input format a syntax error was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Json => "JSON",
            Format::Yaml => "YAML",
        })
    }
}

/// One problem with one field, e.g. `containers[1].portMappings[0].containerPort`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TaskDefinitionError {
    #[error("task definition is not valid {format}: {message}")]
    Syntax { format: Format, message: String },
    #[error("invalid task definition: {}", join_problems(problems))]
    Invalid { problems: Vec<FieldProblem> },
}

fn join_problems(problems: &[FieldProblem]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

impl TaskDefinitionError {
    fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        TaskDefinitionError::Invalid { problems: vec![FieldProblem { field: field.into(), message: message.into() }] }
    }
}

impl TaskDefinition {
    /// Reads and validates a task definition in JSON.
    pub fn from_json(text: &str) -> Result<TaskDefinition, TaskDefinitionError> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|error| TaskDefinitionError::Syntax { format: Format::Json, message: error.to_string() })?;
        TaskDefinition::from_value(value)
    }

    /// Reads and validates a task definition in YAML.
    pub fn from_yaml(text: &str) -> Result<TaskDefinition, TaskDefinitionError> {
        // Through a JSON value, so that a type error names its field path the same way for both formats (serde-saphyr
        // gives line and column; the path is what a user of a generated file needs).
        let value: serde_json::Value = serde_saphyr::from_str(text)
            .map_err(|error| TaskDefinitionError::Syntax { format: Format::Yaml, message: error.to_string() })?;
        TaskDefinition::from_value(value)
    }

    /// Reads JSON if the text starts with `{`, YAML otherwise.
    pub fn parse(text: &str) -> Result<TaskDefinition, TaskDefinitionError> {
        if text.trim_start().starts_with('{') { Self::from_json(text) } else { Self::from_yaml(text) }
    }

    fn from_value(value: serde_json::Value) -> Result<TaskDefinition, TaskDefinitionError> {
        let definition: TaskDefinition = serde_path_to_error::deserialize(value).map_err(|error| {
            let field = error.path().to_string();
            let field = if field == "." { "(document)".to_owned() } else { field };
            TaskDefinitionError::field(field, error.into_inner().to_string())
        })?;
        definition.validate()?;
        Ok(definition)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// `sha256:<hex>` of the canonical JSON: labels each container, so a task of another revision is recognised.
    pub fn digest(&self) -> String {
        let canonical = serde_json::to_vec(self).unwrap_or_default();
        format!("sha256:{}", hex::encode(Sha256::digest(&canonical)))
    }

    pub fn container(&self, name: &str) -> Option<&ContainerDefinition> {
        self.containers.iter().find(|container| container.name == name)
    }

    /// Every problem at once, each naming its field.
    pub fn validate(&self) -> Result<(), TaskDefinitionError> {
        let mut problems = Vec::new();
        let mut problem = |field: String, message: String| problems.push(FieldProblem { field, message });

        if !is_docker_name(&self.family, 255) {
            problem(
                "family".into(),
                format!(
                    "{:?} must be 1–255 letters, digits, '_', '.' or '-', starting with a letter or digit",
                    self.family
                ),
            );
        }
        if self.containers.is_empty() {
            problem("containers".into(), "at least one container is needed".into());
        }
        if self.desired_count > MAX_TASKS {
            problem(
                "desiredCount".into(),
                format!("{} is more than the {MAX_TASKS} tasks one host runs", self.desired_count),
            );
        }
        let mut names = BTreeSet::new();
        let mut fixed_host_ports: BTreeMap<u16, String> = BTreeMap::new();
        for (index, container) in self.containers.iter().enumerate() {
            let at = |field: &str| format!("containers[{index}].{field}");
            if !is_docker_name(&container.name, 64) {
                problem(
                    at("name"),
                    format!(
                        "{:?} must be 1–64 letters, digits, '_', '.' or '-', starting with a letter or digit",
                        container.name
                    ),
                );
            } else if !names.insert(container.name.as_str()) {
                problem(at("name"), format!("{:?} is used by another container of this task", container.name));
            }
            if container.image.trim().is_empty() || container.image.chars().any(char::is_whitespace) {
                problem(at("image"), format!("{:?} is not an image reference", container.image));
            }
            for (position, argument) in container.command.iter().enumerate() {
                if argument.contains('\0') {
                    problem(at(&format!("command[{position}]")), "contains a NUL byte".into());
                }
            }
            for (key, value) in &container.environment {
                if key.is_empty() || key.contains('=') || key.contains('\0') {
                    problem(
                        at(&format!("environment.{key}")),
                        "a variable name must be non-empty without '=' or NUL".into(),
                    );
                }
                if value.contains('\0') {
                    problem(at(&format!("environment.{key}")), "the value contains a NUL byte".into());
                }
            }
            let mut container_ports = BTreeSet::new();
            for (position, mapping) in container.port_mappings.iter().enumerate() {
                let field = |name: &str| at(&format!("portMappings[{position}].{name}"));
                if mapping.container_port == 0 {
                    problem(field("containerPort"), "must be 1–65535".into());
                } else if !container_ports.insert(mapping.container_port) {
                    problem(field("containerPort"), format!("{} is mapped twice", mapping.container_port));
                }
                if mapping.host_port != 0 {
                    let here = field("hostPort");
                    if let Some(first) = fixed_host_ports.get(&mapping.host_port) {
                        problem(here, format!("{} is already the host port of {first}", mapping.host_port));
                    } else {
                        fixed_host_ports.insert(mapping.host_port, here);
                    }
                }
            }
            if let Some(check) = &container.health_check {
                let field = |name: &str| at(&format!("healthCheck.{name}"));
                if !container.port_mappings.iter().any(|mapping| mapping.container_port == check.port) {
                    problem(
                        field("port"),
                        format!(
                            "{} is not a containerPort of this container's portMappings (the check goes through the \
                             published port)",
                            check.port
                        ),
                    );
                }
                if !check.path.starts_with('/') || check.path.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    problem(field("path"), format!("{:?} must start with '/' and contain no spaces", check.path));
                }
                for (name, seconds, min) in [
                    ("intervalSeconds", check.interval_seconds, 0.01),
                    ("timeoutSeconds", check.timeout_seconds, 0.01),
                    ("startPeriodSeconds", check.start_period_seconds, 0.0),
                ] {
                    if !(seconds.is_finite() && (min..=MAX_SECONDS).contains(&seconds)) {
                        problem(field(name), format!("{seconds} must be between {min} and {MAX_SECONDS} seconds"));
                    }
                }
                if check.healthy_threshold == 0 || check.healthy_threshold > 100 {
                    problem(field("healthyThreshold"), format!("{} must be 1–100", check.healthy_threshold));
                }
                if check.unhealthy_threshold == 0 || check.unhealthy_threshold > 100 {
                    problem(field("unhealthyThreshold"), format!("{} must be 1–100", check.unhealthy_threshold));
                }
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(TaskDefinitionError::Invalid { problems }) }
    }

    /// Checks a load balancer target (the AppSpec's `LoadBalancerInfo`) against this definition.
    pub fn check_target(&self, container_name: &str, container_port: u16) -> Result<(), TaskDefinitionError> {
        let Some(container) = self.container(container_name) else {
            let known: Vec<&str> = self.containers.iter().map(|c| c.name.as_str()).collect();
            return Err(TaskDefinitionError::field(
                "LoadBalancerInfo.ContainerName",
                format!("{container_name:?} is not a container of family {:?} (it has {known:?})", self.family),
            ));
        };
        if !container.port_mappings.iter().any(|mapping| mapping.container_port == container_port) {
            return Err(TaskDefinitionError::field(
                "LoadBalancerInfo.ContainerPort",
                format!("{container_port} is not a containerPort in the portMappings of container {container_name:?}"),
            ));
        }
        Ok(())
    }
}

/// More tasks than this on one host is a typo, not a plan.
pub const MAX_TASKS: usize = 1000;
const MAX_SECONDS: f64 = 3600.0;

/// Docker's own rule for container names (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`), used for every name we put in one.
pub(crate) fn is_docker_name(name: &str, max: usize) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && name.len() <= max
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "\
family: web
desiredCount: 3
containers:
  - name: app
    image: cutover-test/http:v1
    command: [--version, v1]
    environment:
      MODE: blue
    portMappings:
      - containerPort: 8080
    healthCheck:
      port: 8080
      path: /health
      intervalSeconds: 0.5
";

    #[test]
    fn yaml_and_json_give_the_same_definition() {
        let from_yaml = TaskDefinition::from_yaml(YAML).unwrap();
        assert_eq!(from_yaml.desired_count, 3);
        let app = &from_yaml.containers[0];
        assert_eq!(app.port_mappings, vec![PortMapping { container_port: 8080, host_port: 0 }]);
        let check = app.health_check.as_ref().unwrap();
        assert_eq!((check.path.as_str(), check.healthy_threshold, check.unhealthy_threshold), ("/health", 2, 3));
        assert_eq!(check.interval(), Duration::from_millis(500));
        assert!(app.init_process);
        let from_json = TaskDefinition::parse(&from_yaml.to_json()).unwrap();
        assert_eq!(from_json, from_yaml);
        assert_eq!(from_json.digest(), from_yaml.digest());
        let mut other = from_yaml.clone();
        other.containers[0].image = "cutover-test/http:v2".into();
        assert_ne!(other.digest(), from_yaml.digest());
    }

    fn problems(text: &str) -> Vec<String> {
        match TaskDefinition::parse(text) {
            Err(TaskDefinitionError::Invalid { problems }) => problems.iter().map(ToString::to_string).collect(),
            other => panic!("expected field problems, got {other:?}"),
        }
    }

    #[test]
    fn type_errors_name_the_field_path() {
        let cases = [
            (
                YAML.replace("containerPort: 8080", "containerPort: 70000"),
                "containers[0].portMappings[0].containerPort",
            ),
            (YAML.replace("    image: cutover-test/http:v1\n", ""), "containers[0]: missing field `image`"),
            (
                YAML.replace("path: /health", "path: /health\n      retries: 3"),
                "containers[0].healthCheck.retries: unknown field `retries`",
            ),
            (YAML.replace("desiredCount: 3", "desiredCount: three"), "desiredCount"),
            (r#"{"family": "web", "containers": [{"name": "a", "image": 5}]}"#.to_owned(), "containers[0].image"),
        ];
        for (text, expected) in cases {
            let found = problems(&text);
            assert!(found.len() == 1 && found[0].starts_with(expected), "{expected}: got {found:?}");
        }
    }

    #[test]
    fn semantic_problems_are_all_reported_with_their_field() {
        let text = r#"{
            "family": "web app",
            "desiredCount": 5000,
            "containers": [
                {"name": "app", "image": "img:1", "portMappings": [{"containerPort": 8080, "hostPort": 9000},
                                                                {"containerPort": 8080}],
                 "environment": {"A=B": "x"},
                 "healthCheck": {"port": 9090, "path": "health", "intervalSeconds": 0, "healthyThreshold": 0}},
                {"name": "app", "image": "has space", "portMappings": [{"containerPort": 0, "hostPort": 9000}]}
            ]
        }"#;
        let found = problems(text);
        let expected = [
            "family:",
            "desiredCount: 5000",
            "containers[0].environment.A=B:",
            "containers[0].portMappings[1].containerPort: 8080 is mapped twice",
            "containers[0].healthCheck.port: 9090 is not a containerPort",
            "containers[0].healthCheck.path:",
            "containers[0].healthCheck.intervalSeconds:",
            "containers[0].healthCheck.healthyThreshold:",
            "containers[1].name: \"app\" is used by another container",
            "containers[1].image:",
            "containers[1].portMappings[0].containerPort: must be 1–65535",
            "containers[1].portMappings[0].hostPort: 9000 is already the host port of containers[0].portMappings[0].hostPort",
        ];
        for prefix in expected {
            assert!(found.iter().any(|problem| problem.starts_with(prefix)), "no problem {prefix:?} in {found:#?}");
        }
        assert_eq!(found.len(), expected.len(), "{found:#?}");
    }

    #[test]
    fn syntax_errors_say_the_format() {
        let json = TaskDefinition::parse("{\"family\": ").unwrap_err();
        assert!(matches!(json, TaskDefinitionError::Syntax { format: Format::Json, .. }), "{json:?}");
        let yaml = TaskDefinition::parse("family: [web\n").unwrap_err();
        assert!(matches!(yaml, TaskDefinitionError::Syntax { format: Format::Yaml, .. }), "{yaml:?}");
        assert!(yaml.to_string().starts_with("task definition is not valid YAML: "), "{yaml}");
        let empty = TaskDefinition::parse("family: web\ncontainers: []\n").unwrap_err();
        assert_eq!(empty.to_string(), "invalid task definition: containers: at least one container is needed");
    }

    #[test]
    fn load_balancer_target_must_be_a_mapped_port_of_a_container() {
        let definition = TaskDefinition::from_yaml(YAML).unwrap();
        definition.check_target("app", 8080).unwrap();
        let missing = definition.check_target("web", 8080).unwrap_err().to_string();
        assert!(missing.contains("LoadBalancerInfo.ContainerName: \"web\" is not a container"), "{missing}");
        let port = definition.check_target("app", 80).unwrap_err().to_string();
        assert!(port.contains("LoadBalancerInfo.ContainerPort: 80 is not a containerPort"), "{port}");
    }
}
