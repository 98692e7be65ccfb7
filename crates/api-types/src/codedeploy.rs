//! CodeDeploy JSON 1.1 wire types, GENERATED from botocore's model. Do not edit by hand.
//!
//! - Model: `codedeploy-2014-10-06` (apiVersion 2014-10-06, jsonVersion 1.1),
//!   `crates/api-types/gen/service-2.json`, from
//!   botocore 1.44.5 (PyPI wheel), botocore/data/codedeploy/2014-10-06/service-2.json.gz, gunzipped
//!   (sha256 `bd5862518ea4ccf67fd80e8bd8911b75f7320071569d64e9a200582d9e2431c4`).
//!   The model lists protocols `smithy-rpc-v2-cbor`, `json`; these types are for `json`
//!   (AWS JSON 1.1), which botocore (AWS CLI v1, boto3) picks first.
//! - Regenerate: `python3 crates/api-types/gen/generate.py` (stdlib only; runs `rustfmt`); check with
//!   `python3 crates/api-types/gen/generate.py --check`. See `crates/api-types/gen/README.md`.
//! - 47 operations, 401 shapes: 255 structures (114 of them exceptions), 36 string enums.
//!
//! Requests arrive as `POST /` with `X-Amz-Target: CodeDeploy_20141006.<Operation>` and
//! `Content-Type: application/x-amz-json-1.1`; see [`Operation`], [`OPERATION_SHAPES`] and [`ErrorBody`].
//!
//! Mapping: every structure shape is a struct of `Option` members (even the model's required ones: the
//! server answers a missing one with the model's exception, e.g. `ApplicationNameRequiredException`, see
//! [`REQUIRED_MEMBERS`]); unknown JSON members are ignored. string and enum shapes are `String` (enum values
//! are validated by the server against the `*_VALUES` consts), integer/long `i64`, boolean `bool`,
//! timestamp `f64` epoch seconds, double `f64`, blob `String`, list `Vec`, map `BTreeMap<String, _>`.
//!
//! Naming: a type is named exactly like its shape (`EC2TagFilter`, `S3Location`, `CreateDeploymentInput`);
//! a field is its member name in snake_case (`ec2TagFilters` -> `ec2_tag_filters`, `eTag` -> `e_tag`,
//! `ResourceArn` -> `resource_arn`, `type` -> `type_`), with `#[serde(rename)]` to the exact member name;
//! an enum's values are `<SHAPE_IN_SCREAMING_SNAKE>_VALUES` (`EC2TagFilterType` -> `EC2_TAG_FILTER_TYPE_VALUES`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Prefix of the `X-Amz-Target` header: `X-Amz-Target: CodeDeploy_20141006.<Operation>`.
pub const TARGET_PREFIX: &str = "CodeDeploy_20141006";
/// The model's `apiVersion`.
pub const API_VERSION: &str = "2014-10-06";
/// `Content-Type` of requests and responses (`application/x-amz-json-<jsonVersion>`).
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The CodeDeploy operations, named as in `X-Amz-Target` (variant = operation name).
///
/// Discriminants follow [`Operation::ALL`] and [`OPERATION_SHAPES`] (alphabetical order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// Adds tags to on-premises instances.
    AddTagsToOnPremisesInstances,
    /// Gets information about one or more application revisions.
    BatchGetApplicationRevisions,
    /// Gets information about one or more applications.
    BatchGetApplications,
    /// Gets information about one or more deployment groups.
    BatchGetDeploymentGroups,
    /// This method works, but is deprecated.
    ///
    /// Deprecated: This operation is deprecated, use BatchGetDeploymentTargets instead.
    BatchGetDeploymentInstances,
    /// Returns an array of one or more targets associated with a deployment.
    BatchGetDeploymentTargets,
    /// Gets information about one or more deployments.
    BatchGetDeployments,
    /// Gets information about one or more on-premises instances.
    BatchGetOnPremisesInstances,
    /// For a blue/green deployment, starts the process of rerouting traffic from instances in the original
    /// environment to instances in the replacement environment without waiting for a specified wait time to elapse.
    ContinueDeployment,
    /// Creates an application.
    CreateApplication,
    /// Deploys an application revision through the specified deployment group.
    CreateDeployment,
    /// Creates a deployment configuration.
    CreateDeploymentConfig,
    /// Creates a deployment group to which application revisions are deployed.
    CreateDeploymentGroup,
    /// Deletes an application.
    DeleteApplication,
    /// Deletes a deployment configuration.
    DeleteDeploymentConfig,
    /// Deletes a deployment group.
    DeleteDeploymentGroup,
    /// Deletes a GitHub account connection.
    DeleteGitHubAccountToken,
    /// Deletes resources linked to an external ID.
    DeleteResourcesByExternalId,
    /// Deregisters an on-premises instance.
    DeregisterOnPremisesInstance,
    /// Gets information about an application.
    GetApplication,
    /// Gets information about an application revision.
    GetApplicationRevision,
    /// Gets information about a deployment.
    GetDeployment,
    /// Gets information about a deployment configuration.
    GetDeploymentConfig,
    /// Gets information about a deployment group.
    GetDeploymentGroup,
    /// Gets information about an instance as part of a deployment.
    ///
    /// Deprecated: This operation is deprecated, use GetDeploymentTarget instead.
    GetDeploymentInstance,
    /// Returns information about a deployment target.
    GetDeploymentTarget,
    /// Gets information about an on-premises instance.
    GetOnPremisesInstance,
    /// Lists information about revisions for an application.
    ListApplicationRevisions,
    /// Lists the applications registered with the user or Amazon Web Services account.
    ListApplications,
    /// Lists the deployment configurations with the user or Amazon Web Services account.
    ListDeploymentConfigs,
    /// Lists the deployment groups for an application registered with the Amazon Web Services user or Amazon Web
    /// Services account.
    ListDeploymentGroups,
    /// The newer `BatchGetDeploymentTargets` should be used instead because it works with all compute types.
    ///
    /// Deprecated: This operation is deprecated, use ListDeploymentTargets instead.
    ListDeploymentInstances,
    /// Returns an array of target IDs that are associated a deployment.
    ListDeploymentTargets,
    /// Lists the deployments in a deployment group for an application registered with the user or Amazon Web
    /// Services account.
    ListDeployments,
    /// Lists the names of stored connections to GitHub accounts.
    ListGitHubAccountTokenNames,
    /// Gets a list of names for one or more on-premises instances.
    ListOnPremisesInstances,
    /// Returns a list of tags for the resource identified by a specified Amazon Resource Name (ARN).
    ListTagsForResource,
    /// Sets the result of a Lambda validation function.
    PutLifecycleEventHookExecutionStatus,
    /// Registers with CodeDeploy a revision for the specified application.
    RegisterApplicationRevision,
    /// Registers an on-premises instance.
    RegisterOnPremisesInstance,
    /// Removes one or more tags from one or more on-premises instances.
    RemoveTagsFromOnPremisesInstances,
    /// In a blue/green deployment, overrides any specified wait time and starts terminating instances immediately
    /// after the traffic routing is complete.
    ///
    /// Deprecated: This operation is deprecated, use ContinueDeployment with DeploymentWaitType instead.
    SkipWaitTimeForInstanceTermination,
    /// Attempts to stop an ongoing deployment.
    StopDeployment,
    /// Associates the list of tags in the input `Tags` parameter with the resource identified by the `ResourceArn`
    /// input parameter.
    TagResource,
    /// Disassociates a resource from a list of tags.
    UntagResource,
    /// Changes the name of an application.
    UpdateApplication,
    /// Changes information about a deployment group.
    UpdateDeploymentGroup,
}

impl Operation {
    /// Every operation, in alphabetical order.
    pub const ALL: &[Operation] = &[
        Operation::AddTagsToOnPremisesInstances,
        Operation::BatchGetApplicationRevisions,
        Operation::BatchGetApplications,
        Operation::BatchGetDeploymentGroups,
        Operation::BatchGetDeploymentInstances,
        Operation::BatchGetDeploymentTargets,
        Operation::BatchGetDeployments,
        Operation::BatchGetOnPremisesInstances,
        Operation::ContinueDeployment,
        Operation::CreateApplication,
        Operation::CreateDeployment,
        Operation::CreateDeploymentConfig,
        Operation::CreateDeploymentGroup,
        Operation::DeleteApplication,
        Operation::DeleteDeploymentConfig,
        Operation::DeleteDeploymentGroup,
        Operation::DeleteGitHubAccountToken,
        Operation::DeleteResourcesByExternalId,
        Operation::DeregisterOnPremisesInstance,
        Operation::GetApplication,
        Operation::GetApplicationRevision,
        Operation::GetDeployment,
        Operation::GetDeploymentConfig,
        Operation::GetDeploymentGroup,
        Operation::GetDeploymentInstance,
        Operation::GetDeploymentTarget,
        Operation::GetOnPremisesInstance,
        Operation::ListApplicationRevisions,
        Operation::ListApplications,
        Operation::ListDeploymentConfigs,
        Operation::ListDeploymentGroups,
        Operation::ListDeploymentInstances,
        Operation::ListDeploymentTargets,
        Operation::ListDeployments,
        Operation::ListGitHubAccountTokenNames,
        Operation::ListOnPremisesInstances,
        Operation::ListTagsForResource,
        Operation::PutLifecycleEventHookExecutionStatus,
        Operation::RegisterApplicationRevision,
        Operation::RegisterOnPremisesInstance,
        Operation::RemoveTagsFromOnPremisesInstances,
        Operation::SkipWaitTimeForInstanceTermination,
        Operation::StopDeployment,
        Operation::TagResource,
        Operation::UntagResource,
        Operation::UpdateApplication,
        Operation::UpdateDeploymentGroup,
    ];

