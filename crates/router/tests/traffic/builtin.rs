//! The built-in router, driven through the trait: weights, health checks, draining, dead upstreams, shutdown.

use cutover_harness::load::LoadLoop;
use cutover_harness::wait_for;
use cutover_router::MemberState::{Drain, Ready};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_are_followed_and_a_switch_is_atomic_without_failures() {
    let (blue, green) = (Upstream::start("blue").await, Upstream::start("green").await);
    let router = Router::start(&["web"]).await;
    let driver = router.driver();
    assert_eq!(driver.max_weight(), 10_000);
    driver.apply("web", &[blue.member(9000, Ready), green.member(1000, Ready)]).await.expect("apply 90/10");
    wait_member(&*driver, "web", "blue", "healthy", |member| member.healthy).await;
    wait_member(&*driver, "web", "green", "healthy", |member| member.healthy).await;

    let load = LoadLoop::start(router.pool_url("web", "/"), 4);
    wait_samples(&load, 0, 600).await;
    let before_switch = load.now_ms();
    driver.apply("web", &[blue.member(0, Ready), green.member(10_000, Ready)]).await.expect("apply 0/100");
    let switched = load.now_ms();
    let blue_hits_at_switch = blue.hits();
    wait_samples(&load, switched, 300).await;
    let report = load.stop().await;

    assert!(report.failed.is_empty(), "failed requests: {:?}", &report.failed[..report.failed.len().min(5)]);
    let blue_share = report.share("blue", 0, before_switch).expect("answers before the switch");
    assert!((0.85..=0.95).contains(&blue_share), "blue's share at 90/10 was {blue_share}");
    assert_eq!(report.share("green", switched, u64::MAX), Some(1.0), "every request sent after apply returned");
    // The upstream's own count agrees: at most the requests in flight during the switch reached blue after it.
    assert!(
        blue.hits() <= blue_hits_at_switch + 4,
        "blue got {} requests after the switch",
        blue.hits() - blue_hits_at_switch
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_healthy_members_get_traffic() {
    let (blue, green) = (Upstream::start("blue").await, Upstream::start("green").await);
    green.set_healthy(false);
    let router = Router::start(&["web"]).await;
    let driver = router.driver();
    driver.apply("web", &[blue.member(5000, Ready), green.member(5000, Ready)]).await.expect("apply");
    wait_member(&*driver, "web", "blue", "healthy", |member| member.healthy).await;
    let green_status = status_of(&*driver, "web", "green").await.expect("green is listed");
    assert!(!green_status.healthy, "green fails its health check: {green_status:?}");

    let load = LoadLoop::start(router.pool_url("web", "/"), 2);
    wait_samples(&load, 0, 200).await;
    assert_eq!(green.hits(), 0, "an unhealthy member got requests");

    // Green becomes healthy: it gets traffic from then on.
    green.set_healthy(true);
    wait_member(&*driver, "web", "green", "healthy", |member| member.healthy).await;
    wait_for("green to get requests", WAIT, || async { (green.hits() > 0).then_some(()) }).await;

    // Blue fails its checks: once the router says so, no request sent afterwards reaches it.
    blue.set_healthy(false);
    wait_member(&*driver, "web", "blue", "unhealthy", |member| !member.healthy).await;
    let blue_down = load.now_ms();
    wait_samples(&load, blue_down, 200).await;
    let report = load.stop().await;
    assert!(report.failed.is_empty(), "failed requests: {:?}", report.failed);
    assert_eq!(report.share("green", blue_down, u64::MAX), Some(1.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drained_and_removed_members_finish_requests_in_flight() {
    let (blue, green) = (Upstream::start("blue").await, Upstream::start("green").await);
    let router = Router::start(&["web"]).await;
    let driver = router.driver();
    driver.apply("web", &[blue.member(10_000, Ready)]).await.expect("apply blue");
    wait_member(&*driver, "web", "blue", "healthy", |member| member.healthy).await;

    let slow = tokio::spawn(get_owned(router.pool_url("web", "/slow")));
    wait_for("the slow request to reach blue", WAIT, || async { (blue.slow_started() == 1).then_some(()) }).await;
    assert_eq!(status_of(&*driver, "web", "blue").await.expect("blue").in_flight, 1);

    driver.apply("web", &[blue.member(10_000, Drain), green.member(10_000, Ready)]).await.expect("drain blue");
    wait_member(&*driver, "web", "green", "healthy", |member| member.healthy).await;
    for _ in 0..20 {
        assert_eq!(get(&router.pool_url("web", "/")).await, (200, "green".to_owned()));
    }
    assert_eq!(blue.hits(), 0, "a draining member got a new request");
    let draining = status_of(&*driver, "web", "blue").await.expect("blue");
    assert_eq!((draining.state, draining.in_flight), (Drain, 1));

    blue.release_slow();
    assert_eq!(slow.await.expect("slow request"), (200, "blue".to_owned()));
    wait_member(&*driver, "web", "blue", "with nothing in flight", |member| member.in_flight == 0).await;

    // Removed outright while serving: listed as draining until its request is done, then forgotten.
    let slow = tokio::spawn(get_owned(router.pool_url("web", "/slow")));
    wait_for("the slow request to reach green", WAIT, || async { (green.slow_started() == 1).then_some(()) }).await;
    driver.apply("web", &[blue.member(10_000, Ready)]).await.expect("remove green");
    let removed = status_of(&*driver, "web", "green").await.expect("green is still listed");
    assert_eq!((removed.state, removed.in_flight), (Drain, 1));
    green.release_slow();
    assert_eq!(slow.await.expect("slow request"), (200, "green".to_owned()));
    wait_for("green to be forgotten", WAIT, || {
        let driver = driver.clone();
        async move { status_of(&*driver, "web", "green").await.is_none().then_some(()) }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_upstream_fails_no_client_request() {
    let (blue, green) = (Upstream::start("blue").await, Upstream::start("green").await);
    let router = Router::start(&["web"]).await;
    let driver = router.driver();
    driver.apply("web", &[blue.member(5000, Ready), green.member(5000, Ready)]).await.expect("apply");
    wait_member(&*driver, "web", "blue", "healthy", |member| member.healthy).await;
    wait_member(&*driver, "web", "green", "healthy", |member| member.healthy).await;

    let load = LoadLoop::start(router.pool_url("web", "/"), 4);
    wait_samples(&load, 0, 300).await;
    let dying = load.now_ms();
    blue.kill().await;
    let killed = load.now_ms();
    wait_samples(&load, killed, 300).await;
    wait_member(&*driver, "web", "blue", "unhealthy", |member| !member.healthy).await;
    let report = load.stop().await;
    assert!(report.failed.is_empty(), "failed requests: {:?}", report.failed);
    assert!(report.share("blue", 0, dying).expect("answers") > 0.3, "blue served before it died");
    assert_eq!(report.share("green", killed, u64::MAX), Some(1.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_eligible_member_is_a_clear_503() {
    let blue = Upstream::start("blue").await;
    let router = Router::start(&["web"]).await;
    let (status, body) = get(&router.pool_url("web", "/")).await;
    assert_eq!((status, body.as_str()), (503, "no member of pool web is ready and healthy"));
    let driver = router.driver();
    driver.apply("web", &[blue.member(0, Ready)]).await.expect("apply weight 0");
    wait_member(&*driver, "web", "blue", "healthy", |member| member.healthy).await;
    assert_eq!(get(&router.pool_url("web", "/")).await.0, 503, "a Ready member with weight 0 gets no requests");
    assert_eq!(blue.hits(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_forwarded_whole() {
    // An upstream that echoes what it received.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let echo_addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|request: hyper::Request<hyper::body::Incoming>| async move {
                    use http_body_util::BodyExt;
                    let (parts, body) = request.into_parts();
                    let body = body.collect().await?.to_bytes();
                    let text = format!(
                        "{} {} xff={:?} host={:?} body={}",
                        parts.method,
                        parts.uri,
                        parts.headers.get("x-forwarded-for"),
                        parts.headers.get("host"),
                        String::from_utf8_lossy(&body)
                    );
                    Ok::<_, hyper::Error>(hyper::Response::new(http_body_util::Full::new(bytes::Bytes::from(text))))
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
            });
        }
    });
    let router = Router::with_config(
        &format!(
            "[control]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n[[pool]]\nname = \"web\"\n\
             listen = \"127.0.0.1:0\"\nhealth_check = {{ path = \"/\", interval_ms = 50 }}\n"
        ),
        "http",
    )
    .await;
    let driver = router.driver();
    let echo = cutover_router::Member {
        id: "echo".into(),
        address: echo_addr.to_string(),
        weight: 1,
        state: cutover_router::MemberState::Ready,
    };
    driver.apply("web", &[echo]).await.expect("apply");
    wait_member(&*driver, "web", "echo", "healthy", |member| member.healthy).await;
    let body = reqwest::Client::new()
        .post(router.pool_url("web", "/orders?id=7"))
        .header("x-forwarded-for", "203.0.113.9")
        .body("a streamed body")
        .send()
        .await
        .expect("POST")
        .text()
        .await
        .unwrap();
    let host = router.pools["web"].to_string();
    assert_eq!(
        body,
        format!("POST /orders?id=7 xff=Some(\"203.0.113.9, 127.0.0.1\") host=Some({host:?}) body=a streamed body")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_accepting_and_finishes_requests_in_flight() {
    let blue = Upstream::start("blue").await;
    let mut router = Router::start(&["web"]).await;
    let driver = router.driver();
    driver.apply("web", &[blue.member(1, Ready)]).await.expect("apply");
    wait_member(&*driver, "web", "blue", "healthy", |member| member.healthy).await;
    let slow = tokio::spawn(get_owned(router.pool_url("web", "/slow")));
    wait_for("the slow request to reach blue", WAIT, || async { (blue.slow_started() == 1).then_some(()) }).await;

    nix::sys::signal::kill(router.pid(), nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let pool_addr = router.pools["web"];
    wait_for("the pool to stop accepting", WAIT, || async move {
        tokio::net::TcpStream::connect(pool_addr).await.is_err().then_some(())
    })
    .await;
    blue.release_slow();
    assert_eq!(slow.await.expect("slow request"), (200, "blue".to_owned()));
    let status = router.exited().await;
    assert!(status.success(), "cutover-router exited with {status}: {}", router.log());
}

async fn get_owned(url: String) -> (u16, String) {
    get(&url).await
}
