//! Tests of the generated CodeDeploy wire types (`src/codedeploy.rs`, from `gen/generate.py`).

use std::collections::BTreeSet;

use cutover_api_types::codedeploy::{
    self, CreateApplicationInput, CreateDeploymentInput, DeploymentInfo, EC2TagFilter, ErrorBody, GetApplicationInput,
    ListDeploymentTargetsInput, Operation, S3Location, TagResourceInput, TagResourceOutput,
};
use serde_json::{Value, json};

#[test]
fn all_47_operations_round_trip_through_their_names() {
    assert_eq!(Operation::ALL.len(), 47);
    assert_eq!(codedeploy::OPERATION_SHAPES.len(), 47);
    let mut names = BTreeSet::new();
    for (i, &op) in Operation::ALL.iter().enumerate() {
        let name = op.name();
        assert!(names.insert(name), "duplicate name {name}");
        assert_eq!(Operation::from_name(name), Some(op));
        assert_eq!(name.parse::<Operation>(), Ok(op));
        assert_eq!(op.to_string(), name);
        assert_eq!(Operation::from_target(&format!("{}.{name}", codedeploy::TARGET_PREFIX)), Some(op));
        assert_eq!(codedeploy::OPERATION_SHAPES[i].0, name);
        assert_eq!(op as usize, i);
    }
    assert_eq!(codedeploy::TARGET_PREFIX, "CodeDeploy_20141006");
    assert_eq!(Operation::from_name("createDeployment"), None);
    assert_eq!(Operation::from_target("CreateDeployment"), None);
    assert_eq!(Operation::from_target("CodeDeploy_20141006CreateDeployment"), None);
    let err = "Bogus".parse::<Operation>().unwrap_err();
    assert_eq!(err.0, "Bogus");
}

#[test]
fn operation_shapes_and_errors_come_from_the_model() {
    assert_eq!(Operation::CreateDeployment.input_shape(), Some("CreateDeploymentInput"));
    assert_eq!(Operation::CreateDeployment.output_shape(), Some("CreateDeploymentOutput"));
    assert_eq!(Operation::ContinueDeployment.output_shape(), None);
    assert_eq!(Operation::TagResource.input_shape(), Some("TagResourceInput"));
    assert!(Operation::CreateApplication.errors().contains(&"ApplicationNameRequiredException"));
    let exceptions: BTreeSet<_> = codedeploy::EXCEPTIONS.iter().copied().collect();
    for op in Operation::ALL {
        assert!(op.input_shape().is_some(), "{op} has no input");
        // The model lists no errors for DeleteResourcesByExternalId only.
        assert_eq!(op.errors().is_empty(), *op == Operation::DeleteResourcesByExternalId, "{op}");
        for e in op.errors() {
            assert!(exceptions.contains(e), "{op}: {e} is not in EXCEPTIONS");
        }
    }
}

#[test]
fn exceptions_lists_the_114_error_shapes() {
    assert_eq!(codedeploy::EXCEPTIONS.len(), 114);
    assert!(codedeploy::EXCEPTIONS.iter().all(|e| e.ends_with("Exception")));
    assert!(codedeploy::EXCEPTIONS.is_sorted());
    let unique: BTreeSet<_> = codedeploy::EXCEPTIONS.iter().collect();
    assert_eq!(unique.len(), 114);
    for e in ["ApplicationNameRequiredException", "DeploymentGroupDoesNotExistException", "ThrottlingException"] {
        assert!(codedeploy::EXCEPTIONS.contains(&e), "{e}");
    }
}

#[test]
fn error_body_uses_type_and_message() {
    let body = ErrorBody::new("ApplicationNameRequiredException", "The application name is required.");
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({"__type": "ApplicationNameRequiredException", "message": "The application name is required."})
    );
    let back: ErrorBody = serde_json::from_value(json!({"__type": "X", "message": "m", "extra": 1})).unwrap();
    assert_eq!(back, ErrorBody::new("X", "m"));
}