    /// The operation's name, as in `X-Amz-Target` after the `.`.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::AddTagsToOnPremisesInstances => "AddTagsToOnPremisesInstances",
            Operation::BatchGetApplicationRevisions => "BatchGetApplicationRevisions",
            Operation::BatchGetApplications => "BatchGetApplications",
            Operation::BatchGetDeploymentGroups => "BatchGetDeploymentGroups",
            Operation::BatchGetDeploymentInstances => "BatchGetDeploymentInstances",
            Operation::BatchGetDeploymentTargets => "BatchGetDeploymentTargets",
            Operation::BatchGetDeployments => "BatchGetDeployments",
            Operation::BatchGetOnPremisesInstances => "BatchGetOnPremisesInstances",
            Operation::ContinueDeployment => "ContinueDeployment",
            Operation::CreateApplication => "CreateApplication",
            Operation::CreateDeployment => "CreateDeployment",
            Operation::CreateDeploymentConfig => "CreateDeploymentConfig",
            Operation::CreateDeploymentGroup => "CreateDeploymentGroup",
            Operation::DeleteApplication => "DeleteApplication",
            Operation::DeleteDeploymentConfig => "DeleteDeploymentConfig",
            Operation::DeleteDeploymentGroup => "DeleteDeploymentGroup",
            Operation::DeleteGitHubAccountToken => "DeleteGitHubAccountToken",
            Operation::DeleteResourcesByExternalId => "DeleteResourcesByExternalId",
            Operation::DeregisterOnPremisesInstance => "DeregisterOnPremisesInstance",
            Operation::GetApplication => "GetApplication",
            Operation::GetApplicationRevision => "GetApplicationRevision",
            Operation::GetDeployment => "GetDeployment",
            Operation::GetDeploymentConfig => "GetDeploymentConfig",
            Operation::GetDeploymentGroup => "GetDeploymentGroup",
            Operation::GetDeploymentInstance => "GetDeploymentInstance",
            Operation::GetDeploymentTarget => "GetDeploymentTarget",
            Operation::GetOnPremisesInstance => "GetOnPremisesInstance",
            Operation::ListApplicationRevisions => "ListApplicationRevisions",
            Operation::ListApplications => "ListApplications",
            Operation::ListDeploymentConfigs => "ListDeploymentConfigs",
            Operation::ListDeploymentGroups => "ListDeploymentGroups",
            Operation::ListDeploymentInstances => "ListDeploymentInstances",
            Operation::ListDeploymentTargets => "ListDeploymentTargets",
            Operation::ListDeployments => "ListDeployments",
            Operation::ListGitHubAccountTokenNames => "ListGitHubAccountTokenNames",
            Operation::ListOnPremisesInstances => "ListOnPremisesInstances",
            Operation::ListTagsForResource => "ListTagsForResource",
            Operation::PutLifecycleEventHookExecutionStatus => "PutLifecycleEventHookExecutionStatus",
            Operation::RegisterApplicationRevision => "RegisterApplicationRevision",
            Operation::RegisterOnPremisesInstance => "RegisterOnPremisesInstance",
            Operation::RemoveTagsFromOnPremisesInstances => "RemoveTagsFromOnPremisesInstances",
            Operation::SkipWaitTimeForInstanceTermination => "SkipWaitTimeForInstanceTermination",
            Operation::StopDeployment => "StopDeployment",
            Operation::TagResource => "TagResource",
            Operation::UntagResource => "UntagResource",
            Operation::UpdateApplication => "UpdateApplication",
            Operation::UpdateDeploymentGroup => "UpdateDeploymentGroup",
        }
    }

    /// The operation named `name` (exact, case-sensitive match), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "AddTagsToOnPremisesInstances" => Some(Operation::AddTagsToOnPremisesInstances),
            "BatchGetApplicationRevisions" => Some(Operation::BatchGetApplicationRevisions),
            "BatchGetApplications" => Some(Operation::BatchGetApplications),
            "BatchGetDeploymentGroups" => Some(Operation::BatchGetDeploymentGroups),
            "BatchGetDeploymentInstances" => Some(Operation::BatchGetDeploymentInstances),
            "BatchGetDeploymentTargets" => Some(Operation::BatchGetDeploymentTargets),
            "BatchGetDeployments" => Some(Operation::BatchGetDeployments),
            "BatchGetOnPremisesInstances" => Some(Operation::BatchGetOnPremisesInstances),
            "ContinueDeployment" => Some(Operation::ContinueDeployment),
            "CreateApplication" => Some(Operation::CreateApplication),
            "CreateDeployment" => Some(Operation::CreateDeployment),
            "CreateDeploymentConfig" => Some(Operation::CreateDeploymentConfig),
            "CreateDeploymentGroup" => Some(Operation::CreateDeploymentGroup),
            "DeleteApplication" => Some(Operation::DeleteApplication),
            "DeleteDeploymentConfig" => Some(Operation::DeleteDeploymentConfig),
            "DeleteDeploymentGroup" => Some(Operation::DeleteDeploymentGroup),
            "DeleteGitHubAccountToken" => Some(Operation::DeleteGitHubAccountToken),
            "DeleteResourcesByExternalId" => Some(Operation::DeleteResourcesByExternalId),
            "DeregisterOnPremisesInstance" => Some(Operation::DeregisterOnPremisesInstance),
            "GetApplication" => Some(Operation::GetApplication),
            "GetApplicationRevision" => Some(Operation::GetApplicationRevision),
            "GetDeployment" => Some(Operation::GetDeployment),
            "GetDeploymentConfig" => Some(Operation::GetDeploymentConfig),
            "GetDeploymentGroup" => Some(Operation::GetDeploymentGroup),
            "GetDeploymentInstance" => Some(Operation::GetDeploymentInstance),
            "GetDeploymentTarget" => Some(Operation::GetDeploymentTarget),
            "GetOnPremisesInstance" => Some(Operation::GetOnPremisesInstance),
            "ListApplicationRevisions" => Some(Operation::ListApplicationRevisions),
            "ListApplications" => Some(Operation::ListApplications),
            "ListDeploymentConfigs" => Some(Operation::ListDeploymentConfigs),
            "ListDeploymentGroups" => Some(Operation::ListDeploymentGroups),
            "ListDeploymentInstances" => Some(Operation::ListDeploymentInstances),
            "ListDeploymentTargets" => Some(Operation::ListDeploymentTargets),
            "ListDeployments" => Some(Operation::ListDeployments),
            "ListGitHubAccountTokenNames" => Some(Operation::ListGitHubAccountTokenNames),
            "ListOnPremisesInstances" => Some(Operation::ListOnPremisesInstances),
            "ListTagsForResource" => Some(Operation::ListTagsForResource),
            "PutLifecycleEventHookExecutionStatus" => Some(Operation::PutLifecycleEventHookExecutionStatus),
            "RegisterApplicationRevision" => Some(Operation::RegisterApplicationRevision),
            "RegisterOnPremisesInstance" => Some(Operation::RegisterOnPremisesInstance),
            "RemoveTagsFromOnPremisesInstances" => Some(Operation::RemoveTagsFromOnPremisesInstances),
            "SkipWaitTimeForInstanceTermination" => Some(Operation::SkipWaitTimeForInstanceTermination),
            "StopDeployment" => Some(Operation::StopDeployment),
            "TagResource" => Some(Operation::TagResource),
            "UntagResource" => Some(Operation::UntagResource),
            "UpdateApplication" => Some(Operation::UpdateApplication),
            "UpdateDeploymentGroup" => Some(Operation::UpdateDeploymentGroup),
            _ => None,
        }
    }

    /// The operation named by a whole `X-Amz-Target` header value (`CodeDeploy_20141006.<Operation>`).
    pub fn from_target(target: &str) -> Option<Self> {
        let name = target.strip_prefix(TARGET_PREFIX)?.strip_prefix('.')?;
        Self::from_name(name)
    }

    /// The name of the input shape (the request body's struct), if the operation takes one.
    pub fn input_shape(&self) -> Option<&'static str> {
        OPERATION_SHAPES[*self as usize].1
    }

    /// The name of the output shape (the response body's struct); `None` means an empty `{}` body.
    pub fn output_shape(&self) -> Option<&'static str> {
        OPERATION_SHAPES[*self as usize].2
    }

    /// Decodes `body` as this operation's input shape, as the server does with a request body, and drops it.
    /// An `Err` is what the server answers with `SerializationException`. (The fuzz targets drive this.)
    pub fn decode_input(&self, body: &[u8]) -> Result<(), serde_json::Error> {
        match self {
            Operation::AddTagsToOnPremisesInstances => {
                serde_json::from_slice::<AddTagsToOnPremisesInstancesInput>(body).map(drop)
            }
            Operation::BatchGetApplicationRevisions => {
                serde_json::from_slice::<BatchGetApplicationRevisionsInput>(body).map(drop)
            }
            Operation::BatchGetApplications => serde_json::from_slice::<BatchGetApplicationsInput>(body).map(drop),
            Operation::BatchGetDeploymentGroups => {
                serde_json::from_slice::<BatchGetDeploymentGroupsInput>(body).map(drop)
            }
            Operation::BatchGetDeploymentInstances => {
                serde_json::from_slice::<BatchGetDeploymentInstancesInput>(body).map(drop)
            }
            Operation::BatchGetDeploymentTargets => {
                serde_json::from_slice::<BatchGetDeploymentTargetsInput>(body).map(drop)
            }
            Operation::BatchGetDeployments => serde_json::from_slice::<BatchGetDeploymentsInput>(body).map(drop),
            Operation::BatchGetOnPremisesInstances => {
                serde_json::from_slice::<BatchGetOnPremisesInstancesInput>(body).map(drop)
            }
            Operation::ContinueDeployment => serde_json::from_slice::<ContinueDeploymentInput>(body).map(drop),
            Operation::CreateApplication => serde_json::from_slice::<CreateApplicationInput>(body).map(drop),
            Operation::CreateDeployment => serde_json::from_slice::<CreateDeploymentInput>(body).map(drop),
            Operation::CreateDeploymentConfig => serde_json::from_slice::<CreateDeploymentConfigInput>(body).map(drop),
            Operation::CreateDeploymentGroup => serde_json::from_slice::<CreateDeploymentGroupInput>(body).map(drop),
            Operation::DeleteApplication => serde_json::from_slice::<DeleteApplicationInput>(body).map(drop),
            Operation::DeleteDeploymentConfig => serde_json::from_slice::<DeleteDeploymentConfigInput>(body).map(drop),
            Operation::DeleteDeploymentGroup => serde_json::from_slice::<DeleteDeploymentGroupInput>(body).map(drop),
            Operation::DeleteGitHubAccountToken => {
                serde_json::from_slice::<DeleteGitHubAccountTokenInput>(body).map(drop)
            }
            Operation::DeleteResourcesByExternalId => {
                serde_json::from_slice::<DeleteResourcesByExternalIdInput>(body).map(drop)
            }
            Operation::DeregisterOnPremisesInstance => {
                serde_json::from_slice::<DeregisterOnPremisesInstanceInput>(body).map(drop)
            }
            Operation::GetApplication => serde_json::from_slice::<GetApplicationInput>(body).map(drop),
            Operation::GetApplicationRevision => serde_json::from_slice::<GetApplicationRevisionInput>(body).map(drop),
            Operation::GetDeployment => serde_json::from_slice::<GetDeploymentInput>(body).map(drop),
            Operation::GetDeploymentConfig => serde_json::from_slice::<GetDeploymentConfigInput>(body).map(drop),
            Operation::GetDeploymentGroup => serde_json::from_slice::<GetDeploymentGroupInput>(body).map(drop),
            Operation::GetDeploymentInstance => serde_json::from_slice::<GetDeploymentInstanceInput>(body).map(drop),
            Operation::GetDeploymentTarget => serde_json::from_slice::<GetDeploymentTargetInput>(body).map(drop),
            Operation::GetOnPremisesInstance => serde_json::from_slice::<GetOnPremisesInstanceInput>(body).map(drop),
            Operation::ListApplicationRevisions => {
                serde_json::from_slice::<ListApplicationRevisionsInput>(body).map(drop)
            }
            Operation::ListApplications => serde_json::from_slice::<ListApplicationsInput>(body).map(drop),
            Operation::ListDeploymentConfigs => serde_json::from_slice::<ListDeploymentConfigsInput>(body).map(drop),
            Operation::ListDeploymentGroups => serde_json::from_slice::<ListDeploymentGroupsInput>(body).map(drop),
            Operation::ListDeploymentInstances => {
                serde_json::from_slice::<ListDeploymentInstancesInput>(body).map(drop)
            }
            Operation::ListDeploymentTargets => serde_json::from_slice::<ListDeploymentTargetsInput>(body).map(drop),
            Operation::ListDeployments => serde_json::from_slice::<ListDeploymentsInput>(body).map(drop),
            Operation::ListGitHubAccountTokenNames => {
                serde_json::from_slice::<ListGitHubAccountTokenNamesInput>(body).map(drop)
            }
            Operation::ListOnPremisesInstances => {
                serde_json::from_slice::<ListOnPremisesInstancesInput>(body).map(drop)
            }
            Operation::ListTagsForResource => serde_json::from_slice::<ListTagsForResourceInput>(body).map(drop),
            Operation::PutLifecycleEventHookExecutionStatus => {
                serde_json::from_slice::<PutLifecycleEventHookExecutionStatusInput>(body).map(drop)
            }
            Operation::RegisterApplicationRevision => {
                serde_json::from_slice::<RegisterApplicationRevisionInput>(body).map(drop)
            }
            Operation::RegisterOnPremisesInstance => {
                serde_json::from_slice::<RegisterOnPremisesInstanceInput>(body).map(drop)
            }
            Operation::RemoveTagsFromOnPremisesInstances => {
                serde_json::from_slice::<RemoveTagsFromOnPremisesInstancesInput>(body).map(drop)
            }
            Operation::SkipWaitTimeForInstanceTermination => {
                serde_json::from_slice::<SkipWaitTimeForInstanceTerminationInput>(body).map(drop)
            }
            Operation::StopDeployment => serde_json::from_slice::<StopDeploymentInput>(body).map(drop),
            Operation::TagResource => serde_json::from_slice::<TagResourceInput>(body).map(drop),
            Operation::UntagResource => serde_json::from_slice::<UntagResourceInput>(body).map(drop),
            Operation::UpdateApplication => serde_json::from_slice::<UpdateApplicationInput>(body).map(drop),
            Operation::UpdateDeploymentGroup => serde_json::from_slice::<UpdateDeploymentGroupInput>(body).map(drop),
        }
    }

    /// The exceptions (error shape names) the model lists for this operation.
    pub fn errors(&self) -> &'static [&'static str] {
        match self {
            Operation::AddTagsToOnPremisesInstances => &[
                "InstanceNameRequiredException",
                "InvalidInstanceNameException",
                "TagRequiredException",
                "InvalidTagException",
                "TagLimitExceededException",
                "InstanceLimitExceededException",
                "InstanceNotRegisteredException",
            ],
            Operation::BatchGetApplicationRevisions => &[
                "ApplicationDoesNotExistException",
                "ApplicationNameRequiredException",
                "InvalidApplicationNameException",
                "RevisionRequiredException",
                "InvalidRevisionException",
                "BatchLimitExceededException",
            ],
            Operation::BatchGetApplications => &[
                "ApplicationNameRequiredException",
                "InvalidApplicationNameException",
                "ApplicationDoesNotExistException",
                "BatchLimitExceededException",
            ],
            Operation::BatchGetDeploymentGroups => &[
                "ApplicationNameRequiredException",
                "InvalidApplicationNameException",
                "ApplicationDoesNotExistException",
                "DeploymentGroupNameRequiredException",
                "InvalidDeploymentGroupNameException",
                "BatchLimitExceededException",
                "DeploymentConfigDoesNotExistException",
            ],
            Operation::BatchGetDeploymentInstances => &[
                "DeploymentIdRequiredException",
                "DeploymentDoesNotExistException",
                "InstanceIdRequiredException",
                "InvalidDeploymentIdException",
                "InvalidInstanceNameException",
                "BatchLimitExceededException",
                "InvalidComputePlatformException",
            ],
            Operation::BatchGetDeploymentTargets => &[
                "InvalidDeploymentIdException",
                "DeploymentIdRequiredException",
                "DeploymentDoesNotExistException",
                "DeploymentNotStartedException",
                "DeploymentTargetIdRequiredException",
                "InvalidDeploymentTargetIdException",
                "DeploymentTargetDoesNotExistException",
                "DeploymentTargetListSizeExceededException",
                "InstanceDoesNotExistException",
            ],
            Operation::BatchGetDeployments => {
                &["DeploymentIdRequiredException", "InvalidDeploymentIdException", "BatchLimitExceededException"]
            }
            Operation::BatchGetOnPremisesInstances => {
                &["InstanceNameRequiredException", "InvalidInstanceNameException", "BatchLimitExceededException"]
            }
            Operation::ContinueDeployment => &[
                "DeploymentIdRequiredException",
                "DeploymentDoesNotExistException",
                "DeploymentAlreadyCompletedException",
                "InvalidDeploymentIdException",
                "DeploymentIsNotInReadyStateException",
                "UnsupportedActionForDeploymentTypeException",
                "InvalidDeploymentWaitTypeException",
                "InvalidDeploymentStatusException",
            ],
            Operation::CreateApplication => &[
                "ApplicationNameRequiredException",
                "InvalidApplicationNameException",
                "ApplicationAlreadyExistsException",
                "ApplicationLimitExceededException",
                "InvalidComputePlatformException",
                "InvalidTagsToAddException",
                "ThrottlingException",
            ],
            Operation::CreateDeployment => &[
                "ApplicationNameRequiredException",
                "InvalidApplicationNameException",
                "ApplicationDoesNotExistException",
                "DeploymentGroupNameRequiredException",
                "InvalidDeploymentGroupNameException",
                "DeploymentGroupDoesNotExistException",
                "RevisionRequiredException",
                "RevisionDoesNotExistException",
                "InvalidRevisionException",
                "InvalidDeploymentConfigNameException",
                "DeploymentConfigDoesNotExistException",
                "DescriptionTooLongException",
                "DeploymentLimitExceededException",
                "InvalidTargetInstancesException",
                "InvalidAlarmConfigException",
                "AlarmsLimitExceededException",
                "InvalidAutoRollbackConfigException",
                "InvalidLoadBalancerInfoException",
                "InvalidFileExistsBehaviorException",
                "InvalidComputePlatformException",
                "InvalidRoleException",
                "InvalidAutoScalingGroupException",
                "ThrottlingException",
                "InvalidUpdateOutdatedInstancesOnlyValueException",
                "InvalidIgnoreApplicationStopFailuresValueException",
                "InvalidGitHubAccountTokenException",
                "InvalidTrafficRoutingConfigurationException",
                "InvalidAutoScalingGroupProcessToSuspendException",
                "InvalidECSServiceException",
                "InvalidInputException",
            ],
            Operation::CreateDeploymentConfig => &[
                "InvalidDeploymentConfigNameException",
                "DeploymentConfigNameRequiredException",
                "DeploymentConfigAlreadyExistsException",
                "InvalidMinimumHealthyHostValueException",
                "DeploymentConfigLimitExceededException",
                "InvalidComputePlatformException",
                "InvalidTrafficRoutingConfigurationException",
                "InvalidZonalDeploymentConfigurationException",
            ],
            Operation::CreateDeploymentGroup => &[
                "ApplicationNameRequiredException",
                "InvalidApplicationNameException",
                "ApplicationDoesNotExistException",
                "DeploymentGroupNameRequiredException",
                "InvalidDeploymentGroupNameException",
                "DeploymentGroupAlreadyExistsException",
                "InvalidEC2TagException",
                "InvalidTagException",
                "InvalidAutoScalingGroupException",
                "InvalidDeploymentConfigNameException",
                "DeploymentConfigDoesNotExistException",
                "RoleRequiredException",
                "InvalidRoleException",
                "DeploymentGroupLimitExceededException",
                "LifecycleHookLimitExceededException",
                "InvalidTriggerConfigException",
                "TriggerTargetsLimitExceededException",
                "InvalidAlarmConfigException",
                "AlarmsLimitExceededException",
                "InvalidAutoRollbackConfigException",
                "InvalidLoadBalancerInfoException",
                "InvalidDeploymentStyleException",
                "InvalidBlueGreenDeploymentConfigurationException",
                "InvalidEC2TagCombinationException",
                "InvalidOnPremisesTagCombinationException",
                "TagSetListLimitExceededException",
                "InvalidInputException",
                "ThrottlingException",
                "InvalidECSServiceException",
                "InvalidTargetGroupPairException",
                "ECSServiceMappingLimitExceededException",
                "InvalidTagsToAddException",
                "InvalidTrafficRoutingConfigurationException",
                "InvalidAutoScalingGroupProcessToSuspendException",
            ],
            Operation::DeleteApplication => {
                &["ApplicationNameRequiredException", "InvalidApplicationNameException", "InvalidRoleException"]
            }
            Operation::DeleteDeploymentConfig => &[
                "InvalidDeploymentConfigNameException",
                "DeploymentConfigNameRequiredException",
                "DeploymentConfigInUseException",
                "InvalidOperationException",
            ],
            Operation::DeleteDeploymentGroup => &[
                "ApplicationNameRequiredException",
                "InvalidApplicationNameException",
                "DeploymentGroupNameRequiredException",
                "InvalidDeploymentGroupNameException",
                "InvalidRoleException",
            ],
            Operation::DeleteGitHubAccountToken => &[
                "GitHubAccountTokenNameRequiredException",
                "GitHubAccountTokenDoesNotExistException",
                "InvalidGitHubAccountTokenNameException",
                "ResourceValidationException",
                "OperationNotSupportedException",
            ],
            Operation::DeleteResourcesByExternalId => &[],
            Operation::DeregisterOnPremisesInstance => {
                &["InstanceNameRequiredException", "InvalidInstanceNameException"]
            }
            Operation::GetApplication => &[
                "ApplicationNameRequiredException",
                "InvalidApplicationNameException",
                "ApplicationDoesNotExistException",
            ],
            Operation::GetApplicationRevision => &[
                "ApplicationDoesNotExistException",
                "ApplicationNameRequiredException",
                "InvalidApplicationNameException",
                "RevisionDoesNotExistException",
                "RevisionRequiredException",
                "InvalidRevisionException",
            ],
            Operation::GetDeployment => {
                &["DeploymentIdRequiredException", "InvalidDeploymentIdException", "DeploymentDoesNotExistException"]
            }
            Operation::GetDeploymentConfig => &[
                "InvalidDeploymentConfigNameException",
                "DeploymentConfigNameRequiredException",
                "DeploymentConfigDoesNotExistException",
                "InvalidComputePlatformException",
            ],
            Operation::GetDeploymentGroup => &[
                "ApplicationNameRequiredException",
                "InvalidApplicationNameException",
                "ApplicationDoesNotExistException",
                "DeploymentGroupNameRequiredException",
                "InvalidDeploymentGroupNameException",
                "DeploymentGroupDoesNotExistException",
                "DeploymentConfigDoesNotExistException",
            ],
            Operation::GetDeploymentInstance => &[
                "DeploymentIdRequiredException",
                "DeploymentDoesNotExistException",
                "InstanceIdRequiredException",
                "InvalidDeploymentIdException",
                "InstanceDoesNotExistException",
                "InvalidInstanceNameException",
                "InvalidComputePlatformException",
            ],
            Operation::GetDeploymentTarget => &[
                "InvalidDeploymentIdException",
                "DeploymentIdRequiredException",
                "DeploymentDoesNotExistException",
                "DeploymentNotStartedException",
                "DeploymentTargetIdRequiredException",
                "InvalidDeploymentTargetIdException",
                "DeploymentTargetDoesNotExistException",
                "InvalidInstanceNameException",
            ],
            Operation::GetOnPremisesInstance => {
                &["InstanceNameRequiredException", "InstanceNotRegisteredException", "InvalidInstanceNameException"]
            }
            Operation::ListApplicationRevisions => &[
                "ApplicationDoesNotExistException",
                "ApplicationNameRequiredException",
                "InvalidApplicationNameException",
                "InvalidSortByException",
                "InvalidSortOrderException",
                "InvalidBucketNameFilterException",
                "InvalidKeyPrefixFilterException",
                "BucketNameFilterRequiredException",
                "InvalidDeployedStateFilterException",
                "InvalidNextTokenException",
            ],
            Operation::ListApplications => &["InvalidNextTokenException"],
            Operation::ListDeploymentConfigs => &["InvalidNextTokenException"],
            Operation::ListDeploymentGroups => &[
                "ApplicationNameRequiredException",
                "InvalidApplicationNameException",
                "ApplicationDoesNotExistException",
                "InvalidNextTokenException",
            ],
            Operation::ListDeploymentInstances => &[
                "DeploymentIdRequiredException",
                "DeploymentDoesNotExistException",
                "DeploymentNotStartedException",
                "InvalidNextTokenException",
                "InvalidDeploymentIdException",
                "InvalidInstanceStatusException",
                "InvalidInstanceTypeException",
                "InvalidDeploymentInstanceTypeException",
                "InvalidTargetFilterNameException",
                "InvalidComputePlatformException",
                "ApplicationDoesNotExistException",
                "DeploymentGroupDoesNotExistException",
            ],
            Operation::ListDeploymentTargets => &[
                "DeploymentIdRequiredException",
                "DeploymentDoesNotExistException",
                "DeploymentNotStartedException",
                "InvalidNextTokenException",
                "InvalidDeploymentIdException",
                "InvalidInstanceStatusException",
                "InvalidInstanceTypeException",
                "InvalidDeploymentInstanceTypeException",
                "InvalidTargetFilterNameException",
                "ApplicationDoesNotExistException",
                "DeploymentGroupDoesNotExistException",
            ],
            Operation::ListDeployments => &[
                "ApplicationNameRequiredException",
                "InvalidApplicationNameException",
                "ApplicationDoesNotExistException",
                "InvalidDeploymentGroupNameException",
                "DeploymentGroupDoesNotExistException",
                "DeploymentGroupNameRequiredException",
                "InvalidTimeRangeException",
                "InvalidDeploymentStatusException",
                "InvalidNextTokenException",
                "InvalidExternalIdException",
                "InvalidInputException",
            ],
            Operation::ListGitHubAccountTokenNames => {
                &["InvalidNextTokenException", "ResourceValidationException", "OperationNotSupportedException"]
            }
            Operation::ListOnPremisesInstances => {
                &["InvalidRegistrationStatusException", "InvalidTagFilterException", "InvalidNextTokenException"]
            }
            Operation::ListTagsForResource => {
                &["ArnNotSupportedException", "InvalidArnException", "ResourceArnRequiredException"]
            }
            Operation::PutLifecycleEventHookExecutionStatus => &[
                "InvalidLifecycleEventHookExecutionStatusException",
                "InvalidLifecycleEventHookExecutionIdException",
                "LifecycleEventAlreadyCompletedException",
                "DeploymentIdRequiredException",
                "DeploymentDoesNotExistException",
                "InvalidDeploymentIdException",
                "UnsupportedActionForDeploymentTypeException",
            ],
            Operation::RegisterApplicationRevision => &[
                "ApplicationDoesNotExistException",
                "ApplicationNameRequiredException",
                "InvalidApplicationNameException",
                "DescriptionTooLongException",
                "RevisionRequiredException",
                "InvalidRevisionException",
            ],
            Operation::RegisterOnPremisesInstance => &[
                "InstanceNameAlreadyRegisteredException",
                "IamArnRequiredException",
                "IamSessionArnAlreadyRegisteredException",
                "IamUserArnAlreadyRegisteredException",
                "InstanceNameRequiredException",
                "IamUserArnRequiredException",
                "InvalidInstanceNameException",
                "InvalidIamSessionArnException",
                "InvalidIamUserArnException",
                "MultipleIamArnsProvidedException",
            ],
            Operation::RemoveTagsFromOnPremisesInstances => &[
                "InstanceNameRequiredException",
                "InvalidInstanceNameException",
                "TagRequiredException",
                "InvalidTagException",
                "TagLimitExceededException",
                "InstanceLimitExceededException",
                "InstanceNotRegisteredException",
            ],
            Operation::SkipWaitTimeForInstanceTermination => &[
                "DeploymentIdRequiredException",
                "DeploymentDoesNotExistException",
                "DeploymentAlreadyCompletedException",
                "InvalidDeploymentIdException",
                "DeploymentNotStartedException",
                "UnsupportedActionForDeploymentTypeException",
            ],
            Operation::StopDeployment => &[
                "DeploymentIdRequiredException",
                "DeploymentDoesNotExistException",
                "DeploymentGroupDoesNotExistException",
                "DeploymentAlreadyCompletedException",
                "InvalidDeploymentIdException",
                "UnsupportedActionForDeploymentTypeException",
            ],
            Operation::TagResource => &[
                "ResourceArnRequiredException",
                "ApplicationDoesNotExistException",
                "DeploymentGroupDoesNotExistException",
                "DeploymentConfigDoesNotExistException",
                "TagRequiredException",
                "InvalidTagsToAddException",
                "ArnNotSupportedException",
                "InvalidArnException",
            ],
            Operation::UntagResource => &[
                "ResourceArnRequiredException",
                "ApplicationDoesNotExistException",
                "DeploymentGroupDoesNotExistException",
                "DeploymentConfigDoesNotExistException",
                "TagRequiredException",
                "InvalidTagsToAddException",
                "ArnNotSupportedException",
                "InvalidArnException",
            ],
            Operation::UpdateApplication => &[
                "ApplicationNameRequiredException",
                "InvalidApplicationNameException",
                "ApplicationAlreadyExistsException",
                "ApplicationDoesNotExistException",
            ],
            Operation::UpdateDeploymentGroup => &[
                "ApplicationNameRequiredException",
                "InvalidApplicationNameException",
                "ApplicationDoesNotExistException",
                "InvalidDeploymentGroupNameException",
                "DeploymentGroupAlreadyExistsException",
                "DeploymentGroupNameRequiredException",
                "DeploymentGroupDoesNotExistException",
                "InvalidEC2TagException",
                "InvalidTagException",
                "InvalidAutoScalingGroupException",
                "InvalidDeploymentConfigNameException",
                "DeploymentConfigDoesNotExistException",
                "InvalidRoleException",
                "LifecycleHookLimitExceededException",
                "InvalidTriggerConfigException",
                "TriggerTargetsLimitExceededException",
                "InvalidAlarmConfigException",
                "AlarmsLimitExceededException",
                "InvalidAutoRollbackConfigException",
                "InvalidLoadBalancerInfoException",
                "InvalidDeploymentStyleException",
                "InvalidBlueGreenDeploymentConfigurationException",
                "InvalidEC2TagCombinationException",
                "InvalidOnPremisesTagCombinationException",
                "TagSetListLimitExceededException",
                "InvalidInputException",
                "ThrottlingException",
                "InvalidECSServiceException",
                "InvalidTargetGroupPairException",
                "ECSServiceMappingLimitExceededException",
                "InvalidTrafficRoutingConfigurationException",
                "InvalidAutoScalingGroupProcessToSuspendException",
            ],
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error of the [`FromStr`] impl of [`Operation`]: no operation has this name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownOperation(pub String);

impl fmt::Display for UnknownOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown CodeDeploy operation {:?}", self.0)
    }
}

impl std::error::Error for UnknownOperation {}

impl FromStr for Operation {
    type Err = UnknownOperation;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| UnknownOperation(s.to_owned()))
    }
}

/// `(operation, input shape, output shape)` for every operation, in [`Operation::ALL`] order. A `None` output
/// means the operation answers an empty `{}` body.
pub const OPERATION_SHAPES: &[(&str, Option<&str>, Option<&str>)] = &[
    ("AddTagsToOnPremisesInstances", Some("AddTagsToOnPremisesInstancesInput"), None),
    (
        "BatchGetApplicationRevisions",
        Some("BatchGetApplicationRevisionsInput"),
        Some("BatchGetApplicationRevisionsOutput"),
    ),
    ("BatchGetApplications", Some("BatchGetApplicationsInput"), Some("BatchGetApplicationsOutput")),
    ("BatchGetDeploymentGroups", Some("BatchGetDeploymentGroupsInput"), Some("BatchGetDeploymentGroupsOutput")),
    (
        "BatchGetDeploymentInstances",
        Some("BatchGetDeploymentInstancesInput"),
        Some("BatchGetDeploymentInstancesOutput"),
    ),
    ("BatchGetDeploymentTargets", Some("BatchGetDeploymentTargetsInput"), Some("BatchGetDeploymentTargetsOutput")),
    ("BatchGetDeployments", Some("BatchGetDeploymentsInput"), Some("BatchGetDeploymentsOutput")),
    (
        "BatchGetOnPremisesInstances",
        Some("BatchGetOnPremisesInstancesInput"),
        Some("BatchGetOnPremisesInstancesOutput"),
    ),
    ("ContinueDeployment", Some("ContinueDeploymentInput"), None),
    ("CreateApplication", Some("CreateApplicationInput"), Some("CreateApplicationOutput")),
    ("CreateDeployment", Some("CreateDeploymentInput"), Some("CreateDeploymentOutput")),
    ("CreateDeploymentConfig", Some("CreateDeploymentConfigInput"), Some("CreateDeploymentConfigOutput")),
    ("CreateDeploymentGroup", Some("CreateDeploymentGroupInput"), Some("CreateDeploymentGroupOutput")),
    ("DeleteApplication", Some("DeleteApplicationInput"), None),
    ("DeleteDeploymentConfig", Some("DeleteDeploymentConfigInput"), None),
    ("DeleteDeploymentGroup", Some("DeleteDeploymentGroupInput"), Some("DeleteDeploymentGroupOutput")),
    ("DeleteGitHubAccountToken", Some("DeleteGitHubAccountTokenInput"), Some("DeleteGitHubAccountTokenOutput")),
    (
        "DeleteResourcesByExternalId",
        Some("DeleteResourcesByExternalIdInput"),
        Some("DeleteResourcesByExternalIdOutput"),
    ),
    ("DeregisterOnPremisesInstance", Some("DeregisterOnPremisesInstanceInput"), None),
    ("GetApplication", Some("GetApplicationInput"), Some("GetApplicationOutput")),
    ("GetApplicationRevision", Some("GetApplicationRevisionInput"), Some("GetApplicationRevisionOutput")),
    ("GetDeployment", Some("GetDeploymentInput"), Some("GetDeploymentOutput")),
    ("GetDeploymentConfig", Some("GetDeploymentConfigInput"), Some("GetDeploymentConfigOutput")),
    ("GetDeploymentGroup", Some("GetDeploymentGroupInput"), Some("GetDeploymentGroupOutput")),
    ("GetDeploymentInstance", Some("GetDeploymentInstanceInput"), Some("GetDeploymentInstanceOutput")),
    ("GetDeploymentTarget", Some("GetDeploymentTargetInput"), Some("GetDeploymentTargetOutput")),
    ("GetOnPremisesInstance", Some("GetOnPremisesInstanceInput"), Some("GetOnPremisesInstanceOutput")),
    ("ListApplicationRevisions", Some("ListApplicationRevisionsInput"), Some("ListApplicationRevisionsOutput")),
    ("ListApplications", Some("ListApplicationsInput"), Some("ListApplicationsOutput")),
    ("ListDeploymentConfigs", Some("ListDeploymentConfigsInput"), Some("ListDeploymentConfigsOutput")),
    ("ListDeploymentGroups", Some("ListDeploymentGroupsInput"), Some("ListDeploymentGroupsOutput")),
    ("ListDeploymentInstances", Some("ListDeploymentInstancesInput"), Some("ListDeploymentInstancesOutput")),
    ("ListDeploymentTargets", Some("ListDeploymentTargetsInput"), Some("ListDeploymentTargetsOutput")),
    ("ListDeployments", Some("ListDeploymentsInput"), Some("ListDeploymentsOutput")),
    (
        "ListGitHubAccountTokenNames",
        Some("ListGitHubAccountTokenNamesInput"),
        Some("ListGitHubAccountTokenNamesOutput"),
    ),
    ("ListOnPremisesInstances", Some("ListOnPremisesInstancesInput"), Some("ListOnPremisesInstancesOutput")),
    ("ListTagsForResource", Some("ListTagsForResourceInput"), Some("ListTagsForResourceOutput")),
    (
        "PutLifecycleEventHookExecutionStatus",
        Some("PutLifecycleEventHookExecutionStatusInput"),
        Some("PutLifecycleEventHookExecutionStatusOutput"),
    ),
    ("RegisterApplicationRevision", Some("RegisterApplicationRevisionInput"), None),
    ("RegisterOnPremisesInstance", Some("RegisterOnPremisesInstanceInput"), None),
    ("RemoveTagsFromOnPremisesInstances", Some("RemoveTagsFromOnPremisesInstancesInput"), None),
    ("SkipWaitTimeForInstanceTermination", Some("SkipWaitTimeForInstanceTerminationInput"), None),
    ("StopDeployment", Some("StopDeploymentInput"), Some("StopDeploymentOutput")),
    ("TagResource", Some("TagResourceInput"), Some("TagResourceOutput")),
    ("UntagResource", Some("UntagResourceInput"), Some("UntagResourceOutput")),
    ("UpdateApplication", Some("UpdateApplicationInput"), None),
    ("UpdateDeploymentGroup", Some("UpdateDeploymentGroupInput"), Some("UpdateDeploymentGroupOutput")),
];

/// Every error shape of the model (the `__type` values of [`ErrorBody`]), sorted.
pub const EXCEPTIONS: &[&str] = &[
    "AlarmsLimitExceededException",
    "ApplicationAlreadyExistsException",
    "ApplicationDoesNotExistException",
    "ApplicationLimitExceededException",
    "ApplicationNameRequiredException",
    "ArnNotSupportedException",
    "BatchLimitExceededException",
    "BucketNameFilterRequiredException",
    "DeploymentAlreadyCompletedException",
    "DeploymentAlreadyStartedException",
    "DeploymentConfigAlreadyExistsException",
    "DeploymentConfigDoesNotExistException",
    "DeploymentConfigInUseException",
    "DeploymentConfigLimitExceededException",
    "DeploymentConfigNameRequiredException",
    "DeploymentDoesNotExistException",
    "DeploymentGroupAlreadyExistsException",
    "DeploymentGroupDoesNotExistException",
    "DeploymentGroupLimitExceededException",
    "DeploymentGroupNameRequiredException",
    "DeploymentIdRequiredException",
    "DeploymentIsNotInReadyStateException",
    "DeploymentLimitExceededException",
    "DeploymentNotStartedException",
    "DeploymentTargetDoesNotExistException",
    "DeploymentTargetIdRequiredException",
    "DeploymentTargetListSizeExceededException",
    "DescriptionTooLongException",
    "ECSServiceMappingLimitExceededException",
    "GitHubAccountTokenDoesNotExistException",
    "GitHubAccountTokenNameRequiredException",
    "IamArnRequiredException",
    "IamSessionArnAlreadyRegisteredException",
    "IamUserArnAlreadyRegisteredException",
    "IamUserArnRequiredException",
    "InstanceDoesNotExistException",
    "InstanceIdRequiredException",
    "InstanceLimitExceededException",
    "InstanceNameAlreadyRegisteredException",
    "InstanceNameRequiredException",
    "InstanceNotRegisteredException",
    "InvalidAlarmConfigException",
    "InvalidApplicationNameException",
    "InvalidArnException",
    "InvalidAutoRollbackConfigException",
    "InvalidAutoScalingGroupException",
    "InvalidAutoScalingGroupProcessToSuspendException",
    "InvalidBlueGreenDeploymentConfigurationException",
    "InvalidBucketNameFilterException",
    "InvalidComputePlatformException",
    "InvalidDeployedStateFilterException",
    "InvalidDeploymentConfigNameException",
    "InvalidDeploymentGroupNameException",
    "InvalidDeploymentIdException",
    "InvalidDeploymentInstanceTypeException",
    "InvalidDeploymentStatusException",
    "InvalidDeploymentStyleException",
    "InvalidDeploymentTargetIdException",
    "InvalidDeploymentWaitTypeException",
    "InvalidEC2TagCombinationException",
    "InvalidEC2TagException",
    "InvalidECSServiceException",
    "InvalidExternalIdException",
    "InvalidFileExistsBehaviorException",
    "InvalidGitHubAccountTokenException",
    "InvalidGitHubAccountTokenNameException",
    "InvalidIamSessionArnException",
    "InvalidIamUserArnException",
    "InvalidIgnoreApplicationStopFailuresValueException",
    "InvalidInputException",
    "InvalidInstanceIdException",
    "InvalidInstanceNameException",
    "InvalidInstanceStatusException",
    "InvalidInstanceTypeException",
    "InvalidKeyPrefixFilterException",
    "InvalidLifecycleEventHookExecutionIdException",
    "InvalidLifecycleEventHookExecutionStatusException",
    "InvalidLoadBalancerInfoException",
    "InvalidMinimumHealthyHostValueException",
    "InvalidNextTokenException",
    "InvalidOnPremisesTagCombinationException",
    "InvalidOperationException",
    "InvalidRegistrationStatusException",
    "InvalidRevisionException",
    "InvalidRoleException",
    "InvalidSortByException",
    "InvalidSortOrderException",
    "InvalidTagException",
    "InvalidTagFilterException",
    "InvalidTagsToAddException",
    "InvalidTargetException",
    "InvalidTargetFilterNameException",
    "InvalidTargetGroupPairException",
    "InvalidTargetInstancesException",
    "InvalidTimeRangeException",
    "InvalidTrafficRoutingConfigurationException",
    "InvalidTriggerConfigException",
    "InvalidUpdateOutdatedInstancesOnlyValueException",
    "InvalidZonalDeploymentConfigurationException",
    "LifecycleEventAlreadyCompletedException",
    "LifecycleHookLimitExceededException",
    "MultipleIamArnsProvidedException",
    "OperationNotSupportedException",
    "ResourceArnRequiredException",
    "ResourceValidationException",
    "RevisionDoesNotExistException",
    "RevisionRequiredException",
    "RoleRequiredException",
    "TagLimitExceededException",
    "TagRequiredException",
    "TagSetListLimitExceededException",
    "ThrottlingException",
    "TriggerTargetsLimitExceededException",
    "UnsupportedActionForDeploymentTypeException",
];

