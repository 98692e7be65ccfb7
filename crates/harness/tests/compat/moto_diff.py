"""Differential test: the same boto3 requests against moto and against Cutover, for the 14 CodeDeploy
operations moto implements, compared on the raw JSON responses.

Environment: CUTOVER_ENDPOINT and MOTO_ENDPOINT.

Rules (moto is a reference for shapes and error codes, not for behaviour: its deployments never run):
- Empty values ({}, [], "", null) are dropped first: moto sends placeholders such as `"targetRevision": {}` where
  CodeDeploy and Cutover omit the member.
- Every member moto returns, Cutover returns too, with the same JSON type (object, array, string, number,
  boolean), recursively. Timestamps must be JSON numbers (epoch seconds) on both sides.
- Cutover may return more members than moto (moto leaves many out), but only members of the operation's output
  shape in botocore's model.
- Errors: the same `__type`, except the deliberate differences in KNOWN_DIFFERENCES, which are asserted as such
  so that the list stays true.
"""

import json
import os

from compat import check, client, equal, run, signed_put

MOTO = os.environ["MOTO_ENDPOINT"]
CUTOVER = os.environ["CUTOVER_ENDPOINT"]
ROLE = "arn:aws:iam::123456789012:role/CodeDeployServiceRole"
ARN_PREFIXES = {MOTO: "arn:aws:codedeploy:us-east-1:123456789012", CUTOVER: "arn:cutover:codedeploy:local:000000000000"}


