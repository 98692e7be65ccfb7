//! The HAProxy driver against a real HAProxy (Debian's /usr/sbin/haproxy), through the trait.

use cutover_harness::load::LoadLoop;
use cutover_harness::wait_for;
use cutover_router::MemberState::{Drain, Maint, Ready};
use cutover_router::TrafficError;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_weights_are_followed_and_a_switch_loses_no_request() {
    let (blue, green) = (Upstream::start("blue").await, Upstream::start("green").await);
    let haproxy = Haproxy::start(&["blue", "green", "spare"]).await;
    let driver = haproxy.driver();
    assert_eq!(driver.max_weight(), 256);
    // 230/26 is HAProxy's nearest to 90/10.
    driver.apply("web", &[blue.member(230, Ready), green.member(26, Ready)]).await.expect("apply 90/10");
    wait_member(&*driver, "web", "blue", "healthy", |member| member.healthy).await;
    wait_member(&*driver, "web", "green", "healthy", |member| member.healthy).await;
    let members = driver.status("web").await.expect("status");
    assert_eq!(members.len(), 2, "the unused slot `spare` is not listed: {members:?}");
    let blue_status = members.iter().find(|member| member.id == "blue").expect("blue");
    assert_eq!(
        (blue_status.address.as_str(), blue_status.weight, blue_status.state),
        (&*blue.addr.to_string(), 230, Ready)
    );

    let load = LoadLoop::start(format!("{}/", haproxy.url), 4);
    wait_samples(&load, 0, 600).await;
    let before_switch = load.now_ms();
    driver.apply("web", &[blue.member(0, Ready), green.member(256, Ready)]).await.expect("apply 0/100");
    let switched = load.now_ms();
    wait_samples(&load, switched, 300).await;
    let report = load.stop().await;

    assert!(report.failed.is_empty(), "failed requests: {:?}", &report.failed[..report.failed.len().min(5)]);
    let blue_share = report.share("blue", 0, before_switch).expect("answers before the switch");
    assert!((0.85..=0.95).contains(&blue_share), "blue's share at 230/26 was {blue_share}");
    assert_eq!(report.share("green", switched, u64::MAX), Some(1.0), "every request sent after apply returned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_sends_nothing_to_unhealthy_servers() {
    let (blue, green) = (Upstream::start("blue").await, Upstream::start("green").await);
    green.set_healthy(false);
    let haproxy = Haproxy::start(&["blue", "green"]).await;
    let driver = haproxy.driver();
    driver.apply("web", &[blue.member(128, Ready), green.member(128, Ready)]).await.expect("apply");
    wait_member(&*driver, "web", "blue", "healthy", |member| member.healthy).await;
    let green_status = status_of(&*driver, "web", "green").await.expect("green is listed");
    assert!(!green_status.healthy, "green fails its health check: {green_status:?}");

    let load = LoadLoop::start(format!("{}/", haproxy.url), 2);
    wait_samples(&load, 0, 200).await;
    assert_eq!(green.hits(), 0, "an unhealthy server got requests");
    green.set_healthy(true);
    wait_member(&*driver, "web", "green", "healthy", |member| member.healthy).await;
    wait_for("green to get requests", WAIT, || async { (green.hits() > 0).then_some(()) }).await;
    let report = load.stop().await;
    assert!(report.failed.is_empty(), "failed requests: {:?}", report.failed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_drained_and_removed_servers_finish_requests_in_flight() {
    let (blue, green) = (Upstream::start("blue").await, Upstream::start("green").await);
    let haproxy = Haproxy::start(&["blue", "green"]).await;
    let driver = haproxy.driver();
    driver.apply("web", &[blue.member(100, Ready)]).await.expect("apply blue");
    wait_member(&*driver, "web", "blue", "healthy", |member| member.healthy).await;

    let slow = tokio::spawn(get_owned(format!("{}/slow", haproxy.url)));
    wait_for("the slow request to reach blue", WAIT, || async { (blue.slow_started() == 1).then_some(()) }).await;
    wait_member(&*driver, "web", "blue", "with one session", |member| member.in_flight == 1).await;

    driver.apply("web", &[blue.member(100, Drain), green.member(100, Ready)]).await.expect("drain blue");
    wait_member(&*driver, "web", "green", "healthy", |member| member.healthy).await;
    for _ in 0..20 {
        assert_eq!(get(&format!("{}/", haproxy.url)).await, (200, "green".to_owned()));
    }
    assert_eq!(blue.hits(), 0, "a draining server got a new request");
    let draining = status_of(&*driver, "web", "blue").await.expect("blue");
    assert_eq!((draining.state, draining.in_flight, draining.healthy), (Drain, 1, true));
    blue.release_slow();
    assert_eq!(slow.await.expect("slow request"), (200, "blue".to_owned()));
    wait_member(&*driver, "web", "blue", "with no session", |member| member.in_flight == 0).await;

    // Removed while serving: in maintenance (HAProxy keeps the session), listed until it ends.
    let slow = tokio::spawn(get_owned(format!("{}/slow", haproxy.url)));
    wait_for("the slow request to reach green", WAIT, || async { (green.slow_started() == 1).then_some(()) }).await;
    wait_member(&*driver, "web", "green", "with one session", |member| member.in_flight == 1).await;
    driver.apply("web", &[blue.member(100, Ready)]).await.expect("remove green");
    let removed = status_of(&*driver, "web", "green").await.expect("green is still listed");
    assert_eq!((removed.state, removed.in_flight), (Maint, 1));
    green.release_slow();
    assert_eq!(slow.await.expect("slow request"), (200, "green".to_owned()));
    wait_for("green to leave the status", WAIT, || {
        let driver = driver.clone();
        async move { status_of(&*driver, "web", "green").await.is_none().then_some(()) }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_refuses_undeclared_servers_and_backends_by_name() {
    let blue = Upstream::start("blue").await;
    let haproxy = Haproxy::start(&["blue"]).await;
    let driver = haproxy.driver();
    let purple =
        cutover_router::Member { id: "purple".into(), address: blue.addr.to_string(), weight: 1, state: Ready };
    let error = driver.apply("web", &[blue.member(1, Ready), purple.clone()]).await.expect_err("undeclared server");
    assert!(
        matches!(&error, TrafficError::UnknownServer { backend, server } if backend == "web" && server == "purple"),
        "{error:?}"
    );
    assert!(error.to_string().contains("`server purple 0.0.0.0:0 disabled check` in backend web"), "{error}");
    assert_eq!(driver.status("web").await.expect("status"), [], "nothing was applied");

    let error = driver.apply("api", &[blue.member(1, Ready)]).await.expect_err("unknown backend");
    assert!(matches!(&error, TrafficError::UnknownPool(pool) if pool == "api"), "{error:?}");
    let error = driver.apply("web", &[blue.member(300, Ready)]).await.expect_err("weight too high");
    assert_eq!(error.to_string(), "member \"blue\": weight 300 is above this router's 256");
    let error =
        driver.apply("web", &[cutover_router::Member { id: "a b".into(), ..purple }]).await.expect_err("bad name");
    assert!(error.to_string().contains("HAProxy names are letters"), "{error}");

    let gone = cutover_router::connect(&cutover_router::RouterConfig::Haproxy {
        socket: haproxy.dir.path().join("none.sock"),
    })
    .unwrap();
    let error = gone.status("web").await.expect_err("no socket");
    assert!(matches!(error, TrafficError::Unreachable { .. }), "{error:?}");
}

async fn get_owned(url: String) -> (u16, String) {
    get(&url).await
}