/// A JSON 1.1 error response body: `{"__type": "ApplicationNameRequiredException", "message": "..."}`,
/// sent with HTTP 400 (or 5xx for server faults) and header `X-Amzn-ErrorType: <type>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ErrorBody {
    /// The error shape name, one of [`EXCEPTIONS`].
    #[serde(rename = "__type")]
    pub type_: String,
    pub message: String,
}

impl ErrorBody {
    pub fn new(type_: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorBody { type_: type_.into(), message: message.into() }
    }
}

/// `(structure, members the model marks required)` for every structure with required members, sorted.
/// Member names are the wire names; the fields are `Option`s all the same.
pub const REQUIRED_MEMBERS: &[(&str, &[&str])] = &[
    ("AddTagsToOnPremisesInstancesInput", &["tags", "instanceNames"]),
    ("BatchGetApplicationRevisionsInput", &["applicationName", "revisions"]),
    ("BatchGetApplicationsInput", &["applicationNames"]),
    ("BatchGetDeploymentGroupsInput", &["applicationName", "deploymentGroupNames"]),
    ("BatchGetDeploymentInstancesInput", &["deploymentId", "instanceIds"]),
    ("BatchGetDeploymentTargetsInput", &["deploymentId", "targetIds"]),
    ("BatchGetDeploymentsInput", &["deploymentIds"]),
    ("BatchGetOnPremisesInstancesInput", &["instanceNames"]),
    ("CreateApplicationInput", &["applicationName"]),
    ("CreateDeploymentConfigInput", &["deploymentConfigName"]),
    ("CreateDeploymentGroupInput", &["applicationName", "deploymentGroupName", "serviceRoleArn"]),
    ("CreateDeploymentInput", &["applicationName"]),
    ("DeleteApplicationInput", &["applicationName"]),
    ("DeleteDeploymentConfigInput", &["deploymentConfigName"]),
    ("DeleteDeploymentGroupInput", &["applicationName", "deploymentGroupName"]),
    ("DeregisterOnPremisesInstanceInput", &["instanceName"]),
    ("GetApplicationInput", &["applicationName"]),
    ("GetApplicationRevisionInput", &["applicationName", "revision"]),
    ("GetDeploymentConfigInput", &["deploymentConfigName"]),
    ("GetDeploymentGroupInput", &["applicationName", "deploymentGroupName"]),
    ("GetDeploymentInput", &["deploymentId"]),
    ("GetDeploymentInstanceInput", &["deploymentId", "instanceId"]),
    ("GetDeploymentTargetInput", &["deploymentId", "targetId"]),
    ("GetOnPremisesInstanceInput", &["instanceName"]),
    ("ListApplicationRevisionsInput", &["applicationName"]),
    ("ListDeploymentGroupsInput", &["applicationName"]),
    ("ListDeploymentInstancesInput", &["deploymentId"]),
    ("ListDeploymentTargetsInput", &["deploymentId"]),
    ("ListTagsForResourceInput", &["ResourceArn"]),
    ("RegisterApplicationRevisionInput", &["applicationName", "revision"]),
    ("RegisterOnPremisesInstanceInput", &["instanceName"]),
    ("RemoveTagsFromOnPremisesInstancesInput", &["tags", "instanceNames"]),
    ("StopDeploymentInput", &["deploymentId"]),
    ("TagResourceInput", &["ResourceArn", "Tags"]),
    ("UntagResourceInput", &["ResourceArn", "TagKeys"]),
    ("UpdateDeploymentGroupInput", &["applicationName", "currentDeploymentGroupName"]),
];

/// Values of the string enum shape `ApplicationRevisionSortBy`.
pub const APPLICATION_REVISION_SORT_BY_VALUES: &[&str] = &["registerTime", "firstUsedTime", "lastUsedTime"];
/// Values of the string enum shape `AutoRollbackEvent`.
pub const AUTO_ROLLBACK_EVENT_VALUES: &[&str] =
    &["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST"];
/// Values of the string enum shape `AutoScalingGroupProcess`.
pub const AUTO_SCALING_GROUP_PROCESS_VALUES: &[&str] =
    &["Terminate", "AZRebalance", "InstanceRefresh", "ScheduledActions"];
/// Values of the string enum shape `BundleType`.
pub const BUNDLE_TYPE_VALUES: &[&str] = &["tar", "tgz", "zip", "YAML", "JSON"];
/// Values of the string enum shape `ComputePlatform`.
pub const COMPUTE_PLATFORM_VALUES: &[&str] = &["Server", "Lambda", "ECS"];
/// Values of the string enum shape `DeploymentCreator`.
pub const DEPLOYMENT_CREATOR_VALUES: &[&str] = &[
    "user",
    "autoscaling",
    "codeDeployRollback",
    "CodeDeploy",
    "CodeDeployAutoUpdate",
    "CloudFormation",
    "CloudFormationRollback",
    "autoscalingTermination",
];
/// Values of the string enum shape `DeploymentMode`.
pub const DEPLOYMENT_MODE_VALUES: &[&str] = &["STANDARD", "RESTART"];
/// Values of the string enum shape `DeploymentOption`.
pub const DEPLOYMENT_OPTION_VALUES: &[&str] = &["WITH_TRAFFIC_CONTROL", "WITHOUT_TRAFFIC_CONTROL"];
/// Values of the string enum shape `DeploymentReadyAction`.
pub const DEPLOYMENT_READY_ACTION_VALUES: &[&str] = &["CONTINUE_DEPLOYMENT", "STOP_DEPLOYMENT"];
/// Values of the string enum shape `DeploymentStatus`.
pub const DEPLOYMENT_STATUS_VALUES: &[&str] =
    &["Created", "Queued", "InProgress", "Baking", "Succeeded", "Failed", "Stopped", "Ready"];
/// Values of the string enum shape `DeploymentTargetType`.
pub const DEPLOYMENT_TARGET_TYPE_VALUES: &[&str] =
    &["InstanceTarget", "LambdaTarget", "ECSTarget", "CloudFormationTarget"];
/// Values of the string enum shape `DeploymentType`.
pub const DEPLOYMENT_TYPE_VALUES: &[&str] = &["IN_PLACE", "BLUE_GREEN"];
/// Values of the string enum shape `DeploymentWaitType`.
pub const DEPLOYMENT_WAIT_TYPE_VALUES: &[&str] = &["READY_WAIT", "TERMINATION_WAIT"];
/// Values of the string enum shape `EC2TagFilterType`.
pub const EC2_TAG_FILTER_TYPE_VALUES: &[&str] = &["KEY_ONLY", "VALUE_ONLY", "KEY_AND_VALUE"];
/// Values of the string enum shape `ErrorCode`.
pub const ERROR_CODE_VALUES: &[&str] = &[
    "AGENT_ISSUE",
    "ALARM_ACTIVE",
    "APPLICATION_MISSING",
    "AUTOSCALING_VALIDATION_ERROR",
    "AUTO_SCALING_CONFIGURATION",
    "AUTO_SCALING_IAM_ROLE_PERMISSIONS",
    "CODEDEPLOY_RESOURCE_CANNOT_BE_FOUND",
    "CUSTOMER_APPLICATION_UNHEALTHY",
    "DEPLOYMENT_GROUP_MISSING",
    "ECS_UPDATE_ERROR",
    "ELASTIC_LOAD_BALANCING_INVALID",
    "ELB_INVALID_INSTANCE",
    "HEALTH_CONSTRAINTS",
    "HEALTH_CONSTRAINTS_INVALID",
    "HOOK_EXECUTION_FAILURE",
    "IAM_ROLE_MISSING",
    "IAM_ROLE_PERMISSIONS",
    "INTERNAL_ERROR",
    "INVALID_ECS_SERVICE",
    "INVALID_LAMBDA_CONFIGURATION",
    "INVALID_LAMBDA_FUNCTION",
    "INVALID_REVISION",
    "MANUAL_STOP",
    "MISSING_BLUE_GREEN_DEPLOYMENT_CONFIGURATION",
    "MISSING_ELB_INFORMATION",
    "MISSING_GITHUB_TOKEN",
    "NO_EC2_SUBSCRIPTION",
    "NO_INSTANCES",
    "OVER_MAX_INSTANCES",
    "RESOURCE_LIMIT_EXCEEDED",
    "REVISION_MISSING",
    "THROTTLED",
    "TIMEOUT",
    "CLOUDFORMATION_STACK_FAILURE",
];
/// Values of the string enum shape `FileExistsBehavior`.
pub const FILE_EXISTS_BEHAVIOR_VALUES: &[&str] = &["DISALLOW", "OVERWRITE", "RETAIN"];
/// Values of the string enum shape `GreenFleetProvisioningAction`.
pub const GREEN_FLEET_PROVISIONING_ACTION_VALUES: &[&str] = &["DISCOVER_EXISTING", "COPY_AUTO_SCALING_GROUP"];
/// Values of the string enum shape `InstanceAction`.
pub const INSTANCE_ACTION_VALUES: &[&str] = &["TERMINATE", "KEEP_ALIVE"];
/// Values of the string enum shape `InstanceStatus`. Deprecated.
pub const INSTANCE_STATUS_VALUES: &[&str] =
    &["Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Unknown", "Ready"];
/// Values of the string enum shape `InstanceType`.
pub const INSTANCE_TYPE_VALUES: &[&str] = &["Blue", "Green"];
/// Values of the string enum shape `LifecycleErrorCode`.
pub const LIFECYCLE_ERROR_CODE_VALUES: &[&str] =
    &["Success", "ScriptMissing", "ScriptNotExecutable", "ScriptTimedOut", "ScriptFailed", "UnknownError"];
/// Values of the string enum shape `LifecycleEventStatus`.
pub const LIFECYCLE_EVENT_STATUS_VALUES: &[&str] =
    &["Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Unknown"];
/// Values of the string enum shape `ListStateFilterAction`.
pub const LIST_STATE_FILTER_ACTION_VALUES: &[&str] = &["include", "exclude", "ignore"];
/// Values of the string enum shape `MinimumHealthyHostsPerZoneType`.
pub const MINIMUM_HEALTHY_HOSTS_PER_ZONE_TYPE_VALUES: &[&str] = &["HOST_COUNT", "FLEET_PERCENT"];
/// Values of the string enum shape `MinimumHealthyHostsType`.
pub const MINIMUM_HEALTHY_HOSTS_TYPE_VALUES: &[&str] = &["HOST_COUNT", "FLEET_PERCENT"];
/// Values of the string enum shape `OutdatedInstancesStrategy`.
pub const OUTDATED_INSTANCES_STRATEGY_VALUES: &[&str] = &["UPDATE", "IGNORE"];
/// Values of the string enum shape `RegistrationStatus`.
pub const REGISTRATION_STATUS_VALUES: &[&str] = &["Registered", "Deregistered"];
/// Values of the string enum shape `RevisionLocationType`.
pub const REVISION_LOCATION_TYPE_VALUES: &[&str] = &["S3", "GitHub", "String", "AppSpecContent"];
/// Values of the string enum shape `SortOrder`.
pub const SORT_ORDER_VALUES: &[&str] = &["ascending", "descending"];
/// Values of the string enum shape `StopStatus`.
pub const STOP_STATUS_VALUES: &[&str] = &["Pending", "Succeeded"];
/// Values of the string enum shape `TagFilterType`.
pub const TAG_FILTER_TYPE_VALUES: &[&str] = &["KEY_ONLY", "VALUE_ONLY", "KEY_AND_VALUE"];
/// Values of the string enum shape `TargetFilterName`.
pub const TARGET_FILTER_NAME_VALUES: &[&str] = &["TargetStatus", "ServerInstanceLabel"];
/// Values of the string enum shape `TargetLabel`.
pub const TARGET_LABEL_VALUES: &[&str] = &["Blue", "Green"];
/// Values of the string enum shape `TargetStatus`.
pub const TARGET_STATUS_VALUES: &[&str] =
    &["Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Unknown", "Ready"];
/// Values of the string enum shape `TrafficRoutingType`.
pub const TRAFFIC_ROUTING_TYPE_VALUES: &[&str] = &["TimeBasedCanary", "TimeBasedLinear", "AllAtOnce"];
/// Values of the string enum shape `TriggerEventType`.
pub const TRIGGER_EVENT_TYPE_VALUES: &[&str] = &[
    "DeploymentStart",
    "DeploymentSuccess",
    "DeploymentFailure",
    "DeploymentStop",
    "DeploymentRollback",
    "DeploymentReady",
    "InstanceStart",
    "InstanceSuccess",
    "InstanceFailure",
    "InstanceReady",
];

/// Represents the input of, and adds tags to, an on-premises instance operation.
///
/// Input of [`Operation::AddTagsToOnPremisesInstances`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AddTagsToOnPremisesInstancesInput {
    /// The tag key-value pairs to add to the on-premises instances.
    ///
    /// Shape `TagList`; required.
    #[serde(rename = "tags", skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    /// The names of the on-premises instances to which to add tags.
    ///
    /// Shape `InstanceNameList`; required.
    #[serde(rename = "instanceNames", skip_serializing_if = "Option::is_none")]
    pub instance_names: Option<Vec<String>>,
}

/// Information about an alarm.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Alarm {
    /// The name of the alarm.
    ///
    /// Shape `AlarmName`.
    #[serde(rename = "name", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Information about alarms associated with a deployment or deployment group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlarmConfiguration {
    /// Indicates whether the alarm configuration is enabled.
    ///
    /// Shape `Boolean`.
    #[serde(rename = "enabled", skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Indicates whether a deployment should continue if information about the current state of alarms cannot be
    /// retrieved from Amazon CloudWatch.
    ///
    /// Shape `Boolean`.
    #[serde(rename = "ignorePollAlarmFailure", skip_serializing_if = "Option::is_none")]
    pub ignore_poll_alarm_failure: Option<bool>,
    /// A list of alarms configured for the deployment or deployment group.
    ///
    /// Shape `AlarmList`.
    #[serde(rename = "alarms", skip_serializing_if = "Option::is_none")]
    pub alarms: Option<Vec<Alarm>>,
}

/// The maximum number of alarms for a deployment group (10) was exceeded.
///
/// Error shape (`__type: "AlarmsLimitExceededException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlarmsLimitExceededException {}

/// A revision for an Lambda or Amazon ECS deployment that is a YAML-formatted or JSON-formatted string.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppSpecContent {
    /// The YAML-formatted or JSON-formatted revision string.
    ///
    /// Shape `RawStringContent`.
    #[serde(rename = "content", skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The SHA256 hash value of the revision content.
    ///
    /// Shape `RawStringSha256`.
    #[serde(rename = "sha256", skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// An application with the specified name with the user or Amazon Web Services account already exists.
///
/// Error shape (`__type: "ApplicationAlreadyExistsException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ApplicationAlreadyExistsException {}

/// The application does not exist with the user or Amazon Web Services account.
///
/// Error shape (`__type: "ApplicationDoesNotExistException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ApplicationDoesNotExistException {}

/// Information about an application.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ApplicationInfo {
    /// The application ID.
    ///
    /// Shape `ApplicationId`.
    #[serde(rename = "applicationId", skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    /// The application name.
    ///
    /// Shape `ApplicationName`; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "applicationName", skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    /// The time at which the application was created.
    ///
    /// Shape `Timestamp`; epoch seconds.
    #[serde(rename = "createTime", skip_serializing_if = "Option::is_none")]
    pub create_time: Option<f64>,
    /// True if the user has authenticated with GitHub for the specified application.
    ///
    /// Shape `Boolean`.
    #[serde(rename = "linkedToGitHub", skip_serializing_if = "Option::is_none")]
    pub linked_to_git_hub: Option<bool>,
    /// The name for a connection to a GitHub account.
    ///
    /// Shape `GitHubAccountTokenName`.
    #[serde(rename = "gitHubAccountName", skip_serializing_if = "Option::is_none")]
    pub git_hub_account_name: Option<String>,
    /// The destination platform type for deployment of the application (`Lambda` or `Server`).
    ///
    /// Shape `ComputePlatform`; one of [`COMPUTE_PLATFORM_VALUES`].
    #[serde(rename = "computePlatform", skip_serializing_if = "Option::is_none")]
    pub compute_platform: Option<String>,
}

/// More applications were attempted to be created than are allowed.
///
/// Error shape (`__type: "ApplicationLimitExceededException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ApplicationLimitExceededException {}

/// The minimum number of required application names was not specified.
///
/// Error shape (`__type: "ApplicationNameRequiredException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ApplicationNameRequiredException {}

/// The specified ARN is not supported.
///
/// Error shape (`__type: "ArnNotSupportedException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ArnNotSupportedException {}

/// Information about a configuration for automatically rolling back to a previous version of an application
/// revision when a deployment is not completed successfully.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoRollbackConfiguration {
    /// Indicates whether a defined automatic rollback configuration is currently enabled.
    ///
    /// Shape `Boolean`.
    #[serde(rename = "enabled", skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The event type or types that trigger a rollback.
    ///
    /// Shape `AutoRollbackEventsList`; items in [`AUTO_ROLLBACK_EVENT_VALUES`].
    #[serde(rename = "events", skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
}

/// Information about an Auto Scaling group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoScalingGroup {
    /// The Auto Scaling group name.
    ///
    /// Shape `AutoScalingGroupName`.
    #[serde(rename = "name", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The name of the launch hook that CodeDeploy installed into the Auto Scaling group.
    ///
    /// Shape `AutoScalingGroupHook`.
    #[serde(rename = "hook", skip_serializing_if = "Option::is_none")]
    pub hook: Option<String>,
    /// The name of the termination hook that CodeDeploy installed into the Auto Scaling group.
    ///
    /// Shape `AutoScalingGroupHook`.
    #[serde(rename = "terminationHook", skip_serializing_if = "Option::is_none")]
    pub termination_hook: Option<String>,
}

/// Represents the input of a `BatchGetApplicationRevisions` operation.
///
/// Input of [`Operation::BatchGetApplicationRevisions`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchGetApplicationRevisionsInput {
    /// The name of an CodeDeploy application about which to get revision information.
    ///
    /// Shape `ApplicationName`; required; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "applicationName", skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    /// An array of `RevisionLocation` objects that specify information to get about the application revisions,
    /// including type and location.
    ///
    /// Shape `RevisionLocationList`; required.
    #[serde(rename = "revisions", skip_serializing_if = "Option::is_none")]
    pub revisions: Option<Vec<RevisionLocation>>,
}

/// Represents the output of a `BatchGetApplicationRevisions` operation.
///
/// Output of [`Operation::BatchGetApplicationRevisions`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchGetApplicationRevisionsOutput {
    /// The name of the application that corresponds to the revisions.
    ///
    /// Shape `ApplicationName`; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "applicationName", skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    /// Information about errors that might have occurred during the API call.
    ///
    /// Shape `ErrorMessage`.
    #[serde(rename = "errorMessage", skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Additional information about the revisions, including the type and location.
    ///
    /// Shape `RevisionInfoList`.
    #[serde(rename = "revisions", skip_serializing_if = "Option::is_none")]
    pub revisions: Option<Vec<RevisionInfo>>,
}

/// Represents the input of a `BatchGetApplications` operation.
///
/// Input of [`Operation::BatchGetApplications`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchGetApplicationsInput {
    /// A list of application names separated by spaces.
    ///
    /// Shape `ApplicationsList`; required.
    #[serde(rename = "applicationNames", skip_serializing_if = "Option::is_none")]
    pub application_names: Option<Vec<String>>,
}

/// Represents the output of a `BatchGetApplications` operation.
///
/// Output of [`Operation::BatchGetApplications`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchGetApplicationsOutput {
    /// Information about the applications.
    ///
    /// Shape `ApplicationsInfoList`.
    #[serde(rename = "applicationsInfo", skip_serializing_if = "Option::is_none")]
    pub applications_info: Option<Vec<ApplicationInfo>>,
}

/// Represents the input of a `BatchGetDeploymentGroups` operation.
///
/// Input of [`Operation::BatchGetDeploymentGroups`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchGetDeploymentGroupsInput {
    /// The name of an CodeDeploy application associated with the applicable user or Amazon Web Services account.
    ///
    /// Shape `ApplicationName`; required; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "applicationName", skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    /// The names of the deployment groups.
    ///
    /// Shape `DeploymentGroupsList`; required.
    #[serde(rename = "deploymentGroupNames", skip_serializing_if = "Option::is_none")]
    pub deployment_group_names: Option<Vec<String>>,
}

/// Represents the output of a `BatchGetDeploymentGroups` operation.
///
/// Output of [`Operation::BatchGetDeploymentGroups`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchGetDeploymentGroupsOutput {
    /// Information about the deployment groups.
    ///
    /// Shape `DeploymentGroupInfoList`.
    #[serde(rename = "deploymentGroupsInfo", skip_serializing_if = "Option::is_none")]
    pub deployment_groups_info: Option<Vec<DeploymentGroupInfo>>,
    /// Information about errors that might have occurred during the API call.
    ///
    /// Shape `ErrorMessage`.
    #[serde(rename = "errorMessage", skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// Represents the input of a `BatchGetDeploymentInstances` operation.
///
/// Input of [`Operation::BatchGetDeploymentInstances`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchGetDeploymentInstancesInput {
    /// The unique ID of a deployment.
    ///
    /// Shape `DeploymentId`; required.
    #[serde(rename = "deploymentId", skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// The unique IDs of instances used in the deployment.
    ///
    /// Shape `InstancesList`; required.
    #[serde(rename = "instanceIds", skip_serializing_if = "Option::is_none")]
    pub instance_ids: Option<Vec<String>>,
}

/// Represents the output of a `BatchGetDeploymentInstances` operation.
///
/// Output of [`Operation::BatchGetDeploymentInstances`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchGetDeploymentInstancesOutput {
    /// Information about the instance.
    ///
    /// Shape `InstanceSummaryList`; deprecated.
    #[serde(rename = "instancesSummary", skip_serializing_if = "Option::is_none")]
    pub instances_summary: Option<Vec<InstanceSummary>>,
    /// Information about errors that might have occurred during the API call.
    ///
    /// Shape `ErrorMessage`.
    #[serde(rename = "errorMessage", skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// Input of [`Operation::BatchGetDeploymentTargets`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchGetDeploymentTargetsInput {
    /// The unique ID of a deployment.
    ///
    /// Shape `DeploymentId`; required.
    #[serde(rename = "deploymentId", skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// The unique IDs of the deployment targets.
    ///
    /// Shape `TargetIdList`; required.
    #[serde(rename = "targetIds", skip_serializing_if = "Option::is_none")]
    pub target_ids: Option<Vec<String>>,
}

/// Output of [`Operation::BatchGetDeploymentTargets`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchGetDeploymentTargetsOutput {
    /// A list of target objects for a deployment.
    ///
    /// Shape `DeploymentTargetList`.
    #[serde(rename = "deploymentTargets", skip_serializing_if = "Option::is_none")]
    pub deployment_targets: Option<Vec<DeploymentTarget>>,
}

/// Represents the input of a `BatchGetDeployments` operation.
///
/// Input of [`Operation::BatchGetDeployments`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchGetDeploymentsInput {
    /// A list of deployment IDs, separated by spaces.
    ///
    /// Shape `DeploymentsList`; required.
    #[serde(rename = "deploymentIds", skip_serializing_if = "Option::is_none")]
    pub deployment_ids: Option<Vec<String>>,
}

