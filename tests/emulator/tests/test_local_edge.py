"""The local edge: viewer requests through the emulator's distributions,
checked with plain HTTP (and boto3 to set them up)."""

import datetime
import json
import time

import pytest
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from conftest import edge_function, new_vpc, wait_until, zip_bytes
from edge_support import (
    ALL_VIEWER, CACHING_DISABLED, CACHING_OPTIMIZED, Origin, behaviour, custom_origin, distribution, function, viewer,
)


@pytest.fixture
def origin():
    server = Origin()
    yield server
    server.close()


def seen_paths(origin):
    return [s["path"] for s in origin.seen]


# ---- addressing, behaviours, methods ------------------------------------------------

def test_behaviours_are_chosen_by_cloudfront_path_patterns_first_match_default_last(control, aws, endpoint, origin):
    cf = aws("cloudfront")
    origins = [custom_origin(name, origin.port, origin_path=f"/{name}") for name in ("api", "img", "case", "other")]
    ordered = [behaviour("api", "/api/*"), behaviour("img", "img/?.png"), behaviour("case", "/Case/*"),
               behaviour("other", "/api/v2/*")]
    dist = distribution(cf, origins, behaviour("other", cache_policy=CACHING_DISABLED), ordered)
    cases = {
        "/api/v2/x": "/api/api/v2/x",         # first match wins: /api/* is listed before /api/v2/*
        "/api/a/b/c": "/api/api/a/b/c",       # `*` crosses `/`
        "/api": "/other/api",                 # /api/* needs the slash
        "/img/1.png": "/img/img/1.png",       # `?` is one character
        "/img/12.png": "/other/img/12.png",
        "/case/x": "/other/case/x",           # case-sensitive
        "/Case/x?q=1": "/case/Case/x",        # the query is not matched (CachingOptimized forwards none)
    }
    for path, expected in cases.items():
        status, _, body = viewer(endpoint, dist["DomainName"], path)
        assert status == 200, path
        assert json.loads(body)["path"] == expected, path


def test_the_host_header_addresses_a_distribution_and_unknown_hosts_get_403(control, aws, endpoint, origin):
    cf = aws("cloudfront")
    dist = distribution(cf, [custom_origin("o", origin.port)], behaviour("o"))
    status, headers, _ = viewer(endpoint, dist["DomainName"], "/hello", by_host=True)
    assert status == 200
    assert headers["x-ahi-edge-viewer-protocol-policy"] == "redirect-to-https"
    assert headers["via"].endswith(".cloudfront.net (CloudFront)")
    status, _, _ = viewer(endpoint, "dnothere.cloudfront.net", "/hello", by_host=True)
    assert status == 403


def test_methods_a_behaviour_does_not_allow_are_403(control, aws, endpoint, origin):
    cf = aws("cloudfront")
    dist = distribution(cf, [custom_origin("o", origin.port)], behaviour("o"))
    status, _, body = viewer(endpoint, dist["DomainName"], "/x", method="POST", body=b"{}")
    assert status == 403
    assert b"not configured to allow the HTTP request method" in body
    assert origin.seen == []


# ---- custom origins ---------------------------------------------------------------------

def test_a_custom_origin_gets_its_path_headers_and_only_what_the_policies_forward(control, aws, endpoint, origin):
    cf = aws("cloudfront")
    dist = distribution(cf, [custom_origin("o", origin.port, "/base", {"X-Origin-Secret": "s3cret"})], behaviour("o"))
    status, _, _ = viewer(endpoint, dist["DomainName"], "/frames/1?a=1",
                          headers={"Authorization": "Bearer t", "X-Other": "v", "Cookie": "c=1"})
    assert status == 200
    arrived = origin.seen[0]
    assert arrived["path"] == "/base/frames/1"
    assert arrived["headers"]["X-Origin-Secret"] == "s3cret"
    assert arrived["headers"]["Host"] == "127.0.0.1"
    assert "Authorization" not in arrived["headers"] and "X-Other" not in arrived["headers"]
    assert "Cookie" not in arrived["headers"]


def test_an_all_viewer_origin_request_policy_forwards_headers_cookies_and_query(control, aws, endpoint, origin):
    cf = aws("cloudfront")
    dist = distribution(cf, [custom_origin("o", origin.port)],
                        behaviour("o", cache_policy=CACHING_DISABLED, OriginRequestPolicyId=ALL_VIEWER))
    viewer(endpoint, dist["DomainName"], "/x?a=1&b=2", headers={"X-Other": "v", "Cookie": "c=1"})
    arrived = origin.seen[0]
    assert arrived["path"] == "/x?a=1&b=2"
    assert arrived["headers"]["X-Other"] == "v"
    assert arrived["headers"]["Cookie"] == "c=1"
    assert arrived["headers"]["Host"] == dist["DomainName"]


