//! The store conformance suite: every test runs against SQLite, and against PostgreSQL when
//! `CUTOVER_TEST_PG_URL` names a server (each test in a database of its own; `.ci/run` starts one).
//! The PostgreSQL runs also exercise what SQLite's single connection never shows: concurrent transactions.

use std::sync::atomic::{AtomicU32, Ordering};

use cutover_store::*;
use sqlx::Connection;

/// A store on a fresh database of the given engine, with the temp dir that holds it (SQLite).
struct Fixture {
    store: Store,
    _dir: tempfile::TempDir,
}

async fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
    Fixture { store, _dir: dir }
}

/// A URL of a database created for this test, or None when no PostgreSQL is configured.
async fn scratch_postgres_url() -> Option<String> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let admin = std::env::var("CUTOVER_TEST_PG_URL").ok()?;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let name = format!("conformance_{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
    let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect to CUTOVER_TEST_PG_URL");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.unwrap();
    let (base, _) = admin.rsplit_once('/').expect("URL with a database");
    Some(format!("{base}/{name}"))
}

async fn postgres() -> Option<Fixture> {
    let url = scratch_postgres_url().await?;
    let store = Store::open(&url).await.unwrap();
    Some(Fixture { store, _dir: tempfile::tempdir().unwrap() })
}

/// Defines `sqlite_<name>` and `postgres_<name>` from one `async fn <name>(store: Store)`.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite_backend { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() { let f = super::sqlite().await; super::$name(f.store.clone()).await; }
        )* }
        mod postgres_backend { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let Some(f) = super::postgres().await else {
                    eprintln!("CUTOVER_TEST_PG_URL is not set: PostgreSQL run skipped");
                    return;
                };
                assert_eq!(f.store.dialect(), super::Dialect::Postgres);
                super::$name(f.store.clone()).await;
            }
        )* }
    };
}

conformance!(
    applications_and_conflicts,
    concurrent_inserts_of_one_name_conflict,
    deployment_event_lifecycle,
    concurrent_claims_hand_out_an_event_once,
    sequence_numbers_are_unique_under_concurrency,
    leases_exclude_and_fence,
    object_keys_list_in_byte_order,
    concurrent_log_appends_lose_nothing,
    enrollment_tokens_are_consumed_once,
    notifications_reach_listeners,
    task_sets_are_assigned_reported_promoted_and_withdrawn,
);

fn application(id: &str, name: &str) -> ApplicationRow {
    ApplicationRow {
        id: id.into(),
        name: name.into(),
        compute_platform: "Server".into(),
        create_time: 1,
        tags: "[]".into(),
    }
}

fn deployment(id: &str) -> DeploymentRow {
    DeploymentRow {
        id: id.into(),
        application_id: "a1".into(),
        application_name: "app".into(),
        deployment_group_id: "g1".into(),
        deployment_group_name: "group".into(),
        config_name: "CodeDeployDefault.AllAtOnce".into(),
        status: "Created".into(),
        creator: "user".into(),
        revision: "{}".into(),
        bundle: "{}".into(),
        previous_revision: None,
        options: "{}".into(),
        min_healthy: None,
        error_code: None,
        error_message: None,
        stop_requested: false,
        create_time: 10,
        start_time: None,
        complete_time: None,
    }
}

fn diagnostics(message: &str) -> EventDiagnostics {
    EventDiagnostics { message: message.into(), ..EventDiagnostics::default() }
}

async fn applications_and_conflicts(store: Store) {
    let mut tx = store.begin().await.unwrap();
    tx.insert_application(&application("a1", "web")).await.unwrap();
    tx.insert_application(&application("a2", "api")).await.unwrap();
    assert!(matches!(tx.insert_application(&application("a3", "web")).await, Err(StoreError::Conflict(_))));
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let names: Vec<String> = tx.list_applications().await.unwrap().into_iter().map(|a| a.name).collect();
    assert_eq!(names, ["api", "web"]);
    tx.rename_application("a1", "site").await.unwrap();
    assert_eq!(tx.application_by_id("a1").await.unwrap().unwrap().name, "site");
    tx.delete_application("a2").await.unwrap();
    // Dropped without commit: rolled back.
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.application_by_id("a1").await.unwrap().unwrap().name, "web");
    assert!(tx.application_by_name("api").await.unwrap().is_some());
}

async fn concurrent_inserts_of_one_name_conflict(store: Store) {
    let tasks: Vec<_> = (0..6)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut tx = store.begin().await?;
                tx.insert_application(&application(&format!("id{n}"), "same")).await?;
                tx.commit().await
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(other) => panic!("unexpected error {other}"),
        }
    }
    assert_eq!(ok, 1);
}

