//! Resource tags: TagResource, UntagResource and ListTagsForResource on applications, deployment groups and
//! deployment configurations, addressed by ARN; also the validation of CreateApplication's and
//! CreateDeploymentGroup's `tags`, which land in the same table.
//!
//! CodeDeploy never returns these ARNs (GetApplication has no `applicationArn`), so clients build them. Cutover's
//! form is stable for that reason: `arn:cutover:codedeploy:local:000000000000:application:<App>`,
//! `…:deploymentgroup:<App>/<Group>`, `…:deploymentconfig:<Config>`. On-premises instances keep their own tag
//! operations (AddTagsToOnPremisesInstances), as in CodeDeploy.

use cutover_api_types::codedeploy as wire;
use cutover_domain::config;
use cutover_store::Tx;

use super::{paginate, required};
use crate::AppState;
use crate::convert::ARN_PREFIX;
use crate::error::{ApiError, ApiResult};

/// `resource_type` of an application's tags (keyed by application id).
pub(crate) const APPLICATION: &str = "application";
/// `resource_type` of a deployment group's tags (keyed by group id).
pub(crate) const DEPLOYMENT_GROUP: &str = "deploymentgroup";
/// `resource_type` of a deployment configuration's tags (keyed by config id, or name for predefined ones).
pub(crate) const DEPLOYMENT_CONFIG: &str = "deploymentconfig";

/// The model's maximum ARN length.
const MAX_ARN_LEN: usize = 1011;
/// AWS's per-resource tag limit.
const MAX_TAGS: usize = 50;

pub(crate) fn application_arn(name: &str) -> String {
    format!("{ARN_PREFIX}:application:{name}")
}

/// A taggable resource, as named by its ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Resource {
    Application(String),
    DeploymentGroup { application: String, group: String },
    DeploymentConfig(String),
}

fn invalid_arn(arn: &str, why: &str) -> ApiError {
    ApiError::new(
        "InvalidArnException",
        format!("The ARN {arn} is not valid: {why}. Cutover's ARNs look like {}.", application_arn("<name>")),
    )
}

/// Parses an ARN into the resource it names, with the model's exceptions for malformed or foreign ARNs.
fn parse_arn(arn: &str) -> ApiResult<Resource> {
    if arn.len() > MAX_ARN_LEN {
        return Err(invalid_arn(arn, "it is longer than 1011 characters"));
    }
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [scheme, _partition, service, _region, _account, resource] = parts[..] else {
        return Err(invalid_arn(arn, "an ARN has the form arn:<partition>:<service>:<region>:<account>:<resource>"));
    };
    if scheme != "arn" {
        return Err(invalid_arn(arn, "it does not start with \"arn:\""));
    }
    if service != "codedeploy" {
        return Err(ApiError::new("ArnNotSupportedException", format!("The ARN {arn} is not a CodeDeploy ARN.")));
    }
    // Cutover is one account in one region: an ARN of another account or region cannot name one of its resources.
    if !arn.starts_with(&format!("{ARN_PREFIX}:")) {
        return Err(invalid_arn(arn, &format!("it is not an ARN of this server (those start with {ARN_PREFIX}:)")));
    }
    let valid = |name: &str| cutover_domain::ids::is_valid_name(name);
    if let Some(name) = resource.strip_prefix("application:") {
        return if valid(name) {
            Ok(Resource::Application(name.to_owned()))
        } else {
            Err(invalid_arn(arn, "bad application name"))
        };
    }
    if let Some(rest) = resource.strip_prefix("deploymentgroup:") {
        return match rest.split_once('/') {
            Some((application, group)) if valid(application) && valid(group) => {
                Ok(Resource::DeploymentGroup { application: application.to_owned(), group: group.to_owned() })
            }
            _ => Err(invalid_arn(arn, "a deployment group ARN ends with deploymentgroup:<application>/<group>")),
        };
    }
    if let Some(name) = resource.strip_prefix("deploymentconfig:") {
        return if valid(name) {
            Ok(Resource::DeploymentConfig(name.to_owned()))
        } else {
            Err(invalid_arn(arn, "bad deployment configuration name"))
        };
    }
    let hint = if resource.starts_with("instance/") {
        " Tag on-premises instances with AddTagsToOnPremisesInstances."
    } else {
        " Only applications, deployment groups and deployment configurations have tags."
    };
    Err(ApiError::new(
        "ArnNotSupportedException",
        format!("The ARN {arn} names a resource that cannot be tagged.{hint}"),
    ))
}

