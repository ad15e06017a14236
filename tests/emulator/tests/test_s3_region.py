"""S3 answers a bucket's requests only in its region
(tests/emulator/ahi_emulator/s3_region.py): elsewhere 301 PermanentRedirect
with the bucket's region in `x-amz-bucket-region`. Checked on the wire
(a SigV4-signed request, no redirect following) and with botocore, whose
S3 region redirector reads that header and retries in the right region."""

import http.client
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

MESSAGE = ("The bucket you are attempting to access must be addressed using the specified endpoint. "
           "Please send all future requests to this endpoint.")


@pytest.fixture
def buckets(control, aws):
    eu = aws("s3", region="eu-west-1")
    eu.create_bucket(Bucket="far-away", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    eu.put_object(Bucket="far-away", Key="a.txt", Body=b"a")
    return aws("s3"), eu


def signed(endpoint, method, path, region):
    """One S3 request signed for `region`, answered as sent (no redirects)."""
    request = AWSRequest(method=method, url=endpoint + path)
    S3SigV4Auth(Credentials("testing", "testing"), "s3", region).add_auth(request)
    url = urlsplit(endpoint)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    connection.request(method, path, headers=dict(request.headers.items()))
    answer = connection.getresponse()
    return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()


def test_a_request_signed_for_another_region_is_a_permanent_redirect_naming_the_region(buckets, endpoint):
    for method, path in (("GET", "/far-away/a.txt"), ("GET", "/far-away?policy"), ("PUT", "/far-away?policy")):
        status, headers, body = signed(endpoint, method, path, "us-east-1")
        assert (status, headers["x-amz-bucket-region"]) == (301, "eu-west-1"), (method, path)
        error = ET.fromstring(body)
        assert (error.findtext("Code"), error.findtext("Message")) == ("PermanentRedirect", MESSAGE)
        assert (error.findtext("Bucket"), error.findtext("Endpoint")) == (
            "far-away", "far-away.s3.eu-west-1.amazonaws.com")
    assert signed(endpoint, "GET", "/far-away/a.txt", "eu-west-1")[::2] == (200, b"a")


def test_head_bucket_tells_the_region_and_get_bucket_location_answers_anywhere(buckets, endpoint):
    status, headers, body = signed(endpoint, "HEAD", "/far-away", "us-east-1")
    assert (status, headers["x-amz-bucket-region"], body) == (301, "eu-west-1", b"")
    assert signed(endpoint, "GET", "/far-away?location", "us-east-1")[0] == 200
    assert signed(endpoint, "GET", "/", "us-west-2")[0] == 200  # ListBuckets


def test_botocore_follows_the_redirect_by_its_header(buckets, control):
    us, _ = buckets
    before = len(control.calls())
    assert us.get_object(Bucket="far-away", Key="a.txt")["Body"].read() == b"a"
    tried = [(c["region"], c["status"]) for c in control.calls()[before:] if c["operation"] == "GetObject"]
    assert tried == [("us-east-1", 301), ("eu-west-1", 200)]
