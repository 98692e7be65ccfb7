//! The embedded S3 endpoint, driven by the real AWS CLI (from the compatibility virtualenv, `target/compat-venv`)
//! with `AWS_ENDPOINT_URL_S3` and `AWS_ENDPOINT_URL_CODEDEPLOY` pointing at the server: bucket and object commands,
//! multipart uploads, `aws deploy push` and a deployment of what it pushed; and, over raw HTTP, Cutover's plain
//! upload and an `aws-chunked` upload with a trailing checksum.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cutover_harness::{Cluster, ClusterOptions};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::DEPLOY_TIMEOUT;

/// The AWS CLI of the compatibility virtualenv (`$CUTOVER_COMPAT_VENV`, else `target/compat-venv`).
pub(crate) fn aws_cli() -> PathBuf {
    let venv = match std::env::var_os("CUTOVER_COMPAT_VENV") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let exe = std::env::current_exe().expect("current_exe");
            // target/<profile>/deps/<exe> → target/compat-venv
            exe.ancestors().nth(3).expect("target dir").join("compat-venv")
        }
    };
    let aws = venv.join("bin/aws");
    assert!(
        aws.exists(),
        "the AWS CLI is not installed at {}: create the virtualenv with `.ci/run`, or with `python3 -m venv {venv} && \
         {venv}/bin/pip install -r crates/harness/tests/compat/requirements.txt`",
        aws.display(),
        venv = venv.display()
    );
    aws
}

/// Runs the AWS CLI against one cluster, in a clean AWS environment signed with the cluster's admin key.
struct Aws {
    exe: PathBuf,
    home: PathBuf,
    endpoint: String,
    credentials: PathBuf,
}

impl Aws {
    fn new(cluster: &Cluster) -> Aws {
        let home = cluster.dir.path().join("aws-home");
        std::fs::create_dir_all(&home).expect("home");
        Aws { exe: aws_cli(), home, endpoint: cluster.endpoint.clone(), credentials: cluster.credentials_file() }
    }

    async fn output(&self, args: &[&str], cwd: &Path) -> Output {
        let mut command = Command::new(&self.exe);
        command.args(args).current_dir(cwd);
        for (key, _) in std::env::vars() {
            if key.starts_with("AWS_") {
                command.env_remove(key);
            }
        }
        command
            .env("HOME", &self.home)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", self.home.join("config"))
            // The admin key the server wrote on first start, exactly as a user would use it.
            .env("AWS_SHARED_CREDENTIALS_FILE", &self.credentials)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            // `aws deploy push` talks to both services; it ignores --endpoint-url for S3, so both go by environment.
            .env("AWS_ENDPOINT_URL_S3", &self.endpoint)
            .env("AWS_ENDPOINT_URL_CODEDEPLOY", &self.endpoint);
        tokio::task::spawn_blocking(move || command.output().expect("run aws")).await.expect("aws task")
    }

    /// Runs a command that must succeed; returns its stdout.
    async fn ok(&self, args: &[&str], cwd: &Path, cluster: &Cluster) -> String {
        let out = self.output(args, cwd).await;
        assert!(
            out.status.success(),
            "aws {} failed:\n{}{}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            cluster.logs()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a command that must fail with the S3 or CodeDeploy error `code`.
    async fn fails(&self, code: &str, args: &[&str], cwd: &Path) {
        let out = self.output(args, cwd).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains(code),
            "aws {}: expected {code}, got: {stderr}",
            args.join(" ")
        );
    }
}

/// `len` bytes that do not compress (so a zip of them stays as large).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_s3_commands_manage_buckets_and_objects_including_multipart() {
    let cluster = Cluster::start(ClusterOptions { agents: 0, ..Default::default() }).await;
    let aws = Aws::new(&cluster);
    let work = cluster.dir.path().join("files");
    std::fs::create_dir_all(&work).expect("work dir");
    std::fs::write(work.join("small.txt"), "hello\n").expect("small");
    // Above the CLI's 8 MiB multipart threshold: two parts.
    let big = noise(9 * 1024 * 1024 + 123, 7);
    std::fs::write(work.join("big.bin"), &big).expect("big");

    assert!(aws.ok(&["s3", "mb", "s3://bundles"], &work, &cluster).await.contains("make_bucket: bundles"));
    aws.fails("BucketAlreadyOwnedByYou", &["s3", "mb", "s3://bundles"], &work).await;
    aws.fails("NoSuchBucket", &["s3", "cp", "small.txt", "s3://missing/small.txt"], &work).await;
    aws.ok(&["s3", "cp", "small.txt", "s3://bundles/notes/small.txt"], &work, &cluster).await;
    aws.ok(&["s3", "cp", "big.bin", "s3://bundles/big.bin"], &work, &cluster).await;

