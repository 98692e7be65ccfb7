//! `docs/compatibility.md` cannot drift from the code: its table lists every operation of the model exactly once,
//! and a live server does not answer `OperationNotSupportedException` for any operation marked supported or
//! partial. Also checks, for every operation, that a minimal request gets a modelled answer and that each required
//! member of the model is enforced with a `…RequiredException` the model lists for that operation.

use std::collections::BTreeMap;
use std::path::Path;

use cutover_api_types::codedeploy::{EXCEPTIONS, Operation, REQUIRED_MEMBERS};
use cutover_harness::{Cluster, ClusterOptions};
use serde_json::{Value, json};

const STATUSES: [&str; 3] = ["supported", "partial", "not applicable"];
const CLI_CUSTOMISATIONS: [&str; 6] = ["push", "register", "deregister", "install", "uninstall", "wait"];

fn doc() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/compatibility.md");
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The rows of the table under `## <heading>`: first cell without backticks, second cell (the status).
fn table(doc: &str, heading: &str) -> Vec<(String, String)> {
    let section = doc.split(&format!("\n## {heading}\n")).nth(1).unwrap_or_else(|| panic!("no section {heading:?}"));
    let section = section.split("\n## ").next().unwrap_or_default();
    let mut rows = Vec::new();
    for line in section.lines().filter(|line| line.starts_with('|')).skip(2) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        assert!(cells.len() >= 3, "row with too few cells: {line}");
        let name = cells[0]
            .strip_prefix('`')
            .and_then(|c| c.strip_suffix('`'))
            .unwrap_or_else(|| panic!("name not in backticks: {line}"));
        assert!(STATUSES.contains(&cells[1]), "status {:?} is not one of {STATUSES:?}: {line}", cells[1]);
        rows.push((name.to_owned(), cells[1].to_owned()));
    }
    rows
}

fn operation_statuses() -> BTreeMap<Operation, String> {
    let rows = table(&doc(), "Operations");
    let mut statuses = BTreeMap::new();
    for (name, status) in rows {
        let operation =
            Operation::from_name(&name).unwrap_or_else(|| panic!("{name} is not an operation of the model"));
        assert!(statuses.insert(operation, status).is_none(), "{name} is listed twice");
    }
    statuses
}

#[test]
fn compatibility_table_lists_every_operation_and_cli_customisation_once() {
    let statuses = operation_statuses();
    let missing: Vec<&str> =
        Operation::ALL.iter().filter(|op| !statuses.contains_key(op)).map(|op| op.name()).collect();
    assert!(missing.is_empty(), "docs/compatibility.md does not list {missing:?}");
    assert_eq!(statuses.len(), Operation::ALL.len());
    let cli: Vec<String> = table(&doc(), "AWS CLI customisations").into_iter().map(|(name, _)| name).collect();
    assert_eq!(cli, CLI_CUSTOMISATIONS, "the CLI customisations table");
}

/// Sends `body` to `operation`; returns None on success or the error's `__type`.
async fn answer(cluster: &Cluster, operation: Operation, body: &Value) -> Option<String> {
    match cluster.client.call::<_, Value>(operation, body).await {
        Ok(_) => None,
        Err(error) => Some(
            error.exception().unwrap_or_else(|| panic!("{}: no modelled answer: {error}", operation.name())).to_owned(),
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_gets_a_modelled_answer_and_documented_ones_are_served() {
    let statuses = operation_statuses();
    let cluster = Cluster::start(ClusterOptions { agents: 0, ..Default::default() }).await;
    for operation in Operation::ALL {
        let status = &statuses[operation];
        let Some(code) = answer(&cluster, *operation, &json!({})).await else { continue };
        if status != "not applicable" {
            assert_ne!(
                code,
                "OperationNotSupportedException",
                "{} is marked {status} in docs/compatibility.md",
                operation.name()
            );
        }
        // Never a fault or a decoding error, always one of the operation's own exceptions.
        assert!(
            EXCEPTIONS.contains(&code.as_str()),
            "{} answered {code}, which is not an exception of the model",
            operation.name()
        );
        assert!(
            operation.errors().contains(&code.as_str()),
            "{} answered {code}, which the model does not list for it",
            operation.name()
        );
    }
}

/// A plausible value for a required member, so that a request lacks exactly the member under test.
fn dummy(member: &str) -> Value {
    let revision = json!({"revisionType": "S3", "s3Location": {"bucket": "b", "key": "k.zip", "bundleType": "zip"}});
    match member {
        "tags" | "Tags" => json!([{"Key": "k", "Value": "v"}]),
        "instanceNames" | "applicationNames" | "deploymentGroupNames" | "instanceIds" | "targetIds" | "TagKeys" => {
            json!(["x"])
        }
        "deploymentIds" => json!(["d-ABCDEFGHI"]),
        "deploymentId" => json!("d-ABCDEFGHI"),
        "revision" => revision,
        "revisions" => json!([revision]),
        "ResourceArn" => json!("arn:cutover:codedeploy:local:000000000000:application:x"),
        "applicationName"
        | "deploymentGroupName"
        | "currentDeploymentGroupName"
        | "deploymentConfigName"
        | "instanceName"
        | "targetId"
        | "instanceId" => json!("x"),
        "serviceRoleArn" => json!("arn:aws:iam::000000000000:role/test"),
        other => panic!("no dummy value for the required member {other}: add one"),
    }
}

/// Required members Cutover deliberately does not require (see docs/compatibility.md).
const NOT_REQUIRED: [(&str, &str); 1] = [
    // The service role is for AWS's own calls on the user's behalf; Cutover makes none, and `cutover` omits it.
    ("CreateDeploymentGroupInput", "serviceRoleArn"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_required_member_answers_its_required_exception() {
    let cluster = Cluster::start(ClusterOptions { agents: 0, ..Default::default() }).await;
    for (shape, lenient) in NOT_REQUIRED {
        let members =
            REQUIRED_MEMBERS.iter().find(|(name, _)| *name == shape).map(|(_, members)| *members).unwrap_or_default();
        assert!(members.contains(&lenient), "{shape}.{lenient} is no longer required by the model");
    }
    let mut checked = 0;
    for (shape, members) in REQUIRED_MEMBERS {
        let Some(operation) = Operation::ALL.iter().find(|op| op.input_shape() == Some(*shape)) else { continue };
        for missing in *members {
            if NOT_REQUIRED.contains(&(*shape, *missing)) {
                continue;
            }
            let body: serde_json::Map<String, Value> =
                members.iter().filter(|m| *m != missing).map(|m| ((*m).to_owned(), dummy(m))).collect();
            let body = Value::Object(body);
            let code = answer(&cluster, *operation, &body).await;
            let code = code.unwrap_or_else(|| panic!("{} without {missing} succeeded: {body}", operation.name()));
            assert!(
                code.ends_with("RequiredException") && operation.errors().contains(&code.as_str()),
                "{} without {missing} answered {code}, not a …RequiredException the model lists for it ({body})",
                operation.name()
            );
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} required members checked");
}
