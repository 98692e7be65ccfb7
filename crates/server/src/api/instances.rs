//! On-premises instances: Register, Deregister, Get, BatchGet, List, Add/RemoveTags.

use cutover_api_types::codedeploy as wire;
use cutover_store::{InstanceRow, Tx};

use super::{paginate, required, valid_name};
use crate::AppState;
use crate::convert::{self, seconds};
use crate::error::{ApiError, ApiResult};

pub(crate) fn info(row: &InstanceRow) -> wire::InstanceInfo {
    wire::InstanceInfo {
        instance_name: Some(row.name.clone()),
        iam_session_arn: row.iam_session_arn.clone(),
        iam_user_arn: row.iam_user_arn.clone(),
        instance_arn: Some(row.arn.clone()),
        register_time: Some(seconds(row.register_time)),
        deregister_time: row.deregister_time.map(seconds),
        tags: Some(convert::wire_tags(&convert::tags_from_json(&row.tags))),
    }
}

async fn instance(tx: &mut Tx, name: &str) -> ApiResult<InstanceRow> {
    tx.instance(name).await?.ok_or_else(|| {
        ApiError::new("InstanceNotRegisteredException", format!("The on-premises instance {name} is not registered."))
    })
}

pub(crate) async fn register(state: AppState, input: wire::RegisterOnPremisesInstanceInput) -> ApiResult<()> {
    let name = required(&input.instance_name, "InstanceNameRequiredException", "instanceName")?;
    valid_name(name, "InvalidInstanceNameException", "instance name")?;
    let (user, session) =
        (input.iam_user_arn.clone().filter(|a| !a.is_empty()), input.iam_session_arn.clone().filter(|a| !a.is_empty()));
    match (&user, &session) {
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                "MultipleIamArnsProvidedException",
                "Both an IAM user ARN and an IAM session ARN were included in the request. Use only one ARN type.",
            ));
        }
        (None, None) => {
            return Err(ApiError::new(
                "IamArnRequiredException",
                "No IAM ARN was included in the request. You must use an IAM session ARN or IAM user ARN in the request.",
            ));
        }
        _ => {}
    }
    // The model's patterns are strict AWS ARNs; Cutover accepts any partition (its own agents use `arn:cutover:`)
    // but still rejects what is not an IAM ARN at all.
    if let Some(arn) = user.as_deref().filter(|arn| !(arn.starts_with("arn:") && arn.contains(":user/"))) {
        return Err(ApiError::new(
            "InvalidIamUserArnException",
            format!("{arn} is not an IAM user ARN (arn:<partition>:iam::<account>:user/<name>)."),
        ));
    }
    if let Some(arn) = session.as_deref().filter(|arn| !(arn.starts_with("arn:") && arn.contains(":assumed-role/"))) {
        return Err(ApiError::new(
            "InvalidIamSessionArnException",
            format!("{arn} is not an IAM session ARN (arn:<partition>:sts::<account>:assumed-role/<role>/<session>)."),
        ));
    }
    let now = state.inner.clock.now_ms();
    let mut tx = state.store().begin().await?;
    // One identity registers one instance: another registered instance with the same ARN is a conflict.
    for other in tx.list_instances().await? {
        if other.name == name || other.deregister_time.is_some() {
            continue;
        }
        if user.is_some() && other.iam_user_arn == user {
            return Err(ApiError::new(
                "IamUserArnAlreadyRegisteredException",
                format!("The IAM user ARN is already registered to the on-premises instance {}.", other.name),
            ));
        }
        if session.is_some() && other.iam_session_arn == session {
            return Err(ApiError::new(
                "IamSessionArnAlreadyRegisteredException",
                format!("The IAM session ARN is already registered to the on-premises instance {}.", other.name),
            ));
        }
    }
    match tx.instance(name).await? {
        Some(mut row) if row.deregister_time.is_some() => {
            row.iam_user_arn = user;
            row.iam_session_arn = session;
            row.register_time = now;
            row.deregister_time = None;
            tx.update_instance(&row).await?;
        }
        Some(_) => {
            return Err(ApiError::new(
                "InstanceNameAlreadyRegisteredException",
                format!("The on-premises instance name {name} was already registered."),
            ));
        }
        None => {
            tx.insert_instance(&InstanceRow {
                name: name.to_owned(),
                arn: convert::instance_arn(name),
                iam_user_arn: user,
                iam_session_arn: session,
                register_time: now,
                deregister_time: None,
                tags: "[]".to_owned(),
                agent_version: None,
                hostname: None,
                last_seen: None,
            })
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn deregister(state: AppState, input: wire::DeregisterOnPremisesInstanceInput) -> ApiResult<()> {
    let name = required(&input.instance_name, "InstanceNameRequiredException", "instanceName")?;
    let mut tx = state.store().begin().await?;
    let mut row = instance(&mut tx, name).await?;
    if row.deregister_time.is_none() {
        row.deregister_time = Some(state.inner.clock.now_ms());
        tx.update_instance(&row).await?;
    }
    // The agent is locked out from its next request on.
    tx.delete_instance_access_keys(name).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn get(
    state: AppState,
    input: wire::GetOnPremisesInstanceInput,
) -> ApiResult<wire::GetOnPremisesInstanceOutput> {
    let name = required(&input.instance_name, "InstanceNameRequiredException", "instanceName")?;
    let mut tx = state.store().begin().await?;
    Ok(wire::GetOnPremisesInstanceOutput { instance_info: Some(info(&instance(&mut tx, name).await?)) })
}

pub(crate) async fn batch_get(
    state: AppState,
    input: wire::BatchGetOnPremisesInstancesInput,
) -> ApiResult<wire::BatchGetOnPremisesInstancesOutput> {
    let names = input.instance_names.unwrap_or_default();
    if names.is_empty() {
        return Err(ApiError::new("InstanceNameRequiredException", "instanceNames is required"));
    }
    if names.len() > 100 {
        return Err(ApiError::new(
            "BatchLimitExceededException",
            "The maximum number of names allowed for this request (100) was exceeded.",
        ));
    }
    let mut tx = state.store().begin().await?;
    let mut infos = Vec::new();
    for name in &names {
        if let Some(row) = tx.instance(name).await? {
            infos.push(info(&row));
        }
    }
    Ok(wire::BatchGetOnPremisesInstancesOutput { instance_infos: Some(infos) })
}

pub(crate) async fn list(
    state: AppState,
    input: wire::ListOnPremisesInstancesInput,
) -> ApiResult<wire::ListOnPremisesInstancesOutput> {
    let filters = convert::domain_filters(input.tag_filters.as_deref().unwrap_or_default())
        .map_err(|message| ApiError::new("InvalidTagFilterException", message))?;
    let mut tx = state.store().begin().await?;
    let mut rows = tx.list_instances().await?;
    match input.registration_status.as_deref() {
        None => {}
        Some("Registered") => rows.retain(|row| row.deregister_time.is_none()),
        Some("Deregistered") => rows.retain(|row| row.deregister_time.is_some()),
        Some(other) => {
            return Err(ApiError::new(
                "InvalidRegistrationStatusException",
                format!("registrationStatus {other:?} is not Registered or Deregistered"),
            ));
        }
    }
    if !filters.is_empty() {
        rows.retain(|row| {
            cutover_domain::tags::matches_any(&filters, &convert::domain_tags(&convert::tags_from_json(&row.tags)))
        });
    }
    let names: Vec<String> = rows.into_iter().map(|row| row.name).collect();
    let (page, next_token) = paginate(&names, &input.next_token)?;
    Ok(wire::ListOnPremisesInstancesOutput { instance_names: Some(page), next_token })
}

fn tag_pairs(tags: Option<Vec<wire::Tag>>) -> ApiResult<Vec<(String, String)>> {
    let tags = tags.unwrap_or_default();
    if tags.is_empty() {
        return Err(ApiError::new("TagRequiredException", "A tag was not specified."));
    }
    tags.into_iter()
        .map(|tag| {
            let key = tag.key.unwrap_or_default();
            let value = tag.value.unwrap_or_default();
            if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
                return Err(ApiError::new(
                    "InvalidTagException",
                    format!("invalid tag {key:?}: keys are 1-128 characters, values up to 256"),
                ));
            }
            Ok((key, value))
        })
        .collect()
}

pub(crate) async fn add_tags(state: AppState, input: wire::AddTagsToOnPremisesInstancesInput) -> ApiResult<()> {
    let tags = tag_pairs(input.tags)?;
    let names = input.instance_names.unwrap_or_default();
    if names.is_empty() {
        return Err(ApiError::new("InstanceNameRequiredException", "instanceNames is required"));
    }
    let mut tx = state.store().begin().await?;
    for name in &names {
        let mut row = instance(&mut tx, name).await?;
        let mut existing = convert::tags_from_json(&row.tags);
        for (key, value) in &tags {
            match existing.iter_mut().find(|(k, _)| k == key) {
                Some(entry) => entry.1 = value.clone(),
                None => existing.push((key.clone(), value.clone())),
            }
        }
        if existing.len() > 10 {
            return Err(ApiError::new(
                "TagLimitExceededException",
                format!("instance {name} would have more than 10 tags"),
            ));
        }
        row.tags = convert::tags_to_json(&existing);
        tx.update_instance(&row).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn remove_tags(state: AppState, input: wire::RemoveTagsFromOnPremisesInstancesInput) -> ApiResult<()> {
    let tags = tag_pairs(input.tags)?;
    let names = input.instance_names.unwrap_or_default();
    if names.is_empty() {
        return Err(ApiError::new("InstanceNameRequiredException", "instanceNames is required"));
    }
    let mut tx = state.store().begin().await?;
    for name in &names {
        let mut row = instance(&mut tx, name).await?;
        let mut existing = convert::tags_from_json(&row.tags);
        existing.retain(|(key, value)| !tags.iter().any(|(k, v)| k == key && (v.is_empty() || v == value)));
        row.tags = convert::tags_to_json(&existing);
        tx.update_instance(&row).await?;
    }
    tx.commit().await?;
    Ok(())
}
