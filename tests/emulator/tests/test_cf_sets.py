"""Lists CloudFront treats as sets come back in another order than sent
(ahi_emulator/cf_sets.py), while ordered lists keep their order; and a
CloudFront Function's comment is at most 128 characters."""

import pytest
from botocore.exceptions import ClientError

from conftest import distribution_config
from test_cf_control import pem


def error(e):
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def origin(origin_id):
    return {"Id": origin_id, "DomainName": f"{origin_id}.example.com",
            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only",
                                   "OriginSslProtocols": {"Quantity": 2, "Items": ["TLSv1.2", "TLSv1.1"]}}}


def test_a_distributions_set_like_lists_come_back_reordered_and_its_behaviours_in_order(control, aws):
    cf = aws("cloudfront")
    keys = [cf.create_public_key(PublicKeyConfig={"CallerReference": f"k{i}", "Name": f"k{i}", "EncodedKey": pem()[1]})
            ["PublicKey"]["Id"] for i in range(2)]
    groups = [cf.create_key_group(KeyGroupConfig={"Name": f"g{i}", "Items": [keys[i]]})["KeyGroup"]["Id"]
              for i in range(2)]
    config = distribution_config(aliases=["a.example.com", "b.example.com"])
    config["Origins"] = {"Quantity": 3, "Items": [origin("o1"), origin("o2"), origin("o3")]}
    default = dict(config["DefaultCacheBehavior"], TargetOriginId="o1")
    default["TrustedKeyGroups"] = {"Enabled": True, "Quantity": 2, "Items": groups}
    config["DefaultCacheBehavior"] = default
    ordered = [dict(default, PathPattern=f"/p{i}/*", TargetOriginId=f"o{i}") for i in (1, 2, 3)]
    config["CacheBehaviors"] = {"Quantity": 3, "Items": ordered}
    created = cf.create_distribution(DistributionConfig=config)["Distribution"]

    for got in (cf.get_distribution_config(Id=created["Id"])["DistributionConfig"],
                cf.get_distribution(Id=created["Id"])["Distribution"]["DistributionConfig"]):
        assert got["Aliases"]["Items"] == ["b.example.com", "a.example.com"]
        assert [o["Id"] for o in got["Origins"]["Items"]] == ["o3", "o2", "o1"]
        assert got["Origins"]["Items"][0]["CustomOriginConfig"]["OriginSslProtocols"]["Items"] == ["TLSv1.1", "TLSv1.2"]
        methods = got["DefaultCacheBehavior"]["AllowedMethods"]
        assert methods["Items"] == ["DELETE", "POST", "PATCH", "PUT", "OPTIONS", "HEAD", "GET"]
        assert methods["CachedMethods"]["Items"] == ["HEAD", "GET"]
        assert got["DefaultCacheBehavior"]["TrustedKeyGroups"]["Items"] == groups[::-1]
        # Evaluated in order: never reordered.
        assert [b["PathPattern"] for b in got["CacheBehaviors"]["Items"]] == ["/p1/*", "/p2/*", "/p3/*"]
        # The same set, so the same distribution.
        assert sorted(o["Id"] for o in got["Origins"]["Items"]) == ["o1", "o2", "o3"]

    listed = cf.list_distributions()["DistributionList"]["Items"][0]
    assert [o["Id"] for o in listed["Origins"]["Items"]] == ["o3", "o2", "o1"]


def test_key_group_items_and_policy_name_lists_come_back_reordered(control, aws):
    cf = aws("cloudfront")
    keys = [cf.create_public_key(PublicKeyConfig={"CallerReference": f"k{i}", "Name": f"k{i}", "EncodedKey": pem()[1]})
            ["PublicKey"]["Id"] for i in range(3)]
    group = cf.create_key_group(KeyGroupConfig={"Name": "g", "Items": keys})["KeyGroup"]
    assert group["KeyGroupConfig"]["Items"] == keys[::-1]
    assert cf.get_key_group(Id=group["Id"])["KeyGroup"]["KeyGroupConfig"]["Items"] == keys[::-1]
    assert cf.get_key_group_config(Id=group["Id"])["KeyGroupConfig"]["Items"] == keys[::-1]

    names = {"Quantity": 2, "Items": ["a", "b"]}
    created = cf.create_cache_policy(CachePolicyConfig={
        "Name": "p", "MinTTL": 0, "DefaultTTL": 60, "MaxTTL": 60,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": True,
            "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": names},
            "CookiesConfig": {"CookieBehavior": "whitelist", "Cookies": names},
            "QueryStringsConfig": {"QueryStringBehavior": "whitelist", "QueryStrings": names}}})["CachePolicy"]
    got = cf.get_cache_policy_config(Id=created["Id"])["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
    assert got["HeadersConfig"]["Headers"]["Items"] == ["b", "a"]
    assert got["CookiesConfig"]["Cookies"]["Items"] == ["b", "a"]
    assert got["QueryStringsConfig"]["QueryStrings"]["Items"] == ["b", "a"]

    created = cf.create_origin_request_policy(OriginRequestPolicyConfig={
        "Name": "o", "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": names},
        "CookiesConfig": {"CookieBehavior": "none"}, "QueryStringsConfig": {"QueryStringBehavior": "all"}})
    got = cf.get_origin_request_policy(Id=created["OriginRequestPolicy"]["Id"])
    assert got["OriginRequestPolicy"]["OriginRequestPolicyConfig"]["HeadersConfig"]["Headers"]["Items"] == ["b", "a"]


@pytest.mark.parametrize("length, accepted", [(128, True), (129, False)])
def test_a_function_comment_is_at_most_128_characters(control, aws, length, accepted):
    cf = aws("cloudfront")
    code = b"function handler(e) { return e.request; }"

    def create(name, comment):
        return cf.create_function(Name=name, FunctionConfig={"Comment": comment, "Runtime": "cloudfront-js-2.0"},
                                  FunctionCode=code)

    if accepted:
        assert create("f", "c" * length)["FunctionSummary"]["FunctionConfig"]["Comment"] == "c" * length
        return
    with pytest.raises(ClientError) as refused:
        create("f", "c" * length)
    assert error(refused) == ("InvalidArgument", "The parameter Comment is longer than 128 characters.")
    assert not cf.list_functions()["FunctionList"].get("Items")
    etag = create("g", "short")["ETag"]
    with pytest.raises(ClientError) as refused:
        cf.update_function(Name="g", IfMatch=etag, FunctionCode=code,
                           FunctionConfig={"Comment": "c" * length, "Runtime": "cloudfront-js-2.0"})
    assert error(refused) == ("InvalidArgument", "The parameter Comment is longer than 128 characters.")
    assert cf.describe_function(Name="g")["FunctionSummary"]["FunctionConfig"]["Comment"] == "short"
