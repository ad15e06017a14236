"""Helpers for the local edge's tests: a loopback origin that records what
it receives, viewer requests over plain HTTP, and distribution configs."""

import http.client
import http.server
import json
import threading
from urllib.parse import urlsplit

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"


class Origin:
    """A loopback HTTP server. Every request is recorded; the answer is
    JSON naming what arrived, unless `answers[path]` says otherwise:
    (status, headers, body) or a callable taking the handler."""

    def __init__(self):
        self.seen = []
        self.answers = {}
        origin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = urlsplit(self.path).path
                origin.seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                    "body": body})
                answer = origin.answers.get(path, (200, {"Content-Type": "application/json"}, None))
                status, headers, payload = answer() if callable(answer) else answer
                if payload is None:
                    payload = json.dumps({"path": self.path, "method": self.command}).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_HEAD = do_OPTIONS = do_PUT = do_DELETE = answer

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def viewer(endpoint, domain, path, method="GET", headers=None, body=None, by_host=False):
    """(status, headers (lower-case names), body) of one viewer request."""
    parts = urlsplit(endpoint)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    target = path if by_host else f"/_edge/{domain}{path}"
    all_headers = dict(headers or {})
    if by_host:
        all_headers["Host"] = domain
    connection.request(method, target, body=body, headers=all_headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def custom_origin(origin_id, port, origin_path="", headers=None, read_timeout=30):
    item = {
        "Id": origin_id, "DomainName": "127.0.0.1", "OriginPath": origin_path,
        "CustomOriginConfig": {"HTTPPort": port, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only",
                               "OriginReadTimeout": read_timeout},
    }
    if headers:
        item["CustomHeaders"] = {"Quantity": len(headers), "Items": [
            {"HeaderName": k, "HeaderValue": v} for k, v in headers.items()]}
    return item


def behaviour(origin_id, pattern=None, cache_policy=CACHING_OPTIMIZED, methods=("GET", "HEAD"), **extra):
    item = {
        "TargetOriginId": origin_id, "ViewerProtocolPolicy": "redirect-to-https", "CachePolicyId": cache_policy,
        "AllowedMethods": {"Quantity": len(methods), "Items": list(methods),
                           "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
    }
    if pattern is not None:
        item["PathPattern"] = pattern
    item.update(extra)
    return item


def distribution(cf, origins, default, ordered=(), reference="edge-1", **extra):
    config = {
        "CallerReference": reference, "Comment": "local edge test", "Enabled": True,
        "Origins": {"Quantity": len(origins), "Items": list(origins)},
        "DefaultCacheBehavior": default,
        "CacheBehaviors": {"Quantity": len(ordered), "Items": list(ordered)},
    }
    config.update(extra)
    return cf.create_distribution(DistributionConfig=config)["Distribution"]


def function(cf, name, code):
    created = cf.create_function(Name=name, FunctionConfig={"Comment": name, "Runtime": "cloudfront-js-2.0"},
                                 FunctionCode=code.encode())
    cf.publish_function(Name=name, IfMatch=created["ETag"])
    return created["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]
