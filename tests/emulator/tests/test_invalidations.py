"""CloudFront invalidations: the API with AWS's rules and errors, the
modelled completion, and the local edge dropping what a completed
invalidation names (stale before, fresh after)."""

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import SCALE, wait_until
from edge_support import CACHING_OPTIMIZED, behaviour, distribution, viewer

INVALID_PATHS = "Your request contains one or more invalid invalidation paths."


def error(excinfo):
    return (excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"],
            excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"])


def batch(*paths, reference=None, quantity=None):
    return {"Paths": {"Quantity": len(paths) if quantity is None else quantity, "Items": list(paths)},
            "CallerReference": reference or str(uuid.uuid4())}


def invalidate(cf, dist_id, *paths, **kwargs):
    return cf.create_invalidation(DistributionId=dist_id, InvalidationBatch=batch(*paths, **kwargs))


def completed(cf, dist_id, invalidation_id):
    """Polls GetInvalidation until Completed (the emulator's clock makes it so)."""
    wait_until(lambda: cf.get_invalidation(DistributionId=dist_id, Id=invalidation_id)["Invalidation"]["Status"]
               == "Completed", what=f"invalidation {invalidation_id} Completed")


def website(aws, bucket="site", cache_policy=CACHING_OPTIMIZED, reference="site"):
    """A public bucket behind a distribution that caches it."""
    s3 = aws("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    origin = {"Id": "s3", "DomainName": f"{bucket}.s3.us-east-1.amazonaws.com",
              "S3OriginConfig": {"OriginAccessIdentity": ""}}
    return s3, distribution(aws("cloudfront"), [origin], behaviour("s3", cache_policy=cache_policy),
                            reference=reference)


def slow_invalidations(control):
    """Invalidations stay InProgress (10 s) until fast_invalidations(): the
    deadline is computed when asked, so lowering the delay completes them."""
    control.config(delays={"invalidation": 10 / SCALE})


def fast_invalidations(control):
    control.config(delays={"invalidation": 120})


# ---- the API -------------------------------------------------------------------------------

def test_an_invalidation_is_in_progress_then_completed(control, aws):
    cf = aws("cloudfront")
    dist = website(aws)[1]
    slow_invalidations(control)
    made = invalidate(cf, dist["Id"], "/index.html", "/assets/*", reference="deploy-1")
    inv = made["Invalidation"]
    assert made["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert made["Location"] == f"https://cloudfront.amazonaws.com/2020-05-31/distribution/{dist['Id']}/invalidation/" \
                               f"{inv['Id']}"
    assert inv["Status"] == "InProgress"
    assert inv["InvalidationBatch"] == {"Paths": {"Quantity": 2, "Items": ["/index.html", "/assets/*"]},
                                        "CallerReference": "deploy-1"}
    assert cf.get_distribution(Id=dist["Id"])["Distribution"]["InProgressInvalidationBatches"] == 1
    got = cf.get_invalidation(DistributionId=dist["Id"], Id=inv["Id"])["Invalidation"]
    assert (got["Status"], got["CreateTime"]) == ("InProgress", inv["CreateTime"])

    fast_invalidations(control)
    completed(cf, dist["Id"], inv["Id"])
    assert cf.get_distribution(Id=dist["Id"])["Distribution"]["InProgressInvalidationBatches"] == 0


def test_invalidations_are_listed_most_recent_first_in_pages(control, aws):
    cf = aws("cloudfront")
    dist = website(aws)[1]
    slow_invalidations(control)
    ids = [invalidate(cf, dist["Id"], f"/p{n}")["Invalidation"]["Id"] for n in range(3)]
    listed = cf.list_invalidations(DistributionId=dist["Id"])["InvalidationList"]
    assert [i["Id"] for i in listed["Items"]] == ids[::-1]
    assert {i["Status"] for i in listed["Items"]} == {"InProgress"}
    assert (listed["Quantity"], listed["IsTruncated"], listed["MaxItems"]) == (3, False, 100)
    first = cf.list_invalidations(DistributionId=dist["Id"], MaxItems="2")["InvalidationList"]
    assert ([i["Id"] for i in first["Items"]], first["IsTruncated"], first["NextMarker"]) == (ids[:0:-1], True, ids[1])
    rest = cf.list_invalidations(DistributionId=dist["Id"], MaxItems="2", Marker=first["NextMarker"])
    assert [i["Id"] for i in rest["InvalidationList"]["Items"]] == [ids[0]]
    assert rest["InvalidationList"]["IsTruncated"] is False
    fast_invalidations(control)
    for inv_id in ids:
        completed(cf, dist["Id"], inv_id)
    assert {i["Status"] for i in cf.list_invalidations(DistributionId=dist["Id"])["InvalidationList"]["Items"]} == {
        "Completed"}


def test_the_same_caller_reference_answers_the_same_invalidation_or_is_refused(control, aws):
    cf = aws("cloudfront")
    dist = website(aws)[1]
    first = invalidate(cf, dist["Id"], "/a", reference="ref")["Invalidation"]
    again = invalidate(cf, dist["Id"], "/a", reference="ref")["Invalidation"]
    assert again["Id"] == first["Id"]
    assert len(cf.list_invalidations(DistributionId=dist["Id"])["InvalidationList"]["Items"]) == 1
    with pytest.raises(ClientError) as e:
        invalidate(cf, dist["Id"], "/b", reference="ref")
    assert error(e) == ("InvalidArgument", "Your request contains a caller reference that was used for a previous "
                                           "invalidation batch for the same distribution.", 400)
    other = website(aws, bucket="other", reference="other")[1]
    assert invalidate(cf, other["Id"], "/b", reference="ref")["Invalidation"]["Id"] != first["Id"]


@pytest.mark.parametrize("path", ["index.html", "/a*b", "/*/x", "/a b", "/caf\u00e9", "/a\nb", "/" + "a" * 4000, ""])
def test_invalid_paths_are_refused(control, aws, path):
    cf = aws("cloudfront")
    dist = website(aws)[1]
    with pytest.raises(ClientError) as e:
        invalidate(cf, dist["Id"], "/fine", path)
    assert error(e) == ("InvalidArgument", INVALID_PATHS, 400)
    assert cf.list_invalidations(DistributionId=dist["Id"])["InvalidationList"]["Quantity"] == 0


def test_valid_paths_are_accepted(control, aws):
    cf = aws("cloudfront")
    dist = website(aws)[1]
    paths = ["/*", "/images/image*", "/a%20b.txt", "/images/image.jpg?parameter1=a", "/" + "a" * 3999]
    assert invalidate(cf, dist["Id"], *paths)["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == paths


def test_an_empty_batch_and_a_miscounted_one_are_refused(control, aws):
    cf = aws("cloudfront")
    dist = website(aws)[1]
    with pytest.raises(ClientError) as e:
        invalidate(cf, dist["Id"])
    assert error(e) == ("InvalidArgument", INVALID_PATHS, 400)
    with pytest.raises(ClientError) as e:
        invalidate(cf, dist["Id"], "/a", quantity=2)
    assert error(e) == ("InconsistentQuantities",
                        "The specified quantity of Paths (2) does not match the actual quantity supplied (1).", 400)


def test_unknown_distribution_and_invalidation(control, aws):
    cf = aws("cloudfront")
    for call in (lambda: invalidate(cf, "E000000000000", "/a"),
                 lambda: cf.list_invalidations(DistributionId="E000000000000"),
                 lambda: cf.get_invalidation(DistributionId="E000000000000", Id="I000")):
        with pytest.raises(ClientError) as e:
            call()
        assert error(e) == ("NoSuchDistribution", "The specified distribution does not exist.", 404)
    dist = website(aws)[1]
    other = website(aws, bucket="other", reference="other")[1]
    inv = invalidate(cf, other["Id"], "/a")["Invalidation"]["Id"]
    for dist_id, inv_id in ((dist["Id"], "INOTHERE"), (dist["Id"], inv)):  # another distribution's is not ours
        with pytest.raises(ClientError) as e:
            cf.get_invalidation(DistributionId=dist_id, Id=inv_id)
        assert error(e) == ("NoSuchInvalidation", "The specified invalidation does not exist.", 404)


def test_too_many_paths_in_progress(control, aws):
    assert {k: control.call("GET", "/_ahi/config")["quotas"][k] for k in (
        "invalidation_paths_in_progress", "wildcard_invalidations_in_progress")} == {
        "invalidation_paths_in_progress": 3000, "wildcard_invalidations_in_progress": 15}
    cf = aws("cloudfront")
    dist = website(aws)[1]
    other = website(aws, bucket="other", reference="other")[1]
    control.config(quotas={"invalidation_paths_in_progress": 3, "wildcard_invalidations_in_progress": 2})
    slow_invalidations(control)
    invalidate(cf, dist["Id"], "/a", "/b", "/x/*")
    with pytest.raises(ClientError) as e:
        invalidate(cf, dist["Id"], "/c", "/d")
    assert error(e) == ("TooManyInvalidationsInProgress", "Processing your request will cause you to exceed the "
                                                          "maximum number of in-progress invalidations.", 400)
    invalidate(cf, dist["Id"], "/c", "/y/*")  # files and wildcards are counted apart
    with pytest.raises(ClientError) as e:
        invalidate(cf, dist["Id"], "/z/*")
    assert error(e) == ("TooManyInvalidationsInProgress", "Processing your request will cause you to exceed the "
                                                          "maximum number of in-progress wildcard invalidations.", 400)
    invalidate(cf, other["Id"], "/a", "/b", "/c", "/1/*", "/2/*")  # per distribution
    with pytest.raises(ClientError) as e:
        invalidate(cf, other["Id"], *[f"/{n}" for n in range(3001)])
    assert error(e) == ("BatchTooLarge", "Invalidation batch specified is too large.", 413)
    fast_invalidations(control)  # once they complete, there is room again
    wait_until(lambda: cf.get_distribution(Id=dist["Id"])["Distribution"]["InProgressInvalidationBatches"] == 0,
               what="the invalidations to complete")
    invalidate(cf, dist["Id"], "/d", "/e", "/z/*")


# ---- the local edge ----------------------------------------------------------------------------

def test_the_edge_serves_stale_until_the_invalidation_completes_then_fresh(control, aws, endpoint):
    s3, dist = website(aws)
    cf = aws("cloudfront")
    domain = dist["DomainName"]
    s3.put_object(Bucket="site", Key="index.html", Body=b"v1")
    s3.put_object(Bucket="site", Key="app.js", Body=b"js1")
    assert viewer(endpoint, domain, "/index.html")[1]["x-cache"] == "Miss from cloudfront"
    assert viewer(endpoint, domain, "/app.js")[2] == b"js1"
    s3.put_object(Bucket="site", Key="index.html", Body=b"v2")
    s3.put_object(Bucket="site", Key="app.js", Body=b"js2")
    status, headers, body = viewer(endpoint, domain, "/index.html")
    assert (status, headers["x-cache"], body) == (200, "Hit from cloudfront", b"v1")  # stale: the source changed

    slow_invalidations(control)
    inv = invalidate(cf, dist["Id"], "/index.html")["Invalidation"]["Id"]
    assert viewer(endpoint, domain, "/index.html")[2] == b"v1"  # still stale while InProgress
    fast_invalidations(control)
    completed(cf, dist["Id"], inv)
    status, headers, body = viewer(endpoint, domain, "/index.html")
    assert (status, headers["x-cache"], body) == (200, "Miss from cloudfront", b"v2")
    assert viewer(endpoint, domain, "/index.html")[1]["x-cache"] == "Hit from cloudfront"
    assert viewer(endpoint, domain, "/app.js")[2] == b"js1"  # not named: still cached


def test_wildcards_match_prefixes_within_their_distribution_only(control, aws, endpoint):
    s3, dist = website(aws)
    other = website(aws, bucket="other", reference="other")[1]
    cf = aws("cloudfront")
    for key in ("docs/a.txt", "docs/b/c.txt", "docsearch.txt", "top.txt"):
        s3.put_object(Bucket="site", Key=key, Body=b"old")
    s3.put_object(Bucket="other", Key="docs/a.txt", Body=b"old")
    for path in ("/docs/a.txt", "/docs/b/c.txt", "/docsearch.txt", "/top.txt"):
        viewer(endpoint, dist["DomainName"], path)
    viewer(endpoint, other["DomainName"], "/docs/a.txt")
    completed(cf, dist["Id"], invalidate(cf, dist["Id"], "/docs/*")["Invalidation"]["Id"])
    results = {path: viewer(endpoint, dist["DomainName"], path)[1]["x-cache"]
               for path in ("/docs/a.txt", "/docs/b/c.txt", "/docsearch.txt", "/top.txt")}
    assert results == {"/docs/a.txt": "Miss from cloudfront", "/docs/b/c.txt": "Miss from cloudfront",
                       "/docsearch.txt": "Hit from cloudfront", "/top.txt": "Hit from cloudfront"}
    assert viewer(endpoint, other["DomainName"], "/docs/a.txt")[1]["x-cache"] == "Hit from cloudfront"
    completed(cf, dist["Id"], invalidate(cf, dist["Id"], "/*")["Invalidation"]["Id"])
    assert viewer(endpoint, dist["DomainName"], "/top.txt")[1]["x-cache"] == "Miss from cloudfront"


def test_paths_are_case_sensitive_and_url_encoded(control, aws, endpoint):
    s3, dist = website(aws)
    cf = aws("cloudfront")
    s3.put_object(Bucket="site", Key="a b.txt", Body=b"old")
    s3.put_object(Bucket="site", Key="Readme.txt", Body=b"old")
    viewer(endpoint, dist["DomainName"], "/a%20b.txt")
    viewer(endpoint, dist["DomainName"], "/Readme.txt")
    completed(cf, dist["Id"], invalidate(cf, dist["Id"], "/readme.txt", "/a%20b.txt")["Invalidation"]["Id"])
    assert viewer(endpoint, dist["DomainName"], "/a%20b.txt")[1]["x-cache"] == "Miss from cloudfront"
    assert viewer(endpoint, dist["DomainName"], "/Readme.txt")[1]["x-cache"] == "Hit from cloudfront"


def test_query_strings_in_the_cache_key_must_be_named_or_wildcarded(control, aws, endpoint):
    cf = aws("cloudfront")
    policy = cf.create_cache_policy(CachePolicyConfig={
        "Name": "by-query", "MinTTL": 0, "DefaultTTL": 3600, "MaxTTL": 3600,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": False, "HeadersConfig": {"HeaderBehavior": "none"},
            "CookiesConfig": {"CookieBehavior": "none"},
            "QueryStringsConfig": {"QueryStringBehavior": "whitelist",
                                   "QueryStrings": {"Quantity": 1, "Items": ["v"]}}}})["CachePolicy"]["Id"]
    s3, dist = website(aws, cache_policy=policy)
    s3.put_object(Bucket="site", Key="img.png", Body=b"old")
    domain = dist["DomainName"]
    for path in ("/img.png", "/img.png?v=1&junk=x", "/img.png?v=2"):
        viewer(endpoint, domain, path)
    # As AWS documents: "/img.png" is only the entry cached without a query string.
    completed(cf, dist["Id"], invalidate(cf, dist["Id"], "/img.png")["Invalidation"]["Id"])
    assert [viewer(endpoint, domain, p)[1]["x-cache"] for p in ("/img.png?v=1", "/img.png?v=2")] == [
        "Hit from cloudfront"] * 2
    # The key's query strings as sent (junk is not in the key), exactly.
    completed(cf, dist["Id"], invalidate(cf, dist["Id"], "/img.png?v=1")["Invalidation"]["Id"])
    assert viewer(endpoint, domain, "/img.png?v=1")[1]["x-cache"] == "Miss from cloudfront"
    assert viewer(endpoint, domain, "/img.png?v=2")[1]["x-cache"] == "Hit from cloudfront"
    # Or every variant with a trailing wildcard.
    completed(cf, dist["Id"], invalidate(cf, dist["Id"], "/img.png*")["Invalidation"]["Id"])
    assert viewer(endpoint, domain, "/img.png?v=2")[1]["x-cache"] == "Miss from cloudfront"


def test_invalidation_calls_are_in_the_call_log(control, aws):
    cf = aws("cloudfront")
    dist = website(aws)[1]
    control.call("DELETE", "/_ahi/calls")
    inv = invalidate(cf, dist["Id"], "/a")["Invalidation"]["Id"]
    cf.get_invalidation(DistributionId=dist["Id"], Id=inv)
    cf.list_invalidations(DistributionId=dist["Id"])
    assert [(c["operation"], c["status"]) for c in control.calls()] == [
        ("CreateInvalidation", 201), ("GetInvalidation", 200), ("ListInvalidations", 200)]
