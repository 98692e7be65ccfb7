"""Signature cases with boto3 against a Cutover server: each case is one call with one profile; prints a JSON object
{case: "ok" | "<error code>"} for the Rust test (crates/harness/tests/e2e/security.rs) to check.

Environment: CUTOVER_ENDPOINT, AWS_SHARED_CREDENTIALS_FILE (profiles default, wrongsecret, unknown, viewer,
deployer), CUTOVER_APP and CUTOVER_GROUP (an application and group with a pushed revision CUTOVER_KEY in bucket
CUTOVER_BUCKET).
"""

import datetime
import json
import os

import boto3
import botocore.auth
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["CUTOVER_ENDPOINT"]


def client(profile):
    session = boto3.session.Session(profile_name=profile, region_name="us-east-1")
    # One attempt: a refused signature must not be retried into a different answer.
    return session.client("codedeploy", endpoint_url=ENDPOINT, config=Config(retries={"max_attempts": 1, "mode": "standard"}))


def outcome(call):
    try:
        call()
        return "ok"
    except ClientError as error:
        return error.response["Error"]["Code"]


def main():
    app, group = os.environ["CUTOVER_APP"], os.environ["CUTOVER_GROUP"]
    revision = {
        "revisionType": "S3",
        "s3Location": {"bucket": os.environ["CUTOVER_BUCKET"], "key": os.environ["CUTOVER_KEY"], "bundleType": "tgz"},
    }
    results = {}
    results["right_key"] = outcome(lambda: client("default").list_applications())
    results["wrong_secret"] = outcome(lambda: client("wrongsecret").list_applications())
    results["unknown_key"] = outcome(lambda: client("unknown").list_applications())
    results["viewer_reads"] = outcome(lambda: client("viewer").get_application(applicationName=app))
    results["viewer_deploys"] = outcome(
        lambda: client("viewer").create_deployment(applicationName=app, deploymentGroupName=group, revision=revision)
    )
    results["deployer_creates_application"] = outcome(lambda: client("deployer").create_application(applicationName="x"))

    # Expired: sign as if the clock were 10 minutes behind.
    real = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda *args, **kwargs: real(*args, **kwargs) - datetime.timedelta(minutes=10)
    try:
        results["expired_date"] = outcome(lambda: client("default").list_applications())
    finally:
        botocore.auth.get_current_datetime = real
    print(json.dumps(results))


if __name__ == "__main__":
    main()
