"""A full CodeDeploy lifecycle through boto3 and the AWS CLI against a Cutover cluster with two agents.

Environment: CUTOVER_ENDPOINT, and CUTOVER_HOSTS (JSON list of {name, host_dir, dest_root}) so the suite can
release a blocking hook script and look at installed files, as the Rust e2e tests do.
"""

import json
import os
import time

from botocore import xform_name
from botocore.exceptions import WaiterError

from compat import (
    ARN_PREFIX,
    aws,
    aws_error,
    aws_push,
    bundle,
    check,
    client,
    directory,
    equal,
    error_code,
    expect_error,
    is_time,
    poll,
    put_object,
    run,
    s3_revision,
)

HOSTS = json.loads(os.environ.get("CUTOVER_HOSTS", "[]"))
ROLE = "arn:aws:iam::123456789012:role/CodeDeployServiceRole"
ENV_TEST = [{"Key": "env", "Value": "test", "Type": "KEY_AND_VALUE"}]
FAST_WAITER = {"Delay": 1, "MaxAttempts": 120}

RECORD = '#!/bin/sh\necho "$LIFECYCLE_EVENT $DEPLOYMENT_ID" >> "$CUTOVER_TEST_HOST_DIR/compat.log"\n'


def app_files(version, validate_exit=0):
    appspec = (
        "version: 0.0\nos: linux\nfiles:\n  - source: site\n    destination: /srv/compat\n"
        "file_exists_behavior: OVERWRITE\nhooks:\n"
        "  AfterInstall:\n    - location: scripts/record.sh\n"
        "  ValidateService:\n    - location: scripts/validate.sh\n      timeout: 60\n"
    )
    return {
        "appspec.yml": (appspec, 0o644),
        "site/index.html": (f"{version}\n", 0o644),
        "scripts/record.sh": (RECORD, 0o755),
        "scripts/validate.sh": (f"#!/bin/sh\necho validating {version}\nexit {validate_exit}\n", 0o755),
    }


def app_bundle(version, validate_exit=0):
    return bundle(app_files(version, validate_exit))


def blocking_bundle():
    """BeforeInstall marks the host as started, then waits for a `go` file in the host's scratch directory."""
    appspec = "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: wait.sh\n      timeout: 120\n"
    script = (
        '#!/bin/sh\ntouch "$CUTOVER_TEST_HOST_DIR/started"\n'
        'while [ ! -f "$CUTOVER_TEST_HOST_DIR/go" ]; do sleep 0.05; done\n'
    )
    return bundle({"appspec.yml": (appspec, 0o644), "wait.sh": (script, 0o755)})


def installed(version):
    for host in HOSTS:
        path = os.path.join(host["dest_root"], "srv/compat/index.html")
        with open(path, encoding="utf-8") as file:
            equal(file.read(), f"{version}\n", f"installed file on {host['name']}")


# ----- boto3 -----


def boto3_applications(cd, app):
    out = cd.create_application(applicationName=app, tags=[{"Key": "team", "Value": "compat"}])
    check(len(out["applicationId"]) > 0, "applicationId")
    info = cd.get_application(applicationName=app)["application"]
    equal((info["applicationName"], info["computePlatform"], info["linkedToGitHub"]), (app, "Server", False), "application")
    is_time(info["createTime"], "application createTime")
    names = [name for page in cd.get_paginator("list_applications").paginate() for name in page["applications"]]
    check(app in names, f"{app} listed by the paginator: {names}")
    batch = cd.batch_get_applications(applicationNames=[app])["applicationsInfo"]
    equal([a["applicationName"] for a in batch], [app], "BatchGetApplications")
    # Rename and back.
    cd.update_application(applicationName=app, newApplicationName=f"{app}-renamed")
    cd.get_application(applicationName=f"{app}-renamed")
    cd.update_application(applicationName=f"{app}-renamed", newApplicationName=app)