def test_an_unreachable_origin_is_502_and_a_slow_one_504(control, aws, endpoint, origin):
    cf = aws("cloudfront")
    closed = Origin()
    closed_port = closed.port
    closed.close()

    def slow_answer():
        time.sleep(2)  # longer than the origin's 1 s read timeout: the behaviour under test
        return 200, {}, b"late"

    origin.answers["/slow"] = slow_answer
    dist = distribution(cf, [custom_origin("gone", closed_port), custom_origin("slow", origin.port, read_timeout=1)],
                        behaviour("gone", cache_policy=CACHING_DISABLED),
                        [behaviour("slow", "/slow", cache_policy=CACHING_DISABLED)])
    assert viewer(endpoint, dist["DomainName"], "/x")[0] == 502
    assert viewer(endpoint, dist["DomainName"], "/slow")[0] == 504


def test_an_origin_outside_this_machine_is_never_contacted(control, aws, endpoint):
    cf = aws("cloudfront")
    outside = custom_origin("o", 80)
    outside["DomainName"] = "api.example.com"
    dist = distribution(cf, [outside], behaviour("o"))
    status, _, body = viewer(endpoint, dist["DomainName"], "/x")
    assert status == 502
    assert b"no host outside this machine" in body


# ---- cache -----------------------------------------------------------------------------------

def test_the_cache_is_keyed_by_the_cache_policy_with_hits_and_age(control, aws, endpoint, origin):
    cf = aws("cloudfront")
    dist = distribution(cf, [custom_origin("o", origin.port)], behaviour("o"),
                        [behaviour("o", "/nocache/*", cache_policy=CACHING_DISABLED)])
    domain = dist["DomainName"]
    first = viewer(endpoint, domain, "/frame?x=1", headers={"Authorization": "Bearer a"})
    second = viewer(endpoint, domain, "/frame?x=2", headers={"Authorization": "Bearer b"})
    assert first[1]["x-cache"] == "Miss from cloudfront"
    assert second[1]["x-cache"] == "Hit from cloudfront"  # no header, no query in CachingOptimized's key
    assert "age" in second[1] and first[2] == second[2]
    assert len(origin.seen) == 1
    for _ in range(2):
        assert viewer(endpoint, domain, "/nocache/a")[1]["x-cache"] == "Miss from cloudfront"
    origin.answers["/private"] = (200, {"Cache-Control": "no-store"}, b"mine")
    custom = cf.create_cache_policy(CachePolicyConfig={
        "Name": "by-query", "MinTTL": 0, "DefaultTTL": 60, "MaxTTL": 3600,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": False, "HeadersConfig": {"HeaderBehavior": "none"},
            "CookiesConfig": {"CookieBehavior": "none"},
            "QueryStringsConfig": {"QueryStringBehavior": "whitelist", "QueryStrings": {"Quantity": 1, "Items": ["v"]}}}})
    keyed = distribution(cf, [custom_origin("o", origin.port)], behaviour("o", cache_policy=custom["CachePolicy"]["Id"]),
                         reference="edge-2")
    before = len(origin.seen)
    assert viewer(endpoint, keyed["DomainName"], "/m?v=1&junk=1")[1]["x-cache"] == "Miss from cloudfront"
    assert viewer(endpoint, keyed["DomainName"], "/m?v=1&junk=2")[1]["x-cache"] == "Hit from cloudfront"
    assert viewer(endpoint, keyed["DomainName"], "/m?v=2")[1]["x-cache"] == "Miss from cloudfront"
    assert origin.seen[before]["path"] == "/m?v=1"  # only the key's query strings reach the origin
    for _ in range(2):  # no-store with a minimum TTL of 0 is never cached
        assert viewer(endpoint, keyed["DomainName"], "/private")[1]["x-cache"] == "Miss from cloudfront"
    stats = control.call("GET", "/_ahi/edge/stats")
    assert stats["hits"] >= 2 and stats["origin_requests"] == len(origin.seen)


