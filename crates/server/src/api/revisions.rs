//! Application revisions: Register, Get, BatchGet, List.

use cutover_api_types::codedeploy as wire;
use cutover_store::RevisionRow;

use super::{application, paginate, required};
use crate::AppState;
use crate::convert::{self, seconds};
use crate::error::{ApiError, ApiResult};

/// Checks that a revision location is one Cutover can deploy to servers.
pub(crate) fn validate(location: &Option<wire::RevisionLocation>) -> ApiResult<&wire::RevisionLocation> {
    let location =
        location.as_ref().ok_or_else(|| ApiError::new("RevisionRequiredException", "revision is required"))?;
    match location.revision_type.as_deref() {
        Some("S3") => {
            let s3 = location
                .s3_location
                .as_ref()
                .ok_or_else(|| ApiError::new("InvalidRevisionException", "revision of type S3 needs s3Location"))?;
            if s3.bucket.as_deref().unwrap_or("").is_empty() || s3.key.as_deref().unwrap_or("").is_empty() {
                return Err(ApiError::new("InvalidRevisionException", "s3Location needs both bucket and key"));
            }
            match s3.bundle_type.as_deref() {
                Some("tar" | "tgz" | "zip") => Ok(location),
                Some(other) => Err(ApiError::new(
                    "InvalidRevisionException",
                    format!("BundleType in S3Revision must be tar, tgz or zip, got {other:?}"),
                )),
                None => Err(ApiError::new(
                    "InvalidRevisionException",
                    "s3Location.bundleType is required (tar, tgz or zip)",
                )),
            }
        }
        Some("GitHub") => {
            let github = location.git_hub_location.as_ref().ok_or_else(|| {
                ApiError::new("InvalidRevisionException", "revision of type GitHub needs gitHubLocation")
            })?;
            let repository = github.repository.as_deref().unwrap_or("");
            if !crate::git::valid_repository(repository) {
                return Err(ApiError::new(
                    "InvalidRevisionException",
                    format!("gitHubLocation.repository must be \"owner/repository\", got {repository:?}"),
                ));
            }
            let commit = github.commit_id.as_deref().unwrap_or("");
            if !crate::git::valid_commit(commit) {
                return Err(ApiError::new(
                    "InvalidRevisionException",
                    format!("gitHubLocation.commitId must be a full commit id (40 hexadecimal digits), got {commit:?}"),
                ));
            }
            Ok(location)
        }
        Some(kind @ ("String" | "AppSpecContent")) => {
            // Inline AppSpecs (Lambda deployments); the content is parsed when it is deployed.
            let content = match kind {
                "String" => location.string.as_ref().and_then(|string| string.content.as_deref()),
                _ => location.app_spec_content.as_ref().and_then(|content| content.content.as_deref()),
            };
            if content.is_none_or(|content| content.trim().is_empty()) {
                return Err(ApiError::new("InvalidRevisionException", format!("a {kind} revision needs its content")));
            }
            Ok(location)
        }
        Some(other) => Err(ApiError::new("InvalidRevisionException", format!("unknown revisionType {other:?}"))),
        None => Err(ApiError::new("InvalidRevisionException", "revision.revisionType is required")),
    }
}

fn generic_info(row: &RevisionRow, groups: Vec<String>) -> wire::GenericRevisionInfo {
    wire::GenericRevisionInfo {
        description: row.description.clone(),
        deployment_groups: Some(groups),
        first_used_time: row.first_used_time.map(seconds),
        last_used_time: row.last_used_time.map(seconds),
        register_time: Some(seconds(row.register_time)),
    }
}

