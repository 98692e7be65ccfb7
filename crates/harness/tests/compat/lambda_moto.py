"""The AWS Lambda side of Cutover's function-platform test, against a moto server.

`setup`: a role, the function `orders` with versions 1 and 2 and the alias `live` on version 1, and the hook function
`orders-check`; moto runs invocations without Docker. `alias`: prints the alias as JSON.
"""
import io
import json
import os
import sys
import urllib.request
import zipfile

import boto3

ENDPOINT = os.environ["MOTO_ENDPOINT"]


def client(service):
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def code(text):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return %r\n" % text)
    return buffer.getvalue()


def setup():
    # No Docker here: moto answers invocations itself.
    request = urllib.request.Request(
        ENDPOINT + "/moto-api/config",
        data=json.dumps({"lambda": {"use_docker": False}}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request).read()
    iam = client("iam")
    role = iam.create_role(
        RoleName="cutover-lambda",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    lam = client("lambda")
    for name in ["orders", "orders-check"]:
        lam.create_function(
            FunctionName=name, Runtime="python3.11", Role=role, Handler="handler.handler",
            Code={"ZipFile": code(name + " v1")},
        )
    assert lam.publish_version(FunctionName="orders")["Version"] == "1"
    lam.update_function_code(FunctionName="orders", ZipFile=code("orders v2"))
    assert lam.publish_version(FunctionName="orders")["Version"] == "2"
    lam.create_alias(FunctionName="orders", Name="live", FunctionVersion="1")
    print(json.dumps({"ok": True}))


def alias():
    found = client("lambda").get_alias(FunctionName="orders", Name="live")
    print(json.dumps({"version": found["FunctionVersion"], "routing": found.get("RoutingConfig", {})}))


{"setup": setup, "alias": alias}[sys.argv[1]]()