def boto3_groups_and_configs(cd, app):
    cd.create_deployment_config(
        deploymentConfigName="Compat.TwoThirds", minimumHealthyHosts={"type": "FLEET_PERCENT", "value": 34}
    )
    config = cd.get_deployment_config(deploymentConfigName="Compat.TwoThirds")["deploymentConfigInfo"]
    equal(config["minimumHealthyHosts"], {"type": "FLEET_PERCENT", "value": 34}, "minimumHealthyHosts")
    is_time(config["createTime"], "deployment config createTime")
    configs = [c for page in cd.get_paginator("list_deployment_configs").paginate() for c in page["deploymentConfigsList"]]
    check({"Compat.TwoThirds", "CodeDeployDefault.OneAtATime", "CodeDeployDefault.AllAtOnce"} <= set(configs), f"configs: {configs}")
    for group, config_name in [("fleet", "CodeDeployDefault.AllAtOnce"), ("slow", "CodeDeployDefault.OneAtATime"), ("spare", "Compat.TwoThirds")]:
        out = cd.create_deployment_group(
            applicationName=app,
            deploymentGroupName=group,
            deploymentConfigName=config_name,
            serviceRoleArn=ROLE,
            onPremisesInstanceTagFilters=ENV_TEST,
            tags=[{"Key": "group", "Value": group}],
        )
        check(len(out["deploymentGroupId"]) > 0, "deploymentGroupId")
    info = cd.get_deployment_group(applicationName=app, deploymentGroupName="fleet")["deploymentGroupInfo"]
    equal(info["onPremisesInstanceTagFilters"], ENV_TEST, "group tag filters")
    equal(info["deploymentStyle"], {"deploymentType": "IN_PLACE", "deploymentOption": "WITHOUT_TRAFFIC_CONTROL"}, "deploymentStyle")
    groups = [g for page in cd.get_paginator("list_deployment_groups").paginate(applicationName=app) for g in page["deploymentGroups"]]
    equal(sorted(groups), ["fleet", "slow", "spare"], "ListDeploymentGroups")
    batch = cd.batch_get_deployment_groups(applicationName=app, deploymentGroupNames=["fleet", "nope"])
    equal([g["deploymentGroupName"] for g in batch["deploymentGroupsInfo"]], ["fleet"], "BatchGetDeploymentGroups")
    check("nope" in batch.get("errorMessage", ""), f"errorMessage names the missing group: {batch}")
    out = cd.update_deployment_group(applicationName=app, currentDeploymentGroupName="spare", newDeploymentGroupName="spare2")
    equal(out["hooksNotCleanedUp"], [], "hooksNotCleanedUp")
    expect_error("DeploymentConfigInUseException", cd.delete_deployment_config, deploymentConfigName="Compat.TwoThirds")


def boto3_deploy(cd, app):
    """Upload, register, deploy and wait; then read the deployment, its targets and lifecycle events."""
    etag = put_object("compat-bundles", f"{app}/v1.zip", app_bundle("v1"))
    revision = s3_revision("compat-bundles", f"{app}/v1.zip", etag)
    cd.register_application_revision(applicationName=app, revision=revision, description="v1 from boto3")
    got = cd.get_application_revision(applicationName=app, revision=revision)
    equal(got["revisionInfo"]["description"], "v1 from boto3", "revision description")
    is_time(got["revisionInfo"]["registerTime"], "registerTime")
    revisions = [r for page in cd.get_paginator("list_application_revisions").paginate(applicationName=app) for r in page["revisions"]]
    equal(revisions, [revision], "ListApplicationRevisions")
    batch = cd.batch_get_application_revisions(applicationName=app, revisions=[revision])
    equal(len(batch["revisions"]), 1, "BatchGetApplicationRevisions")

    deployment_id = cd.create_deployment(
        applicationName=app, deploymentGroupName="fleet", revision=revision, description="compat v1"
    )["deploymentId"]
    check(deployment_id.startswith("d-") and len(deployment_id) == 11, f"deployment id format: {deployment_id}")
    # The waiter polls every 15 s by default; Delay 1 keeps the suite fast without changing what it checks.
    cd.get_waiter("deployment_successful").wait(deploymentId=deployment_id, WaiterConfig=FAST_WAITER)
    info = cd.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    equal(info["status"], "Succeeded", "status")
    for field in ("createTime", "startTime", "completeTime"):
        is_time(info[field], field)
    check(info["createTime"] <= info["startTime"] <= info["completeTime"], f"times in order: {info}")
    equal(info["deploymentOverview"], {"Pending": 0, "InProgress": 0, "Succeeded": 2, "Failed": 0, "Skipped": 0, "Ready": 0}, "overview")
    equal((info["description"], info["creator"], info["revision"]), ("compat v1", "user", revision), "deployment info")
    installed("v1")

    listed = [d for page in cd.get_paginator("list_deployments").paginate(applicationName=app, deploymentGroupName="fleet") for d in page["deployments"]]
    equal(listed, [deployment_id], "ListDeployments")
    batch = cd.batch_get_deployments(deploymentIds=[deployment_id])["deploymentsInfo"]
    equal([d["deploymentId"] for d in batch], [deployment_id], "BatchGetDeployments")

    targets = [t for page in cd.get_paginator("list_deployment_targets").paginate(deploymentId=deployment_id) for t in page["targetIds"]]
    equal(sorted(targets), sorted(h["name"] for h in HOSTS), "ListDeploymentTargets")
    target = cd.get_deployment_target(deploymentId=deployment_id, targetId=targets[0])["deploymentTarget"]
    equal(target["deploymentTargetType"], "InstanceTarget", "deploymentTargetType")
    instance = target["instanceTarget"]
    equal(instance["targetArn"], f"{ARN_PREFIX}:instance/{targets[0]}", "targetArn")
    events = instance["lifecycleEvents"]
    equal(
        [e["lifecycleEventName"] for e in events],
        ["ApplicationStop", "DownloadBundle", "BeforeInstall", "Install", "AfterInstall", "ApplicationStart", "ValidateService"],
        "lifecycle events",
    )
    for event in events:
        equal(event["status"], "Succeeded", f"{event['lifecycleEventName']} status")
        is_time(event["startTime"], f"{event['lifecycleEventName']} startTime")
        is_time(event["endTime"], f"{event['lifecycleEventName']} endTime")
    batch = cd.batch_get_deployment_targets(deploymentId=deployment_id, targetIds=targets)["deploymentTargets"]
    equal(len(batch), 2, "BatchGetDeploymentTargets")
    # The deprecated instance operations, which the CLI hides but boto3 still has.
    instances = cd.list_deployment_instances(deploymentId=deployment_id)["instancesList"]
    equal(sorted(instances), sorted(targets), "ListDeploymentInstances")
    summary = cd.get_deployment_instance(deploymentId=deployment_id, instanceId=instances[0])["instanceSummary"]
    equal(summary["status"], "Succeeded", "GetDeploymentInstance")
    equal(len(cd.batch_get_deployment_instances(deploymentId=deployment_id, instanceIds=instances)["instancesSummary"]), 2, "BatchGetDeploymentInstances")
    return deployment_id, revision


