"""S3 answers a bucket's requests in the bucket's region only.

moto serves every bucket whatever region a request is signed for. S3 does
not: a request for a bucket sent to (and signed for) another region's
endpoint answers 301 `PermanentRedirect`, "The bucket you are attempting to
access must be addressed using the specified endpoint. Please send all
future requests to this endpoint." with `<Bucket>` and `<Endpoint>`, and the
bucket's region in the `x-amz-bucket-region` header (S3 API Reference,
"Error responses": PermanentRedirect, 301 Moved Permanently; the header is
what the AWS SDKs read, e.g. the Ruby SDK's `Aws::S3::Errors::PermanentRedirect`).
A HEAD answers the status and header with no body, so HeadBucket is how a
client finds a bucket's region. The SDKs do not follow the redirect.

Exempt, as on S3: ListBuckets and CreateBucket (not a bucket's request) and
GetBucketLocation (answered for any bucket, which is its purpose).
"""

import uuid
from xml.sax.saxutils import escape

MESSAGE = ("The bucket you are attempting to access must be addressed using the specified endpoint. "
           "Please send all future requests to this endpoint.")
EXEMPT = {"ListBuckets", "CreateBucket", "GetBucketLocation"}


def redirect(call):
    """The 301 for a request signed for another region than its bucket's, or None."""
    if call.service != "s3" or not call.region or call.operation in EXEMPT:
        return None
    parts = [p for p in call.path.split("/") if p]
    if not parts:
        return None
    from moto.s3.models import s3_backends

    from .origins import find_bucket

    bucket, _ = find_bucket(s3_backends, parts[0])
    if bucket is None or bucket.region_name == call.region:
        return None
    return moved(bucket, head=call.method == "HEAD")


def moved(bucket, head=False):
    """S3's 301 for `bucket` asked in the wrong region (also what CloudFront
    passes on from an origin domain naming the wrong region)."""
    region = bucket.region_name
    headers = [("x-amz-bucket-region", region), ("Content-Type", "application/xml"),
               ("x-amz-request-id", uuid.uuid4().hex[:16].upper())]
    if head:
        return 301, headers + [("Content-Length", "0")], b""
    body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>PermanentRedirect</Code>"
            f"<Message>{MESSAGE}</Message><Bucket>{escape(bucket.name)}</Bucket>"
            f"<Endpoint>{escape(bucket.name)}.s3.{region}.amazonaws.com</Endpoint>"
            f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>").encode()
    return 301, headers + [("Content-Length", str(len(body)))], body
