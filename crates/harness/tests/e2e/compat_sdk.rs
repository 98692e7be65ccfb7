//! The official Rust SDK (`aws-sdk-codedeploy`, configured through `aws-config`) against a real cluster: the core
//! lifecycle, typed errors, timestamps and the deployment overview, as a Rust user of CodeDeploy would write it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_config::BehaviorVersion;
use aws_sdk_codedeploy::Client;
use aws_sdk_codedeploy::client::Waiters;
use aws_sdk_codedeploy::config::{Credentials, Region};
use aws_sdk_codedeploy::types::{
    BundleType, DeploymentStatus, DeploymentTargetType, LifecycleEventStatus, RevisionLocation, RevisionLocationType,
    S3Location, Tag, TagFilter, TagFilterType, TargetStatus,
};
use cutover_harness::{Bundle, Cluster, ClusterOptions, wait_for};

use crate::{DEPLOY_TIMEOUT, RECORD_HOOK, appspec_all_hooks};

/// A client for the cluster, configured as for AWS but with a static key and the cluster's endpoint.
async fn sdk_client(cluster: &Cluster) -> Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider({
            let admin = cutover_harness::admin_credentials(&cluster.server.data_dir);
            Credentials::new(admin.access_key_id, admin.secret_access_key, None, None, "static")
        })
        .endpoint_url(&cluster.endpoint)
        .load()
        .await;
    Client::new(&config)
}

