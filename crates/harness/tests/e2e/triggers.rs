//! Triggers end to end: deployment and instance events delivered to a webhook receiver and an SMTP sink run by the
//! test, signed, in order, exactly once, retried after failures, and never holding up the deployment.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cutover_api_types::codedeploy::{self as wire, Operation};
use cutover_harness::http_stub::{HttpStub, Request};
use cutover_harness::{Bundle, Cluster, ClusterOptions, wait_for};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::DEPLOY_TIMEOUT;

const ALL_EVENTS: [&str; 8] = [
    "DeploymentStart",
    "DeploymentSuccess",
    "DeploymentFailure",
    "DeploymentStop",
    "DeploymentRollback",
    "InstanceStart",
    "InstanceSuccess",
    "InstanceFailure",
];

fn bundle(version: &str, fail: bool) -> Bundle {
    let validate = if fail { "echo \"broken on purpose\" >&2; exit 3" } else { "echo ok" };
    Bundle::new()
        .file(
            "appspec.yml",
            "version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /srv/app\nhooks:\n  ValidateService:\n    - location: validate.sh\n",
            0o644,
        )
        .file("app/version.txt", &format!("{version}\n"), 0o644)
        .script("validate.sh", validate)
}

async fn create_group(cluster: &Cluster, extra: serde_json::Value) -> Result<(), cutover_client::api::ApiClientError> {
    let mut input = serde_json::json!({
        "applicationName": "app", "deploymentGroupName": "g", "serviceRoleArn": "r",
        "deploymentConfigName": "CodeDeployDefault.OneAtATime",
        "onPremisesInstanceTagFilters": [{"Key": "env", "Value": "test", "Type": "KEY_AND_VALUE"}],
    });
    for (key, value) in extra.as_object().expect("object") {
        input[key] = value.clone();
    }
    cluster
        .client
        .call::<_, wire::CreateDeploymentGroupOutput>(Operation::CreateDeploymentGroup, &input)
        .await
        .map(|_| ())
}

async fn create_app(cluster: &Cluster) {
    let _: wire::CreateApplicationOutput = cluster
        .client
        .call(Operation::CreateApplication, &serde_json::json!({"applicationName": "app"}))
        .await
        .expect("app");
}

/// The server's webhook signing key, as the operator would read it.
fn signing_key(cluster: &Cluster) -> Vec<u8> {
    let path = cluster.server.data_dir.join("trigger-signing-key");
    let metadata = std::fs::metadata(&path).expect("the server generates its signing key");
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&metadata.permissions()) & 0o777, 0o600, "key file mode");
    std::fs::read_to_string(&path).expect("key").trim().as_bytes().to_vec()
}

