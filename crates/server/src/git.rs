//! GitHub revisions: `revisionType: GitHub` with `gitHubLocation {repository: "owner/repo", commitId: "<sha>"}`.
//!
//! The commit is fetched from `--git-base-url` (default `https://github.com/`; a local directory or `file://` URL
//! for self-hosted repositories) into a bare cache repository per repository under `DATA_DIR/git/`, archived as a
//! tar bundle with `git archive` into the blob store, and remembered in the store's `git_bundles` table, so each
//! commit is fetched and built once. From there it is deployed like any other bundle; agents get the commit in
//! `BundleSpec.commit_id`, which hooks see as `BUNDLE_COMMIT`.
//!
//! This uses the `git` command (the server host needs git) rather than gix: no second Git implementation to build
//! (gix is ~125 crates), and the host's Git configuration applies, e.g. a credential helper for private
//! repositories. It fetches exactly one commit (`--depth 1`) by its id.
//!
//! The fetch happens in front of the CodeDeploy API handler ([`api`]), before CreateDeployment opens its store
//! transaction: on SQLite that transaction holds the store's only connection, and a clone must not stall every other
//! request. The handler then only looks the bundle up (`resolve_bundle` in `api/deployments.rs`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use cutover_api_types::codedeploy::{self as wire, TARGET_PREFIX};
use cutover_store::GitBundleRow;
use tokio::process::Command;

use crate::error::{ApiError, ApiResult};
use crate::{AppState, Config};