/// Represents the output of a `BatchGetDeployments` operation.
///
/// Output of [`Operation::BatchGetDeployments`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchGetDeploymentsOutput {
    /// Information about the deployments.
    ///
    /// Shape `DeploymentsInfoList`.
    #[serde(rename = "deploymentsInfo", skip_serializing_if = "Option::is_none")]
    pub deployments_info: Option<Vec<DeploymentInfo>>,
}

/// Represents the input of a `BatchGetOnPremisesInstances` operation.
///
/// Input of [`Operation::BatchGetOnPremisesInstances`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchGetOnPremisesInstancesInput {
    /// The names of the on-premises instances about which to get information.
    ///
    /// Shape `InstanceNameList`; required.
    #[serde(rename = "instanceNames", skip_serializing_if = "Option::is_none")]
    pub instance_names: Option<Vec<String>>,
}

/// Represents the output of a `BatchGetOnPremisesInstances` operation.
///
/// Output of [`Operation::BatchGetOnPremisesInstances`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchGetOnPremisesInstancesOutput {
    /// Information about the on-premises instances.
    ///
    /// Shape `InstanceInfoList`.
    #[serde(rename = "instanceInfos", skip_serializing_if = "Option::is_none")]
    pub instance_infos: Option<Vec<InstanceInfo>>,
}

/// The maximum number of names or IDs allowed for this request (100) was exceeded.
///
/// Error shape (`__type: "BatchLimitExceededException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchLimitExceededException {}

/// Information about blue/green deployment options for a deployment group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BlueGreenDeploymentConfiguration {
    /// Information about whether to terminate instances in the original fleet during a blue/green deployment.
    ///
    /// Shape `BlueInstanceTerminationOption`.
    #[serde(rename = "terminateBlueInstancesOnDeploymentSuccess", skip_serializing_if = "Option::is_none")]
    pub terminate_blue_instances_on_deployment_success: Option<BlueInstanceTerminationOption>,
    /// Information about the action to take when newly provisioned instances are ready to receive traffic in a
    /// blue/green deployment.
    ///
    /// Shape `DeploymentReadyOption`.
    #[serde(rename = "deploymentReadyOption", skip_serializing_if = "Option::is_none")]
    pub deployment_ready_option: Option<DeploymentReadyOption>,
    /// Information about how instances are provisioned for a replacement environment in a blue/green deployment.
    ///
    /// Shape `GreenFleetProvisioningOption`.
    #[serde(rename = "greenFleetProvisioningOption", skip_serializing_if = "Option::is_none")]
    pub green_fleet_provisioning_option: Option<GreenFleetProvisioningOption>,
}

/// Information about whether instances in the original environment are terminated when a blue/green deployment is
/// successful.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BlueInstanceTerminationOption {
    /// The action to take on instances in the original environment after a successful blue/green deployment.
    ///
    /// Shape `InstanceAction`; one of [`INSTANCE_ACTION_VALUES`].
    #[serde(rename = "action", skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// For an Amazon EC2 deployment, the number of minutes to wait after a successful blue/green deployment before
    /// terminating instances from the original environment.
    ///
    /// Shape `Duration`.
    #[serde(rename = "terminationWaitTimeInMinutes", skip_serializing_if = "Option::is_none")]
    pub termination_wait_time_in_minutes: Option<i64>,
}

/// A bucket name is required, but was not provided.
///
/// Error shape (`__type: "BucketNameFilterRequiredException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BucketNameFilterRequiredException {}

/// Information about the target to be updated by an CloudFormation blue/green deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CloudFormationTarget {
    /// The unique ID of an CloudFormation blue/green deployment.
    ///
    /// Shape `DeploymentId`.
    #[serde(rename = "deploymentId", skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// The unique ID of a deployment target that has a type of `CloudFormationTarget`.
    ///
    /// Shape `TargetId`.
    #[serde(rename = "targetId", skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    /// The date and time when the target application was updated by an CloudFormation blue/green deployment.
    ///
    /// Shape `Time`; epoch seconds.
    #[serde(rename = "lastUpdatedAt", skip_serializing_if = "Option::is_none")]
    pub last_updated_at: Option<f64>,
    /// The lifecycle events of the CloudFormation blue/green deployment to this target application.
    ///
    /// Shape `LifecycleEventList`.
    #[serde(rename = "lifecycleEvents", skip_serializing_if = "Option::is_none")]
    pub lifecycle_events: Option<Vec<LifecycleEvent>>,
    /// The status of an CloudFormation blue/green deployment's target application.
    ///
    /// Shape `TargetStatus`; one of [`TARGET_STATUS_VALUES`].
    #[serde(rename = "status", skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The resource type for the CloudFormation blue/green deployment.
    ///
    /// Shape `CloudFormationResourceType`.
    #[serde(rename = "resourceType", skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// The percentage of production traffic that the target version of an CloudFormation blue/green deployment
    /// receives.
    ///
    /// Shape `TrafficWeight`.
    #[serde(rename = "targetVersionWeight", skip_serializing_if = "Option::is_none")]
    pub target_version_weight: Option<f64>,
}

/// Input of [`Operation::ContinueDeployment`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContinueDeploymentInput {
    /// The unique ID of a blue/green deployment for which you want to start rerouting traffic to the replacement
    /// environment.
    ///
    /// Shape `DeploymentId`.
    #[serde(rename = "deploymentId", skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// The status of the deployment's waiting period.
    ///
    /// Shape `DeploymentWaitType`; one of [`DEPLOYMENT_WAIT_TYPE_VALUES`].
    #[serde(rename = "deploymentWaitType", skip_serializing_if = "Option::is_none")]
    pub deployment_wait_type: Option<String>,
}

/// Represents the input of a `CreateApplication` operation.
///
/// Input of [`Operation::CreateApplication`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateApplicationInput {
    /// The name of the application.
    ///
    /// Shape `ApplicationName`; required; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "applicationName", skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    /// The destination platform type for the deployment (`Lambda`, `Server`, or `ECS`).
    ///
    /// Shape `ComputePlatform`; one of [`COMPUTE_PLATFORM_VALUES`].
    #[serde(rename = "computePlatform", skip_serializing_if = "Option::is_none")]
    pub compute_platform: Option<String>,
    /// The metadata that you apply to CodeDeploy applications to help you organize and categorize them.
    ///
    /// Shape `TagList`.
    #[serde(rename = "tags", skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
}

/// Represents the output of a `CreateApplication` operation.
///
/// Output of [`Operation::CreateApplication`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateApplicationOutput {
    /// A unique application ID.
    ///
    /// Shape `ApplicationId`.
    #[serde(rename = "applicationId", skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
}

/// Represents the input of a `CreateDeploymentConfig` operation.
///
/// Input of [`Operation::CreateDeploymentConfig`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateDeploymentConfigInput {
    /// The name of the deployment configuration to create.
    ///
    /// Shape `DeploymentConfigName`; required; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "deploymentConfigName", skip_serializing_if = "Option::is_none")]
    pub deployment_config_name: Option<String>,
    /// The minimum number of healthy instances that should be available at any time during the deployment.
    ///
    /// Shape `MinimumHealthyHosts`.
    #[serde(rename = "minimumHealthyHosts", skip_serializing_if = "Option::is_none")]
    pub minimum_healthy_hosts: Option<MinimumHealthyHosts>,
    /// The configuration that specifies how the deployment traffic is routed.
    ///
    /// Shape `TrafficRoutingConfig`.
    #[serde(rename = "trafficRoutingConfig", skip_serializing_if = "Option::is_none")]
    pub traffic_routing_config: Option<TrafficRoutingConfig>,
    /// The destination platform type for the deployment (`Lambda`, `Server`, or `ECS`).
    ///
    /// Shape `ComputePlatform`; one of [`COMPUTE_PLATFORM_VALUES`].
    #[serde(rename = "computePlatform", skip_serializing_if = "Option::is_none")]
    pub compute_platform: Option<String>,
    /// Configure the `ZonalConfig` object if you want CodeDeploy to deploy your application to one Availability
    /// Zone at a time, within an Amazon Web Services Region.
    ///
    /// Shape `ZonalConfig`.
    #[serde(rename = "zonalConfig", skip_serializing_if = "Option::is_none")]
    pub zonal_config: Option<ZonalConfig>,
}

/// Represents the output of a `CreateDeploymentConfig` operation.
///
/// Output of [`Operation::CreateDeploymentConfig`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateDeploymentConfigOutput {
    /// A unique deployment configuration ID.
    ///
    /// Shape `DeploymentConfigId`.
    #[serde(rename = "deploymentConfigId", skip_serializing_if = "Option::is_none")]
    pub deployment_config_id: Option<String>,
}

/// Represents the input of a `CreateDeploymentGroup` operation.
///
/// Input of [`Operation::CreateDeploymentGroup`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateDeploymentGroupInput {
    /// The name of an CodeDeploy application associated with the user or Amazon Web Services account.
    ///
    /// Shape `ApplicationName`; required; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "applicationName", skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    /// The name of a new deployment group for the specified application.
    ///
    /// Shape `DeploymentGroupName`; required; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "deploymentGroupName", skip_serializing_if = "Option::is_none")]
    pub deployment_group_name: Option<String>,
    /// If specified, the deployment configuration name can be either one of the predefined configurations provided
    /// with CodeDeploy or a custom deployment configuration that you create by calling the create deployment
    /// configuration operation.
    ///
    /// Shape `DeploymentConfigName`; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "deploymentConfigName", skip_serializing_if = "Option::is_none")]
    pub deployment_config_name: Option<String>,
    /// The Amazon EC2 tags on which to filter.
    ///
    /// Shape `EC2TagFilterList`.
    #[serde(rename = "ec2TagFilters", skip_serializing_if = "Option::is_none")]
    pub ec2_tag_filters: Option<Vec<EC2TagFilter>>,
    /// The on-premises instance tags on which to filter.
    ///
    /// Shape `TagFilterList`.
    #[serde(rename = "onPremisesInstanceTagFilters", skip_serializing_if = "Option::is_none")]
    pub on_premises_instance_tag_filters: Option<Vec<TagFilter>>,
    /// A list of associated Amazon EC2 Auto Scaling groups.
    ///
    /// Shape `AutoScalingGroupNameList`.
    #[serde(rename = "autoScalingGroups", skip_serializing_if = "Option::is_none")]
    pub auto_scaling_groups: Option<Vec<String>>,
    /// A service role Amazon Resource Name (ARN) that allows CodeDeploy to act on the user's behalf when
    /// interacting with Amazon Web Services services.
    ///
    /// Shape `Role`; required.
    #[serde(rename = "serviceRoleArn", skip_serializing_if = "Option::is_none")]
    pub service_role_arn: Option<String>,
    /// Information about triggers to create when the deployment group is created.
    ///
    /// Shape `TriggerConfigList`.
    #[serde(rename = "triggerConfigurations", skip_serializing_if = "Option::is_none")]
    pub trigger_configurations: Option<Vec<TriggerConfig>>,
    /// Information to add about Amazon CloudWatch alarms when the deployment group is created.
    ///
    /// Shape `AlarmConfiguration`.
    #[serde(rename = "alarmConfiguration", skip_serializing_if = "Option::is_none")]
    pub alarm_configuration: Option<AlarmConfiguration>,
    /// Configuration information for an automatic rollback that is added when a deployment group is created.
    ///
    /// Shape `AutoRollbackConfiguration`.
    #[serde(rename = "autoRollbackConfiguration", skip_serializing_if = "Option::is_none")]
    pub auto_rollback_configuration: Option<AutoRollbackConfiguration>,
    /// Indicates what happens when new Amazon EC2 instances are launched mid-deployment and do not receive the
    /// deployed application revision.
    ///
    /// Shape `OutdatedInstancesStrategy`; one of [`OUTDATED_INSTANCES_STRATEGY_VALUES`].
    #[serde(rename = "outdatedInstancesStrategy", skip_serializing_if = "Option::is_none")]
    pub outdated_instances_strategy: Option<String>,
    /// Information about the type of deployment, in-place or blue/green, that you want to run and whether to route
    /// deployment traffic behind a load balancer.
    ///
    /// Shape `DeploymentStyle`.
    #[serde(rename = "deploymentStyle", skip_serializing_if = "Option::is_none")]
    pub deployment_style: Option<DeploymentStyle>,
    /// Information about blue/green deployment options for a deployment group.
    ///
    /// Shape `BlueGreenDeploymentConfiguration`.
    #[serde(rename = "blueGreenDeploymentConfiguration", skip_serializing_if = "Option::is_none")]
    pub blue_green_deployment_configuration: Option<BlueGreenDeploymentConfiguration>,
    /// Information about the load balancer used in a deployment.
    ///
    /// Shape `LoadBalancerInfo`.
    #[serde(rename = "loadBalancerInfo", skip_serializing_if = "Option::is_none")]
    pub load_balancer_info: Option<LoadBalancerInfo>,
    /// Information about groups of tags applied to Amazon EC2 instances.
    ///
    /// Shape `EC2TagSet`.
    #[serde(rename = "ec2TagSet", skip_serializing_if = "Option::is_none")]
    pub ec2_tag_set: Option<EC2TagSet>,
    /// The target Amazon ECS services in the deployment group.
    ///
    /// Shape `ECSServiceList`.
    #[serde(rename = "ecsServices", skip_serializing_if = "Option::is_none")]
    pub ecs_services: Option<Vec<ECSService>>,
    /// Information about groups of tags applied to on-premises instances.
    ///
    /// Shape `OnPremisesTagSet`.
    #[serde(rename = "onPremisesTagSet", skip_serializing_if = "Option::is_none")]
    pub on_premises_tag_set: Option<OnPremisesTagSet>,
    /// The metadata that you apply to CodeDeploy deployment groups to help you organize and categorize them.
    ///
    /// Shape `TagList`.
    #[serde(rename = "tags", skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    /// Shape `EC2DeploymentOptions`.
    #[serde(rename = "ec2DeploymentOptions", skip_serializing_if = "Option::is_none")]
    pub ec2_deployment_options: Option<EC2DeploymentOptions>,
    /// This parameter only applies if you are using CodeDeploy with Amazon EC2 Auto Scaling.
    ///
    /// Shape `NullableBoolean`.
    #[serde(rename = "terminationHookEnabled", skip_serializing_if = "Option::is_none")]
    pub termination_hook_enabled: Option<bool>,
}

/// Represents the output of a `CreateDeploymentGroup` operation.
///
/// Output of [`Operation::CreateDeploymentGroup`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateDeploymentGroupOutput {
    /// A unique deployment group ID.
    ///
    /// Shape `DeploymentGroupId`.
    #[serde(rename = "deploymentGroupId", skip_serializing_if = "Option::is_none")]
    pub deployment_group_id: Option<String>,
}

/// Represents the input of a `CreateDeployment` operation.
///
/// Input of [`Operation::CreateDeployment`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateDeploymentInput {
    /// The name of an CodeDeploy application associated with the user or Amazon Web Services account.
    ///
    /// Shape `ApplicationName`; required; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "applicationName", skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    /// The name of the deployment group.
    ///
    /// Shape `DeploymentGroupName`; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "deploymentGroupName", skip_serializing_if = "Option::is_none")]
    pub deployment_group_name: Option<String>,
    /// The type and location of the revision to deploy.
    ///
    /// Shape `RevisionLocation`.
    #[serde(rename = "revision", skip_serializing_if = "Option::is_none")]
    pub revision: Option<RevisionLocation>,
    /// The name of a deployment configuration associated with the user or Amazon Web Services account.
    ///
    /// Shape `DeploymentConfigName`; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "deploymentConfigName", skip_serializing_if = "Option::is_none")]
    pub deployment_config_name: Option<String>,
    /// A comment about the deployment.
    ///
    /// Shape `Description`.
    #[serde(rename = "description", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// If true, then if an `ApplicationStop`, `BeforeBlockTraffic`, or `AfterBlockTraffic` deployment lifecycle
    /// event to an instance fails, then the deployment continues to the next deployment lifecycle event.
    ///
    /// Shape `Boolean`.
    #[serde(rename = "ignoreApplicationStopFailures", skip_serializing_if = "Option::is_none")]
    pub ignore_application_stop_failures: Option<bool>,
    /// Information about the instances that belong to the replacement environment in a blue/green deployment.
    ///
    /// Shape `TargetInstances`.
    #[serde(rename = "targetInstances", skip_serializing_if = "Option::is_none")]
    pub target_instances: Option<TargetInstances>,
    /// Configuration information for an automatic rollback that is added when a deployment is created.
    ///
    /// Shape `AutoRollbackConfiguration`.
    #[serde(rename = "autoRollbackConfiguration", skip_serializing_if = "Option::is_none")]
    pub auto_rollback_configuration: Option<AutoRollbackConfiguration>,
    /// Indicates whether to deploy to all instances or only to instances that are not running the latest
    /// application revision.
    ///
    /// Shape `Boolean`.
    #[serde(rename = "updateOutdatedInstancesOnly", skip_serializing_if = "Option::is_none")]
    pub update_outdated_instances_only: Option<bool>,
    /// Information about how CodeDeploy handles files that already exist in a deployment target location but
    /// weren't part of the previous successful deployment.
    ///
    /// Shape `FileExistsBehavior`; one of [`FILE_EXISTS_BEHAVIOR_VALUES`].
    #[serde(rename = "fileExistsBehavior", skip_serializing_if = "Option::is_none")]
    pub file_exists_behavior: Option<String>,
    /// The type of deployment to create.
    ///
    /// Shape `DeploymentMode`; one of [`DEPLOYMENT_MODE_VALUES`].
    #[serde(rename = "deploymentMode", skip_serializing_if = "Option::is_none")]
    pub deployment_mode: Option<String>,
    /// Allows you to specify information about alarms associated with a deployment.
    ///
    /// Shape `AlarmConfiguration`.
    #[serde(rename = "overrideAlarmConfiguration", skip_serializing_if = "Option::is_none")]
    pub override_alarm_configuration: Option<AlarmConfiguration>,
    /// Shape `EC2DeploymentOptions`.
    #[serde(rename = "ec2DeploymentOptions", skip_serializing_if = "Option::is_none")]
    pub ec2_deployment_options: Option<EC2DeploymentOptions>,
}

/// Represents the output of a `CreateDeployment` operation.
///
/// Output of [`Operation::CreateDeployment`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateDeploymentOutput {
    /// The unique ID of a deployment.
    ///
    /// Shape `DeploymentId`.
    #[serde(rename = "deploymentId", skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
}

/// Represents the input of a `DeleteApplication` operation.
///
/// Input of [`Operation::DeleteApplication`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeleteApplicationInput {
    /// The name of an CodeDeploy application associated with the user or Amazon Web Services account.
    ///
    /// Shape `ApplicationName`; required; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "applicationName", skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
}

/// Represents the input of a `DeleteDeploymentConfig` operation.
///
/// Input of [`Operation::DeleteDeploymentConfig`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeleteDeploymentConfigInput {
    /// The name of a deployment configuration associated with the user or Amazon Web Services account.
    ///
    /// Shape `DeploymentConfigName`; required; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "deploymentConfigName", skip_serializing_if = "Option::is_none")]
    pub deployment_config_name: Option<String>,
}

/// Represents the input of a `DeleteDeploymentGroup` operation.
///
/// Input of [`Operation::DeleteDeploymentGroup`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeleteDeploymentGroupInput {
    /// The name of an CodeDeploy application associated with the user or Amazon Web Services account.
    ///
    /// Shape `ApplicationName`; required; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "applicationName", skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    /// The name of a deployment group for the specified application.
    ///
    /// Shape `DeploymentGroupName`; required; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "deploymentGroupName", skip_serializing_if = "Option::is_none")]
    pub deployment_group_name: Option<String>,
}

/// Represents the output of a `DeleteDeploymentGroup` operation.
///
/// Output of [`Operation::DeleteDeploymentGroup`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeleteDeploymentGroupOutput {
    /// If the output contains no data, and the corresponding deployment group contained at least one Auto Scaling
    /// group, CodeDeploy successfully removed all corresponding Auto Scaling lifecycle event hooks from the Amazon
    /// EC2 instances in the ...
    ///
    /// Shape `AutoScalingGroupList`.
    #[serde(rename = "hooksNotCleanedUp", skip_serializing_if = "Option::is_none")]
    pub hooks_not_cleaned_up: Option<Vec<AutoScalingGroup>>,
}

/// Represents the input of a `DeleteGitHubAccount` operation.
///
/// Input of [`Operation::DeleteGitHubAccountToken`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeleteGitHubAccountTokenInput {
    /// The name of the GitHub account connection to delete.
    ///
    /// Shape `GitHubAccountTokenName`.
    #[serde(rename = "tokenName", skip_serializing_if = "Option::is_none")]
    pub token_name: Option<String>,
}

/// Represents the output of a `DeleteGitHubAccountToken` operation.
///
/// Output of [`Operation::DeleteGitHubAccountToken`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeleteGitHubAccountTokenOutput {
    /// The name of the GitHub account connection that was deleted.
    ///
    /// Shape `GitHubAccountTokenName`.
    #[serde(rename = "tokenName", skip_serializing_if = "Option::is_none")]
    pub token_name: Option<String>,
}

/// Input of [`Operation::DeleteResourcesByExternalId`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeleteResourcesByExternalIdInput {
    /// The unique ID of an external resource (for example, a CloudFormation stack ID) that is linked to one or more
    /// CodeDeploy resources.
    ///
    /// Shape `ExternalId`.
    #[serde(rename = "externalId", skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

/// Output of [`Operation::DeleteResourcesByExternalId`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeleteResourcesByExternalIdOutput {}

/// The deployment is already complete.
///
/// Error shape (`__type: "DeploymentAlreadyCompletedException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentAlreadyCompletedException {}

/// A deployment to a target was attempted while another deployment was in progress.
///
/// Error shape (`__type: "DeploymentAlreadyStartedException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentAlreadyStartedException {}

/// A deployment configuration with the specified name with the user or Amazon Web Services account already exists.
///
/// Error shape (`__type: "DeploymentConfigAlreadyExistsException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentConfigAlreadyExistsException {}

/// The deployment configuration does not exist with the user or Amazon Web Services account.
///
/// Error shape (`__type: "DeploymentConfigDoesNotExistException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentConfigDoesNotExistException {}

/// The deployment configuration is still in use.
///
/// Error shape (`__type: "DeploymentConfigInUseException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentConfigInUseException {}

/// Information about a deployment configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentConfigInfo {
    /// The deployment configuration ID.
    ///
    /// Shape `DeploymentConfigId`.
    #[serde(rename = "deploymentConfigId", skip_serializing_if = "Option::is_none")]
    pub deployment_config_id: Option<String>,
    /// The deployment configuration name.
    ///
    /// Shape `DeploymentConfigName`; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "deploymentConfigName", skip_serializing_if = "Option::is_none")]
    pub deployment_config_name: Option<String>,
    /// Information about the number or percentage of minimum healthy instances.
    ///
    /// Shape `MinimumHealthyHosts`.
    #[serde(rename = "minimumHealthyHosts", skip_serializing_if = "Option::is_none")]
    pub minimum_healthy_hosts: Option<MinimumHealthyHosts>,
    /// The time at which the deployment configuration was created.
    ///
    /// Shape `Timestamp`; epoch seconds.
    #[serde(rename = "createTime", skip_serializing_if = "Option::is_none")]
    pub create_time: Option<f64>,
    /// The destination platform type for the deployment (`Lambda`, `Server`, or `ECS`).
    ///
    /// Shape `ComputePlatform`; one of [`COMPUTE_PLATFORM_VALUES`].
    #[serde(rename = "computePlatform", skip_serializing_if = "Option::is_none")]
    pub compute_platform: Option<String>,
    /// The configuration that specifies how the deployment traffic is routed.
    ///
    /// Shape `TrafficRoutingConfig`.
    #[serde(rename = "trafficRoutingConfig", skip_serializing_if = "Option::is_none")]
    pub traffic_routing_config: Option<TrafficRoutingConfig>,
    /// Information about a zonal configuration.
    ///
    /// Shape `ZonalConfig`.
    #[serde(rename = "zonalConfig", skip_serializing_if = "Option::is_none")]
    pub zonal_config: Option<ZonalConfig>,
}

/// The deployment configurations limit was exceeded.
///
/// Error shape (`__type: "DeploymentConfigLimitExceededException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentConfigLimitExceededException {}

/// The deployment configuration name was not specified.
///
/// Error shape (`__type: "DeploymentConfigNameRequiredException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentConfigNameRequiredException {}

/// The deployment with the user or Amazon Web Services account does not exist.
///
/// Error shape (`__type: "DeploymentDoesNotExistException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentDoesNotExistException {}

/// A deployment group with the specified name with the user or Amazon Web Services account already exists.
///
/// Error shape (`__type: "DeploymentGroupAlreadyExistsException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentGroupAlreadyExistsException {}

/// The named deployment group with the user or Amazon Web Services account does not exist.
///
/// Error shape (`__type: "DeploymentGroupDoesNotExistException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentGroupDoesNotExistException {}

