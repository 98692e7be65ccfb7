//! Revision blobs in an S3-compatible store: a real `moto_server` (from the compatibility virtualenv) holds the
//! bucket, the server is started with `--s3-bucket` and agents download bundles through the server. Every way a
//! revision arrives — `cutover push`'s upload, the embedded S3 endpoint (a multipart upload by the AWS CLI), a GitHub
//! revision — must end up as an object under its SHA-256 in the bucket, and a server pointed at a bucket it cannot
//! use must refuse to start and say which. With PostgreSQL (`CUTOVER_TEST_PG_URL`), two replicas share a bucket and
//! nothing else: a multipart upload whose parts the load balancer spreads over both still completes.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use cutover_harness::{Bundle, Cluster, ClusterOptions, binary, scratch_postgres_database, wait_for};
use serde_json::json;

use crate::compat_python::venv;
use crate::{DEPLOY_TIMEOUT, RECORD_HOOK, appspec_all_hooks, hook_lines};

/// A `moto_server` on a free port, killed when dropped.
struct Moto {
    child: Child,
    endpoint: String,
    venv: PathBuf,
}

impl Moto {
    async fn start(log: &Path) -> Moto {
        let venv = venv();
        let exe = venv.join("bin/moto_server");
        assert!(exe.exists(), "{} is missing: recreate the compatibility virtualenv (`.ci/run`)", exe.display());
        // moto_server takes a fixed port: ask the kernel for a free one and hand it over.
        let port =
            TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("free port").port();
        let log = std::fs::File::create(log).expect("moto log");
        let child = Command::new(exe)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn moto_server");
        wait_for("moto_server to listen", Duration::from_secs(60), || async move {
            TcpStream::connect(("127.0.0.1", port)).ok().map(|_| ())
        })
        .await;
        Moto { child, endpoint: format!("http://127.0.0.1:{port}"), venv }
    }

    /// Runs Python with a boto3 S3 client `s3` on moto; returns stdout.
    async fn boto3(&self, code: &str) -> String {
        let script = format!(
            "import boto3, json\ns3 = boto3.client('s3', endpoint_url={:?}, region_name='us-east-1', \
             aws_access_key_id='moto', aws_secret_access_key='moto')\n{code}\n",
            self.endpoint
        );
        let mut command = Command::new(self.venv.join("bin/python"));
        command.arg("-c").arg(script);
        clean_aws_env(&mut command);
        let out = run(command).await;
        assert!(out.status.success(), "boto3 against moto failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    async fn create_bucket(&self, bucket: &str) {
        self.boto3(&format!("s3.create_bucket(Bucket={bucket:?})")).await;
    }

    /// Every object of the bucket: key → size.
    async fn objects(&self, bucket: &str) -> Vec<(String, u64)> {
        let out = self
            .boto3(&format!(
                "pages = s3.get_paginator('list_objects_v2').paginate(Bucket={bucket:?})\n\
                 print(json.dumps([[o['Key'], o['Size']] for p in pages for o in p.get('Contents', [])]))"
            ))
            .await;
        serde_json::from_str(out.trim()).expect("listing JSON")
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn clean_aws_env(command: &mut Command) {
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            command.env_remove(key);
        }
    }
}

async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("run")).await.expect("task")
}

