"""What a request is (service, region, operation) and how each AWS protocol
spells an error."""

import json
import re
import uuid
from urllib.parse import parse_qs

CREDENTIAL = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")

QUERY_SERVICES = {"ec2", "elasticloadbalancing", "iam", "sts", "autoscaling", "cloudformation"}
JSON_SERVICES = {"ecs", "secretsmanager", "logs", "acm", "ssm", "wafv2", "ecr", "cognito-idp", "servicequotas"}

# Lambda is REST-JSON: its operation comes from the method and path.
LAMBDA_ROUTES = [
    ("GET", r"^/2015-03-31/functions/?$", "ListFunctions"),
    ("POST", r"^/2015-03-31/functions/?$", "CreateFunction"),
    ("GET", r"^/2015-03-31/functions/[^/]+/?$", "GetFunction"),
    ("DELETE", r"^/2015-03-31/functions/[^/]+/?$", "DeleteFunction"),
    ("GET", r"^/2015-03-31/functions/[^/]+/configuration/?$", "GetFunctionConfiguration"),
    ("PUT", r"^/2015-03-31/functions/[^/]+/configuration/?$", "UpdateFunctionConfiguration"),
    ("PUT", r"^/2015-03-31/functions/[^/]+/code/?$", "UpdateFunctionCode"),
    ("POST", r"^/2015-03-31/functions/[^/]+/versions/?$", "PublishVersion"),
    ("GET", r"^/2015-03-31/functions/[^/]+/versions/?$", "ListVersionsByFunction"),
    ("GET", r"^/2017-03-31/tags/.+$", "ListTags"),
    ("POST", r"^/2017-03-31/tags/.+$", "TagResource"),
    ("DELETE", r"^/2017-03-31/tags/.+$", "UntagResource"),
    ("POST", r"^/2015-03-31/functions/[^/]+/invocations/?$", "Invoke"),
]

S3_SUBRESOURCES = {
    "policy": "BucketPolicy", "acl": "BucketAcl", "tagging": "BucketTagging",
    "encryption": "BucketEncryption", "ownershipControls": "BucketOwnershipControls",
    "publicAccessBlock": "PublicAccessBlock", "versioning": "BucketVersioning",
    "lifecycle": "BucketLifecycleConfiguration", "logging": "BucketLogging", "location": "BucketLocation",
}


class Call:
    """A parsed request: enough to log it, match faults and route it."""

    def __init__(self, environ, body):
        self.method = environ.get("REQUEST_METHOD", "GET")
        self.path = environ.get("PATH_INFO", "/")
        # As sent (percent-encoding kept): what a SigV4 signature covers.
        self.raw_path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or self.path
        self.raw_query = environ.get("QUERY_STRING", "")
        self.query = parse_qs(self.raw_query, keep_blank_values=True)
        self.headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        if "CONTENT_TYPE" in environ:
            self.headers["content-type"] = environ["CONTENT_TYPE"]
        self.body = body
        match = CREDENTIAL.search(self.headers.get("authorization", ""))
        self.region, self.service = (match.group(1), match.group(2)) if match else (None, None)
        self.operation = self._operation()

    def q(self, name):
        values = self.query.get(name)
        return values[0] if values else None

    def _operation(self):
        target = self.headers.get("x-amz-target")
        if target:
            return target.split(".")[-1]
        if self.service in QUERY_SERVICES:
            action = self.q("Action")
            if action is None and self.body:
                form = parse_qs(self.body.decode("utf-8", "replace"))
                action = (form.get("Action") or [None])[0]
            return action
        if self.service == "lambda":
            for method, pattern, name in LAMBDA_ROUTES:
                if self.method == method and re.match(pattern, self.path):
                    return name
            return None
        if self.service == "s3":
            return self._s3_operation()
        return None  # CloudFront names its own operations when it routes.

    def _s3_operation(self):
        parts = [p for p in self.path.split("/") if p]
        verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete", "HEAD": "Head", "POST": "Post"}[self.method]
        for key, name in S3_SUBRESOURCES.items():
            if key in self.query:
                return f"{verb}{name}"
        if self.method == "POST" and "delete" in self.query:
            return "DeleteObjects"
        if self.method == "GET" and "versions" in self.query:
            return "ListObjectVersions"
        if len(parts) <= 1:
            return {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket",
                    "GET": "ListObjects" if parts else "ListBuckets"}.get(self.method, f"{verb}Bucket")
        return f"{verb}Object"


def error(service, code, message, status):
    """(status line, headers, body) for an AWS error in the service's protocol."""
    request_id = str(uuid.uuid4())
    status_line = f"{status} {STATUS_TEXT.get(status, 'Error')}"
    if service in JSON_SERVICES:
        body = json.dumps({"__type": code, "message": message})
        return status_line, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id)], body
    if service == "medical-imaging":  # rest-json
        body = json.dumps({"message": message})
        return status_line, [("Content-Type", "application/json"), ("x-amzn-ErrorType", code),
                             ("x-amzn-RequestId", request_id)], body
    if service == "lambda":
        body = json.dumps({"Type": "User", "Message": message, "__type": code})
        return status_line, [("Content-Type", "application/json"), ("x-amzn-ErrorType", code),
                             ("x-amzn-RequestId", request_id)], body
    if service == "ec2":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code>"
                f"<Message>{escape(message)}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>")
        return status_line, [("Content-Type", "text/xml")], body
    if service == "s3":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code>"
                f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>")
        return status_line, [("Content-Type", "application/xml")], body
    namespace = ' xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"' if service == "cloudfront" else ""
    kind = "Sender" if status < 500 else "Receiver"
    body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><ErrorResponse{namespace}><Error><Type>{kind}</Type>"
            f"<Code>{code}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>")
    return status_line, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body


# How each protocol names throttling and a server-side failure.
def throttle_code(service):
    return {
        "ec2": "RequestLimitExceeded",
        "lambda": "TooManyRequestsException",
        "s3": "SlowDown",
        "cognito-idp": "TooManyRequestsException",
    }.get(service, "ThrottlingException" if service in JSON_SERVICES else "Throttling")


def throttle_status(service):
    return {"lambda": 429, "s3": 503}.get(service, 400)


def internal_code(service):
    return {"ec2": "InternalError", "s3": "InternalError", "lambda": "ServiceException", "ecr": "ServerException",
            "cognito-idp": "InternalErrorException"}.get(
        service, "InternalFailure" if service in JSON_SERVICES else "ServiceUnavailable")


STATUS_TEXT = {301: "Moved Permanently", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
               412: "Precondition Failed", 429: "Too Many Requests", 500: "Internal Server Error",
               503: "Service Unavailable"}


def escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
