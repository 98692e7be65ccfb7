//! The ECS AppSpec (CodeDeploy's §2.2): one service, the task definition of its replacement task set, the container
//! and port the load balancer targets, and hooks naming functions.
//!
//! Cutover extension: `TaskDefinition` may be the task definition itself (a mapping: image, command, environment,
//! port mappings, desired count), kept with the revision, rather than an ARN; the container platform reads it.

use super::model::Diagnostic;
use super::parse::{Node, Value};
use super::resource::{self, Check, Kind};
use crate::lifecycle::LifecycleEvent;

/// A validated ECS AppSpec.
#[derive(Debug, Clone, PartialEq)]
pub struct EcsAppSpec {
    pub service: EcsService,
    /// Hooks in the order written (BeforeInstall, AfterInstall, AfterAllowTestTraffic, BeforeAllowTraffic,
    /// AfterAllowTraffic), each at most once.
    pub hooks: Vec<(LifecycleEvent, String)>,
}

/// The service the deployment replaces a task set of.
#[derive(Debug, Clone, PartialEq)]
pub struct EcsService {
    /// The resource's logical name (`TargetService` in CodeDeploy's examples).
    pub logical_name: String,
    pub task_definition: TaskDefinitionSource,
    /// `LoadBalancerInfo.ContainerName` / `ContainerPort`: where the routes send traffic.
    pub container_name: String,
    pub container_port: u16,
    pub platform_version: Option<String>,
    /// `NetworkConfiguration.AwsvpcConfiguration`: subnets, security groups, assign-public-IP (all or none).
    pub network: Option<(Vec<String>, Vec<String>, String)>,
}

/// Where the task definition comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskDefinitionSource {
    /// An ARN or `family:revision`, as CodeDeploy has it.
    Reference(String),
    /// The task definition itself (Cutover extension), as JSON.
    Inline(serde_json::Value),
}

const ECS: Kind = Kind {
    type_name: "AWS::ECS::Service",
    what: "service",
    platform: "ECS",
    type_hint: "an ECS AppSpec deploys one service; Lambda functions use AWS::Lambda::Function",
    hooks: &[
        LifecycleEvent::BeforeInstall,
        LifecycleEvent::AfterInstall,
        LifecycleEvent::AfterAllowTestTraffic,
        LifecycleEvent::BeforeAllowTraffic,
        LifecycleEvent::AfterAllowTraffic,
    ],
    hooks_hint: "ECS deployments have the hooks BeforeInstall, AfterInstall, AfterAllowTestTraffic, BeforeAllowTraffic \
                 and AfterAllowTraffic",
};

/// Parses and validates an ECS AppSpec given as YAML or JSON; on failure returns every problem found.
pub fn parse_ecs(text: &str) -> Result<EcsAppSpec, Vec<Diagnostic>> {
    resource::parse(text, |check, root| {
        let resource = check.document(root, &ECS)?;
        let (field, properties) = (resource.properties_field.as_str(), resource.properties);
        let props = check.mapping(
            properties,
            field,
            &[
                "taskdefinition",
                "loadbalancerinfo",
                "platformversion",
                "networkconfiguration",
                "capacityproviderstrategy",
            ],
        )?;
        let get = |key: &str| props.iter().find(|(name, _)| name == key).map(|(_, node)| *node);
        let task_definition = match get("taskdefinition") {
            None => {
                check.error(
                    properties.pos,
                    &format!("{field}.TaskDefinition"),
                    "TaskDefinition is required".to_owned(),
                    None,
                );
                None
            }
            Some(node) => match (&*node.value, node.text()) {
                (Value::Map(_), _) => Some(TaskDefinitionSource::Inline(to_json(node))),
                (_, Some(text)) if !text.trim().is_empty() => {
                    Some(TaskDefinitionSource::Reference(text.trim().to_owned()))
                }
                _ => {
                    let message = format!(
                        "TaskDefinition must be a task definition (a mapping) or its name, got {}",
                        node.describe()
                    );
                    check.error(node.pos, &format!("{field}.TaskDefinition"), message, None);
                    None
                }
            },
        };
        let target = match get("loadbalancerinfo") {
            None => {
                let hint = "LoadBalancerInfo: {ContainerName: web, ContainerPort: 80}";
                check.error(
                    properties.pos,
                    &format!("{field}.LoadBalancerInfo"),
                    "LoadBalancerInfo is required".to_owned(),
                    Some(hint),
                );
                None
            }
            Some(node) => load_balancer_info(check, node, &format!("{field}.LoadBalancerInfo")),
        };
        let platform_version = get("platformversion").and_then(|node| node.text()).map(str::to_owned);
        let network = match get("networkconfiguration") {
            Some(node) if !node.is_null() => network(check, node, &format!("{field}.NetworkConfiguration")),
            _ => None,
        };
        let (container_name, container_port) = target?;
        Some(EcsAppSpec {
            service: EcsService {
                logical_name: resource.logical_name,
                task_definition: task_definition?,
                container_name,
                container_port,
                platform_version,
                network,
            },
            hooks: resource.hooks,
        })
    })
}