/// Information about a deployment group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentGroupInfo {
    /// The application name.
    ///
    /// Shape `ApplicationName`; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "applicationName", skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    /// The deployment group ID.
    ///
    /// Shape `DeploymentGroupId`.
    #[serde(rename = "deploymentGroupId", skip_serializing_if = "Option::is_none")]
    pub deployment_group_id: Option<String>,
    /// The deployment group name.
    ///
    /// Shape `DeploymentGroupName`; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "deploymentGroupName", skip_serializing_if = "Option::is_none")]
    pub deployment_group_name: Option<String>,
    /// The deployment configuration name.
    ///
    /// Shape `DeploymentConfigName`; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "deploymentConfigName", skip_serializing_if = "Option::is_none")]
    pub deployment_config_name: Option<String>,
    /// The Amazon EC2 tags on which to filter.
    ///
    /// Shape `EC2TagFilterList`.
    #[serde(rename = "ec2TagFilters", skip_serializing_if = "Option::is_none")]
    pub ec2_tag_filters: Option<Vec<EC2TagFilter>>,
    /// The on-premises instance tags on which to filter.
    ///
    /// Shape `TagFilterList`.
    #[serde(rename = "onPremisesInstanceTagFilters", skip_serializing_if = "Option::is_none")]
    pub on_premises_instance_tag_filters: Option<Vec<TagFilter>>,
    /// A list of associated Auto Scaling groups.
    ///
    /// Shape `AutoScalingGroupList`.
    #[serde(rename = "autoScalingGroups", skip_serializing_if = "Option::is_none")]
    pub auto_scaling_groups: Option<Vec<AutoScalingGroup>>,
    /// A service role Amazon Resource Name (ARN) that grants CodeDeploy permission to make calls to Amazon Web
    /// Services services on your behalf.
    ///
    /// Shape `Role`.
    #[serde(rename = "serviceRoleArn", skip_serializing_if = "Option::is_none")]
    pub service_role_arn: Option<String>,
    /// Information about the deployment group's target revision, including type and location.
    ///
    /// Shape `RevisionLocation`.
    #[serde(rename = "targetRevision", skip_serializing_if = "Option::is_none")]
    pub target_revision: Option<RevisionLocation>,
    /// Information about triggers associated with the deployment group.
    ///
    /// Shape `TriggerConfigList`.
    #[serde(rename = "triggerConfigurations", skip_serializing_if = "Option::is_none")]
    pub trigger_configurations: Option<Vec<TriggerConfig>>,
    /// A list of alarms associated with the deployment group.
    ///
    /// Shape `AlarmConfiguration`.
    #[serde(rename = "alarmConfiguration", skip_serializing_if = "Option::is_none")]
    pub alarm_configuration: Option<AlarmConfiguration>,
    /// Information about the automatic rollback configuration associated with the deployment group.
    ///
    /// Shape `AutoRollbackConfiguration`.
    #[serde(rename = "autoRollbackConfiguration", skip_serializing_if = "Option::is_none")]
    pub auto_rollback_configuration: Option<AutoRollbackConfiguration>,
    /// Information about the type of deployment, either in-place or blue/green, you want to run and whether to
    /// route deployment traffic behind a load balancer.
    ///
    /// Shape `DeploymentStyle`.
    #[serde(rename = "deploymentStyle", skip_serializing_if = "Option::is_none")]
    pub deployment_style: Option<DeploymentStyle>,
    /// Indicates what happens when new Amazon EC2 instances are launched mid-deployment and do not receive the
    /// deployed application revision.
    ///
    /// Shape `OutdatedInstancesStrategy`; one of [`OUTDATED_INSTANCES_STRATEGY_VALUES`].
    #[serde(rename = "outdatedInstancesStrategy", skip_serializing_if = "Option::is_none")]
    pub outdated_instances_strategy: Option<String>,
    /// Information about blue/green deployment options for a deployment group.
    ///
    /// Shape `BlueGreenDeploymentConfiguration`.
    #[serde(rename = "blueGreenDeploymentConfiguration", skip_serializing_if = "Option::is_none")]
    pub blue_green_deployment_configuration: Option<BlueGreenDeploymentConfiguration>,
    /// Information about the load balancer to use in a deployment.
    ///
    /// Shape `LoadBalancerInfo`.
    #[serde(rename = "loadBalancerInfo", skip_serializing_if = "Option::is_none")]
    pub load_balancer_info: Option<LoadBalancerInfo>,
    /// Information about the most recent successful deployment to the deployment group.
    ///
    /// Shape `LastDeploymentInfo`.
    #[serde(rename = "lastSuccessfulDeployment", skip_serializing_if = "Option::is_none")]
    pub last_successful_deployment: Option<LastDeploymentInfo>,
    /// Information about the most recent attempted deployment to the deployment group.
    ///
    /// Shape `LastDeploymentInfo`.
    #[serde(rename = "lastAttemptedDeployment", skip_serializing_if = "Option::is_none")]
    pub last_attempted_deployment: Option<LastDeploymentInfo>,
    /// Information about groups of tags applied to an Amazon EC2 instance.
    ///
    /// Shape `EC2TagSet`.
    #[serde(rename = "ec2TagSet", skip_serializing_if = "Option::is_none")]
    pub ec2_tag_set: Option<EC2TagSet>,
    /// Information about groups of tags applied to an on-premises instance.
    ///
    /// Shape `OnPremisesTagSet`.
    #[serde(rename = "onPremisesTagSet", skip_serializing_if = "Option::is_none")]
    pub on_premises_tag_set: Option<OnPremisesTagSet>,
    /// The destination platform type for the deployment (`Lambda`, `Server`, or `ECS`).
    ///
    /// Shape `ComputePlatform`; one of [`COMPUTE_PLATFORM_VALUES`].
    #[serde(rename = "computePlatform", skip_serializing_if = "Option::is_none")]
    pub compute_platform: Option<String>,
    /// The target Amazon ECS services in the deployment group.
    ///
    /// Shape `ECSServiceList`.
    #[serde(rename = "ecsServices", skip_serializing_if = "Option::is_none")]
    pub ecs_services: Option<Vec<ECSService>>,
    /// Shape `EC2DeploymentOptions`.
    #[serde(rename = "ec2DeploymentOptions", skip_serializing_if = "Option::is_none")]
    pub ec2_deployment_options: Option<EC2DeploymentOptions>,
    /// Indicates whether the deployment group was configured to have CodeDeploy install a termination hook into an
    /// Auto Scaling group.
    ///
    /// Shape `Boolean`.
    #[serde(rename = "terminationHookEnabled", skip_serializing_if = "Option::is_none")]
    pub termination_hook_enabled: Option<bool>,
}

/// The deployment groups limit was exceeded.
///
/// Error shape (`__type: "DeploymentGroupLimitExceededException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentGroupLimitExceededException {}

/// The deployment group name was not specified.
///
/// Error shape (`__type: "DeploymentGroupNameRequiredException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentGroupNameRequiredException {}

/// At least one deployment ID must be specified.
///
/// Error shape (`__type: "DeploymentIdRequiredException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentIdRequiredException {}

/// Information about a deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentInfo {
    /// The application name.
    ///
    /// Shape `ApplicationName`; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "applicationName", skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    /// The deployment group name.
    ///
    /// Shape `DeploymentGroupName`; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "deploymentGroupName", skip_serializing_if = "Option::is_none")]
    pub deployment_group_name: Option<String>,
    /// The deployment configuration name.
    ///
    /// Shape `DeploymentConfigName`; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "deploymentConfigName", skip_serializing_if = "Option::is_none")]
    pub deployment_config_name: Option<String>,
    /// The unique ID of a deployment.
    ///
    /// Shape `DeploymentId`.
    #[serde(rename = "deploymentId", skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// Information about the application revision that was deployed to the deployment group before the most recent
    /// successful deployment.
    ///
    /// Shape `RevisionLocation`.
    #[serde(rename = "previousRevision", skip_serializing_if = "Option::is_none")]
    pub previous_revision: Option<RevisionLocation>,
    /// Information about the location of stored application artifacts and the service from which to retrieve them.
    ///
    /// Shape `RevisionLocation`.
    #[serde(rename = "revision", skip_serializing_if = "Option::is_none")]
    pub revision: Option<RevisionLocation>,
    /// The current state of the deployment as a whole.
    ///
    /// Shape `DeploymentStatus`; one of [`DEPLOYMENT_STATUS_VALUES`].
    #[serde(rename = "status", skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Information about any error associated with this deployment.
    ///
    /// Shape `ErrorInformation`.
    #[serde(rename = "errorInformation", skip_serializing_if = "Option::is_none")]
    pub error_information: Option<ErrorInformation>,
    /// A timestamp that indicates when the deployment was created.
    ///
    /// Shape `Timestamp`; epoch seconds.
    #[serde(rename = "createTime", skip_serializing_if = "Option::is_none")]
    pub create_time: Option<f64>,
    /// A timestamp that indicates when the deployment was deployed to the deployment group.
    ///
    /// Shape `Timestamp`; epoch seconds.
    #[serde(rename = "startTime", skip_serializing_if = "Option::is_none")]
    pub start_time: Option<f64>,
    /// A timestamp that indicates when the deployment was complete.
    ///
    /// Shape `Timestamp`; epoch seconds.
    #[serde(rename = "completeTime", skip_serializing_if = "Option::is_none")]
    pub complete_time: Option<f64>,
    /// A summary of the deployment status of the instances in the deployment.
    ///
    /// Shape `DeploymentOverview`.
    #[serde(rename = "deploymentOverview", skip_serializing_if = "Option::is_none")]
    pub deployment_overview: Option<DeploymentOverview>,
    /// A comment about the deployment.
    ///
    /// Shape `Description`.
    #[serde(rename = "description", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The means by which the deployment was created: `user`: A user created the deployment.
    ///
    /// Shape `DeploymentCreator`; one of [`DEPLOYMENT_CREATOR_VALUES`].
    #[serde(rename = "creator", skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    /// If true, then if an `ApplicationStop`, `BeforeBlockTraffic`, or `AfterBlockTraffic` deployment lifecycle
    /// event to an instance fails, then the deployment continues to the next deployment lifecycle event.
    ///
    /// Shape `Boolean`.
    #[serde(rename = "ignoreApplicationStopFailures", skip_serializing_if = "Option::is_none")]
    pub ignore_application_stop_failures: Option<bool>,
    /// Information about the automatic rollback configuration associated with the deployment.
    ///
    /// Shape `AutoRollbackConfiguration`.
    #[serde(rename = "autoRollbackConfiguration", skip_serializing_if = "Option::is_none")]
    pub auto_rollback_configuration: Option<AutoRollbackConfiguration>,
    /// Indicates whether only instances that are not running the latest application revision are to be deployed to.
    ///
    /// Shape `Boolean`.
    #[serde(rename = "updateOutdatedInstancesOnly", skip_serializing_if = "Option::is_none")]
    pub update_outdated_instances_only: Option<bool>,
    /// Information about a deployment rollback.
    ///
    /// Shape `RollbackInfo`.
    #[serde(rename = "rollbackInfo", skip_serializing_if = "Option::is_none")]
    pub rollback_info: Option<RollbackInfo>,
    /// Information about the type of deployment, either in-place or blue/green, you want to run and whether to
    /// route deployment traffic behind a load balancer.
    ///
    /// Shape `DeploymentStyle`.
    #[serde(rename = "deploymentStyle", skip_serializing_if = "Option::is_none")]
    pub deployment_style: Option<DeploymentStyle>,
    /// Information about the instances that belong to the replacement environment in a blue/green deployment.
    ///
    /// Shape `TargetInstances`.
    #[serde(rename = "targetInstances", skip_serializing_if = "Option::is_none")]
    pub target_instances: Option<TargetInstances>,
    /// Indicates whether the wait period set for the termination of instances in the original environment has
    /// started.
    ///
    /// Shape `Boolean`.
    #[serde(rename = "instanceTerminationWaitTimeStarted", skip_serializing_if = "Option::is_none")]
    pub instance_termination_wait_time_started: Option<bool>,
    /// Information about blue/green deployment options for this deployment.
    ///
    /// Shape `BlueGreenDeploymentConfiguration`.
    #[serde(rename = "blueGreenDeploymentConfiguration", skip_serializing_if = "Option::is_none")]
    pub blue_green_deployment_configuration: Option<BlueGreenDeploymentConfiguration>,
    /// Information about the load balancer used in the deployment.
    ///
    /// Shape `LoadBalancerInfo`.
    #[serde(rename = "loadBalancerInfo", skip_serializing_if = "Option::is_none")]
    pub load_balancer_info: Option<LoadBalancerInfo>,
    /// Provides information about the results of a deployment, such as whether instances in the original
    /// environment in a blue/green deployment were not terminated.
    ///
    /// Shape `AdditionalDeploymentStatusInfo`; deprecated (AdditionalDeploymentStatusInfo is deprecated, use
    /// DeploymentStatusMessageList instead).
    #[serde(rename = "additionalDeploymentStatusInfo", skip_serializing_if = "Option::is_none")]
    pub additional_deployment_status_info: Option<String>,
    /// Information about how CodeDeploy handles files that already exist in a deployment target location but
    /// weren't part of the previous successful deployment.
    ///
    /// Shape `FileExistsBehavior`; one of [`FILE_EXISTS_BEHAVIOR_VALUES`].
    #[serde(rename = "fileExistsBehavior", skip_serializing_if = "Option::is_none")]
    pub file_exists_behavior: Option<String>,
    /// The deployment's type.
    ///
    /// Shape `DeploymentMode`; one of [`DEPLOYMENT_MODE_VALUES`].
    #[serde(rename = "deploymentMode", skip_serializing_if = "Option::is_none")]
    pub deployment_mode: Option<String>,
    /// Messages that contain information about the status of a deployment.
    ///
    /// Shape `DeploymentStatusMessageList`.
    #[serde(rename = "deploymentStatusMessages", skip_serializing_if = "Option::is_none")]
    pub deployment_status_messages: Option<Vec<String>>,
    /// The destination platform type for the deployment (`Lambda`, `Server`, or `ECS`).
    ///
    /// Shape `ComputePlatform`; one of [`COMPUTE_PLATFORM_VALUES`].
    #[serde(rename = "computePlatform", skip_serializing_if = "Option::is_none")]
    pub compute_platform: Option<String>,
    /// The unique ID for an external resource (for example, a CloudFormation stack ID) that is linked to this
    /// deployment.
    ///
    /// Shape `ExternalId`.
    #[serde(rename = "externalId", skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Shape `RelatedDeployments`.
    #[serde(rename = "relatedDeployments", skip_serializing_if = "Option::is_none")]
    pub related_deployments: Option<RelatedDeployments>,
    /// Shape `AlarmConfiguration`.
    #[serde(rename = "overrideAlarmConfiguration", skip_serializing_if = "Option::is_none")]
    pub override_alarm_configuration: Option<AlarmConfiguration>,
    /// Shape `EC2DeploymentOptions`.
    #[serde(rename = "ec2DeploymentOptions", skip_serializing_if = "Option::is_none")]
    pub ec2_deployment_options: Option<EC2DeploymentOptions>,
}

/// The deployment does not have a status of Ready and can't continue yet.
///
/// Error shape (`__type: "DeploymentIsNotInReadyStateException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentIsNotInReadyStateException {}

/// The number of allowed deployments was exceeded.
///
/// Error shape (`__type: "DeploymentLimitExceededException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentLimitExceededException {}

/// The specified deployment has not started.
///
/// Error shape (`__type: "DeploymentNotStartedException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentNotStartedException {}

/// Information about the deployment status of the instances in the deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentOverview {
    /// The number of instances in the deployment in a pending state.
    ///
    /// Shape `InstanceCount`.
    #[serde(rename = "Pending", skip_serializing_if = "Option::is_none")]
    pub pending: Option<i64>,
    /// The number of instances in which the deployment is in progress.
    ///
    /// Shape `InstanceCount`.
    #[serde(rename = "InProgress", skip_serializing_if = "Option::is_none")]
    pub in_progress: Option<i64>,
    /// The number of instances in the deployment to which revisions have been successfully deployed.
    ///
    /// Shape `InstanceCount`.
    #[serde(rename = "Succeeded", skip_serializing_if = "Option::is_none")]
    pub succeeded: Option<i64>,
    /// The number of instances in the deployment in a failed state.
    ///
    /// Shape `InstanceCount`.
    #[serde(rename = "Failed", skip_serializing_if = "Option::is_none")]
    pub failed: Option<i64>,
    /// The number of instances in the deployment in a skipped state.
    ///
    /// Shape `InstanceCount`.
    #[serde(rename = "Skipped", skip_serializing_if = "Option::is_none")]
    pub skipped: Option<i64>,
    /// The number of instances in a replacement environment ready to receive traffic in a blue/green deployment.
    ///
    /// Shape `InstanceCount`.
    #[serde(rename = "Ready", skip_serializing_if = "Option::is_none")]
    pub ready: Option<i64>,
}

/// Information about how traffic is rerouted to instances in a replacement environment in a blue/green deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentReadyOption {
    /// Information about when to reroute traffic from an original environment to a replacement environment in a
    /// blue/green deployment.
    ///
    /// Shape `DeploymentReadyAction`; one of [`DEPLOYMENT_READY_ACTION_VALUES`].
    #[serde(rename = "actionOnTimeout", skip_serializing_if = "Option::is_none")]
    pub action_on_timeout: Option<String>,
    /// The number of minutes to wait before the status of a blue/green deployment is changed to Stopped if
    /// rerouting is not started manually.
    ///
    /// Shape `Duration`.
    #[serde(rename = "waitTimeInMinutes", skip_serializing_if = "Option::is_none")]
    pub wait_time_in_minutes: Option<i64>,
}

/// Information about the type of deployment, either in-place or blue/green, you want to run and whether to route
/// deployment traffic behind a load balancer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentStyle {
    /// Indicates whether to run an in-place deployment or a blue/green deployment.
    ///
    /// Shape `DeploymentType`; one of [`DEPLOYMENT_TYPE_VALUES`].
    #[serde(rename = "deploymentType", skip_serializing_if = "Option::is_none")]
    pub deployment_type: Option<String>,
    /// Indicates whether to route deployment traffic behind a load balancer.
    ///
    /// Shape `DeploymentOption`; one of [`DEPLOYMENT_OPTION_VALUES`].
    #[serde(rename = "deploymentOption", skip_serializing_if = "Option::is_none")]
    pub deployment_option: Option<String>,
}

/// Information about the deployment target.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentTarget {
    /// The deployment type that is specific to the deployment's compute platform or deployments initiated by a
    /// CloudFormation stack update.
    ///
    /// Shape `DeploymentTargetType`; one of [`DEPLOYMENT_TARGET_TYPE_VALUES`].
    #[serde(rename = "deploymentTargetType", skip_serializing_if = "Option::is_none")]
    pub deployment_target_type: Option<String>,
    /// Information about the target for a deployment that uses the EC2/On-premises compute platform.
    ///
    /// Shape `InstanceTarget`.
    #[serde(rename = "instanceTarget", skip_serializing_if = "Option::is_none")]
    pub instance_target: Option<InstanceTarget>,
    /// Information about the target for a deployment that uses the Lambda compute platform.
    ///
    /// Shape `LambdaTarget`.
    #[serde(rename = "lambdaTarget", skip_serializing_if = "Option::is_none")]
    pub lambda_target: Option<LambdaTarget>,
    /// Information about the target for a deployment that uses the Amazon ECS compute platform.
    ///
    /// Shape `ECSTarget`.
    #[serde(rename = "ecsTarget", skip_serializing_if = "Option::is_none")]
    pub ecs_target: Option<ECSTarget>,
    /// Shape `CloudFormationTarget`.
    #[serde(rename = "cloudFormationTarget", skip_serializing_if = "Option::is_none")]
    pub cloud_formation_target: Option<CloudFormationTarget>,
}

/// The provided target ID does not belong to the attempted deployment.
///
/// Error shape (`__type: "DeploymentTargetDoesNotExistException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentTargetDoesNotExistException {}

/// A deployment target ID was not provided.
///
/// Error shape (`__type: "DeploymentTargetIdRequiredException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentTargetIdRequiredException {}

/// The maximum number of targets that can be associated with an Amazon ECS or Lambda deployment was exceeded.
///
/// Error shape (`__type: "DeploymentTargetListSizeExceededException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentTargetListSizeExceededException {}

/// Represents the input of a `DeregisterOnPremisesInstance` operation.
///
/// Input of [`Operation::DeregisterOnPremisesInstance`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeregisterOnPremisesInstanceInput {
    /// The name of the on-premises instance to deregister.
    ///
    /// Shape `InstanceName`; required.
    #[serde(rename = "instanceName", skip_serializing_if = "Option::is_none")]
    pub instance_name: Option<String>,
}

/// The description is too long.
///
/// Error shape (`__type: "DescriptionTooLongException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DescriptionTooLongException {}

/// Diagnostic information about executable scripts that are part of a deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Diagnostics {
    /// The associated error code: Success: The specified script ran.
    ///
    /// Shape `LifecycleErrorCode`; one of [`LIFECYCLE_ERROR_CODE_VALUES`].
    #[serde(rename = "errorCode", skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The name of the script.
    ///
    /// Shape `ScriptName`.
    #[serde(rename = "scriptName", skip_serializing_if = "Option::is_none")]
    pub script_name: Option<String>,
    /// The message associated with the error.
    ///
    /// Shape `LifecycleMessage`.
    #[serde(rename = "message", skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The last portion of the diagnostic log.
    ///
    /// Shape `LogTail`.
    #[serde(rename = "logTail", skip_serializing_if = "Option::is_none")]
    pub log_tail: Option<String>,
}

/// Options that control how CodeDeploy manages Amazon EC2 Auto Scaling groups during a deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EC2DeploymentOptions {
    /// The Amazon EC2 Auto Scaling processes to suspend during the deployment.
    ///
    /// Shape `AutoScalingGroupProcessesToSuspendList`; items in [`AUTO_SCALING_GROUP_PROCESS_VALUES`]; items 0..=4.
    #[serde(rename = "autoScalingGroupProcessesToSuspend", skip_serializing_if = "Option::is_none")]
    pub auto_scaling_group_processes_to_suspend: Option<Vec<String>>,
}

/// Information about an EC2 tag filter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EC2TagFilter {
    /// The tag filter key.
    ///
    /// Shape `Key`.
    #[serde(rename = "Key", skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The tag filter value.
    ///
    /// Shape `Value`.
    #[serde(rename = "Value", skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The tag filter type: `KEY_ONLY`: Key only.
    ///
    /// Shape `EC2TagFilterType`; one of [`EC2_TAG_FILTER_TYPE_VALUES`].
    #[serde(rename = "Type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
}

/// Information about groups of Amazon EC2 instance tags.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EC2TagSet {
    /// A list that contains other lists of Amazon EC2 instance tag groups.
    ///
    /// Shape `EC2TagSetList`.
    #[serde(rename = "ec2TagSetList", skip_serializing_if = "Option::is_none")]
    pub ec2_tag_set_list: Option<Vec<Vec<EC2TagFilter>>>,
}

/// Contains the service and cluster names used to identify an Amazon ECS deployment's target.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ECSService {
    /// The name of the target Amazon ECS service.
    ///
    /// Shape `ECSServiceName`.
    #[serde(rename = "serviceName", skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// The name of the cluster that the Amazon ECS service is associated with.
    ///
    /// Shape `ECSClusterName`.
    #[serde(rename = "clusterName", skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
}

/// The Amazon ECS service is associated with more than one deployment groups.
///
/// Error shape (`__type: "ECSServiceMappingLimitExceededException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ECSServiceMappingLimitExceededException {}

/// Information about the target of an Amazon ECS deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ECSTarget {
    /// The unique ID of a deployment.
    ///
    /// Shape `DeploymentId`.
    #[serde(rename = "deploymentId", skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// The unique ID of a deployment target that has a type of `ecsTarget`.
    ///
    /// Shape `TargetId`.
    #[serde(rename = "targetId", skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    /// The Amazon Resource Name (ARN) of the target.
    ///
    /// Shape `TargetArn`.
    #[serde(rename = "targetArn", skip_serializing_if = "Option::is_none")]
    pub target_arn: Option<String>,
    /// The date and time when the target Amazon ECS application was updated by a deployment.
    ///
    /// Shape `Time`; epoch seconds.
    #[serde(rename = "lastUpdatedAt", skip_serializing_if = "Option::is_none")]
    pub last_updated_at: Option<f64>,
    /// The lifecycle events of the deployment to this target Amazon ECS application.
    ///
    /// Shape `LifecycleEventList`.
    #[serde(rename = "lifecycleEvents", skip_serializing_if = "Option::is_none")]
    pub lifecycle_events: Option<Vec<LifecycleEvent>>,
    /// The status an Amazon ECS deployment's target ECS application.
    ///
    /// Shape `TargetStatus`; one of [`TARGET_STATUS_VALUES`].
    #[serde(rename = "status", skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The `ECSTaskSet` objects associated with the ECS target.
    ///
    /// Shape `ECSTaskSetList`.
    #[serde(rename = "taskSetsInfo", skip_serializing_if = "Option::is_none")]
    pub task_sets_info: Option<Vec<ECSTaskSet>>,
}