fn now_seconds() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_sdk_drives_a_deployment_and_matches_typed_errors() {
    let cluster = Cluster::start(ClusterOptions { agents: 2, ..Default::default() }).await;
    let client = sdk_client(&cluster).await;
    let started = now_seconds();

    // Applications, with the SDK's typed errors for a missing and a duplicate one.
    let created = client.create_application().application_name("sdk").send().await.expect("CreateApplication");
    assert!(created.application_id().is_some_and(|id| !id.is_empty()));
    let missing = client.get_application().application_name("nope").send().await.expect_err("missing application");
    assert!(missing.as_service_error().is_some_and(|e| e.is_application_does_not_exist_exception()), "{missing:?}");
    let duplicate =
        client.create_application().application_name("sdk").send().await.expect_err("duplicate application");
    assert!(duplicate.as_service_error().is_some_and(|e| e.is_application_already_exists_exception()), "{duplicate:?}");
    let app = client.get_application().application_name("sdk").send().await.expect("GetApplication");
    let create_time = app.application().and_then(|a| a.create_time()).expect("createTime").as_secs_f64();
    assert!((started - 5.0..=now_seconds() + 5.0).contains(&create_time), "createTime {create_time} is not now");

    // A deployment group targeting both hosts by tag, and the typed error for a duplicate.
    let filter = TagFilter::builder().key("env").value("test").r#type(TagFilterType::KeyAndValue).build();
    let group = || {
        client
            .create_deployment_group()
            .application_name("sdk")
            .deployment_group_name("fleet")
            .deployment_config_name("CodeDeployDefault.AllAtOnce")
            .service_role_arn("arn:aws:iam::000000000000:role/test")
            .on_premises_instance_tag_filters(filter.clone())
            .tags(Tag::builder().key("team").value("platform").build())
    };
    group().send().await.expect("CreateDeploymentGroup");
    let duplicate = group().send().await.expect_err("duplicate group");
    assert!(
        duplicate.as_service_error().is_some_and(|e| e.is_deployment_group_already_exists_exception()),
        "{duplicate:?}"
    );
    let missing = client
        .get_deployment_group()
        .application_name("sdk")
        .deployment_group_name("nope")
        .send()
        .await
        .expect_err("missing group");
    assert!(
        missing.as_service_error().is_some_and(|e| e.is_deployment_group_does_not_exist_exception()),
        "{missing:?}"
    );
    let tags = client
        .list_tags_for_resource()
        .resource_arn("arn:cutover:codedeploy:local:000000000000:deploymentgroup:sdk/fleet")
        .send()
        .await
        .expect("ListTagsForResource");
    assert_eq!(
        tags.tags().iter().map(|t| (t.key().unwrap_or(""), t.value().unwrap_or(""))).collect::<Vec<_>>(),
        [("team", "platform")]
    );

    // Upload a bundle to the server's S3-style revision store, register it and deploy it.
    let bundle = Bundle::new()
        .file("appspec.yml", &appspec_all_hooks("files:\n  - source: site\n    destination: /srv/sdk\n", ""), 0o644)
        .file("site/index.html", "sdk\n", 0o644)
        .script("scripts/record.sh", RECORD_HOOK);
    let etag = cluster.client.put_object("sdk-bundles", "sdk/app.tgz", bundle.tgz()).await.expect("upload");
    let revision = RevisionLocation::builder()
        .revision_type(RevisionLocationType::S3)
        .s3_location(
            S3Location::builder()
                .bucket("sdk-bundles")
                .key("sdk/app.tgz")
                .bundle_type(BundleType::TarGZip)
                .e_tag(&etag)
                .build(),
        )
        .build();
    client
        .register_application_revision()
        .application_name("sdk")
        .revision(revision.clone())
        .description("from the Rust SDK")
        .send()
        .await
        .expect("RegisterApplicationRevision");
    let deployment = client
        .create_deployment()
        .application_name("sdk")
        .deployment_group_name("fleet")
        .revision(revision.clone())
        .description("sdk deployment")
        .send()
        .await
        .expect("CreateDeployment");
    let id = deployment.deployment_id().expect("deploymentId").to_owned();

    let info = wait_for("the deployment to finish", DEPLOY_TIMEOUT, || {
        let client = client.clone();
        let id = id.clone();
        async move {
            let out = client.get_deployment().deployment_id(id).send().await.ok()?;
            let info = out.deployment_info()?.clone();
            matches!(
                info.status(),
                Some(DeploymentStatus::Succeeded | DeploymentStatus::Failed | DeploymentStatus::Stopped)
            )
            .then_some(info)
        }
    })
    .await;
    assert_eq!(info.status(), Some(&DeploymentStatus::Succeeded), "{info:?}\n{}", cluster.logs());
    // The SDK's own waiter agrees (its first check is immediate; later ones would wait 15 s).
    client
        .wait_until_deployment_successful()
        .deployment_id(&id)
        .wait(Duration::from_secs(30))
        .await
        .expect("DeploymentSuccessful waiter");

    // Timestamps parse as SDK DateTimes, in order, and near now.
    let create = info.create_time().expect("createTime").as_secs_f64();
    let start = info.start_time().expect("startTime").as_secs_f64();
    let complete = info.complete_time().expect("completeTime").as_secs_f64();
    assert!(
        started - 5.0 <= create && create <= start && start <= complete && complete <= now_seconds() + 5.0,
        "{info:?}"
    );
    let overview = info.deployment_overview().expect("deploymentOverview");
    assert_eq!(
        (overview.succeeded(), overview.failed(), overview.skipped(), overview.pending(), overview.in_progress()),
        (2, 0, 0, 0, 0)
    );
    assert_eq!(info.description(), Some("sdk deployment"));
    assert_eq!(info.revision(), Some(&revision));

    // Targets with their lifecycle events.
    let listed = client.list_deployment_targets().deployment_id(&id).send().await.expect("ListDeploymentTargets");
    let mut target_ids = listed.target_ids().to_vec();
    target_ids.sort();
    assert_eq!(target_ids, ["host-1", "host-2"]);
    let targets = client
        .batch_get_deployment_targets()
        .deployment_id(&id)
        .set_target_ids(Some(target_ids))
        .send()
        .await
        .expect("BatchGetDeploymentTargets");
    for target in targets.deployment_targets() {
        assert_eq!(target.deployment_target_type(), Some(&DeploymentTargetType::InstanceTarget));
        let instance = target.instance_target().expect("instanceTarget");
        assert_eq!(instance.status(), Some(&TargetStatus::Succeeded));
        let events = instance.lifecycle_events();
        assert_eq!(events.len(), 7, "{events:?}");
        for event in events {
            assert_eq!(event.status(), Some(&LifecycleEventStatus::Succeeded), "{event:?}");
            let (begin, end) = (event.start_time().expect("startTime"), event.end_time().expect("endTime"));
            assert!(begin.as_secs_f64() <= end.as_secs_f64() && end.as_secs_f64() <= complete, "{event:?}");
        }
    }

    // The revision's bookkeeping, and typed errors on deployments.
    let revision_info = client
        .get_application_revision()
        .application_name("sdk")
        .revision(revision)
        .send()
        .await
        .expect("GetApplicationRevision");
    let generic = revision_info.revision_info().expect("revisionInfo");
    assert_eq!(generic.description(), Some("from the Rust SDK"));
    assert_eq!(generic.deployment_groups(), ["fleet"]);
    assert!(generic.first_used_time().is_some() && generic.register_time().is_some());
    let stop = client.stop_deployment().deployment_id(&id).send().await.expect_err("already completed");
    assert!(stop.as_service_error().is_some_and(|e| e.is_deployment_already_completed_exception()), "{stop:?}");
    let missing = client.get_deployment().deployment_id("d-NOPENOPE0").send().await.expect_err("missing deployment");
    assert!(missing.as_service_error().is_some_and(|e| e.is_deployment_does_not_exist_exception()), "{missing:?}");
    let listed = client
        .list_deployments()
        .application_name("sdk")
        .deployment_group_name("fleet")
        .send()
        .await
        .expect("ListDeployments");
    assert_eq!(listed.deployments(), [id.as_str()]);
}
