"""CloudFront's control plane in depth: managed policies, Origin Access
Controls, CloudFront Functions (size, TestFunction), public keys and key
groups, and the distribution checks AWS makes, each with AWS's code."""

import json

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import distribution_config, edge_function

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"


def code_of(error):
    return error.value.response["Error"]["Code"]


def pem(bits=2048):
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key, key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def s3_origin_config(oac_id=None, reference="ref-s3"):
    config = distribution_config(reference=reference, cache_policy=CACHING_OPTIMIZED)
    origin = {"Id": "alb", "DomainName": "bucket.s3.us-east-1.amazonaws.com",
              "S3OriginConfig": {"OriginAccessIdentity": ""}}
    if oac_id:
        origin["OriginAccessControlId"] = oac_id
    config["Origins"] = {"Quantity": 1, "Items": [origin]}
    return config


def oac_config(name="site"):
    return {"Name": name, "SigningProtocol": "sigv4", "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3"}


# ---- managed policies ----------------------------------------------------------

@pytest.mark.parametrize("lister, list_key, expected", [
    ("list_cache_policies", "CachePolicyList", {
        "Managed-CachingOptimized", "Managed-CachingDisabled", "Managed-CachingOptimizedForUncompressedObjects"}),
    ("list_origin_request_policies", "OriginRequestPolicyList", {
        "Managed-AllViewer", "Managed-AllViewerExceptHostHeader", "Managed-CORS-S3Origin", "Managed-CORS-CustomOrigin"}),
    ("list_response_headers_policies", "ResponseHeadersPolicyList", {
        "Managed-SimpleCORS", "Managed-CORS-With-Preflight", "Managed-SecurityHeadersPolicy",
        "Managed-CORS-and-SecurityHeadersPolicy"}),
])
def test_managed_policies_are_listed_with_type_managed(control, aws, lister, list_key, expected):
    cf = aws("cloudfront")
    managed = getattr(cf, lister)(Type="managed")[list_key]["Items"]
    assert {item["Type"] for item in managed} == {"managed"}
    kind = list_key[:-4]
    names = {item[kind][f"{kind}Config"]["Name"] for item in managed}
    assert expected <= names
    assert getattr(cf, lister)(Type="custom")[list_key]["Quantity"] == 0


def test_a_distribution_may_name_a_managed_cache_policy_which_nobody_can_change(control, aws):
    cf = aws("cloudfront")
    created = cf.create_distribution(DistributionConfig=distribution_config(cache_policy=CACHING_OPTIMIZED))
    assert created["Distribution"]["DistributionConfig"]["DefaultCacheBehavior"]["CachePolicyId"] == CACHING_OPTIMIZED
    got = cf.get_cache_policy(Id=CACHING_OPTIMIZED)
    config = got["CachePolicy"]["CachePolicyConfig"]
    assert (config["MinTTL"], config["DefaultTTL"], config["MaxTTL"]) == (1, 86400, 31536000)
    with pytest.raises(ClientError) as e:
        cf.delete_cache_policy(Id=CACHING_OPTIMIZED, IfMatch=got["ETag"])
    assert code_of(e) == "IllegalDelete"


def test_custom_response_headers_policy_has_etags(control, aws):
    cf = aws("cloudfront")
    config = {"Name": "cors", "CorsConfig": {
        "AccessControlAllowOrigins": {"Quantity": 1, "Items": ["https://viewer.example"]},
        "AccessControlAllowHeaders": {"Quantity": 1, "Items": ["authorization"]},
        "AccessControlAllowMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
        "AccessControlAllowCredentials": False, "OriginOverride": True}}
    created = cf.create_response_headers_policy(ResponseHeadersPolicyConfig=config)
    policy_id = created["ResponseHeadersPolicy"]["Id"]
    with pytest.raises(ClientError) as e:
        cf.update_response_headers_policy(Id=policy_id, IfMatch="stale", ResponseHeadersPolicyConfig=config)
    assert code_of(e) == "PreconditionFailed"
    updated = cf.update_response_headers_policy(Id=policy_id, IfMatch=created["ETag"], ResponseHeadersPolicyConfig=config)
    assert updated["ETag"] != created["ETag"]


