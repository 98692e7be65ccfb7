//! Security commands: access keys, enrolment tokens, the audit log, and revision signing keys.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use cutover_api_types::cutover as wire;

use super::Api;
use crate::cli::JsonFlag;
use crate::error::{CliError, CliResult};
use crate::output::{self, or_dash};
use crate::timefmt;

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Create an access key; prints it once, as a credentials-file profile (or JSON).
    Create {
        /// admin (everything), deployer (push revisions, start/stop deployments) or viewer (read-only).
        #[arg(long)]
        role: String,
        /// Who or what the key is for; shown in the audit log.
        #[arg(long, default_value = "")]
        description: String,
        /// Profile name of the printed credentials-file section.
        #[arg(long, default_value = "default", value_name = "NAME")]
        profile_name: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// List the API's access keys (agent credentials are not listed).
    List {
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Delete an access key; requests signed with it fail from then on.
    Delete {
        /// The access key id.
        access_key_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum EnrollmentTokenCommand {
    /// Create a join token and print it; pass it to agents with --enrollment-token-file.
    Create {
        /// Seconds the token stays valid.
        #[arg(long, default_value_t = 3600)]
        ttl_seconds: u64,
        /// How many hosts may enrol with it (default: any number until it expires).
        #[arg(long)]
        max_uses: Option<u64>,
    },
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    /// Most entries to show, newest first.
    #[arg(long, default_value_t = 50)]
    limit: u32,
    #[command(flatten)]
    json: JsonFlag,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SigningCommand {
    /// Generate an ed25519 key pair: writes the secret key to FILE (mode 0600) and prints the public key.
    GenerateKey {
        /// Where to write the secret key.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Set the public keys a deployment group trusts; from then on it deploys only revisions signed by one of them.
    Trust {
        #[arg(long, value_name = "NAME")]
        application_name: String,
        #[arg(long, value_name = "NAME")]
        deployment_group_name: String,
        /// A public key (`ed25519:...`); repeat for several. None lifts the requirement.
        #[arg(long = "key", value_name = "KEY")]
        keys: Vec<String>,
    },
    /// Show the public keys a deployment group trusts.
    Show {
        #[arg(long, value_name = "NAME")]
        application_name: String,
        #[arg(long, value_name = "NAME")]
        deployment_group_name: String,
    },
}

pub(crate) async fn keys(api: &Api, command: KeysCommand) -> CliResult<()> {
    match command {
        KeysCommand::Create { role, description, profile_name, json } => {
            let out: wire::CreateAccessKeyOutput =
                api.call_cutover("CreateAccessKey", &wire::CreateAccessKeyInput { role, description }).await?;
            if json.json {
                return output::json(&out);
            }
            let credentials = cutover_client::Credentials {
                access_key_id: out.access_key_id,
                secret_access_key: out.secret_access_key,
            };
            output::line(format!("# role: {}", out.role))?;
            output::line(cutover_auth::credentials_file::render(&profile_name, &credentials).trim_end())
        }
        KeysCommand::List { json } => {
            let out: wire::ListAccessKeysOutput = api.call_cutover("ListAccessKeys", &serde_json::json!({})).await?;
            if json.json {
                return output::json(&out);
            }
            let mut table = output::table(&["ACCESS KEY ID", "ROLE", "DESCRIPTION", "CREATED", "LAST USED"]);
            for key in &out.access_keys {
                table.add_row(vec![
                    key.access_key_id.clone(),
                    key.role.clone(),
                    key.description.clone(),
                    timefmt::timestamp(key.create_time),
                    or_dash(key.last_used_time.map(timefmt::timestamp)),
                ]);
            }
            output::print_table(&table)
        }
        KeysCommand::Delete { access_key_id } => {
            let _: serde_json::Value = api
                .call_cutover("DeleteAccessKey", &wire::DeleteAccessKeyInput { access_key_id: access_key_id.clone() })
                .await?;
            output::line(format!("Deleted access key {access_key_id}."))
        }
    }
}

pub(crate) async fn enrollment_token(api: &Api, command: EnrollmentTokenCommand) -> CliResult<()> {
    let EnrollmentTokenCommand::Create { ttl_seconds, max_uses } = command;
    let out: wire::CreateEnrollmentTokenOutput = api
        .call_cutover(
            "CreateEnrollmentToken",
            &wire::CreateEnrollmentTokenInput { ttl_seconds: Some(ttl_seconds), max_uses },
        )
        .await?;
    output::line(&out.token)
}

pub(crate) async fn audit(api: &Api, args: AuditArgs) -> CliResult<()> {
    let out: wire::ListAuditEventsOutput = api
        .call_cutover(
            "ListAuditEvents",
            &wire::ListAuditEventsInput { next_token: None, max_results: Some(args.limit) },
        )
        .await?;
    if args.json.json {
        return output::json(&out);
    }
    let mut table = output::table(&["TIME", "WHO", "ACTION", "RESOURCE", "FROM", "OUTCOME"]);
    for event in &out.events {
        table.add_row(vec![
            timefmt::timestamp(event.event_time),
            format!("{} ({})", event.principal, event.access_key_id),
            event.action.clone(),
            event.resource.clone(),
            event.source.clone(),
            event.outcome.clone(),
        ]);
    }
    output::print_table(&table)
}

pub(crate) async fn signing(api: &Api, command: SigningCommand) -> CliResult<()> {
    match command {
        SigningCommand::GenerateKey { out } => {
            let mut seed = [0u8; 32];
            getrandom::getrandom(&mut seed).map_err(|error| CliError::internal(format!("no randomness: {error}")))?;
            let (secret, public) = cutover_auth::signature::keypair_from_seed(seed);
            write_private(&out, &secret)?;
            output::line(format!("Wrote the secret key to {} (keep it secret).", out.display()))?;
            output::line(format!("Public key: {public}"))?;
            output::line(format!(
                "Trust it with: cutover signing trust --application-name APP --deployment-group-name GROUP --key {public}"
            ))
        }
        SigningCommand::Trust { application_name, deployment_group_name, keys } => {
            let count = keys.len();
            let _: serde_json::Value = api
                .call_cutover(
                    "PutDeploymentGroupTrustedKeys",
                    &wire::PutDeploymentGroupTrustedKeysInput {
                        application_name,
                        deployment_group_name: deployment_group_name.clone(),
                        trusted_keys: keys,
                    },
                )
                .await?;
            if count == 0 {
                output::line(format!("Deployment group {deployment_group_name} no longer requires signed revisions."))
            } else {
                output::line(format!(
                    "Deployment group {deployment_group_name} now deploys only revisions signed by one of {count} key(s)."
                ))
            }
        }
        SigningCommand::Show { application_name, deployment_group_name } => {
            let out: wire::DeploymentGroupTrustedKeys = api
                .call_cutover(
                    "GetDeploymentGroupTrustedKeys",
                    &wire::GetDeploymentGroupTrustedKeysInput { application_name, deployment_group_name },
                )
                .await?;
            if out.trusted_keys.is_empty() {
                return output::line("No trusted keys: revisions need no signature.");
            }
            for key in out.trusted_keys {
                output::line(key)?;
            }
            Ok(())
        }
    }
}

/// Signs a pushed bundle's digest with the key in `key_file` and records the signature on the server.
pub(crate) async fn sign_bundle(api: &Api, key_file: &std::path::Path, sha256: &str) -> CliResult<String> {
    let text = std::fs::read_to_string(key_file)
        .map_err(|error| CliError::user(format!("cannot read the signing key {}: {error}", key_file.display())))?;
    let key = cutover_auth::signature::parse_secret_key(&text)
        .map_err(|error| CliError::user(format!("{}: {error}", key_file.display())))?;
    let (public_key, signature) = cutover_auth::signature::sign(&key, sha256);
    let _: serde_json::Value = api
        .call_cutover(
            "PutRevisionSignature",
            &wire::PutRevisionSignatureInput {
                bundle_sha256: sha256.to_owned(),
                public_key: public_key.clone(),
                signature,
            },
        )
        .await?;
    Ok(public_key)
}

fn write_private(path: &std::path::Path, text: &str) -> CliResult<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|error| CliError::user(format!("cannot create {}: {error}", path.display())))?;
    file.write_all(text.as_bytes()).map_err(|error| CliError::user(format!("cannot write {}: {error}", path.display())))
}