async fn insert_running_deployment(store: &Store, id: &str, hosts: &[&str]) {
    let mut tx = store.begin().await.unwrap();
    let targets: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
    let events = vec!["BeforeInstall".to_owned(), "Install".to_owned()];
    tx.insert_deployment(&deployment(id), &targets, &events).await.unwrap();
    tx.start_deployment(id, 0, 20).await.unwrap();
    for host in hosts {
        tx.set_target_status(id, host, "InProgress", 20).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn deployment_event_lifecycle(store: Store) {
    insert_running_deployment(&store, "d-1", &["h1", "h2"]).await;
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.deployment("d-1").await.unwrap().unwrap().status, "InProgress");
    let claimed = tx.claim_next_event("h1", 30, &[]).await.unwrap().unwrap();
    assert_eq!((claimed.event.name.as_str(), claimed.event.status.as_str()), ("BeforeInstall", "InProgress"));
    // Asked again (the answer was lost), the same event comes back.
    let again = tx.claim_next_event("h1", 31, &[]).await.unwrap().unwrap();
    assert_eq!(again.event.position, claimed.event.position);
    // The agent is running it: nothing else of this deployment is handed out.
    assert!(tx.claim_next_event("h1", 31, &[("d-1".into(), 0)]).await.unwrap().is_none());
    let outcome = tx.record_event_result("d-1", "h1", 0, "Succeeded", &diagnostics("ok"), Some(30), 40).await.unwrap();
    assert_eq!(outcome, RecordOutcome::Recorded);
    let retried = tx.record_event_result("d-1", "h1", 0, "Succeeded", &diagnostics("ok"), Some(30), 41).await.unwrap();
    assert_eq!(retried, RecordOutcome::Duplicate);
    let next = tx.claim_next_event("h1", 42, &[]).await.unwrap().unwrap();
    assert_eq!(next.event.name, "Install");
    tx.skip_pending_events("d-1", "h2").await.unwrap();
    let statuses: Vec<(String, String)> =
        tx.events("d-1").await.unwrap().into_iter().map(|e| (e.instance_name, e.status)).collect();
    assert_eq!(
        statuses,
        [
            ("h1".into(), "Succeeded".into()),
            ("h1".into(), "InProgress".into()),
            ("h2".into(), "Skipped".into()),
            ("h2".into(), "Skipped".into())
        ]
    );
    let counts = tx.target_status_counts("d-1").await.unwrap();
    assert_eq!(counts, [("InProgress".to_owned(), 2)]);
    tx.commit().await.unwrap();
}

async fn concurrent_claims_hand_out_an_event_once(store: Store) {
    insert_running_deployment(&store, "d-2", &["h1"]).await;
    // Polls of one host reaching two replicas at once: exactly one moves the event to InProgress.
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                let claimed = tx.claim_next_event("h1", 100 + n, &[]).await.unwrap();
                tx.commit().await.unwrap();
                claimed.map(|c| c.event.start_time)
            })
        })
        .collect();
    let mut starts = Vec::new();
    for task in tasks {
        starts.push(task.await.unwrap().expect("every poll sees the event"));
    }
    starts.dedup();
    assert_eq!(starts.len(), 1, "the event was started once, every poll got that start: {starts:?}");
}

async fn sequence_numbers_are_unique_under_concurrency(store: Store) {
    let tasks: Vec<_> = (0..16)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                let row = AuditEventRow {
                    seq: 0,
                    event_time: n,
                    access_key_id: "AK".into(),
                    principal: "p".into(),
                    action: "CreateApplication".into(),
                    resource: "r".into(),
                    source: "s".into(),
                    outcome: "ok".into(),
                };
                let seq = tx.append_audit_event(&row).await.unwrap();
                tx.enqueue_trigger_event("d", "g", "DeploymentStart", None, "InProgress", n).await.unwrap();
                tx.commit().await.unwrap();
                seq
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.unwrap());
    }
    seqs.sort();
    assert_eq!(seqs, (1..=16).collect::<Vec<i64>>());
    let mut tx = store.begin().await.unwrap();
    let events: Vec<i64> = tx.unexpanded_trigger_events(100).await.unwrap().into_iter().map(|e| e.seq).collect();
    assert_eq!(events, (1..=16).collect::<Vec<i64>>());
    assert_eq!(tx.audit_events(None, 100).await.unwrap().len(), 16);
}