def boto3_failed_deployment(cd, app):
    """A failing ValidateService: the waiter reports the failure and targets carry the script's diagnostics."""
    etag = put_object("compat-bundles", f"{app}/bad.zip", app_bundle("bad", validate_exit=3))
    revision = s3_revision("compat-bundles", f"{app}/bad.zip", etag)
    deployment_id = cd.create_deployment(applicationName=app, deploymentGroupName="fleet", revision=revision)["deploymentId"]
    try:
        cd.get_waiter("deployment_successful").wait(deploymentId=deployment_id, WaiterConfig=FAST_WAITER)
        raise AssertionError("the waiter accepted a failed deployment")
    except WaiterError as error:
        check("terminal failure" in str(error), f"waiter failure: {error}")
    info = cd.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    equal(info["status"], "Failed", "failed deployment status")
    check("code" in info["errorInformation"], f"errorInformation: {info.get('errorInformation')}")
    failed = cd.list_deployment_targets(deploymentId=deployment_id, targetFilters={"TargetStatus": ["Failed"]})["targetIds"]
    check(len(failed) >= 1, f"failed targets: {failed}")
    events = cd.get_deployment_target(deploymentId=deployment_id, targetId=failed[0])["deploymentTarget"]["instanceTarget"]["lifecycleEvents"]
    validate = next(e for e in events if e["lifecycleEventName"] == "ValidateService")
    equal(validate["status"], "Failed", "ValidateService status")
    diagnostics = validate["diagnostics"]
    equal((diagnostics["errorCode"], diagnostics["scriptName"]), ("ScriptFailed", "scripts/validate.sh"), "diagnostics")
    check("validating bad" in diagnostics["logTail"], f"logTail: {diagnostics['logTail']!r}")
    return deployment_id


def boto3_stop(cd, app):
    """Stop a running deployment: the running hook finishes, the rest is skipped, the deployment ends Stopped."""
    etag = put_object("compat-bundles", f"{app}/block.zip", blocking_bundle())
    revision = s3_revision("compat-bundles", f"{app}/block.zip", etag)
    deployment_id = cd.create_deployment(applicationName=app, deploymentGroupName="slow", revision=revision)["deploymentId"]
    expect_error("DeploymentLimitExceededException", cd.create_deployment, applicationName=app, deploymentGroupName="slow", revision=revision)
    poll("a host to start BeforeInstall", lambda: any(os.path.exists(os.path.join(h["host_dir"], "started")) for h in HOSTS))
    out = cd.stop_deployment(deploymentId=deployment_id)
    equal(out["status"], "Pending", "StopDeployment status while a hook runs")
    for host in HOSTS:
        open(os.path.join(host["host_dir"], "go"), "w").close()
    info = poll("the deployment to stop", lambda: (lambda i: i if i["status"] == "Stopped" else None)(cd.get_deployment(deploymentId=deployment_id)["deploymentInfo"]))
    equal(info["errorInformation"]["code"], "MANUAL_STOP", "stop error code")
    expect_error("DeploymentAlreadyCompletedException", cd.stop_deployment, deploymentId=deployment_id)
    return deployment_id


