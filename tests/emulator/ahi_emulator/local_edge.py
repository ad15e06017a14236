"""The local edge: the emulator serves viewer requests for every distribution
it holds, as CloudFront would, on plain HTTP (TLS is not modelled; the
viewer protocol policy is reported in `X-Ahi-Edge-Viewer-Protocol-Policy`).

A request reaches a distribution by its Host header (the distribution's
domain name or one of its aliases) or by the path form
`/_edge/<domain>/<path>` for clients that cannot set Host. In order:
behaviour selection (CloudFront's path patterns, first match, default
last), allowed methods, trusted key groups (signed URLs and cookies),
the viewer-request function (CloudFront Function or Lambda@Edge, under
node), the cache (keyed by the behaviour's cache policy), the origin
(origins.py), custom error responses, and the response headers policy.

Invalidations (cf_invalidations.py) drop the matching entries of their
distribution when they complete; DELETE /_ahi/edge/cache empties the cache.

What it does not model: viewer-response and origin-facing functions,
field-level encryption, geo restriction, WAF, compression, range requests."""

import collections
import re
import threading
import time
import uuid
from urllib.parse import parse_qsl, quote, urlencode

from . import cf_invalidations, node, origins, signed
from .xmlutil import items, text

VIEWER_HEADER = "X-Ahi-Edge-Viewer-Protocol-Policy"
# Status codes CloudFront caches when the origin sends them (with the error
# caching minimum TTL for the errors).
CACHEABLE = {200, 203, 204, 206, 300, 301, 410}
ERRORS_CACHED = {400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504}
ERROR_CACHING_SECONDS = 10


def path_pattern_regex(pattern):
    """CloudFront's path pattern as a regex: `*` any run of characters
    (across `/`), `?` exactly one, case-sensitive, leading `/` optional."""
    pattern = pattern if pattern.startswith("/") else "/" + pattern
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern))


def select_behaviour(config, path):
    for behaviour in items(config, "CacheBehaviors"):
        if path_pattern_regex(text(behaviour, "PathPattern", "")).fullmatch(path):
            return behaviour
    return config.find("DefaultCacheBehavior")


class Answer(Exception):
    """A response the edge gives without going further."""

    def __init__(self, status, headers, body=b""):
        super().__init__(status)
        self.status, self.headers, self.body = status, list(headers), body


def cloudfront_error(status, code, message):
    body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>')
    return Answer(status, [("Content-Type", "text/xml"), ("X-Cache", "Error from cloudfront")], body.encode())


def html_error(status, title, detail):
    body = f"<HTML><HEAD><TITLE>{status} ERROR</TITLE></HEAD><BODY><H1>{title}</H1>{detail}</BODY></HTML>"
    return Answer(status, [("Content-Type", "text/html"), ("X-Cache", "Error from cloudfront")], body.encode())


class ViewerRequest:
    def __init__(self, method, uri, query, headers, body, ip):
        self.method = method
        self.uri = uri
        self.query = query  # raw query string
        self.headers = headers  # dict: lower-case name -> value
        self.body = body
        self.ip = ip

    def cookies(self):
        return signed.cookies_of(self.headers.get("cookie"))


class Snapshot:
    """What one request needs of the control plane, read under the lock."""

    def __init__(self, emu, dist, behaviour):
        cf = emu.cloudfront
        self.dist = dist
        self.config = dist.config
        self.behaviour = behaviour
        self.cache_policy = cf.resources._policy(dist.account, "CachePolicy", text(behaviour, "CachePolicyId"), False) \
            if text(behaviour, "CachePolicyId") else None
        self.request_policy = cf.resources._policy(
            dist.account, "OriginRequestPolicy", text(behaviour, "OriginRequestPolicyId"), False) \
            if text(behaviour, "OriginRequestPolicyId") else None
        self.headers_policy = cf.resources._policy(
            dist.account, "ResponseHeadersPolicy", text(behaviour, "ResponseHeadersPolicyId"), False) \
            if text(behaviour, "ResponseHeadersPolicyId") else None
        groups = [g.text for g in items(behaviour, "TrustedKeyGroups")] \
            if text(behaviour, "TrustedKeyGroups/Enabled") == "true" else []
        self.trusts = bool(groups)
        self.keys = cf.access.verifying_keys(dist.account, groups) if groups else {}
        origin_id = text(behaviour, "TargetOriginId")
        self.origin = next((o for o in items(dist.config, "Origins") if text(o, "Id") == origin_id), None)
        oac_id = text(self.origin, "OriginAccessControlId") if self.origin is not None else None
        self.oac = cf.access.oacs.get(oac_id) if oac_id else None
        self.function = None  # (kind, code or zip, handler)
        for assoc in items(behaviour, "FunctionAssociations"):
            if text(assoc, "EventType") == "viewer-request":
                fn = next((f for f in cf.resources.functions.values() if f.arn == text(assoc, "FunctionARN")), None)
                if fn is not None and fn.live is not None:
                    self.function = ("cff", fn.live[1].decode("utf-8"), None, fn.name)
        for assoc in items(behaviour, "LambdaFunctionAssociations"):
            if text(assoc, "EventType") == "viewer-request":
                self.function = lambda_code(text(assoc, "LambdaFunctionARN"))