# ---- Origin Access Control ----------------------------------------------------------

def test_origin_access_control_names_are_unique_and_in_use_blocks_delete(control, aws):
    cf = aws("cloudfront")
    created = cf.create_origin_access_control(OriginAccessControlConfig=oac_config())
    oac_id = created["OriginAccessControl"]["Id"]
    with pytest.raises(ClientError) as e:
        cf.create_origin_access_control(OriginAccessControlConfig=oac_config())
    assert code_of(e) == "OriginAccessControlAlreadyExists"
    dist = cf.create_distribution(DistributionConfig=s3_origin_config(oac_id))["Distribution"]
    etag = cf.get_origin_access_control(Id=oac_id)["ETag"]
    assert etag == created["ETag"]
    with pytest.raises(ClientError) as e:
        cf.delete_origin_access_control(Id=oac_id, IfMatch=etag)
    assert code_of(e) == "OriginAccessControlInUse"
    assert "still being used" in e.value.response["Error"]["Message"]
    listed = cf.list_origin_access_controls()["OriginAccessControlList"]["Items"]
    assert [o["Id"] for o in listed] == [oac_id]
    inventory = {(r["type"], r["id"]) for r in control.resources()}
    assert ("OriginAccessControl", oac_id) in inventory and ("distribution", dist["Id"]) in inventory


def test_a_distribution_naming_an_unknown_oac_or_both_oac_and_oai_is_refused(control, aws):
    cf = aws("cloudfront")
    with pytest.raises(ClientError) as e:
        cf.create_distribution(DistributionConfig=s3_origin_config("E000000000000"))
    assert code_of(e) == "NoSuchOriginAccessControl"
    oac_id = cf.create_origin_access_control(OriginAccessControlConfig=oac_config())["OriginAccessControl"]["Id"]
    config = s3_origin_config(oac_id, reference="ref-2")
    config["Origins"]["Items"][0]["S3OriginConfig"]["OriginAccessIdentity"] = "origin-access-identity/cloudfront/E1"
    with pytest.raises(ClientError) as e:
        cf.create_distribution(DistributionConfig=config)
    assert code_of(e) == "IllegalOriginAccessConfiguration"


def test_a_distribution_naming_a_vpc_origin_that_does_not_exist_is_refused(control, aws):
    config = distribution_config()
    origin = config["Origins"]["Items"][0]
    origin.pop("CustomOriginConfig")
    origin["VpcOriginConfig"] = {"VpcOriginId": "vo_missing"}
    with pytest.raises(ClientError) as e:
        aws("cloudfront").create_distribution(DistributionConfig=config)
    assert code_of(e) == "EntityNotFound"


# ---- distribution rules ---------------------------------------------------------------

def test_behaviours_and_origins_over_the_quotas_are_refused(control, aws):
    cf = aws("cloudfront")
    config = distribution_config(cache_policy=CACHING_OPTIMIZED)
    behaviour = dict(config["DefaultCacheBehavior"])
    config["CacheBehaviors"] = {"Quantity": 76, "Items": [dict(behaviour, PathPattern=f"/p{i}/*") for i in range(76)]}
    with pytest.raises(ClientError) as e:
        cf.create_distribution(DistributionConfig=config)
    assert code_of(e) == "TooManyCacheBehaviors"
    control.config(quotas={"origins": 1})
    config = distribution_config(reference="ref-2", cache_policy=CACHING_OPTIMIZED)
    second = dict(config["Origins"]["Items"][0], Id="second")
    config["Origins"] = {"Quantity": 2, "Items": [config["Origins"]["Items"][0], second]}
    with pytest.raises(ClientError) as e:
        cf.create_distribution(DistributionConfig=config)
    assert code_of(e) == "TooManyOrigins"


