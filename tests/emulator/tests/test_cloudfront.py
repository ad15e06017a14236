"""CloudFront as modelled by the emulator, driven with plain boto3."""

import pytest
from botocore.exceptions import ClientError

from conftest import distribution_config, edge_function, wait_until


def code(err):
    return err.value.response["Error"]["Code"]


def deployed(cf, dist_id):
    return cf.get_distribution(Id=dist_id)["Distribution"]["Status"] == "Deployed"


def test_associations_round_trip_on_default_and_ordered_behaviours(control, aws):
    version = edge_function(aws)
    cf = aws("cloudfront")
    fn = cf.create_function(Name="rewrite", FunctionConfig={"Comment": "c", "Runtime": "cloudfront-js-2.0"},
                            FunctionCode=b"function handler(e) { return e.request; }")
    cf.publish_function(Name="rewrite", IfMatch=fn["ETag"])
    fn_arn = fn["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]
    config = distribution_config(lambda_arn=version)
    ordered = dict(config["DefaultCacheBehavior"], PathPattern="/viewer/*")
    ordered["FunctionAssociations"] = {"Quantity": 1, "Items": [{"FunctionARN": fn_arn, "EventType": "viewer-request"}]}
    # A CloudFront Function and Lambda@Edge may not share viewer events on one behaviour.
    ordered["LambdaFunctionAssociations"] = {"Quantity": 1, "Items": [
        {"LambdaFunctionARN": version, "EventType": "origin-request", "IncludeBody": False}]}
    config["CacheBehaviors"] = {"Quantity": 1, "Items": [ordered]}
    created = cf.create_distribution(DistributionConfig=config)["Distribution"]

    got = cf.get_distribution_config(Id=created["Id"])["DistributionConfig"]
    assert got["DefaultCacheBehavior"]["LambdaFunctionAssociations"]["Items"] == [
        {"LambdaFunctionARN": version, "EventType": "viewer-request", "IncludeBody": False}]
    behaviour = got["CacheBehaviors"]["Items"][0]
    assert behaviour["LambdaFunctionAssociations"]["Items"][0] == {
        "LambdaFunctionARN": version, "EventType": "origin-request", "IncludeBody": False}
    assert behaviour["FunctionAssociations"]["Items"] == [{"FunctionARN": fn_arn, "EventType": "viewer-request"}]
    assert got["Origins"]["Items"][0]["CustomHeaders"]["Items"][0]["HeaderName"] == "X-Custom-Header"


def test_distribution_is_in_progress_then_deployed_after_every_change(control, aws):
    control.config(delays={"distribution_create": 100, "distribution_update": 50})  # 0.2 s, 0.1 s
    cf = aws("cloudfront")
    created = cf.create_distribution(DistributionConfig=distribution_config())
    dist_id = created["Distribution"]["Id"]
    assert created["Distribution"]["Status"] == "InProgress"
    assert cf.get_distribution(Id=dist_id)["Distribution"]["Status"] == "InProgress"
    wait_until(lambda: deployed(cf, dist_id), what="Deployed after create")

    current = cf.get_distribution_config(Id=dist_id)
    config = current["DistributionConfig"]
    config["Comment"] = "changed"
    updated = cf.update_distribution(Id=dist_id, IfMatch=current["ETag"], DistributionConfig=config)
    assert updated["Distribution"]["Status"] == "InProgress"
    assert updated["ETag"] != current["ETag"]
    wait_until(lambda: deployed(cf, dist_id), what="Deployed after update")
    assert cf.get_distribution_config(Id=dist_id)["DistributionConfig"]["Comment"] == "changed"


def test_etags_guard_every_update(control, aws):
    cf = aws("cloudfront")
    dist_id = cf.create_distribution(DistributionConfig=distribution_config())["Distribution"]["Id"]
    current = cf.get_distribution_config(Id=dist_id)
    config = current["DistributionConfig"]
    cf.update_distribution(Id=dist_id, IfMatch=current["ETag"], DistributionConfig=config)
    with pytest.raises(ClientError) as stale:
        cf.update_distribution(Id=dist_id, IfMatch=current["ETag"], DistributionConfig=config)
    assert code(stale) == "PreconditionFailed"
    assert stale.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    with pytest.raises(ClientError) as missing:
        cf.update_distribution(Id=dist_id, IfMatch="", DistributionConfig=config)
    assert code(missing) == "InvalidIfMatchVersion"
    fresh = cf.get_distribution_config(Id=dist_id)
    config["CallerReference"] = "another"
    with pytest.raises(ClientError) as illegal:
        cf.update_distribution(Id=dist_id, IfMatch=fresh["ETag"], DistributionConfig=config)
    assert code(illegal) == "IllegalUpdate"


def test_delete_is_refused_while_enabled_or_in_progress(control, aws):
    cf = aws("cloudfront")
    dist_id = cf.create_distribution(DistributionConfig=distribution_config())["Distribution"]["Id"]
    wait_until(lambda: deployed(cf, dist_id), what="Deployed")
    with pytest.raises(ClientError) as enabled:
        cf.delete_distribution(Id=dist_id, IfMatch=cf.get_distribution(Id=dist_id)["ETag"])
    assert code(enabled) == "DistributionNotDisabled"
    assert enabled.value.response["Error"]["Message"] == "The distribution you are trying to delete has not been disabled."

    current = cf.get_distribution_config(Id=dist_id)
    config = dict(current["DistributionConfig"], Enabled=False)
    disabled = cf.update_distribution(Id=dist_id, IfMatch=current["ETag"], DistributionConfig=config)
    with pytest.raises(ClientError) as in_progress:
        cf.delete_distribution(Id=dist_id, IfMatch=disabled["ETag"])
    assert code(in_progress) == "DistributionNotDisabled"

    wait_until(lambda: deployed(cf, dist_id), what="disable deployed")
    cf.delete_distribution(Id=dist_id, IfMatch=cf.get_distribution(Id=dist_id)["ETag"])
    with pytest.raises(ClientError) as gone:
        cf.get_distribution(Id=dist_id)
    assert code(gone) == "NoSuchDistribution"


def test_caller_reference_and_aliases_are_unique(control, aws):
    cf = aws("cloudfront")
    cf.create_distribution(DistributionConfig=distribution_config("ref-a", aliases=["img.example.com"]))
    with pytest.raises(ClientError) as again:
        cf.create_distribution(DistributionConfig=distribution_config("ref-a"))
    assert code(again) == "DistributionAlreadyExists"
    with pytest.raises(ClientError) as cname:
        cf.create_distribution(DistributionConfig=distribution_config("ref-b", aliases=["img.example.com"]))
    assert code(cname) == "CNAMEAlreadyExists"
    assert cf.list_distributions()["DistributionList"]["Quantity"] == 1


def test_a_caller_reference_is_spent_forever_even_after_the_delete(control, aws):
    cf = aws("cloudfront")
    dist = cf.create_distribution(DistributionConfig=distribution_config("ref-spent", enabled=False))["Distribution"]
    wait_until(lambda: deployed(cf, dist["Id"]), what="deployed")
    cf.delete_distribution(Id=dist["Id"], IfMatch=cf.get_distribution(Id=dist["Id"])["ETag"])
    with pytest.raises(ClientError) as again:
        cf.create_distribution(DistributionConfig=distribution_config("ref-spent"))
    assert code(again) == "DistributionAlreadyExists"
    assert again.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_tags_on_create_and_after(control, aws):
    cf = aws("cloudfront")
    dist = cf.create_distribution_with_tags(DistributionConfigWithTags={
        "DistributionConfig": distribution_config(),
        "Tags": {"Items": [{"Key": "ahi-edge:stack", "Value": "s1"}]},
    })["Distribution"]
    cf.tag_resource(Resource=dist["ARN"], Tags={"Items": [{"Key": "team", "Value": "imaging"}]})
    tags = cf.list_tags_for_resource(Resource=dist["ARN"])["Tags"]["Items"]
    assert {t["Key"]: t["Value"] for t in tags} == {"ahi-edge:stack": "s1", "team": "imaging"}
    cf.untag_resource(Resource=dist["ARN"], TagKeys={"Items": ["team"]})
    assert len(cf.list_tags_for_resource(Resource=dist["ARN"])["Tags"]["Items"]) == 1


@pytest.mark.parametrize("kind", ["cache", "origin_request", "response_headers"])
def test_policies_crud_with_etags_and_in_use_rule(control, aws, kind):
    cf = aws("cloudfront")
    entity = {"cache": "CachePolicy", "origin_request": "OriginRequestPolicy",
              "response_headers": "ResponseHeadersPolicy"}[kind]
    config = {
        "cache": {"Name": "p1", "MinTTL": 0, "DefaultTTL": 86400, "MaxTTL": 31536000,
                  "ParametersInCacheKeyAndForwardedToOrigin": {
                      "EnableAcceptEncodingGzip": True, "EnableAcceptEncodingBrotli": True,
                      "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": {"Quantity": 1, "Items": ["authorization"]}},
                      "CookiesConfig": {"CookieBehavior": "none"},
                      "QueryStringsConfig": {"QueryStringBehavior": "all"}}},
        "origin_request": {"Name": "p1", "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": {
            "Quantity": 3, "Items": ["Origin", "Access-Control-Request-Headers", "Access-Control-Request-Method"]}},
            "CookiesConfig": {"CookieBehavior": "none"}, "QueryStringsConfig": {"QueryStringBehavior": "all"}},
        "response_headers": {"Name": "p1", "SecurityHeadersConfig": {
            "ContentTypeOptions": {"Override": True}}},
    }[kind]
    create = getattr(cf, f"create_{kind}_policy")
    created = create(**{f"{entity}Config": config})
    policy_id = created[entity]["Id"]
    with pytest.raises(ClientError) as duplicate:
        create(**{f"{entity}Config": config})
    assert code(duplicate) == f"{entity}AlreadyExists"

    got = getattr(cf, f"get_{kind}_policy_config")(Id=policy_id)
    assert got[f"{entity}Config"]["Name"] == "p1"
    assert got["ETag"] == created["ETag"]
    renamed = dict(config, Name="p2")
    with pytest.raises(ClientError) as stale:
        getattr(cf, f"update_{kind}_policy")(Id=policy_id, IfMatch="stale", **{f"{entity}Config": renamed})
    assert code(stale) == "PreconditionFailed"
    updated = getattr(cf, f"update_{kind}_policy")(Id=policy_id, IfMatch=got["ETag"], **{f"{entity}Config": renamed})
    assert getattr(cf, f"get_{kind}_policy")(Id=policy_id)[entity][f"{entity}Config"]["Name"] == "p2"
    listed = getattr(cf, f"list_{kind}_policies")(Type="custom")[f"{entity}List"]
    assert [s[entity]["Id"] for s in listed["Items"]] == [policy_id]

    dist_config = distribution_config()
    dist_config["DefaultCacheBehavior"][f"{entity}Id"] = policy_id
    if kind == "cache":
        for key in ("ForwardedValues", "MinTTL"):
            dist_config["DefaultCacheBehavior"].pop(key)
    dist = cf.create_distribution(DistributionConfig=dist_config)["Distribution"]
    with pytest.raises(ClientError) as in_use:
        getattr(cf, f"delete_{kind}_policy")(Id=policy_id, IfMatch=updated["ETag"])
    assert code(in_use) == f"{entity}InUse"

    wait_until(lambda: deployed(cf, dist["Id"]))
    current = cf.get_distribution_config(Id=dist["Id"])
    cf.update_distribution(Id=dist["Id"], IfMatch=current["ETag"], DistributionConfig=dict(current["DistributionConfig"], Enabled=False))
    wait_until(lambda: deployed(cf, dist["Id"]))
    cf.delete_distribution(Id=dist["Id"], IfMatch=cf.get_distribution(Id=dist["Id"])["ETag"])
    getattr(cf, f"delete_{kind}_policy")(Id=policy_id, IfMatch=updated["ETag"])
    with pytest.raises(ClientError) as gone:
        getattr(cf, f"get_{kind}_policy")(Id=policy_id)
    assert code(gone) == f"NoSuch{entity}"


