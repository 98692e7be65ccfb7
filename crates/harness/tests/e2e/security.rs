//! Security end to end: SigV4 with the real AWS CLI and boto3 (right key, wrong secret, unknown key, expired date,
//! roles), agents confined to their own instance, enrolment tokens, deregistration lock-out, signed revisions, the
//! audit log, and the secrets the server keeps on disk.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use cutover_api_types::agent::{CompleteRequest, Diagnostics, HeartbeatRequest, PollRequest, RegisterRequest};
use cutover_api_types::codedeploy::{self as wire, Operation};
use cutover_client::Credentials;
use cutover_client::agent::AgentClient;
use cutover_harness::{Bundle, Cluster, ClusterOptions, binary, wait_for};
use serde_json::{Value, json};

use crate::DEPLOY_TIMEOUT;

fn site(version: &str) -> Bundle {
    Bundle::new()
        .file("appspec.yml", "version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /srv/app\n", 0o644)
        .file("app/version.txt", &format!("{version}\n"), 0o644)
}

/// Writes a credentials file with the given profiles.
fn credentials_file(path: &Path, profiles: &[(&str, &Credentials)]) {
    let text: String = profiles
        .iter()
        .map(|(profile, credentials)| cutover_auth::credentials_file::render(profile, credentials))
        .collect();
    std::fs::write(path, text).expect("credentials file");
}