#[test]
fn create_deployment_request_round_trips_exactly() {
    let body = r#"{"applicationName":"app1","deploymentGroupName":"dg1","description":"hello world","revision":{"revisionType":"S3","s3Location":{"bucket":"bundles","key":"app.zip","bundleType":"zip"}}}"#;
    let input: CreateDeploymentInput = serde_json::from_str(body).unwrap();
    assert_eq!(input.application_name.as_deref(), Some("app1"));
    assert_eq!(input.deployment_group_name.as_deref(), Some("dg1"));
    assert_eq!(input.description.as_deref(), Some("hello world"));
    assert_eq!(input.deployment_config_name, None);
    assert_eq!(input.ignore_application_stop_failures, None);
    let revision = input.revision.as_ref().unwrap();
    assert_eq!(revision.revision_type.as_deref(), Some("S3"));
    assert_eq!(revision.git_hub_location, None);
    assert_eq!(
        revision.s3_location,
        Some(S3Location {
            bucket: Some("bundles".into()),
            key: Some("app.zip".into()),
            bundle_type: Some("zip".into()),
            version: None,
            e_tag: None,
        })
    );
    assert_eq!(serde_json::to_value(&input).unwrap(), serde_json::from_str::<Value>(body).unwrap());
    let again: CreateDeploymentInput = serde_json::from_str(&serde_json::to_string(&input).unwrap()).unwrap();
    assert_eq!(again, input);
}

#[test]
fn deployment_info_with_overview_and_timestamps_round_trips() {
    let wire = json!({
        "applicationName": "app1",
        "deploymentGroupName": "dg1",
        "deploymentConfigName": "CodeDeployDefault.OneAtATime",
        "deploymentId": "d-ABCDEF123",
        "status": "InProgress",
        "createTime": 1446744188.595,
        "startTime": 1446744190.0,
        "creator": "user",
        "ignoreApplicationStopFailures": false,
        "computePlatform": "Server",
        "deploymentOverview": {
            "Pending": 1, "InProgress": 2, "Succeeded": 3, "Failed": 0, "Skipped": 0, "Ready": 0
        },
        "revision": {"revisionType": "S3", "s3Location": {"bucket": "b", "key": "k", "bundleType": "zip", "eTag": "abc"}},
        "targetInstances": {"tagFilters": [{"Key": "env", "Value": "prod", "Type": "KEY_AND_VALUE"}]},
        "errorInformation": {"code": "HEALTH_CONSTRAINTS", "message": "too many failed"},
        "deploymentStatusMessages": ["one", "two"]
    });
    let info: DeploymentInfo = serde_json::from_value(wire.clone()).unwrap();
    assert_eq!(info.create_time, Some(1446744188.595));
    assert_eq!(info.start_time, Some(1446744190.0));
    assert_eq!(info.complete_time, None);
    assert_eq!(info.status.as_deref(), Some("InProgress"));
    assert!(codedeploy::DEPLOYMENT_STATUS_VALUES.contains(&info.status.as_deref().unwrap()));
    let overview = info.deployment_overview.as_ref().unwrap();
    assert_eq!(
        (overview.pending, overview.in_progress, overview.succeeded, overview.failed, overview.skipped, overview.ready),
        (Some(1), Some(2), Some(3), Some(0), Some(0), Some(0))
    );
    let s3 = info.revision.as_ref().unwrap().s3_location.as_ref().unwrap();
    assert_eq!(s3.e_tag.as_deref(), Some("abc"));
    let filter = &info.target_instances.as_ref().unwrap().tag_filters.as_ref().unwrap()[0];
    assert_eq!(filter.key.as_deref(), Some("env"));
    assert_eq!(filter.type_.as_deref(), Some("KEY_AND_VALUE"));
    assert_eq!(info.ignore_application_stop_failures, Some(false));
    assert_eq!(info.deployment_status_messages, Some(vec!["one".to_owned(), "two".to_owned()]));

    let out = serde_json::to_value(&info).unwrap();
    assert_eq!(out, wire);
    assert_eq!(serde_json::to_string(&info.create_time).unwrap(), "1446744188.595");

    // Clients may send whole seconds as JSON integers.
    let range: codedeploy::TimeRange =
        serde_json::from_value(json!({"start": 1446744188, "end": 1446744200.5})).unwrap();
    assert_eq!((range.start, range.end), (Some(1446744188.0), Some(1446744200.5)));
}

#[test]
fn tag_resource_uses_capitalised_members() {
    let wire = json!({
        "ResourceArn": "arn:aws:codedeploy:us-east-1:123456789012:application:app1",
        "Tags": [{"Key": "team", "Value": "infra"}]
    });
    let input: TagResourceInput = serde_json::from_value(wire.clone()).unwrap();
    assert_eq!(input.resource_arn.as_deref(), Some("arn:aws:codedeploy:us-east-1:123456789012:application:app1"));
    let tags = input.tags.as_ref().unwrap();
    assert_eq!(tags[0].key.as_deref(), Some("team"));
    assert_eq!(tags[0].value.as_deref(), Some("infra"));
    assert_eq!(serde_json::to_value(&input).unwrap(), wire);

    // The lower-camel spelling is not the wire name: it is an unknown member, so ignored.
    let lower: TagResourceInput = serde_json::from_value(json!({"resourceArn": "x", "tags": []})).unwrap();
    assert_eq!(lower, TagResourceInput::default());

    // Empty outputs are `{}`.
    assert_eq!(serde_json::to_string(&TagResourceOutput::default()).unwrap(), "{}");
}

