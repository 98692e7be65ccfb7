//! Scale-out: a server on PostgreSQL, and three replicas on one PostgreSQL that survive losing the replica that
//! drives a deployment. These run when `CUTOVER_TEST_PG_URL` names a PostgreSQL server (`.ci/run` starts one).

use std::time::{Duration, Instant};

use cutover_harness::{Bundle, Cluster, ClusterOptions, psql, scratch_postgres_database, wait_for};

use crate::{DEPLOY_TIMEOUT, RECORD_HOOK, appspec_all_hooks, hook_lines};

const EVENTS: [&str; 4] = ["BeforeInstall", "AfterInstall", "ApplicationStart", "ValidateService"];

fn expected_lines(ids: &[&str]) -> Vec<String> {
    ids.iter().flat_map(|id| EVENTS.iter().map(move |event| format!("{event} {id}"))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_on_a_postgresql_server() {
    let Some(url) = scratch_postgres_database() else {
        eprintln!("CUTOVER_TEST_PG_URL is not set: PostgreSQL test skipped");
        return;
    };
    let options =
        ClusterOptions { agents: 3, server_args: vec!["--database-url".to_owned(), url.clone()], ..Default::default() };
    let cluster = Cluster::start(options).await;
    cluster.create_app_and_group("app", "g", "CodeDeployDefault.HalfAtATime").await;
    let bundle = Bundle::new()
        .file("appspec.yml", &appspec_all_hooks("files:\n  - source: app.txt\n    destination: /srv/app\n", ""), 0o644)
        .file("app.txt", "v1\n", 0o644)
        .script("scripts/record.sh", RECORD_HOOK);
    let revision = cluster.push_bundle("app", bundle.tgz(), "tgz").await;
    let id = cluster.deploy("app", "g", &revision, serde_json::json!({})).await;
    let info = cluster.wait_deployment(&id, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{info:?}\n{}", cluster.logs());
    for agent in &cluster.agents {
        assert_eq!(hook_lines(agent), expected_lines(&[&id]), "{}", agent.name);
        assert_eq!(std::fs::read_to_string(agent.dest("/srv/app/app.txt")).expect("installed"), "v1\n");
    }
    // The state is in PostgreSQL (not in a SQLite file), and the finished deployment's lease is given up.
    assert_eq!(psql(&url, &format!("SELECT status FROM deployments WHERE id = '{id}'")), "Succeeded");
    assert_eq!(psql(&url, &format!("SELECT COUNT(*) FROM leases WHERE name = '{id}'")), "0");
    assert!(!cluster.server.data_dir.join("cutover.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_driving_a_deployment_killed_another_finishes_it_without_rerunning_events() {
    let Some(url) = scratch_postgres_database() else {
        eprintln!("CUTOVER_TEST_PG_URL is not set: PostgreSQL test skipped");
        return;
    };
    let mut cluster = Cluster::start_replicated(ClusterOptions { agents: 10, ..Default::default() }, 3, &url).await;
    cluster.create_app_and_group("app", "g", "CodeDeployDefault.OneAtATime").await;
    // AfterInstall of the first deployment waits for a gate file, so the test kills the driving replica while a
    // host is mid-deployment and nine hosts are still to go.
    let gate = cluster.dir.path().join("gate");
    let gate_hook = format!(
        "{RECORD_HOOK}\nif [ \"$LIFECYCLE_EVENT\" = AfterInstall ]; then\n  while [ ! -f '{}' ]; do sleep 0.02; done\nfi",
        gate.display()
    );
    let bundle = Bundle::new()
        .file("appspec.yml", &appspec_all_hooks("files:\n  - source: app.txt\n    destination: /srv/app\n", ""), 0o644)
        .file("app.txt", "v1\n", 0o644)
        .script("scripts/record.sh", &gate_hook);
    let revision = cluster.push_bundle("app", bundle.tgz(), "tgz").await;
    let first = cluster.deploy("app", "g", &revision, serde_json::json!({})).await;

    let host_dirs: Vec<_> = cluster.agents.iter().map(|agent| agent.host_dir.clone()).collect();
    wait_for("a host to reach AfterInstall", Duration::from_secs(60), || {
        let host_dirs = host_dirs.clone();
        async move {
            host_dirs
                .iter()
                .any(|dir| std::fs::read_to_string(dir.join("hooks.log")).unwrap_or_default().contains("AfterInstall"))
                .then_some(())
        }
    })
    .await;
    let lease = psql(&url, &format!("SELECT owner || ' ' || epoch FROM leases WHERE name = '{first}'"));
    let (owner, epoch) = lease.split_once(' ').expect("the running deployment has a lease");
    assert_eq!(epoch, "1");
    let owner = owner.to_owned();
    let killed = cluster.replica(&owner);
    let _ = killed.child.kill();
    let _ = killed.child.wait();
    let killed_at = Instant::now();
    std::fs::write(&gate, "").expect("gate");

    // Another replica takes the lease over (epoch 2) within the bound, and drives the deployment to its end.
    let new_owner = wait_for("another replica to take the deployment over", Duration::from_secs(30), || {
        let url = url.clone();
        let first = first.clone();
        let owner = owner.clone();
        async move {
            let lease = psql(&url, &format!("SELECT owner || ' ' || epoch FROM leases WHERE name = '{first}'"));
            let (now_owner, epoch) = lease.split_once(' ')?;
            (now_owner != owner).then(|| (now_owner.to_owned(), epoch.to_owned()))
        }
    })
    .await;
    let failover = killed_at.elapsed();
    eprintln!(
        "FAILOVER: lease of {first} taken over by {} (epoch {}) {failover:?} after SIGKILL of {owner}",
        new_owner.0, new_owner.1
    );
    assert_eq!(new_owner.1, "2");
    assert!(failover < Duration::from_secs(15), "failover took {failover:?}");

    // While that replica is down, a second deployment starts and finishes.
    let info = cluster.wait_deployment(&first, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{info:?}\n{}", cluster.logs());
    let bundle2 = Bundle::new()
        .file("appspec.yml", &appspec_all_hooks("files:\n  - source: app.txt\n    destination: /srv/app\n", ""), 0o644)
        .file("app.txt", "v2\n", 0o644)
        .script("scripts/record.sh", RECORD_HOOK);
    let revision2 = cluster.push_bundle("app", bundle2.tgz(), "tgz").await;
    let second = cluster.deploy("app", "g", &revision2, serde_json::json!({})).await;
    let info = cluster.wait_deployment(&second, DEPLOY_TIMEOUT).await;
    assert_eq!(info.status.as_deref(), Some("Succeeded"), "{info:?}\n{}", cluster.logs());

    // Every event ran exactly once on every host, in order, and nothing was lost.
    // (The second deployment also runs the first revision's ApplicationStop hook.)
    let mut expected = expected_lines(&[&first]);
    expected.push(format!("ApplicationStop {second}"));
    expected.extend(expected_lines(&[&second]));
    for agent in &cluster.agents {
        assert_eq!(hook_lines(agent), expected, "{}\n{}", agent.name, cluster.logs());
        assert_eq!(std::fs::read_to_string(agent.dest("/srv/app/app.txt")).expect("installed"), "v2\n");
    }
    let failed_events = psql(&url, "SELECT COUNT(*) FROM lifecycle_events WHERE status <> 'Succeeded'");
    assert_eq!(failed_events, "0");
}
