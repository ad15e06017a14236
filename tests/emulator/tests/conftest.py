"""Starts one emulator for the test session (through the documented
launcher's entry point) and gives each test a clean one."""

import json
import os
import subprocess
import sys
import time
import urllib.request
import zipfile
import io

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATOR = os.path.dirname(HERE)
ACCOUNT = "123456789012"

# Small enough that modelled waits take a fraction of a second, large enough
# that a test can observe the "before" state.
SCALE = 0.002


@pytest.fixture(scope="session")
def endpoint():
    proc = subprocess.Popen(
        [sys.executable, "-m", "ahi_emulator", "--time-scale", str(SCALE)],
        cwd=EMULATOR, stdout=subprocess.PIPE, text=True,
    )
    line = proc.stdout.readline().strip()
    assert line.startswith("endpoint="), f"launcher said {line!r}"
    yield line.split("=", 1)[1]
    proc.terminate()
    proc.wait(timeout=10)


class Control:
    def __init__(self, endpoint):
        self.endpoint = endpoint

    def call(self, method, path, doc=None):
        data = json.dumps(doc).encode() if doc is not None else None
        req = urllib.request.Request(self.endpoint + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as resp:
            return json.loads(resp.read())

    def config(self, **doc):
        return self.call("POST", "/_ahi/config", doc)

    def fault(self, **doc):
        return self.call("POST", "/_ahi/faults", doc)

    def calls(self, operation=None):
        calls = self.call("GET", "/_ahi/calls")
        return [c for c in calls if operation is None or c["operation"] == operation]

    def resources(self):
        return self.call("GET", "/_ahi/resources")


@pytest.fixture
def control(endpoint):
    ctl = Control(endpoint)
    ctl.call("POST", "/_ahi/reset")
    ctl.config(time_scale=SCALE, delays={
        "distribution_create": 266, "distribution_update": 164, "replica_removal": 1800,
        "ecs_service_create": 119, "ecs_service_update": 71, "ecs_service_drain": 60, "alb_provisioning": 116,
        "lambda_create": 5, "lambda_update": 3, "lambda_publish": 3,
        "ec2_consistency": 2, "secret_deletion": 30, "ecs_service_linked_role": 10, "ecs_circuit_breaker": 300,
        "invalidation": 120, "distribution_release": 0,
    }, replica_regions=["us-east-1", "eu-west-1", "ap-southeast-2"])
    return ctl


@pytest.fixture
def aws(endpoint):
    """boto3 clients against the emulator, with retries off so each fault shows."""
    def client(service, region="us-east-1", retries=0):
        return boto3.client(
            service, region_name=region, endpoint_url=endpoint,
            aws_access_key_id="testing", aws_secret_access_key="testing",
            config=Config(retries={"total_max_attempts": retries + 1, "mode": "standard"}),
        )
    return client


def wait_until(predicate, timeout=20.0, what="condition"):
    """Polls a condition the emulator's clock will make true (modelled delays
    are scaled down, never skipped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def new_vpc(ec2, cidr):
    """A VPC, once EC2 (eventually consistent, as the emulator models it:
    `ec2_consistency`) answers for it, so a test that builds on it does not
    race the window it is not about."""
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]

    def visible():
        try:
            return ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"]
        except ClientError as e:
            if e.response["Error"]["Code"] != "InvalidVpcID.NotFound":
                raise
            return None

    wait_until(visible, what=f"{vpc} visible")
    return vpc


def zip_bytes(source="exports.handler = async (e) => e.Records[0].cf.request;"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.js", source)
    return buf.getvalue()


def edge_function(aws, name="auth", **overrides):
    """Creates a Lambda@Edge-shaped function in us-east-1 and publishes version 1."""
    lam = aws("lambda")
    iam = aws("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]}}]})
    try:
        role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName=f"{name}-role")["Role"]["Arn"]
    spec = dict(FunctionName=name, Runtime="nodejs22.x", Handler="index.handler",
                Role=role, Code={"ZipFile": zip_bytes()},
                MemorySize=128, Timeout=5)
    spec.update(overrides)
    lam.create_function(**spec)
    # As on AWS: a new function is Pending for a moment, and so is a version.
    active(lam, name)
    arn = lam.publish_version(FunctionName=name)["FunctionArn"]
    active(lam, arn)
    return arn


def create_service(ecs, **kwargs):
    """CreateService as a client must call it in an account whose ECS
    service-linked role may not exist yet: again while AWS says so."""
    def attempt():
        try:
            return ecs.create_service(**kwargs)["service"]
        except ecs.exceptions.InvalidParameterException as e:
            if "service linked role" not in str(e):
                raise
            return None
    return wait_until(attempt, what="the ECS service-linked role")


def active(lam, name_or_arn):
    """Waits until a function (or version) is Active and not updating."""
    def ready():
        c = lam.get_function_configuration(FunctionName=name_or_arn)
        return c["State"] == "Active" and c.get("LastUpdateStatus", "Successful") == "Successful"
    wait_until(ready, what=f"{name_or_arn} Active")


def distribution_config(reference="ref-1", lambda_arn=None, enabled=True, cache_policy=None, aliases=None):
    behaviour = {
        "TargetOriginId": "alb",
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": {"Quantity": 7, "Items": ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
                           "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
        "Compress": True,
    }
    if cache_policy:
        behaviour["CachePolicyId"] = cache_policy
    else:
        behaviour["ForwardedValues"] = {"QueryString": True, "Cookies": {"Forward": "none"}}
        behaviour["MinTTL"] = 0
    if lambda_arn:
        behaviour["LambdaFunctionAssociations"] = {"Quantity": 1, "Items": [
            {"LambdaFunctionARN": lambda_arn, "EventType": "viewer-request", "IncludeBody": False}]}
    config = {
        "CallerReference": reference,
        "Comment": "ahi-edge test",
        "Enabled": enabled,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "alb", "DomainName": "alb-123.us-east-1.elb.amazonaws.com",
            "CustomHeaders": {"Quantity": 1, "Items": [{"HeaderName": "X-Custom-Header", "HeaderValue": "s3cret"}]},
            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only",
                                   "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]}},
        }]},
        "DefaultCacheBehavior": behaviour,
        "PriceClass": "PriceClass_All",
        "HttpVersion": "http2",
        "IsIPV6Enabled": True,
    }
    if aliases:
        config["Aliases"] = {"Quantity": len(aliases), "Items": aliases}
    return config
