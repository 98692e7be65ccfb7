//! `push`, `deploy --wait` and the read commands against a scripted fake of the server's HTTP API (the real
//! server is exercised by the end-to-end tests): what goes on the wire, and exactly what is printed.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use common::{stderr, stdout, write};
use serde_json::{Value, json};
use sha2::Digest;

/// What the fake saw.
#[derive(Default)]
struct Seen {
    /// (operation or "PUT /path", body)
    requests: Vec<(String, Vec<u8>)>,
    polls: usize,
}

type Handler = dyn Fn(&str, &Value, &mut Seen) -> (u16, Value) + Send + Sync;

struct Fake {
    endpoint: String,
    seen: Arc<Mutex<Seen>>,
}

impl Fake {
    fn start(handler: impl Fn(&str, &Value, &mut Seen) -> (u16, Value) + Send + Sync + 'static) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let handler: Arc<Handler> = Arc::new(handler);
        let state = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (state, handler) = (state.clone(), handler.clone());
                std::thread::spawn(move || serve(stream, &state, &*handler));
            }
        });
        Fake { endpoint, seen }
    }

    fn cutover(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_cutover"))
            .arg("--endpoint")
            .arg(&self.endpoint)
            .args(args)
            .env_remove("CUTOVER_ENDPOINT")
            .output()
            .expect("run cutover")
    }

    fn operations(&self) -> Vec<String> {
        self.seen.lock().expect("lock").requests.iter().map(|(op, _)| op.clone()).collect()
    }

    fn body(&self, operation: &str) -> Vec<u8> {
        let seen = self.seen.lock().expect("lock");
        seen.requests.iter().find(|(op, _)| op == operation).map(|(_, body)| body.clone()).expect(operation)
    }
}

/// Serves requests on one connection until the client closes it.
fn serve(stream: TcpStream, state: &Mutex<Seen>, handler: &Handler) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut stream = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        let mut target = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("header");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("header line");
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().expect("length"),
                "x-amz-target" => target = value.trim().rsplit('.').next().unwrap_or("").to_owned(),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).expect("body");
        let mut parts = request_line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let mut seen = state.lock().expect("lock");
        let (status, headers, answer) = if method == "PUT" {
            seen.requests.push((format!("PUT {path}"), body.clone()));
            let etag = hex::encode(sha2::Sha256::digest(&body));
            (200, format!("ETag: \"{etag}\"\r\n"), String::new())
        } else {
            let input: Value = serde_json::from_slice(&body).expect("JSON body");
            seen.requests.push((target.clone(), body.clone()));
            let (status, answer) = handler(&target, &input, &mut seen);
            (status, "Content-Type: application/x-amz-json-1.1\r\n".to_owned(), answer.to_string())
        };
        drop(seen);
        let response = format!("HTTP/1.1 {status} X\r\n{headers}Content-Length: {}\r\n\r\n{answer}", answer.len());
        if stream.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn revision_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "appspec.yml", common::GOOD_APPSPEC);
    write(dir.path(), "index.html", "<h1>hi</h1>\n");
    write(dir.path(), "scripts/check.sh", "#!/bin/sh\ntrue\n");
    dir
}