async fn leases_exclude_and_fence(store: Store) {
    insert_running_deployment(&store, "d-3", &["h1"]).await;
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.undriven_deployments(1000).await.unwrap(), ["d-3"]);
    assert_eq!(tx.acquire_lease("d-3", "replica-a", 1000, 11_000).await.unwrap(), Some(1));
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(tx.undriven_deployments(2000).await.unwrap().is_empty());
    // Held and unexpired: refused to another replica, renewed for its owner without a new epoch.
    assert_eq!(tx.acquire_lease("d-3", "replica-b", 2000, 12_000).await.unwrap(), None);
    assert_eq!(tx.acquire_lease("d-3", "replica-a", 2000, 12_000).await.unwrap(), Some(1));
    assert_eq!(tx.renew_leases("replica-a", 3000, 13_000).await.unwrap(), 1);
    tx.commit().await.unwrap();
    // Expired: taken over, with the next epoch; the old owner can neither renew nor take it back.
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.undriven_deployments(13_001).await.unwrap(), ["d-3"]);
    assert_eq!(tx.acquire_lease("d-3", "replica-b", 13_001, 23_000).await.unwrap(), Some(2));
    assert_eq!(tx.renew_leases("replica-a", 13_002, 23_000).await.unwrap(), 0);
    assert_eq!(tx.acquire_lease("d-3", "replica-a", 13_002, 23_000).await.unwrap(), None);
    let lease = tx.lease("d-3").await.unwrap().unwrap();
    assert_eq!((lease.owner.as_str(), lease.epoch, lease.expires_ms), ("replica-b", 2, 23_000));
    // The sweeper of a replica only sees events of deployments it drives.
    assert!(tx.stale_open_events(i64::MAX, "replica-a").await.unwrap().is_empty());
    assert_eq!(tx.stale_open_events(i64::MAX, "replica-b").await.unwrap().len(), 1);
    tx.release_lease("d-3", "replica-a").await.unwrap();
    assert!(tx.lease("d-3").await.unwrap().is_some());
    tx.release_lease("d-3", "replica-b").await.unwrap();
    assert!(tx.lease("d-3").await.unwrap().is_none());
    tx.commit().await.unwrap();

    // Racing takeovers of one expired lease: exactly one wins.
    let tasks: Vec<_> = (0..6)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                let won = tx.acquire_lease("worker:x", &format!("r{n}"), 50_000, 60_000).await.unwrap();
                tx.commit().await.unwrap();
                won
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap().is_some());
    }
    assert_eq!(winners, 1);
}

async fn object_keys_list_in_byte_order(store: Store) {
    let mut tx = store.begin().await.unwrap();
    assert!(tx.insert_bucket("b", 1).await.unwrap());
    assert!(!tx.insert_bucket("b", 2).await.unwrap());
    for (n, key) in ["p/é", "p/a", "p/B", "p/_x", "p/a b", "q/a", "p/Z"].iter().enumerate() {
        let row = ObjectVersionRow {
            bucket: "b".into(),
            key: (*key).into(),
            version_id: Some(format!("v{n}")),
            sha256: "00".into(),
            etag: Some("e".into()),
            size: 1,
            content_type: None,
            create_time: n as i64,
        };
        tx.put_object_version(&row).await.unwrap();
    }
    let keys: Vec<String> =
        tx.list_objects_after("b", "p/", "", 100).await.unwrap().into_iter().map(|o| o.key).collect();
    // S3 order is UTF-8 byte order, whatever the database's locale.
    assert_eq!(keys, ["p/B", "p/Z", "p/_x", "p/a", "p/a b", "p/é"]);
    let after: Vec<String> =
        tx.list_objects_after("b", "p/", "p/Z", 2).await.unwrap().into_iter().map(|o| o.key).collect();
    assert_eq!(after, ["p/_x", "p/a"]);
    assert!(tx.delete_object_version("b", "p/a", "v1").await.unwrap());
    assert!(tx.current_object("b", "p/a").await.unwrap().is_none());
}

async fn concurrent_log_appends_lose_nothing(store: Store) {
    insert_running_deployment(&store, "d-4", &["h1"]).await;
    // Pieces of one log, each at its offset, sent in order but raced by replicas; each is retried until it lands
    // at the end of the log (as the agent does, which resends from its acknowledged offset).
    let pieces: Vec<String> = (0..12).map(|n| format!("line {n:02}\n")).collect();
    let full: String = pieces.concat();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            let full = full.clone();
            tokio::spawn(async move {
                loop {
                    let mut tx = store.begin().await.unwrap();
                    let known = tx.event_logs("d-4", "h1").await.unwrap().first().map_or(0, |(_, log)| log.len());
                    if known >= full.len() {
                        return;
                    }
                    tx.append_event_log("d-4", "h1", 0, known as u64, &full[known..known + 8], 1 << 20).await.unwrap();
                    tx.commit().await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.event_logs("d-4", "h1").await.unwrap(), [(0, full)]);
}

async fn enrollment_tokens_are_consumed_once(store: Store) {
    let mut tx = store.begin().await.unwrap();
    let token = EnrollmentTokenRow {
        token_id: "t1".into(),
        secret_sha256: "x".into(),
        expire_time: 100,
        uses_left: Some(3),
        create_time: 1,
    };
    tx.insert_enrollment_token(&token).await.unwrap();
    tx.commit().await.unwrap();
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                let used = tx.consume_enrollment_token("t1").await.unwrap();
                tx.commit().await.unwrap();
                used
            })
        })
        .collect();
    let mut used = 0;
    for task in tasks {
        used += usize::from(task.await.unwrap());
    }
    assert_eq!(used, 3);
}