def test_concurrent_misses_for_one_key_are_collapsed_into_one_origin_request(control, aws, endpoint, origin):
    import concurrent.futures

    cf = aws("cloudfront")

    def slow_frame():
        time.sleep(0.5)  # the fetch stays in flight while the others arrive: what is under test
        return 200, {"Cache-Control": "max-age=3600"}, b"frame"

    origin.answers["/frame"] = slow_frame
    dist = distribution(cf, [custom_origin("o", origin.port)], behaviour("o"))
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: viewer(endpoint, dist["DomainName"], "/frame"), range(6)))
    assert [a[2] for a in answers] == [b"frame"] * 6
    assert sorted(a[1]["x-cache"] for a in answers).count("Miss from cloudfront") == 1
    assert len(origin.seen) == 1


# ---- functions -------------------------------------------------------------------------------

STRIP = """function handler(event) {
  var request = event.request;
  request.uri = request.uri.replace(/^\\/api/, '') || '/';
  return request;
}"""

SPA = """function handler(event) {
  var request = event.request;
  if (request.uri.indexOf('.') === -1) { request.uri = '/index.html'; }
  return request;
}"""

DENY = """function handler(event) {
  return { statusCode: 401, statusDescription: 'Unauthorized', headers: { 'x-by': { value: 'function' } } };
}"""


def test_viewer_request_cloudfront_functions_rewrite_and_answer(control, aws, endpoint, origin):
    cf = aws("cloudfront")
    associations = lambda arn: {"FunctionAssociations": {"Quantity": 1, "Items": [  # noqa: E731
        {"FunctionARN": arn, "EventType": "viewer-request"}]}}
    dist = distribution(cf, [custom_origin("o", origin.port)], behaviour("o", **associations(function(cf, "spa", SPA))),
                        [behaviour("o", "/api/*", **associations(function(cf, "strip", STRIP))),
                         behaviour("o", "/deny/*", **associations(function(cf, "deny", DENY)))])
    assert json.loads(viewer(endpoint, dist["DomainName"], "/api/users")[2])["path"] == "/users"
    assert json.loads(viewer(endpoint, dist["DomainName"], "/dashboard/42")[2])["path"] == "/index.html"
    assert json.loads(viewer(endpoint, dist["DomainName"], "/app.js")[2])["path"] == "/app.js"
    status, headers, _ = viewer(endpoint, dist["DomainName"], "/deny/x")
    assert (status, headers["x-by"]) == (401, "function")
    assert all(not p.startswith("/deny") for p in seen_paths(origin))


LAMBDA_AUTH = """exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const auth = request.headers.authorization;
  if (!auth || auth[0].value !== 'Bearer good') {
    return { status: '401', statusDescription: 'Unauthorized', headers: { 'www-authenticate': [{ key: 'WWW-Authenticate', value: 'Bearer' }] } };
  }
  delete request.headers.authorization;
  request.headers['x-verified'] = [{ key: 'X-Verified', value: 'yes' }];
  return request;
};"""


def test_lambda_edge_viewer_request_runs_the_deployed_version_under_node(control, aws, endpoint, origin):
    cf = aws("cloudfront")
    version = edge_function(aws, name="authz", Code={"ZipFile": zip_bytes(LAMBDA_AUTH)})
    dist = distribution(cf, [custom_origin("o", origin.port)], behaviour("o", cache_policy=CACHING_DISABLED,
                        OriginRequestPolicyId=ALL_VIEWER, LambdaFunctionAssociations={"Quantity": 1, "Items": [
                            {"LambdaFunctionARN": version, "EventType": "viewer-request", "IncludeBody": False}]}))
    status, headers, _ = viewer(endpoint, dist["DomainName"], "/x", headers={"Authorization": "Bearer bad"})
    assert (status, headers["www-authenticate"]) == (401, "Bearer")
    assert origin.seen == []
    assert viewer(endpoint, dist["DomainName"], "/x", headers={"Authorization": "Bearer good"})[0] == 200
    assert origin.seen[0]["headers"]["X-Verified"] == "yes"
    assert "Authorization" not in origin.seen[0]["headers"]


# ---- S3 origins ------------------------------------------------------------------------------

def oac_grant(bucket, dist_arn, actions=("s3:GetObject",)):
    statements = [{"Sid": "AllowCloudFront", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
                   "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
                   "Condition": {"StringEquals": {"AWS:SourceArn": dist_arn}}}]
    if "s3:ListBucket" in actions:
        statements.append(dict(statements[0], Sid="AllowCloudFrontList", Action="s3:ListBucket",
                               Resource=f"arn:aws:s3:::{bucket}"))
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def s3_distribution(cf, bucket, oac_id, reference):
    s3 = {"Id": "s3", "DomainName": f"{bucket}.s3.us-east-1.amazonaws.com",
          "S3OriginConfig": {"OriginAccessIdentity": ""}, "OriginAccessControlId": oac_id}
    return distribution(cf, [s3], behaviour("s3", cache_policy=CACHING_DISABLED), reference=reference)