def boto3_tags(cd, app):
    app_arn = f"{ARN_PREFIX}:application:{app}"
    group_arn = f"{ARN_PREFIX}:deploymentgroup:{app}/fleet"
    config_arn = f"{ARN_PREFIX}:deploymentconfig:Compat.TwoThirds"
    equal(cd.list_tags_for_resource(ResourceArn=app_arn)["Tags"], [{"Key": "team", "Value": "compat"}], "CreateApplication tags")
    equal(cd.list_tags_for_resource(ResourceArn=group_arn)["Tags"], [{"Key": "group", "Value": "fleet"}], "CreateDeploymentGroup tags")
    for arn in (app_arn, group_arn, config_arn):
        cd.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "test"}, {"Key": "owner", "Value": "me"}])
        cd.untag_resource(ResourceArn=arn, TagKeys=["owner", "never-set"])
        tags = cd.list_tags_for_resource(ResourceArn=arn)["Tags"]
        check({"Key": "env", "Value": "test"} in tags and all(t["Key"] != "owner" for t in tags), f"tags of {arn}: {tags}")
    # Renaming keeps tags: they belong to the resource, not its name.
    cd.update_application(applicationName=app, newApplicationName=f"{app}-r")
    equal(len(cd.list_tags_for_resource(ResourceArn=f"{ARN_PREFIX}:application:{app}-r")["Tags"]), 2, "tags after rename")
    cd.update_application(applicationName=f"{app}-r", newApplicationName=app)
    tag = [{"Key": "k", "Value": "v"}]
    for code, arn in [
        ("InvalidArnException", "not-an-arn"),
        ("InvalidArnException", f"arn:aws:codedeploy:us-east-1:123456789012:application:{app}"),
        ("ArnNotSupportedException", "arn:aws:s3:::bucket"),
        ("ArnNotSupportedException", f"{ARN_PREFIX}:instance/host-1"),
        ("ApplicationDoesNotExistException", f"{ARN_PREFIX}:application:nope"),
        ("DeploymentGroupDoesNotExistException", f"{ARN_PREFIX}:deploymentgroup:{app}/nope"),
        ("DeploymentConfigDoesNotExistException", f"{ARN_PREFIX}:deploymentconfig:nope"),
    ]:
        expect_error(code, cd.tag_resource, ResourceArn=arn, Tags=tag)
    expect_error("InvalidTagsToAddException", cd.tag_resource, ResourceArn=app_arn, Tags=[{"Key": "aws:reserved", "Value": "v"}])
    expect_error("InvalidTagsToAddException", cd.create_application, applicationName="badtags", tags=[{"Key": "aws:x", "Value": "v"}])
    equal(cd.list_tags_for_resource(ResourceArn=f"{ARN_PREFIX}:application:nope")["Tags"], [], "tags of a missing resource")
    raw = client(validate=False)
    expect_error("ResourceArnRequiredException", raw.list_tags_for_resource)
    expect_error("TagRequiredException", raw.tag_resource, ResourceArn=app_arn, Tags=[])
    expect_error("TagRequiredException", raw.untag_resource, ResourceArn=app_arn, TagKeys=[])


def boto3_on_premises(cd):
    user = "arn:aws:iam::123456789012:user/onprem-boto3"
    cd.register_on_premises_instance(instanceName="onprem-boto3", iamUserArn=user)
    expect_error("InstanceNameAlreadyRegisteredException", cd.register_on_premises_instance, instanceName="onprem-boto3", iamUserArn=user)
    expect_error("IamUserArnAlreadyRegisteredException", cd.register_on_premises_instance, instanceName="onprem-other", iamUserArn=user)
    expect_error("IamArnRequiredException", cd.register_on_premises_instance, instanceName="onprem-other")
    expect_error("MultipleIamArnsProvidedException", cd.register_on_premises_instance, instanceName="onprem-other", iamUserArn=user + "2", iamSessionArn="arn:aws:sts::123456789012:assumed-role/r/s")
    cd.add_tags_to_on_premises_instances(tags=[{"Key": "role", "Value": "db"}], instanceNames=["onprem-boto3"])
    info = cd.get_on_premises_instance(instanceName="onprem-boto3")["instanceInfo"]
    equal((info["iamUserArn"], info["tags"]), (user, [{"Key": "role", "Value": "db"}]), "instance info")
    equal(info["instanceArn"], f"{ARN_PREFIX}:instance/onprem-boto3", "instanceArn")
    is_time(info["registerTime"], "registerTime")
    tagged = cd.list_on_premises_instances(tagFilters=[{"Key": "role", "Value": "db", "Type": "KEY_AND_VALUE"}])["instanceNames"]
    equal(tagged, ["onprem-boto3"], "ListOnPremisesInstances by tag")
    registered = [n for page in cd.get_paginator("list_on_premises_instances").paginate(registrationStatus="Registered") for n in page["instanceNames"]]
    check({"onprem-boto3", *(h["name"] for h in HOSTS)} <= set(registered), f"registered: {registered}")
    batch = cd.batch_get_on_premises_instances(instanceNames=["onprem-boto3", HOSTS[0]["name"]])["instanceInfos"]
    equal(len(batch), 2, "BatchGetOnPremisesInstances")
    cd.remove_tags_from_on_premises_instances(tags=[{"Key": "role", "Value": "db"}], instanceNames=["onprem-boto3"])
    equal(cd.get_on_premises_instance(instanceName="onprem-boto3")["instanceInfo"]["tags"], [], "tags removed")
    cd.deregister_on_premises_instance(instanceName="onprem-boto3")
    info = cd.get_on_premises_instance(instanceName="onprem-boto3")["instanceInfo"]
    is_time(info["deregisterTime"], "deregisterTime")
    equal(cd.list_on_premises_instances(registrationStatus="Deregistered")["instanceNames"], ["onprem-boto3"], "deregistered")
    expect_error("InvalidRegistrationStatusException", client(validate=False).list_on_premises_instances, registrationStatus="Gone")