fn json(request: &Request) -> serde_json::Value {
    serde_json::from_slice(&request.body).unwrap_or_else(|error| panic!("{error}: {}", request.body_text()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_gets_every_event_once_in_order_signed_and_retried() {
    // The receiver fails until the test lets it accept, and in any case the first two attempts.
    let accept = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicUsize::new(0));
    let stub = {
        let (accept, failures) = (accept.clone(), failures.clone());
        HttpStub::start(move |_| {
            if accept.load(Ordering::SeqCst) && failures.load(Ordering::SeqCst) >= 2 {
                (200, "text/plain", b"ok".to_vec())
            } else {
                failures.fetch_add(1, Ordering::SeqCst);
                (500, "text/plain", b"not now".to_vec())
            }
        })
        .await
    };
    let server_args = ["--trigger-retry-base-ms", "50", "--trigger-retry-max-ms", "400"].map(str::to_owned).to_vec();
    let cluster = Cluster::start(ClusterOptions { agents: 2, server_args, ..Default::default() }).await;
    create_app(&cluster).await;
    create_group(
        &cluster,
        serde_json::json!({"triggerConfigurations": [
            {"triggerName": "hook", "triggerTargetArn": stub.url("/codedeploy"), "triggerEvents": ALL_EVENTS},
        ]}),
    )
    .await
    .expect("group");
    let revision = cluster.push_bundle("app", bundle("v1", false).tgz(), "tgz").await;
    let id = cluster.deploy("app", "g", &revision, serde_json::json!({})).await;

    // The deployment finishes while its notifications are still failing: delivery never holds it up.
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{}", cluster.logs());
    wait_for("two failed attempts", Duration::from_secs(30), || {
        let failed = failures.load(Ordering::SeqCst);
        async move { (failed >= 2).then_some(()) }
    })
    .await;
    let attempts = stub.requests();
    assert!(attempts.iter().all(|(_, status)| *status == 500), "nothing was accepted yet");
    // In order per trigger: while the first event is pending, no later one is even tried.
    assert_eq!(attempts[0].0.header("x-cutover-event"), Some("DeploymentStart"));
    let first_delivery = attempts[0].0.header("x-cutover-delivery").map(str::to_owned);
    assert!(
        attempts.iter().all(|(request, _)| request.header("x-cutover-delivery").map(str::to_owned) == first_delivery),
        "only the first delivery was attempted: {:?}",
        attempts.iter().map(|(r, _)| r.header("x-cutover-delivery")).collect::<Vec<_>>()
    );
    accept.store(true, Ordering::SeqCst);

    let delivered = wait_for("the six notifications to be accepted", Duration::from_secs(30), || {
        let accepted: Vec<Request> =
            stub.requests().into_iter().filter(|(_, status)| *status == 200).map(|(r, _)| r).collect();
        async move { (accepted.len() >= 6).then_some(accepted) }
    })
    .await;
    assert!(failures.load(Ordering::SeqCst) >= 2, "the first two attempts failed");
    let events: Vec<&str> = delivered.iter().map(|request| request.header("x-cutover-event").unwrap_or("")).collect();
    // OneAtATime: each host starts and succeeds before the next one starts.
    assert_eq!(
        events,
        [
            "DeploymentStart",
            "InstanceStart",
            "InstanceSuccess",
            "InstanceStart",
            "InstanceSuccess",
            "DeploymentSuccess"
        ],
        "{}",
        cluster.logs()
    );
    let mut ids: Vec<&str> =
        delivered.iter().map(|request| request.header("x-cutover-delivery").unwrap_or("")).collect();
    ids.dedup();
    assert_eq!(ids.len(), 6, "each event is delivered once: {ids:?}");
    assert_eq!(Some(ids[0].to_owned()), first_delivery, "the retried delivery is the first one");

    let key = signing_key(&cluster);
    for request in &delivered {
        assert_eq!(request.method, "POST");
        assert_eq!(request.target, "/codedeploy");
        assert_eq!(request.header("content-type"), Some("application/json"));
        let expected = format!("sha256={}", hex(&hmac_sha256(&key, &request.body)));
        assert_eq!(request.header("x-cutover-signature"), Some(expected.as_str()), "signature over the exact body");
        assert!(request.header("x-cutover-delivery").is_some_and(|id| id.ends_with("/hook")));
    }

    // CodeDeploy's message fields, numbers and times as strings.
    let start = json(&delivered[0]);
    assert_eq!(start["eventTriggerName"], "hook");
    assert_eq!(start["applicationName"], "app");
    assert_eq!(start["deploymentGroupName"], "g");
    assert_eq!(start["deploymentId"], id.as_str());
    assert_eq!(start["status"], "InProgress");
    assert_eq!(start["region"], "local");
    assert_eq!(start["accountId"], "000000000000");
    assert!(start["createTime"].as_str().and_then(|t| t.parse::<f64>().ok()).is_some(), "{start}");
    let end = json(&delivered[5]);
    assert_eq!(end["status"], "Succeeded");
    assert_eq!(end["deploymentOverview"]["Succeeded"], "2", "{end}");
    assert_eq!(end["deploymentOverview"]["Failed"], "0");
    assert!(end["completeTime"].as_str().and_then(|t| t.parse::<f64>().ok()).is_some(), "{end}");
    assert!(end.get("errorInformation").is_none(), "{end}");
    let mut hosts = Vec::new();
    for pair in delivered[1..5].chunks(2) {
        let (started, succeeded) = (json(&pair[0]), json(&pair[1]));
        assert_eq!(started["instanceId"], succeeded["instanceId"], "each host starts, then succeeds");
        assert_eq!(started["instanceStatus"], "InProgress");
        assert_eq!(succeeded["instanceStatus"], "Succeeded");
        assert_eq!(succeeded["deploymentId"], id.as_str());
        let lifecycle = succeeded["lifecycleEvents"].as_array().expect("lifecycleEvents");
        assert_eq!(lifecycle.len(), 7, "{succeeded}");
        assert!(lifecycle.iter().all(|event| event["LifecycleEventStatus"] == "Succeeded" && event["EndTime"] != ""));
        hosts.push(
            succeeded["instanceId"].as_str().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_owned(),
        );
    }
    hosts.sort();
    assert_eq!(hosts, ["host-1", "host-2"]);
    assert_eq!(stub.requests().iter().filter(|(_, status)| *status == 200).count(), 6, "nothing is delivered twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_and_rollback_reach_the_webhook_slack_and_email() {
    let webhook = HttpStub::start(|_| (204, "text/plain", Vec::new())).await;
    let smtp = SmtpSink::start().await;
    let server_args = vec!["--smtp-server".to_owned(), smtp.addr.clone()];
    let cluster = Cluster::start(ClusterOptions { agents: 1, server_args, ..Default::default() }).await;
    create_app(&cluster).await;
    create_group(
        &cluster,
        serde_json::json!({
            "autoRollbackConfiguration": {"enabled": true, "events": ["DEPLOYMENT_FAILURE"]},
            "triggerConfigurations": [
                {"triggerName": "hook", "triggerTargetArn": webhook.url("/hook"), "triggerEvents": ["DeploymentFailure", "DeploymentRollback"]},
                {"triggerName": "slack", "triggerTargetArn": webhook.url("/slack?format=slack"), "triggerEvents": ["DeploymentFailure"]},
                {"triggerName": "mail", "triggerTargetArn": "mailto:oncall@example.com", "triggerEvents": ["DeploymentFailure"]},
            ],
        }),
    )
    .await
    .expect("group");
    let good = cluster.push_bundle("app", bundle("v1", false).tgz(), "tgz").await;
    let first = cluster.deploy("app", "g", &good, serde_json::json!({})).await;
    assert_eq!(
        cluster.wait_deployment(&first, DEPLOY_TIMEOUT).await.status.as_deref(),
        Some("Succeeded"),
        "{}",
        cluster.logs()
    );
    let bad = cluster.push_bundle("app", bundle("v2", true).tgz(), "tgz").await;
    let id = cluster.deploy("app", "g", &bad, serde_json::json!({})).await;
    let failed = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(failed.status.as_deref(), Some("Failed"));
    let rollback = failed.rollback_info.and_then(|info| info.rollback_deployment_id).expect("a rollback was created");

    let hook = wait_for("failure and rollback at the webhook", Duration::from_secs(30), || {
        let got: Vec<Request> =
            webhook.requests().into_iter().map(|(r, _)| r).filter(|r| r.target == "/hook").collect();
        async move { (got.len() >= 2).then_some(got) }
    })
    .await;
    let events: Vec<&str> = hook.iter().map(|r| r.header("x-cutover-event").unwrap_or("")).collect();
    assert_eq!(events, ["DeploymentFailure", "DeploymentRollback"]);
    let failure = json(&hook[0]);
    assert_eq!(failure["deploymentId"], id.as_str());
    assert_eq!(failure["status"], "Failed");
    assert_eq!(failure["deploymentOverview"]["Failed"], "1", "{failure}");
    let code = failure["errorInformation"]["ErrorCode"].as_str().unwrap_or_default();
    assert!(!code.is_empty() && failure["errorInformation"]["ErrorMessage"] != "", "{failure}");
    assert_eq!(json(&hook[1])["deploymentId"], rollback.as_str(), "DeploymentRollback is about the new deployment");

    // Slack: a one-line summary, and the option does not reach the receiver.
    let slack = wait_for("the Slack notification", Duration::from_secs(30), || {
        let got = webhook.requests().into_iter().map(|(r, _)| r).find(|r| r.target.starts_with("/slack"));
        async move { got }
    })
    .await;
    assert_eq!(slack.target, "/slack");
    let text = json(&slack)["text"].as_str().expect("text").to_owned();
    assert!(text.contains("DeploymentFailure") && text.contains(&id) && text.contains(code), "{text}");

    // E-mail through the SMTP relay.
    let mail = wait_for("the e-mail", Duration::from_secs(30), || {
        let got = smtp.messages().into_iter().next();
        async move { got }
    })
    .await;
    assert_eq!(mail.recipients, ["<oncall@example.com>"]);
    assert!(mail.data.contains("Subject: Cutover DeploymentFailure"), "{}", mail.data);
    assert!(mail.data.contains(&id), "{}", mail.data);
    assert_eq!(
        cluster.wait_deployment(&rollback, DEPLOY_TIMEOUT).await.status.as_deref(),
        Some("Succeeded"),
        "{}",
        cluster.logs()
    );
    assert_eq!(smtp.messages().len(), 1, "only DeploymentFailure is mailed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_trigger_configurations_are_rejected() {
    let cluster = Cluster::start(ClusterOptions { agents: 0, ..Default::default() }).await;
    create_app(&cluster).await;
    let trigger = |name: &str, target: &str, events: &[&str]| serde_json::json!({"triggerName": name, "triggerTargetArn": target, "triggerEvents": events});
    let ok = trigger("t", "https://hooks.example.com/x", &["DeploymentFailure"]);
    let cases = [
        (serde_json::json!(vec![ok.clone(); 11]), "TriggerTargetsLimitExceededException"),
        (serde_json::json!([ok.clone(), ok.clone()]), "InvalidTriggerConfigException"),
        (serde_json::json!([trigger("", "https://h/x", &["DeploymentStart"])]), "InvalidTriggerConfigException"),
        (serde_json::json!([trigger("t", "https://h/x", &["DeploymentExploded"])]), "InvalidTriggerConfigException"),
        (
            serde_json::json!([trigger("t", "arn:aws:sns:us-east-1:123456789012:deploys", &["DeploymentStart"])]),
            "InvalidTriggerConfigException",
        ),
        (serde_json::json!([trigger("t", "mailto:nobody", &["DeploymentStart"])]), "InvalidTriggerConfigException"),
    ];
    for (triggers, exception) in cases {
        let error =
            create_group(&cluster, serde_json::json!({"triggerConfigurations": triggers})).await.expect_err("rejected");
        assert_eq!(error.exception(), Some(exception), "{triggers}: {error}");
    }
    let mail = trigger("m", "mailto:ops@example.com", &["DeploymentFailure", "InstanceFailure"]);
    create_group(&cluster, serde_json::json!({"triggerConfigurations": [ok, mail]})).await.expect("valid triggers");
    let error = cluster
        .client
        .call::<_, wire::UpdateDeploymentGroupOutput>(
            Operation::UpdateDeploymentGroup,
            &serde_json::json!({"applicationName": "app", "currentDeploymentGroupName": "g",
                "triggerConfigurations": [trigger("t", "ftp://h/x", &["DeploymentStart"])]}),
        )
        .await
        .expect_err("update rejected");
    assert_eq!(error.exception(), Some("InvalidTriggerConfigException"));
}

/// A message received by [`SmtpSink`].
#[derive(Debug, Clone)]
struct Mail {
    recipients: Vec<String>,
    data: String,
}

/// The smallest SMTP server lettre will talk to: accepts every message and keeps it.
struct SmtpSink {
    addr: String,
    messages: Arc<Mutex<Vec<Mail>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    async fn start() -> SmtpSink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let addr = listener.local_addr().expect("addr").to_string();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let sink = messages.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sink = sink.clone();
                tokio::spawn(async move {
                    let _ = smtp_session(stream, sink).await;
                });
            }
        });
        SmtpSink { addr, messages, task }
    }

    fn messages(&self) -> Vec<Mail> {
        self.messages.lock().expect("lock").clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn smtp_session(stream: tokio::net::TcpStream, sink: Arc<Mutex<Vec<Mail>>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let mut recipients = Vec::new();
    while let Some(line) = lines.next_line().await? {
        let verb = line.split([' ', ':']).next().unwrap_or_default().to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
            "HELO" | "MAIL" | "RSET" | "NOOP" => b"250 OK\r\n",
            "RCPT" => {
                recipients.push(line.split_once(':').map(|(_, to)| to.trim().to_owned()).unwrap_or_default());
                b"250 OK\r\n"
            }
            "DATA" => {
                write.write_all(b"354 go ahead\r\n").await?;
                let mut data = String::new();
                while let Some(line) = lines.next_line().await? {
                    if line == "." {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                    data.push('\n');
                }
                sink.lock().expect("lock").push(Mail { recipients: std::mem::take(&mut recipients), data });
                b"250 queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
    Ok(())
}

/// HMAC-SHA256 (RFC 2104), written out here so the test checks the server's signature independently of its crates.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&sha256(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let inner: Vec<u8> = block.iter().map(|b| b ^ 0x36).chain(message.iter().copied()).collect();
    let inner_hash = sha256(&inner);
    let outer: Vec<u8> = block.iter().map(|b| b ^ 0x5c).chain(inner_hash.iter().copied()).collect();
    sha256(&outer)
}

/// SHA-256 (FIPS 180-4).
fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
        0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
        0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
        0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
        0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
        0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
        0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] =
        [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    let mut padded = data.to_vec();
    padded.push(0x80);
    while padded.len() % 64 != 56 {
        padded.push(0);
    }
    padded.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for chunk in padded.chunks(64) {
        let mut w = [0u32; 64];
        for (i, word) in chunk.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh.wrapping_add(s1).wrapping_add(ch).wrapping_add(K[i]).wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            (hh, g, f, e, d, c, b, a) = (g, f, e, d.wrapping_add(t1), c, b, a, t1.wrapping_add(t2));
        }
        for (state, value) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *state = state.wrapping_add(value);
        }
    }
    let mut out = [0u8; 32];
    for (i, word) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&word.to_be_bytes());
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_tests_hmac_matches_rfc_4231() {
    assert_eq!(
        hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    assert_eq!(hex(&sha256(b"")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
