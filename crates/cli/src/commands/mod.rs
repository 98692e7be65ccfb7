//! The commands, one module per group, and the API client wrapper they share.

pub(crate) mod apply;
pub(crate) mod appspec;
pub(crate) mod completions;
pub(crate) mod containers;
pub(crate) mod deploy;
pub(crate) mod dev;
pub(crate) mod local;
pub(crate) mod logs;
pub(crate) mod manage;
pub(crate) mod plan;
pub(crate) mod push;
pub(crate) mod read;
pub(crate) mod security;

use cutover_api_types::codedeploy::Operation;
use cutover_client::api::ApiClient;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cli::{Cli, Command};
use crate::error::{CliError, CliResult};

/// Runs one parsed command line.
pub(crate) async fn run(cli: Cli) -> CliResult<()> {
    let mut api = Api::new(&cli.endpoint).with_credentials(crate::credentials::resolve(&cli.credentials)?);
    if let Some(path) = &cli.credentials.ca_file {
        let pem = std::fs::read(path)
            .map_err(|error| CliError::user(format!("cannot read the CA file {}: {error}", path.display())))?;
        api = Api { client: api.client.with_ca_pem(&pem)? };
    }
    match cli.command {
        Command::Push(args) => push::run(&api, args).await,
        Command::Deploy(command) => deploy::command(&api, command).await,
        Command::CreateApplication(args) => manage::create_application(&api, args).await,
        Command::CreateDeploymentGroup(args) => manage::create_deployment_group(&api, args).await,
        Command::CreateDeploymentConfig(args) => manage::create_deployment_config(&api, args).await,
        Command::Apply(args) => apply::run(&api, args).await,
        Command::Containers(command) => containers::command(&api, command).await,
        Command::StopDeployment(args) => manage::stop_deployment(&api, args).await,
        Command::Applications(command) => read::applications(&api, command).await,
        Command::Groups(command) => read::groups(&api, command).await,
        Command::Deployments(command) => read::deployments(&api, command).await,
        Command::Instances(command) => read::instances(&api, command).await,
        Command::Appspec(command) => appspec::run(command),
        Command::Keys(command) => security::keys(&api, command).await,
        Command::EnrollmentToken(command) => security::enrollment_token(&api, command).await,
        Command::Audit(args) => security::audit(&api, args).await,
        Command::Signing(command) => security::signing(&api, command).await,
        Command::Local(args) => local::run(args).await,
        Command::Dev(args) => dev::run(args).await,
        Command::Completions(args) => completions::run(args),
    }
}

/// The API client, with errors already turned into [`CliError`]s.
#[derive(Clone)]
pub(crate) struct Api {
    client: ApiClient,
}

impl Api {
    pub(crate) fn new(endpoint: &str) -> Api {
        Api { client: ApiClient::new(endpoint) }
    }

    /// The same client, signing with `credentials` when there are any.
    pub(crate) fn with_credentials(self, credentials: Option<cutover_client::Credentials>) -> Api {
        match credentials {
            Some(credentials) => Api { client: self.client.with_credentials(credentials) },
            None => self,
        }
    }

    /// Calls one of Cutover's own operations.
    pub(crate) async fn call_cutover<I: Serialize, O: DeserializeOwned>(&self, name: &str, input: &I) -> CliResult<O> {
        Ok(self.client.call_cutover(name, input).await?)
    }

    pub(crate) fn endpoint(&self) -> &str {
        self.client.endpoint()
    }

    pub(crate) fn client(&self) -> &ApiClient {
        &self.client
    }

    /// Calls one operation.
    pub(crate) async fn call<I: Serialize, O: DeserializeOwned>(
        &self,
        operation: Operation,
        input: &I,
    ) -> CliResult<O> {
        Ok(self.client.call(operation, input).await?)
    }

    /// Calls one operation and returns its output both as the server sent it and decoded.
    pub(crate) async fn call_raw<I: Serialize, O: DeserializeOwned>(
        &self,
        operation: Operation,
        input: &I,
    ) -> CliResult<(serde_json::Value, O)> {
        let raw: serde_json::Value = self.call(operation, input).await?;
        let decoded = serde_json::from_value(raw.clone()).map_err(|error| {
            CliError::user(format!("unexpected answer to {}: {error}", operation.name()))
                .hint("is the endpoint a cutover-server? Check --endpoint / CUTOVER_ENDPOINT")
        })?;
        Ok((raw, decoded))
    }
}

/// Quotes a word for a POSIX shell if it needs it (for the commands we suggest).
pub(crate) fn shell_word(word: &str) -> String {
    let plain = !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b));
    if plain { word.to_owned() } else { format!("'{}'", word.replace('\'', r"'\''")) }
}