def test_a_private_bucket_answers_only_its_own_distribution_through_oac(control, aws, endpoint):
    cf, s3 = aws("cloudfront"), aws("s3")
    s3.create_bucket(Bucket="private-site")
    s3.put_object(Bucket="private-site", Key="docs/a.txt", Body=b"secret bytes", ContentType="text/plain")
    oac_id = cf.create_origin_access_control(OriginAccessControlConfig={
        "Name": "site", "SigningProtocol": "sigv4", "SigningBehavior": "always",
        "OriginAccessControlOriginType": "s3"})["OriginAccessControl"]["Id"]
    ours = s3_distribution(cf, "private-site", oac_id, "ours")
    other = s3_distribution(cf, "private-site", oac_id, "other")
    status, _, body = viewer(endpoint, ours["DomainName"], "/docs/a.txt")
    assert (status, b"AccessDenied" in body) == (403, True)  # no grant yet

    s3.put_bucket_policy(Bucket="private-site", Policy=oac_grant("private-site", ours["ARN"]))
    status, headers, body = viewer(endpoint, ours["DomainName"], "/docs/a.txt")
    assert (status, body, headers["content-type"]) == (200, b"secret bytes", "text/plain")
    assert viewer(endpoint, other["DomainName"], "/docs/a.txt")[0] == 403  # the grant names our ARN only
    status, _, body = viewer(endpoint, ours["DomainName"], "/docs/missing.txt")
    assert status == 403 and b"AccessDenied" in body  # no ListBucket: a missing key looks forbidden

    s3.put_bucket_policy(Bucket="private-site", Policy=oac_grant("private-site", ours["ARN"], ("s3:ListBucket",)))
    status, _, body = viewer(endpoint, ours["DomainName"], "/docs/missing.txt")
    assert status == 404 and b"NoSuchKey" in body