def boto3_other_operations(cd, app, done_id):
    equal(cd.list_git_hub_account_token_names()["tokenNameList"], [], "ListGitHubAccountTokenNames")
    expect_error("GitHubAccountTokenDoesNotExistException", cd.delete_git_hub_account_token, tokenName="mine")
    cd.delete_resources_by_external_id(externalId="stack-1")
    equal(cd.list_deployments(externalId="stack-1")["deployments"], [], "no deployment has an external id")
    expect_error("DeploymentAlreadyCompletedException", cd.continue_deployment, deploymentId=done_id, deploymentWaitType="READY_WAIT")
    expect_error("UnsupportedActionForDeploymentTypeException", cd.skip_wait_time_for_instance_termination, deploymentId=done_id)
    expect_error(
        "UnsupportedActionForDeploymentTypeException",
        cd.put_lifecycle_event_hook_execution_status,
        deploymentId=done_id,
        lifecycleEventHookExecutionId="hook-1",
        status="Succeeded",
    )
    expect_error(
        "InvalidLifecycleEventHookExecutionStatusException",
        cd.put_lifecycle_event_hook_execution_status,
        deploymentId=done_id,
        lifecycleEventHookExecutionId="hook-1",
        status="Pending",
    )
    expect_error("InvalidNextTokenException", cd.list_applications, nextToken="bogus")
    expect_error("InvalidDeploymentStatusException", client(validate=False).list_deployments, includeOnlyStatuses=["Sleeping"])
    expect_error("InvalidOperationException", cd.delete_deployment_config, deploymentConfigName="CodeDeployDefault.AllAtOnce")
    expect_error("InvalidTimeRangeException", cd.list_deployments, createTimeRange={"start": 2000000000, "end": 1000000000})


def missing_and_duplicate_errors(app, deployment_id, revision):
    """Every error a missing or duplicate resource gives, as (operation, input, code): run through boto3 here and
    through the AWS CLI (`--cli-input-json`) by cli_errors, except the deprecated operations the CLI hides."""
    missing_revision = s3_revision("compat-bundles", "missing.zip")
    target = HOSTS[0]["name"]
    return [
        ("CreateApplication", {"applicationName": app}, "ApplicationAlreadyExistsException"),
        ("UpdateApplication", {"applicationName": app, "newApplicationName": "compat-cli"}, "ApplicationAlreadyExistsException"),
        ("GetApplication", {"applicationName": "nope"}, "ApplicationDoesNotExistException"),
        ("UpdateApplication", {"applicationName": "nope", "newApplicationName": "nope2"}, "ApplicationDoesNotExistException"),
        ("BatchGetApplications", {"applicationNames": [app, "nope"]}, "ApplicationDoesNotExistException"),
        ("ListDeploymentGroups", {"applicationName": "nope"}, "ApplicationDoesNotExistException"),
        ("ListApplicationRevisions", {"applicationName": "nope"}, "ApplicationDoesNotExistException"),
        ("RegisterApplicationRevision", {"applicationName": "nope", "revision": revision}, "ApplicationDoesNotExistException"),
        ("GetApplicationRevision", {"applicationName": "nope", "revision": revision}, "ApplicationDoesNotExistException"),
        ("BatchGetApplicationRevisions", {"applicationName": "nope", "revisions": [revision]}, "ApplicationDoesNotExistException"),
        ("BatchGetDeploymentGroups", {"applicationName": "nope", "deploymentGroupNames": ["fleet"]}, "ApplicationDoesNotExistException"),
        ("CreateDeploymentGroup", {"applicationName": "nope", "deploymentGroupName": "g", "serviceRoleArn": ROLE}, "ApplicationDoesNotExistException"),
        ("GetDeploymentGroup", {"applicationName": "nope", "deploymentGroupName": "fleet"}, "ApplicationDoesNotExistException"),
        ("CreateDeployment", {"applicationName": "nope", "deploymentGroupName": "fleet", "revision": revision}, "ApplicationDoesNotExistException"),
        ("ListDeployments", {"applicationName": "nope", "deploymentGroupName": "fleet"}, "ApplicationDoesNotExistException"),
        ("CreateDeploymentGroup", {"applicationName": app, "deploymentGroupName": "fleet", "serviceRoleArn": ROLE}, "DeploymentGroupAlreadyExistsException"),
        ("UpdateDeploymentGroup", {"applicationName": app, "currentDeploymentGroupName": "slow", "newDeploymentGroupName": "fleet"}, "DeploymentGroupAlreadyExistsException"),
        ("GetDeploymentGroup", {"applicationName": app, "deploymentGroupName": "nope"}, "DeploymentGroupDoesNotExistException"),
        ("UpdateDeploymentGroup", {"applicationName": app, "currentDeploymentGroupName": "nope"}, "DeploymentGroupDoesNotExistException"),
        ("CreateDeployment", {"applicationName": app, "deploymentGroupName": "nope", "revision": revision}, "DeploymentGroupDoesNotExistException"),
        ("ListDeployments", {"applicationName": app, "deploymentGroupName": "nope"}, "DeploymentGroupDoesNotExistException"),
        ("CreateDeploymentConfig", {"deploymentConfigName": "Compat.TwoThirds", "minimumHealthyHosts": {"type": "HOST_COUNT", "value": 1}}, "DeploymentConfigAlreadyExistsException"),
        ("GetDeploymentConfig", {"deploymentConfigName": "nope"}, "DeploymentConfigDoesNotExistException"),
        ("CreateDeploymentGroup", {"applicationName": app, "deploymentGroupName": "g2", "serviceRoleArn": ROLE, "deploymentConfigName": "nope"}, "DeploymentConfigDoesNotExistException"),
        ("UpdateDeploymentGroup", {"applicationName": app, "currentDeploymentGroupName": "fleet", "deploymentConfigName": "nope"}, "DeploymentConfigDoesNotExistException"),
        ("CreateDeployment", {"applicationName": app, "deploymentGroupName": "fleet", "revision": revision, "deploymentConfigName": "nope"}, "DeploymentConfigDoesNotExistException"),
        ("GetApplicationRevision", {"applicationName": app, "revision": missing_revision}, "RevisionDoesNotExistException"),
        ("CreateDeployment", {"applicationName": app, "deploymentGroupName": "fleet", "revision": missing_revision}, "RevisionDoesNotExistException"),
        ("GetDeployment", {"deploymentId": "d-NOPENOPE0"}, "DeploymentDoesNotExistException"),
        ("StopDeployment", {"deploymentId": "d-NOPENOPE0"}, "DeploymentDoesNotExistException"),
        ("ContinueDeployment", {"deploymentId": "d-NOPENOPE0"}, "DeploymentDoesNotExistException"),
        ("ListDeploymentTargets", {"deploymentId": "d-NOPENOPE0"}, "DeploymentDoesNotExistException"),
        ("GetDeploymentTarget", {"deploymentId": "d-NOPENOPE0", "targetId": target}, "DeploymentDoesNotExistException"),
        ("BatchGetDeploymentTargets", {"deploymentId": "d-NOPENOPE0", "targetIds": [target]}, "DeploymentDoesNotExistException"),
        ("SkipWaitTimeForInstanceTermination", {"deploymentId": "d-NOPENOPE0"}, "DeploymentDoesNotExistException"),
        ("PutLifecycleEventHookExecutionStatus", {"deploymentId": "d-NOPENOPE0", "lifecycleEventHookExecutionId": "h", "status": "Succeeded"}, "DeploymentDoesNotExistException"),
        ("ListDeploymentInstances", {"deploymentId": "d-NOPENOPE0"}, "DeploymentDoesNotExistException"),
        ("GetDeploymentInstance", {"deploymentId": "d-NOPENOPE0", "instanceId": target}, "DeploymentDoesNotExistException"),
        ("BatchGetDeploymentInstances", {"deploymentId": "d-NOPENOPE0", "instanceIds": [target]}, "DeploymentDoesNotExistException"),
        ("GetDeploymentTarget", {"deploymentId": deployment_id, "targetId": "nope"}, "DeploymentTargetDoesNotExistException"),
        ("BatchGetDeploymentTargets", {"deploymentId": deployment_id, "targetIds": ["nope"]}, "DeploymentTargetDoesNotExistException"),
        ("GetDeploymentInstance", {"deploymentId": deployment_id, "instanceId": "nope"}, "InstanceDoesNotExistException"),
        ("StopDeployment", {"deploymentId": deployment_id}, "DeploymentAlreadyCompletedException"),
        ("RegisterOnPremisesInstance", {"instanceName": target, "iamSessionArn": "arn:aws:sts::123456789012:assumed-role/r/x"}, "InstanceNameAlreadyRegisteredException"),
        ("GetOnPremisesInstance", {"instanceName": "nope"}, "InstanceNotRegisteredException"),
        ("DeregisterOnPremisesInstance", {"instanceName": "nope"}, "InstanceNotRegisteredException"),
        ("AddTagsToOnPremisesInstances", {"instanceNames": ["nope"], "tags": [{"Key": "k", "Value": "v"}]}, "InstanceNotRegisteredException"),
        ("RemoveTagsFromOnPremisesInstances", {"instanceNames": ["nope"], "tags": [{"Key": "k", "Value": "v"}]}, "InstanceNotRegisteredException"),
        ("DeleteGitHubAccountToken", {"tokenName": "nope"}, "GitHubAccountTokenDoesNotExistException"),
        ("TagResource", {"ResourceArn": f"{ARN_PREFIX}:application:nope", "Tags": [{"Key": "k", "Value": "v"}]}, "ApplicationDoesNotExistException"),
        ("UntagResource", {"ResourceArn": f"{ARN_PREFIX}:deploymentgroup:{app}/nope", "TagKeys": ["k"]}, "DeploymentGroupDoesNotExistException"),
    ]


