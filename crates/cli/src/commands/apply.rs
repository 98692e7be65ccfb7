//! `cutover apply -f FILE [--diff]`: configuration as code. Creates or updates deployment configurations,
//! applications and deployment groups (with their triggers, alarms and auto-rollback settings) from a YAML or TOML
//! file, through the public API, so that applying the same file again changes nothing and calls nothing that writes.
//!
//! The file uses the API's own field names:
//!
//! ```yaml
//! deploymentConfigs:
//!   - deploymentConfigName: two-at-a-time
//!     minimumHealthyHosts: {type: HOST_COUNT, value: 2}
//! applications:
//!   - applicationName: web
//!     deploymentGroups:
//!       - deploymentGroupName: prod
//!         deploymentConfigName: two-at-a-time
//!         serviceRoleArn: arn:aws:iam::000000000000:role/cutover
//!         onPremisesInstanceTagFilters: [{Key: env, Value: prod, Type: KEY_AND_VALUE}]
//!         autoRollbackConfiguration: {enabled: true, events: [DEPLOYMENT_FAILURE]}
//!         alarmConfiguration: {enabled: true, alarms: [{name: web-errors}]}
//!         triggerConfigurations:
//!           - {triggerName: chat, triggerTargetArn: "https://chat.example.com/hook", triggerEvents: [DeploymentFailure]}
//! ```
//!
//! - Every field is checked against the API model before anything is read or written; an unknown field (a typo) is
//!   an error naming its path.
//! - What a file declares is compared with what the server has; fields a file leaves out are left as they are, and
//!   resources it does not list are never deleted. Lists are compared in order; a declared `false`, empty list or
//!   empty string matches an absent field.
//! - A deployment configuration cannot be changed (CodeDeploy has no UpdateDeploymentConfig), nor an
//!   application's compute platform: such a difference is an error, reported before any change is made.
//! - The whole plan is computed first; `--diff` prints it and stops. Otherwise it is printed and carried out in
//!   order: configurations, applications, then groups.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;
use cutover_api_types::codedeploy::{self as wire, Operation};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::Api;
use crate::error::{CliError, CliResult};
use crate::output;

pub(crate) const AFTER_HELP: &str = "\
The file (YAML, or TOML when it ends in .toml) lists `deploymentConfigs` and `applications`, each application with
its `deploymentGroups`, in the API's field names (as CreateDeploymentConfig, CreateApplication and
CreateDeploymentGroup take them). Fields left out are left as they are; nothing is ever deleted.

Exit codes: 0 applied (or, with --diff, the plan was printed); 1 invalid file, a change apply cannot make, or a
request the server refused; 2 usage; 255 internal error.";

#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    /// The configuration file: YAML (or JSON), or TOML if its name ends in .toml.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// Print what would change, and change nothing.
    #[arg(long)]
    pub(crate) diff: bool,
}

/// One change, in the order it is made.
#[derive(Debug, Clone, PartialEq)]
enum Change {
    CreateConfig { name: String, input: Value },
    CreateApplication { name: String, input: Value },
    CreateGroup { application: String, name: String, input: Value },
    UpdateGroup { application: String, name: String, input: Value, fields: Vec<(String, Value, Value)> },
}

/// The plan: changes and what is already as declared.
#[derive(Debug, Default)]
struct Plan {
    changes: Vec<Change>,
    unchanged: Vec<String>,
}

pub(crate) async fn run(api: &Api, args: ApplyArgs) -> CliResult<()> {
    let desired = read_file(&args.file)?;
    let plan = plan(api, &desired).await?;
    for name in &plan.unchanged {
        output::line(format!("  {name} (unchanged)"))?;
    }
    for change in &plan.changes {
        output::line(describe(change))?;
    }
    let counts = |create: bool| {
        plan.changes.iter().filter(|change| matches!(change, Change::UpdateGroup { .. }) != create).count()
    };
    let (created, updated, unchanged) = (counts(true), counts(false), plan.unchanged.len());
    if plan.changes.is_empty() {
        return output::line(format!("No changes ({unchanged} unchanged)."));
    }
    if args.diff {
        return output::line(format!(
            "Would create {created}, update {updated}; {unchanged} unchanged. Nothing was changed (--diff)."
        ));
    }
    for change in plan.changes {
        execute(api, change).await?;
    }
    output::line(format!("Applied: {created} created, {updated} updated, {unchanged} unchanged."))
}

