"""The control API: faults, the call log, the inventory, the time scale."""

import urllib.error

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from conftest import Control, distribution_config, edge_function, new_vpc


def test_each_fault_kind_fires_on_the_nth_call_and_not_before(control, aws):
    sts = aws("sts")
    for kind, expected in [("throttle", "Throttling"), ("500", "ServiceUnavailable")]:
        control.call("DELETE", "/_ahi/faults")
        control.fault(operation="GetCallerIdentity", kind=kind, nth=3)
        sts.get_caller_identity()
        sts.get_caller_identity()
        with pytest.raises(ClientError) as err:
            sts.get_caller_identity()
        assert err.value.response["Error"]["Code"] == expected
        sts.get_caller_identity()  # times=1: only the third call fails

    control.call("DELETE", "/_ahi/faults")
    control.fault(operation="cloudfront:ListDistributions", kind="drop", nth=2)
    cf = aws("cloudfront")
    cf.list_distributions()
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        cf.list_distributions()
    cf.list_distributions()

    control.fault(operation="ecs:ListClusters", kind="throttle", nth=1)
    with pytest.raises(ClientError) as ecs_err:
        aws("ecs").list_clusters()
    assert ecs_err.value.response["Error"]["Code"] == "ThrottlingException"
    control.fault(operation="lambda:ListFunctions", kind="throttle", nth=1)
    with pytest.raises(ClientError) as lam_err:
        aws("lambda").list_functions()
    assert lam_err.value.response["Error"]["Code"] == "TooManyRequestsException"


def test_any_aws_error_can_be_injected(control, aws):
    ec2 = aws("ec2")
    vpc = new_vpc(ec2, "10.0.0.0/23")
    group = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    control.fault(operation="DeleteSecurityGroup", kind="error", code="DependencyViolation",
                  message=f"resource {group} has a dependent object", nth=1, times=2)
    for _ in range(2):
        with pytest.raises(ClientError) as err:
            ec2.delete_security_group(GroupId=group)
        assert err.value.response["Error"]["Code"] == "DependencyViolation"
    ec2.delete_security_group(GroupId=group)

    cf = aws("cloudfront")
    control.fault(operation="DeleteDistribution", kind="error", code="DistributionNotDisabled", status=409, nth=1)
    dist = cf.create_distribution(DistributionConfig=distribution_config())
    with pytest.raises(ClientError) as cf_err:
        cf.delete_distribution(Id=dist["Distribution"]["Id"], IfMatch=dist["ETag"])
    assert cf_err.value.response["Error"]["Code"] == "DistributionNotDisabled"
    assert cf_err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_a_seeded_fraction_fails_the_same_calls_every_time(control, aws):
    outcomes = []
    for _ in range(2):
        control.call("DELETE", "/_ahi/faults")
        control.fault(operation="GetCallerIdentity", kind="throttle", fraction=0.5, seed=7)
        run = []
        for _ in range(20):
            try:
                aws("sts").get_caller_identity()
                run.append(True)
            except ClientError:
                run.append(False)
        outcomes.append(run)
    assert outcomes[0] == outcomes[1]
    assert 3 <= outcomes[0].count(False) <= 17


def test_the_call_log_names_operation_region_and_status(control, aws):
    control.call("DELETE", "/_ahi/calls")
    aws("sts", "eu-west-1").get_caller_identity()
    aws("cloudfront").list_distributions()
    with pytest.raises(ClientError):
        aws("cloudfront").get_distribution(Id="ENOPE")
    calls = control.calls()
    assert [(c["service"], c["operation"], c["region"], c["status"]) for c in calls] == [
        ("sts", "GetCallerIdentity", "eu-west-1", 200),
        ("cloudfront", "ListDistributions", "us-east-1", 200),
        ("cloudfront", "GetDistribution", "us-east-1", 404),
    ]


def test_inventory_lists_what_exists_across_services_and_regions(control, aws):
    assert control.resources() == [], "a reset emulator holds nothing"
    edge_function(aws)
    aws("secretsmanager", "eu-west-1").create_secret(Name="s", SecretString="x")
    aws("cloudfront").create_distribution(DistributionConfig=distribution_config())
    kinds = {(r["service"], r["region"], r["type"]) for r in control.resources()}
    assert ("lambda", "us-east-1", "function") in kinds
    assert ("iam", "global", "role") in kinds
    assert ("secretsmanager", "eu-west-1", "secret") in kinds
    assert ("cloudfront", "global", "distribution") in kinds


def test_bad_control_requests_say_what_is_wrong(control):
    with pytest.raises(urllib.error.HTTPError) as err:
        control.fault(operation="GetCallerIdentity", kind="explode", nth=1)
    assert err.value.code == 400
    assert b"kind must be one of" in err.value.read()
    with pytest.raises(urllib.error.HTTPError) as err:
        control.config(delays={"nope": 1})
    assert b"unknown delay 'nope'" in err.value.read()


def test_time_scale_shrinks_every_delay(control, aws):
    control.config(time_scale=1000)  # 266 s -> 3 days: stays InProgress
    cf = aws("cloudfront")
    dist_id = cf.create_distribution(DistributionConfig=distribution_config())["Distribution"]["Id"]
    control.config(time_scale=0)  # every delay now zero
    assert cf.get_distribution(Id=dist_id)["Distribution"]["Status"] == "Deployed"
    assert Control(control.endpoint).call("GET", "/_ahi/config")["time_scale"] == 0


def test_a_fault_can_target_one_resource_by_path(control, aws):
    cf = aws("cloudfront")
    mine = cf.create_distribution(DistributionConfig=distribution_config("ref-mine"))["Distribution"]["Id"]
    other = cf.create_distribution(DistributionConfig=distribution_config("ref-other"))["Distribution"]["Id"]
    control.fault(operation="GetDistribution", kind="throttle", nth=1, target=mine)
    cf.get_distribution(Id=other)  # not the target: does not count
    with pytest.raises(ClientError):
        cf.get_distribution(Id=mine)
    cf.get_distribution(Id=mine)


def test_a_star_fault_matches_every_operation_of_every_service(control, aws):
    control.call("DELETE", "/_ahi/faults")
    control.fault(operation="*", kind="throttle", nth=1, times=2)
    with pytest.raises(ClientError) as first:
        aws("sts").get_caller_identity()
    with pytest.raises(ClientError) as second:
        aws("ecs").list_clusters()
    assert first.value.response["Error"]["Code"] == "Throttling"
    assert second.value.response["Error"]["Code"] == "ThrottlingException"
    aws("sts").get_caller_identity()  # times=2: the third call goes through
    control.call("DELETE", "/_ahi/faults")


def test_a_strip_header_fault_answers_the_call_without_that_header(control, aws):
    cf = aws("cloudfront")
    oac = cf.create_origin_access_control(OriginAccessControlConfig={
        "Name": "strip", "SigningProtocol": "sigv4", "SigningBehavior": "always",
        "OriginAccessControlOriginType": "s3"})["OriginAccessControl"]["Id"]
    assert cf.get_origin_access_control(Id=oac)["ETag"]
    control.call("POST", "/_ahi/faults", {"operation": "cloudfront:GetOriginAccessControl", "kind": "strip_header",
                                         "header": "ETag", "nth": 1})
    answer = cf.get_origin_access_control(Id=oac)
    assert "ETag" not in answer and answer["OriginAccessControl"]["Id"] == oac  # answered, without the header
    assert cf.get_origin_access_control(Id=oac)["ETag"]  # only the nth call
