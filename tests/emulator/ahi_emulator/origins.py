"""The local edge's origins. Each fetch takes an origin request and returns
(status, headers, body):

- S3 REST buckets (`<bucket>.s3[.<region>].amazonaws.com`) from the
  emulator's own S3, as CloudFront's service principal when the origin has
  an Origin Access Control (authorized by the bucket policy, with
  `AWS:SourceArn`), else anonymously; a missing key is 403 `AccessDenied`
  unless the same principal may `s3:ListBucket`, then 404 `NoSuchKey`.
- S3 website endpoints (`<bucket>.s3-website[-.]<region>.amazonaws.com`):
  public read required, index and error documents.
- Application Load Balancers by DNS name: the listener on the origin's port
  and its rules (http-header, path-pattern, host-header conditions; fixed
  responses; forwards to the local target registered for the target group).
- Loopback hosts (127.0.0.1, localhost, and `*.localhost` names, which
  RFC 6761 reserves for loopback: tests give origins DNS names CloudFront
  accepts) over plain HTTP.
Anything else is a 502: the local edge never leaves this machine."""

import http.client
import json
import re
import socket
import xml.etree.ElementTree as ET
from urllib.parse import quote, unquote, urlsplit

from . import s3_kms, s3_region
from .xmlutil import text

S3_REST = re.compile(r"^(?P<bucket>[a-z0-9.-]+)\.s3(?:[.-](?P<region>[a-z0-9-]+))?\.amazonaws\.com$")
S3_WEBSITE = re.compile(r"^(?P<bucket>[a-z0-9.-]+)\.s3-website[.-](?P<region>[a-z0-9-]+)\.amazonaws\.com$")
LOOPBACK = {"127.0.0.1", "localhost"}


class OriginRequest:
    def __init__(self, method, path, query, headers, body, dist_arn, viewer_ip):
        self.method = method
        self.path = path  # origin path + URI, as sent
        self.query = query
        self.headers = headers  # list of (name, value)
        self.body = body
        self.dist_arn = dist_arn
        self.viewer_ip = viewer_ip

    def header(self, name):
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def target(self):
        return self.path + (f"?{self.query}" if self.query else "")


def s3_error(status, code, message):
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f"<RequestId>LOCALEDGE</RequestId></Error>").encode()
    return status, [("Content-Type", "application/xml"), ("Server", "AmazonS3")], body


def plain_error(status, message):
    return status, [("Content-Type", "text/plain")], message.encode()