# Operations the AWS CLI does not offer (deprecated in the model).
CLI_HIDDEN = {"ListDeploymentInstances", "GetDeploymentInstance", "BatchGetDeploymentInstances", "SkipWaitTimeForInstanceTermination"}


def boto3_errors(cd, cases):
    for operation, params, code in cases:
        equal(error_code(getattr(cd, xform_name(operation)), **params), code, f"boto3 {operation}({params})")


def cli_errors(cases):
    # In process: a fresh `aws` process per case costs ~1 s of Python start-up each; the lifecycle above already
    # runs the real `aws` script.
    for operation, params, code in cases:
        if operation not in CLI_HIDDEN:
            aws_error(code, "deploy", xform_name(operation, "-"), "--cli-input-json", json.dumps(params), in_process=True)


# ----- AWS CLI -----


def cli_lifecycle():
    """The same lifecycle through `aws deploy`, with the CLI's own shorthand arguments."""
    app = "compat-cli"
    _, out, _ = aws("deploy", "create-application", "--application-name", app, "--tags", "Key=via,Value=cli")
    check(len(out["applicationId"]) > 0, "CLI applicationId")
    aws_error("ApplicationAlreadyExistsException", "deploy", "create-application", "--application-name", app)
    _, out, _ = aws(
        "deploy", "create-deployment-group", "--application-name", app, "--deployment-group-name", "fleet",
        "--deployment-config-name", "CodeDeployDefault.AllAtOnce", "--service-role-arn", ROLE,
        "--on-premises-instance-tag-filters", "Key=env,Value=test,Type=KEY_AND_VALUE",
    )
    check(len(out["deploymentGroupId"]) > 0, "CLI deploymentGroupId")
    # `aws deploy push`: the CLI zips the directory, uploads it through Cutover's S3 endpoint and registers it with
    # the ETag (the zip's MD5) and version the upload answered; it prints the location to deploy.
    aws("s3", "mb", "s3://compat-cli")
    location = aws_push(app, "s3://compat-cli/cli/v2.zip", directory(app_files("v2")), "v2 from the CLI")
    check(location.startswith("bucket=compat-cli,key=cli/v2.zip,bundleType=zip,eTag="), f"pushed location: {location}")
    check(",version=" in location, f"the push's version is in the location: {location}")
    _, out, _ = aws("deploy", "get-application-revision", "--application-name", app, "--s3-location", location)
    equal(out["revisionInfo"]["description"], "v2 from the CLI", "CLI revision description")
    _, out, _ = aws("deploy", "list-application-revisions", "--application-name", app)
    equal(len(out["revisions"]), 1, "CLI list-application-revisions")
    _, out, _ = aws("deploy", "create-deployment", "--application-name", app, "--deployment-group-name", "fleet", "--s3-location", location, "--description", "cli v2")
    deployment_id = out["deploymentId"]
    # `aws deploy wait deployment-successful` polls every 15 s (the model's waiter; the CLI has no flag to change it):
    # wait with boto3's waiter at 1 s first, so the CLI's waiter finds the deployment done on its first check.
    client().get_waiter("deployment_successful").wait(deploymentId=deployment_id, WaiterConfig=FAST_WAITER)
    started = time.monotonic()
    aws("deploy", "wait", "deployment-successful", "--deployment-id", deployment_id)
    check(time.monotonic() - started < 10, "the CLI waiter returned on its first check")
    installed("v2")
    _, out, _ = aws("deploy", "get-deployment", "--deployment-id", deployment_id)
    info = out["deploymentInfo"]
    equal((info["status"], info["description"], info["deploymentOverview"]["Succeeded"]), ("Succeeded", "cli v2", 2), "CLI get-deployment")
    for field in ("createTime", "startTime", "completeTime"):
        check(isinstance(info[field], (str, int, float)) and info[field], f"CLI prints {field}: {info.get(field)!r}")
    _, out, _ = aws("deploy", "list-deployments", "--application-name", app, "--deployment-group-name", "fleet")
    equal(out["deployments"], [deployment_id], "CLI list-deployments")
    _, out, _ = aws("deploy", "batch-get-deployments", "--deployment-ids", deployment_id)
    equal(out["deploymentsInfo"][0]["deploymentId"], deployment_id, "CLI batch-get-deployments")
    _, out, _ = aws("deploy", "list-deployment-targets", "--deployment-id", deployment_id)
    targets = sorted(out["targetIds"])
    equal(targets, sorted(h["name"] for h in HOSTS), "CLI list-deployment-targets")
    _, out, _ = aws("deploy", "batch-get-deployment-targets", "--deployment-id", deployment_id, "--target-ids", *targets)
    statuses = [t["instanceTarget"]["status"] for t in out["deploymentTargets"]]
    equal(statuses, ["Succeeded", "Succeeded"], "CLI batch-get-deployment-targets")
    _, out, _ = aws("deploy", "get-deployment-target", "--deployment-id", deployment_id, "--target-id", targets[0])
    equal(len(out["deploymentTarget"]["instanceTarget"]["lifecycleEvents"]), 7, "CLI get-deployment-target events")
    _, out, _ = aws("deploy", "list-applications")
    check(app in out["applications"], "CLI list-applications")
    _, out, _ = aws("deploy", "batch-get-applications", "--application-names", app)
    equal(out["applicationsInfo"][0]["applicationName"], app, "CLI batch-get-applications")
    _, out, _ = aws("deploy", "get-deployment-group", "--application-name", app, "--deployment-group-name", "fleet")
    equal(out["deploymentGroupInfo"]["targetRevision"]["s3Location"]["key"], "cli/v2.zip", "CLI group targetRevision")
    _, out, _ = aws("deploy", "list-tags-for-resource", "--resource-arn", f"{ARN_PREFIX}:application:{app}")
    equal(out["Tags"], [{"Key": "via", "Value": "cli"}], "CLI list-tags-for-resource")
    aws("deploy", "tag-resource", "--resource-arn", f"{ARN_PREFIX}:deploymentgroup:{app}/fleet", "--tags", "Key=a,Value=1")
    aws("deploy", "untag-resource", "--resource-arn", f"{ARN_PREFIX}:deploymentgroup:{app}/fleet", "--tag-keys", "a")
    _, out, _ = aws("deploy", "list-git-hub-account-token-names")
    equal(out["tokenNameList"], [], "CLI list-git-hub-account-token-names")
    aws("deploy", "delete-resources-by-external-id", "--external-id", "stack-1")
    return app, deployment_id