/// Checks `owner/repo`: one slash, GitHub's name characters, no `.` or `..` (the name becomes a path and a URL).
pub(crate) fn valid_repository(repository: &str) -> bool {
    let Some((owner, repo)) = repository.split_once('/') else { return false };
    let part_ok = |part: &str| {
        !part.is_empty()
            && part.len() <= 100
            && part != "."
            && part != ".."
            && !part.starts_with('-')
            && part.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    part_ok(owner) && part_ok(repo)
}

/// Checks a full commit id: 40 hex digits (SHA-1), or 64 (SHA-256 repositories).
pub(crate) fn valid_commit(commit: &str) -> bool {
    matches!(commit.len(), 40 | 64) && commit.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Fetches commits and builds their bundles; one per server.
pub(crate) struct GitRevisions {
    base_url: String,
    cache_dir: PathBuf,
    timeout: Duration,
    /// One git operation at a time: concurrent fetches into one cache repository would fight over its lock files,
    /// and the second request for a commit then finds the bundle the first one built.
    lock: tokio::sync::Mutex<()>,
}

impl GitRevisions {
    pub(crate) fn new(config: &Config) -> GitRevisions {
        GitRevisions {
            base_url: config.git_base_url.clone(),
            cache_dir: config.data_dir.join("git"),
            timeout: Duration::from_secs(config.git_timeout_secs.max(1)),
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Where `repository` is fetched from.
    fn url(&self, repository: &str) -> String {
        format!("{}/{repository}", self.base_url.trim_end_matches('/'))
    }

    /// The URL without credentials (`https://user:token@host/` → `https://***@host/`), for messages.
    fn redact(&self, text: &str) -> String {
        let Some(userinfo) = userinfo(&self.base_url) else { return text.to_owned() };
        let text = text.replace(userinfo, "***");
        // Git sometimes shows the user without the password; the password alone must never show.
        match userinfo.split_once(':') {
            Some((_, password)) if !password.is_empty() => text.replace(password, "***"),
            _ => text,
        }
    }

    async fn cached(&self, state: &AppState, repository: &str, commit: &str) -> ApiResult<Option<GitBundleRow>> {
        let mut tx = state.store().begin().await?;
        let row = tx.git_bundle(repository, commit).await?;
        let Some(row) = row else { return Ok(None) };
        // A bundle recorded but missing from the blob store (e.g. deleted by hand) is built again.
        let stored = state
            .inner
            .blobs
            .exists(&row.sha256)
            .await
            .map_err(|error| ApiError::Internal(format!("blob store: {error}")))?;
        Ok(stored.then_some(row))
    }

    /// Makes sure the bundle of `repository` at `commit` is in the blob store and the store; returns it.
    pub(crate) async fn ensure(&self, state: &AppState, repository: &str, commit: &str) -> ApiResult<GitBundleRow> {
        let commit = commit.to_ascii_lowercase();
        if let Some(row) = self.cached(state, repository, &commit).await? {
            return Ok(row);
        }
        let _guard = self.lock.lock().await;
        if let Some(row) = self.cached(state, repository, &commit).await? {
            return Ok(row);
        }
        let repo_dir = self.cache_dir.join(format!("{repository}.git"));
        if !repo_dir.join("HEAD").exists() {
            std::fs::create_dir_all(&repo_dir)
                .map_err(|error| ApiError::Internal(format!("{}: {error}", repo_dir.display())))?;
            self.git(&["init", "--quiet", "--bare", "."], &repo_dir)
                .await
                .map_err(|failure| self.failure(repository, &commit, failure))?;
        }
        let have = self.git(&["cat-file", "-e", &format!("{commit}^{{commit}}")], &repo_dir).await.is_ok();
        if !have {
            let url = self.url(repository);
            tracing::info!(message = "Fetching a commit.", repository, commit, url = %self.redact(&url));
            self.git(&["fetch", "--quiet", "--no-tags", "--depth", "1", &url, &commit], &repo_dir)
                .await
                .map_err(|failure| self.failure(repository, &commit, failure))?;
        }
        let row = self.archive(state, repository, &commit, &repo_dir).await?;
        let mut tx = state.store().begin().await?;
        tx.put_git_bundle(&row).await?;
        tx.commit().await?;
        tracing::info!(message = "Built a bundle from a commit.", repository, commit, sha256 = %row.sha256, size = row.size);
        Ok(row)
    }

    /// `git archive --format=tar <commit>` streamed into the blob store.
    async fn archive(
        &self,
        state: &AppState,
        repository: &str,
        commit: &str,
        repo_dir: &std::path::Path,
    ) -> ApiResult<GitBundleRow> {
        let mut child = command(repo_dir)
            .args(["archive", "--format=tar", commit])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|error| self.failure(repository, commit, GitFailure::Spawn(error)))?;
        let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(ApiError::Internal("git archive without pipes".to_owned()));
        };
        let temp_name = state.inner.clock.uuid();
        let work = async {
            // Read stderr alongside stdout, so a chatty git never blocks on a full pipe.
            let mut errors = Vec::new();
            let (staged, _) = tokio::join!(
                state.inner.blobs.stage(tokio_util::io::ReaderStream::new(stdout), &temp_name),
                tokio::io::AsyncReadExt::read_to_end(&mut stderr, &mut errors)
            );
            (staged, child.wait().await, errors)
        };
        let (staged, status, errors) = tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| self.failure(repository, commit, GitFailure::TimedOut(self.timeout)))?;
        let staged = staged
            .map_err(|error| ApiError::Internal(format!("storing the bundle of {repository}@{commit}: {error}")))?;
        match status {
            Ok(status) if status.success() => {}
            Ok(_) => {
                return Err(self.failure(
                    repository,
                    commit,
                    GitFailure::Failed(String::from_utf8_lossy(&errors).into_owned()),
                ));
            }
            Err(error) => return Err(ApiError::Internal(format!("git archive: {error}"))),
        }
        let row = GitBundleRow {
            repository: repository.to_owned(),
            commit_id: commit.to_owned(),
            sha256: staged.sha256.clone(),
            size: staged.size as i64,
            create_time: state.inner.clock.now_ms(),
        };
        staged
            .commit()
            .await
            .map_err(|error| ApiError::Internal(format!("storing the bundle of {repository}@{commit}: {error}")))?;
        Ok(row)
    }

    /// Runs git in `dir` within the time limit.
    async fn git(&self, args: &[&str], dir: &std::path::Path) -> Result<(), GitFailure> {
        let run =
            command(dir).args(args).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).output();
        match tokio::time::timeout(self.timeout, run).await {
            Err(_) => Err(GitFailure::TimedOut(self.timeout)),
            Ok(Err(error)) => Err(GitFailure::Spawn(error)),
            Ok(Ok(output)) if output.status.success() => Ok(()),
            Ok(Ok(output)) => Err(GitFailure::Failed(String::from_utf8_lossy(&output.stderr).into_owned())),
        }
    }

    fn failure(&self, repository: &str, commit: &str, failure: GitFailure) -> ApiError {
        let url = self.redact(&self.url(repository));
        let detail = match failure {
            GitFailure::Spawn(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return ApiError::new(
                    "InvalidRevisionException",
                    "GitHub revisions need the `git` command on the Cutover server, and it is not installed.",
                );
            }
            GitFailure::Spawn(error) => return ApiError::Internal(format!("cannot run git: {error}")),
            GitFailure::TimedOut(limit) => format!("git did not finish within {} s", limit.as_secs()),
            GitFailure::Failed(stderr) => self.redact(&reason(&stderr)),
        };
        ApiError::new(
            "InvalidRevisionException",
            format!("Cannot fetch commit {commit} of GitHub repository {repository} from {url}: {detail}"),
        )
    }
}