    let buckets = aws.ok(&["s3", "ls"], &work, &cluster).await;
    assert!(buckets.lines().any(|line| line.ends_with(" bundles")), "aws s3 ls: {buckets}");
    let top = aws.ok(&["s3", "ls", "s3://bundles/"], &work, &cluster).await;
    assert!(
        top.contains("PRE notes/") && top.contains(&format!("{} big.bin", big.len())),
        "aws s3 ls s3://bundles/: {top}"
    );
    let all = aws.ok(&["s3", "ls", "--recursive", "s3://bundles/"], &work, &cluster).await;
    assert!(all.contains("6 notes/small.txt"), "aws s3 ls --recursive: {all}");

    let head: Value = serde_json::from_str(
        &aws.ok(&["s3api", "head-object", "--bucket", "bundles", "--key", "big.bin"], &work, &cluster).await,
    )
    .expect("head-object JSON");
    assert_eq!(head["ContentLength"], json!(big.len()), "{head}");
    assert!(head["ETag"].as_str().is_some_and(|etag| etag.ends_with("-2\"")), "a two-part upload's ETag: {head}");
    assert!(head["VersionId"].as_str().is_some_and(|id| !id.is_empty()), "a version id: {head}");
    let small: Value = serde_json::from_str(
        &aws.ok(&["s3api", "head-object", "--bucket", "bundles", "--key", "notes/small.txt"], &work, &cluster).await,
    )
    .expect("head-object JSON");
    assert_eq!(
        small["ETag"],
        json!("\"b1946ac92492d2347c6235b4d2611184\""),
        "the MD5 of a single-part object: {small}"
    );

    // Downloading it back (ranged GETs, since it is above the threshold) gives the same bytes.
    aws.ok(&["s3", "cp", "s3://bundles/big.bin", "back.bin"], &work, &cluster).await;
    assert!(std::fs::read(work.join("back.bin")).expect("back.bin") == big, "downloaded bytes differ");
    // Presigned URLs are refused (documented in docs/security.md): only header signatures are checked.
    let url = aws.ok(&["s3", "presign", "s3://bundles/notes/small.txt"], &work, &cluster).await;
    let path = url.trim().strip_prefix(&cluster.endpoint).unwrap_or_else(|| panic!("presigned URL: {url}"));
    assert!(path.contains("Signature="), "{url}");
    let (status, _, body) = raw_http(&cluster, "GET", path, &[], b"").await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 403, "GET {path}: {body}");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");

    aws.fails("BucketNotEmpty", &["s3", "rb", "s3://bundles"], &work).await;
    aws.ok(&["s3", "rm", "--recursive", "s3://bundles/"], &work, &cluster).await;
    aws.ok(&["s3", "rb", "s3://bundles"], &work, &cluster).await;
    let buckets = aws.ok(&["s3", "ls"], &work, &cluster).await;
    assert!(!buckets.contains("bundles"), "deleted bucket still listed: {buckets}");
}

/// Writes a revision directory whose AfterInstall hook records the BUNDLE_* variables.
fn revision_dir(dir: &Path, version: &str, padding: usize) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir.join("site")).expect("site");
    std::fs::create_dir_all(dir.join("scripts")).expect("scripts");
    std::fs::write(
        dir.join("appspec.yml"),
        "version: 0.0\nos: linux\nfiles:\n  - source: site\n    destination: /srv/web\nfile_exists_behavior: OVERWRITE\n\
         hooks:\n  AfterInstall:\n    - location: scripts/env.sh\n      timeout: 60\n",
    )
    .expect("appspec");
    let script = dir.join("scripts/env.sh");
    std::fs::write(&script, "#!/bin/sh\nenv | grep '^BUNDLE_' | sort > \"$CUTOVER_TEST_HOST_DIR/bundle-env\"\n")
        .expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::write(dir.join("site/index.html"), format!("{version}\n")).expect("index");
    let blob = dir.join("site/blob.bin");
    if padding > 0 {
        std::fs::write(&blob, noise(padding, 11)).expect("padding");
    } else {
        let _ = std::fs::remove_file(&blob);
    }
}

