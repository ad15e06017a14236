"""The demo's dealings with the emulator, with plain boto3 and HTTP (run by
scripts/demo with the emulator's venv). Subcommands:

  cognito ENDPOINT            a user pool, an app client and a signed-in
                              user; prints POOL=, CLIENT= and TOKEN= lines
  task-env ENDPOINT STACK     the environment the stack's ECS task definition
                              gives the proxy (its secrets resolved, as ECS
                              does), one NAME=VALUE per line
  register ENDPOINT URL       the proxy at URL becomes the target of the
                              stack's target group (the local edge's ALB)
  seed ENDPOINT               a small image set; prints DATASTORE=, IMAGE_SET=,
                              FRAME=, FRAME_BYTES= and FRAME_SHA256=
  fetch URL HOST TOKEN [SHA]  GET through the local edge; prints the status,
                              size and X-Cache; fails unless 200 (and, given
                              SHA, unless the body's sha256 is SHA)
Nothing here reaches AWS: every client is pointed at ENDPOINT."""

import base64
import hashlib
import json
import sys
import urllib.error
import urllib.request

import boto3

REGION = "us-east-1"


def client(endpoint, service):
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint,
                        aws_access_key_id="demo", aws_secret_access_key="demo")


def cognito(endpoint):
    idp = client(endpoint, "cognito-idp")
    pool = idp.create_user_pool(PoolName="ahi-edge-demo")["UserPool"]["Id"]
    app = idp.create_user_pool_client(UserPoolId=pool, ClientName="viewer",
                                      ExplicitAuthFlows=["ADMIN_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]
    password = "Demo-Passw0rd-123"
    idp.admin_create_user(UserPoolId=pool, Username="radiologist", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="radiologist", Password=password, Permanent=True)
    auth = idp.admin_initiate_auth(UserPoolId=pool, ClientId=app, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": "radiologist", "PASSWORD": password})
    print(f"POOL={pool}\nCLIENT={app}\nTOKEN={auth['AuthenticationResult']['AccessToken']}")


def image(endpoint):
    """The proxy image the profile names, pushed to the emulator's ECR for
    both architectures (the pre-flight of `up` looks it up)."""
    doc = {"region": REGION, "repository": "ahi-regional-proxy", "tag": "0.1.0", "architecture": "amd64",
           "index": True, "platforms": ["amd64", "arm64"]}
    request = urllib.request.Request(f"{endpoint}/_ahi/ecr/images", data=json.dumps(doc).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request).read()


def task_env(endpoint):
    ecs = client(endpoint, "ecs")
    cluster = ecs.list_clusters()["clusterArns"][0]
    service = ecs.describe_services(cluster=cluster, services=ecs.list_services(cluster=cluster)["serviceArns"])
    definition = ecs.describe_task_definition(taskDefinition=service["services"][0]["taskDefinition"])["taskDefinition"]
    container = definition["containerDefinitions"][0]
    for pair in container.get("environment", []):
        print(f"{pair['name']}={pair['value']}")
    # As ECS does when a task starts: each secret's valueFrom (a Secrets
    # Manager ARN pinned to a version) read from Secrets Manager.
    sm = client(endpoint, "secretsmanager")
    for secret in container.get("secrets", []):
        parts = secret["valueFrom"].split(":")
        arn, version = ":".join(parts[:7]), (parts[9] if len(parts) > 9 else "")
        answer = sm.get_secret_value(SecretId=arn, **({"VersionId": version} if version else {}))
        print(f"{secret['name']}={answer['SecretString']}")


def register(endpoint, url):
    elb = client(endpoint, "elbv2")
    groups = elb.describe_target_groups()["TargetGroups"]
    if len(groups) != 1:
        sys.exit(f"expected the stack's one target group, found {len(groups)}")
    body = json.dumps({"target_group_arn": groups[0]["TargetGroupArn"], "url": url}).encode()
    request = urllib.request.Request(f"{endpoint}/_ahi/edge/targets", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request).read()
    print(f"registered {url} as the target of {groups[0]['TargetGroupName']}")


def seed(endpoint):
    frame = bytes(range(256)) * 64  # 16 KiB standing in for an HTJ2K frame
    doc = {"region": REGION, "datastore_id": "d" * 32, "image_set_id": "1" * 32, "version": "1",
           "metadata": {"Patient": {"DICOM": {"PatientName": "DEMO^PATIENT"}},
                        "Study": {"DICOM": {"StudyDescription": "ahi-edge demo"}}},
           "frames": {"f" * 32: base64.b64encode(frame).decode()}}
    request = urllib.request.Request(f"{endpoint}/_ahi/healthimaging/image-sets", data=json.dumps(doc).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request).read()
    print(f"DATASTORE={'d' * 32}\nIMAGE_SET={'1' * 32}\nFRAME={'f' * 32}\nFRAME_BYTES={len(frame)}")
    print(f"FRAME_SHA256={hashlib.sha256(frame).hexdigest()}")


def fetch(url, host, token, sha256=None):
    request = urllib.request.Request(url, headers={"Host": host, "Authorization": f"Bearer {token}",
                                                   "Accept-Encoding": "gzip"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        status, headers, body = e.code, e.headers, e.read()
    print(f"  status {status}, {len(body)} bytes, X-Cache: {headers.get('X-Cache')}, "
          f"Content-Type: {headers.get('Content-Type')}")
    if sha256 is not None:
        same = hashlib.sha256(body).hexdigest() == sha256
        print(f"  {'the seeded bytes' if same else 'NOT the seeded bytes'}")
        if not same:
            return 1
    return status


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    result = {"cognito": cognito, "image": image, "task-env": task_env, "register": register, "seed": seed, "fetch": fetch}[command](*args)
    sys.exit(0 if result in (None, 200) else 1)