/// Information about a set of Amazon ECS tasks in an CodeDeploy deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ECSTaskSet {
    /// A unique ID of an `ECSTaskSet`.
    ///
    /// Shape `ECSTaskSetIdentifier`.
    #[serde(rename = "identifer", skip_serializing_if = "Option::is_none")]
    pub identifer: Option<String>,
    /// The number of tasks in a task set.
    ///
    /// Shape `ECSTaskSetCount`.
    #[serde(rename = "desiredCount", skip_serializing_if = "Option::is_none")]
    pub desired_count: Option<i64>,
    /// The number of tasks in the task set that are in the `PENDING` status during an Amazon ECS deployment.
    ///
    /// Shape `ECSTaskSetCount`.
    #[serde(rename = "pendingCount", skip_serializing_if = "Option::is_none")]
    pub pending_count: Option<i64>,
    /// The number of tasks in the task set that are in the `RUNNING` status during an Amazon ECS deployment.
    ///
    /// Shape `ECSTaskSetCount`.
    #[serde(rename = "runningCount", skip_serializing_if = "Option::is_none")]
    pub running_count: Option<i64>,
    /// The status of the task set.
    ///
    /// Shape `ECSTaskSetStatus`.
    #[serde(rename = "status", skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The percentage of traffic served by this task set.
    ///
    /// Shape `TrafficWeight`.
    #[serde(rename = "trafficWeight", skip_serializing_if = "Option::is_none")]
    pub traffic_weight: Option<f64>,
    /// The target group associated with the task set.
    ///
    /// Shape `TargetGroupInfo`.
    #[serde(rename = "targetGroup", skip_serializing_if = "Option::is_none")]
    pub target_group: Option<TargetGroupInfo>,
    /// A label that identifies whether the ECS task set is an original target (`BLUE`) or a replacement target
    /// (`GREEN`).
    ///
    /// Shape `TargetLabel`; one of [`TARGET_LABEL_VALUES`].
    #[serde(rename = "taskSetLabel", skip_serializing_if = "Option::is_none")]
    pub task_set_label: Option<String>,
}

/// Information about a Classic Load Balancer in Elastic Load Balancing to use in a deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ELBInfo {
    /// For blue/green deployments, the name of the Classic Load Balancer that is used to route traffic from
    /// original instances to replacement instances in a blue/green deployment.
    ///
    /// Shape `ELBName`.
    #[serde(rename = "name", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Information about a deployment error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ErrorInformation {
    /// For more information, see Error Codes for CodeDeploy in the CodeDeploy User Guide .
    ///
    /// Shape `ErrorCode`; one of [`ERROR_CODE_VALUES`].
    #[serde(rename = "code", skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// An accompanying error message.
    ///
    /// Shape `ErrorMessage`.
    #[serde(rename = "message", skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Information about an application revision.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GenericRevisionInfo {
    /// A comment about the revision.
    ///
    /// Shape `Description`.
    #[serde(rename = "description", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The deployment groups for which this is the current target revision.
    ///
    /// Shape `DeploymentGroupsList`.
    #[serde(rename = "deploymentGroups", skip_serializing_if = "Option::is_none")]
    pub deployment_groups: Option<Vec<String>>,
    /// When the revision was first used by CodeDeploy.
    ///
    /// Shape `Timestamp`; epoch seconds.
    #[serde(rename = "firstUsedTime", skip_serializing_if = "Option::is_none")]
    pub first_used_time: Option<f64>,
    /// When the revision was last used by CodeDeploy.
    ///
    /// Shape `Timestamp`; epoch seconds.
    #[serde(rename = "lastUsedTime", skip_serializing_if = "Option::is_none")]
    pub last_used_time: Option<f64>,
    /// When the revision was registered with CodeDeploy.
    ///
    /// Shape `Timestamp`; epoch seconds.
    #[serde(rename = "registerTime", skip_serializing_if = "Option::is_none")]
    pub register_time: Option<f64>,
}

/// Represents the input of a `GetApplication` operation.
///
/// Input of [`Operation::GetApplication`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetApplicationInput {
    /// The name of an CodeDeploy application associated with the user or Amazon Web Services account.
    ///
    /// Shape `ApplicationName`; required; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "applicationName", skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
}

/// Represents the output of a `GetApplication` operation.
///
/// Output of [`Operation::GetApplication`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetApplicationOutput {
    /// Information about the application.
    ///
    /// Shape `ApplicationInfo`.
    #[serde(rename = "application", skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationInfo>,
}

/// Represents the input of a `GetApplicationRevision` operation.
///
/// Input of [`Operation::GetApplicationRevision`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetApplicationRevisionInput {
    /// The name of the application that corresponds to the revision.
    ///
    /// Shape `ApplicationName`; required; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "applicationName", skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    /// Information about the application revision to get, including type and location.
    ///
    /// Shape `RevisionLocation`; required.
    #[serde(rename = "revision", skip_serializing_if = "Option::is_none")]
    pub revision: Option<RevisionLocation>,
}

/// Represents the output of a `GetApplicationRevision` operation.
///
/// Output of [`Operation::GetApplicationRevision`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetApplicationRevisionOutput {
    /// The name of the application that corresponds to the revision.
    ///
    /// Shape `ApplicationName`; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "applicationName", skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    /// Additional information about the revision, including type and location.
    ///
    /// Shape `RevisionLocation`.
    #[serde(rename = "revision", skip_serializing_if = "Option::is_none")]
    pub revision: Option<RevisionLocation>,
    /// General information about the revision.
    ///
    /// Shape `GenericRevisionInfo`.
    #[serde(rename = "revisionInfo", skip_serializing_if = "Option::is_none")]
    pub revision_info: Option<GenericRevisionInfo>,
}

/// Represents the input of a `GetDeploymentConfig` operation.
///
/// Input of [`Operation::GetDeploymentConfig`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetDeploymentConfigInput {
    /// The name of a deployment configuration associated with the user or Amazon Web Services account.
    ///
    /// Shape `DeploymentConfigName`; required; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "deploymentConfigName", skip_serializing_if = "Option::is_none")]
    pub deployment_config_name: Option<String>,
}

/// Represents the output of a `GetDeploymentConfig` operation.
///
/// Output of [`Operation::GetDeploymentConfig`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetDeploymentConfigOutput {
    /// Information about the deployment configuration.
    ///
    /// Shape `DeploymentConfigInfo`.
    #[serde(rename = "deploymentConfigInfo", skip_serializing_if = "Option::is_none")]
    pub deployment_config_info: Option<DeploymentConfigInfo>,
}

/// Represents the input of a `GetDeploymentGroup` operation.
///
/// Input of [`Operation::GetDeploymentGroup`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetDeploymentGroupInput {
    /// The name of an CodeDeploy application associated with the user or Amazon Web Services account.
    ///
    /// Shape `ApplicationName`; required; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "applicationName", skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    /// The name of a deployment group for the specified application.
    ///
    /// Shape `DeploymentGroupName`; required; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "deploymentGroupName", skip_serializing_if = "Option::is_none")]
    pub deployment_group_name: Option<String>,
}

/// Represents the output of a `GetDeploymentGroup` operation.
///
/// Output of [`Operation::GetDeploymentGroup`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetDeploymentGroupOutput {
    /// Information about the deployment group.
    ///
    /// Shape `DeploymentGroupInfo`.
    #[serde(rename = "deploymentGroupInfo", skip_serializing_if = "Option::is_none")]
    pub deployment_group_info: Option<DeploymentGroupInfo>,
}

/// Represents the input of a `GetDeployment` operation.
///
/// Input of [`Operation::GetDeployment`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetDeploymentInput {
    /// The unique ID of a deployment associated with the user or Amazon Web Services account.
    ///
    /// Shape `DeploymentId`; required.
    #[serde(rename = "deploymentId", skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
}

/// Represents the input of a `GetDeploymentInstance` operation.
///
/// Input of [`Operation::GetDeploymentInstance`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetDeploymentInstanceInput {
    /// The unique ID of a deployment.
    ///
    /// Shape `DeploymentId`; required.
    #[serde(rename = "deploymentId", skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// The unique ID of an instance in the deployment group.
    ///
    /// Shape `InstanceId`; required.
    #[serde(rename = "instanceId", skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
}

/// Represents the output of a `GetDeploymentInstance` operation.
///
/// Output of [`Operation::GetDeploymentInstance`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetDeploymentInstanceOutput {
    /// Information about the instance.
    ///
    /// Shape `InstanceSummary`; deprecated (InstanceSummary is deprecated, use DeploymentTarget instead).
    #[serde(rename = "instanceSummary", skip_serializing_if = "Option::is_none")]
    pub instance_summary: Option<InstanceSummary>,
}

/// Represents the output of a `GetDeployment` operation.
///
/// Output of [`Operation::GetDeployment`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetDeploymentOutput {
    /// Information about the deployment.
    ///
    /// Shape `DeploymentInfo`.
    #[serde(rename = "deploymentInfo", skip_serializing_if = "Option::is_none")]
    pub deployment_info: Option<DeploymentInfo>,
}

/// Input of [`Operation::GetDeploymentTarget`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetDeploymentTargetInput {
    /// The unique ID of a deployment.
    ///
    /// Shape `DeploymentId`; required.
    #[serde(rename = "deploymentId", skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// The unique ID of a deployment target.
    ///
    /// Shape `TargetId`; required.
    #[serde(rename = "targetId", skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
}

/// Output of [`Operation::GetDeploymentTarget`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetDeploymentTargetOutput {
    /// A deployment target that contains information about a deployment such as its status, lifecycle events, and
    /// when it was last updated.
    ///
    /// Shape `DeploymentTarget`.
    #[serde(rename = "deploymentTarget", skip_serializing_if = "Option::is_none")]
    pub deployment_target: Option<DeploymentTarget>,
}

/// Represents the input of a `GetOnPremisesInstance` operation.
///
/// Input of [`Operation::GetOnPremisesInstance`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetOnPremisesInstanceInput {
    /// The name of the on-premises instance about which to get information.
    ///
    /// Shape `InstanceName`; required.
    #[serde(rename = "instanceName", skip_serializing_if = "Option::is_none")]
    pub instance_name: Option<String>,
}

/// Represents the output of a `GetOnPremisesInstance` operation.
///
/// Output of [`Operation::GetOnPremisesInstance`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetOnPremisesInstanceOutput {
    /// Information about the on-premises instance.
    ///
    /// Shape `InstanceInfo`.
    #[serde(rename = "instanceInfo", skip_serializing_if = "Option::is_none")]
    pub instance_info: Option<InstanceInfo>,
}

/// No GitHub account connection exists with the named specified in the call.
///
/// Error shape (`__type: "GitHubAccountTokenDoesNotExistException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GitHubAccountTokenDoesNotExistException {}

/// The call is missing a required GitHub account connection name.
///
/// Error shape (`__type: "GitHubAccountTokenNameRequiredException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GitHubAccountTokenNameRequiredException {}

/// Information about the location of application artifacts stored in GitHub.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GitHubLocation {
    /// The GitHub account and repository pair that stores a reference to the commit that represents the bundled
    /// artifacts for the application revision.
    ///
    /// Shape `Repository`.
    #[serde(rename = "repository", skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The SHA1 commit ID of the GitHub commit that represents the bundled artifacts for the application revision.
    ///
    /// Shape `CommitId`.
    #[serde(rename = "commitId", skip_serializing_if = "Option::is_none")]
    pub commit_id: Option<String>,
}

/// Information about the instances that belong to the replacement environment in a blue/green deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GreenFleetProvisioningOption {
    /// The method used to add instances to a replacement environment.
    ///
    /// Shape `GreenFleetProvisioningAction`; one of [`GREEN_FLEET_PROVISIONING_ACTION_VALUES`].
    #[serde(rename = "action", skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

/// No IAM ARN was included in the request.
///
/// Error shape (`__type: "IamArnRequiredException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IamArnRequiredException {}

/// The request included an IAM session ARN that has already been used to register a different instance.
///
/// Error shape (`__type: "IamSessionArnAlreadyRegisteredException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IamSessionArnAlreadyRegisteredException {}

/// The specified user ARN is already registered with an on-premises instance.
///
/// Error shape (`__type: "IamUserArnAlreadyRegisteredException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IamUserArnAlreadyRegisteredException {}

/// An user ARN was not specified.
///
/// Error shape (`__type: "IamUserArnRequiredException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IamUserArnRequiredException {}

/// The specified instance does not exist in the deployment group.
///
/// Error shape (`__type: "InstanceDoesNotExistException"`). Deprecated: This exception is deprecated, use
/// DeploymentTargetDoesNotExistException instead.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceDoesNotExistException {}

/// The instance ID was not specified.
///
/// Error shape (`__type: "InstanceIdRequiredException"`). Deprecated: This exception is deprecated, use
/// DeploymentTargetIdRequiredException instead.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceIdRequiredException {}

/// Information about an on-premises instance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceInfo {
    /// The name of the on-premises instance.
    ///
    /// Shape `InstanceName`.
    #[serde(rename = "instanceName", skip_serializing_if = "Option::is_none")]
    pub instance_name: Option<String>,
    /// The ARN of the IAM session associated with the on-premises instance.
    ///
    /// Shape `IamSessionArn`.
    #[serde(rename = "iamSessionArn", skip_serializing_if = "Option::is_none")]
    pub iam_session_arn: Option<String>,
    /// The user ARN associated with the on-premises instance.
    ///
    /// Shape `IamUserArn`.
    #[serde(rename = "iamUserArn", skip_serializing_if = "Option::is_none")]
    pub iam_user_arn: Option<String>,
    /// The ARN of the on-premises instance.
    ///
    /// Shape `InstanceArn`.
    #[serde(rename = "instanceArn", skip_serializing_if = "Option::is_none")]
    pub instance_arn: Option<String>,
    /// The time at which the on-premises instance was registered.
    ///
    /// Shape `Timestamp`; epoch seconds.
    #[serde(rename = "registerTime", skip_serializing_if = "Option::is_none")]
    pub register_time: Option<f64>,
    /// If the on-premises instance was deregistered, the time at which the on-premises instance was deregistered.
    ///
    /// Shape `Timestamp`; epoch seconds.
    #[serde(rename = "deregisterTime", skip_serializing_if = "Option::is_none")]
    pub deregister_time: Option<f64>,
    /// The tags currently associated with the on-premises instance.
    ///
    /// Shape `TagList`.
    #[serde(rename = "tags", skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
}

/// The maximum number of allowed on-premises instances in a single call was exceeded.
///
/// Error shape (`__type: "InstanceLimitExceededException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceLimitExceededException {}

/// The specified on-premises instance name is already registered.
///
/// Error shape (`__type: "InstanceNameAlreadyRegisteredException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceNameAlreadyRegisteredException {}

/// An on-premises instance name was not specified.
///
/// Error shape (`__type: "InstanceNameRequiredException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceNameRequiredException {}

/// The specified on-premises instance is not registered.
///
/// Error shape (`__type: "InstanceNotRegisteredException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceNotRegisteredException {}

/// Information about an instance in a deployment.
///
/// Deprecated: InstanceSummary is deprecated, use DeploymentTarget instead.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceSummary {
    /// The unique ID of a deployment.
    ///
    /// Shape `DeploymentId`.
    #[serde(rename = "deploymentId", skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// The instance ID.
    ///
    /// Shape `InstanceId`.
    #[serde(rename = "instanceId", skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// The deployment status for this instance: `Pending`: The deployment is pending for this instance.
    ///
    /// Shape `InstanceStatus`; one of [`INSTANCE_STATUS_VALUES`]; deprecated (InstanceStatus is deprecated, use
    /// TargetStatus instead).
    #[serde(rename = "status", skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// A timestamp that indicates when the instance information was last updated.
    ///
    /// Shape `Timestamp`; epoch seconds.
    #[serde(rename = "lastUpdatedAt", skip_serializing_if = "Option::is_none")]
    pub last_updated_at: Option<f64>,
    /// A list of lifecycle events for this instance.
    ///
    /// Shape `LifecycleEventList`.
    #[serde(rename = "lifecycleEvents", skip_serializing_if = "Option::is_none")]
    pub lifecycle_events: Option<Vec<LifecycleEvent>>,
    /// Information about which environment an instance belongs to in a blue/green deployment.
    ///
    /// Shape `InstanceType`; one of [`INSTANCE_TYPE_VALUES`].
    #[serde(rename = "instanceType", skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
}

/// A target Amazon EC2 or on-premises instance during a deployment that uses the EC2/On-premises compute platform.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceTarget {
    /// The unique ID of a deployment.
    ///
    /// Shape `DeploymentId`.
    #[serde(rename = "deploymentId", skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// The unique ID of a deployment target that has a type of `instanceTarget`.
    ///
    /// Shape `TargetId`.
    #[serde(rename = "targetId", skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    /// The Amazon Resource Name (ARN) of the target.
    ///
    /// Shape `TargetArn`.
    #[serde(rename = "targetArn", skip_serializing_if = "Option::is_none")]
    pub target_arn: Option<String>,
    /// The status an EC2/On-premises deployment's target instance.
    ///
    /// Shape `TargetStatus`; one of [`TARGET_STATUS_VALUES`].
    #[serde(rename = "status", skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The date and time when the target instance was updated by a deployment.
    ///
    /// Shape `Time`; epoch seconds.
    #[serde(rename = "lastUpdatedAt", skip_serializing_if = "Option::is_none")]
    pub last_updated_at: Option<f64>,
    /// The lifecycle events of the deployment to this target instance.
    ///
    /// Shape `LifecycleEventList`.
    #[serde(rename = "lifecycleEvents", skip_serializing_if = "Option::is_none")]
    pub lifecycle_events: Option<Vec<LifecycleEvent>>,
    /// A label that identifies whether the instance is an original target (`BLUE`) or a replacement target
    /// (`GREEN`).
    ///
    /// Shape `TargetLabel`; one of [`TARGET_LABEL_VALUES`].
    #[serde(rename = "instanceLabel", skip_serializing_if = "Option::is_none")]
    pub instance_label: Option<String>,
}

/// The format of the alarm configuration is invalid.
///
/// Error shape (`__type: "InvalidAlarmConfigException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidAlarmConfigException {}

/// The application name was specified in an invalid format.
///
/// Error shape (`__type: "InvalidApplicationNameException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidApplicationNameException {}

/// The specified ARN is not in a valid format.
///
/// Error shape (`__type: "InvalidArnException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidArnException {}

/// The automatic rollback configuration was specified in an invalid format.
///
/// Error shape (`__type: "InvalidAutoRollbackConfigException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidAutoRollbackConfigException {}

/// The Auto Scaling group was specified in an invalid format or does not exist.
///
/// Error shape (`__type: "InvalidAutoScalingGroupException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidAutoScalingGroupException {}

/// The `autoScalingGroupProcessesToSuspend` list in `ec2DeploymentOptions` contains a process that is not valid.
///
/// Error shape (`__type: "InvalidAutoScalingGroupProcessToSuspendException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidAutoScalingGroupProcessToSuspendException {}

/// The configuration for the blue/green deployment group was provided in an invalid format.
///
/// Error shape (`__type: "InvalidBlueGreenDeploymentConfigurationException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidBlueGreenDeploymentConfigurationException {}

/// The bucket name either doesn't exist or was specified in an invalid format.
///
/// Error shape (`__type: "InvalidBucketNameFilterException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidBucketNameFilterException {}

/// The computePlatform is invalid.
///
/// Error shape (`__type: "InvalidComputePlatformException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidComputePlatformException {}

/// The deployed state filter was specified in an invalid format.
///
/// Error shape (`__type: "InvalidDeployedStateFilterException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidDeployedStateFilterException {}

/// The deployment configuration name was specified in an invalid format.
///
/// Error shape (`__type: "InvalidDeploymentConfigNameException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidDeploymentConfigNameException {}

/// The deployment group name was specified in an invalid format.
///
/// Error shape (`__type: "InvalidDeploymentGroupNameException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidDeploymentGroupNameException {}

/// At least one of the deployment IDs was specified in an invalid format.
///
/// Error shape (`__type: "InvalidDeploymentIdException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidDeploymentIdException {}

/// An instance type was specified for an in-place deployment.
///
/// Error shape (`__type: "InvalidDeploymentInstanceTypeException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidDeploymentInstanceTypeException {}

/// The specified deployment status doesn't exist or cannot be determined.
///
/// Error shape (`__type: "InvalidDeploymentStatusException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidDeploymentStatusException {}

/// An invalid deployment style was specified.
///
/// Error shape (`__type: "InvalidDeploymentStyleException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidDeploymentStyleException {}

/// The target ID provided was not valid.
///
/// Error shape (`__type: "InvalidDeploymentTargetIdException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidDeploymentTargetIdException {}

/// The wait type is invalid.
///
/// Error shape (`__type: "InvalidDeploymentWaitTypeException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidDeploymentWaitTypeException {}

/// A call was submitted that specified both Ec2TagFilters and Ec2TagSet, but only one of these data types can be
/// used in a single call.
///
/// Error shape (`__type: "InvalidEC2TagCombinationException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidEC2TagCombinationException {}

/// The tag was specified in an invalid format.
///
/// Error shape (`__type: "InvalidEC2TagException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidEC2TagException {}

/// The Amazon ECS service identifier is not valid.
///
/// Error shape (`__type: "InvalidECSServiceException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidECSServiceException {}

/// The external ID was specified in an invalid format.
///
/// Error shape (`__type: "InvalidExternalIdException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidExternalIdException {}

/// An invalid fileExistsBehavior option was specified to determine how CodeDeploy handles files or directories that
/// already exist in a deployment target location, but weren't part of the previous successful deployment.
///
/// Error shape (`__type: "InvalidFileExistsBehaviorException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidFileExistsBehaviorException {}

/// The GitHub token is not valid.
///
/// Error shape (`__type: "InvalidGitHubAccountTokenException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidGitHubAccountTokenException {}

/// The format of the specified GitHub account connection name is invalid.
///
/// Error shape (`__type: "InvalidGitHubAccountTokenNameException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidGitHubAccountTokenNameException {}

/// The IAM session ARN was specified in an invalid format.
///
/// Error shape (`__type: "InvalidIamSessionArnException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidIamSessionArnException {}

/// The user ARN was specified in an invalid format.
///
/// Error shape (`__type: "InvalidIamUserArnException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidIamUserArnException {}

/// The IgnoreApplicationStopFailures value is invalid.
///
/// Error shape (`__type: "InvalidIgnoreApplicationStopFailuresValueException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidIgnoreApplicationStopFailuresValueException {}

/// The input was specified in an invalid format.
///
/// Error shape (`__type: "InvalidInputException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidInputException {}

/// Error shape (`__type: "InvalidInstanceIdException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidInstanceIdException {}

/// The on-premises instance name was specified in an invalid format.
///
/// Error shape (`__type: "InvalidInstanceNameException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidInstanceNameException {}

/// The specified instance status does not exist.
///
/// Error shape (`__type: "InvalidInstanceStatusException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidInstanceStatusException {}

/// An invalid instance type was specified for instances in a blue/green deployment.
///
/// Error shape (`__type: "InvalidInstanceTypeException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidInstanceTypeException {}

/// The specified key prefix filter was specified in an invalid format.
///
/// Error shape (`__type: "InvalidKeyPrefixFilterException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidKeyPrefixFilterException {}

/// A lifecycle event hook is invalid.
///
/// Error shape (`__type: "InvalidLifecycleEventHookExecutionIdException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidLifecycleEventHookExecutionIdException {}

/// The result of a Lambda validation function that verifies a lifecycle event is invalid.
///
/// Error shape (`__type: "InvalidLifecycleEventHookExecutionStatusException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidLifecycleEventHookExecutionStatusException {}

/// An invalid load balancer name, or no load balancer name, was specified.
///
/// Error shape (`__type: "InvalidLoadBalancerInfoException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidLoadBalancerInfoException {}

/// The minimum healthy instance value was specified in an invalid format.
///
/// Error shape (`__type: "InvalidMinimumHealthyHostValueException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidMinimumHealthyHostValueException {}

/// The next token was specified in an invalid format.
///
/// Error shape (`__type: "InvalidNextTokenException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidNextTokenException {}

/// A call was submitted that specified both OnPremisesTagFilters and OnPremisesTagSet, but only one of these data
/// types can be used in a single call.
///
/// Error shape (`__type: "InvalidOnPremisesTagCombinationException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidOnPremisesTagCombinationException {}

/// An invalid operation was detected.
///
/// Error shape (`__type: "InvalidOperationException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidOperationException {}

/// The registration status was specified in an invalid format.
///
/// Error shape (`__type: "InvalidRegistrationStatusException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidRegistrationStatusException {}

/// The revision was specified in an invalid format.
///
/// Error shape (`__type: "InvalidRevisionException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidRevisionException {}

/// The service role ARN was specified in an invalid format.
///
/// Error shape (`__type: "InvalidRoleException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidRoleException {}

/// The column name to sort by is either not present or was specified in an invalid format.
///
/// Error shape (`__type: "InvalidSortByException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidSortByException {}

/// The sort order was specified in an invalid format.
///
/// Error shape (`__type: "InvalidSortOrderException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidSortOrderException {}

/// The tag was specified in an invalid format.
///
/// Error shape (`__type: "InvalidTagException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidTagException {}

