//! Zonal deployments: one zone at a time (zone from the `zone` tag), with a bake between zones.

use cutover_api_types::codedeploy::{self as wire, Operation};
use cutover_harness::{Bundle, Cluster, ClusterOptions};

use crate::DEPLOY_TIMEOUT;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zones_are_deployed_one_after_another_with_a_bake_between() {
    let mut cluster = Cluster::start(ClusterOptions { agents: 0, ..Default::default() }).await;
    let extra = vec!["--kill-grace-ms".to_owned(), "500".to_owned()];
    let mut names = Vec::new();
    for (name, zone) in
        [("host-1", Some("zone-b")), ("host-2", Some("zone-a")), ("host-3", Some("zone-b")), ("host-4", None)]
    {
        let mut tags = vec![("env".to_owned(), "test".to_owned())];
        if let Some(zone) = zone {
            tags.push(("zone".to_owned(), zone.to_owned()));
        }
        cluster.add_agent(name, &tags, &extra);
        names.push(name.to_owned());
    }
    cluster.wait_registered(&names).await;
    let _: wire::CreateDeploymentConfigOutput = cluster
        .client
        .call(
            Operation::CreateDeploymentConfig,
            &serde_json::json!({
                "deploymentConfigName": "ZoneByZone",
                "minimumHealthyHosts": {"type": "HOST_COUNT", "value": 0},
                "zonalConfig": {"firstZoneMonitorDurationInSeconds": 1, "monitorDurationInSeconds": 1,
                                "minimumHealthyHostsPerZone": {"type": "HOST_COUNT", "value": 0}},
            }),
        )
        .await
        .expect("config");
    let got: wire::GetDeploymentConfigOutput = cluster
        .client
        .call(Operation::GetDeploymentConfig, &serde_json::json!({"deploymentConfigName": "ZoneByZone"}))
        .await
        .expect("get config");
    let zonal = got.deployment_config_info.and_then(|info| info.zonal_config).expect("zonalConfig is echoed");
    assert_eq!(zonal.monitor_duration_in_seconds, Some(1));

    cluster.create_app_and_group("app", "g", "ZoneByZone").await;
    let bundle = Bundle::new().file("appspec.yml", "version: 0.0\nos: linux\n", 0o644);
    let revision = cluster.push_bundle("app", bundle.tgz(), "tgz").await;
    let id = cluster.deploy("app", "g", &revision, serde_json::json!({})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{}", cluster.logs());

    // Each host's window (first event start, last event end), grouped by zone in deployment order.
    let mut windows = Vec::new();
    for name in &names {
        let events = cluster.target(&id, name).await.lifecycle_events.expect("events");
        windows.push((name.clone(), events[0].start_time.expect("start"), events[6].end_time.expect("end")));
    }
    let window = |host: &str| windows.iter().find(|(name, _, _)| name == host).map(|(_, s, e)| (*s, *e)).expect("host");
    let zone_a = window("host-2");
    let zone_b = [window("host-1"), window("host-3")];
    let no_zone = window("host-4");
    let b_start = zone_b.iter().map(|w| w.0).fold(f64::MAX, f64::min);
    let b_end = zone_b.iter().map(|w| w.1).fold(0.0, f64::max);
    // zone-a, then zone-b, then hosts without a zone; each next zone waits the 1 s bake.
    assert!(b_start >= zone_a.1 + 1.0, "zone-b started {:.3}s after zone-a ended", b_start - zone_a.1);
    assert!(no_zone.0 >= b_end + 1.0, "the zone-less host started {:.3}s after zone-b ended", no_zone.0 - b_end);
}