def cli_stopped_waiter(stopped_id):
    """The CLI's waiter fails fast on a terminal failure (Stopped)."""
    status, _, stderr = aws("deploy", "wait", "deployment-successful", "--deployment-id", stopped_id, expect_ok=False)
    check(status != 0 and "terminal failure" in stderr, f"CLI waiter on a stopped deployment: {status} {stderr}")


def cli_on_premises():
    """`aws deploy register` / `deregister` (the CLI's on-premises helpers) work when they need no IAM calls."""
    user = "arn:aws:iam::123456789012:user/onprem-cli"
    status, _, stderr = aws("deploy", "register", "--instance-name", "onprem-cli", "--iam-user-arn", user, "--tags", "Key=role,Value=cli", expect_ok=False)
    check(status == 0 and "ERROR" not in stderr, f"aws deploy register: {stderr}")
    _, out, _ = aws("deploy", "get-on-premises-instance", "--instance-name", "onprem-cli")
    equal(out["instanceInfo"]["tags"], [{"Key": "role", "Value": "cli"}], "tags from aws deploy register")
    _, out, _ = aws("deploy", "batch-get-on-premises-instances", "--instance-names", "onprem-cli")
    equal(out["instanceInfos"][0]["iamUserArn"], user, "CLI batch-get-on-premises-instances")
    status, _, stderr = aws("deploy", "deregister", "--instance-name", "onprem-cli", "--no-delete-iam-user", expect_ok=False)
    check(status == 0 and "ERROR" not in stderr, f"aws deploy deregister: {stderr}")
    _, out, _ = aws("deploy", "get-on-premises-instance", "--instance-name", "onprem-cli")
    check("deregisterTime" in out["instanceInfo"] and out["instanceInfo"]["tags"] == [], f"deregistered: {out}")
    aws("deploy", "register-on-premises-instance", "--instance-name", "onprem-cli2", "--iam-session-arn", "arn:aws:sts::123456789012:assumed-role/r/cli2")
    aws("deploy", "add-tags-to-on-premises-instances", "--instance-names", "onprem-cli2", "--tags", "Key=x,Value=y")
    _, out, _ = aws("deploy", "list-on-premises-instances", "--tag-filters", "Key=x,Value=y,Type=KEY_AND_VALUE")
    equal(out["instanceNames"], ["onprem-cli2"], "CLI list-on-premises-instances by tag")
    aws("deploy", "remove-tags-from-on-premises-instances", "--instance-names", "onprem-cli2", "--tags", "Key=x,Value=y")
    aws("deploy", "deregister-on-premises-instance", "--instance-name", "onprem-cli2")