pub(crate) async fn register(state: AppState, input: wire::RegisterApplicationRevisionInput) -> ApiResult<()> {
    let name = required(&input.application_name, "ApplicationNameRequiredException", "applicationName")?;
    let location = validate(&input.revision)?;
    if input.description.as_ref().is_some_and(|d| d.chars().count() > 256) {
        return Err(ApiError::new(
            "DescriptionTooLongException",
            "The description is too long (at most 256 characters).",
        ));
    }
    let mut tx = state.store().begin().await?;
    let app = application(&mut tx, name).await?;
    let row = RevisionRow {
        application_id: app.id,
        revision_key: convert::revision_key(location),
        location: serde_json::to_string(location)?,
        description: input.description.clone(),
        register_time: state.inner.clock.now_ms(),
        first_used_time: None,
        last_used_time: None,
    };
    tx.upsert_revision(&row).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn get(
    state: AppState,
    input: wire::GetApplicationRevisionInput,
) -> ApiResult<wire::GetApplicationRevisionOutput> {
    let name = required(&input.application_name, "ApplicationNameRequiredException", "applicationName")?;
    let location = validate(&input.revision)?;
    let mut tx = state.store().begin().await?;
    let app = application(&mut tx, name).await?;
    let row = tx.revision(&app.id, &convert::revision_key(location)).await?.ok_or_else(|| {
        ApiError::new(
            "RevisionDoesNotExistException",
            "The named revision does not exist with the user or AWS account.",
        )
    })?;
    let groups = tx.groups_that_deployed(&app.id, &row.location).await?;
    Ok(wire::GetApplicationRevisionOutput {
        application_name: Some(app.name),
        revision: Some(location.clone()),
        revision_info: Some(generic_info(&row, groups)),
    })
}

pub(crate) async fn batch_get(
    state: AppState,
    input: wire::BatchGetApplicationRevisionsInput,
) -> ApiResult<wire::BatchGetApplicationRevisionsOutput> {
    let name = required(&input.application_name, "ApplicationNameRequiredException", "applicationName")?;
    let revisions = input.revisions.unwrap_or_default();
    if revisions.is_empty() {
        return Err(ApiError::new("RevisionRequiredException", "revisions is required"));
    }
    if revisions.len() > 25 {
        return Err(ApiError::new(
            "BatchLimitExceededException",
            "The maximum number of revisions allowed for this request (25) was exceeded.",
        ));
    }
    let mut tx = state.store().begin().await?;
    let app = application(&mut tx, name).await?;
    let mut infos = Vec::new();
    let mut missing = Vec::new();
    for location in &revisions {
        let key = convert::revision_key(location);
        match tx.revision(&app.id, &key).await? {
            Some(row) => {
                let groups = tx.groups_that_deployed(&app.id, &row.location).await?;
                infos.push(wire::RevisionInfo {
                    revision_location: Some(location.clone()),
                    generic_revision_info: Some(generic_info(&row, groups)),
                });
            }
            None => missing.push(key),
        }
    }
    Ok(wire::BatchGetApplicationRevisionsOutput {
        application_name: Some(app.name),
        error_message: (!missing.is_empty()).then(|| format!("{} revision(s) were not found", missing.len())),
        revisions: Some(infos),
    })
}

pub(crate) async fn list(
    state: AppState,
    input: wire::ListApplicationRevisionsInput,
) -> ApiResult<wire::ListApplicationRevisionsOutput> {
    let name = required(&input.application_name, "ApplicationNameRequiredException", "applicationName")?;
    let mut tx = state.store().begin().await?;
    let app = application(&mut tx, name).await?;
    let mut rows = tx.list_revisions(&app.id).await?;
    if let Some(bucket) = input.s3_bucket.as_deref() {
        let prefix = input.s3_key_prefix.clone().unwrap_or_default();
        rows.retain(|row| {
            serde_json::from_str::<wire::RevisionLocation>(&row.location)
                .ok()
                .and_then(|loc| loc.s3_location)
                .is_some_and(|s3| {
                    s3.bucket.as_deref() == Some(bucket) && s3.key.as_deref().unwrap_or("").starts_with(&prefix)
                })
        });
    } else if input.s3_key_prefix.is_some() {
        return Err(ApiError::new("BucketNameFilterRequiredException", "s3KeyPrefix needs s3Bucket"));
    }
    match input.deployed.as_deref() {
        None | Some("ignore") => {}
        Some(filter @ ("include" | "exclude")) => {
            let mut targets = Vec::new();
            for group in tx.list_deployment_groups(&app.id).await? {
                if let Some(revision) = group.target_revision {
                    targets.push(convert::revision_key_from_json(&revision));
                }
            }
            let want = filter == "include";
            rows.retain(|row| targets.contains(&row.revision_key) == want);
        }
        Some(other) => {
            return Err(ApiError::new(
                "InvalidDeployedStateFilterException",
                format!("deployed must be include, exclude or ignore, got {other:?}"),
            ));
        }
    }
    let sort_key = |row: &RevisionRow| -> i64 {
        match input.sort_by.as_deref() {
            Some("firstUsedTime") => row.first_used_time.unwrap_or(0),
            Some("lastUsedTime") => row.last_used_time.unwrap_or(0),
            _ => row.register_time,
        }
    };
    match input.sort_by.as_deref() {
        None | Some("registerTime" | "firstUsedTime" | "lastUsedTime") => {}
        Some(other) => {
            return Err(ApiError::new(
                "InvalidSortByException",
                format!("sortBy {other:?} is not registerTime, firstUsedTime or lastUsedTime"),
            ));
        }
    }
    rows.sort_by_key(sort_key);
    match input.sort_order.as_deref() {
        None | Some("ascending") => {}
        Some("descending") => rows.reverse(),
        Some(other) => {
            return Err(ApiError::new(
                "InvalidSortOrderException",
                format!("sortOrder {other:?} is not ascending or descending"),
            ));
        }
    }
    let locations: Vec<wire::RevisionLocation> =
        rows.iter().filter_map(|row| serde_json::from_str(&row.location).ok()).collect();
    let (page, next_token) = paginate(&locations, &input.next_token)?;
    Ok(wire::ListApplicationRevisionsOutput { revisions: Some(page), next_token })
}