/// The `--s3-location` that `aws deploy push` prints for create-deployment.
fn pushed_location(stdout: &str) -> String {
    stdout
        .split_whitespace()
        .skip_while(|word| *word != "--s3-location")
        .nth(1)
        .unwrap_or_else(|| panic!("no --s3-location in the output of aws deploy push: {stdout}"))
        .to_owned()
}

fn location_field<'a>(location: &'a str, name: &str) -> &'a str {
    location
        .split(',')
        .find_map(|pair| pair.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {name} in {location}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_deploy_push_uploads_and_registers_a_revision_that_deploys() {
    let cluster = Cluster::start(ClusterOptions { agents: 1, ..Default::default() }).await;
    cluster.create_app_and_group("web", "prod", "CodeDeployDefault.AllAtOnce").await;
    let aws = Aws::new(&cluster);
    let work = cluster.dir.path().join("push");
    let source = work.join("source");
    std::fs::create_dir_all(&source).expect("work dir");
    aws.ok(&["s3", "mb", "s3://releases"], &work, &cluster).await;

    // 7 MB of noise takes the zip above push's 6 MB limit: a multipart upload.
    revision_dir(&source, "v1", 7 * 1024 * 1024);
    let push =
        ["deploy", "push", "--application-name", "web", "--s3-location", "s3://releases/web.zip", "--source", "source"];
    let v1 = pushed_location(&aws.ok(&push, &work, &cluster).await);
    assert!(location_field(&v1, "eTag").ends_with("-2"), "a multipart ETag: {v1}");
    // The same key again, now small (one PutObject): a new version.
    revision_dir(&source, "v2", 0);
    let v2 = pushed_location(&aws.ok(&push, &work, &cluster).await);
    assert_ne!(location_field(&v1, "version"), location_field(&v2, "version"), "{v1} {v2}");
    assert_eq!(location_field(&v2, "eTag").len(), 32, "an MD5 ETag: {v2}");

    let listed: Value = serde_json::from_str(
        &aws.ok(&["deploy", "list-application-revisions", "--application-name", "web"], &work, &cluster).await,
    )
    .expect("list-application-revisions JSON");
    assert_eq!(listed["revisions"].as_array().map(Vec::len), Some(2), "both pushes are registered: {listed}");

    // The first push's location still names the first version, although the key now holds the second.
    let agent = &cluster.agents[0];
    for (location, version) in [(&v1, "v1"), (&v2, "v2")] {
        let out = aws
            .ok(
                &[
                    "deploy",
                    "create-deployment",
                    "--application-name",
                    "web",
                    "--deployment-group-name",
                    "prod",
                    "--s3-location",
                    location,
                ],
                &work,
                &cluster,
            )
            .await;
        let id = serde_json::from_str::<Value>(&out).expect("create-deployment JSON")["deploymentId"]
            .as_str()
            .expect("id")
            .to_owned();
        let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
        assert_eq!(info.status.as_deref(), Some("Succeeded"), "{info:?}\n{}", cluster.logs());
        assert_eq!(std::fs::read_to_string(agent.dest("/srv/web/index.html")).expect("index"), format!("{version}\n"));
        let env = std::fs::read_to_string(agent.host_dir.join("bundle-env")).expect("bundle env");
        assert_eq!(
            env,
            format!(
                "BUNDLE_BUCKET=releases\nBUNDLE_ETAG={}\nBUNDLE_KEY=web.zip\nBUNDLE_VERSION={}\n",
                location_field(location, "eTag"),
                location_field(location, "version")
            )
        );
    }

    // An ETag that is not the named version's is refused.
    let mismatched = format!(
        "bucket=releases,key=web.zip,bundleType=zip,eTag={},version={}",
        location_field(&v2, "eTag"),
        location_field(&v1, "version")
    );
    aws.fails(
        "InvalidRevisionException",
        &[
            "deploy",
            "create-deployment",
            "--application-name",
            "web",
            "--deployment-group-name",
            "prod",
            "--s3-location",
            &mismatched,
        ],
        &work,
    )
    .await;
}

/// Sends one raw HTTP/1.1 request; returns the status, the headers (lower-case names) and the body.
/// A request signed (SigV4, service `s3`) with the cluster's admin key; the payload hash is the
/// `x-amz-content-sha256` given in `headers`, or the body's.
async fn http(
    cluster: &Cluster,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let credentials = cutover_harness::admin_credentials(&cluster.server.data_dir);
    signed_http(cluster, &credentials, method, path, headers, body).await
}

async fn signed_http(
    cluster: &Cluster,
    credentials: &cutover_client::Credentials,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    use cutover_auth::sigv4;
    let payload = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("x-amz-content-sha256"))
        .map_or_else(|| sigv4::payload_hash(body), |(_, value)| (*value).to_owned());
    let mut to_sign: Vec<(String, String)> = vec![("host".to_owned(), cluster.server.addr.clone())];
    to_sign.extend(
        headers
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("x-amz-content-sha256"))
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
    );
    let (bare, query) = path.split_once('?').unwrap_or((path, ""));
    let request = sigv4::RequestParts { method, path: bare, query, headers: &to_sign, payload_sha256: &payload };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64;
    let added = sigv4::sign(&request, credentials, "us-east-1", "s3", now);
    let all: Vec<(String, String)> = to_sign.into_iter().skip(1).chain(added).collect();
    let all: Vec<(&str, &str)> = all.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
    raw_http(cluster, method, path, &all, body).await
}