/// Why a git command failed.
enum GitFailure {
    Spawn(std::io::Error),
    TimedOut(Duration),
    /// Its stderr.
    Failed(String),
}

/// A git command in `dir` that never prompts for credentials and is killed when dropped (at its time limit).
fn command(dir: &std::path::Path) -> Command {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    command
}

/// The line of git's stderr that says what went wrong: its first `fatal:` (or `error:`) line, else its last line.
fn reason(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().map(str::trim).filter(|line| !line.is_empty()).collect();
    let first_with = |prefix: &str| lines.iter().find_map(|line| line.strip_prefix(prefix)).map(str::trim);
    first_with("fatal:")
        .or_else(|| first_with("error:"))
        .or_else(|| lines.last().copied())
        .unwrap_or("git failed")
        .to_owned()
}

/// The `user:password` of `scheme://user:password@host/…`.
fn userinfo(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    authority.rsplit_once('@').map(|(userinfo, _)| userinfo).filter(|userinfo| !userinfo.is_empty())
}

/// The GitHub revision a CreateDeployment request names, if it names one Cutover can fetch.
fn github_revision(body: &[u8]) -> Option<(String, String)> {
    let input: wire::CreateDeploymentInput = serde_json::from_slice(body).ok()?;
    let revision = input.revision?;
    if revision.revision_type.as_deref() != Some("GitHub") {
        return None;
    }
    let location = revision.git_hub_location?;
    let (repository, commit) = (location.repository?, location.commit_id?);
    (valid_repository(&repository) && valid_commit(&commit)).then_some((repository, commit))
}

/// `POST /`, CodeDeploy's API: a CreateDeployment of a GitHub revision first gets its commit's bundle built (see the
/// module docs); everything else goes straight to the dispatcher.
pub(crate) async fn api(
    State(state): State<AppState>,
    Extension(git): Extension<Arc<GitRevisions>>,
    principal: Extension<crate::auth::Principal>,
    source: Extension<crate::auth::Source>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let create_deployment = headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .and_then(|target| target.strip_prefix(TARGET_PREFIX))
        .is_some_and(|operation| operation == ".CreateDeployment");
    if create_deployment
        && principal.role.allows("CreateDeployment")
        && let Some((repository, commit)) = github_revision(&body)
    {
        // In a task of its own: a client that gives up waiting (the AWS CLI reads for 60 s) must not abort the fetch,
        // so that its retry finds the bundle built, or waits for it, instead of starting over.
        let fetch = tokio::spawn({
            let (git, state) = (git.clone(), state.clone());
            async move { git.ensure(&state, &repository, &commit).await }
        });
        let error = match fetch.await {
            Ok(Ok(_)) => return crate::api::handle(State(state), principal, source, headers, body).await,
            Ok(Err(error)) => error,
            Err(error) => ApiError::Internal(format!("the git fetch task failed: {error}")),
        };
        let mut response = error.into_response();
        if let Ok(value) = HeaderValue::from_str(&state.inner.clock.uuid()) {
            response.headers_mut().insert("x-amzn-requestid", value);
        }
        return response;
    }
    crate::api::handle(State(state), principal, source, headers, body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_and_commit_syntax() {
        for good in ["acme/site", "a-b/c.d_e", "Owner/Repo.git"] {
            assert!(valid_repository(good), "{good}");
        }
        for bad in [
            "",
            "acme",
            "acme/",
            "/site",
            "a/b/c",
            "../site",
            "acme/..",
            "acme/.",
            "-x/site",
            "acme/si te",
            "acme/s%2e",
        ] {
            assert!(!valid_repository(bad), "{bad}");
        }
        assert!(valid_commit(&"a".repeat(40)) && valid_commit(&"F".repeat(64)));
        assert!(!valid_commit("abc123") && !valid_commit(&"g".repeat(40)) && !valid_commit(&"a".repeat(41)));
    }

    #[test]
    fn the_reason_is_gits_first_fatal_line() {
        let stderr = "fatal: '/srv/git/acme/nope' does not appear to be a git repository\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n";
        assert_eq!(reason(stderr), "'/srv/git/acme/nope' does not appear to be a git repository");
        assert_eq!(reason("remote: Repository not found.\n"), "remote: Repository not found.");
        assert_eq!(reason(""), "git failed");
    }

    #[test]
    fn credentials_in_the_base_url_are_redacted() {
        assert_eq!(userinfo("https://x-access-token:s3cret@github.com/"), Some("x-access-token:s3cret"));
        assert_eq!(userinfo("https://github.com/"), None);
        assert_eq!(userinfo("/srv/git"), None);
        assert_eq!(userinfo("file:///srv/git"), None);
    }
}