class Origins:
    def __init__(self, emulator):
        self.emu = emulator
        self.targets = {}  # target group ARN -> base URL on loopback

    def reset(self):
        self.targets.clear()

    def fetch(self, origin, request, access):
        """origin: the distribution's <Origin> element; access: the OAC
        Entity or None."""
        domain = (text(origin, "DomainName") or "").lower()
        match = S3_WEBSITE.match(domain)
        if match:
            return self.s3_website(match["bucket"], request)
        match = S3_REST.match(domain)
        if match and origin.find("S3OriginConfig") is not None:
            return self.s3_rest(match["bucket"], request, access, match["region"])
        custom = origin.find("CustomOriginConfig")
        timeout = float(text(custom, "OriginReadTimeout", "30")) if custom is not None else 30.0
        balancer = self.load_balancer(domain)
        if balancer is not None:
            policy = text(custom, "OriginProtocolPolicy", "http-only") if custom is not None else "https-only"
            port = text(custom, "HTTPPort", "80") if policy == "http-only" else text(custom, "HTTPSPort", "443")
            return self.alb(balancer, int(port), request, timeout)
        if domain in LOOPBACK or domain.endswith(".localhost"):
            port = int(text(custom, "HTTPPort", "80")) if custom is not None else 80
            return forward(f"http://127.0.0.1:{port}", request, timeout)
        return plain_error(502, f"the local edge reaches no host outside this machine: {domain}")

    # ---- S3 ----------------------------------------------------------------

    def s3_rest(self, bucket_name, request, access, region=None):
        from moto.s3.models import s3_backends

        if request.method not in ("GET", "HEAD"):
            return s3_error(403, "AccessDenied", "Access Denied")
        bucket, backend = find_bucket(s3_backends, bucket_name)
        if bucket is None:
            return s3_error(404, "NoSuchBucket", "The specified bucket does not exist")
        if region is not None and region != bucket.region_name:
            # Another region's endpoint: S3's redirect, passed on to the viewer (s3_region.py).
            status, headers, body = s3_region.moved(bucket)
            return status, headers, body
        signed = access is not None and text(access.config, "SigningBehavior") != "never"
        principal = ("service", "cloudfront.amazonaws.com") if signed else ("anonymous", None)
        key_name = unquote(request.path.lstrip("/"))
        policy = policy_of(bucket)
        object_arn = f"arn:aws:s3:::{bucket_name}/{key_name}"
        blocked = principal[0] == "anonymous" and restricts_public(bucket)
        if blocked or not allowed(policy, principal, "s3:GetObject", object_arn, request.dist_arn):
            return s3_error(403, "AccessDenied", "Access Denied")
        key = bucket.keys.get(key_name) if key_name else None
        if key is None:
            if allowed(policy, principal, "s3:ListBucket", f"arn:aws:s3:::{bucket_name}", request.dist_arn):
                return s3_error(404, "NoSuchKey", "The specified key does not exist.")
            return s3_error(403, "AccessDenied", "Access Denied")
        # An SSE-KMS object needs the key's policy too (s3_kms.py).
        if not s3_kms.readable_by_cloudfront(
                key, bucket.region_name, backend.account_id, request.dist_arn if signed else None):
            return s3_error(403, "AccessDenied", "Access Denied")
        return object_answer(key, request.method)

    def s3_website(self, bucket_name, request):
        from moto.s3.models import s3_backends

        bucket, _ = find_bucket(s3_backends, bucket_name)
        if bucket is None:
            return plain_error(404, "404 Not Found: NoSuchBucket")
        if not bucket.website_configuration:
            return plain_error(404, "404 Not Found: NoSuchWebsiteConfiguration")
        config = ET.fromstring(re.sub(rb'\sxmlns="[^"]*"', b"", bucket.website_configuration, count=1))
        index = config.findtext("IndexDocument/Suffix") or "index.html"
        error_key = config.findtext("ErrorDocument/Key")
        key_name = unquote(request.path.lstrip("/"))
        if key_name == "" or key_name.endswith("/"):
            key_name += index
        policy = policy_of(bucket)

        def readable(name):
            return not restricts_public(bucket) and allowed(
                policy, ("anonymous", None), "s3:GetObject", f"arn:aws:s3:::{bucket_name}/{name}", None)

        key = bucket.keys.get(key_name)
        if key is not None and readable(key_name):
            return object_answer(key, request.method)
        status = 404 if key is None else 403
        if error_key and bucket.keys.get(error_key) is not None and readable(error_key):
            _, headers, body = object_answer(bucket.keys[error_key], request.method)
            return status, headers, body
        return plain_error(status, f"{status} {'Not Found' if status == 404 else 'Forbidden'}")

    # ---- Application Load Balancers --------------------------------------------

    def load_balancer(self, domain):
        from moto.elbv2.models import elbv2_backends

        for per_region in list(dict.values(elbv2_backends)):
            for backend in list(dict.values(per_region)):
                for lb in list(backend.load_balancers.values()):
                    if (lb.dns_name or "").lower() == domain:
                        return lb
        return None

    def alb(self, lb, port, request, timeout):
        state = getattr(lb, "state", "active")
        if state not in ("active", None):
            return plain_error(502, f"the load balancer {lb.name} is {state}: it accepts no connections yet")
        listener = next((li for li in lb.listeners.values() if int(li.port) == port), None)
        if listener is None:
            return plain_error(502, f"the load balancer {lb.name} has no listener on port {port}")
        rules = sorted(listener._non_default_rules.values(), key=lambda r: int(r.priority))
        for rule in rules:
            if all(condition_matches(c, request) for c in rule.conditions):
                return self.act(rule.actions, request, timeout)
        return self.act(listener.default_actions, request, timeout)

    def act(self, actions, request, timeout):
        for action in actions:
            data = action.data if hasattr(action, "data") else action
            kind = data.get("Type")
            if kind == "fixed-response":
                config = data.get("FixedResponseConfig", {})
                return (int(config.get("StatusCode", 503)), [("Content-Type", config.get("ContentType", "text/plain")),
                        ("Server", "awselb/2.0")], (config.get("MessageBody") or "").encode())
            if kind == "forward":
                arn = data.get("TargetGroupArn") or next(
                    (g.get("TargetGroupArn") for g in data.get("ForwardConfig", {}).get("TargetGroups", [])), None)
                base = self.targets.get(arn)
                if base is None:
                    return plain_error(503, "503 Service Temporarily Unavailable: no registered target "
                                            f"(POST /_ahi/edge/targets for {arn})")
                return forward(base, request, timeout)
        return plain_error(502, "the listener rule has no action the local edge models")


def condition_matches(condition, request):
    field = condition.get("Field")
    if field == "http-header":
        config = condition.get("HttpHeaderConfig", {})
        value = request.header(config.get("HttpHeaderName", ""))
        return value is not None and any(wildcard(v, value, case=False) for v in config.get("Values", []))
    if field == "path-pattern":
        values = condition.get("PathPatternConfig", {}).get("Values") or condition.get("Values") or []
        return any(wildcard(v, request.path, case=True) for v in values)
    if field == "host-header":
        values = condition.get("HostHeaderConfig", {}).get("Values") or condition.get("Values") or []
        return any(wildcard(v, request.header("host") or "", case=False) for v in values)
    return False