/// The tag filter was specified in an invalid format.
///
/// Error shape (`__type: "InvalidTagFilterException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidTagFilterException {}

/// The specified tags are not valid.
///
/// Error shape (`__type: "InvalidTagsToAddException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidTagsToAddException {}

/// A target is not valid.
///
/// Error shape (`__type: "InvalidTargetException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidTargetException {}

/// The target filter name is invalid.
///
/// Error shape (`__type: "InvalidTargetFilterNameException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidTargetFilterNameException {}

/// A target group pair associated with this deployment is not valid.
///
/// Error shape (`__type: "InvalidTargetGroupPairException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidTargetGroupPairException {}

/// The target instance configuration is invalid.
///
/// Error shape (`__type: "InvalidTargetInstancesException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidTargetInstancesException {}

/// The specified time range was specified in an invalid format.
///
/// Error shape (`__type: "InvalidTimeRangeException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidTimeRangeException {}

/// The configuration that specifies how traffic is routed during a deployment is invalid.
///
/// Error shape (`__type: "InvalidTrafficRoutingConfigurationException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidTrafficRoutingConfigurationException {}

/// The trigger was specified in an invalid format.
///
/// Error shape (`__type: "InvalidTriggerConfigException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidTriggerConfigException {}

/// The UpdateOutdatedInstancesOnly value is invalid.
///
/// Error shape (`__type: "InvalidUpdateOutdatedInstancesOnlyValueException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidUpdateOutdatedInstancesOnlyValueException {}

/// The `ZonalConfig` object is not valid.
///
/// Error shape (`__type: "InvalidZonalDeploymentConfigurationException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvalidZonalDeploymentConfigurationException {}

/// Information about a Lambda function specified in a deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LambdaFunctionInfo {
    /// The name of a Lambda function.
    ///
    /// Shape `LambdaFunctionName`.
    #[serde(rename = "functionName", skip_serializing_if = "Option::is_none")]
    pub function_name: Option<String>,
    /// The alias of a Lambda function.
    ///
    /// Shape `LambdaFunctionAlias`.
    #[serde(rename = "functionAlias", skip_serializing_if = "Option::is_none")]
    pub function_alias: Option<String>,
    /// The version of a Lambda function that production traffic points to.
    ///
    /// Shape `Version`.
    #[serde(rename = "currentVersion", skip_serializing_if = "Option::is_none")]
    pub current_version: Option<String>,
    /// The version of a Lambda function that production traffic points to after the Lambda function is deployed.
    ///
    /// Shape `Version`.
    #[serde(rename = "targetVersion", skip_serializing_if = "Option::is_none")]
    pub target_version: Option<String>,
    /// The percentage of production traffic that the target version of a Lambda function receives.
    ///
    /// Shape `TrafficWeight`.
    #[serde(rename = "targetVersionWeight", skip_serializing_if = "Option::is_none")]
    pub target_version_weight: Option<f64>,
}

/// Information about the target Lambda function during an Lambda deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LambdaTarget {
    /// The unique ID of a deployment.
    ///
    /// Shape `DeploymentId`.
    #[serde(rename = "deploymentId", skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// The unique ID of a deployment target that has a type of `lambdaTarget`.
    ///
    /// Shape `TargetId`.
    #[serde(rename = "targetId", skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    /// The Amazon Resource Name (ARN) of the target.
    ///
    /// Shape `TargetArn`.
    #[serde(rename = "targetArn", skip_serializing_if = "Option::is_none")]
    pub target_arn: Option<String>,
    /// The status an Lambda deployment's target Lambda function.
    ///
    /// Shape `TargetStatus`; one of [`TARGET_STATUS_VALUES`].
    #[serde(rename = "status", skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The date and time when the target Lambda function was updated by a deployment.
    ///
    /// Shape `Time`; epoch seconds.
    #[serde(rename = "lastUpdatedAt", skip_serializing_if = "Option::is_none")]
    pub last_updated_at: Option<f64>,
    /// The lifecycle events of the deployment to this target Lambda function.
    ///
    /// Shape `LifecycleEventList`.
    #[serde(rename = "lifecycleEvents", skip_serializing_if = "Option::is_none")]
    pub lifecycle_events: Option<Vec<LifecycleEvent>>,
    /// A `LambdaFunctionInfo` object that describes a target Lambda function.
    ///
    /// Shape `LambdaFunctionInfo`.
    #[serde(rename = "lambdaFunctionInfo", skip_serializing_if = "Option::is_none")]
    pub lambda_function_info: Option<LambdaFunctionInfo>,
}

/// Information about the most recent attempted or successful deployment to a deployment group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LastDeploymentInfo {
    /// The unique ID of a deployment.
    ///
    /// Shape `DeploymentId`.
    #[serde(rename = "deploymentId", skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// The status of the most recent deployment.
    ///
    /// Shape `DeploymentStatus`; one of [`DEPLOYMENT_STATUS_VALUES`].
    #[serde(rename = "status", skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// A timestamp that indicates when the most recent deployment to the deployment group was complete.
    ///
    /// Shape `Timestamp`; epoch seconds.
    #[serde(rename = "endTime", skip_serializing_if = "Option::is_none")]
    pub end_time: Option<f64>,
    /// A timestamp that indicates when the most recent deployment to the deployment group started.
    ///
    /// Shape `Timestamp`; epoch seconds.
    #[serde(rename = "createTime", skip_serializing_if = "Option::is_none")]
    pub create_time: Option<f64>,
}

/// Information about a deployment lifecycle event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LifecycleEvent {
    /// The deployment lifecycle event name, such as `ApplicationStop`, `BeforeInstall`, `AfterInstall`,
    /// `ApplicationStart`, or `ValidateService`.
    ///
    /// Shape `LifecycleEventName`.
    #[serde(rename = "lifecycleEventName", skip_serializing_if = "Option::is_none")]
    pub lifecycle_event_name: Option<String>,
    /// Diagnostic information about the deployment lifecycle event.
    ///
    /// Shape `Diagnostics`.
    #[serde(rename = "diagnostics", skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<Diagnostics>,
    /// A timestamp that indicates when the deployment lifecycle event started.
    ///
    /// Shape `Timestamp`; epoch seconds.
    #[serde(rename = "startTime", skip_serializing_if = "Option::is_none")]
    pub start_time: Option<f64>,
    /// A timestamp that indicates when the deployment lifecycle event ended.
    ///
    /// Shape `Timestamp`; epoch seconds.
    #[serde(rename = "endTime", skip_serializing_if = "Option::is_none")]
    pub end_time: Option<f64>,
    /// The deployment lifecycle event status: Pending: The deployment lifecycle event is pending.
    ///
    /// Shape `LifecycleEventStatus`; one of [`LIFECYCLE_EVENT_STATUS_VALUES`].
    #[serde(rename = "status", skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// An attempt to return the status of an already completed lifecycle event occurred.
///
/// Error shape (`__type: "LifecycleEventAlreadyCompletedException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LifecycleEventAlreadyCompletedException {}

/// The limit for lifecycle hooks was exceeded.
///
/// Error shape (`__type: "LifecycleHookLimitExceededException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LifecycleHookLimitExceededException {}

/// Represents the input of a `ListApplicationRevisions` operation.
///
/// Input of [`Operation::ListApplicationRevisions`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListApplicationRevisionsInput {
    /// The name of an CodeDeploy application associated with the user or Amazon Web Services account.
    ///
    /// Shape `ApplicationName`; required; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "applicationName", skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    /// The column name to use to sort the list results: `registerTime`: Sort by the time the revisions were
    /// registered with CodeDeploy.
    ///
    /// Shape `ApplicationRevisionSortBy`; one of [`APPLICATION_REVISION_SORT_BY_VALUES`].
    #[serde(rename = "sortBy", skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<String>,
    /// The order in which to sort the list results: `ascending`: ascending order.
    ///
    /// Shape `SortOrder`; one of [`SORT_ORDER_VALUES`].
    #[serde(rename = "sortOrder", skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<String>,
    /// An Amazon S3 bucket name to limit the search for revisions.
    ///
    /// Shape `S3Bucket`.
    #[serde(rename = "s3Bucket", skip_serializing_if = "Option::is_none")]
    pub s3_bucket: Option<String>,
    /// A key prefix for the set of Amazon S3 objects to limit the search for revisions.
    ///
    /// Shape `S3Key`.
    #[serde(rename = "s3KeyPrefix", skip_serializing_if = "Option::is_none")]
    pub s3_key_prefix: Option<String>,
    /// Whether to list revisions based on whether the revision is the target revision of a deployment group:
    /// `include`: List revisions that are target revisions of a deployment group.
    ///
    /// Shape `ListStateFilterAction`; one of [`LIST_STATE_FILTER_ACTION_VALUES`].
    #[serde(rename = "deployed", skip_serializing_if = "Option::is_none")]
    pub deployed: Option<String>,
    /// An identifier returned from the previous `ListApplicationRevisions` call.
    ///
    /// Shape `NextToken`.
    #[serde(rename = "nextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Represents the output of a `ListApplicationRevisions` operation.
///
/// Output of [`Operation::ListApplicationRevisions`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListApplicationRevisionsOutput {
    /// A list of locations that contain the matching revisions.
    ///
    /// Shape `RevisionLocationList`.
    #[serde(rename = "revisions", skip_serializing_if = "Option::is_none")]
    pub revisions: Option<Vec<RevisionLocation>>,
    /// If a large amount of information is returned, an identifier is also returned.
    ///
    /// Shape `NextToken`.
    #[serde(rename = "nextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Represents the input of a `ListApplications` operation.
///
/// Input of [`Operation::ListApplications`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListApplicationsInput {
    /// An identifier returned from the previous list applications call.
    ///
    /// Shape `NextToken`.
    #[serde(rename = "nextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Represents the output of a ListApplications operation.
///
/// Output of [`Operation::ListApplications`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListApplicationsOutput {
    /// A list of application names.
    ///
    /// Shape `ApplicationsList`.
    #[serde(rename = "applications", skip_serializing_if = "Option::is_none")]
    pub applications: Option<Vec<String>>,
    /// If a large amount of information is returned, an identifier is also returned.
    ///
    /// Shape `NextToken`.
    #[serde(rename = "nextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Represents the input of a `ListDeploymentConfigs` operation.
///
/// Input of [`Operation::ListDeploymentConfigs`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListDeploymentConfigsInput {
    /// An identifier returned from the previous `ListDeploymentConfigs` call.
    ///
    /// Shape `NextToken`.
    #[serde(rename = "nextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Represents the output of a `ListDeploymentConfigs` operation.
///
/// Output of [`Operation::ListDeploymentConfigs`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListDeploymentConfigsOutput {
    /// A list of deployment configurations, including built-in configurations such as
    /// `CodeDeployDefault.OneAtATime`.
    ///
    /// Shape `DeploymentConfigsList`.
    #[serde(rename = "deploymentConfigsList", skip_serializing_if = "Option::is_none")]
    pub deployment_configs_list: Option<Vec<String>>,
    /// If a large amount of information is returned, an identifier is also returned.
    ///
    /// Shape `NextToken`.
    #[serde(rename = "nextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Represents the input of a `ListDeploymentGroups` operation.
///
/// Input of [`Operation::ListDeploymentGroups`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListDeploymentGroupsInput {
    /// The name of an CodeDeploy application associated with the user or Amazon Web Services account.
    ///
    /// Shape `ApplicationName`; required; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "applicationName", skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    /// An identifier returned from the previous list deployment groups call.
    ///
    /// Shape `NextToken`.
    #[serde(rename = "nextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Represents the output of a `ListDeploymentGroups` operation.
///
/// Output of [`Operation::ListDeploymentGroups`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListDeploymentGroupsOutput {
    /// The application name.
    ///
    /// Shape `ApplicationName`; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "applicationName", skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    /// A list of deployment group names.
    ///
    /// Shape `DeploymentGroupsList`.
    #[serde(rename = "deploymentGroups", skip_serializing_if = "Option::is_none")]
    pub deployment_groups: Option<Vec<String>>,
    /// If a large amount of information is returned, an identifier is also returned.
    ///
    /// Shape `NextToken`.
    #[serde(rename = "nextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Represents the input of a `ListDeploymentInstances` operation.
///
/// Input of [`Operation::ListDeploymentInstances`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListDeploymentInstancesInput {
    /// The unique ID of a deployment.
    ///
    /// Shape `DeploymentId`; required.
    #[serde(rename = "deploymentId", skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// An identifier returned from the previous list deployment instances call.
    ///
    /// Shape `NextToken`.
    #[serde(rename = "nextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// A subset of instances to list by status: `Pending`: Include those instances with pending deployments.
    ///
    /// Shape `InstanceStatusList`; items in [`INSTANCE_STATUS_VALUES`]; deprecated.
    #[serde(rename = "instanceStatusFilter", skip_serializing_if = "Option::is_none")]
    pub instance_status_filter: Option<Vec<String>>,
    /// The set of instances in a blue/green deployment, either those in the original environment ("BLUE") or those
    /// in the replacement environment ("GREEN"), for which you want to view instance information.
    ///
    /// Shape `InstanceTypeList`; items in [`INSTANCE_TYPE_VALUES`].
    #[serde(rename = "instanceTypeFilter", skip_serializing_if = "Option::is_none")]
    pub instance_type_filter: Option<Vec<String>>,
}

/// Represents the output of a `ListDeploymentInstances` operation.
///
/// Output of [`Operation::ListDeploymentInstances`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListDeploymentInstancesOutput {
    /// A list of instance IDs.
    ///
    /// Shape `InstancesList`.
    #[serde(rename = "instancesList", skip_serializing_if = "Option::is_none")]
    pub instances_list: Option<Vec<String>>,
    /// If a large amount of information is returned, an identifier is also returned.
    ///
    /// Shape `NextToken`.
    #[serde(rename = "nextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Input of [`Operation::ListDeploymentTargets`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListDeploymentTargetsInput {
    /// The unique ID of a deployment.
    ///
    /// Shape `DeploymentId`; required.
    #[serde(rename = "deploymentId", skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// A token identifier returned from the previous `ListDeploymentTargets` call.
    ///
    /// Shape `NextToken`.
    #[serde(rename = "nextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// A key used to filter the returned targets.
    ///
    /// Shape `TargetFilters`.
    #[serde(rename = "targetFilters", skip_serializing_if = "Option::is_none")]
    pub target_filters: Option<BTreeMap<String, Vec<String>>>,
}

/// Output of [`Operation::ListDeploymentTargets`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListDeploymentTargetsOutput {
    /// The unique IDs of deployment targets.
    ///
    /// Shape `TargetIdList`.
    #[serde(rename = "targetIds", skip_serializing_if = "Option::is_none")]
    pub target_ids: Option<Vec<String>>,
    /// If a large amount of information is returned, a token identifier is also returned.
    ///
    /// Shape `NextToken`.
    #[serde(rename = "nextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Represents the input of a `ListDeployments` operation.
///
/// Input of [`Operation::ListDeployments`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListDeploymentsInput {
    /// The name of an CodeDeploy application associated with the user or Amazon Web Services account.
    ///
    /// Shape `ApplicationName`; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "applicationName", skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    /// The name of a deployment group for the specified application.
    ///
    /// Shape `DeploymentGroupName`; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "deploymentGroupName", skip_serializing_if = "Option::is_none")]
    pub deployment_group_name: Option<String>,
    /// The unique ID of an external resource for returning deployments linked to the external resource.
    ///
    /// Shape `ExternalId`.
    #[serde(rename = "externalId", skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// A subset of deployments to list by status: `Created`: Include created deployments in the resulting list.
    ///
    /// Shape `DeploymentStatusList`; items in [`DEPLOYMENT_STATUS_VALUES`].
    #[serde(rename = "includeOnlyStatuses", skip_serializing_if = "Option::is_none")]
    pub include_only_statuses: Option<Vec<String>>,
    /// A time range (start and end) for returning a subset of the list of deployments.
    ///
    /// Shape `TimeRange`.
    #[serde(rename = "createTimeRange", skip_serializing_if = "Option::is_none")]
    pub create_time_range: Option<TimeRange>,
    /// An identifier returned from the previous list deployments call.
    ///
    /// Shape `NextToken`.
    #[serde(rename = "nextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Represents the output of a `ListDeployments` operation.
///
/// Output of [`Operation::ListDeployments`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListDeploymentsOutput {
    /// A list of deployment IDs.
    ///
    /// Shape `DeploymentsList`.
    #[serde(rename = "deployments", skip_serializing_if = "Option::is_none")]
    pub deployments: Option<Vec<String>>,
    /// If a large amount of information is returned, an identifier is also returned.
    ///
    /// Shape `NextToken`.
    #[serde(rename = "nextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Represents the input of a `ListGitHubAccountTokenNames` operation.
///
/// Input of [`Operation::ListGitHubAccountTokenNames`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListGitHubAccountTokenNamesInput {
    /// An identifier returned from the previous `ListGitHubAccountTokenNames` call.
    ///
    /// Shape `NextToken`.
    #[serde(rename = "nextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Represents the output of a `ListGitHubAccountTokenNames` operation.
///
/// Output of [`Operation::ListGitHubAccountTokenNames`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListGitHubAccountTokenNamesOutput {
    /// A list of names of connections to GitHub accounts.
    ///
    /// Shape `GitHubAccountTokenNameList`.
    #[serde(rename = "tokenNameList", skip_serializing_if = "Option::is_none")]
    pub token_name_list: Option<Vec<String>>,
    /// If a large amount of information is returned, an identifier is also returned.
    ///
    /// Shape `NextToken`.
    #[serde(rename = "nextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Represents the input of a `ListOnPremisesInstances` operation.
///
/// Input of [`Operation::ListOnPremisesInstances`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListOnPremisesInstancesInput {
    /// The registration status of the on-premises instances: `Deregistered`: Include deregistered on-premises
    /// instances in the resulting list.
    ///
    /// Shape `RegistrationStatus`; one of [`REGISTRATION_STATUS_VALUES`].
    #[serde(rename = "registrationStatus", skip_serializing_if = "Option::is_none")]
    pub registration_status: Option<String>,
    /// The on-premises instance tags that are used to restrict the on-premises instance names returned.
    ///
    /// Shape `TagFilterList`.
    #[serde(rename = "tagFilters", skip_serializing_if = "Option::is_none")]
    pub tag_filters: Option<Vec<TagFilter>>,
    /// An identifier returned from the previous list on-premises instances call.
    ///
    /// Shape `NextToken`.
    #[serde(rename = "nextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Represents the output of the list on-premises instances operation.
///
/// Output of [`Operation::ListOnPremisesInstances`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListOnPremisesInstancesOutput {
    /// The list of matching on-premises instance names.
    ///
    /// Shape `InstanceNameList`.
    #[serde(rename = "instanceNames", skip_serializing_if = "Option::is_none")]
    pub instance_names: Option<Vec<String>>,
    /// If a large amount of information is returned, an identifier is also returned.
    ///
    /// Shape `NextToken`.
    #[serde(rename = "nextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Input of [`Operation::ListTagsForResource`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListTagsForResourceInput {
    /// The ARN of a CodeDeploy resource.
    ///
    /// Shape `Arn`; required; length 1..=1011.
    #[serde(rename = "ResourceArn", skip_serializing_if = "Option::is_none")]
    pub resource_arn: Option<String>,
    /// An identifier returned from the previous `ListTagsForResource` call.
    ///
    /// Shape `NextToken`.
    #[serde(rename = "NextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Output of [`Operation::ListTagsForResource`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListTagsForResourceOutput {
    /// A list of tags returned by `ListTagsForResource`.
    ///
    /// Shape `TagList`.
    #[serde(rename = "Tags", skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    /// If a large amount of information is returned, an identifier is also returned.
    ///
    /// Shape `NextToken`.
    #[serde(rename = "NextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Information about the Elastic Load Balancing load balancer or target group used in a deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoadBalancerInfo {
    /// An array that contains information about the load balancers to use for load balancing in a deployment.
    ///
    /// Shape `ELBInfoList`.
    #[serde(rename = "elbInfoList", skip_serializing_if = "Option::is_none")]
    pub elb_info_list: Option<Vec<ELBInfo>>,
    /// An array that contains information about the target groups to use for load balancing in a deployment.
    ///
    /// Shape `TargetGroupInfoList`.
    #[serde(rename = "targetGroupInfoList", skip_serializing_if = "Option::is_none")]
    pub target_group_info_list: Option<Vec<TargetGroupInfo>>,
    /// The target group pair information.
    ///
    /// Shape `TargetGroupPairInfoList`.
    #[serde(rename = "targetGroupPairInfoList", skip_serializing_if = "Option::is_none")]
    pub target_group_pair_info_list: Option<Vec<TargetGroupPairInfo>>,
}

/// Information about the minimum number of healthy instances.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MinimumHealthyHosts {
    /// The minimum healthy instance type: `HOST_COUNT`: The minimum number of healthy instances as an absolute
    /// value.
    ///
    /// Shape `MinimumHealthyHostsType`; one of [`MINIMUM_HEALTHY_HOSTS_TYPE_VALUES`].
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// The minimum healthy instance value.
    ///
    /// Shape `MinimumHealthyHostsValue`.
    #[serde(rename = "value", skip_serializing_if = "Option::is_none")]
    pub value: Option<i64>,
}

/// Information about the minimum number of healthy instances per Availability Zone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MinimumHealthyHostsPerZone {
    /// The `type` associated with the `MinimumHealthyHostsPerZone` option.
    ///
    /// Shape `MinimumHealthyHostsPerZoneType`; one of [`MINIMUM_HEALTHY_HOSTS_PER_ZONE_TYPE_VALUES`].
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// The `value` associated with the `MinimumHealthyHostsPerZone` option.
    ///
    /// Shape `MinimumHealthyHostsPerZoneValue`.
    #[serde(rename = "value", skip_serializing_if = "Option::is_none")]
    pub value: Option<i64>,
}

/// Both an user ARN and an IAM session ARN were included in the request.
///
/// Error shape (`__type: "MultipleIamArnsProvidedException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MultipleIamArnsProvidedException {}

/// Information about groups of on-premises instance tags.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OnPremisesTagSet {
    /// A list that contains other lists of on-premises instance tag groups.
    ///
    /// Shape `OnPremisesTagSetList`.
    #[serde(rename = "onPremisesTagSetList", skip_serializing_if = "Option::is_none")]
    pub on_premises_tag_set_list: Option<Vec<Vec<TagFilter>>>,
}

/// The API used does not support the deployment.
///
/// Error shape (`__type: "OperationNotSupportedException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OperationNotSupportedException {}

/// Input of [`Operation::PutLifecycleEventHookExecutionStatus`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PutLifecycleEventHookExecutionStatusInput {
    /// The unique ID of a deployment.
    ///
    /// Shape `DeploymentId`.
    #[serde(rename = "deploymentId", skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// The execution ID of a deployment's lifecycle hook.
    ///
    /// Shape `LifecycleEventHookExecutionId`.
    #[serde(rename = "lifecycleEventHookExecutionId", skip_serializing_if = "Option::is_none")]
    pub lifecycle_event_hook_execution_id: Option<String>,
    /// The result of a Lambda function that validates a deployment lifecycle event.
    ///
    /// Shape `LifecycleEventStatus`; one of [`LIFECYCLE_EVENT_STATUS_VALUES`].
    #[serde(rename = "status", skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// Output of [`Operation::PutLifecycleEventHookExecutionStatus`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PutLifecycleEventHookExecutionStatusOutput {
    /// The execution ID of the lifecycle event hook.
    ///
    /// Shape `LifecycleEventHookExecutionId`.
    #[serde(rename = "lifecycleEventHookExecutionId", skip_serializing_if = "Option::is_none")]
    pub lifecycle_event_hook_execution_id: Option<String>,
}

/// A revision for an Lambda deployment that is a YAML-formatted or JSON-formatted string.
///
/// Deprecated: RawString and String revision type are deprecated, use AppSpecContent type instead.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RawString {
    /// The YAML-formatted or JSON-formatted revision string.
    ///
    /// Shape `RawStringContent`.
    #[serde(rename = "content", skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The SHA256 hash value of the revision content.
    ///
    /// Shape `RawStringSha256`.
    #[serde(rename = "sha256", skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// Represents the input of a RegisterApplicationRevision operation.
///
/// Input of [`Operation::RegisterApplicationRevision`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegisterApplicationRevisionInput {
    /// The name of an CodeDeploy application associated with the user or Amazon Web Services account.
    ///
    /// Shape `ApplicationName`; required; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "applicationName", skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    /// A comment about the revision.
    ///
    /// Shape `Description`.
    #[serde(rename = "description", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Information about the application revision to register, including type and location.
    ///
    /// Shape `RevisionLocation`; required.
    #[serde(rename = "revision", skip_serializing_if = "Option::is_none")]
    pub revision: Option<RevisionLocation>,
}