/// Runs the real AWS CLI with `profile` of `credentials`, optionally under libfaketime's clock offset.
async fn aws(cluster: &Cluster, credentials: &Path, profile: &str, faketime: Option<&str>, args: &[&str]) -> Output {
    let exe = crate::s3::aws_cli();
    let home = cluster.dir.path().join("security-aws-home");
    std::fs::create_dir_all(&home).expect("home");
    let mut command = match faketime {
        Some(offset) => {
            let mut command = Command::new("faketime");
            command.arg("-f").arg(offset).arg(&exe);
            command
        }
        None => Command::new(&exe),
    };
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            command.env_remove(key);
        }
    }
    command
        .args(args)
        .arg("--endpoint-url")
        .arg(&cluster.endpoint)
        .env("HOME", &home)
        .env("AWS_SHARED_CREDENTIALS_FILE", credentials)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_PROFILE", profile)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1");
    tokio::task::spawn_blocking(move || command.output().expect("run aws")).await.expect("aws task")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_cli_and_boto3_are_authenticated_and_roles_are_enforced() {
    let cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
    cluster.create_app_and_group("app", "g", "CodeDeployDefault.AllAtOnce").await;
    let revision = cluster.push_bundle("app", site("v1").tgz(), "tgz").await;

    // The first start wrote the admin key, readable by its owner only.
    for file in ["admin-credentials", "enrollment-token", "master-key"] {
        let mode = std::fs::metadata(cluster.server.data_dir.join(file)).expect(file).permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    let admin = cutover_harness::admin_credentials(&cluster.server.data_dir);
    // The database keeps secrets sealed: the admin secret is nowhere in it.
    let db = std::fs::read(cluster.server.data_dir.join("cutover.db")).expect("db");
    assert!(!db.windows(admin.secret_access_key.len()).any(|w| w == admin.secret_access_key.as_bytes()));

    let (_, viewer) = cluster.client_with_role("viewer").await;
    let (_, deployer) = cluster.client_with_role("deployer").await;
    let wrong = Credentials { secret_access_key: "not-the-secret".into(), ..admin.clone() };
    let unknown = Credentials {
        access_key_id: "CUTONOSUCHKEY0000000".into(),
        secret_access_key: admin.secret_access_key.clone(),
    };
    let file = cluster.dir.path().join("profiles");
    credentials_file(
        &file,
        &[
            ("default", &admin),
            ("wrongsecret", &wrong),
            ("unknown", &unknown),
            ("viewer", &viewer),
            ("deployer", &deployer),
        ],
    );

    // The AWS CLI, exactly as the contract says: the server's own admin-credentials file.
    let ok = aws(&cluster, &cluster.credentials_file(), "default", None, &["deploy", "list-applications"]).await;
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("\"app\""));
    let out = aws(&cluster, &file, "wrongsecret", None, &["deploy", "list-applications"]).await;
    assert!(!out.status.success() && stderr(&out).contains("(InvalidSignatureException)"), "{}", stderr(&out));
    let out = aws(&cluster, &file, "unknown", None, &["deploy", "list-applications"]).await;
    assert!(!out.status.success() && stderr(&out).contains("(UnrecognizedClientException)"), "{}", stderr(&out));
    let out = aws(&cluster, &file, "default", Some("-10m"), &["deploy", "list-applications"]).await;
    assert!(
        !out.status.success()
            && stderr(&out).contains("(InvalidSignatureException)")
            && stderr(&out).contains("Signature expired"),
        "{}",
        stderr(&out)
    );
    let s3 = revision["s3Location"]["key"].as_str().expect("key");
    let location = format!("bucket=cutover-revisions,key={s3},bundleType=tgz");
    let deploy_args = [
        "deploy",
        "create-deployment",
        "--application-name",
        "app",
        "--deployment-group-name",
        "g",
        "--s3-location",
        &location,
    ];
    let out = aws(&cluster, &file, "viewer", None, &deploy_args).await;
    assert!(!out.status.success() && stderr(&out).contains("(AccessDeniedException)"), "{}", stderr(&out));
    assert!(stderr(&out).contains("not authorized to perform: codedeploy:CreateDeployment"), "{}", stderr(&out));
    let out = aws(&cluster, &file, "viewer", None, &["deploy", "get-application", "--application-name", "app"]).await;
    assert!(out.status.success(), "a viewer reads: {}", stderr(&out));
    let out =
        aws(&cluster, &file, "deployer", None, &["deploy", "create-application", "--application-name", "nope"]).await;
    assert!(!out.status.success() && stderr(&out).contains("(AccessDeniedException)"), "{}", stderr(&out));
    let out = aws(&cluster, &file, "deployer", None, &deploy_args).await;
    assert!(out.status.success(), "a deployer deploys: {}", stderr(&out));
    let id: Value = serde_json::from_slice(&out.stdout).expect("json");
    let id = id["deploymentId"].as_str().expect("deploymentId").to_owned();
    assert_eq!(cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await.status.as_deref(), Some("Succeeded"));

    // boto3, the same cases.
    let script = cluster_python(
        &cluster,
        &file,
        &[("CUTOVER_APP", "app"), ("CUTOVER_GROUP", "g"), ("CUTOVER_BUCKET", "cutover-revisions"), ("CUTOVER_KEY", s3)],
    )
    .await;
    let results: Value = serde_json::from_str(script.trim()).unwrap_or_else(|_| panic!("boto3 output: {script}"));
    assert_eq!(
        results,
        json!({
            "right_key": "ok",
            "wrong_secret": "InvalidSignatureException",
            "unknown_key": "UnrecognizedClientException",
            "viewer_reads": "ok",
            "viewer_deploys": "AccessDeniedException",
            "deployer_creates_application": "AccessDeniedException",
            "expired_date": "InvalidSignatureException",
        })
    );

    // The audit log names who did what, from where, and how it ended; only admins read it.
    let out = Command::new(binary("cutover"))
        .env_remove("AWS_ACCESS_KEY_ID")
        .env("AWS_SHARED_CREDENTIALS_FILE", cluster.credentials_file())
        .args(["--endpoint", &cluster.endpoint, "audit", "--limit", "200", "--json"])
        .output()
        .expect("cutover audit");
    assert!(out.status.success(), "{}", stderr(&out));
    let audit: Value = serde_json::from_slice(&out.stdout).expect("audit json");
    let events = audit["events"].as_array().expect("events");
    let find = |action: &str, key: &str, outcome: &str| {
        events.iter().any(|event| {
            event["action"] == action
                && event["accessKeyId"] == key
                && event["outcome"] == outcome
                && event["source"].as_str().is_some_and(|source| source.starts_with("127.0.0.1:"))
        })
    };
    assert!(find("CreateAccessKey", &admin.access_key_id, "Success"), "{audit}");
    assert!(find("CreateDeployment", &viewer.access_key_id, "AccessDeniedException"), "{audit}");
    assert!(find("CreateDeployment", &deployer.access_key_id, "Success"), "{audit}");
    assert!(find("CreateApplication", &deployer.access_key_id, "AccessDeniedException"), "{audit}");
    assert!(events.iter().all(|event| event["action"] != "ListApplications"), "reads are not audited: {audit}");
    let viewer_client = cutover_client::api::ApiClient::new(&cluster.endpoint).with_credentials(viewer.clone());
    let denied = viewer_client.call_cutover::<_, Value>("ListAuditEvents", &json!({})).await.expect_err("viewer");
    assert_eq!(denied.exception(), Some("AccessDeniedException"));
}