/// Reads and checks the file; returns it as JSON.
fn read_file(path: &Path) -> CliResult<Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| CliError::user(format!("cannot read {}: {error}", path.display())))?;
    let name = path.display();
    let value: Value = if path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("toml")) {
        toml::from_str(&text).map_err(|error| CliError::user(format!("{name} is not valid TOML: {error}")))?
    } else {
        serde_saphyr::from_str(&text).map_err(|error| CliError::user(format!("{name} is not valid YAML: {error}")))?
    };
    let problems = check(&value);
    if !problems.is_empty() {
        let mut message = format!("{name} is not a valid configuration:");
        for problem in &problems {
            let _ = write!(message, "\n{name}: {problem}");
        }
        return Err(CliError::user(message).hint("fields use the API's names, e.g. deploymentGroupName"));
    }
    Ok(value)
}

/// Every problem with the file's shape: unknown fields (by path), wrong types, missing names.
fn check(value: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(top) = value.as_object() else {
        return vec!["the file must be a mapping with deploymentConfigs and applications".to_owned()];
    };
    for key in top.keys().filter(|key| !["deploymentConfigs", "applications"].contains(&key.as_str())) {
        problems.push(format!("{key}: unknown field (expected deploymentConfigs or applications)"));
    }
    for (index, config) in list(top.get("deploymentConfigs"), "deploymentConfigs", &mut problems).iter().enumerate() {
        let path = format!("deploymentConfigs[{index}]");
        check_shape::<wire::CreateDeploymentConfigInput>(config, &path, &[], &mut problems);
        require_name(config, "deploymentConfigName", &path, &mut problems);
        if let Some(name) = config["deploymentConfigName"].as_str()
            && name.starts_with("CodeDeployDefault.")
        {
            problems.push(format!("{path}.deploymentConfigName: {name} is predefined and cannot be declared"));
        }
    }
    for (index, app) in list(top.get("applications"), "applications", &mut problems).iter().enumerate() {
        let path = format!("applications[{index}]");
        let mut own = app.clone();
        let groups = own.as_object_mut().and_then(|object| object.remove("deploymentGroups"));
        if own.get("tags").is_some() {
            problems.push(format!("{path}.tags: tags are not managed by apply; use tag-resource"));
        }
        check_shape::<wire::CreateApplicationInput>(&own, &path, &["tags"], &mut problems);
        require_name(app, "applicationName", &path, &mut problems);
        let groups_path = format!("{path}.deploymentGroups");
        for (group_index, group) in list(groups.as_ref(), &groups_path, &mut problems).iter().enumerate() {
            let path = format!("{groups_path}[{group_index}]");
            if group.get("applicationName").is_some() || group.get("tags").is_some() {
                problems.push(format!("{path}: applicationName and tags do not belong in a group"));
            }
            check_shape::<wire::CreateDeploymentGroupInput>(group, &path, &["applicationName", "tags"], &mut problems);
            require_name(group, "deploymentGroupName", &path, &mut problems);
        }
    }
    problems
}

/// The items of an optional list field.
fn list(value: Option<&Value>, path: &str, problems: &mut Vec<String>) -> Vec<Value> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(other) => {
            problems.push(format!("{path}: must be a list, got {}", kind(other)));
            Vec::new()
        }
    }
}

fn require_name(value: &Value, field: &str, path: &str, problems: &mut Vec<String>) {
    if value[field].as_str().is_none_or(str::is_empty) {
        problems.push(format!("{path}.{field}: required"));
    }
}

/// Checks `value` against the API shape `T`: a type error, or every field the shape does not know (a round trip
/// through `T` drops them), except `excluded` top-level fields.
fn check_shape<T: DeserializeOwned + Serialize>(
    value: &Value,
    path: &str,
    excluded: &[&str],
    problems: &mut Vec<String>,
) {
    let typed: T = match serde_json::from_value(value.clone()) {
        Ok(typed) => typed,
        Err(error) => {
            problems.push(format!("{path}: {error}"));
            return;
        }
    };
    let known = serde_json::to_value(&typed).unwrap_or_default();
    let mut unknown = Vec::new();
    unknown_fields(value, &known, path, &mut unknown);
    for field in unknown {
        let top = field.strip_prefix(&format!("{path}.")).unwrap_or(&field);
        if !excluded.contains(&top) {
            problems.push(format!("{field}: unknown field"));
        }
    }
}