def cleanup(cd, app):
    cd.delete_deployment_group(applicationName=app, deploymentGroupName="spare2")
    cd.delete_deployment_config(deploymentConfigName="Compat.TwoThirds")
    expect_error("DeploymentConfigDoesNotExistException", cd.get_deployment_config, deploymentConfigName="Compat.TwoThirds")
    cd.delete_application(applicationName=app)
    expect_error("ApplicationDoesNotExistException", cd.get_application, applicationName=app)
    # Deleting what does not exist succeeds, as in CodeDeploy.
    cd.delete_application(applicationName=app)
    cd.delete_deployment_group(applicationName=app, deploymentGroupName="fleet")
    equal(cd.list_tags_for_resource(ResourceArn=f"{ARN_PREFIX}:application:{app}")["Tags"], [], "tags of a deleted application")


def step(name, function, *args):
    """Runs one part of the suite and prints how long it took (the CLI parts dominate: ~1 s per `aws` process)."""
    started = time.monotonic()
    result = function(*args)
    print(f"{name}: {time.monotonic() - started:.1f}s")
    return result


def main():
    check(len(HOSTS) == 2, f"two hosts expected: {HOSTS}")
    cd = client()
    app = "compat-boto3"
    step("boto3 applications", boto3_applications, cd, app)
    step("boto3 groups and configs", boto3_groups_and_configs, cd, app)
    done_id, revision = step("boto3 deployment", boto3_deploy, cd, app)
    step("boto3 failed deployment", boto3_failed_deployment, cd, app)
    stopped_id = step("boto3 stop", boto3_stop, cd, app)
    step("boto3 tags", boto3_tags, cd, app)
    step("boto3 on-premises instances", boto3_on_premises, cd)
    step("boto3 other operations", boto3_other_operations, cd, app, done_id)
    cli_app, _ = step("CLI lifecycle", cli_lifecycle)
    step("CLI waiter on a stopped deployment", cli_stopped_waiter, stopped_id)
    step("CLI on-premises instances", cli_on_premises)
    cases = missing_and_duplicate_errors(app, done_id, revision)
    step("boto3 missing/duplicate errors", boto3_errors, cd, cases)
    step("CLI missing/duplicate errors", cli_errors, cases)
    check(cli_app == "compat-cli", "the CLI application exists for the rename conflict case")
    step("clean-up", cleanup, cd, app)


if __name__ == "__main__":
    run(main)