def test_a_distribution_may_not_name_a_missing_policy(control, aws):
    config = distribution_config(cache_policy="00000000-0000-0000-0000-000000000000")
    with pytest.raises(ClientError) as missing:
        aws("cloudfront").create_distribution(DistributionConfig=config)
    assert code(missing) == "NoSuchCachePolicy"


def test_cloudfront_functions_lifecycle(control, aws):
    cf = aws("cloudfront")
    created = cf.create_function(Name="f1", FunctionConfig={"Comment": "c", "Runtime": "cloudfront-js-2.0"},
                                 FunctionCode=b"function handler(e) { return e.request; }")
    assert created["FunctionSummary"]["Status"] == "UNPUBLISHED"
    with pytest.raises(ClientError) as live:
        cf.describe_function(Name="f1", Stage="LIVE")
    assert code(live) == "NoSuchFunctionExists"
    updated = cf.update_function(Name="f1", IfMatch=created["ETag"], FunctionCode=b"function handler(e) { return e; }",
                                 FunctionConfig={"Comment": "c2", "Runtime": "cloudfront-js-2.0"})
    assert cf.get_function(Name="f1")["FunctionCode"].read() == b"function handler(e) { return e; }"
    with pytest.raises(ClientError) as stale:
        cf.publish_function(Name="f1", IfMatch=created["ETag"])
    assert code(stale) == "PreconditionFailed"
    published = cf.publish_function(Name="f1", IfMatch=updated["ETag"])
    assert published["FunctionSummary"]["FunctionMetadata"]["Stage"] == "LIVE"
    assert [f["Name"] for f in cf.list_functions(Stage="LIVE")["FunctionList"]["Items"]] == ["f1"]
    etag = cf.describe_function(Name="f1")["ETag"]
    cf.delete_function(Name="f1", IfMatch=etag)
    assert cf.list_functions()["FunctionList"]["Quantity"] == 0