def lambda_code(arn):
    from .edge import ARN, lambda_backend

    match = ARN.match(arn or "")
    fn = lambda_backend(match["account"], "us-east-1").get_function(match["name"], match["qualifier"])
    return ("lambda", fn.code_bytes, fn.handler, match["name"])


class LocalEdge:
    def __init__(self, emulator):
        self.emu = emulator
        self.origins = origins.Origins(emulator)
        # key -> (stored_at, ttl, status, headers, body, path as an invalidation names it)
        self.cache = {}
        self.in_flight = {}  # key -> Event set when its origin fetch is done
        self.cache_lock = threading.Lock()
        self.stats = {"requests": 0, "hits": 0, "misses": 0, "origin_requests": 0, "origin_bytes": 0}
        # What edge functions logged, newest last (GET /_ahi/edge/logs).
        self.logs = collections.deque(maxlen=500)

    def reset(self):
        self.origins.reset()
        self.flush()

    def flush(self):
        with self.cache_lock:
            self.cache.clear()
            self.logs.clear()
            for name in self.stats:
                self.stats[name] = 0

    # ---- addressing ---------------------------------------------------------

    def distribution_for(self, host):
        host = (host or "").split(":")[0].lower()
        for dist in self.emu.cloudfront.distributions.values():
            if dist.domain == host or host in [a.lower() for a in dist.aliases()]:
                return dist
        return None

    def wants(self, environ):
        """The distribution's domain when this request is a viewer request."""
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_edge/"):
            return path.split("/", 3)[2]
        host = environ.get("HTTP_HOST", "").split(":")[0].lower()
        if host.endswith(".cloudfront.net"):
            return host
        with self.emu.lock:
            return host if self.distribution_for(host) else None

    def load_balancer(self, environ, body):
        """A request sent straight to an ALB by its DNS name (Host), as anyone
        on the internet, or a distribution of their own, may send one: the
        listener's rules decide, as for the edge's origin requests. Plain
        HTTP (TLS is not modelled): the listener on port 80, else on 443.
        None when Host names no load balancer."""
        host = environ.get("HTTP_HOST", "").split(":")[0].lower()
        if not host.endswith(".elb.amazonaws.com"):
            return None
        lb = self.origins.load_balancer(host)
        if lb is None:
            return origins.plain_error(502, f"no load balancer has the DNS name {host}")
        headers = [(k[5:].replace("_", "-").lower(), v) for k, v in environ.items() if k.startswith("HTTP_")]
        request = origins.OriginRequest(environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/"),
                                        environ.get("QUERY_STRING", ""), headers, body, None,
                                        environ.get("REMOTE_ADDR", "127.0.0.1"))
        ports = {int(li.port) for li in lb.listeners.values()}
        return self.origins.alb(lb, 80 if 80 in ports or not ports else 443, request, 30.0)

    # ---- serving ------------------------------------------------------------

    def serve(self, environ, domain, body):
        path = environ.get("PATH_INFO", "/")
        if path.startswith("/_edge/"):
            rest = path.split("/", 3)
            path = "/" + (rest[3] if len(rest) > 3 else "")
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        headers["host"] = domain
        request = ViewerRequest(environ.get("REQUEST_METHOD", "GET"), path, environ.get("QUERY_STRING", ""),
                                headers, body, environ.get("REMOTE_ADDR", "127.0.0.1"))
        request_id = uuid.uuid4().hex
        try:
            status, out_headers, out_body, snap = self.handle(domain, request, request_id)
        except Answer as a:
            status, out_headers, out_body, snap = a.status, a.headers, a.body, getattr(a, "snapshot", None)
        if snap is not None:
            out_headers = apply_headers_policy(snap, request, out_headers)
            out_headers.append((VIEWER_HEADER, text(snap.behaviour, "ViewerProtocolPolicy", "")))
        out_headers += [("Via", f"1.1 {request_id[:32]}.cloudfront.net (CloudFront)"), ("X-Amz-Cf-Pop", "LOCAL1-P1"),
                        ("X-Amz-Cf-Id", request_id)]
        if request.method == "HEAD":
            out_body = b""
        return status, out_headers, out_body

    def handle(self, domain, request, request_id):
        with self.emu.lock:
            self.emu.cloudfront.tick()
            dist = self.distribution_for(domain)
            if dist is None:
                raise html_error(403, "403 ERROR", "The request could not be satisfied. Bad request: no distribution "
                                                   f"answers for {domain}.")
            if not dist.enabled:
                raise html_error(403, "403 ERROR", "The request could not be satisfied: the distribution is disabled.")
            snap = Snapshot(self.emu, dist, select_behaviour(dist.config, request.uri))
        try:
            return self._through(snap, request, request_id) + (snap,)
        except Answer as a:
            a.snapshot = snap
            raise

    def _through(self, snap, request, request_id):
        allowed = [m.text for m in items(snap.behaviour, "AllowedMethods")] or ["GET", "HEAD"]
        if request.method not in allowed:
            raise html_error(403, "403 ERROR", "This distribution is not configured to allow the HTTP request "
                                               "method that was used for this request.")
        if snap.trusts:
            refused = signed.check(snap.keys, snap.dist.domain, request.uri, request.query, request.cookies(),
                                   request.ip)
            if refused:
                raise cloudfront_error(403, *refused)
            request.query = signed.strip_signing(request.query)
        if snap.function is not None:
            self.run_viewer_request(snap, request, request_id)
        cacheable = request.method in ("GET", "HEAD") and self.ttls(snap)[2] > 0
        key = self.cache_key(snap, request) if cacheable else None
        if key is None:
            return self.fetch(snap, request, request_id, None)
        with self.cache_lock:
            self.stats["requests"] += 1
        # Request collapsing, as CloudFront does: a miss for a key whose
        # fetch is already in flight waits for it instead of asking the
        # origin again.
        while True:
            with self.cache_lock:
                hit = self.cached(key)
                if hit is not None:
                    self.stats["hits"] += 1
                    return hit
                in_flight = self.in_flight.get(key)
                if in_flight is None:
                    self.in_flight[key] = threading.Event()
                    self.stats["misses"] += 1
                    break
            if not in_flight.wait(60):
                with self.cache_lock:
                    self.stats["misses"] += 1
                return self.fetch(snap, request, request_id, None)
            with self.cache_lock:
                hit = self.cached(key)
                if hit is not None or key in self.in_flight:
                    continue
                # The fetch it waited for was not cacheable: ask the origin.
                self.stats["misses"] += 1
            return self.fetch(snap, request, request_id, None)
        try:
            return self.fetch(snap, request, request_id, key)
        finally:
            with self.cache_lock:
                self.in_flight.pop(key).set()

    def cached(self, key):
        """The cached answer for `key` as a hit, or None (cache_lock held)."""
        entry = self.cache.get(key)
        if entry is None or time.monotonic() - entry[0] >= entry[1]:
            return None
        age = int(time.monotonic() - entry[0])
        return entry[2], list(entry[3]) + [("X-Cache", "Hit from cloudfront"), ("Age", str(age))], entry[4]

    def fetch(self, snap, request, request_id, key):
        """From the origin (and custom error pages); stored under `key` when cacheable."""
        status, headers, body = self.from_origin(snap, request, request_id)
        status, headers, body = self.custom_error(snap, request, request_id, status, headers, body)
        if key is not None:
            ttl = self.ttl_for(snap, status, headers)
            if ttl > 0:
                with self.cache_lock:
                    self.cache[key] = (time.monotonic(), ttl, status, list(headers), body,
                                       self.invalidation_path(snap, request))
        tag = "Miss from cloudfront" if status < 400 else "Error from cloudfront"
        return status, headers + [("X-Cache", tag)], body

    # ---- viewer-request functions ---------------------------------------------

    def run_viewer_request(self, snap, request, request_id):
        kind, code, handler, name = snap.function
        try:
            if kind == "cff":
                result, logs = node.RUNTIME.cloudfront_function(code, cff_event(snap, request, request_id))
                self.logs.extend({"function": name, "request_id": request_id, "line": line} for line in logs)
                apply_cff_result(request, result)
            else:
                result, logs = node.RUNTIME.lambda_edge(code, handler, lambda_event(snap, request, request_id), name)
                self.logs.extend({"function": name, "request_id": request_id, "line": line} for line in logs)
                apply_lambda_result(request, result)
        except node.EdgeCodeError as e:
            if kind == "cff":
                raise html_error(503, "503 ERROR", f"The CloudFront function associated with the CloudFront "
                                                   f"distribution failed: {e}") from None
            raise html_error(503, "503 ERROR", "The Lambda function associated with the CloudFront distribution "
                                               f"is invalid or doesn't have the required permissions: {e}") from None

    # ---- cache ----------------------------------------------------------------

    def ttls(self, snap):
        if snap.cache_policy is not None:
            c = snap.cache_policy.config
            return int(text(c, "MinTTL", "0")), int(text(c, "DefaultTTL", "86400")), int(text(c, "MaxTTL", "31536000"))
        b = snap.behaviour
        return int(text(b, "MinTTL", "0")), int(text(b, "DefaultTTL", "86400")), int(text(b, "MaxTTL", "31536000"))

    def key_parameters(self, snap):
        """(header behaviour, headers, cookie behaviour, cookies, query behaviour, names) of the cache key."""
        if snap.cache_policy is not None:
            p = snap.cache_policy.config.find("ParametersInCacheKeyAndForwardedToOrigin")
            return parameters(p, "HeadersConfig/HeaderBehavior", "HeadersConfig/Headers", "CookiesConfig/CookieBehavior",
                              "CookiesConfig/Cookies", "QueryStringsConfig/QueryStringBehavior",
                              "QueryStringsConfig/QueryStrings")
        fv = snap.behaviour.find("ForwardedValues")
        headers = [h.text.lower() for h in items(fv, "Headers")] if fv is not None else []
        cookie_mode = text(fv, "Cookies/Forward", "none") if fv is not None else "none"
        cookies = [c.text for c in items(fv, "Cookies/WhitelistedNames")] if fv is not None else []
        query_all = fv is not None and text(fv, "QueryString") == "true"
        keys = [k.text for k in items(fv, "QueryStringCacheKeys")] if fv is not None else []
        return ("whitelist" if headers else "none", headers, cookie_mode, cookies,
                ("whitelist" if keys else "all") if query_all else "none", keys)

    def cache_key(self, snap, request):
        hmode, hnames, cmode, cnames, qmode, qnames = self.key_parameters(snap)
        headers = tuple((h, request.headers.get(h)) for h in sorted(hnames)) if hmode == "whitelist" else ()
        cookies = tuple(sorted(select(request.cookies().items(), cmode, cnames)))
        query = tuple(sorted(select(parse_qsl(request.query, keep_blank_values=True), qmode, qnames)))
        return (snap.dist.id, text(snap.behaviour, "PathPattern", "*"), request.uri, headers, cookies, query)

    def invalidation_path(self, snap, request):
        """The path an invalidation must name to drop this request's entry:
        the URI, then the query strings the cache key holds (viewer order)."""
        _, _, _, _, qmode, qnames = self.key_parameters(snap)
        pairs = parse_qsl(request.query, keep_blank_values=True)
        in_key = select(pairs, qmode, qnames)
        query = urlencode([p for p in pairs if p in in_key], quote_via=quote)
        return cf_invalidations.cached_path(request.uri, query)

    def invalidate(self, dist_id, paths):
        """Drops the distribution's entries an invalidation's paths match."""
        with self.cache_lock:
            for key, entry in list(self.cache.items()):
                if key[0] == dist_id and any(cf_invalidations.matches(p, entry[5]) for p in paths):
                    del self.cache[key]

    def ttl_for(self, snap, status, headers):
        minimum, default, maximum = self.ttls(snap)
        if status in ERRORS_CACHED:
            return error_caching_ttl(snap.config, status)
        if status not in CACHEABLE:
            return 0
        control = next((v for k, v in headers if k.lower() == "cache-control"), "") or ""
        directives = {d.split("=")[0].strip().lower(): (d.split("=", 1)[1].strip() if "=" in d else None)
                      for d in control.split(",") if d.strip()}
        if {"no-store", "no-cache", "private"} & set(directives):
            return minimum
        age = directives.get("s-maxage") or directives.get("max-age")
        if age is not None and age.isdigit():
            return max(minimum, min(int(age), maximum))
        return max(minimum, min(default, maximum))

    # ---- origin -----------------------------------------------------------------

    def origin_request(self, snap, request, request_id):
        hmode, hnames, cmode, cnames, qmode, qnames = self.key_parameters(snap)
        if snap.request_policy is not None:
            p = snap.request_policy.config
            ohmode, ohnames, ocmode, ocnames, oqmode, oqnames = parameters(
                p, "HeadersConfig/HeaderBehavior", "HeadersConfig/Headers", "CookiesConfig/CookieBehavior",
                "CookiesConfig/Cookies", "QueryStringsConfig/QueryStringBehavior", "QueryStringsConfig/QueryStrings")
        else:
            ohmode, ohnames, ocmode, ocnames, oqmode, oqnames = "none", [], "none", [], "none", []
        headers = []
        for name, value in request.headers.items():
            if name in ("host", "cookie"):
                continue
            in_key = hmode == "whitelist" and name in hnames
            forwarded = (ohmode in ("allViewer", "allViewerAndWhitelistCloudFront")
                         or (ohmode == "whitelist" and name in ohnames)
                         or (ohmode == "allExcept" and name not in ohnames))
            if in_key or forwarded:
                headers.append(("-".join(part.capitalize() for part in name.split("-")), value))
        host_forwarded = ohmode in ("allViewer", "allViewerAndWhitelistCloudFront") or \
            (hmode == "whitelist" and "host" in hnames) or (ohmode == "whitelist" and "host" in ohnames)
        origin_domain = text(snap.origin, "DomainName")
        headers.append(("Host", snap.dist.domain if host_forwarded else origin_domain))
        cookies = dict(select(request.cookies().items(), cmode, cnames))
        cookies.update(select(request.cookies().items(), ocmode, ocnames))
        if cookies:
            headers.append(("Cookie", "; ".join(f"{k}={v}" for k, v in cookies.items())))
        pairs = parse_qsl(request.query, keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if (k, v) in select(pairs, qmode, qnames) or (k, v) in select(pairs, oqmode, oqnames)]
        if not any(k.lower() == "user-agent" for k, _ in headers):
            headers.append(("User-Agent", "Amazon CloudFront"))
        headers += [("Via", f"1.1 {request_id[:32]}.cloudfront.net (CloudFront)"), ("X-Amz-Cf-Id", request_id),
                    ("X-Forwarded-For", request.ip)]
        for custom in items(snap.origin, "CustomHeaders"):
            headers.append((text(custom, "HeaderName"), text(custom, "HeaderValue", "")))
        path = (text(snap.origin, "OriginPath") or "") + request.uri
        return origins.OriginRequest(request.method, path, urlencode(kept, quote_via=quote), headers, request.body,
                                     snap.dist.arn, request.ip)

    def from_origin(self, snap, request, request_id):
        if snap.origin is None:
            raise html_error(502, "502 ERROR", "The behaviour names no origin of the distribution.")
        outgoing = self.origin_request(snap, request, request_id)
        status, headers, body = self.origins.fetch(snap.origin, outgoing, snap.oac)
        with self.cache_lock:
            self.stats["origin_requests"] += 1
            self.stats["origin_bytes"] += len(body)
        return status, headers, body

    def custom_error(self, snap, request, request_id, status, headers, body):
        for rule in items(snap.config, "CustomErrorResponses"):
            if text(rule, "ErrorCode") == str(status) and text(rule, "ResponsePagePath"):
                page = ViewerRequest("GET", text(rule, "ResponsePagePath"), "", dict(request.headers), b"", request.ip)
                with self.emu.lock:
                    page_snap = Snapshot(self.emu, snap.dist, select_behaviour(snap.config, page.uri))
                _, page_headers, page_body = self.from_origin(page_snap, page, request_id)
                code = int(text(rule, "ResponseCode") or status)
                return code, page_headers, page_body
        return status, headers, body