async fn notifications_reach_listeners(store: Store) {
    let listener = store.listen("cutover_test").await.unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.notify("cutover_test", "before-commit").await.unwrap();
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    tx.notify("cutover_test", "hello").await.unwrap();
    tx.commit().await.unwrap();
    match (store.dialect(), listener) {
        (Dialect::Sqlite, listener) => assert!(listener.is_none()),
        (Dialect::Postgres, Some(mut listener)) => {
            // A rolled-back transaction notifies nobody.
            let payload = tokio::time::timeout(std::time::Duration::from_secs(10), listener.recv()).await;
            assert_eq!(payload.unwrap().unwrap(), "hello");
        }
        (Dialect::Postgres, None) => panic!("PostgreSQL store without a listener"),
    }
}

fn task_set(instance: &str, id: &str, deployment: &str, role: &str) -> NewTaskSet {
    NewTaskSet {
        instance_name: instance.into(),
        task_set_id: id.into(),
        service: "c1/web".into(),
        deployment_id: deployment.into(),
        role: role.into(),
        definition: "{}".into(),
        task_count: 2,
        container_name: "app".into(),
        container_port: 8080,
    }
}

async fn task_sets_are_assigned_reported_promoted_and_withdrawn(store: Store) {
    let mut tx = store.begin().await.unwrap();
    tx.insert_task_sets(&[task_set("h1", "c1-a", "d1", "primary"), task_set("h2", "c1-b", "d1", "primary")], 5)
        .await
        .unwrap();
    tx.insert_task_sets(&[task_set("h1", "c1-c", "d2", "replacement")], 6).await.unwrap();
    tx.commit().await.unwrap();

    // Reports: the reported columns only; logs replace the kept ones only when sent; messages accumulate.
    let report = |id: &str, logs: Option<&str>, messages: &str| TaskSetReportRow {
        task_set_id: id.into(),
        running: 2,
        healthy: true,
        upstreams: "[\"127.0.0.1:1\"]".into(),
        error: None,
        replaced: 1,
        messages: messages.into(),
        logs: logs.map(str::to_owned),
    };
    let mut tx = store.begin().await.unwrap();
    assert!(tx.record_task_set_report("h1", &report("c1-c", Some("[1]"), "task x replaced"), 7).await.unwrap());
    assert!(tx.record_task_set_report("h1", &report("c1-c", None, "task y replaced"), 8).await.unwrap());
    // Another host cannot report on h1's task set.
    assert!(!tx.record_task_set_report("h2", &report("c1-c", None, ""), 8).await.unwrap());
    tx.request_task_set_logs("c1/web", 100).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let rows = tx.task_sets_of_instance("h1").await.unwrap();
    assert_eq!(rows.len(), 2);
    let reported = rows.iter().find(|row| row.task_set_id == "c1-c").unwrap();
    assert_eq!((reported.running, reported.healthy, reported.replaced), (2, true, 1));
    assert_eq!(reported.upstreams, "[\"127.0.0.1:1\"]");
    assert_eq!(reported.messages, "task x replaced\ntask y replaced\n");
    assert_eq!((reported.logs.as_deref(), reported.logs_at, reported.reported_at), (Some("[1]"), Some(7), Some(8)));
    assert_eq!(reported.logs_wanted_until, Some(100));
    let untouched = rows.iter().find(|row| row.task_set_id == "c1-a").unwrap();
    assert_eq!((untouched.running, untouched.healthy, untouched.reported_at), (0, false, None));
    assert_eq!(tx.task_sets_of_deployment("d2").await.unwrap().len(), 1);

    // Promotion: the replacement becomes the primary, the old primary rows go.
    tx.promote_task_sets("c1/web", "d2").await.unwrap();
    let rows = tx.task_sets_of_service("c1/web").await.unwrap();
    assert_eq!(
        rows.iter().map(|row| (row.task_set_id.as_str(), row.role.as_str())).collect::<Vec<_>>(),
        [("c1-c", "primary")]
    );
    // Withdrawing a deployment's replacement leaves its promoted (primary) rows alone.
    assert_eq!(tx.delete_task_sets_of_deployment("d2").await.unwrap(), 0);
    tx.insert_task_sets(&[task_set("h2", "c1-d", "d3", "replacement")], 9).await.unwrap();
    assert_eq!(tx.delete_task_sets_of_deployment("d3").await.unwrap(), 1);
    assert_eq!(tx.all_task_sets().await.unwrap().len(), 1);
    tx.commit().await.unwrap();
}