/// Represents the input of the register on-premises instance operation.
///
/// Input of [`Operation::RegisterOnPremisesInstance`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegisterOnPremisesInstanceInput {
    /// The name of the on-premises instance to register.
    ///
    /// Shape `InstanceName`; required.
    #[serde(rename = "instanceName", skip_serializing_if = "Option::is_none")]
    pub instance_name: Option<String>,
    /// The ARN of the IAM session to associate with the on-premises instance.
    ///
    /// Shape `IamSessionArn`.
    #[serde(rename = "iamSessionArn", skip_serializing_if = "Option::is_none")]
    pub iam_session_arn: Option<String>,
    /// The ARN of the user to associate with the on-premises instance.
    ///
    /// Shape `IamUserArn`.
    #[serde(rename = "iamUserArn", skip_serializing_if = "Option::is_none")]
    pub iam_user_arn: Option<String>,
}

/// Information about deployments related to the specified deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RelatedDeployments {
    /// The deployment ID of the root deployment that triggered this deployment.
    ///
    /// Shape `DeploymentId`.
    #[serde(rename = "autoUpdateOutdatedInstancesRootDeploymentId", skip_serializing_if = "Option::is_none")]
    pub auto_update_outdated_instances_root_deployment_id: Option<String>,
    /// The deployment IDs of 'auto-update outdated instances' deployments triggered by this deployment.
    ///
    /// Shape `DeploymentsList`.
    #[serde(rename = "autoUpdateOutdatedInstancesDeploymentIds", skip_serializing_if = "Option::is_none")]
    pub auto_update_outdated_instances_deployment_ids: Option<Vec<String>>,
}

/// Represents the input of a `RemoveTagsFromOnPremisesInstances` operation.
///
/// Input of [`Operation::RemoveTagsFromOnPremisesInstances`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RemoveTagsFromOnPremisesInstancesInput {
    /// The tag key-value pairs to remove from the on-premises instances.
    ///
    /// Shape `TagList`; required.
    #[serde(rename = "tags", skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    /// The names of the on-premises instances from which to remove tags.
    ///
    /// Shape `InstanceNameList`; required.
    #[serde(rename = "instanceNames", skip_serializing_if = "Option::is_none")]
    pub instance_names: Option<Vec<String>>,
}

/// The ARN of a resource is required, but was not found.
///
/// Error shape (`__type: "ResourceArnRequiredException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResourceArnRequiredException {}

/// The specified resource could not be validated.
///
/// Error shape (`__type: "ResourceValidationException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResourceValidationException {}

/// The named revision does not exist with the user or Amazon Web Services account.
///
/// Error shape (`__type: "RevisionDoesNotExistException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RevisionDoesNotExistException {}

/// Information about an application revision.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RevisionInfo {
    /// Information about the location and type of an application revision.
    ///
    /// Shape `RevisionLocation`.
    #[serde(rename = "revisionLocation", skip_serializing_if = "Option::is_none")]
    pub revision_location: Option<RevisionLocation>,
    /// Information about an application revision, including usage details and associated deployment groups.
    ///
    /// Shape `GenericRevisionInfo`.
    #[serde(rename = "genericRevisionInfo", skip_serializing_if = "Option::is_none")]
    pub generic_revision_info: Option<GenericRevisionInfo>,
}

/// Information about the location of an application revision.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RevisionLocation {
    /// The type of application revision: S3: An application revision stored in Amazon S3.
    ///
    /// Shape `RevisionLocationType`; one of [`REVISION_LOCATION_TYPE_VALUES`].
    #[serde(rename = "revisionType", skip_serializing_if = "Option::is_none")]
    pub revision_type: Option<String>,
    /// Information about the location of a revision stored in Amazon S3.
    ///
    /// Shape `S3Location`.
    #[serde(rename = "s3Location", skip_serializing_if = "Option::is_none")]
    pub s3_location: Option<S3Location>,
    /// Information about the location of application artifacts stored in GitHub.
    ///
    /// Shape `GitHubLocation`.
    #[serde(rename = "gitHubLocation", skip_serializing_if = "Option::is_none")]
    pub git_hub_location: Option<GitHubLocation>,
    /// Information about the location of an Lambda deployment revision stored as a RawString.
    ///
    /// Shape `RawString`; deprecated (RawString and String revision type are deprecated, use AppSpecContent type
    /// instead).
    #[serde(rename = "string", skip_serializing_if = "Option::is_none")]
    pub string: Option<RawString>,
    /// The content of an AppSpec file for an Lambda or Amazon ECS deployment.
    ///
    /// Shape `AppSpecContent`.
    #[serde(rename = "appSpecContent", skip_serializing_if = "Option::is_none")]
    pub app_spec_content: Option<AppSpecContent>,
}

/// The revision ID was not specified.
///
/// Error shape (`__type: "RevisionRequiredException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RevisionRequiredException {}

/// The role ID was not specified.
///
/// Error shape (`__type: "RoleRequiredException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RoleRequiredException {}

/// Information about a deployment rollback.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RollbackInfo {
    /// The ID of the deployment rollback.
    ///
    /// Shape `DeploymentId`.
    #[serde(rename = "rollbackDeploymentId", skip_serializing_if = "Option::is_none")]
    pub rollback_deployment_id: Option<String>,
    /// The deployment ID of the deployment that was underway and triggered a rollback deployment because it failed
    /// or was stopped.
    ///
    /// Shape `DeploymentId`.
    #[serde(rename = "rollbackTriggeringDeploymentId", skip_serializing_if = "Option::is_none")]
    pub rollback_triggering_deployment_id: Option<String>,
    /// Information that describes the status of a deployment rollback (for example, whether the deployment can't be
    /// rolled back, is in progress, failed, or succeeded).
    ///
    /// Shape `Description`.
    #[serde(rename = "rollbackMessage", skip_serializing_if = "Option::is_none")]
    pub rollback_message: Option<String>,
}

/// Information about the location of application artifacts stored in Amazon S3.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct S3Location {
    /// The name of the Amazon S3 bucket where the application revision is stored.
    ///
    /// Shape `S3Bucket`.
    #[serde(rename = "bucket", skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// The name of the Amazon S3 object that represents the bundled artifacts for the application revision.
    ///
    /// Shape `S3Key`.
    #[serde(rename = "key", skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The file type of the application revision.
    ///
    /// Shape `BundleType`; one of [`BUNDLE_TYPE_VALUES`].
    #[serde(rename = "bundleType", skip_serializing_if = "Option::is_none")]
    pub bundle_type: Option<String>,
    /// A specific version of the Amazon S3 object that represents the bundled artifacts for the application
    /// revision.
    ///
    /// Shape `VersionId`.
    #[serde(rename = "version", skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The ETag of the Amazon S3 object that represents the bundled artifacts for the application revision.
    ///
    /// Shape `ETag`.
    #[serde(rename = "eTag", skip_serializing_if = "Option::is_none")]
    pub e_tag: Option<String>,
}

/// Input of [`Operation::SkipWaitTimeForInstanceTermination`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SkipWaitTimeForInstanceTerminationInput {
    /// The unique ID of a blue/green deployment for which you want to skip the instance termination wait time.
    ///
    /// Shape `DeploymentId`.
    #[serde(rename = "deploymentId", skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
}

/// Represents the input of a `StopDeployment` operation.
///
/// Input of [`Operation::StopDeployment`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StopDeploymentInput {
    /// The unique ID of a deployment.
    ///
    /// Shape `DeploymentId`; required.
    #[serde(rename = "deploymentId", skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// Indicates, when a deployment is stopped, whether instances that have been updated should be rolled back to
    /// the previous version of the application revision.
    ///
    /// Shape `NullableBoolean`.
    #[serde(rename = "autoRollbackEnabled", skip_serializing_if = "Option::is_none")]
    pub auto_rollback_enabled: Option<bool>,
}

/// Represents the output of a `StopDeployment` operation.
///
/// Output of [`Operation::StopDeployment`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StopDeploymentOutput {
    /// The status of the stop deployment operation: Pending: The stop operation is pending.
    ///
    /// Shape `StopStatus`; one of [`STOP_STATUS_VALUES`].
    #[serde(rename = "status", skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// An accompanying status message.
    ///
    /// Shape `Message`.
    #[serde(rename = "statusMessage", skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
}

/// Information about a tag.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tag {
    /// The tag's key.
    ///
    /// Shape `Key`.
    #[serde(rename = "Key", skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The tag's value.
    ///
    /// Shape `Value`.
    #[serde(rename = "Value", skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Information about an on-premises instance tag filter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TagFilter {
    /// The on-premises instance tag filter key.
    ///
    /// Shape `Key`.
    #[serde(rename = "Key", skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The on-premises instance tag filter value.
    ///
    /// Shape `Value`.
    #[serde(rename = "Value", skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The on-premises instance tag filter type: KEY_ONLY: Key only.
    ///
    /// Shape `TagFilterType`; one of [`TAG_FILTER_TYPE_VALUES`].
    #[serde(rename = "Type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
}

/// The maximum allowed number of tags was exceeded.
///
/// Error shape (`__type: "TagLimitExceededException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TagLimitExceededException {}

/// A tag was not specified.
///
/// Error shape (`__type: "TagRequiredException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TagRequiredException {}

/// Input of [`Operation::TagResource`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TagResourceInput {
    /// The ARN of a resource, such as a CodeDeploy application or deployment group.
    ///
    /// Shape `Arn`; required; length 1..=1011.
    #[serde(rename = "ResourceArn", skip_serializing_if = "Option::is_none")]
    pub resource_arn: Option<String>,
    /// A list of tags that `TagResource` associates with a resource.
    ///
    /// Shape `TagList`; required.
    #[serde(rename = "Tags", skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
}

/// Output of [`Operation::TagResource`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TagResourceOutput {}

/// The number of tag groups included in the tag set list exceeded the maximum allowed limit of 3.
///
/// Error shape (`__type: "TagSetListLimitExceededException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TagSetListLimitExceededException {}

/// Information about a target group in Elastic Load Balancing to use in a deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TargetGroupInfo {
    /// For blue/green deployments, the name of the target group that instances in the original environment are
    /// deregistered from, and instances in the replacement environment are registered with.
    ///
    /// Shape `TargetGroupName`.
    #[serde(rename = "name", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Information about two target groups and how traffic is routed during an Amazon ECS deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TargetGroupPairInfo {
    /// One pair of target groups.
    ///
    /// Shape `TargetGroupInfoList`.
    #[serde(rename = "targetGroups", skip_serializing_if = "Option::is_none")]
    pub target_groups: Option<Vec<TargetGroupInfo>>,
    /// The path used by a load balancer to route production traffic when an Amazon ECS deployment is complete.
    ///
    /// Shape `TrafficRoute`.
    #[serde(rename = "prodTrafficRoute", skip_serializing_if = "Option::is_none")]
    pub prod_traffic_route: Option<TrafficRoute>,
    /// An optional path used by a load balancer to route test traffic after an Amazon ECS deployment.
    ///
    /// Shape `TrafficRoute`.
    #[serde(rename = "testTrafficRoute", skip_serializing_if = "Option::is_none")]
    pub test_traffic_route: Option<TrafficRoute>,
}

/// Information about the instances to be used in the replacement environment in a blue/green deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TargetInstances {
    /// The tag filter key, type, and value used to identify Amazon EC2 instances in a replacement environment for a
    /// blue/green deployment.
    ///
    /// Shape `EC2TagFilterList`.
    #[serde(rename = "tagFilters", skip_serializing_if = "Option::is_none")]
    pub tag_filters: Option<Vec<EC2TagFilter>>,
    /// The names of one or more Auto Scaling groups to identify a replacement environment for a blue/green
    /// deployment.
    ///
    /// Shape `AutoScalingGroupNameList`.
    #[serde(rename = "autoScalingGroups", skip_serializing_if = "Option::is_none")]
    pub auto_scaling_groups: Option<Vec<String>>,
    /// Information about the groups of Amazon EC2 instance tags that an instance must be identified by in order for
    /// it to be included in the replacement environment for a blue/green deployment.
    ///
    /// Shape `EC2TagSet`.
    #[serde(rename = "ec2TagSet", skip_serializing_if = "Option::is_none")]
    pub ec2_tag_set: Option<EC2TagSet>,
}

/// An API function was called too frequently.
///
/// Error shape (`__type: "ThrottlingException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ThrottlingException {}

/// A configuration that shifts traffic from one version of a Lambda function or Amazon ECS task set to another in
/// two increments.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TimeBasedCanary {
    /// The percentage of traffic to shift in the first increment of a `TimeBasedCanary` deployment.
    ///
    /// Shape `Percentage`.
    #[serde(rename = "canaryPercentage", skip_serializing_if = "Option::is_none")]
    pub canary_percentage: Option<i64>,
    /// The number of minutes between the first and second traffic shifts of a `TimeBasedCanary` deployment.
    ///
    /// Shape `WaitTimeInMins`.
    #[serde(rename = "canaryInterval", skip_serializing_if = "Option::is_none")]
    pub canary_interval: Option<i64>,
}

/// A configuration that shifts traffic from one version of a Lambda function or ECS task set to another in equal
/// increments, with an equal number of minutes between each increment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TimeBasedLinear {
    /// The percentage of traffic that is shifted at the start of each increment of a `TimeBasedLinear` deployment.
    ///
    /// Shape `Percentage`.
    #[serde(rename = "linearPercentage", skip_serializing_if = "Option::is_none")]
    pub linear_percentage: Option<i64>,
    /// The number of minutes between each incremental traffic shift of a `TimeBasedLinear` deployment.
    ///
    /// Shape `WaitTimeInMins`.
    #[serde(rename = "linearInterval", skip_serializing_if = "Option::is_none")]
    pub linear_interval: Option<i64>,
}

/// Information about a time range.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TimeRange {
    /// The start time of the time range.
    ///
    /// Shape `Timestamp`; epoch seconds.
    #[serde(rename = "start", skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    /// The end time of the time range.
    ///
    /// Shape `Timestamp`; epoch seconds.
    #[serde(rename = "end", skip_serializing_if = "Option::is_none")]
    pub end: Option<f64>,
}

/// Information about a listener.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrafficRoute {
    /// The Amazon Resource Name (ARN) of one listener.
    ///
    /// Shape `ListenerArnList`.
    #[serde(rename = "listenerArns", skip_serializing_if = "Option::is_none")]
    pub listener_arns: Option<Vec<String>>,
}

/// The configuration that specifies how traffic is shifted from one version of a Lambda function to another version
/// during an Lambda deployment, or from one Amazon ECS task set to another during an Amazon ECS deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrafficRoutingConfig {
    /// The type of traffic shifting (`TimeBasedCanary` or `TimeBasedLinear`) used by a deployment configuration.
    ///
    /// Shape `TrafficRoutingType`; one of [`TRAFFIC_ROUTING_TYPE_VALUES`].
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// A configuration that shifts traffic from one version of a Lambda function or ECS task set to another in two
    /// increments.
    ///
    /// Shape `TimeBasedCanary`.
    #[serde(rename = "timeBasedCanary", skip_serializing_if = "Option::is_none")]
    pub time_based_canary: Option<TimeBasedCanary>,
    /// A configuration that shifts traffic from one version of a Lambda function or Amazon ECS task set to another
    /// in equal increments, with an equal number of minutes between each increment.
    ///
    /// Shape `TimeBasedLinear`.
    #[serde(rename = "timeBasedLinear", skip_serializing_if = "Option::is_none")]
    pub time_based_linear: Option<TimeBasedLinear>,
}

/// Information about notification triggers for the deployment group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TriggerConfig {
    /// The name of the notification trigger.
    ///
    /// Shape `TriggerName`.
    #[serde(rename = "triggerName", skip_serializing_if = "Option::is_none")]
    pub trigger_name: Option<String>,
    /// The Amazon Resource Name (ARN) of the Amazon Simple Notification Service topic through which notifications
    /// about deployment or instance events are sent.
    ///
    /// Shape `TriggerTargetArn`.
    #[serde(rename = "triggerTargetArn", skip_serializing_if = "Option::is_none")]
    pub trigger_target_arn: Option<String>,
    /// The event type or types for which notifications are triggered.
    ///
    /// Shape `TriggerEventTypeList`; items in [`TRIGGER_EVENT_TYPE_VALUES`].
    #[serde(rename = "triggerEvents", skip_serializing_if = "Option::is_none")]
    pub trigger_events: Option<Vec<String>>,
}

/// The maximum allowed number of triggers was exceeded.
///
/// Error shape (`__type: "TriggerTargetsLimitExceededException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TriggerTargetsLimitExceededException {}

/// A call was submitted that is not supported for the specified deployment type.
///
/// Error shape (`__type: "UnsupportedActionForDeploymentTypeException"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UnsupportedActionForDeploymentTypeException {}

/// Input of [`Operation::UntagResource`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UntagResourceInput {
    /// The Amazon Resource Name (ARN) that specifies from which resource to disassociate the tags with the keys in
    /// the `TagKeys` input parameter.
    ///
    /// Shape `Arn`; required; length 1..=1011.
    #[serde(rename = "ResourceArn", skip_serializing_if = "Option::is_none")]
    pub resource_arn: Option<String>,
    /// A list of keys of `Tag` objects.
    ///
    /// Shape `TagKeyList`; required.
    #[serde(rename = "TagKeys", skip_serializing_if = "Option::is_none")]
    pub tag_keys: Option<Vec<String>>,
}

/// Output of [`Operation::UntagResource`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UntagResourceOutput {}

/// Represents the input of an `UpdateApplication` operation.
///
/// Input of [`Operation::UpdateApplication`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UpdateApplicationInput {
    /// The current name of the application you want to change.
    ///
    /// Shape `ApplicationName`; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "applicationName", skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    /// The new name to give the application.
    ///
    /// Shape `ApplicationName`; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "newApplicationName", skip_serializing_if = "Option::is_none")]
    pub new_application_name: Option<String>,
}

/// Represents the input of an `UpdateDeploymentGroup` operation.
///
/// Input of [`Operation::UpdateDeploymentGroup`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UpdateDeploymentGroupInput {
    /// The application name that corresponds to the deployment group to update.
    ///
    /// Shape `ApplicationName`; required; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "applicationName", skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    /// The current name of the deployment group.
    ///
    /// Shape `DeploymentGroupName`; required; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "currentDeploymentGroupName", skip_serializing_if = "Option::is_none")]
    pub current_deployment_group_name: Option<String>,
    /// The new name of the deployment group, if you want to change it.
    ///
    /// Shape `DeploymentGroupName`; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "newDeploymentGroupName", skip_serializing_if = "Option::is_none")]
    pub new_deployment_group_name: Option<String>,
    /// The replacement deployment configuration name to use, if you want to change it.
    ///
    /// Shape `DeploymentConfigName`; length 1..=100; pattern `[A-Za-z0-9+=,.@_-]*`.
    #[serde(rename = "deploymentConfigName", skip_serializing_if = "Option::is_none")]
    pub deployment_config_name: Option<String>,
    /// The replacement set of Amazon EC2 tags on which to filter, if you want to change them.
    ///
    /// Shape `EC2TagFilterList`.
    #[serde(rename = "ec2TagFilters", skip_serializing_if = "Option::is_none")]
    pub ec2_tag_filters: Option<Vec<EC2TagFilter>>,
    /// The replacement set of on-premises instance tags on which to filter, if you want to change them.
    ///
    /// Shape `TagFilterList`.
    #[serde(rename = "onPremisesInstanceTagFilters", skip_serializing_if = "Option::is_none")]
    pub on_premises_instance_tag_filters: Option<Vec<TagFilter>>,
    /// The replacement list of Auto Scaling groups to be included in the deployment group, if you want to change
    /// them.
    ///
    /// Shape `AutoScalingGroupNameList`.
    #[serde(rename = "autoScalingGroups", skip_serializing_if = "Option::is_none")]
    pub auto_scaling_groups: Option<Vec<String>>,
    /// A replacement ARN for the service role, if you want to change it.
    ///
    /// Shape `Role`.
    #[serde(rename = "serviceRoleArn", skip_serializing_if = "Option::is_none")]
    pub service_role_arn: Option<String>,
    /// Information about triggers to change when the deployment group is updated.
    ///
    /// Shape `TriggerConfigList`.
    #[serde(rename = "triggerConfigurations", skip_serializing_if = "Option::is_none")]
    pub trigger_configurations: Option<Vec<TriggerConfig>>,
    /// Information to add or change about Amazon CloudWatch alarms when the deployment group is updated.
    ///
    /// Shape `AlarmConfiguration`.
    #[serde(rename = "alarmConfiguration", skip_serializing_if = "Option::is_none")]
    pub alarm_configuration: Option<AlarmConfiguration>,
    /// Information for an automatic rollback configuration that is added or changed when a deployment group is
    /// updated.
    ///
    /// Shape `AutoRollbackConfiguration`.
    #[serde(rename = "autoRollbackConfiguration", skip_serializing_if = "Option::is_none")]
    pub auto_rollback_configuration: Option<AutoRollbackConfiguration>,
    /// Indicates what happens when new Amazon EC2 instances are launched mid-deployment and do not receive the
    /// deployed application revision.
    ///
    /// Shape `OutdatedInstancesStrategy`; one of [`OUTDATED_INSTANCES_STRATEGY_VALUES`].
    #[serde(rename = "outdatedInstancesStrategy", skip_serializing_if = "Option::is_none")]
    pub outdated_instances_strategy: Option<String>,
    /// Information about the type of deployment, either in-place or blue/green, you want to run and whether to
    /// route deployment traffic behind a load balancer.
    ///
    /// Shape `DeploymentStyle`.
    #[serde(rename = "deploymentStyle", skip_serializing_if = "Option::is_none")]
    pub deployment_style: Option<DeploymentStyle>,
    /// Information about blue/green deployment options for a deployment group.
    ///
    /// Shape `BlueGreenDeploymentConfiguration`.
    #[serde(rename = "blueGreenDeploymentConfiguration", skip_serializing_if = "Option::is_none")]
    pub blue_green_deployment_configuration: Option<BlueGreenDeploymentConfiguration>,
    /// Information about the load balancer used in a deployment.
    ///
    /// Shape `LoadBalancerInfo`.
    #[serde(rename = "loadBalancerInfo", skip_serializing_if = "Option::is_none")]
    pub load_balancer_info: Option<LoadBalancerInfo>,
    /// Information about groups of tags applied to on-premises instances.
    ///
    /// Shape `EC2TagSet`.
    #[serde(rename = "ec2TagSet", skip_serializing_if = "Option::is_none")]
    pub ec2_tag_set: Option<EC2TagSet>,
    /// The target Amazon ECS services in the deployment group.
    ///
    /// Shape `ECSServiceList`.
    #[serde(rename = "ecsServices", skip_serializing_if = "Option::is_none")]
    pub ecs_services: Option<Vec<ECSService>>,
    /// Information about an on-premises instance tag set.
    ///
    /// Shape `OnPremisesTagSet`.
    #[serde(rename = "onPremisesTagSet", skip_serializing_if = "Option::is_none")]
    pub on_premises_tag_set: Option<OnPremisesTagSet>,
    /// Shape `EC2DeploymentOptions`.
    #[serde(rename = "ec2DeploymentOptions", skip_serializing_if = "Option::is_none")]
    pub ec2_deployment_options: Option<EC2DeploymentOptions>,
    /// This parameter only applies if you are using CodeDeploy with Amazon EC2 Auto Scaling.
    ///
    /// Shape `NullableBoolean`.
    #[serde(rename = "terminationHookEnabled", skip_serializing_if = "Option::is_none")]
    pub termination_hook_enabled: Option<bool>,
}

/// Represents the output of an `UpdateDeploymentGroup` operation.
///
/// Output of [`Operation::UpdateDeploymentGroup`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UpdateDeploymentGroupOutput {
    /// If the output contains no data, and the corresponding deployment group contained at least one Auto Scaling
    /// group, CodeDeploy successfully removed all corresponding Auto Scaling lifecycle event hooks from the Amazon
    /// Web Services account.
    ///
    /// Shape `AutoScalingGroupList`.
    #[serde(rename = "hooksNotCleanedUp", skip_serializing_if = "Option::is_none")]
    pub hooks_not_cleaned_up: Option<Vec<AutoScalingGroup>>,
}

/// Configure the `ZonalConfig` object if you want CodeDeploy to deploy your application to one Availability Zone at
/// a time, within an Amazon Web Services Region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ZonalConfig {
    /// The period of time, in seconds, that CodeDeploy must wait after completing a deployment to the first
    /// Availability Zone.
    ///
    /// Shape `WaitTimeInSeconds`.
    #[serde(rename = "firstZoneMonitorDurationInSeconds", skip_serializing_if = "Option::is_none")]
    pub first_zone_monitor_duration_in_seconds: Option<i64>,
    /// The period of time, in seconds, that CodeDeploy must wait after completing a deployment to an Availability
    /// Zone.
    ///
    /// Shape `WaitTimeInSeconds`.
    #[serde(rename = "monitorDurationInSeconds", skip_serializing_if = "Option::is_none")]
    pub monitor_duration_in_seconds: Option<i64>,
    /// The number or percentage of instances that must remain available per Availability Zone during a deployment.
    ///
    /// Shape `MinimumHealthyHostsPerZone`.
    #[serde(rename = "minimumHealthyHostsPerZone", skip_serializing_if = "Option::is_none")]
    pub minimum_healthy_hosts_per_zone: Option<MinimumHealthyHostsPerZone>,
}