fn load_balancer_info(check: &mut Check, node: &Node, field: &str) -> Option<(String, u16)> {
    let fields = check.mapping(node, field, &["containername", "containerport"])?;
    let name = check.required_text(&fields, "ContainerName", field, node.pos);
    let port = check.required_text(&fields, "ContainerPort", field, node.pos)?;
    let Some(port) = port.parse::<u16>().ok().filter(|port| *port > 0) else {
        let pos = fields.iter().find(|(key, _)| key == "containerport").map_or(node.pos, |(_, value)| value.pos);
        check.error(
            pos,
            &format!("{field}.ContainerPort"),
            format!("ContainerPort must be a port (1-65535), got {port:?}"),
            None,
        );
        return None;
    };
    Some((name?, port))
}

fn network(check: &mut Check, node: &Node, field: &str) -> Option<(Vec<String>, Vec<String>, String)> {
    let fields = check.mapping(node, field, &["awsvpcconfiguration"])?;
    let (_, awsvpc) = fields.first()?;
    let inner = format!("{field}.AwsvpcConfiguration");
    let values = check.mapping(awsvpc, &inner, &["subnets", "securitygroups", "assignpublicip"])?;
    if values.len() != 3 {
        let message = "AwsvpcConfiguration needs all three of Subnets, SecurityGroups and AssignPublicIp".to_owned();
        check.error(awsvpc.pos, &inner, message, None);
        return None;
    }
    let list = |name: &str| -> Vec<String> {
        match values.iter().find(|(key, _)| key == name).map(|(_, node)| &*node.value) {
            Some(Value::Seq(items)) => items.iter().filter_map(|item| item.text().map(str::to_owned)).collect(),
            _ => Vec::new(),
        }
    };
    let assign = check.required_text(&values, "AssignPublicIp", &inner, awsvpc.pos)?;
    if !matches!(assign.as_str(), "ENABLED" | "DISABLED") {
        check.error(
            awsvpc.pos,
            &format!("{inner}.AssignPublicIp"),
            format!("AssignPublicIp must be ENABLED or DISABLED, got {assign:?}"),
            None,
        );
        return None;
    }
    Some((list("subnets"), list("securitygroups"), assign))
}