/// The `(resource_type, resource_id)` a resource's tags are stored under, or the exception saying it does not exist.
async fn resolve(tx: &mut Tx, resource: &Resource) -> ApiResult<(&'static str, String)> {
    match resource {
        Resource::Application(name) => Ok((APPLICATION, super::application(tx, name).await?.id)),
        Resource::DeploymentGroup { application, group } => {
            let app = super::application(tx, application).await?;
            Ok((DEPLOYMENT_GROUP, super::groups::group(tx, &app.id, group).await?.id))
        }
        Resource::DeploymentConfig(name) => {
            if config::find_predefined(name).is_some() {
                return Ok((DEPLOYMENT_CONFIG, name.clone()));
            }
            match tx.deployment_config_by_name(name).await? {
                Some(row) => Ok((DEPLOYMENT_CONFIG, row.id)),
                None => Err(ApiError::new(
                    "DeploymentConfigDoesNotExistException",
                    format!("The deployment configuration {name} does not exist with the user or AWS account."),
                )),
            }
        }
    }
}

/// Validates tags to add (CreateApplication, CreateDeploymentGroup, TagResource): keys of 1-128 characters that do
/// not start with the reserved `aws:`, values of at most 256, no key twice, at most 50.
pub(crate) fn tags_to_add(tags: Option<&[wire::Tag]>) -> ApiResult<Vec<(String, String)>> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for tag in tags.unwrap_or_default() {
        let key = tag.key.clone().unwrap_or_default();
        let value = tag.value.clone().unwrap_or_default();
        let problem = if key.is_empty() || key.chars().count() > 128 {
            Some("tag keys are 1-128 characters")
        } else if key.to_ascii_lowercase().starts_with("aws:") {
            Some("the prefix aws: is reserved")
        } else if value.chars().count() > 256 {
            Some("tag values are at most 256 characters")
        } else if pairs.iter().any(|(k, _)| *k == key) {
            Some("the key is given twice")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(ApiError::new(
                "InvalidTagsToAddException",
                format!("The tag {key:?} is not valid: {problem}."),
            ));
        }
        pairs.push((key, value));
    }
    check_count(pairs.len())?;
    Ok(pairs)
}

fn check_count(count: usize) -> ApiResult<()> {
    if count > MAX_TAGS {
        return Err(ApiError::new(
            "InvalidTagsToAddException",
            format!("A resource can have at most {MAX_TAGS} tags."),
        ));
    }
    Ok(())
}

pub(crate) async fn tag_resource(state: AppState, input: wire::TagResourceInput) -> ApiResult<wire::TagResourceOutput> {
    let arn = required(&input.resource_arn, "ResourceArnRequiredException", "ResourceArn")?;
    let resource = parse_arn(arn)?;
    if input.tags.as_ref().is_none_or(Vec::is_empty) {
        return Err(ApiError::new("TagRequiredException", "A tag was not specified."));
    }
    let tags = tags_to_add(input.tags.as_deref())?;
    let mut tx = state.store().begin().await?;
    let (kind, id) = resolve(&mut tx, &resource).await?;
    let existing = tx.resource_tags(kind, &id).await?;
    let added = tags.iter().filter(|(key, _)| !existing.iter().any(|(k, _)| k == key)).count();
    check_count(existing.len() + added)?;
    tx.put_resource_tags(kind, &id, &tags).await?;
    tx.commit().await?;
    Ok(wire::TagResourceOutput {})
}

pub(crate) async fn untag_resource(
    state: AppState,
    input: wire::UntagResourceInput,
) -> ApiResult<wire::UntagResourceOutput> {
    let arn = required(&input.resource_arn, "ResourceArnRequiredException", "ResourceArn")?;
    let resource = parse_arn(arn)?;
    let keys = input.tag_keys.unwrap_or_default();
    if keys.is_empty() {
        return Err(ApiError::new("TagRequiredException", "A tag key was not specified."));
    }
    let mut tx = state.store().begin().await?;
    let (kind, id) = resolve(&mut tx, &resource).await?;
    tx.remove_resource_tags(kind, &id, &keys).await?;
    tx.commit().await?;
    Ok(wire::UntagResourceOutput {})
}