#[test]
fn unknown_members_are_ignored() {
    let input: CreateApplicationInput = serde_json::from_value(json!({
        "applicationName": "app1",
        "someFutureMember": {"nested": [1, 2, 3]},
        "tags": [{"Key": "k", "Value": "v", "Extra": true}]
    }))
    .unwrap();
    assert_eq!(input.application_name.as_deref(), Some("app1"));
    assert_eq!(input.tags.as_ref().unwrap().len(), 1);
    assert_eq!(
        serde_json::to_value(&input).unwrap(),
        json!({"applicationName": "app1", "tags": [{"Key": "k", "Value": "v"}]})
    );
}

#[test]
fn missing_required_members_deserialize_to_none() {
    let input: CreateDeploymentInput = serde_json::from_str("{}").unwrap();
    assert_eq!(input, CreateDeploymentInput::default());
    assert_eq!(input.application_name, None);
    let input: GetApplicationInput = serde_json::from_value(json!({"applicationName": null})).unwrap();
    assert_eq!(input.application_name, None);
    let input: ListDeploymentTargetsInput = serde_json::from_value(json!({"nextToken": "t"})).unwrap();
    assert_eq!(input.deployment_id, None);
    assert_eq!(input.next_token.as_deref(), Some("t"));

    let required =
        |shape: &str| codedeploy::REQUIRED_MEMBERS.iter().find(|(s, _)| *s == shape).map(|(_, members)| *members);
    assert_eq!(required("CreateDeploymentInput"), Some(&["applicationName"][..]));
    assert_eq!(required("TagResourceInput"), Some(&["ResourceArn", "Tags"][..]));
    assert_eq!(required("DeploymentInfo"), None);
}

#[test]
fn none_members_are_not_serialized() {
    let input = CreateApplicationInput { application_name: Some("app1".into()), ..Default::default() };
    assert_eq!(serde_json::to_string(&input).unwrap(), r#"{"applicationName":"app1"}"#);
    let filter = EC2TagFilter { type_: Some("KEY_ONLY".into()), ..Default::default() };
    assert_eq!(serde_json::to_value(&filter).unwrap(), json!({"Type": "KEY_ONLY"}));
}

#[test]
fn enum_value_consts_follow_the_model() {
    assert_eq!(
        codedeploy::DEPLOYMENT_STATUS_VALUES,
        ["Created", "Queued", "InProgress", "Baking", "Succeeded", "Failed", "Stopped", "Ready"]
    );
    assert_eq!(codedeploy::EC2_TAG_FILTER_TYPE_VALUES, ["KEY_ONLY", "VALUE_ONLY", "KEY_AND_VALUE"]);
    assert_eq!(codedeploy::REVISION_LOCATION_TYPE_VALUES, ["S3", "GitHub", "String", "AppSpecContent"]);
    assert_eq!(codedeploy::BUNDLE_TYPE_VALUES, ["tar", "tgz", "zip", "YAML", "JSON"]);
    assert!(codedeploy::LIFECYCLE_EVENT_STATUS_VALUES.contains(&"Skipped"));
}

#[test]
fn decode_input_decodes_each_operation_s_own_input_shape() {
    for &op in Operation::ALL {
        assert!(op.decode_input(b"{}").is_ok(), "{op}: every member is optional");
        assert!(
            op.decode_input(b"{\"somethingNew\": [1, {\"a\": null}]}").is_ok(),
            "{op}: unknown members are ignored"
        );
        assert!(op.decode_input(b"\"text\"").is_err(), "{op}: the body is an object");
        assert!(op.decode_input(b"{\"a\": ").is_err(), "{op}: truncated JSON");
    }
    let create = Operation::CreateDeployment;
    assert!(create.decode_input(br#"{"applicationName": "web", "revision": {"revisionType": "S3"}}"#).is_ok());
    let error = create.decode_input(br#"{"applicationName": 5}"#).unwrap_err();
    assert!(error.to_string().contains("invalid type: integer"), "{error}");
    // The shape is the operation's: a member of another operation's input with the wrong type is ignored here.
    assert!(Operation::GetApplication.decode_input(br#"{"revision": 5}"#).is_ok());
    assert!(Operation::RegisterApplicationRevision.decode_input(br#"{"revision": 5}"#).is_err());
}