def parameters(p, *paths):
    hmode, hnames, cmode, cnames, qmode, qnames = paths
    return (text(p, hmode, "none"), [h.text.lower() for h in items(p, hnames)],
            text(p, cmode, "none"), [c.text for c in items(p, cnames)],
            text(p, qmode, "none"), [q.text for q in items(p, qnames)])


def select(pairs, mode, names):
    pairs = list(pairs)
    if mode == "all":
        return pairs
    if mode == "whitelist":
        return [(k, v) for k, v in pairs if k in names]
    if mode == "allExcept":
        return [(k, v) for k, v in pairs if k not in names]
    return []


def error_caching_ttl(config, status):
    for rule in items(config, "CustomErrorResponses"):
        if text(rule, "ErrorCode") == str(status) and text(rule, "ErrorCachingMinTTL") is not None:
            return int(text(rule, "ErrorCachingMinTTL"))
    return ERROR_CACHING_SECONDS


# ---- function events ------------------------------------------------------------

def cff_event(snap, request, request_id):
    query = {}
    for k, v in parse_qsl(request.query, keep_blank_values=True):
        if k in query:
            query[k].setdefault("multiValue", [{"value": query[k]["value"]}]).append({"value": v})
        else:
            query[k] = {"value": v}
    return {
        "version": "1.0",
        "context": {"distributionDomainName": snap.dist.domain, "distributionId": snap.dist.id,
                    "eventType": "viewer-request", "requestId": request_id},
        "viewer": {"ip": request.ip},
        "request": {"method": request.method, "uri": request.uri, "querystring": query,
                    "headers": {k: {"value": v} for k, v in request.headers.items() if k != "cookie"},
                    "cookies": {k: {"value": v} for k, v in request.cookies().items()}},
    }