/// Server flags for the bucket `bucket` on moto, the secret in a file.
fn s3_args(moto: &Moto, bucket: &str, dir: &Path) -> Vec<String> {
    let secret = dir.join("s3-secret");
    std::fs::write(&secret, "moto-secret\n").expect("secret file");
    [
        "--s3-bucket",
        bucket,
        "--s3-endpoint",
        &moto.endpoint,
        "--s3-allow-http",
        "--s3-prefix",
        "cutover/e2e",
        "--s3-access-key-id",
        "moto",
        "--s3-secret-access-key-file",
    ]
    .iter()
    .map(|text| (*text).to_owned())
    .chain([secret.display().to_string()])
    .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn blob_key(sha256: &str) -> String {
    format!("cutover/e2e/sha256/{}/{sha256}", &sha256[..2])
}

/// A repository (under `repos`, named `acme/site`) with one commit; returns its id.
fn one_commit_repository(repos: &Path) -> String {
    let repo = repos.join("acme/site");
    std::fs::create_dir_all(repo.join("site")).expect("repo dir");
    std::fs::write(
        repo.join("appspec.yml"),
        "version: 0.0\nos: linux\nfiles:\n  - source: site\n    destination: /srv/site\n",
    )
    .expect("appspec");
    std::fs::write(repo.join("site/index.html"), "from git\n").expect("file");
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(["-c", "user.name=Cutover Test", "-c", "user.email=test@cutover.invalid"])
            .args(args)
            .output()
            .expect("run git");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    git(&["init", "--quiet"]);
    git(&["add", "-A"]);
    git(&["commit", "--quiet", "-m", "site"]);
    git(&["rev-parse", "HEAD"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revisions_live_in_the_s3_bucket_and_agents_get_them_through_the_server() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let moto = Moto::start(&scratch.path().join("moto.log")).await;
    moto.create_bucket("revisions").await;
    let repos = scratch.path().join("repos");
    let commit = one_commit_repository(&repos);
    let mut server_args = s3_args(&moto, "revisions", scratch.path());
    server_args.extend(["--git-base-url".to_owned(), repos.display().to_string()]);
    let cluster = Cluster::start(ClusterOptions { agents: 2, server_args, ..Default::default() }).await;
    let log = std::fs::read_to_string(&cluster.server.log).unwrap_or_default();
    assert!(log.contains("s3://revisions/cutover/e2e/"), "the start-up log names the bucket:\n{log}");
    // Nothing is kept locally: only the (empty) directory of temporary files.
    assert!(!cluster.server.data_dir.join("blobs/sha256").exists());

    // 1. `cutover push`'s upload, deployed to both hosts.
    cluster.create_app_and_group("app", "g", "CodeDeployDefault.AllAtOnce").await;
    let bundle = Bundle::new()
        .file("appspec.yml", &appspec_all_hooks("files:\n  - source: app.txt\n    destination: /srv/app\n", ""), 0o644)
        .file("app.txt", "kept in S3\n", 0o644)
        .script("scripts/record.sh", RECORD_HOOK)
        .tgz();
    let sha = sha256_hex(&bundle);
    let revision = cluster.push_bundle("app", bundle.clone(), "tgz").await;
    assert!(moto.objects("revisions").await.contains(&(blob_key(&sha), bundle.len() as u64)), "the pushed bundle");
    let id = cluster.deploy("app", "g", &revision, json!({})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{info:?}\n{}", cluster.logs());
    for agent in &cluster.agents {
        assert_eq!(std::fs::read_to_string(agent.dest("/srv/app/app.txt")).expect("installed"), "kept in S3\n");
        assert!(hook_lines(agent).contains(&format!("ValidateService {id}")), "{}", agent.name);
    }

    // 2. The embedded S3 endpoint: the AWS CLI's multipart upload (above its 8 MiB threshold), and a PutObject whose
    // Content-MD5 does not match its body, which must leave nothing in the bucket.
    let work = scratch.path().join("files");
    std::fs::create_dir_all(&work).expect("work dir");
    let big = noise(9 * 1024 * 1024 + 5);
    std::fs::write(work.join("big.bin"), &big).expect("big");
    std::fs::write(work.join("bad.bin"), "a body whose MD5 is not the one sent\n").expect("bad");
    let aws = |args: &'static [&'static str]| aws_s3(&cluster, &work, args);
    let before = moto.objects("revisions").await;
    let out = aws(&["s3", "mb", "s3://bundles"]).await;
    assert!(out.status.success(), "aws s3 mb: {}", String::from_utf8_lossy(&out.stderr));
    let out = aws(&["s3", "cp", "big.bin", "s3://bundles/big.bin"]).await;
    assert!(out.status.success(), "aws s3 cp: {}\n{}", String::from_utf8_lossy(&out.stderr), cluster.logs());
    let out = aws(&["s3", "cp", "s3://bundles/big.bin", "big.copy"]).await;
    assert!(out.status.success(), "aws s3 cp back: {}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read(work.join("big.copy")).expect("copy") == big, "the multipart upload read back differs");
    let out = aws(&[
        "s3api",
        "put-object",
        "--bucket",
        "bundles",
        "--key",
        "bad.bin",
        "--body",
        "bad.bin",
        "--content-md5",
        "1B2M2Y8AsgTpgAmY7PhCfg==",
    ])
    .await;
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("BadDigest"),
        "a PutObject with a wrong Content-MD5: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = moto.objects("revisions").await;
    let added: Vec<&(String, u64)> = after.iter().filter(|object| !before.contains(object)).collect();
    assert_eq!(
        added,
        [&(blob_key(&sha256_hex(&big)), big.len() as u64)],
        "the multipart upload is one blob; its parts and the refused body are gone"
    );

    // 3. A GitHub revision: the bundle the server builds from the commit goes to the bucket too.
    let github = json!({"revisionType": "GitHub", "gitHubLocation": {"repository": "acme/site", "commitId": commit}});
    let id = cluster.deploy("app", "g", &github, json!({})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{info:?}\n{}", cluster.logs());
    for agent in &cluster.agents {
        assert_eq!(std::fs::read_to_string(agent.dest("/srv/site/index.html")).expect("installed"), "from git\n");
    }
    let blobs: Vec<String> = moto
        .objects("revisions")
        .await
        .into_iter()
        .map(|(key, _)| key)
        .filter(|key| key.starts_with("cutover/e2e/sha256/"))
        .collect();
    assert_eq!(blobs.len(), 3, "the pushed bundle, the multipart upload and the git bundle: {blobs:?}");
    assert!(!cluster.server.data_dir.join("blobs/sha256").exists(), "nothing stored locally");
}

/// Runs the AWS CLI of the compatibility virtualenv in `cwd` against the cluster's embedded S3 endpoint, signed
/// with its admin key.
async fn aws_s3(cluster: &Cluster, cwd: &Path, args: &[&str]) -> Output {
    let home = cluster.dir.path().join("aws-home");
    std::fs::create_dir_all(&home).expect("aws home");
    let mut command = Command::new(venv().join("bin/aws"));
    command.args(args).current_dir(cwd);
    clean_aws_env(&mut command);
    command
        .env("HOME", &home)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", cluster.credentials_file())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL_S3", &cluster.endpoint);
    run(command).await
}

/// Bytes that do not compress.
fn noise(len: u32) -> Vec<u8> {
    (0..len).map(|n: u32| (n.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

/// Starts a server that must fail at start; returns its output.
async fn failed_start(name: &str, args: Vec<String>, dir: &Path) -> String {
    let data_dir = dir.join(name);
    let mut command = Command::new(binary("cutover-server"));
    command.args(["--listen", "127.0.0.1:0", "--tls", "off", "--data-dir"]).arg(&data_dir).args(&args);
    clean_aws_env(&mut command);
    let out = tokio::time::timeout(Duration::from_secs(60), run(command)).await.expect("the server exits by itself");
    assert!(!out.status.success(), "the server started with {args:?}");
    assert!(!data_dir.join("listen-addr").exists(), "the server listened before checking the bucket");
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_pointed_at_a_bucket_it_cannot_use_refuses_to_start_and_says_why() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let moto = Moto::start(&scratch.path().join("moto.log")).await;

    let output = failed_start("missing-bucket", s3_args(&moto, "no-such-bucket", scratch.path()), scratch.path()).await;
    assert!(
        output.contains("the S3 bucket `no-such-bucket` does not exist at") && output.contains(&moto.endpoint),
        "{output}"
    );

    // Nothing listens on this port any more.
    let closed = TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("port");
    let mut args = s3_args(&moto, "revisions", scratch.path());
    let endpoint = format!("http://{closed}");
    args[3] = endpoint.clone();
    let output = failed_start("unreachable", args, scratch.path()).await;
    assert!(output.contains(&format!("cannot reach the S3 store at {endpoint} (bucket `revisions`)")), "{output}");

    // A plain-http endpoint without --s3-allow-http is refused before anything is contacted.
    let args: Vec<String> =
        ["--s3-bucket", "revisions", "--s3-endpoint", &moto.endpoint].iter().map(|text| (*text).to_owned()).collect();
    let output = failed_start("plain-http", args, scratch.path()).await;
    assert!(output.contains("s3_allow_http"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_sharing_only_the_bucket_and_the_database_complete_each_others_uploads() {
    let Some(url) = scratch_postgres_database() else {
        eprintln!("CUTOVER_TEST_PG_URL is not set: PostgreSQL test skipped");
        return;
    };
    let scratch = tempfile::tempdir().expect("tempdir");
    let moto = Moto::start(&scratch.path().join("moto.log")).await;
    moto.create_bucket("revisions").await;
    let options =
        ClusterOptions { agents: 3, server_args: s3_args(&moto, "revisions", scratch.path()), ..Default::default() };
    let cluster = Cluster::start_replicated(options, 2, &url).await;

    // The AWS CLI uploads the parts of a 20 MiB file on several connections, which the balancer sends to both
    // replicas in turn; whichever gets CompleteMultipartUpload reads every part from the bucket.
    let work = cluster.dir.path().join("files");
    std::fs::create_dir_all(&work).expect("work dir");
    let big = noise(20 * 1024 * 1024 + 3);
    std::fs::write(work.join("big.bin"), &big).expect("big");
    for args in [
        &["s3", "mb", "s3://bundles"][..],
        &["s3", "cp", "big.bin", "s3://bundles/big.bin"],
        &["s3", "cp", "s3://bundles/big.bin", "big.copy"],
    ] {
        let out = aws_s3(&cluster, &work, args).await;
        assert!(out.status.success(), "aws {args:?}: {}\n{}", String::from_utf8_lossy(&out.stderr), cluster.logs());
    }
    assert!(std::fs::read(work.join("big.copy")).expect("copy") == big, "the multipart upload read back differs");
    let objects = moto.objects("revisions").await;
    assert!(objects.contains(&(blob_key(&sha256_hex(&big)), big.len() as u64)), "{objects:?}");
    assert!(!objects.iter().any(|(key, _)| key.contains("/uploads/")), "parts left behind: {objects:?}");

    // A deployment through the balancer: agents fetch the bundle from whichever replica they reach.
    cluster.create_app_and_group("app", "g", "CodeDeployDefault.AllAtOnce").await;
    let bundle = Bundle::new()
        .file("appspec.yml", "version: 0.0\nos: linux\nfiles:\n  - source: app.txt\n    destination: /srv/app\n", 0o644)
        .file("app.txt", "shared through S3\n", 0o644)
        .tgz();
    let revision = cluster.push_bundle("app", bundle, "tgz").await;
    let id = cluster.deploy("app", "g", &revision, json!({})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{info:?}\n{}", cluster.logs());
    for agent in &cluster.agents {
        assert_eq!(std::fs::read_to_string(agent.dest("/srv/app/app.txt")).expect("installed"), "shared through S3\n");
    }
    for server in std::iter::once(&cluster.server).chain(&cluster.replicas) {
        assert!(!server.data_dir.join("blobs/sha256").exists(), "{} stored blobs locally", server.data_dir.display());
    }
}
