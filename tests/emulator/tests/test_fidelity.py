"""Fields where moto answers differently from AWS, answered as AWS does."""

import pytest
from botocore.exceptions import ClientError

from conftest import create_service, new_vpc


def test_create_service_keeps_the_health_check_grace_period(aws):
    ecs = aws("ecs")
    ecs.create_cluster(clusterName="fid")
    ecs.register_task_definition(family="fid", containerDefinitions=[{"name": "x", "image": "y", "memory": 128}])
    create_service(ecs, cluster="fid", serviceName="s", taskDefinition="fid", desiredCount=0,
                   healthCheckGracePeriodSeconds=60)
    service = ecs.describe_services(cluster="fid", services=["s"])["services"][0]
    assert service["healthCheckGracePeriodSeconds"] == 60
    ecs.update_service(cluster="fid", service="s", healthCheckGracePeriodSeconds=30)
    service = ecs.describe_services(cluster="fid", services=["s"])["services"][0]
    assert service["healthCheckGracePeriodSeconds"] == 30


def test_an_http_listener_has_no_ssl_policy(aws):
    ec2, elb = aws("ec2"), aws("elbv2")
    vpc = new_vpc(ec2, "10.9.0.0/16")
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=z)["Subnet"]["SubnetId"]
               for i, z in enumerate(zones)]
    lb = elb.create_load_balancer(Name="fid-alb", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    action = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "403"}}]
    listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=action)
    assert "SslPolicy" not in listener["Listeners"][0]
    seen = elb.describe_listeners(LoadBalancerArn=lb)["Listeners"][0]
    assert "SslPolicy" not in seen


def test_get_bucket_versioning_answers_a_versioning_configuration(control, aws, endpoint):
    s3 = aws("s3")
    s3.create_bucket(Bucket="versioned")
    assert "Status" not in s3.get_bucket_versioning(Bucket="versioned")
    s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket="versioned")["Status"] == "Enabled"
    # The raw answer, as a strict client parses it.
    import urllib.request
    request = urllib.request.Request(f"{endpoint}/versioned?versioning", headers={
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, "
                         "SignedHeaders=host, Signature=0"})
    with urllib.request.urlopen(request) as resp:
        body = resp.read().decode()
    assert "<VersioningConfiguration" in body and "GetBucketVersioningResponse" not in body, body


def test_get_secret_value_answers_the_version_awscurrent_moved_to(control, aws):
    sm = aws("secretsmanager")
    arn = sm.create_secret(Name="fid/rotating", SecretString="old")["ARN"]
    old = sm.get_secret_value(SecretId=arn)["VersionId"]
    new = sm.put_secret_value(SecretId=arn, SecretString="new", ClientRequestToken="a" * 32,
                              VersionStages=["AWSPENDING"])["VersionId"]
    assert new == "a" * 32
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == "old", "a pending version is not current"
    sm.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=new,
                                   RemoveFromVersionId=old)
    current = sm.get_secret_value(SecretId=arn)
    assert (current["SecretString"], current["VersionId"]) == ("new", new)
    assert sm.get_secret_value(SecretId=arn, VersionStage="AWSPREVIOUS")["SecretString"] == "old"
    sm.update_secret_version_stage(SecretId=arn, VersionStage="AWSPREVIOUS", RemoveFromVersionId=old)
    stages = {v["VersionId"]: sorted(v.get("VersionStages", []))
              for v in sm.list_secret_version_ids(SecretId=arn, IncludeDeprecated=True)["Versions"]}
    assert stages == {old: [], new: ["AWSCURRENT", "AWSPENDING"]}


def test_a_bucket_created_again_under_a_deleted_ones_name_has_no_tags(aws):
    s3 = aws("s3")
    s3.create_bucket(Bucket="fid-retagged")
    s3.put_bucket_tagging(Bucket="fid-retagged",
                          Tagging={"TagSet": [{"Key": "ahi-edge:stack", "Value": "gone"}]})
    s3.delete_bucket(Bucket="fid-retagged")
    s3.create_bucket(Bucket="fid-retagged")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket="fid-retagged")
    assert e.value.response["Error"]["Code"] == "NoSuchTagSet"
    # A bucket that could not be deleted (not empty) keeps its tags.
    s3.put_bucket_tagging(Bucket="fid-retagged", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    s3.put_object(Bucket="fid-retagged", Key="a", Body=b"a")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket="fid-retagged")
    assert e.value.response["Error"]["Code"] == "BucketNotEmpty"
    assert s3.get_bucket_tagging(Bucket="fid-retagged")["TagSet"] == [{"Key": "k", "Value": "v"}]