def apply_cff_result(request, result):
    if not isinstance(result, dict):
        raise node.EdgeCodeError("the function returned neither a request nor a response")
    if "statusCode" in result:
        headers = [(k, v.get("value", "")) for k, v in (result.get("headers") or {}).items()]
        body = result.get("body") or ""
        if isinstance(body, dict):
            body = body.get("data", "")
        raise Answer(int(result["statusCode"]), headers + [("X-Cache", "FunctionGeneratedResponse from cloudfront")],
                     body.encode() if isinstance(body, str) else body)
    request.uri = result.get("uri", request.uri)
    pairs = []
    for k, v in (result.get("querystring") or {}).items():
        values = v.get("multiValue") or [v] if isinstance(v, dict) else [{"value": v}]
        pairs += [(k, item.get("value", "")) for item in values]
    request.query = urlencode(pairs, quote_via=quote) if isinstance(result.get("querystring"), dict) else request.query
    request.headers = {k.lower(): v.get("value", "") for k, v in (result.get("headers") or {}).items()}
    cookies = result.get("cookies") or {}
    if cookies:
        request.headers["cookie"] = "; ".join(f"{k}={v.get('value', '')}" for k, v in cookies.items())


def lambda_event(snap, request, request_id):
    return {"Records": [{"cf": {
        "config": {"distributionDomainName": snap.dist.domain, "distributionId": snap.dist.id,
                   "eventType": "viewer-request", "requestId": request_id},
        "request": {"clientIp": request.ip, "method": request.method, "uri": request.uri,
                    "querystring": request.query,
                    "headers": {k: [{"key": k.title(), "value": v}] for k, v in request.headers.items()}},
    }}]}