def kms_grant(account, dist_arn):
    """The key policy statement CloudFront needs to read SSE-KMS objects
    (CloudFront Developer Guide, "Restrict access to an Amazon S3 origin"),
    reads only, beside the account's own administration."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "CloudFrontRead", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
         "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"AWS:SourceArn": dist_arn}}},
    ]})


def test_sse_kms_objects_need_the_keys_policy_and_never_read_with_the_aws_managed_key(control, aws, endpoint):
    cf, s3, kms = aws("cloudfront"), aws("s3"), aws("kms")
    key = kms.create_key()["KeyMetadata"]
    s3.create_bucket(Bucket="kms-site")
    s3.put_bucket_encryption(Bucket="kms-site", ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]}}]})
    s3.put_object(Bucket="kms-site", Key="a.txt", Body=b"encrypted bytes")
    head = s3.head_object(Bucket="kms-site", Key="a.txt")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key["Arn"])  # the bucket's default
    s3.put_object(Bucket="kms-site", Key="plain.txt", Body=b"sse-s3 bytes", ServerSideEncryption="AES256")
    oac_id = cf.create_origin_access_control(OriginAccessControlConfig={
        "Name": "kms", "SigningProtocol": "sigv4", "SigningBehavior": "always",
        "OriginAccessControlOriginType": "s3"})["OriginAccessControl"]["Id"]
    ours = s3_distribution(cf, "kms-site", oac_id, "kms-ours")
    other = s3_distribution(cf, "kms-site", oac_id, "kms-other")
    s3.put_bucket_policy(Bucket="kms-site", Policy=oac_grant("kms-site", ours["ARN"]))
    assert viewer(endpoint, ours["DomainName"], "/plain.txt")[2] == b"sse-s3 bytes"
    status, _, body = viewer(endpoint, ours["DomainName"], "/a.txt")
    assert (status, b"AccessDenied" in body) == (403, True)  # the key's default policy admits the account only

    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=kms_grant(key["AWSAccountId"], ours["ARN"]))
    assert viewer(endpoint, ours["DomainName"], "/a.txt")[:3:2] == (200, b"encrypted bytes")
    s3.put_bucket_policy(Bucket="kms-site", Policy=oac_grant("kms-site", other["ARN"]))
    assert viewer(endpoint, other["DomainName"], "/a.txt")[0] == 403  # the key names our distribution only

    s3.put_bucket_encryption(Bucket="kms-site", ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    s3.put_object(Bucket="kms-site", Key="managed.txt", Body=b"aws/s3 bytes")
    assert s3.head_object(Bucket="kms-site", Key="managed.txt")["ServerSideEncryption"] == "aws:kms"
    s3.put_bucket_policy(Bucket="kms-site", Policy=oac_grant("kms-site", ours["ARN"]))
    assert viewer(endpoint, ours["DomainName"], "/managed.txt")[0] == 403  # aws/s3: never through CloudFront


def test_a_bucket_without_oac_is_read_anonymously_only_when_public(control, aws, endpoint):
    cf, s3 = aws("cloudfront"), aws("s3")
    s3.create_bucket(Bucket="plain")
    s3.put_object(Bucket="plain", Key="a.txt", Body=b"a")
    dist = distribution(cf, [{"Id": "s3", "DomainName": "plain.s3.amazonaws.com",
                              "S3OriginConfig": {"OriginAccessIdentity": ""}}],
                        behaviour("s3", cache_policy=CACHING_DISABLED))
    assert viewer(endpoint, dist["DomainName"], "/a.txt")[0] == 403
    s3.put_bucket_policy(Bucket="plain", Policy=json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::plain/*"}]}))
    assert viewer(endpoint, dist["DomainName"], "/a.txt")[2] == b"a"


def test_a_website_endpoint_serves_index_and_error_documents_when_public(control, aws, endpoint):
    cf, s3 = aws("cloudfront"), aws("s3")
    s3.create_bucket(Bucket="thumbs")
    s3.put_object(Bucket="thumbs", Key="index.html", Body=b"<index>")
    s3.put_object(Bucket="thumbs", Key="sub/index.html", Body=b"<sub>")
    s3.put_object(Bucket="thumbs", Key="404.html", Body=b"<missing>")
    s3.put_bucket_website(Bucket="thumbs", WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "404.html"}})
    website = {"Id": "web", "DomainName": "thumbs.s3-website-us-east-1.amazonaws.com",
               "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}
    dist = distribution(cf, [website], behaviour("web", cache_policy=CACHING_DISABLED))
    assert viewer(endpoint, dist["DomainName"], "/")[0] == 403  # not public yet
    s3.put_bucket_policy(Bucket="thumbs", Policy=json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::thumbs/*"}]}))
    assert viewer(endpoint, dist["DomainName"], "/")[2] == b"<index>"
    assert viewer(endpoint, dist["DomainName"], "/sub/")[2] == b"<sub>"
    status, _, body = viewer(endpoint, dist["DomainName"], "/nothing.png")
    assert (status, body) == (404, b"<missing>")


def test_custom_error_responses_fetch_the_page_through_its_behaviour(control, aws, endpoint, origin):
    cf = aws("cloudfront")
    origin.answers["/missing"] = (404, {}, b"origin 404")
    origin.answers["/index.html"] = (200, {"Content-Type": "text/html"}, b"<spa>")
    dist = distribution(cf, [custom_origin("o", origin.port)], behaviour("o", cache_policy=CACHING_DISABLED),
                        CustomErrorResponses={"Quantity": 1, "Items": [
                            {"ErrorCode": 404, "ResponsePagePath": "/index.html", "ResponseCode": "200",
                             "ErrorCachingMinTTL": 0}]})
    assert viewer(endpoint, dist["DomainName"], "/missing")[:3:2] == (200, b"<spa>")


# ---- load balancers --------------------------------------------------------------------------

def test_an_alb_origin_applies_listener_rules_and_forwards_to_the_registered_target(control, aws, endpoint, origin):
    cf, elb, ec2 = aws("cloudfront"), aws("elbv2"), aws("ec2")
    vpc = new_vpc(ec2, "10.0.0.0/16")
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
               for i, z in ((1, "a"), (2, "b"))]
    lb = elb.create_load_balancer(Name="proxy", Subnets=subnets)["LoadBalancers"][0]
    wait_until(lambda: elb.describe_load_balancers(Names=["proxy"])["LoadBalancers"][0]["State"]["Code"] == "active",
               what="the load balancer active")
    group = elb.create_target_group(Name="tasks", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip")["TargetGroups"][0]
    listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "403", "ContentType": "text/plain",
                                                           "MessageBody": "denied"}}])["Listeners"][0]
    elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=1, Conditions=[
        {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Custom-Header", "Values": ["s3cret"]}}],
        Actions=[{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}])
    alb_origin = lambda secret: {  # noqa: E731
        "Id": "alb", "DomainName": lb["DNSName"],
        "CustomHeaders": {"Quantity": 1, "Items": [{"HeaderName": "X-Custom-Header", "HeaderValue": secret}]},
        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}
    good = distribution(cf, [alb_origin("s3cret")], behaviour("alb", cache_policy=CACHING_DISABLED), reference="good")
    wrong = distribution(cf, [alb_origin("guess")], behaviour("alb", cache_policy=CACHING_DISABLED), reference="wrong")
    assert viewer(endpoint, wrong["DomainName"], "/x")[:3:2] == (403, b"denied")
    assert viewer(endpoint, good["DomainName"], "/x")[0] == 503  # no target registered yet
    control.call("POST", "/_ahi/edge/targets", {"target_group_arn": group["TargetGroupArn"],
                                                "url": f"http://127.0.0.1:{origin.port}"})
    status, _, body = viewer(endpoint, good["DomainName"], "/healthcheck")
    assert (status, json.loads(body)["path"]) == (200, "/healthcheck")
    assert origin.seen[0]["headers"]["X-Custom-Header"] == "s3cret"


# ---- signed URLs and cookies -------------------------------------------------------------------

def key_pair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encoded = key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return key, encoded


def signer_for(key_id, key):
    return CloudFrontSigner(key_id, lambda message: key.sign(message, padding.PKCS1v15(), hashes.SHA1()))


@pytest.fixture
def signed_site(control, aws, origin):
    cf = aws("cloudfront")
    key, encoded = key_pair()
    key_id = cf.create_public_key(PublicKeyConfig={"CallerReference": "k", "Name": "k", "EncodedKey": encoded})["PublicKey"]["Id"]
    group = cf.create_key_group(KeyGroupConfig={"Name": "signers", "Items": [key_id]})["KeyGroup"]["Id"]
    dist = distribution(cf, [custom_origin("o", origin.port)], behaviour("o", cache_policy=CACHING_DISABLED),
                        [behaviour("o", "/storage/*", cache_policy=CACHING_DISABLED, TrustedKeyGroups={
                            "Enabled": True, "Quantity": 1, "Items": [group]})])
    return dist, key_id, key


def path_of(url):
    return url.split(".cloudfront.net", 1)[1]


def test_signed_urls_open_private_paths_and_everything_else_is_403(signed_site, endpoint, origin):
    dist, key_id, key = signed_site
    domain = dist["DomainName"]
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    url = signer_for(key_id, key).generate_presigned_url(f"https://{domain}/storage/a.txt", date_less_than=later)
    assert viewer(endpoint, domain, path_of(url))[0] == 200
    assert origin.seen[-1]["path"] == "/storage/a.txt"  # the signing parameters stay at the edge

    status, _, body = viewer(endpoint, domain, "/storage/a.txt")
    assert status == 403 and b"MissingKey" in body
    tampered = url.replace("/storage/a.txt", "/storage/b.txt")
    assert viewer(endpoint, domain, path_of(tampered))[0] == 403
    earlier = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
    expired = signer_for(key_id, key).generate_presigned_url(f"https://{domain}/storage/a.txt", date_less_than=earlier)
    status, _, body = viewer(endpoint, domain, path_of(expired))
    assert status == 403 and b"AccessDenied" in body
    other_key, _ = key_pair()
    wrong = signer_for(key_id, other_key).generate_presigned_url(f"https://{domain}/storage/a.txt", date_less_than=later)
    assert viewer(endpoint, domain, path_of(wrong))[0] == 403
    unknown = signer_for("KUNKNOWN", key).generate_presigned_url(f"https://{domain}/storage/a.txt", date_less_than=later)
    status, _, body = viewer(endpoint, domain, path_of(unknown))
    assert status == 403 and b"InvalidKey" in body
    assert viewer(endpoint, domain, "/public.txt")[0] == 200  # only the trusting behaviour asks


def signed_cookies(key_id, key, resource, ip_range):
    """The three CloudFront-* cookies for a custom policy, as botocore builds it."""
    signer = signer_for(key_id, key)
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    policy = signer.build_policy(resource, later, ip_address=ip_range).encode()
    signature = key.sign(policy, padding.PKCS1v15(), hashes.SHA1())
    return "; ".join([f"CloudFront-Policy={signer._url_b64encode(policy).decode()}",
                      f"CloudFront-Signature={signer._url_b64encode(signature).decode()}",
                      f"CloudFront-Key-Pair-Id={key_id}"])


def test_signed_cookies_with_a_custom_policy_open_a_prefix(signed_site, endpoint):
    dist, key_id, key = signed_site
    domain = dist["DomainName"]
    here = signed_cookies(key_id, key, f"https://{domain}/storage/*", "127.0.0.0/8")
    assert viewer(endpoint, domain, "/storage/x/y.txt", headers={"Cookie": here})[0] == 200
    elsewhere = signed_cookies(key_id, key, f"https://{domain}/storage/*", "192.0.2.0/24")
    assert viewer(endpoint, domain, "/storage/x/y.txt", headers={"Cookie": elsewhere})[0] == 403


# ---- response headers policies --------------------------------------------------------------------

def test_a_response_headers_policy_answers_cors_and_adds_security_headers(control, aws, endpoint, origin):
    cf = aws("cloudfront")
    policy = cf.create_response_headers_policy(ResponseHeadersPolicyConfig={
        "Name": "viewer-cors", "CorsConfig": {
            "AccessControlAllowOrigins": {"Quantity": 1, "Items": ["https://viewer.example"]},
            "AccessControlAllowHeaders": {"Quantity": 1, "Items": ["authorization"]},
            "AccessControlAllowMethods": {"Quantity": 3, "Items": ["GET", "HEAD", "OPTIONS"]},
            "AccessControlAllowCredentials": False, "AccessControlMaxAgeSec": 600, "OriginOverride": True},
        "SecurityHeadersConfig": {
            "ContentTypeOptions": {"Override": True},
            "StrictTransportSecurity": {"Override": True, "AccessControlMaxAgeSec": 31536000, "IncludeSubdomains": True}}})
    dist = distribution(cf, [custom_origin("o", origin.port)], behaviour(
        "o", cache_policy=CACHING_DISABLED, methods=("GET", "HEAD", "OPTIONS"),
        ResponseHeadersPolicyId=policy["ResponseHeadersPolicy"]["Id"]))
    _, headers, _ = viewer(endpoint, dist["DomainName"], "/f", headers={"Origin": "https://viewer.example"})
    assert headers["access-control-allow-origin"] == "https://viewer.example"
    assert "Origin" in headers["vary"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    _, headers, _ = viewer(endpoint, dist["DomainName"], "/f", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in headers
    _, headers, _ = viewer(endpoint, dist["DomainName"], "/f", method="OPTIONS", headers={
        "Origin": "https://viewer.example", "Access-Control-Request-Method": "GET"})
    assert headers["access-control-allow-methods"] == "GET, HEAD, OPTIONS"
    assert headers["access-control-allow-headers"] == "authorization"
    assert headers["access-control-max-age"] == "600"


def test_custom_headers_override_or_add_toward_viewers_while_the_cache_keeps_the_origins_ttl(
        control, aws, endpoint, origin):
    """A response headers policy's custom header with Override replaces the
    origin's header toward the viewer, hits included; without Override it is
    added only when the origin sent none. The cache's TTL still comes from
    the origin's Cache-Control (CloudFront Developer Guide, "Add or remove
    HTTP headers in CloudFront responses with a policy")."""
    cf = aws("cloudfront")
    policy = cf.create_response_headers_policy(ResponseHeadersPolicyConfig={
        "Name": "viewer-cache-control", "CustomHeadersConfig": {"Quantity": 2, "Items": [
            {"Header": "Cache-Control", "Value": "private, no-store", "Override": True},
            {"Header": "X-Served-By", "Value": "edge", "Override": False}]}})
    origin.answers["/frame"] = (200, {"Cache-Control": "public, max-age=31536000, immutable"}, b"pixels")
    origin.answers["/tagged"] = (200, {"Cache-Control": "public, max-age=60", "X-Served-By": "origin"}, b"t")
    dist = distribution(cf, [custom_origin("o", origin.port)], behaviour(
        "o", ResponseHeadersPolicyId=policy["ResponseHeadersPolicy"]["Id"]))
    domain = dist["DomainName"]
    answers = [viewer(endpoint, domain, "/frame") for _ in range(2)]
    assert [a[1]["x-cache"] for a in answers] == ["Miss from cloudfront", "Hit from cloudfront"]
    assert [a[1]["cache-control"] for a in answers] == ["private, no-store"] * 2
    assert [a[1]["x-served-by"] for a in answers] == ["edge"] * 2
    assert seen_paths(origin) == ["/frame"]  # cached by the origin's year, not the viewer's no-store
    tagged = viewer(endpoint, domain, "/tagged")[1]
    assert (tagged["x-served-by"], tagged["cache-control"]) == ("origin", "private, no-store")
    # One Cache-Control line toward the viewer, never the origin's as well.
    import http.client
    from urllib.parse import urlsplit
    parts = urlsplit(endpoint)
    c = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    c.request("GET", f"/_edge/{domain}/frame")
    r = c.getresponse()
    r.read()
    assert [v for k, v in r.getheaders() if k.lower() == "cache-control"] == ["private, no-store"]
    # A policy update reaches cached answers at once: the cache stored the origin's header.
    got = cf.get_response_headers_policy_config(Id=policy["ResponseHeadersPolicy"]["Id"])
    config = got["ResponseHeadersPolicyConfig"]
    config["CustomHeadersConfig"]["Items"][0]["Value"] = "private, max-age=60"
    cf.update_response_headers_policy(Id=policy["ResponseHeadersPolicy"]["Id"], IfMatch=got["ETag"],
                                      ResponseHeadersPolicyConfig=config)
    again = viewer(endpoint, domain, "/frame")[1]
    assert (again["x-cache"], again["cache-control"]) == ("Hit from cloudfront", "private, max-age=60")
    assert seen_paths(origin) == ["/frame", "/tagged"]