@pytest.mark.parametrize("problem, expected", [
    ("region", "The function must be in region 'us-east-1'."),
    ("unqualified", "The function ARN must reference a specific function version. (The ARN must end with the version number.) ARN: "),
    ("latest", "The function ARN must reference a specific function version."),
    ("environment", "The function cannot have environment variables. Function: "),
    ("memory", "The function memory size is larger than the maximum allowed size"),
    ("timeout", "The function execution time is larger than the maximum allowed"),
])
def test_bad_lambda_associations_are_refused(control, aws, problem, expected):
    version = edge_function(aws, name=f"fn-{problem}",
                            **({"Environment": {"Variables": {"A": "1"}}} if problem == "environment" else {}),
                            **({"MemorySize": 256} if problem == "memory" else {}),
                            **({"Timeout": 10} if problem == "timeout" else {}))
    arn = {
        "region": version.replace("us-east-1", "eu-west-1"),
        "unqualified": version.rsplit(":", 1)[0],
        "latest": version.rsplit(":", 1)[0] + ":$LATEST",
    }.get(problem, version)
    with pytest.raises(ClientError) as refused:
        aws("cloudfront").create_distribution(DistributionConfig=distribution_config(lambda_arn=arn))
    assert code(refused) == "InvalidLambdaFunctionAssociation"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert expected in refused.value.response["Error"]["Message"]
