//! Applications: Create, Get, BatchGet, List, Update (rename), Delete.

use cutover_api_types::codedeploy as wire;
use cutover_domain::config::ComputePlatform;
use cutover_store::ApplicationRow;

use super::{application, paginate, required, valid_name};
use crate::AppState;
use crate::convert::{self, seconds};
use crate::error::{ApiError, ApiResult};

pub(crate) fn info(row: &ApplicationRow) -> wire::ApplicationInfo {
    wire::ApplicationInfo {
        application_id: Some(row.id.clone()),
        application_name: Some(row.name.clone()),
        create_time: Some(seconds(row.create_time)),
        linked_to_git_hub: Some(false),
        git_hub_account_name: None,
        compute_platform: Some(row.compute_platform.clone()),
    }
}

pub(crate) async fn create(
    state: AppState,
    input: wire::CreateApplicationInput,
) -> ApiResult<wire::CreateApplicationOutput> {
    let name = required(&input.application_name, "ApplicationNameRequiredException", "applicationName")?;
    valid_name(name, "InvalidApplicationNameException", "application name")?;
    let platform = match input.compute_platform.as_deref() {
        None => ComputePlatform::Server,
        Some(text) => ComputePlatform::parse(text).ok_or_else(|| {
            ApiError::new(
                "InvalidComputePlatformException",
                format!("computePlatform {text:?} is not Server, Lambda or ECS"),
            )
        })?,
    };
    let tags = super::tags::tags_to_add(input.tags.as_deref())?;
    let row = ApplicationRow {
        id: state.inner.clock.uuid(),
        name: name.to_owned(),
        compute_platform: platform.as_str().to_owned(),
        create_time: state.inner.clock.now_ms(),
        // The tags live in resource_tags, where TagResource and ListTagsForResource find them; this older
        // column is no longer read.
        tags: convert::tags_to_json(&[]),
    };
    let mut tx = state.store().begin().await?;
    tx.insert_application(&row).await.map_err(|error| match error {
        cutover_store::StoreError::Conflict(_) => ApiError::new(
            "ApplicationAlreadyExistsException",
            format!("The application {name} already exists with the user or AWS account."),
        ),
        other => other.into(),
    })?;
    tx.put_resource_tags(super::tags::APPLICATION, &row.id, &tags).await?;
    tx.commit().await?;
    Ok(wire::CreateApplicationOutput { application_id: Some(row.id) })
}

pub(crate) async fn get(state: AppState, input: wire::GetApplicationInput) -> ApiResult<wire::GetApplicationOutput> {
    let name = required(&input.application_name, "ApplicationNameRequiredException", "applicationName")?;
    let mut tx = state.store().begin().await?;
    let row = application(&mut tx, name).await?;
    Ok(wire::GetApplicationOutput { application: Some(info(&row)) })
}

pub(crate) async fn batch_get(
    state: AppState,
    input: wire::BatchGetApplicationsInput,
) -> ApiResult<wire::BatchGetApplicationsOutput> {
    let names = input.application_names.unwrap_or_default();
    if names.is_empty() {
        return Err(ApiError::new("ApplicationNameRequiredException", "applicationNames is required"));
    }
    if names.len() > 100 {
        return Err(ApiError::new(
            "BatchLimitExceededException",
            "The maximum number of names or IDs allowed for this request (100) was exceeded.",
        ));
    }
    let mut tx = state.store().begin().await?;
    let mut infos = Vec::new();
    for name in &names {
        infos.push(info(&application(&mut tx, name).await?));
    }
    Ok(wire::BatchGetApplicationsOutput { applications_info: Some(infos) })
}

pub(crate) async fn list(
    state: AppState,
    input: wire::ListApplicationsInput,
) -> ApiResult<wire::ListApplicationsOutput> {
    let mut tx = state.store().begin().await?;
    let names: Vec<String> = tx.list_applications().await?.into_iter().map(|row| row.name).collect();
    let (page, next_token) = paginate(&names, &input.next_token)?;
    Ok(wire::ListApplicationsOutput { applications: Some(page), next_token })
}

pub(crate) async fn update(state: AppState, input: wire::UpdateApplicationInput) -> ApiResult<()> {
    let name = required(&input.application_name, "ApplicationNameRequiredException", "applicationName")?;
    let new_name = input.new_application_name.as_deref().filter(|n| !n.is_empty());
    if let Some(new_name) = new_name {
        valid_name(new_name, "InvalidApplicationNameException", "application name")?;
    }
    let mut tx = state.store().begin().await?;
    // Checked even without a new name: updating an application that does not exist is an error.
    let row = application(&mut tx, name).await?;
    let Some(new_name) = new_name else { return Ok(()) };
    if new_name != row.name {
        tx.rename_application(&row.id, new_name).await.map_err(|error| match error {
            cutover_store::StoreError::Conflict(_) => ApiError::new(
                "ApplicationAlreadyExistsException",
                format!("The application {new_name} already exists with the user or AWS account."),
            ),
            other => other.into(),
        })?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn delete(state: AppState, input: wire::DeleteApplicationInput) -> ApiResult<()> {
    let name = required(&input.application_name, "ApplicationNameRequiredException", "applicationName")?;
    let mut tx = state.store().begin().await?;
    // Deleting an unknown application succeeds, as in CodeDeploy.
    if let Some(row) = tx.application_by_name(name).await? {
        for group in tx.list_deployment_groups(&row.id).await? {
            if let Some(active) = group.active_deployment_id {
                return Err(ApiError::new(
                    "InvalidOperationException",
                    format!("deployment group {} has an active deployment ({active}); stop it first", group.name),
                ));
            }
        }
        for group in tx.list_deployment_groups(&row.id).await? {
            tx.delete_resource_tags(super::tags::DEPLOYMENT_GROUP, &group.id).await?;
        }
        tx.delete_resource_tags(super::tags::APPLICATION, &row.id).await?;
        tx.delete_application(&row.id).await?;
    }
    tx.commit().await?;
    Ok(())
}
