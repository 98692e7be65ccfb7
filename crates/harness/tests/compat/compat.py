"""Shared helpers of the compatibility suites: clients, checks, bundles and uploads.

The suites are plain scripts (no test framework to install): each check either passes or raises, a failed
check stops the script with a non-zero exit and says what differed, and the last line is the tally
("N passed, 0 failed"). The Rust e2e tests in crates/harness/tests/e2e/compat_python.rs run them against a
real cluster, signed with the admin key the server wrote (AWS_SHARED_CREDENTIALS_FILE=DATA_DIR/admin-credentials,
AWS_DEFAULT_REGION=us-east-1).
"""

import contextlib
import datetime
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
import zipfile

import boto3
import botocore.session
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ.get("CUTOVER_ENDPOINT", "")
ARN_PREFIX = "arn:cutover:codedeploy:local:000000000000"

_passed = 0


def client(endpoint=ENDPOINT, validate=True):
    """A boto3 CodeDeploy client for `endpoint`; `validate=False` sends what botocore would refuse client-side."""
    return boto3.client(
        "codedeploy",
        endpoint_url=endpoint,
        config=Config(parameter_validation=validate, retries={"max_attempts": 1}),
    )


def check(condition, what):
    """Counts a passing check, or fails with `what`."""
    global _passed
    if not condition:
        raise AssertionError(what)
    _passed += 1


def equal(actual, expected, what):
    check(actual == expected, f"{what}: expected {expected!r}, got {actual!r}")


def error_code(call, *args, **kwargs):
    """Runs a boto3 call that must fail; returns botocore's ClientError code (the server's `__type`)."""
    try:
        call(*args, **kwargs)
    except ClientError as error:
        return error.response["Error"]["Code"]
    raise AssertionError(f"{getattr(call, '__name__', call)}({kwargs}) succeeded, an error was expected")


def expect_error(code, call, **kwargs):
    equal(error_code(call, **kwargs), code, f"error of {getattr(call, '__name__', call)}({kwargs})")


def is_time(value, what):
    """botocore turns the API's epoch seconds into aware datetimes; anything else means it could not parse them."""
    check(isinstance(value, datetime.datetime) and value.tzinfo is not None, f"{what} is not a timestamp: {value!r}")
    check(abs(time.time() - value.timestamp()) < 600, f"{what} is not near now: {value!r}")


def poll(what, check_fn, timeout=60.0):
    """Polls `check_fn` (every 50 ms) until it returns something truthy, or fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check_fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def aws(*args, expect_ok=True):
    """Runs the AWS CLI (`aws deploy ...`) against the endpoint; returns (exit code, parsed stdout or None, stderr)."""
    command = ["aws", *args, "--endpoint-url", ENDPOINT, "--output", "json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if expect_ok and done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {done.returncode}: {done.stderr}")
    output = json.loads(done.stdout) if done.stdout.strip().startswith(("{", "[")) else None
    return done.returncode, output, done.stderr


def aws_in_process(*args):
    """Runs the AWS CLI's driver (what the `aws` script runs) in this process: the same parsing, request and error
    reporting as `aws`, without a new Python process per command. Returns (exit code, stdout, stderr)."""
    from awscli.clidriver import create_clidriver

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = create_clidriver().main([*args, "--endpoint-url", ENDPOINT, "--output", "json"])
    return status, out.getvalue(), err.getvalue()


def aws_error(code, *args, in_process=False):
    """Runs an AWS CLI command that must fail with the service error `code`, as the CLI reports it."""
    status, _, stderr = aws_in_process(*args) if in_process else aws(*args, expect_ok=False)
    check(status != 0, f"aws {' '.join(args)} succeeded, {code} was expected")
    check(f"An error occurred ({code})" in stderr, f"aws {' '.join(args)}: expected {code}, got: {stderr.strip()}")


def directory(files):
    """A new directory holding {path: (text, mode)}, for commands that bundle a directory (`aws deploy push`)."""
    root = tempfile.mkdtemp(prefix="cutover-compat-")
    for path, (text, mode) in files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(full, mode)
    return root


def aws_push(application, s3_location, source, description):
    """`aws deploy push`: zips `source`, uploads it with the S3 API and registers it. Its S3 client ignores
    --endpoint-url, so the S3 endpoint goes by AWS_ENDPOINT_URL_S3. Returns the `--s3-location` it prints."""
    command = [
        "aws", "deploy", "push", "--application-name", application, "--s3-location", s3_location,
        "--source", source, "--description", description, "--endpoint-url", ENDPOINT,
    ]
    env = {**os.environ, "AWS_ENDPOINT_URL_S3": ENDPOINT}
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {done.returncode}: {done.stderr}")
    words = done.stdout.split()
    if "--s3-location" not in words:
        raise AssertionError(f"aws deploy push printed no --s3-location: {done.stdout}")
    return words[words.index("--s3-location") + 1]


def bundle(files):
    """A zip bundle of {path: (text, mode)}."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, (text, mode) in files.items():
            info = zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
    return buffer.getvalue()


def signed_put(url, body):
    """`PUT url` with Cutover's own upload semantics (`x-cutover-upload: 1`: the bucket is created if needed, the ETag
    is the SHA-256), signed with SigV4 by botocore with the environment's credentials, as `cutover push` does."""
    credentials = botocore.session.get_session().get_credentials()
    request = AWSRequest(method="PUT", url=url, data=body, headers={"x-cutover-upload": "1"})
    S3SigV4Auth(credentials, "s3", "us-east-1").add_auth(request)
    headers = {name: value for name, value in request.headers.items()}
    with urllib.request.urlopen(urllib.request.Request(url, data=body, method="PUT", headers=headers), timeout=30) as r:
        return r.headers["ETag"].strip('"')


def put_object(bucket, key, body):
    """Uploads a bundle as `cutover push` does; returns its ETag, the bundle's SHA-256."""
    return signed_put(f"{ENDPOINT}/{bucket}/{key}", body)


def s3_revision(bucket, key, etag=None):
    location = {"bucket": bucket, "key": key, "bundleType": "zip"}
    if etag:
        location["eTag"] = etag
    return {"revisionType": "S3", "s3Location": location}


def run(main):
    """Runs a suite's main function and prints the tally; exits non-zero on the first failed check."""
    try:
        main()
    except Exception:  # noqa: BLE001 - report every failure the same way
        traceback.print_exc()
        print(f"{_passed} passed, 1 failed")
        sys.exit(1)
    print(f"{_passed} passed, 0 failed")
