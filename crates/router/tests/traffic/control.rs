//! The built-in router's control API: authentication, errors, TLS, and refusing to start unsafely.

use cutover_router::MemberState::Ready;
use cutover_router::{RouterConfig, TrafficError};

use crate::common::*;

async fn call(
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_owned());
    }
    let response = request.send().await.expect("control API");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_api_refuses_bad_tokens_unknown_pools_and_bad_bodies() {
    let router = Router::start(&["web"]).await;
    let members = format!("{}/v1/pools/web/members", router.control_url);
    let get = reqwest::Method::GET;
    let put = reqwest::Method::PUT;

    let (status, body) = call(get.clone(), format!("{}/healthz", router.control_url), None, None).await;
    assert_eq!((status, body), (200, serde_json::Value::String("ok\n".into())));
    let (status, body) = call(get.clone(), members.clone(), None, None).await;
    assert_eq!(status, 401);
    assert!(body["error"].as_str().unwrap().contains("missing `Authorization: Bearer"), "{body}");
    let (status, body) = call(get.clone(), members.clone(), Some("test-control-token-0123456780"), None).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("the control token is wrong")));
    let (status, body) = call(put.clone(), members.clone(), Some("nope"), Some("{\"members\":[]}")).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("the control token is wrong")));

    let unknown = format!("{}/v1/pools/api/members", router.control_url);
    let (status, body) = call(get.clone(), unknown, Some(TOKEN), None).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("no pool \"api\"")));

    let cases = [
        (
            r#"{"members":[{"id":"a","address":"127.0.0.1:1","weight":"heavy","state":"ready"}]}"#,
            "body: members[0].weight: invalid type: string \"heavy\", expected u32",
        ),
        (r#"{"members":[{"id":"a","weight":1,"state":"ready"}]}"#, "body: members[0]: missing field `address`"),
        (
            r#"{"members":[{"id":"a","address":"127.0.0.1:1","weight":1,"state":"up"}]}"#,
            "body: members[0].state: unknown variant `up`",
        ),
        (r#"{"members":[{"id":"a","address":"127.0.0.1:1","weight":10001,"state":"ready"}]}"#, "weight 10001 is above"),
        (r#"{"members":[{"id":"a","address":"nowhere","weight":1,"state":"ready"}]}"#, "\"nowhere\" is not host:port"),
        ("{\"members\":", "body: members: EOF while parsing"),
    ];
    for (body, expected) in cases {
        let (status, answer) = call(put.clone(), members.clone(), Some(TOKEN), Some(body)).await;
        let error = answer["error"].as_str().unwrap_or_default();
        assert_eq!(status, 400, "{body} → {answer}");
        assert!(error.contains(expected), "{body}: {error:?} should contain {expected:?}");
    }
    // Nothing was applied by the refused bodies.
    let (status, body) = call(get, members, Some(TOKEN), None).await;
    assert_eq!((status, body), (200, serde_json::json!({"members": []})));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_driver_reports_router_errors_as_traffic_errors() {
    let router = Router::start(&["web"]).await;
    let blue = Upstream::start("blue").await;
    let driver = router.driver();
    let error = driver.apply("api", &[blue.member(1, Ready)]).await.expect_err("unknown pool");
    assert!(matches!(&error, TrafficError::UnknownPool(pool) if pool == "api"), "{error:?}");

    let wrong = cutover_router::connect(&RouterConfig::Builtin {
        control_url: router.control_url.clone(),
        token: Some("test-control-token-wrong".into()),
        token_file: None,
        ca_file: None,
    })
    .unwrap();
    let error = wrong.status("web").await.expect_err("wrong token");
    assert!(
        matches!(&error, TrafficError::Refused { message, .. } if message == "the control token is wrong"),
        "{error:?}"
    );

    let error = driver.apply("web", &[blue.member(20_000, Ready)]).await.expect_err("weight too high");
    assert_eq!(error.to_string(), "member \"blue\": weight 20000 is above this router's 10000");

    // A token file works like the token; a router that is not there is Unreachable.
    let token_file = router.dir.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let from_file = cutover_router::connect(&RouterConfig::Builtin {
        control_url: router.control_url.clone(),
        token: None,
        token_file: Some(token_file),
        ca_file: None,
    })
    .unwrap();
    assert_eq!(from_file.status("web").await.expect("status with the token file"), []);
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let gone = cutover_router::connect(&RouterConfig::Builtin {
        control_url: format!("http://{closed_port}"),
        token: Some(TOKEN.into()),
        token_file: None,
        ca_file: None,
    })
    .unwrap();
    let error = gone.status("web").await.expect_err("nothing listens");
    assert!(matches!(error, TrafficError::Unreachable { .. }), "{error:?}");
    let error = cutover_router::connect(&RouterConfig::Builtin {
        control_url: router.control_url.clone(),
        token: None,
        token_file: Some(router.dir.path().join("missing")),
        ca_file: None,
    })
    .expect_err("missing token file");
    assert!(error.to_string().contains("cannot read the token file"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_api_serves_tls_to_a_driver_with_the_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, &ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf =
        rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap().signed_by(&leaf_key, &issuer).unwrap();
    let (ca_file, cert_file, key_file) =
        (dir.path().join("ca.pem"), dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&ca_file, ca_cert.pem()).unwrap();
    std::fs::write(&cert_file, leaf.pem()).unwrap();
    std::fs::write(&key_file, leaf_key.serialize_pem()).unwrap();

    let config = format!(
        "[control]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\ntls_cert = {:?}\ntls_key = {:?}\n\
         [[pool]]\nname = \"web\"\nlisten = \"127.0.0.1:0\"\n",
        cert_file.display().to_string(),
        key_file.display().to_string()
    );
    let router = Router::with_config(&config, "https").await;
    let port = router.control_url.rsplit(':').next().unwrap().to_owned();
    let control_url = format!("https://localhost:{port}");
    let driver = |ca_file: Option<std::path::PathBuf>| {
        cutover_router::connect(&RouterConfig::Builtin {
            control_url: control_url.clone(),
            token: Some(TOKEN.into()),
            token_file: None,
            ca_file,
        })
        .unwrap()
    };
    let blue = Upstream::start("blue").await;
    driver(Some(ca_file)).apply("web", &[blue.member(1, Ready)]).await.expect("apply over TLS");
    let error = driver(None).status("web").await.expect_err("an untrusted certificate");
    assert!(matches!(error, TrafficError::Unreachable { .. }), "{error:?}");
}

#[test]
fn the_router_refuses_to_start_without_a_token_or_beyond_loopback_without_tls() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("[control]\nlisten = \"127.0.0.1:0\"\n", "a token (token or token_file) is required"),
        (
            "[control]\nlisten = \"0.0.0.0:0\"\ntoken = \"test-control-token-0123456789\"\n",
            "listen 0.0.0.0:0 is beyond loopback: give tls_cert and tls_key",
        ),
        (
            "[control]\nlisten = \"127.0.0.1:0\"\ntoken = \"test-control-token-0123456789\"\n[[pool]]\nname = \"web\"\n",
            "missing field `listen`",
        ),
    ];
    for (config, expected) in cases {
        let path = dir.path().join("router.toml");
        std::fs::write(&path, config).unwrap();
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_cutover-router"))
            .arg("--config")
            .arg(&path)
            .output()
            .expect("run cutover-router");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "started with {config:?}");
        assert!(stderr.contains(expected), "{stderr:?} should contain {expected:?}");
        assert!(stderr.contains("router.toml"), "the error names the file: {stderr:?}");
    }
}
