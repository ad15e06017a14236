"""Rules real AWS enforces that moto lets through, with AWS's exact codes
and messages (tests/emulator/ahi_emulator/strict.py)."""

import pytest
from botocore.exceptions import ClientError

from conftest import wait_until


def error(e):
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_local_zones_are_listed_first_and_the_zone_type_filter_leaves_them_out(control, aws):
    for region, local in (("us-east-1", "us-east-1-bos-1a"), ("us-west-2", "us-west-2-lax-1a")):
        ec2 = aws("ec2", region)
        names = sorted(z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"])
        assert names[0] == local, names
        zone = [z for z in ec2.describe_availability_zones()["AvailabilityZones"] if z["ZoneName"] == local][0]
        assert zone["ZoneType"] == "local-zone"
        real = ec2.describe_availability_zones(Filters=[{"Name": "zone-type", "Values": ["availability-zone"]}])
        assert local not in [z["ZoneName"] for z in real["AvailabilityZones"]]


def test_with_the_switch_the_first_call_naming_a_new_id_is_refused_whatever_the_clock(control, aws):
    control.config(delays={"ec2_consistency": 0}, switches={"ec2_not_found_first": True})
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    with pytest.raises(ClientError) as e:
        ec2.describe_vpcs(VpcIds=[vpc])
    assert error(e) == ("InvalidVpcID.NotFound", f"The vpc ID '{vpc}' does not exist")
    assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["VpcId"] == vpc, "once only"


def test_a_new_vpc_and_subnet_are_not_found_for_a_moment(control, aws):
    control.config(delays={"ec2_consistency": 2000})  # 4 s at the test scale
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    with pytest.raises(ClientError) as e:
        ec2.describe_vpcs(VpcIds=[vpc])
    assert error(e) == ("InvalidVpcID.NotFound", f"The vpc ID '{vpc}' does not exist")
    with pytest.raises(ClientError) as e:
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.0.0/24")
    assert error(e)[0] == "InvalidVpcID.NotFound"
    control.config(delays={"ec2_consistency": 2})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.0.0/24")["Subnet"]["SubnetId"]

    def visible():
        try:
            return ec2.describe_subnets(SubnetIds=[subnet])["Subnets"]
        except ClientError as e:
            assert e.response["Error"]["Code"] == "InvalidSubnetID.NotFound"
            return None

    wait_until(visible, what="subnet visible")


def test_a_nat_gateway_can_be_made_to_fail_and_stays_listed(control, aws):
    control.config(switches={"fail_nat_gateways": 1}, delays={"ec2_consistency": 0})
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.6.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.6.0.0/24")["Subnet"]["SubnetId"]
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    failed = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip)["NatGateway"]["NatGatewayId"]
    seen = ec2.describe_nat_gateways(NatGatewayIds=[failed])["NatGateways"][0]
    assert seen["State"] == "failed"
    # The failed one holds no address: the next one can take it.
    good = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip)["NatGateway"]["NatGatewayId"]
    assert ec2.describe_nat_gateways(NatGatewayIds=[good])["NatGateways"][0]["State"] != "failed"


def test_a_force_deleted_secret_name_stays_taken_for_a_while(control, aws):
    control.config(delays={"secret_deletion": 2000})
    sm = aws("secretsmanager")
    sm.create_secret(Name="strict/secret", SecretString="a")
    sm.delete_secret(SecretId="strict/secret", ForceDeleteWithoutRecovery=True)
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name="strict/secret", SecretString="b")
    assert error(e) == (
        "InvalidRequestException",
        "You can't create this secret because a secret with this name is already scheduled for deletion.",
    )
    control.config(delays={"secret_deletion": 2})
    wait_until(lambda: sm.create_secret(Name="strict/secret", SecretString="b")["Name"], what="name free")


def test_a_fresh_account_cannot_create_a_service_right_after_its_first_cluster(control, aws):
    control.config(delays={"ecs_service_linked_role": 2000})
    ecs = aws("ecs")
    ecs.create_cluster(clusterName="strict")
    ecs.register_task_definition(family="strict", containerDefinitions=[{"name": "x", "image": "y", "memory": 128}])
    with pytest.raises(ClientError) as e:
        ecs.create_service(cluster="strict", serviceName="s", taskDefinition="strict", desiredCount=0)
    assert error(e) == (
        "InvalidParameterException",
        "Unable to assume the service linked role. Please verify that the ECS service linked role exists.",
    )
    control.config(delays={"ecs_service_linked_role": 2})
    ecs.create_service(cluster="strict", serviceName="s", taskDefinition="strict", desiredCount=0)


def test_late_log_delivery_makes_the_first_delete_bucket_find_it_not_empty(control, aws):
    control.config(switches={"late_log_delivery": True})
    s3 = aws("s3")
    s3.create_bucket(Bucket="strict-logs")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket="strict-logs")
    assert error(e) == ("BucketNotEmpty", "The bucket you tried to delete is not empty")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="strict-logs")["Contents"]]
    assert keys == ["cloudfront/late-delivery.gz"]
    s3.delete_object(Bucket="strict-logs", Key=keys[0])
    s3.delete_bucket(Bucket="strict-logs")


def test_unknown_switches_are_refused(control):
    with pytest.raises(Exception) as e:
        control.config(switches={"nope": True})
    assert "400" in str(e.value) or "unknown switch" in str(e.value)
