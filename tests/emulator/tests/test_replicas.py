"""The Lambda@Edge replica lifecycle, driven with plain boto3."""

import pytest
from botocore.exceptions import ClientError

from conftest import active, ACCOUNT, distribution_config, edge_function, wait_until

REPLICATED = ("Lambda was unable to delete arn:aws:lambda:us-east-1:{account}:function:auth:1 because it is "
              "a replicated function. Please see our documentation for Deleting Lambda@Edge Functions and Replicas.")


def replicas(aws, region):
    pages = aws("lambda", region).get_paginator("list_functions").paginate(MasterRegion="us-east-1", FunctionVersion="ALL")
    return [f for page in pages for f in page["Functions"]]


def deployed(cf, dist_id):
    return cf.get_distribution(Id=dist_id)["Distribution"]["Status"] == "Deployed"


def disassociate(cf, dist_id, enabled=True):
    current = cf.get_distribution_config(Id=dist_id)
    config = current["DistributionConfig"]
    config["DefaultCacheBehavior"]["LambdaFunctionAssociations"] = {"Quantity": 0}
    config["Enabled"] = enabled
    cf.update_distribution(Id=dist_id, IfMatch=current["ETag"], DistributionConfig=config)


def test_replicas_appear_after_deploy_in_every_configured_region(control, aws):
    version = edge_function(aws)
    cf = aws("cloudfront")
    dist_id = cf.create_distribution(DistributionConfig=distribution_config(lambda_arn=version))["Distribution"]["Id"]
    assert replicas(aws, "eu-west-1") == [], "no replica before the distribution is deployed"
    wait_until(lambda: deployed(cf, dist_id))
    for region in ["us-east-1", "eu-west-1", "ap-southeast-2"]:
        [replica] = replicas(aws, region)
        assert replica["FunctionName"] == "us-east-1.auth"
        assert replica["FunctionArn"] == f"arn:aws:lambda:{region}:{ACCOUNT}:function:us-east-1.auth:1"
        assert replica["MasterArn"] == version
        assert replica["Version"] == "1"
    assert replicas(aws, "us-west-2") == [], "only the configured replica regions"


def test_master_region_requires_all_versions(control, aws):
    with pytest.raises(ClientError) as err:
        aws("lambda", "eu-west-1").list_functions(MasterRegion="us-east-1")
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_replicas_block_delete_with_the_exact_message_then_vanish(control, aws):
    control.config(delays={"replica_removal": 200})  # 0.4 s once disassociated
    version = edge_function(aws)
    cf, lam = aws("cloudfront"), aws("lambda")
    dist_id = cf.create_distribution(DistributionConfig=distribution_config(lambda_arn=version))["Distribution"]["Id"]

    # Still associated (even before deploy): the delete fails, qualified or not.
    for kwargs in ({}, {"Qualifier": "1"}):
        with pytest.raises(ClientError) as err:
            lam.delete_function(FunctionName="auth", **kwargs)
        assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
        assert err.value.response["Error"]["Message"] == REPLICATED.format(account=ACCOUNT)
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    wait_until(lambda: deployed(cf, dist_id))
    disassociate(cf, dist_id)
    wait_until(lambda: deployed(cf, dist_id))
    # Disassociated and deployed: replicas linger for the removal delay.
    assert len(replicas(aws, "eu-west-1")) == 1
    with pytest.raises(ClientError) as err:
        lam.delete_function(FunctionName="auth")
    assert "because it is a replicated function" in err.value.response["Error"]["Message"]

    wait_until(lambda: all(replicas(aws, r) == [] for r in ["us-east-1", "eu-west-1", "ap-southeast-2"]),
               what="replicas removed")
    lam.delete_function(FunctionName="auth")
    assert "auth" not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]


def test_deleting_the_distribution_releases_replicas(control, aws):
    control.config(delays={"replica_removal": 100})
    version = edge_function(aws)
    cf = aws("cloudfront")
    dist_id = cf.create_distribution(DistributionConfig=distribution_config(lambda_arn=version))["Distribution"]["Id"]
    wait_until(lambda: deployed(cf, dist_id))
    current = cf.get_distribution_config(Id=dist_id)
    cf.update_distribution(Id=dist_id, IfMatch=current["ETag"], DistributionConfig=dict(current["DistributionConfig"], Enabled=False))
    wait_until(lambda: deployed(cf, dist_id))
    assert len(replicas(aws, "eu-west-1")) == 1, "disabling alone keeps the replicas"
    cf.delete_distribution(Id=dist_id, IfMatch=cf.get_distribution(Id=dist_id)["ETag"])
    assert len(replicas(aws, "eu-west-1")) == 1, "replicas outlive the distribution for the removal delay"
    wait_until(lambda: replicas(aws, "eu-west-1") == [], what="replicas removed after delete")
    aws("lambda").delete_function(FunctionName="auth")


def test_replica_listing_pages_by_fifty(control, aws):
    control.config(replica_regions=["eu-west-1"])
    cf = aws("cloudfront")
    lam = aws("lambda")
    versions = [edge_function(aws, name="auth")]
    for _ in range(51):
        lam.update_function_code(FunctionName="auth", ZipFile=b"PK\x05\x06" + b"\x00" * 18)
        active(lam, "auth")
        versions.append(lam.publish_version(FunctionName="auth")["FunctionArn"])
        active(lam, versions[-1])
    for i, version in enumerate(versions):
        config = distribution_config(reference=f"ref-{i}", lambda_arn=version)
        cf.create_distribution(DistributionConfig=config)
    wait_until(lambda: len(replicas(aws, "eu-west-1")) == len(versions), what="all replicas")
    first = aws("lambda", "eu-west-1").list_functions(MasterRegion="us-east-1", FunctionVersion="ALL")
    assert len(first["Functions"]) == 50 and "NextMarker" in first


def test_replicas_leave_log_groups_in_their_regions(control, aws):
    control.config(replica_regions=["eu-west-1", "ap-southeast-2"])
    version = edge_function(aws, name="logged")
    dist = aws("cloudfront").create_distribution(
        DistributionConfig=distribution_config(reference="ref-logs", lambda_arn=version))["Distribution"]["Id"]
    wait_until(lambda: aws("cloudfront").get_distribution(Id=dist)["Distribution"]["Status"] == "Deployed",
               what="deployed")
    for region in ("eu-west-1", "ap-southeast-2"):
        groups = aws("logs", region).describe_log_groups(logGroupNamePrefix="/aws/lambda/us-east-1.logged")
        assert [g["logGroupName"] for g in groups["logGroups"]] == ["/aws/lambda/us-east-1.logged"]