/// A node as JSON: plain scalars take YAML's implicit types (null, booleans, numbers), quoted ones stay text.
fn to_json(node: &Node) -> serde_json::Value {
    match &*node.value {
        Value::Scalar(scalar) if scalar.plain => {
            let text = scalar.text.as_str();
            if node.is_null() {
                serde_json::Value::Null
            } else if let Ok(boolean) = text.parse::<bool>() {
                serde_json::Value::Bool(boolean)
            } else if let Ok(integer) = text.parse::<i64>() {
                serde_json::Value::from(integer)
            } else if let Some(number) = text.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                serde_json::Value::Number(number)
            } else {
                serde_json::Value::String(text.to_owned())
            }
        }
        Value::Scalar(scalar) => serde_json::Value::String(scalar.text.clone()),
        Value::Seq(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => serde_json::Value::Object(
            entries
                .iter()
                .map(|entry| (entry.key.text().unwrap_or_default().to_owned(), to_json(&entry.value)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INLINE: &str = "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition:\n          family: web\n          desiredCount: 3\n          containers:\n            - name: web\n              image: cutover-test/http:v2\n              portMappings: [{containerPort: 8080}]\n              environment: {VERSION: \"2\"}\n        LoadBalancerInfo:\n          ContainerName: web\n          ContainerPort: 8080\nHooks:\n  - BeforeInstall: check-before\n  - AfterAllowTestTraffic: smoke-test\n";

    #[test]
    fn parses_an_inline_task_definition_and_hooks() {
        let spec = parse_ecs(INLINE).expect("valid");
        assert_eq!(spec.service.logical_name, "TargetService");
        assert_eq!((spec.service.container_name.as_str(), spec.service.container_port), ("web", 8080));
        let TaskDefinitionSource::Inline(definition) = &spec.service.task_definition else { panic!("inline") };
        assert_eq!(definition["desiredCount"], serde_json::json!(3));
        assert_eq!(definition["containers"][0]["portMappings"][0]["containerPort"], serde_json::json!(8080));
        assert_eq!(definition["containers"][0]["environment"]["VERSION"], serde_json::json!("2"), "quoted stays text");
        assert_eq!(
            spec.hooks,
            [
                (LifecycleEvent::BeforeInstall, "check-before".to_owned()),
                (LifecycleEvent::AfterAllowTestTraffic, "smoke-test".to_owned())
            ]
        );
    }

    #[test]
    fn codedeploy_spelling_with_a_reference_and_network() {
        let text = "version: 0.0\nresources:\n  - svc:\n      type: AWS::ECS::Service\n      properties:\n        taskdefinition: \"arn:aws:ecs:eu-west-1:1:task-definition/web:7\"\n        loadbalancerinfo: {containername: web, containerport: 80}\n        platformversion: LATEST\n        networkconfiguration:\n          awsvpcconfiguration: {subnets: [a, b], securitygroups: [sg], assignpublicip: DISABLED}\n";
        let spec = parse_ecs(text).expect("valid");
        assert_eq!(
            spec.service.task_definition,
            TaskDefinitionSource::Reference("arn:aws:ecs:eu-west-1:1:task-definition/web:7".to_owned())
        );
        assert_eq!(spec.service.platform_version.as_deref(), Some("LATEST"));
        assert_eq!(
            spec.service.network,
            Some((vec!["a".to_owned(), "b".to_owned()], vec!["sg".to_owned()], "DISABLED".to_owned()))
        );
    }

    #[test]
    fn every_problem_names_its_line_and_field() {
        let bad = "version: 0.0\nResources:\n  - svc:\n      Type: AWS::ECS::Service\n      Properties:\n        LoadBalancerInfo: {ContainerName: web, ContainerPort: 99999}\n        NetworkConfiguration:\n          AwsvpcConfiguration: {Subnets: [a]}\nHooks:\n  - ValidateService: x\n  - AfterInstall: ok\n  - AfterInstall: again\n";
        let errors = parse_ecs(bad).unwrap_err();
        let rendered: Vec<String> = errors
            .iter()
            .map(|error| format!("{}:{} {}", error.line.unwrap_or(0), error.field, error.message))
            .collect();
        let expect = [
            "6:Resources.svc.Properties.TaskDefinition TaskDefinition is required",
            "6:Resources.svc.Properties.LoadBalancerInfo.ContainerPort ContainerPort must be a port",
            "8:Resources.svc.Properties.NetworkConfiguration.AwsvpcConfiguration AwsvpcConfiguration needs all three",
            "10:Hooks[0] \"ValidateService\" is not a hook of ECS deployments",
            "12:Hooks[2] AfterInstall appears twice",
        ];
        for expected in expect {
            assert!(rendered.iter().any(|line| line.starts_with(expected)), "missing {expected:?} in {rendered:#?}");
        }
        assert_eq!(rendered.len(), expect.len(), "{rendered:#?}");
        let lambda = INLINE.replace("AWS::ECS::Service", "AWS::Lambda::Function");
        let errors = parse_ecs(&lambda).unwrap_err();
        assert!(errors[0].message.contains("Type must be AWS::ECS::Service"), "{errors:?}");
    }
}