def test_a_behaviour_naming_a_missing_origin_is_refused(control, aws):
    config = distribution_config(cache_policy=CACHING_OPTIMIZED)
    config["DefaultCacheBehavior"]["TargetOriginId"] = "nowhere"
    with pytest.raises(ClientError) as e:
        aws("cloudfront").create_distribution(DistributionConfig=config)
    assert code_of(e) == "NoSuchOrigin"


def published_function(cf, name="fn", code=b"function handler(e) { return e.request; }"):
    created = cf.create_function(Name=name, FunctionConfig={"Comment": "c", "Runtime": "cloudfront-js-2.0"},
                                 FunctionCode=code)
    cf.publish_function(Name=name, IfMatch=created["ETag"])
    return created["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]


def test_two_functions_on_one_event_or_a_function_beside_lambda_edge_on_viewer_events_are_refused(control, aws):
    cf = aws("cloudfront")
    first, second = published_function(cf, "one"), published_function(cf, "two")
    config = distribution_config(cache_policy=CACHING_OPTIMIZED)
    config["DefaultCacheBehavior"]["FunctionAssociations"] = {"Quantity": 2, "Items": [
        {"FunctionARN": first, "EventType": "viewer-request"}, {"FunctionARN": second, "EventType": "viewer-request"}]}
    with pytest.raises(ClientError) as e:
        cf.create_distribution(DistributionConfig=config)
    assert code_of(e) == "InvalidFunctionAssociation"

    version = edge_function(aws)
    config = distribution_config(reference="ref-2", cache_policy=CACHING_OPTIMIZED, lambda_arn=version)
    config["DefaultCacheBehavior"]["FunctionAssociations"] = {"Quantity": 1, "Items": [
        {"FunctionARN": first, "EventType": "viewer-response"}]}
    with pytest.raises(ClientError) as e:
        cf.create_distribution(DistributionConfig=config)
    assert code_of(e) == "InvalidFunctionAssociation"


def test_an_unpublished_function_cannot_be_associated(control, aws):
    cf = aws("cloudfront")
    created = cf.create_function(Name="draft", FunctionConfig={"Comment": "c", "Runtime": "cloudfront-js-2.0"},
                                 FunctionCode=b"function handler(e) { return e.request; }")
    config = distribution_config(cache_policy=CACHING_OPTIMIZED)
    config["DefaultCacheBehavior"]["FunctionAssociations"] = {"Quantity": 1, "Items": [
        {"FunctionARN": created["FunctionSummary"]["FunctionMetadata"]["FunctionARN"], "EventType": "viewer-request"}]}
    with pytest.raises(ClientError) as e:
        cf.create_distribution(DistributionConfig=config)
    assert code_of(e) == "InvalidFunctionAssociation"


# ---- CloudFront Functions ----------------------------------------------------------------

def test_a_function_over_10_kb_is_refused(control, aws):
    cf = aws("cloudfront")
    code = b"function handler(e) { return e.request; }\n//" + b"x" * 12 * 1024
    with pytest.raises(ClientError) as e:
        cf.create_function(Name="big", FunctionConfig={"Comment": "c", "Runtime": "cloudfront-js-2.0"},
                           FunctionCode=code)
    assert code_of(e) == "FunctionSizeLimitExceeded"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    with pytest.raises(ClientError) as e:
        cf.create_function(Name="old", FunctionConfig={"Comment": "c", "Runtime": "nodejs20.x"}, FunctionCode=b"x")
    assert code_of(e) == "InvalidArgument"


def test_test_function_runs_the_code_under_node(control, aws):
    cf = aws("cloudfront")
    code = (b"function handler(event) { var r = event.request; console.log('was ' + r.uri);"
            b" r.uri = r.uri.replace(/^\\/api/, ''); r.headers['x-seen'] = {value: 'yes'}; return r; }")
    created = cf.create_function(Name="strip", FunctionConfig={"Comment": "c", "Runtime": "cloudfront-js-2.0"},
                                 FunctionCode=code)
    event = {"version": "1.0", "context": {"eventType": "viewer-request"}, "viewer": {"ip": "192.0.2.1"},
             "request": {"method": "GET", "uri": "/api/users", "querystring": {}, "headers": {}, "cookies": {}}}
    result = cf.test_function(Name="strip", IfMatch=created["ETag"], EventObject=json.dumps(event).encode())["TestResult"]
    output = json.loads(result["FunctionOutput"])
    assert output["request"]["uri"] == "/users"
    assert output["request"]["headers"]["x-seen"] == {"value": "yes"}
    assert result["FunctionExecutionLogs"] == ["was /api/users"]
    assert result["FunctionErrorMessage"] == ""

    broken = cf.update_function(Name="strip", IfMatch=created["ETag"], FunctionCode=b"function handler(e) { throw new Error('boom'); }",
                                FunctionConfig={"Comment": "c", "Runtime": "cloudfront-js-2.0"})
    result = cf.test_function(Name="strip", IfMatch=broken["ETag"], EventObject=json.dumps(event).encode())["TestResult"]
    assert "boom" in result["FunctionErrorMessage"]


def test_a_function_in_use_cannot_be_deleted(control, aws):
    cf = aws("cloudfront")
    arn = published_function(cf)
    config = distribution_config(cache_policy=CACHING_OPTIMIZED)
    config["DefaultCacheBehavior"]["FunctionAssociations"] = {"Quantity": 1, "Items": [
        {"FunctionARN": arn, "EventType": "viewer-request"}]}
    cf.create_distribution(DistributionConfig=config)
    with pytest.raises(ClientError) as e:
        cf.delete_function(Name="fn", IfMatch=cf.describe_function(Name="fn")["ETag"])
    assert code_of(e) == "FunctionInUse"


# ---- public keys and key groups ------------------------------------------------------------

def test_public_keys_are_immutable_but_for_the_comment(control, aws):
    cf = aws("cloudfront")
    _, encoded = pem()
    config = {"CallerReference": "k1", "Name": "signer-1", "EncodedKey": encoded, "Comment": "first"}
    created = cf.create_public_key(PublicKeyConfig=config)
    key_id = created["PublicKey"]["Id"]
    updated = cf.update_public_key(Id=key_id, IfMatch=created["ETag"], PublicKeyConfig=dict(config, Comment="second"))
    assert updated["PublicKey"]["PublicKeyConfig"]["Comment"] == "second"
    _, other = pem()
    with pytest.raises(ClientError) as e:
        cf.update_public_key(Id=key_id, IfMatch=updated["ETag"], PublicKeyConfig=dict(config, EncodedKey=other))
    assert code_of(e) == "CannotChangeImmutablePublicKeyFields"
    with pytest.raises(ClientError) as e:
        cf.create_public_key(PublicKeyConfig=dict(config, CallerReference="k2", EncodedKey="not a key"))
    assert code_of(e) == "InvalidArgument"
    _, short = pem(1024)
    with pytest.raises(ClientError) as e:
        cf.create_public_key(PublicKeyConfig=dict(config, CallerReference="k3", Name="short", EncodedKey=short))
    assert code_of(e) == "InvalidArgument"


def test_a_public_keys_caller_reference_is_spent_even_after_its_delete(control, aws):
    cf = aws("cloudfront")
    config = {"CallerReference": "ref-1", "Name": "signer-a", "EncodedKey": pem()[1]}
    created = cf.create_public_key(PublicKeyConfig=config)
    with pytest.raises(ClientError) as e:
        cf.create_public_key(PublicKeyConfig=dict(config, Name="signer-b"))
    assert code_of(e) == "PublicKeyAlreadyExists"
    cf.delete_public_key(Id=created["PublicKey"]["Id"], IfMatch=created["ETag"])
    # The same name is free again; the reference is not.
    with pytest.raises(ClientError) as e:
        cf.create_public_key(PublicKeyConfig=config)
    assert code_of(e) == "PublicKeyAlreadyExists"
    assert cf.create_public_key(PublicKeyConfig=dict(config, CallerReference="ref-2"))["PublicKey"]["Id"]


def test_key_groups_update_delete_and_the_in_use_rules(control, aws):
    cf = aws("cloudfront")
    keys = [cf.create_public_key(PublicKeyConfig={"CallerReference": f"k{i}", "Name": f"key-{i}",
                                                  "EncodedKey": pem()[1]})["PublicKey"]["Id"] for i in range(2)]
    group = cf.create_key_group(KeyGroupConfig={"Name": "signers", "Items": keys[:1]})
    group_id = group["KeyGroup"]["Id"]
    with pytest.raises(ClientError) as e:
        cf.delete_public_key(Id=keys[0], IfMatch=cf.get_public_key(Id=keys[0])["ETag"])
    assert code_of(e) == "PublicKeyInUse"
    rotated = cf.update_key_group(Id=group_id, IfMatch=group["ETag"], KeyGroupConfig={"Name": "signers", "Items": keys})
    # A set: answered in another order (cf_sets.py).
    assert sorted(rotated["KeyGroup"]["KeyGroupConfig"]["Items"]) == sorted(keys)
    control.config(quotas={"public_keys_per_key_group": 1})
    with pytest.raises(ClientError) as e:
        cf.update_key_group(Id=group_id, IfMatch=rotated["ETag"], KeyGroupConfig={"Name": "signers", "Items": keys})
    assert code_of(e) == "TooManyPublicKeysInKeyGroup"

    config = distribution_config(cache_policy=CACHING_OPTIMIZED)
    config["DefaultCacheBehavior"]["TrustedKeyGroups"] = {"Enabled": True, "Quantity": 1, "Items": ["missing-group"]}
    with pytest.raises(ClientError) as e:
        cf.create_distribution(DistributionConfig=config)
    assert code_of(e) == "TrustedKeyGroupDoesNotExist"
    config["DefaultCacheBehavior"]["TrustedKeyGroups"]["Items"] = [group_id]
    cf.create_distribution(DistributionConfig=config)
    with pytest.raises(ClientError) as e:
        cf.delete_key_group(Id=group_id, IfMatch=rotated["ETag"])
    assert code_of(e) == "ResourceInUse"
    kinds = {r["type"] for r in control.resources() if r["service"] == "cloudfront"}
    assert {"PublicKey", "KeyGroup", "distribution"} <= kinds


def test_inventory_lists_policies_and_functions(control, aws):
    cf = aws("cloudfront")
    published_function(cf)
    cf.create_origin_access_control(OriginAccessControlConfig=oac_config())
    kinds = {r["type"] for r in control.resources() if r["service"] == "cloudfront"}
    assert {"function", "OriginAccessControl"} <= kinds


def test_what_a_deleted_distribution_named_stays_in_use_until_cloudfront_releases_it(control, aws):
    """`distribution_release` (AWS documents no figure, so 0 unless a test
    sets it): after DeleteDistribution its OAC answers
    OriginAccessControlInUse for that long, then deletes."""
    from conftest import wait_until
    control.config(delays={"distribution_release": 1500})  # 3 s at the tests' scale
    cf = aws("cloudfront")
    oac_id = cf.create_origin_access_control(OriginAccessControlConfig=oac_config("released"))["OriginAccessControl"]["Id"]
    config = s3_origin_config(oac_id, reference="ref-released")
    config["Enabled"] = False
    dist = cf.create_distribution(DistributionConfig=config)["Distribution"]
    wait_until(lambda: cf.get_distribution(Id=dist["Id"])["Distribution"]["Status"] == "Deployed", what="deployed")
    cf.delete_distribution(Id=dist["Id"], IfMatch=cf.get_distribution(Id=dist["Id"])["ETag"])
    etag = cf.get_origin_access_control(Id=oac_id)["ETag"]
    with pytest.raises(ClientError) as held:
        cf.delete_origin_access_control(Id=oac_id, IfMatch=etag)
    assert code_of(held) == "OriginAccessControlInUse"

    def released():
        try:
            cf.delete_origin_access_control(Id=oac_id, IfMatch=etag)
            return True
        except ClientError as e:
            assert e.response["Error"]["Code"] == "OriginAccessControlInUse"
            return False
    wait_until(released, what="the OAC released")