pub(crate) async fn list_tags_for_resource(
    state: AppState,
    input: wire::ListTagsForResourceInput,
) -> ApiResult<wire::ListTagsForResourceOutput> {
    let arn = required(&input.resource_arn, "ResourceArnRequiredException", "ResourceArn")?;
    let resource = parse_arn(arn)?;
    let mut tx = state.store().begin().await?;
    // The model gives ListTagsForResource no "does not exist" errors: a well-formed ARN of a resource that does
    // not exist (any more) has no tags.
    let tags = match resolve(&mut tx, &resource).await {
        Ok((kind, id)) => tx.resource_tags(kind, &id).await?,
        Err(ApiError::Client { .. }) => Vec::new(),
        Err(internal) => return Err(internal),
    };
    let (page, next_token) = paginate(&crate::convert::wire_tags(&tags), &input.next_token)?;
    Ok(wire::ListTagsForResourceOutput { tags: Some(page), next_token })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment_group_arn(application: &str, group: &str) -> String {
        format!("{ARN_PREFIX}:deploymentgroup:{application}/{group}")
    }

    fn deployment_config_arn(name: &str) -> String {
        format!("{ARN_PREFIX}:deploymentconfig:{name}")
    }

    fn code(result: ApiResult<Resource>) -> &'static str {
        match result {
            Ok(_) => "Ok",
            Err(error) => error.code(),
        }
    }

    #[test]
    fn arns_round_trip_and_bad_ones_get_the_model_exceptions() {
        assert_eq!(parse_arn(&application_arn("web")).ok(), Some(Resource::Application("web".to_owned())));
        assert_eq!(
            parse_arn(&deployment_group_arn("web", "prod")).ok(),
            Some(Resource::DeploymentGroup { application: "web".to_owned(), group: "prod".to_owned() })
        );
        assert_eq!(
            parse_arn(&deployment_config_arn("CodeDeployDefault.OneAtATime")).ok(),
            Some(Resource::DeploymentConfig("CodeDeployDefault.OneAtATime".to_owned()))
        );
        let cases = [
            ("web", "InvalidArnException"),
            ("arn:cutover:codedeploy", "InvalidArnException"),
            ("urn:cutover:codedeploy:local:000000000000:application:web", "InvalidArnException"),
            ("arn:aws:s3:::bucket/key", "ArnNotSupportedException"),
            ("arn:aws:codedeploy:us-east-1:123456789012:application:web", "InvalidArnException"),
            (&format!("{ARN_PREFIX}:instance/host-1"), "ArnNotSupportedException"),
            (&format!("{ARN_PREFIX}:deployment/d-ABCDEFGHI"), "ArnNotSupportedException"),
            (&format!("{ARN_PREFIX}:application:"), "InvalidArnException"),
            (&format!("{ARN_PREFIX}:application:bad name"), "InvalidArnException"),
            (&format!("{ARN_PREFIX}:deploymentgroup:web"), "InvalidArnException"),
            (&format!("{ARN_PREFIX}:deploymentgroup:web/a/b"), "InvalidArnException"),
            (&format!("{ARN_PREFIX}:application:{}", "a".repeat(1011)), "InvalidArnException"),
        ];
        for (arn, expected) in cases {
            assert_eq!(code(parse_arn(arn)), expected, "{arn}");
        }
    }

    #[test]
    fn tags_to_add_follow_the_tagging_rules() {
        let tag = |key: &str, value: &str| wire::Tag { key: Some(key.to_owned()), value: Some(value.to_owned()) };
        assert_eq!(tags_to_add(Some(&[tag("env", "prod"), tag("team", "")])).expect("valid").len(), 2);
        assert!(tags_to_add(None).expect("none").is_empty());
        for bad in [
            vec![tag("", "x")],
            vec![tag(&"k".repeat(129), "x")],
            vec![tag("aws:cloudformation:stack-name", "x")],
            vec![tag("k", &"v".repeat(257))],
            vec![tag("k", "1"), tag("k", "2")],
            (0..51).map(|i| tag(&format!("k{i}"), "v")).collect(),
        ] {
            let error = tags_to_add(Some(&bad)).expect_err("invalid");
            assert_eq!(error.code(), "InvalidTagsToAddException");
        }
    }
}
