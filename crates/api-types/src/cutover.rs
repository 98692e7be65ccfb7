//! Cutover's own operations, on the CodeDeploy endpoint (`POST /`, JSON 1.1, SigV4) with the target prefix
//! [`TARGET_PREFIX`]: key management, enrolment tokens, the audit log and revision signing. Members are camelCase
//! like CodeDeploy's; errors use the same `{"__type", "message"}` body.

use serde::{Deserialize, Serialize};

/// `X-Amz-Target: Cutover_20261122.<Operation>`.
pub const TARGET_PREFIX: &str = "Cutover_20261122";

/// The operations, by their names on the wire.
pub const OPERATIONS: &[&str] = &[
    "CreateAccessKey",
    "ListAccessKeys",
    "DeleteAccessKey",
    "CreateEnrollmentToken",
    "ListAuditEvents",
    "PutRevisionSignature",
    "PutDeploymentGroupTrustedKeys",
    "GetDeploymentGroupTrustedKeys",
];

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CreateAccessKeyInput {
    /// admin | deployer | viewer
    pub role: String,
    /// Who or what the key is for (shown in the audit log).
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CreateAccessKeyOutput {
    pub access_key_id: String,
    /// Shown once; the server keeps it sealed.
    pub secret_access_key: String,
    pub role: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AccessKeyInfo {
    pub access_key_id: String,
    pub role: String,
    pub description: String,
    /// Epoch seconds, like CodeDeploy's timestamps.
    pub create_time: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_time: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ListAccessKeysOutput {
    pub access_keys: Vec<AccessKeyInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DeleteAccessKeyInput {
    pub access_key_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CreateEnrollmentTokenInput {
    /// How long the token is valid (default one hour).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_seconds: Option<u64>,
    /// How many hosts may enrol with it (default: any number until it expires).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CreateEnrollmentTokenOutput {
    pub token: String,
    pub expire_time: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ListAuditEventsInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub seq: i64,
    pub event_time: f64,
    pub access_key_id: String,
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub source: String,
    /// `Success`, or the error's `__type`.
    pub outcome: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ListAuditEventsOutput {
    /// Newest first.
    pub events: Vec<AuditEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Records a signature of a revision bundle (by its SHA-256), made with `cutover push --sign`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PutRevisionSignatureInput {
    pub bundle_sha256: String,
    /// `ed25519:<base64>`.
    pub public_key: String,
    /// Base64 ed25519 signature.
    pub signature: String,
}

/// Sets the public keys a deployment group trusts; an empty list lifts the signature requirement.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PutDeploymentGroupTrustedKeysInput {
    pub application_name: String,
    pub deployment_group_name: String,
    pub trusted_keys: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct GetDeploymentGroupTrustedKeysInput {
    pub application_name: String,
    pub deployment_group_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentGroupTrustedKeys {
    pub trusted_keys: Vec<String>,
}
