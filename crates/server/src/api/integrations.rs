//! Operations for integrations Cutover does not have: GitHub account connections (ListGitHubAccountTokenNames,
//! DeleteGitHubAccountToken) and CloudFormation-created resources (DeleteResourcesByExternalId).
//!
//! They answer as CodeDeploy does for an account that has no such connections or resources, so scripts and tools
//! that call them (CloudFormation-style clean-ups, consoles listing connections) keep working.

use cutover_api_types::codedeploy as wire;

use super::{paginate, required};
use crate::AppState;
use crate::error::{ApiError, ApiResult};

/// GitHub connections are made in the AWS console through OAuth; Cutover has none, so the list is empty.
pub(crate) async fn list_github_token_names(
    _state: AppState,
    input: wire::ListGitHubAccountTokenNamesInput,
) -> ApiResult<wire::ListGitHubAccountTokenNamesOutput> {
    let (page, next_token) = paginate::<String>(&[], &input.next_token)?;
    Ok(wire::ListGitHubAccountTokenNamesOutput { token_name_list: Some(page), next_token })
}

/// With no GitHub connections, every named one does not exist.
pub(crate) async fn delete_github_token(
    _state: AppState,
    input: wire::DeleteGitHubAccountTokenInput,
) -> ApiResult<wire::DeleteGitHubAccountTokenOutput> {
    let name = required(&input.token_name, "GitHubAccountTokenNameRequiredException", "tokenName")?;
    Err(ApiError::new(
        "GitHubAccountTokenDoesNotExistException",
        format!("No GitHub account connection with the name {name} exists: Cutover has no GitHub account connections."),
    ))
}

/// CloudFormation links resources to a stack by external id; Cutover creates no such resources, so there is
/// nothing to delete (the model defines no errors for this operation).
pub(crate) async fn delete_resources_by_external_id(
    _state: AppState,
    _input: wire::DeleteResourcesByExternalIdInput,
) -> ApiResult<wire::DeleteResourcesByExternalIdOutput> {
    Ok(wire::DeleteResourcesByExternalIdOutput {})
}