def apply_lambda_result(request, result):
    if not isinstance(result, dict):
        raise node.EdgeCodeError("the Lambda function returned neither a request nor a response")
    if "status" in result:
        headers = [(v[0].get("key", k), v[0].get("value", "")) for k, v in (result.get("headers") or {}).items() if v]
        body = result.get("body") or ""
        raise Answer(int(result["status"]), headers + [("X-Cache", "LambdaGeneratedResponse from cloudfront")],
                     body.encode() if isinstance(body, str) else body)
    request.uri = result.get("uri", request.uri)
    request.query = result.get("querystring", request.query) or ""
    request.headers = {k.lower(): (v[0].get("value", "") if v else "") for k, v in (result.get("headers") or {}).items()}


# ---- response headers policies --------------------------------------------------

def apply_headers_policy(snap, request, headers):
    policy = snap.headers_policy
    if policy is None:
        return list(headers)
    config = policy.config
    out = list(headers)

    def has(name):
        return any(k.lower() == name.lower() for k, _ in out)

    def put(name, value, override):
        nonlocal out
        if has(name) and not override:
            return
        out = [(k, v) for k, v in out if k.lower() != name.lower()] + [(name, value)]

    cors = config.find("CorsConfig")
    origin = request.headers.get("origin")
    if cors is not None and origin:
        override = text(cors, "OriginOverride") == "true"
        allowed = [o.text for o in items(cors, "AccessControlAllowOrigins")]
        granted = "*" if "*" in allowed else origin if origin in allowed else None
        if granted:
            put("Access-Control-Allow-Origin", granted, override)
            if granted != "*":
                vary = next((v for k, v in out if k.lower() == "vary"), "")
                if "origin" not in vary.lower():
                    put("Vary", f"{vary}, Origin" if vary else "Origin", True)
            if text(cors, "AccessControlAllowCredentials") == "true":
                put("Access-Control-Allow-Credentials", "true", override)
            exposed = [h.text for h in items(cors, "AccessControlExposeHeaders")]
            if exposed:
                put("Access-Control-Expose-Headers", ", ".join(exposed), override)
            if request.method == "OPTIONS" and request.headers.get("access-control-request-method"):
                methods = [m.text for m in items(cors, "AccessControlAllowMethods")]
                put("Access-Control-Allow-Methods", ", ".join(
                    ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"] if "ALL" in methods else methods),
                    override)
                put("Access-Control-Allow-Headers", ", ".join(h.text for h in items(cors, "AccessControlAllowHeaders")),
                    override)
                if text(cors, "AccessControlMaxAgeSec"):
                    put("Access-Control-Max-Age", text(cors, "AccessControlMaxAgeSec"), override)
    security = config.find("SecurityHeadersConfig")
    if security is not None:
        sts = security.find("StrictTransportSecurity")
        if sts is not None:
            value = f"max-age={text(sts, 'AccessControlMaxAgeSec')}"
            value += "; includeSubDomains" if text(sts, "IncludeSubdomains") == "true" else ""
            value += "; preload" if text(sts, "Preload") == "true" else ""
            put("Strict-Transport-Security", value, text(sts, "Override") == "true")
        if security.find("ContentTypeOptions") is not None:
            put("X-Content-Type-Options", "nosniff", text(security, "ContentTypeOptions/Override") == "true")
        if security.find("FrameOptions") is not None:
            put("X-Frame-Options", text(security, "FrameOptions/FrameOption"), text(security, "FrameOptions/Override") == "true")
        if security.find("ReferrerPolicy") is not None:
            put("Referrer-Policy", text(security, "ReferrerPolicy/ReferrerPolicy"),
                text(security, "ReferrerPolicy/Override") == "true")
        xss = security.find("XSSProtection")
        if xss is not None:
            value = "1" if text(xss, "Protection") == "true" else "0"
            value += "; mode=block" if text(xss, "ModeBlock") == "true" else ""
            put("X-XSS-Protection", value, text(xss, "Override") == "true")
    for custom in items(config, "CustomHeadersConfig"):
        put(text(custom, "Header"), text(custom, "Value", ""), text(custom, "Override") == "true")
    for removed in items(config, "RemoveHeadersConfig"):
        name = text(removed, "Header", "").lower()
        out = [(k, v) for k, v in out if k.lower() != name]
    return out