/// A request exactly as given (unsigned unless `headers` sign it).
async fn raw_http(
    cluster: &Cluster,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(&cluster.server.addr).await.expect("connect");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        cluster.server.addr,
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    stream.write_all(body).await.expect("write body");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let mut lines = head.lines();
    let status =
        lines.next().and_then(|line| line.split(' ').nth(1)).and_then(|code| code.parse().ok()).expect("status");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    (status, headers, response[split + 4..].to_vec())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_puts_create_their_bucket_and_aws_chunked_bodies_are_decoded_and_checked() {
    let cluster = Cluster::start(ClusterOptions { agents: 0, ..Default::default() }).await;

    // Unsigned requests, and writes by a viewer, are refused before anything is stored.
    let (status, _, body) = raw_http(&cluster, "PUT", "/fresh/a.txt", &[("x-cutover-upload", "1")], b"x").await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("<Code>AccessDenied</Code>") && body.contains("Missing Authentication Token"), "{body}");
    let (_, viewer) = cluster.client_with_role("viewer").await;
    let (status, _, body) =
        signed_http(&cluster, &viewer, "PUT", "/fresh/a.txt", &[("x-cutover-upload", "1")], b"x").await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("not authorized to perform: s3:PutObject"), "{body}");
    let (status, _, _) = http(&cluster, "GET", "/fresh/a.txt", &[], b"").await;
    assert_eq!(status, 404, "the refused uploads stored nothing");

    // Cutover's own upload (`cutover push`): the bucket appears, the ETag is the SHA-256.
    let sha256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
    let (status, headers, _) = http(&cluster, "PUT", "/fresh/a.txt", &[("x-cutover-upload", "1")], b"hello\n").await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "etag"), Some(format!("\"{sha256}\"").as_str()), "{headers:?}");
    assert_eq!(header(&headers, "x-cutover-sha256"), Some(sha256));

    // An aws-chunked body with a trailing CRC32 (the seed signature covers the headers; the trailer is checked).
    let chunked =
        |crc: &str| format!("5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:{crc}\r\n\r\n").into_bytes();
    let chunked_headers = [
        ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
        ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "11"),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
    ];
    let (status, headers, body) = http(&cluster, "PUT", "/fresh/b.txt", &chunked_headers, &chunked("DUoRhQ==")).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(header(&headers, "etag"), Some("\"5eb63bbbe01eeed093cb22bb8f5acdc3\""), "S3's MD5 ETag: {headers:?}");
    let (status, _, body) = http(&cluster, "GET", "/fresh/b.txt", &[], b"").await;
    assert_eq!((status, body.as_slice()), (200, &b"hello world"[..]));

    // A trailer that does not match the payload: refused, and the object keeps its content.
    let (status, _, body) = http(&cluster, "PUT", "/fresh/b.txt", &chunked_headers, &chunked("bRLpUA==")).await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("<Code>BadDigest</Code>"), "{body}");
    let (status, _, body) = http(&cluster, "GET", "/fresh/b.txt", &[], b"").await;
    assert_eq!((status, body.as_slice()), (200, &b"hello world"[..]));

    // Cutover's own paths are never buckets.
    for path in ["/agent/v1/nope", "/v1/nope", "/agent"] {
        let (status, _, _) = http(&cluster, "PUT", path, &[], b"x").await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, _, body) = http(&cluster, "GET", "/healthz", &[], b"").await;
    assert_eq!((status, body.as_slice()), (200, &b"ok"[..]));
}