def wildcard(pattern, value, case):
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, 0 if case else re.IGNORECASE) is not None


def forward(base, request, timeout):
    """An HTTP request to a loopback server; 502 if refused, 504 if slow."""
    parts = urlsplit(base)
    if parts.hostname not in LOOPBACK:
        return plain_error(502, f"the local edge reaches no host outside this machine: {parts.hostname}")
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        connection.putrequest(request.method, quote(request.path, safe="/%:@!$&'()*+,;=-._~") +
                              (f"?{request.query}" if request.query else ""), skip_host=True,
                              skip_accept_encoding=True)
        for name, value in request.headers:
            connection.putheader(name, value)
        body = request.body or b""
        if body or request.method in ("POST", "PUT", "PATCH"):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        data = response.read()
        return response.status, [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP], data
    except socket.timeout:
        return plain_error(504, "504 Gateway Timeout: the origin did not answer in time")
    except OSError as e:
        return plain_error(502, f"502 Bad Gateway: the origin is unreachable ({e.__class__.__name__})")
    finally:
        connection.close()


HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authenticate",
              "proxy-authorization"}


def anonymous_s3_refusal(method, path):
    """S3 answers an unsigned GET or HEAD of an object only when the bucket
    lets anyone read it (a policy allowing `*`, not blocked by Block Public
    Access); moto serves every object to anyone. Returns S3's 403 for a
    refused read, or None to let moto answer (no such bucket, or public)."""
    from moto.s3.models import s3_backends

    if method not in ("GET", "HEAD"):
        return None
    bucket_name, _, key_name = path.lstrip("/").partition("/")
    if not bucket_name or not key_name:
        return None
    bucket, _ = find_bucket(s3_backends, bucket_name)
    if bucket is None:
        return None
    resource = f"arn:aws:s3:::{bucket_name}/{unquote(key_name)}"
    if restricts_public(bucket) or not allowed(policy_of(bucket), ("anonymous", None), "s3:GetObject", resource, None):
        return s3_error(403, "AccessDenied", "Access Denied")
    return None


def find_bucket(s3_backends, name):
    for per_region in list(dict.values(s3_backends)):
        for backend in list(dict.values(per_region)):
            bucket = backend.buckets.get(name)
            if bucket is not None:
                return bucket, backend
    return None, None


def object_answer(key, method):
    metadata = {k.lower(): v for k, v in dict(key.metadata).items()}
    headers = [("Content-Type", metadata.get("content-type") or key.content_type or "binary/octet-stream"),
               ("ETag", key.etag), ("Last-Modified", key.last_modified_RFC1123), ("Server", "AmazonS3")]
    for name in ("cache-control", "content-encoding", "content-disposition"):
        if metadata.get(name):
            headers.append((name.title(), metadata[name]))
    body = key.value
    headers.append(("Content-Length", str(len(body))))
    return 200, headers, b"" if method == "HEAD" else body


def policy_of(bucket):
    raw = bucket.policy
    if not raw:
        return {"Statement": []}
    try:
        return json.loads(raw)
    except ValueError:
        return {"Statement": []}


def restricts_public(bucket):
    block = bucket.public_access_block
    return bool(block and block.restrict_public_buckets)


def allowed(policy, principal, action, resource, source_arn):
    """The bucket policy's answer for one principal (no IAM side): an
    explicit Deny wins, then any Allow."""
    verdict = False
    statements = policy.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if not (_principal(statement, principal) and _matches(statement.get("Action"), action, case=False)
                and _matches(statement.get("Resource"), resource, case=True)
                and _conditions(statement.get("Condition", {}), source_arn)):
            continue
        if statement.get("Effect") == "Deny":
            return False
        verdict = verdict or statement.get("Effect") == "Allow"
    return verdict


def _listed(value):
    return value if isinstance(value, list) else [value] if value is not None else []


def _matches(patterns, value, case):
    return any(wildcard(p, value, case) for p in _listed(patterns))


def _principal(statement, principal):
    given = statement.get("Principal")
    kind, name = principal
    if given == "*":
        return True
    if not isinstance(given, dict):
        return False
    if "*" in _listed(given.get("AWS")):
        return True
    return kind == "service" and name in _listed(given.get("Service"))


def _conditions(condition, source_arn):
    for operator, tests in condition.items():
        for key, expected in tests.items():
            if key.lower() != "aws:sourcearn":
                return False  # a condition the local edge cannot evaluate never matches
            if source_arn is None:
                return False
            like = operator in ("ArnLike", "StringLike")
            if operator not in ("StringEquals", "ArnEquals", "ArnLike", "StringLike"):
                return False
            if not any((wildcard(e, source_arn, True) if like else e == source_arn) for e in _listed(expected)):
                return False
    return True

