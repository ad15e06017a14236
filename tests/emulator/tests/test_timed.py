"""ECS and ELBv2 state over time, driven with plain boto3."""

import pytest
from botocore.exceptions import ClientError

from conftest import create_service, new_vpc, wait_until


def network(aws):
    ec2 = aws("ec2")
    vpc = new_vpc(ec2, "10.0.0.0/23")
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=az)["Subnet"]["SubnetId"]
               for cidr, az in [("10.0.0.0/26", "us-east-1a"), ("10.0.0.64/26", "us-east-1b")]]
    group = ec2.create_security_group(GroupName="alb", Description="alb", VpcId=vpc)["GroupId"]
    return subnets, group


def test_alb_is_provisioning_then_active(control, aws):
    control.config(delays={"alb_provisioning": 100})
    subnets, group = network(aws)
    elb = aws("elbv2")
    lb = elb.create_load_balancer(Name="s-alb", Subnets=subnets, SecurityGroups=[group])["LoadBalancers"][0]
    state = lambda: elb.describe_load_balancers(LoadBalancerArns=[lb["LoadBalancerArn"]])["LoadBalancers"][0]["State"]["Code"]  # noqa: E731
    assert lb["State"]["Code"] == "provisioning"
    assert state() == "provisioning"
    wait_until(lambda: state() == "active", what="ALB active")


def service(aws, desired=2):
    ecs = aws("ecs")
    ecs.create_cluster(clusterName="s")
    td = ecs.register_task_definition(
        family="s-proxy", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
        containerDefinitions=[{"name": "proxy", "image": "proxy:1", "portMappings": [{"containerPort": 8080}]}],
    )["taskDefinition"]["taskDefinitionArn"]
    create_service(ecs, cluster="s", serviceName="s-proxy", taskDefinition=td, desiredCount=desired, launchType="FARGATE")
    return ecs, lambda: ecs.describe_services(cluster="s", services=["s-proxy"])["services"][0]


def steady(svc):
    primary = [d for d in svc["deployments"] if d["status"] == "PRIMARY"][0]
    return primary["rolloutState"] == "COMPLETED" and svc["runningCount"] == svc["desiredCount"]


def test_service_reaches_steady_state_after_create_and_update(control, aws):
    # Long enough (2 s at the tests' scale) that a loaded machine still
    # describes the service before the rollout completes.
    control.config(delays={"ecs_service_create": 1000, "ecs_service_update": 1000})
    ecs, describe = service(aws)
    first = describe()
    assert first["runningCount"] == 0
    assert first["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    wait_until(lambda: steady(describe()), what="steady after create")
    assert describe()["runningCount"] == 2

    ecs.update_service(cluster="s", service="s-proxy", desiredCount=3)
    assert describe()["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    wait_until(lambda: steady(describe()), what="steady after update")
    assert describe()["runningCount"] == 3


def test_delete_needs_zero_or_force_and_drains(control, aws):
    # A drain of 5 s at the tests' scale: long enough that a loaded machine still
    # makes its next calls while the service drains.
    control.config(delays={"ecs_service_create": 0, "ecs_service_drain": 2500})
    ecs, describe = service(aws)
    with pytest.raises(ClientError) as scaled:
        ecs.delete_service(cluster="s", service="s-proxy")
    assert scaled.value.response["Error"]["Code"] == "InvalidParameterException"
    ecs.update_service(cluster="s", service="s-proxy", desiredCount=0)
    ecs.delete_service(cluster="s", service="s-proxy")
    assert describe()["status"] == "DRAINING"
    with pytest.raises(ClientError) as draining:
        service(aws)
    assert "still Draining" in draining.value.response["Error"]["Message"]
    wait_until(lambda: describe()["status"] == "INACTIVE", what="INACTIVE")


def test_force_delete_skips_scaling_down(control, aws):
    ecs, describe = service(aws)
    ecs.delete_service(cluster="s", service="s-proxy", force=True)
    assert describe()["status"] in ("DRAINING", "INACTIVE")


def test_a_failing_image_never_completes_without_the_circuit_breaker_and_fails_with_it(control, aws):
    control.config(switches={"failing_images": ["bad/image:1"]})
    ecs = aws("ecs")
    ecs.create_cluster(clusterName="cb")
    ecs.register_task_definition(family="cb", containerDefinitions=[{"name": "x", "image": "bad/image:1", "memory": 128}])
    create_service(ecs, cluster="cb", serviceName="plain", taskDefinition="cb", desiredCount=1)
    create_service(ecs, cluster="cb", serviceName="guarded", taskDefinition="cb", desiredCount=1,
                   deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})

    def rollout(name):
        service = ecs.describe_services(cluster="cb", services=[name])["services"][0]
        return service["deployments"][0]

    wait_until(lambda: rollout("guarded")["rolloutState"] == "FAILED", what="the breaker")
    assert rollout("guarded")["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    plain = rollout("plain")
    assert (plain["rolloutState"], plain["runningCount"]) == ("IN_PROGRESS", 0)
    guarded = ecs.describe_services(cluster="cb", services=["guarded"])["services"][0]
    assert guarded["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
