//! GitHub revisions (`revisionType: GitHub`): the server fetches the commit from `--git-base-url` (here a local
//! directory of repositories, as a self-hoster would use), builds a tar bundle from it and deploys it; hooks see
//! `BUNDLE_COMMIT`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use cutover_api_types::codedeploy::Operation;
use cutover_harness::{Cluster, ClusterOptions};
use serde_json::{Value, json};

use crate::DEPLOY_TIMEOUT;

/// Runs git in `dir`; returns its trimmed stdout.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Cutover Test",
            "-c",
            "user.email=test@cutover.invalid",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .output()
        .expect("run git (the tests and the server need it installed)");
    assert!(out.status.success(), "git {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
    std::fs::write(path, text).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A repository with two commits, `v1` then `v2` of `site/index.html`; returns both commit ids.
fn two_commit_repository(repo: &Path) -> (String, String) {
    std::fs::create_dir_all(repo).expect("repo dir");
    git(repo, &["init", "--quiet"]);
    let appspec = "version: 0.0\nos: linux\nfiles:\n  - source: site\n    destination: /srv/site\n\
                   hooks:\n  AfterInstall:\n    - location: scripts/commit.sh\n      timeout: 60\n";
    write(&repo.join("appspec.yml"), appspec, 0o644);
    write(
        &repo.join("scripts/commit.sh"),
        "#!/bin/sh\nprintf '%s' \"$BUNDLE_COMMIT\" > \"$CUTOVER_TEST_HOST_DIR/bundle-commit\"\n\
         printf '%s' \"${BUNDLE_BUCKET-unset}\" > \"$CUTOVER_TEST_HOST_DIR/bundle-bucket\"\n",
        0o755,
    );
    write(&repo.join("site/index.html"), "v1\n", 0o644);
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "--quiet", "-m", "v1"]);
    let first = git(repo, &["rev-parse", "HEAD"]);
    write(&repo.join("site/index.html"), "v2\n", 0o644);
    git(repo, &["commit", "--quiet", "-am", "v2"]);
    let second = git(repo, &["rev-parse", "HEAD"]);
    (first, second)
}

fn github(repository: &str, commit: &str) -> Value {
    json!({"revisionType": "GitHub", "gitHubLocation": {"repository": repository, "commitId": commit}})
}

/// The exception and message of a call that must fail.
async fn failure(cluster: &Cluster, operation: Operation, input: &Value) -> (String, String) {
    match cluster.client.call::<_, Value>(operation, input).await {
        Ok(out) => panic!("{} succeeded: {out}", operation.name()),
        Err(error) => (error.exception().unwrap_or("").to_owned(), error.to_string()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploys_a_commit_that_is_not_the_head_and_tells_hooks_which() {
    let repos = tempfile::tempdir().expect("tempdir");
    let repo = repos.path().join("acme/site");
    let (first, second) = two_commit_repository(&repo);
    let base = repos.path().to_str().expect("utf-8 path").to_owned();
    let cluster = Cluster::start(ClusterOptions {
        agents: 1,
        server_args: vec!["--git-base-url".to_owned(), base],
        ..Default::default()
    })
    .await;
    cluster.create_app_and_group("site", "prod", "CodeDeployDefault.AllAtOnce").await;

    // The revision registers like an S3 one.
    let revision = github("acme/site", &first);
    let _: Value = cluster
        .client
        .call(Operation::RegisterApplicationRevision, &json!({"applicationName": "site", "revision": revision}))
        .await
        .expect("RegisterApplicationRevision");

    let id = cluster.deploy("site", "prod", &revision, json!({})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{info:?}\n{}", cluster.logs());
    let agent = &cluster.agents[0];
    assert_eq!(
        std::fs::read_to_string(agent.dest("/srv/site/index.html")).expect("index"),
        "v1\n",
        "the first commit's file"
    );
    assert_eq!(std::fs::read_to_string(agent.host_dir.join("bundle-commit")).expect("commit"), first);
    assert_eq!(
        std::fs::read_to_string(agent.host_dir.join("bundle-bucket")).expect("bucket"),
        "unset",
        "no S3 variables"
    );

    // Built once per commit: with the repository gone, the same commit still deploys, from the server's bundle.
    std::fs::rename(&repo, repos.path().join("acme/moved")).expect("move the repository away");
    let again = cluster.deploy("site", "prod", &revision, json!({})).await;
    let info = cluster.wait_deployment(&again, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{info:?}\n{}", cluster.logs());

    // A commit or repository the server cannot fetch fails the request, naming both.
    let deploy =
        |revision: Value| json!({"applicationName": "site", "deploymentGroupName": "prod", "revision": revision});
    let (code, message) = failure(&cluster, Operation::CreateDeployment, &deploy(github("acme/site", &second))).await;
    assert_eq!(code, "InvalidRevisionException", "{message}");
    assert!(message.contains("acme/site") && message.contains(&second), "{message}");
    std::fs::rename(repos.path().join("acme/moved"), &repo).expect("move the repository back");
    let unknown = "0123456789abcdef0123456789abcdef01234567";
    let (code, message) = failure(&cluster, Operation::CreateDeployment, &deploy(github("acme/site", unknown))).await;
    assert_eq!(code, "InvalidRevisionException", "{message}");
    assert!(message.contains("acme/site") && message.contains(unknown) && message.contains("not our ref"), "{message}");
    let (code, message) = failure(&cluster, Operation::CreateDeployment, &deploy(github("acme/nope", &first))).await;
    assert_eq!(code, "InvalidRevisionException", "{message}");
    assert!(message.contains("acme/nope") && message.contains(&first), "{message}");
    // Malformed locations are refused before anything is fetched.
    for (repository, commit) in
        [("acme/site", "main"), ("acme/site", &first[..12]), ("../etc", first.as_str()), ("acme", first.as_str())]
    {
        let (code, message) = failure(&cluster, Operation::CreateDeployment, &deploy(github(repository, commit))).await;
        assert_eq!(code, "InvalidRevisionException", "{repository} {commit}: {message}");
    }
    // The second commit, once reachable again, deploys over the first.
    let latest = cluster.deploy("site", "prod", &github("acme/site", &second), json!({})).await;
    let info = cluster.wait_deployment(&latest, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{info:?}\n{}", cluster.logs());
    assert_eq!(std::fs::read_to_string(agent.dest("/srv/site/index.html")).expect("index"), "v2\n");
    assert_eq!(std::fs::read_to_string(agent.host_dir.join("bundle-commit")).expect("commit"), second);
}
