//! Errors and their exit codes, classified like jj's: the user's fault (or the server's answer) exits 1, a command
//! line clap rejects exits 2, a deployment that `deploy --wait` or `dev` followed and that did not succeed exits 3,
//! and a bug in cutover exits 255.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use cutover_client::api::ApiClientError;

/// Exit code of user and API errors.
pub(crate) const EXIT_USER: u8 = 1;
/// Exit code of a followed deployment that did not succeed.
pub(crate) const EXIT_DEPLOYMENT: u8 = 3;
/// Exit code of internal errors.
pub(crate) const EXIT_INTERNAL: u8 = 255;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// Bad input, a refused request, an unreachable server: exit 1.
    User,
    /// The deployment ended Failed or Stopped (its summary was already printed): exit 3.
    DeploymentNotSucceeded,
    /// A bug: exit 255.
    Internal,
    /// stdout was closed (e.g. `| head`): exit 1 without a message (what the output said cannot be relied on).
    BrokenPipe,
}

/// An error of a command, with the hints printed after it.
#[derive(Debug)]
pub(crate) struct CliError {
    pub(crate) kind: ErrorKind,
    /// The first line is printed after `Error: `; further lines are printed as they are.
    pub(crate) message: String,
    pub(crate) hints: Vec<String>,
    /// The server could not be reached; trying again later may work.
    pub(crate) transient: bool,
}

pub(crate) type CliResult<T> = Result<T, CliError>;

impl CliError {
    pub(crate) fn user(message: impl Into<String>) -> CliError {
        CliError { kind: ErrorKind::User, message: message.into(), hints: Vec::new(), transient: false }
    }

    pub(crate) fn internal(message: impl Into<String>) -> CliError {
        CliError { kind: ErrorKind::Internal, message: message.into(), hints: Vec::new(), transient: false }
    }

    pub(crate) fn deployment_not_succeeded(message: impl Into<String>) -> CliError {
        CliError {
            kind: ErrorKind::DeploymentNotSucceeded,
            message: message.into(),
            hints: Vec::new(),
            transient: false,
        }
    }

    pub(crate) fn broken_pipe() -> CliError {
        CliError { kind: ErrorKind::BrokenPipe, message: String::new(), hints: Vec::new(), transient: false }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> CliError {
        self.hints.push(hint.into());
        self
    }

    /// Maps an API client error, adding a hint where the fix is obvious.
    pub(crate) fn api(error: ApiClientError) -> CliError {
        match &error {
            ApiClientError::Transport { endpoint, source } => {
                let mut message = format!("cannot reach {endpoint}");
                let mut cause: Option<&dyn std::error::Error> = Some(source);
                while let Some(error) = cause {
                    let text = error.to_string();
                    if !message.ends_with(&text) {
                        let _ = write!(message, ": {text}");
                    }
                    cause = error.source();
                }
                let error = CliError { transient: true, ..CliError::user(message) };
                error.hint(format!(
                    "is cutover-server running at {endpoint}? Start one with `cutover-server` (or try `cutover dev`), \
                     or point --endpoint / CUTOVER_ENDPOINT at it"
                ))
            }
            ApiClientError::Protocol(_) => CliError::user(error.to_string())
                .hint("is the endpoint a cutover-server? Check --endpoint / CUTOVER_ENDPOINT"),
            ApiClientError::Api { type_, .. } => {
                let hint = match type_.as_str() {
                    "ApplicationDoesNotExistException" => Some(
                        "list applications with `cutover applications list`, or create one with \
                         `cutover create-application --application-name NAME`",
                    ),
                    "DeploymentGroupDoesNotExistException" => {
                        Some("list the groups with `cutover groups list --application-name APP`")
                    }
                    "DeploymentConfigDoesNotExistException" => Some(
                        "the predefined configurations are CodeDeployDefault.OneAtATime, \
                         CodeDeployDefault.HalfAtATime and CodeDeployDefault.AllAtOnce; create others with \
                         `cutover create-deployment-config`",
                    ),
                    "RevisionRequiredException" => {
                        Some("pass --revision or --s3-location, or push a revision with `cutover push`")
                    }
                    "DeploymentLimitExceededException" => Some(
                        "wait for the active deployment to finish, or stop it with \
                         `cutover stop-deployment --deployment-id ID`",
                    ),
                    "DeploymentDoesNotExistException" => Some("list deployments with `cutover deployments list`"),
                    "InstanceNotRegisteredException" => Some("list instances with `cutover instances list`"),
                    "MissingAuthenticationTokenException" | "UnrecognizedClientException" => Some(
                        "sign requests with an access key: set AWS_SHARED_CREDENTIALS_FILE=DATA_DIR/admin-credentials \
                         (the server writes it on first start), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                    ),
                    "InvalidSignatureException" => {
                        Some("check the secret key, and that this machine's clock is within 5 minutes of the server's")
                    }
                    "AccessDeniedException" => {
                        Some("this key's role does not allow the operation: ask an admin (`cutover keys create`)")
                    }
                    _ => None,
                };
                let error = CliError::user(error.to_string());
                match hint {
                    Some(hint) => error.hint(hint),
                    None => error,
                }
            }
        }
    }

    pub(crate) fn exit_code(&self) -> u8 {
        match self.kind {
            ErrorKind::User => EXIT_USER,
            ErrorKind::DeploymentNotSucceeded => EXIT_DEPLOYMENT,
            ErrorKind::Internal => EXIT_INTERNAL,
            ErrorKind::BrokenPipe => EXIT_USER,
        }
    }

    /// Prints the error to stderr and returns its exit code.
    pub(crate) fn report(&self) -> ExitCode {
        if self.kind != ErrorKind::BrokenPipe {
            let mut text = String::new();
            let mut lines = self.message.lines();
            let first = lines.next().unwrap_or("");
            match self.kind {
                ErrorKind::Internal => {
                    let _ = writeln!(text, "Internal error: {first}");
                }
                _ => {
                    let _ = writeln!(text, "Error: {first}");
                }
            }
            for line in lines {
                let _ = writeln!(text, "{line}");
            }
            for hint in &self.hints {
                let _ = writeln!(text, "Hint: {hint}");
            }
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
        ExitCode::from(self.exit_code())
    }
}

impl From<ApiClientError> for CliError {
    fn from(error: ApiClientError) -> CliError {
        CliError::api(error)
    }
}