/// Runs `signature_cases.py` with the venv's Python; returns its stdout.
async fn cluster_python(cluster: &Cluster, credentials: &Path, env: &[(&str, &str)]) -> String {
    let aws = crate::s3::aws_cli();
    let python = aws.parent().expect("venv bin").join("python");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/compat/signature_cases.py");
    let home = cluster.dir.path().join("security-py-home");
    std::fs::create_dir_all(&home).expect("home");
    let mut command = Command::new(python);
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            command.env_remove(key);
        }
    }
    command
        .arg("-B")
        .arg(script)
        .env("HOME", &home)
        .env("AWS_SHARED_CREDENTIALS_FILE", credentials)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("CUTOVER_ENDPOINT", &cluster.endpoint)
        .envs(env.iter().copied());
    let out = tokio::task::spawn_blocking(move || command.output().expect("python")).await.expect("task");
    assert!(
        out.status.success(),
        "signature_cases.py failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The credential an agent wrote to its root.
fn agent_credentials(root: &Path) -> Credentials {
    let stored: Value =
        serde_json::from_slice(&std::fs::read(root.join("credentials.json")).expect("credentials.json")).expect("json");
    assert_eq!(stored["enrolled"], true);
    let mode = std::fs::metadata(root.join("credentials.json")).expect("meta").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    Credentials {
        access_key_id: stored["access_key_id"].as_str().expect("id").to_owned(),
        secret_access_key: stored["secret_access_key"].as_str().expect("secret").to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_speak_only_for_their_own_instance_and_deregistration_locks_them_out() {
    let cluster = Cluster::start(ClusterOptions {
        agents: 2,
        agent_args: vec!["--kill-grace-ms".into(), "500".into(), "--poll-wait-ms".into(), "1000".into()],
        ..Default::default()
    })
    .await;
    // A group of host-2 only.
    let _: Value =
        cluster.client.call(Operation::CreateApplication, &json!({"applicationName": "app"})).await.expect("app");
    let _: Value = cluster
        .client
        .call(
            Operation::CreateDeploymentGroup,
            &json!({
                "applicationName": "app", "deploymentGroupName": "g", "serviceRoleArn": "arn:aws:iam::0:role/x",
                "onPremisesInstanceTagFilters": [{"Key": "host", "Value": "host-2", "Type": "KEY_AND_VALUE"}],
            }),
        )
        .await
        .expect("group");
    let revision = cluster.push_bundle("app", site("v1").tgz(), "tgz").await;
    let id = cluster.deploy("app", "g", &revision, json!({})).await;
    assert_eq!(cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await.status.as_deref(), Some("Succeeded"));
    // The bundle digest: the ETag of Cutover's own upload is the SHA-256.
    let sha = revision["s3Location"]["eTag"].as_str().expect("etag").to_owned();

    let host1 = AgentClient::new(&cluster.endpoint)
        .expect("client")
        .with_credentials(agent_credentials(&cluster.agent("host-1").root));
    let host2 = AgentClient::new(&cluster.endpoint)
        .expect("client")
        .with_credentials(agent_credentials(&cluster.agent("host-2").root));
    let code = |error: cutover_client::agent::AgentClientError| match error {
        cutover_client::agent::AgentClientError::Rejected { status, error, .. } => (status, error.code),
        other => panic!("expected a rejection, got {other}"),
    };

    // host-1's key cannot poll, heartbeat or report as host-2.
    let poll = PollRequest { instance_name: "host-2".into(), wait_ms: 0, running_command_ids: Vec::new() };
    assert_eq!(
        code(host1.poll(&poll, Duration::from_secs(10)).await.expect_err("poll")),
        (403, "WrongInstance".into())
    );
    let beat = HeartbeatRequest { instance_name: "host-2".into(), command_id: None };
    assert_eq!(code(host1.heartbeat(&beat).await.expect_err("heartbeat")), (403, "WrongInstance".into()));
    let report = |instance: &str| CompleteRequest {
        instance_name: instance.into(),
        command_id: format!("{id}/host-2/0"),
        status: "Failed".into(),
        diagnostics: Diagnostics::default(),
        start_time_ms: 0,
        end_time_ms: 0,
        log: String::new(),
    };
    assert_eq!(code(host1.complete(&report("host-2")).await.expect_err("complete")), (403, "WrongInstance".into()));
    assert_eq!(code(host1.complete(&report("host-1")).await.expect_err("complete")), (403, "WrongInstance".into()));
    // Nor fetch the bundle of a deployment it is not a target of; host-2 can.
    let dir = cluster.dir.path();
    let error =
        host1.download(&format!("/agent/v1/bundles/{sha}"), &dir.join("stolen"), |_| {}).await.expect_err("bundle");
    assert_eq!(code(error), (403, "AccessDenied".into()));
    assert!(!dir.join("stolen").exists() || std::fs::metadata(dir.join("stolen")).expect("meta").len() == 0);
    let bytes =
        host2.download(&format!("/agent/v1/bundles/{sha}"), &dir.join("own"), |_| {}).await.expect("own bundle");
    assert!(bytes > 0);
    // Unsigned agent requests are refused.
    let anonymous = AgentClient::new(&cluster.endpoint).expect("client");
    let error = anonymous.poll(&poll, Duration::from_secs(10)).await.expect_err("unsigned poll");
    assert_eq!(code(error), (401, "MissingAuthenticationTokenException".into()));
    // The events of host-2 were not touched by any of this.
    let target = cluster.target(&id, "host-2").await;
    assert_eq!(target.status.as_deref(), Some("Succeeded"));

    // Deregistering host-1 locks its agent out at once; the agent stops instead of running on.
    let _: Value = cluster
        .client
        .call(Operation::DeregisterOnPremisesInstance, &json!({"instanceName": "host-1"}))
        .await
        .expect("deregister");
    let beat = HeartbeatRequest { instance_name: "host-1".into(), command_id: None };
    assert_eq!(
        code(host1.heartbeat(&beat).await.expect_err("locked out")),
        (401, "UnrecognizedClientException".into())
    );
    let mut cluster = cluster;
    let agent = cluster.agents.iter_mut().find(|agent| agent.name == "host-1").expect("host-1");
    let mut child = agent.child.take().expect("running");
    let status = wait_for("the deregistered agent to stop", Duration::from_secs(30), || {
        let exited = child.try_wait().ok().flatten();
        async move { exited }
    })
    .await;
    assert!(!status.success());
    let log = std::fs::read_to_string(&agent.log).expect("agent log");
    assert!(log.contains("UnrecognizedClientException"), "{log}");
}

/// Starts an agent process by hand (not through the harness, which always passes the server's token).
fn spawn_agent(cluster: &Cluster, name: &str, token_file: Option<&Path>) -> (std::process::Child, PathBuf) {
    let base = cluster.dir.path().join("manual").join(name);
    std::fs::create_dir_all(base.join("root")).expect("root");
    let log = base.join("agent.log");
    let mut command = Command::new(binary("cutover-agent"));
    command
        .args(["--server", &cluster.endpoint, "--name", name, "--tags", "env=other", "--poll-wait-ms", "1000"])
        .arg("--root")
        .arg(base.join("root"))
        .arg("--destination-root")
        .arg(base.join("fs"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).expect("log"))
        .stderr(std::fs::File::create(base.join("agent.err")).expect("log"));
    if let Some(token) = token_file {
        command.arg("--enrollment-token-file").arg(token);
    }
    (command.spawn().expect("spawn agent"), base)
}

async fn exits_with(mut child: std::process::Child, base: &Path, needle: &str) {
    let status = wait_for("the agent to give up", Duration::from_secs(30), || {
        let exited = child.try_wait().ok().flatten();
        async move { exited }
    })
    .await;
    let err = std::fs::read_to_string(base.join("agent.err")).unwrap_or_default();
    assert!(!status.success() && err.contains(needle), "expected {needle:?}: {err}");
}

async fn registered(cluster: &Cluster, name: &str) -> bool {
    let out: Result<wire::GetOnPremisesInstanceOutput, _> =
        cluster.client.call(Operation::GetOnPremisesInstance, &json!({"instanceName": name})).await;
    out.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolment_needs_a_valid_token_and_cannot_take_over_an_enrolled_host() {
    let cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
    let dir = cluster.dir.path().to_owned();

    // No token, a wrong token: the agent stops with a clear error and nothing is registered.
    let (child, base) = spawn_agent(&cluster, "no-token", None);
    exits_with(child, &base, "start it once with --enrollment-token-file").await;
    std::fs::write(dir.join("bad-token"), "cutover-enroll-v1.abc.def\n").expect("token");
    let (child, base) = spawn_agent(&cluster, "bad-token", Some(&dir.join("bad-token")));
    exits_with(child, &base, "the enrolment token is not valid").await;
    assert!(!registered(&cluster, "no-token").await && !registered(&cluster, "bad-token").await);

    // A one-time token enrols one host; the second is refused.
    let out: cutover_api_types::cutover::CreateEnrollmentTokenOutput = cluster
        .client
        .call_cutover("CreateEnrollmentToken", &json!({"ttlSeconds": 600, "maxUses": 1}))
        .await
        .expect("token");
    std::fs::write(dir.join("once"), &out.token).expect("token");
    let (mut first, _) = spawn_agent(&cluster, "first", Some(&dir.join("once")));
    wait_for("first to register", Duration::from_secs(30), || async {
        registered(&cluster, "first").await.then_some(())
    })
    .await;
    let (child, base) = spawn_agent(&cluster, "second", Some(&dir.join("once")));
    exits_with(child, &base, "the enrolment token has been used up").await;
    let _ = first.kill();
    let _ = first.wait();

    // A valid token does not let another host claim an enrolled instance's name.
    let token = cluster.server.data_dir.join("enrollment-token");
    let (child, base) = spawn_agent(&cluster, "host-1", Some(&token));
    exits_with(child, &base, "already enrolled with another key").await;
    // An expired token is refused.
    let out: cutover_api_types::cutover::CreateEnrollmentTokenOutput =
        cluster.client.call_cutover("CreateEnrollmentToken", &json!({"ttlSeconds": 1})).await.expect("token");
    let request = RegisterRequest {
        instance_name: "late".into(),
        enrollment_token: Some(out.token),
        access_key_id: Some("CUTALATE000000000000".into()),
        secret_access_key: Some("s".repeat(40)),
        ..RegisterRequest::default()
    };
    let expires = out.expire_time;
    // Waiting on the clock itself (not on an arbitrary sleep): the token is valid until `expires`.
    wait_for("the token's expiry time", Duration::from_secs(10), || async move {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs_f64();
        (now > expires + 0.01).then_some(())
    })
    .await;
    let anonymous = AgentClient::new(&cluster.endpoint).expect("client");
    match anonymous.enroll(&request).await {
        Err(cutover_client::agent::AgentClientError::Rejected { status, error, .. }) => {
            assert_eq!((status, error.code.as_str()), (401, "InvalidEnrollmentToken"));
            assert!(error.message.contains("expired"), "{}", error.message);
        }
        other => panic!("an expired token enrolled: {other:?}"),
    }
    assert!(!registered(&cluster, "late").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_that_trusts_signing_keys_deploys_only_revisions_signed_by_them() {
    let cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
    cluster.create_app_and_group("app", "g", "CodeDeployDefault.AllAtOnce").await;
    let dir = cluster.dir.path().to_owned();
    let cli = |args: &[&str]| {
        Command::new(binary("cutover"))
            .env_remove("AWS_ACCESS_KEY_ID")
            .env("AWS_SHARED_CREDENTIALS_FILE", cluster.credentials_file())
            .arg("--endpoint")
            .arg(&cluster.endpoint)
            .args(args)
            .output()
            .expect("cutover")
    };
    let key_of = |out: &Output| {
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines().find_map(|line| line.strip_prefix("Public key: ")).map(str::to_owned).expect("public key")
    };
    let trusted = cli(&["signing", "generate-key", "--out", dir.join("trusted.key").to_str().expect("utf8")]);
    assert!(trusted.status.success(), "{}", stderr(&trusted));
    let trusted_key = key_of(&trusted);
    assert_eq!(std::fs::metadata(dir.join("trusted.key")).expect("key").permissions().mode() & 0o777, 0o600);
    let other = cli(&["signing", "generate-key", "--out", dir.join("other.key").to_str().expect("utf8")]);
    assert!(other.status.success());
    let out =
        cli(&["signing", "trust", "--application-name", "app", "--deployment-group-name", "g", "--key", &trusted_key]);
    assert!(out.status.success(), "{}", stderr(&out));

    let source = dir.join("rev");
    std::fs::create_dir_all(source.join("app")).expect("mkdir");
    std::fs::write(source.join("appspec.yml"), "version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /srv/app\nfile_exists_behavior: OVERWRITE\n").expect("appspec");
    let deploy = |version: &str, sign: Option<&Path>| {
        std::fs::write(source.join("app/version.txt"), version).expect("version");
        let mut args = vec!["push", "--application-name", "app", "--source", source.to_str().expect("utf8"), "--json"];
        let sign_path;
        if let Some(key) = sign {
            sign_path = key.to_str().expect("utf8").to_owned();
            args.push("--sign");
            args.push(&sign_path);
        }
        let pushed = cli(&args);
        assert!(pushed.status.success(), "{}", stderr(&pushed));
        let revision = String::from_utf8_lossy(&pushed.stdout).into_owned();
        cli(&[
            "deploy",
            "--application-name",
            "app",
            "--deployment-group-name",
            "g",
            "--revision",
            revision.trim(),
            "--wait",
        ])
    };
    let unsigned = deploy("unsigned", None);
    assert!(!unsigned.status.success());
    assert!(
        stderr(&unsigned).contains("InvalidRevisionException")
            && stderr(&unsigned).contains("requires revisions signed"),
        "{}",
        stderr(&unsigned)
    );
    let wrong = deploy("wrong", Some(&dir.join("other.key")));
    assert!(!wrong.status.success() && stderr(&wrong).contains("requires revisions signed"), "{}", stderr(&wrong));
    let agent = cluster.agent("host-1");
    assert!(!agent.dest("/srv/app/version.txt").exists(), "nothing unsigned reached the host");
    let signed = deploy("signed", Some(&dir.join("trusted.key")));
    assert!(signed.status.success(), "{}\n{}", String::from_utf8_lossy(&signed.stdout), stderr(&signed));
    assert_eq!(std::fs::read_to_string(agent.dest("/srv/app/version.txt")).expect("installed"), "signed");
    let log = std::fs::read_to_string(&agent.log).unwrap_or_default();
    // The agent checked the signature itself (its deployments log says so).
    let logs: String = walk(&agent.root)
        .into_iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "log"))
        .map(|path| std::fs::read_to_string(path).unwrap_or_default())
        .collect();
    assert!(logs.contains(&format!("signed by trusted key {trusted_key}")), "{logs}\n{log}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_the_generated_ca_serves_api_s3_and_agents() {
    let cluster = Cluster::start(ClusterOptions { agents: 1, tls: true, ..Default::default() }).await;
    assert!(cluster.endpoint.starts_with("https://"), "{}", cluster.endpoint);
    let data = &cluster.server.data_dir;
    assert_eq!(
        std::fs::read_to_string(data.join("endpoint")).expect("endpoint").trim(),
        format!("https://{}", cluster.server.addr)
    );
    for key in ["tls/ca.key", "tls/server.key"] {
        assert_eq!(std::fs::metadata(data.join(key)).expect(key).permissions().mode() & 0o777, 0o600, "{key}");
    }
    // A whole deployment over HTTPS: upload (S3 endpoint), API, agent enrolment, polls, bundle download, reports.
    cluster.create_app_and_group("app", "g", "CodeDeployDefault.AllAtOnce").await;
    let revision = cluster.push_bundle("app", site("tls").tgz(), "tgz").await;
    let id = cluster.deploy("app", "g", &revision, json!({})).await;
    assert_eq!(cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await.status.as_deref(), Some("Succeeded"));
    assert_eq!(
        std::fs::read_to_string(cluster.agent("host-1").dest("/srv/app/version.txt")).expect("installed"),
        "tls\n"
    );

    // The AWS CLI trusts the CA through AWS_CA_BUNDLE; without it, the certificate is refused.
    let run_aws = |ca: bool| {
        let mut command = Command::new(crate::s3::aws_cli());
        for (key, _) in std::env::vars() {
            if key.starts_with("AWS_") {
                command.env_remove(key);
            }
        }
        command
            .args(["deploy", "list-applications", "--endpoint-url", &cluster.endpoint])
            .env("HOME", cluster.dir.path())
            .env("AWS_SHARED_CREDENTIALS_FILE", cluster.credentials_file())
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_MAX_ATTEMPTS", "1");
        if ca {
            command.env("AWS_CA_BUNDLE", data.join("tls/ca.pem"));
        }
        command.output().expect("aws")
    };
    let trusted = run_aws(true);
    assert!(
        trusted.status.success() && String::from_utf8_lossy(&trusted.stdout).contains("\"app\""),
        "{}",
        stderr(&trusted)
    );
    let untrusted = run_aws(false);
    assert!(
        !untrusted.status.success() && stderr(&untrusted).contains("CERTIFICATE_VERIFY_FAILED"),
        "{}",
        stderr(&untrusted)
    );
    // So does the `cutover` CLI with --ca-file.
    let out = Command::new(binary("cutover"))
        .env_remove("AWS_ACCESS_KEY_ID")
        .env("AWS_SHARED_CREDENTIALS_FILE", cluster.credentials_file())
        .arg("--ca-file")
        .arg(data.join("tls/ca.pem"))
        .args(["--endpoint", &cluster.endpoint, "applications", "list", "--json"])
        .output()
        .expect("cutover");
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("\"app\""), "{}", stderr(&out));
    // Plain HTTP to the TLS port gets no API answer.
    let plain = cutover_client::api::ApiClient::new(&format!("http://{}", cluster.server.addr))
        .with_credentials(cutover_harness::admin_credentials(data));
    let error = plain.call::<_, Value>(Operation::ListApplications, &json!({})).await.expect_err("plain http");
    assert!(error.exception().is_none(), "{error}");
}