#[test]
fn push_uploads_the_bundle_and_registers_it_and_prints_the_revision_location() {
    let fake = Fake::start(|operation, _, _| match operation {
        "GetApplication" => (200, json!({"application": {"applicationName": "web"}})),
        "RegisterApplicationRevision" => (200, json!({})),
        other => (400, json!({"__type": "UnknownOperationException", "message": other})),
    });
    let dir = revision_dir();
    let output =
        fake.cutover(&["push", "--application-name", "web", "--source", dir.path().to_str().unwrap(), "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let revision: Value = serde_json::from_str(&stdout(&output)).expect("stdout is only JSON");
    let operations = fake.operations();
    assert_eq!(operations.len(), 3, "{operations:?}");
    assert_eq!(operations[0], "GetApplication");
    let put = &operations[1];
    let sha = hex::encode(sha2::Sha256::digest(fake.body(put)));
    assert_eq!(put, &format!("PUT /cutover-revisions/web/{sha}.tgz"));
    assert_eq!(
        revision,
        json!({"revisionType": "S3", "s3Location": {
            "bucket": "cutover-revisions", "key": format!("web/{sha}.tgz"), "bundleType": "tgz", "eTag": sha}})
    );
    let registered: Value = serde_json::from_slice(&fake.body("RegisterApplicationRevision")).expect("JSON");
    assert_eq!(registered, json!({"applicationName": "web", "revision": revision}));

    // The human form names the revision and a ready-made deploy command.
    let output = fake.cutover(&[
        "push",
        "--application-name",
        "web",
        "--source",
        dir.path().to_str().unwrap(),
        "--bundle-type",
        "zip",
        "--key",
        "web/v1.zip",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.starts_with("Pushed revision s3://cutover-revisions/web/v1.zip of application web (zip, "), "{out}");
    assert!(
        out.contains(&format!(
            "  cutover --endpoint {} deploy --application-name web --deployment-group-name <GROUP> --s3-location cutover-revisions/web/v1.zip --bundle-type zip --wait\n",
            fake.endpoint
        )),
        "{out}"
    );
}

#[test]
fn push_to_an_unknown_application_uploads_nothing() {
    let fake = Fake::start(|_, _, _| {
        (400, json!({"__type": "ApplicationDoesNotExistException", "message": "No application named web."}))
    });
    let dir = revision_dir();
    let output = fake.cutover(&["push", "--application-name", "web", "--source", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.starts_with("Error: ApplicationDoesNotExistException: No application named web.\n"), "{err}");
    assert!(err.contains("Hint: create it with `cutover create-application --application-name web`"), "{err}");
    assert_eq!(fake.operations(), ["GetApplication"]);
}

fn event(name: &str, status: &str, start: Option<f64>, end: Option<f64>) -> Value {
    let mut event = json!({"lifecycleEventName": name, "status": status});
    if let Some(start) = start {
        event["startTime"] = json!(start);
    }
    if let Some(end) = end {
        event["endTime"] = json!(end);
    }
    event
}

/// A two-host deployment seen over three polls; host-2 fails BeforeInstall when `fail`.
fn scripted_deployment(fail: bool) -> Fake {
    Fake::start(move |operation, input, seen| match operation {
        "CreateDeployment" => {
            assert_eq!(input["revision"]["s3Location"]["bundleType"], "tgz");
            (200, json!({"deploymentId": "d-TEST"}))
        }
        "GetDeployment" => {
            seen.polls += 1;
            let status = match (seen.polls, fail) {
                (1, _) => "InProgress",
                (2, _) => "InProgress",
                (_, false) => "Succeeded",
                (_, true) => "Failed",
            };
            let mut info = json!({
                "deploymentId": "d-TEST", "status": status, "createTime": 100.0,
                "deploymentOverview": {"Pending": 0, "InProgress": 0, "Succeeded": if fail { 1 } else { 2 },
                                       "Failed": if fail { 1 } else { 0 }, "Skipped": 0, "Ready": 0}
            });
            if seen.polls >= 3 {
                info["completeTime"] = json!(104.25);
            }
            if fail && seen.polls >= 3 {
                info["errorInformation"] = json!({"code": "HEALTH_CONSTRAINTS", "message": "Too many hosts failed."});
            }
            (200, json!({"deploymentInfo": info}))
        }
        "ListDeploymentTargets" => (200, json!({"targetIds": ["host-1", "host-2"]})),
        "BatchGetDeploymentTargets" => {
            let host1 = match seen.polls {
                1 => vec![
                    event("ApplicationStop", "Succeeded", Some(100.0), Some(100.012)),
                    event("BeforeInstall", "InProgress", Some(100.5), None),
                ],
                _ => vec![
                    event("ApplicationStop", "Succeeded", Some(100.0), Some(100.012)),
                    event("BeforeInstall", "Succeeded", Some(100.5), Some(100.75)),
                ],
            };
            let mut before =
                event("BeforeInstall", if fail { "Failed" } else { "Succeeded" }, Some(101.0), Some(101.034));
            if fail {
                before["diagnostics"] = json!({"errorCode": "ScriptFailed", "scriptName": "scripts/check.sh",
                    "message": "Script at specified location: scripts/check.sh failed with exit code 1",
                    "logTail": "[stdout]checking\n[stderr]boom\n"});
            }
            let host2 = match seen.polls {
                1 => vec![event("ApplicationStop", "Pending", None, None)],
                _ => vec![event("ApplicationStop", "Succeeded", Some(100.9), Some(100.905)), before],
            };
            let target = |id: &str, events: Vec<Value>| {
                json!({"deploymentTargetType": "InstanceTarget",
                       "instanceTarget": {"deploymentId": "d-TEST", "targetId": id, "status": "InProgress", "lifecycleEvents": events}})
            };
            (200, json!({"deploymentTargets": [target("host-1", host1), target("host-2", host2)]}))
        }
        other => (400, json!({"__type": "UnknownOperationException", "message": other})),
    })
}

const DEPLOY: [&str; 9] = [
    "deploy",
    "--application-name",
    "web",
    "--deployment-group-name",
    "prod",
    "--s3-location",
    "cutover-revisions/web/v1.tgz",
    "--file-exists-behavior",
    "overwrite",
];

#[test]
fn deploy_wait_prints_each_event_as_it_changes_then_a_summary() {
    let fake = scripted_deployment(false);
    let mut args = DEPLOY.to_vec();
    args.push("--wait");
    let output = fake.cutover(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "Deployment d-TEST created: web to group prod\n\
         Deployment d-TEST is InProgress\n\
         host-1  ApplicationStop  Succeeded  12 ms\n\
         host-1  BeforeInstall  InProgress\n\
         host-1  BeforeInstall  Succeeded  250 ms\n\
         host-2  ApplicationStop  Succeeded  5 ms\n\
         host-2  BeforeInstall  Succeeded  34 ms\n\
         \n\
         Deployment d-TEST Succeeded in 4.2 s\n\
         Hosts: 2 succeeded, 0 failed, 0 skipped, 0 in progress, 0 pending\n"
    );
    let created: Value = serde_json::from_slice(&fake.body("CreateDeployment")).expect("JSON");
    assert_eq!(created["fileExistsBehavior"], "OVERWRITE");
    assert_eq!(created["revision"]["s3Location"]["key"], "web/v1.tgz");
}

#[test]
fn deploy_wait_exits_3_and_shows_the_diagnostics_of_failed_events() {
    let fake = scripted_deployment(true);
    let mut args = DEPLOY.to_vec();
    args.push("--wait");
    let output = fake.cutover(&args);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains("host-2  BeforeInstall  Failed  34 ms\n"), "{out}");
    assert!(
        out.ends_with(
            "\nDeployment d-TEST Failed in 4.2 s\n\
             Hosts: 1 succeeded, 1 failed, 0 skipped, 0 in progress, 0 pending\n\
             Error: HEALTH_CONSTRAINTS: Too many hosts failed.\n\
             \n\
             Failed lifecycle events:\n\
             \x20 host-2  BeforeInstall  Failed  34 ms\n\
             \x20   errorCode: ScriptFailed\n\
             \x20   scriptName: scripts/check.sh\n\
             \x20   message: Script at specified location: scripts/check.sh failed with exit code 1\n\
             \x20   logTail:\n\
             \x20     [stdout]checking\n\
             \x20     [stderr]boom\n"
        ),
        "{out}"
    );
    assert_eq!(stderr(&output), "Error: deployment d-TEST Failed: Too many hosts failed.\n");
}

#[test]
fn deploy_json_prints_only_json() {
    let fake = scripted_deployment(false);
    let output = fake.cutover(&DEPLOY);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "d-TEST\n");

    let mut args = DEPLOY.to_vec();
    args.push("--json");
    let output = fake.cutover(&args);
    let created: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(created, json!({"deploymentId": "d-TEST"}));

    args.push("--wait");
    let output = fake.cutover(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let info: Value = serde_json::from_str(&stdout(&output)).expect("stdout is only the DeploymentInfo JSON");
    assert_eq!(info["deploymentId"], "d-TEST");
    assert_eq!(info["status"], "Succeeded");
}

#[test]
fn deployments_get_shows_a_table_of_hosts_and_events() {
    let fake = scripted_deployment(true);
    // Two polls first, so the table shows the final state.
    for _ in 0..2 {
        fake.cutover(&["deployments", "get", "d-TEST", "--json"]);
    }
    let output = fake.cutover(&["deployments", "get", "d-TEST"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains("Status:"), "{out}");
    assert!(out.contains("HOST"), "{out}");
    assert!(out.contains("ApplicationStop"), "{out}");
    assert!(out.contains("errorCode: ScriptFailed"), "{out}");
    let output = fake.cutover(&["deployments", "get", "d-TEST", "--json"]);
    let raw: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(raw["deploymentInfo"]["deploymentId"], "d-TEST");
    assert_eq!(raw["deploymentTargets"].as_array().map(Vec::len), Some(2));
}