fn unknown_fields(given: &Value, known: &Value, path: &str, res: &mut Vec<String>) {
    match (given, known) {
        (Value::Object(given), Value::Object(known)) => {
            for (key, value) in given {
                let field = format!("{path}.{key}");
                match known.get(key) {
                    Some(known) => unknown_fields(value, known, &field, res),
                    None if value.is_null() => {}
                    None => res.push(field),
                }
            }
        }
        (Value::Array(given), Value::Array(known)) => {
            for (index, (given, known)) in given.iter().zip(known).enumerate() {
                unknown_fields(given, known, &format!("{path}[{index}]"), res);
            }
        }
        _ => {}
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Reads the current state of everything the file declares and computes the changes. Only reads.
async fn plan(api: &Api, desired: &Value) -> CliResult<Plan> {
    let mut plan = Plan::default();
    let mut problems = Vec::new();
    for config in desired["deploymentConfigs"].as_array().into_iter().flatten() {
        let name = config["deploymentConfigName"].as_str().unwrap_or_default().to_owned();
        let input = serde_json::json!({"deploymentConfigName": name});
        match read::<wire::GetDeploymentConfigOutput>(api, Operation::GetDeploymentConfig, &input).await? {
            None => plan.changes.push(Change::CreateConfig { name, input: config.clone() }),
            Some(current) => {
                let current = serde_json::to_value(current.deployment_config_info).unwrap_or_default();
                let differing = differences(config, &current, &["deploymentConfigName"]);
                if differing.is_empty() {
                    plan.unchanged.push(format!("deployment config {name}"));
                } else {
                    let fields: Vec<&str> = differing.iter().map(|(field, _, _)| field.as_str()).collect();
                    problems.push(format!(
                        "deployment config {name} exists with a different {}; configurations cannot be changed: \
                         give the new one another name (and point the groups at it)",
                        fields.join(", ")
                    ));
                }
            }
        }
    }
    for app in desired["applications"].as_array().into_iter().flatten() {
        let application = app["applicationName"].as_str().unwrap_or_default().to_owned();
        let mut own = app.clone();
        if let Some(object) = own.as_object_mut() {
            object.remove("deploymentGroups");
        }
        let input = serde_json::json!({"applicationName": application});
        let exists = match read::<wire::GetApplicationOutput>(api, Operation::GetApplication, &input).await? {
            None => {
                plan.changes.push(Change::CreateApplication { name: application.clone(), input: own });
                false
            }
            Some(current) => {
                let current = serde_json::to_value(current.application).unwrap_or_default();
                let differing = differences(&own, &current, &["applicationName"]);
                if differing.is_empty() {
                    plan.unchanged.push(format!("application {application}"));
                } else {
                    problems.push(format!(
                        "application {application} exists with a different computePlatform; it cannot be changed"
                    ));
                }
                true
            }
        };
        for group in app["deploymentGroups"].as_array().into_iter().flatten() {
            let name = group["deploymentGroupName"].as_str().unwrap_or_default().to_owned();
            let current = if exists {
                let input = serde_json::json!({"applicationName": application, "deploymentGroupName": name});
                read::<wire::GetDeploymentGroupOutput>(api, Operation::GetDeploymentGroup, &input)
                    .await?
                    .and_then(|output| output.deployment_group_info)
            } else {
                None
            };
            let mut input = group.clone();
            if let Some(object) = input.as_object_mut() {
                object.insert("applicationName".to_owned(), Value::String(application.clone()));
            }
            match current {
                None => plan.changes.push(Change::CreateGroup { application: application.clone(), name, input }),
                Some(current) => {
                    let current = serde_json::to_value(current).unwrap_or_default();
                    let fields = differences(group, &current, &["deploymentGroupName"]);
                    if fields.is_empty() {
                        plan.unchanged.push(format!("deployment group {application}/{name}"));
                        continue;
                    }
                    let mut update = Map::new();
                    update.insert("applicationName".to_owned(), Value::String(application.clone()));
                    update.insert("currentDeploymentGroupName".to_owned(), Value::String(name.clone()));
                    for (field, wanted, _) in &fields {
                        update.insert(field.clone(), wanted.clone());
                    }
                    plan.changes.push(Change::UpdateGroup {
                        application: application.clone(),
                        name,
                        input: Value::Object(update),
                        fields,
                    });
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(CliError::user(format!("nothing was changed:\n{}", problems.join("\n"))));
    }
    Ok(plan)
}

/// Calls a read; `None` when the resource does not exist.
async fn read<O: DeserializeOwned>(api: &Api, operation: Operation, input: &Value) -> CliResult<Option<O>> {
    match api.client().call::<Value, O>(operation, input).await {
        Ok(output) => Ok(Some(output)),
        Err(error) if error.exception().is_some_and(|name| name.ends_with("DoesNotExistException")) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// The declared top-level fields (but `skip`) whose values the current resource does not match, as
/// (field, declared, current).
fn differences(declared: &Value, current: &Value, skip: &[&str]) -> Vec<(String, Value, Value)> {
    let Some(declared) = declared.as_object() else { return Vec::new() };
    declared
        .iter()
        .filter(|(field, _)| !skip.contains(&field.as_str()))
        .filter_map(|(field, wanted)| {
            let have = current.get(field).cloned().unwrap_or(Value::Null);
            (!matches(wanted, &have)).then(|| (field.clone(), wanted.clone(), have))
        })
        .collect()
}

/// Whether `current` has what `wanted` declares: mappings by their declared keys, lists item by item in order,
/// scalars equal; `false`, `""`, `[]` and `{}` match an absent value.
fn matches(wanted: &Value, current: &Value) -> bool {
    match (wanted, current) {
        (wanted, Value::Null) => match wanted {
            Value::Null | Value::Bool(false) => true,
            Value::String(text) => text.is_empty(),
            Value::Array(items) => items.is_empty(),
            Value::Object(fields) => fields.values().all(|value| matches(value, &Value::Null)),
            Value::Number(_) => false,
            Value::Bool(true) => false,
        },
        (Value::Object(wanted), Value::Object(current)) => {
            wanted.iter().all(|(key, value)| matches(value, current.get(key).unwrap_or(&Value::Null)))
        }
        (Value::Array(wanted), Value::Array(current)) => {
            wanted.len() == current.len() && wanted.iter().zip(current).all(|(w, c)| matches(w, c))
        }
        (Value::Number(wanted), Value::Number(current)) => wanted.as_f64() == current.as_f64(),
        (wanted, current) => wanted == current,
    }
}

fn describe(change: &Change) -> String {
    match change {
        Change::CreateConfig { name, .. } => format!("+ deployment config {name} (create)"),
        Change::CreateApplication { name, .. } => format!("+ application {name} (create)"),
        Change::CreateGroup { application, name, .. } => format!("+ deployment group {application}/{name} (create)"),
        Change::UpdateGroup { application, name, fields, .. } => {
            let mut text = format!("~ deployment group {application}/{name} (update)");
            for (field, wanted, have) in fields {
                let _ = write!(text, "\n    {field}: {have} -> {wanted}");
            }
            text
        }
    }
}

async fn execute(api: &Api, change: Change) -> CliResult<()> {
    let context = describe(&change).lines().next().unwrap_or_default().to_owned();
    let result = match change {
        Change::CreateConfig { input, .. } => api.call::<_, Value>(Operation::CreateDeploymentConfig, &input).await,
        Change::CreateApplication { input, .. } => api.call::<_, Value>(Operation::CreateApplication, &input).await,
        Change::CreateGroup { input, .. } => api.call::<_, Value>(Operation::CreateDeploymentGroup, &input).await,
        Change::UpdateGroup { input, .. } => api.call::<_, Value>(Operation::UpdateDeploymentGroup, &input).await,
    };
    result.map(|_| ()).map_err(|error| CliError { message: format!("{context}: {}", error.message), ..error })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_and_wrong_types_are_named_by_path() {
        let file: Value = serde_saphyr::from_str(
            "applications:\n  - applicationName: web\n    computePlatfrom: Server\n    deploymentGroups:\n      - deploymentGroupName: prod\n        autoRollbackConfiguration: {enabled: true, event: [DEPLOYMENT_FAILURE]}\n      - deploymentConfigName: x\ndeploymentConfigs:\n  - deploymentConfigName: CodeDeployDefault.OneAtATime\nextra: 1\n",
        )
        .unwrap();
        assert_eq!(
            check(&file),
            [
                "extra: unknown field (expected deploymentConfigs or applications)",
                "deploymentConfigs[0].deploymentConfigName: CodeDeployDefault.OneAtATime is predefined and cannot be declared",
                "applications[0].computePlatfrom: unknown field",
                "applications[0].deploymentGroups[0].autoRollbackConfiguration.event: unknown field",
                "applications[0].deploymentGroups[1].deploymentGroupName: required",
            ]
        );
        let typed: Value =
            serde_saphyr::from_str("deploymentConfigs:\n  - deploymentConfigName: c\n    minimumHealthyHosts: 3\n")
                .unwrap();
        let problems = check(&typed);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("deploymentConfigs[0]: invalid type: integer `3`"), "{problems:?}");
    }

    #[test]
    fn declared_values_match_by_their_declared_parts() {
        let declared = serde_json::json!({"enabled": true, "alarms": [{"name": "a"}]});
        let current = serde_json::json!({"enabled": true, "ignorePollAlarmFailure": false, "alarms": [{"name": "a"}]});
        assert!(matches(&declared, &current));
        assert!(!matches(&serde_json::json!({"alarms": [{"name": "b"}]}), &current));
        assert!(!matches(&serde_json::json!({"alarms": []}), &current));
        assert!(matches(&serde_json::json!({"enabled": false, "alarms": []}), &Value::Null));
        assert!(matches(&serde_json::json!(2), &serde_json::json!(2.0)));
        assert!(!matches(&serde_json::json!(true), &Value::Null));
    }
}
