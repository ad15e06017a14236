"""Tasks the emulator really runs (ecs_tasks.py): a task definition's
`secrets` resolved from Secrets Manager as ECS does when a task starts, a
rollout complete only once the new task answers its health check, the
target group following it, and ECS's error for a secret it cannot read."""

import json
import sys
import urllib.error
import urllib.request

import pytest

from conftest import create_service, new_vpc, wait_until

TASK = r'''
import http.server, json, os
class Answer(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        body = json.dumps({k: os.environ.get(k) for k in ("GREETING", "SECRET", "PORT")}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Answer).serve_forever()
'''
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/task:1"


@pytest.fixture
def runner(control, tmp_path):
    script = tmp_path / "task.py"
    script.write_text(TASK)
    control.call("POST", "/_ahi/ecs/runners", {"image": IMAGE, "command": [sys.executable, str(script)]})
    return control


def stack(aws):
    vpc = new_vpc(aws("ec2"), "10.1.0.0/24")
    group = aws("elbv2").create_target_group(Name="t-tg", Protocol="HTTP", Port=8080, VpcId=vpc,
                                             TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    sm = aws("secretsmanager")
    secret = sm.create_secret(Name="t/origin", SecretString="first-value")
    second = sm.put_secret_value(SecretId=secret["ARN"], SecretString="second-value",
                                 VersionStages=["AWSPENDING"])["VersionId"]
    ecs = aws("ecs")
    ecs.create_cluster(clusterName="t")
    return ecs, group, secret["ARN"], secret["VersionId"], second


def definition(ecs, value_from):
    return ecs.register_task_definition(
        family="t-proxy", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
        containerDefinitions=[{"name": "proxy", "image": IMAGE, "portMappings": [{"containerPort": 8080}],
                               "environment": [{"name": "GREETING", "value": "hello"}],
                               "secrets": [{"name": "SECRET", "valueFrom": value_from}]}],
    )["taskDefinition"]["taskDefinitionArn"]


def described(ecs):
    return ecs.describe_services(cluster="t", services=["t-proxy"])["services"][0]


def steady(ecs):
    svc = described(ecs)
    primary = [d for d in svc["deployments"] if d["status"] == "PRIMARY"][0]
    return primary["rolloutState"] == "COMPLETED" and svc["runningCount"] == svc["desiredCount"]


def served(control, group):
    url = control.call("GET", "/_ahi/edge/targets")[group]
    with urllib.request.urlopen(url + "/", timeout=5) as r:
        return url, json.loads(r.read())


def test_a_task_gets_its_pinned_secret_and_the_target_follows_each_rollout(runner, aws):
    ecs, group, arn, first, second = stack(aws)
    td = definition(ecs, f"{arn}:::{first}")
    assert "secrets" in ecs.describe_task_definition(taskDefinition=td)["taskDefinition"]["containerDefinitions"][0]
    create_service(ecs, cluster="t", serviceName="t-proxy", taskDefinition=td, desiredCount=1, launchType="FARGATE",
                   loadBalancers=[{"targetGroupArn": group, "containerName": "proxy", "containerPort": 8080}])
    wait_until(lambda: steady(ecs), what="the first rollout")
    old_url, seen = served(runner, group)
    assert seen["GREETING"] == "hello" and seen["SECRET"] == "first-value"

    # A new revision pinned to the other version: a new task, then the switch.
    td2 = definition(ecs, f"{arn}:::{second}")
    ecs.update_service(cluster="t", service="t-proxy", taskDefinition=td2)
    wait_until(lambda: steady(ecs), what="the second rollout")
    new_url, seen = served(runner, group)
    assert new_url != old_url and seen["SECRET"] == "second-value"

    def old_stopped():
        try:
            urllib.request.urlopen(old_url + "/", timeout=1)
            return False
        except OSError:
            return True
    wait_until(old_stopped, timeout=20, what="the old task stopped after draining")

    # By stage too (no version id): ECS reads the label's version.
    ecs.update_service(cluster="t", service="t-proxy", taskDefinition=definition(ecs, f"{arn}::AWSPENDING:"))
    wait_until(lambda: steady(ecs), what="the third rollout")
    assert served(runner, group)[1]["SECRET"] == "second-value"


def test_a_secret_ecs_cannot_read_stops_the_task_with_ecs_error(runner, aws):
    ecs, group, arn, first, _ = stack(aws)
    # ECS does not check valueFrom at registration: the task does, when it starts.
    td = definition(ecs, f"{arn}:::00000000-0000-0000-0000-000000000000")
    create_service(ecs, cluster="t", serviceName="t-proxy", taskDefinition=td, desiredCount=1, launchType="FARGATE",
                   loadBalancers=[{"targetGroupArn": group, "containerName": "proxy", "containerPort": 8080}],
                   deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})

    def failed():
        primary = described(ecs)["deployments"][0]
        return primary if primary["rolloutState"] == "FAILED" else None
    primary = wait_until(failed, what="the circuit breaker")
    reason = primary["rolloutStateReason"]
    assert "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval " \
           "failed: unable to retrieve secret from asm" in reason, reason
    assert "ResourceNotFoundException: Secrets Manager can't find the specified secret value for VersionId: " \
           "00000000-0000-0000-0000-000000000000" in reason, reason
    assert described(ecs)["runningCount"] == 0
    assert group not in runner.call("GET", "/_ahi/edge/targets")


def test_an_alb_answers_by_its_dns_name_and_its_header_rule_accepts_any_of_its_values(control, aws, endpoint):
    import http.server
    import threading

    class Target(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "6")
            self.end_headers()
            self.wfile.write(b"target")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Target)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ec2, elb = aws("ec2"), aws("elbv2")
    vpc = new_vpc(ec2, "10.2.0.0/24")
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=c, AvailabilityZone=z)["Subnet"]["SubnetId"]
               for c, z in [("10.2.0.0/26", "us-east-1a"), ("10.2.0.64/26", "us-east-1b")]]
    lb = elb.create_load_balancer(Name="direct", Subnets=subnets)["LoadBalancers"][0]
    wait_until(lambda: elb.describe_load_balancers(Names=["direct"])["LoadBalancers"][0]["State"]["Code"] == "active",
               what="ALB active")
    group = elb.create_target_group(Name="direct-tg", Protocol="HTTP", Port=8080, VpcId=vpc,
                                    TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "403", "ContentType": "text/plain",
                                                           "MessageBody": "Access denied"}}])["Listeners"][0]
    elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=1, Actions=[{"Type": "forward", "TargetGroupArn": group}],
                    Conditions=[{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Custom-Header",
                                                                              "Values": ["old-value", "new-value"]}}])
    control.call("POST", "/_ahi/edge/targets", {"target_group_arn": group,
                                                "url": f"http://127.0.0.1:{server.server_address[1]}"})

    def get(value):
        headers = {"Host": lb["DNSName"]}
        if value is not None:
            headers["X-Custom-Header"] = value
        try:
            with urllib.request.urlopen(urllib.request.Request(endpoint + "/x", headers=headers), timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    assert get("old-value") == (200, "target")
    assert get("new-value") == (200, "target")
    assert get("other") == (403, "Access denied")
    assert get(None) == (403, "Access denied")
    server.shutdown()