class Target:
    """One server under test: a boto3 client that also keeps each response's raw JSON body."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.client = client(endpoint)
        self.raw = None
        self.client.meta.events.register("after-call.codedeploy", self._keep)

    def _keep(self, http_response, **_):
        self.raw = json.loads(http_response.content or b"{}")

    def call(self, operation, params):
        """Calls an operation; returns ("ok", raw JSON) or ("error", code)."""
        method = getattr(self.client, _python_name(self.client, operation))
        try:
            method(**params)
        except self.client.exceptions.ClientError as error:
            return "error", error.response["Error"]["Code"]
        return "ok", self.raw

    def arn(self, resource):
        return f"{ARN_PREFIXES[self.endpoint]}:{resource}"


def _python_name(boto_client, operation):
    return next(name for name, api in boto_client.meta.method_to_api_mapping.items() if api == operation)


def empty(value):
    return value is None or value == {} or value == [] or value == ""


def normalize(value):
    if isinstance(value, dict):
        pairs = ((k, normalize(v)) for k, v in value.items())
        return {k: v for k, v in pairs if not empty(v)}
    if isinstance(value, list):
        return [normalize(v) for v in value if not empty(normalize(v))]
    return value


def json_type(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {dict: "object", list: "array", str: "string"}[type(value)]


def member_shape(shape, name):
    if shape is None:
        return None
    if shape.type_name == "structure":
        return shape.members.get(name)
    if shape.type_name == "map":
        return shape.value
    return None


def compare(moto, cutover, shape, path, extras):
    """Checks that `cutover` has moto's members with moto's JSON types, and only model members beyond them."""
    equal(json_type(cutover), json_type(moto), f"JSON type of {path}")
    if shape is not None and shape.type_name == "timestamp":
        equal(json_type(cutover), "number", f"{path} is a timestamp in epoch seconds")
    if isinstance(moto, dict):
        for key, value in moto.items():
            check(key in cutover, f"{path}.{key}: moto returns it, Cutover does not ({sorted(cutover)})")
            compare(value, cutover[key], member_shape(shape, key), f"{path}.{key}", extras)
        if shape is not None and shape.type_name == "structure":
            for key in cutover.keys() - moto.keys():
                check(key in shape.members, f"{path}.{key}: Cutover returns a member the model does not have")
                extras.add(f"{path}.{key}")
    elif isinstance(moto, list) and moto:
        check(len(cutover) > 0, f"{path}: moto returns items, Cutover none")
        compare(moto[0], cutover[0], shape.member if shape is not None else None, f"{path}[0]", extras)


# Deliberate differences, asserted as such so that this list stays true:
# (operation, what, request, moto's answer, Cutover's answer), an answer being "ok" or an error code.
KNOWN_DIFFERENCES = [
    # The model lists ApplicationDoesNotExistException for ListDeploymentGroups; moto answers an empty list.
    ("ListDeploymentGroups", "missing application", {"applicationName": "nope"}, "ok", "ApplicationDoesNotExistException"),
    # Cutover lists an application's deployments without a group (the `cutover` CLI relies on it); CodeDeploy and
    # moto want both names or neither.
    ("ListDeployments", "applicationName alone", {"applicationName": "diff"}, "DeploymentGroupNameRequiredException", "ok"),
    # The model lists ApplicationDoesNotExistException for TagResource; moto tags any ARN.
    ("TagResource", "missing application",
     {"ResourceArn": "arn:cutover:codedeploy:local:000000000000:application:nope", "Tags": [{"Key": "k", "Value": "v"}]},
     "ok", "ApplicationDoesNotExistException"),
]


def main():
    moto, cutover = Target(MOTO), Target(CUTOVER)
    extras = set()
    operations = set()
    # A bundle for Cutover's CreateDeployment (moto does not check revisions).
    signed_put(f"{CUTOVER}/diff/app.zip", b"PK\x05\x06" + b"\0" * 18)
    revision = {"revisionType": "S3", "s3Location": {"bucket": "diff", "key": "app.zip", "bundleType": "zip"}}
    deployments = {}

    def same(operation, params_for, remember=None):
        """Runs one request on both servers; both succeed with compatible shapes, or both fail with one code."""
        operations.add(operation)
        results = {}
        for target in (moto, cutover):
            params = params_for(target) if callable(params_for) else params_for
            results[target.endpoint] = target.call(operation, params)
            if remember and results[target.endpoint][0] == "ok":
                remember(target, results[target.endpoint][1])
        (moto_kind, moto_value), (cut_kind, cut_value) = results[MOTO], results[CUTOVER]
        equal(cut_kind, moto_kind, f"{operation}: moto {moto_kind} {moto_value if moto_kind == 'error' else ''}, Cutover {cut_kind} {cut_value if cut_kind == 'error' else ''}")
        if moto_kind == "error":
            equal(cut_value, moto_value, f"{operation} error code")
        else:
            shape = cutover.client.meta.service_model.operation_model(operation).output_shape
            compare(normalize(moto_value), normalize(cut_value), shape, operation, extras)

    group = {"applicationName": "diff", "deploymentGroupName": "g", "serviceRoleArn": ROLE,
             "onPremisesInstanceTagFilters": [{"Key": "env", "Value": "diff", "Type": "KEY_AND_VALUE"}],
             "tags": [{"Key": "tier", "Value": "web"}]}
    same("CreateApplication", {"applicationName": "diff", "computePlatform": "Server", "tags": [{"Key": "team", "Value": "x"}]})
    same("CreateApplication", {"applicationName": "diff"})
    same("GetApplication", {"applicationName": "diff"})
    same("GetApplication", {"applicationName": "nope"})
    same("BatchGetApplications", {"applicationNames": ["diff"]})
    same("BatchGetApplications", {"applicationNames": ["diff", "nope"]})
    same("ListApplications", {})
    same("CreateDeploymentGroup", group)
    same("CreateDeploymentGroup", group)
    same("CreateDeploymentGroup", {**group, "applicationName": "nope"})
    same("GetDeploymentGroup", {"applicationName": "diff", "deploymentGroupName": "g"})
    same("GetDeploymentGroup", {"applicationName": "diff", "deploymentGroupName": "nope"})
    same("GetDeploymentGroup", {"applicationName": "nope", "deploymentGroupName": "g"})
    same("ListDeploymentGroups", {"applicationName": "diff"})
    same("CreateDeployment", {"applicationName": "diff", "deploymentGroupName": "g", "revision": revision, "description": "diff"},
         remember=lambda target, raw: deployments.__setitem__(target.endpoint, raw["deploymentId"]))
    same("CreateDeployment", {"applicationName": "nope", "deploymentGroupName": "g", "revision": revision})
    same("CreateDeployment", {"applicationName": "diff", "deploymentGroupName": "nope", "revision": revision})
    same("GetDeployment", lambda target: {"deploymentId": deployments[target.endpoint]})
    same("GetDeployment", {"deploymentId": "d-NOPENOPE0"})
    same("BatchGetDeployments", lambda target: {"deploymentIds": [deployments[target.endpoint], "d-NOPENOPE0"]})
    same("ListDeployments", {"applicationName": "diff", "deploymentGroupName": "g"})
    same("ListDeployments", {})
    same("ListDeployments", {"deploymentGroupName": "g"})
    same("ListDeployments", {"createTimeRange": {"start": 2000000000, "end": 1000000000}})
    same("ListDeployments", {"includeOnlyStatuses": ["Succeeded"]})
    for resource in ("application:diff", "deploymentgroup:diff/g"):
        same("ListTagsForResource", lambda target: {"ResourceArn": target.arn(resource)})
        same("TagResource", lambda target: {"ResourceArn": target.arn(resource), "Tags": [{"Key": "env", "Value": "diff"}]})
        same("UntagResource", lambda target: {"ResourceArn": target.arn(resource), "TagKeys": ["env"]})
        same("ListTagsForResource", lambda target: {"ResourceArn": target.arn(resource)})
    same("ListTagsForResource", lambda target: {"ResourceArn": target.arn("application:nope")})
    for operation, what, params, moto_expected, cutover_expected in KNOWN_DIFFERENCES:
        for target, expected in ((moto, moto_expected), (cutover, cutover_expected)):
            kind, value = target.call(operation, params)
            equal(value if kind == "error" else kind, expected, f"{operation} ({what}) on {target.endpoint}")

    equal(len(operations), 14, f"operations compared: {sorted(operations)}")
    print("Members Cutover returns beyond moto's (all in the model):")
    for path in sorted(extras):
        print(f"  {path}")


if __name__ == "__main__":
    run(main)