# ---- the real authorizer ---------------------------------------------------------------------------

AUTHORIZER = __import__("os").path.join(__import__("os").path.dirname(__file__), "..", "..", "..",
                                        "artifacts", "edge-authorizer", "dist", "index.js")


def cognito_user(aws):
    idp = aws("cognito-idp")
    pool = idp.create_user_pool(PoolName="viewers")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool, ClientName="viewer", ExplicitAuthFlows=[
        "ADMIN_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="reader", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="reader", Password="Passw0rd!Passw0rd", Permanent=True)
    token = idp.admin_initiate_auth(UserPoolId=pool, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": "reader", "PASSWORD": "Passw0rd!Passw0rd"})
    return pool, client_id, token["AuthenticationResult"]["AccessToken"]


def test_the_packaged_authorizer_checks_cognito_tokens_against_the_emulators_jwks(control, aws, endpoint, origin):
    import io
    import zipfile

    pool, client_id, token = cognito_user(aws)
    config = {"mode": "cognito_jwt", "userPoolId": pool, "clientIds": [client_id], "tokenUse": "access",
              "jwksUri": f"https://cognito-idp.us-east-1.amazonaws.com/{pool}/.well-known/jwks.json",
              "corsAllowOrigins": ["*"], "queryToken": False,
              # Every config.json ahi-edge writes holds the scope; without it the authorizer denies everything.
              "healthimaging": {"datastores": ["d" * 32], "operations": ["GetImageFrame"]}}
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as z:
        z.write(AUTHORIZER, "index.js")
        z.writestr("config.json", json.dumps(config))
    version = edge_function(aws, name="authorizer", Code={"ZipFile": package.getvalue()})
    cf = aws("cloudfront")
    dist = distribution(cf, [custom_origin("o", origin.port)], behaviour("o", cache_policy=CACHING_DISABLED,
                        LambdaFunctionAssociations={"Quantity": 1, "Items": [
                            {"LambdaFunctionARN": version, "EventType": "viewer-request", "IncludeBody": False}]}))
    status, headers, _ = viewer(endpoint, dist["DomainName"], "/frame")
    assert (status, headers["access-control-allow-origin"]) == (401, "*")
    assert viewer(endpoint, dist["DomainName"], "/frame", headers={"Authorization": f"Bearer {token}x"})[0] == 401
    status = viewer(endpoint, dist["DomainName"], "/frame", headers={"Authorization": f"Bearer {token}"})[0]
    assert status == 200, control.call("GET", "/_ahi/edge/logs")
    assert [s["path"] for s in origin.seen] == ["/frame"]


def test_s3_refuses_an_unsigned_read_unless_the_bucket_is_public(aws, endpoint):
    """Real S3 answers an anonymous GET with 403 unless a policy lets anyone
    read (and Block Public Access allows it); moto alone serves everything."""
    import urllib.error
    import urllib.request

    s3 = aws("s3")
    s3.create_bucket(Bucket="anon-private")
    s3.put_object(Bucket="anon-private", Key="a.txt", Body=b"secret")
    s3.create_bucket(Bucket="anon-public")
    s3.put_object(Bucket="anon-public", Key="a.txt", Body=b"open")
    s3.put_bucket_policy(Bucket="anon-public", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::anon-public/*"}]}))

    def status(bucket):
        try:
            return urllib.request.urlopen(f"{endpoint}/{bucket}/a.txt").status
        except urllib.error.HTTPError as e:
            return e.code

    assert status("anon-private") == 403
    assert status("anon-public") == 200
    assert s3.get_object(Bucket="anon-private", Key="a.txt")["Body"].read() == b"secret"  # signed: fine
