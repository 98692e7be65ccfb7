//! Which access key the CLI signs with, in the AWS CLI's order so one setup serves both:
//! 1. `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` in the environment;
//! 2. the `--profile` (or `AWS_PROFILE`, default `default`) of `--credentials-file` (or
//!    `AWS_SHARED_CREDENTIALS_FILE`, default `~/.aws/credentials`);
//! 3. `./cutover-data/admin-credentials`, the admin key a server started here with its default `--data-dir` wrote.

use std::path::{Path, PathBuf};

use cutover_client::Credentials;

use crate::error::{CliError, CliResult};

/// `--profile` and `--credentials-file`, global flags.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct CredentialArgs {
    /// Profile of the credentials file to sign requests with.
    #[arg(long, global = true, env = "AWS_PROFILE", value_name = "NAME", display_order = 901)]
    pub(crate) profile: Option<String>,
    /// AWS shared-credentials file (the server writes its first admin key to DATA_DIR/admin-credentials).
    #[arg(long, global = true, env = "AWS_SHARED_CREDENTIALS_FILE", value_name = "FILE", display_order = 902)]
    pub(crate) credentials_file: Option<PathBuf>,
    /// CA certificates (PEM) to trust for an https endpoint, e.g. the server's generated DATA_DIR/tls/ca.pem.
    #[arg(long, global = true, env = "CUTOVER_CA_FILE", value_name = "FILE", display_order = 903)]
    pub(crate) ca_file: Option<PathBuf>,
}

/// The default data directory of `cutover-server`, whose admin key is the last resort.
const LOCAL_ADMIN_CREDENTIALS: &str = "cutover-data/admin-credentials";

/// Finds the key to sign with; None when there is none anywhere (requests then go unsigned and the server says so).
pub(crate) fn resolve(args: &CredentialArgs) -> CliResult<Option<Credentials>> {
    if let (Ok(id), Ok(secret)) = (std::env::var("AWS_ACCESS_KEY_ID"), std::env::var("AWS_SECRET_ACCESS_KEY"))
        && !id.is_empty()
    {
        return Ok(Some(Credentials { access_key_id: id, secret_access_key: secret }));
    }
    let profile = args.profile.as_deref().unwrap_or("default");
    if let Some(path) = &args.credentials_file {
        return from_file(path, profile).map(Some);
    }
    if let Some(home) = std::env::var_os("HOME") {
        let path = Path::new(&home).join(".aws").join("credentials");
        if path.exists() {
            return from_file(&path, profile).map(Some);
        }
    }
    let local = Path::new(LOCAL_ADMIN_CREDENTIALS);
    if local.exists() {
        return from_file(local, "default").map(Some);
    }
    Ok(None)
}

fn from_file(path: &Path, profile: &str) -> CliResult<Credentials> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| CliError::user(format!("cannot read the credentials file {}: {error}", path.display())))?;
    cutover_auth::credentials_file::parse(&text, profile).ok_or_else(|| {
        CliError::user(format!(
            "the credentials file {} has no profile [{profile}] with aws_access_key_id and aws_secret_access_key",
            path.display()
        ))
    })
}
