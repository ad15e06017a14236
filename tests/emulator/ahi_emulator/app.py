"""The WSGI app: our control API under /_ahi/, fault injection and the call
log for every AWS call, CloudFront and the Lambda@Edge calls handled here,
everything else passed to moto."""

import io
import json
import re
import socket

from . import cloudfront, holds, inventory, origins, protocol, s3_kms, s3_policy, s3_region, service_quotas, state
from .xmlutil import ApiError

ACCESS_KEY = re.compile(r"Credential=([^/]+)/")
# A Cognito user pool's public keys, as cognito-idp.<region>.amazonaws.com
# serves them: the edge authorizer (through the local edge's runtime) and the
# regional proxy (COGNITO_JWKS_URL) fetch them here.
JWKS = re.compile(r"^/(?P<pool>(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)_[0-9A-Za-z]+)/\.well-known/jwks\.json$")


class App:
    def __init__(self, moto_app, emulator):
        self.moto = moto_app
        self.emu = emulator

    def __call__(self, environ, start_response):
        # Not AWS calls: an OIDC issuer's fetches (by Host) and ECR's blob URLs.
        raw = self.emu.oidc.answer(environ) or self.emu.ecr.blob(environ)
        if raw is not None:
            return self.raw(raw, environ, start_response)
        if environ.get("PATH_INFO", "").startswith("/_ahi/"):
            return self.control(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        jwks = JWKS.match(environ.get("PATH_INFO", ""))
        if jwks and environ.get("REQUEST_METHOD") == "GET" and "HTTP_AUTHORIZATION" not in environ:
            status, payload = cognito_jwks(jwks["pool"], jwks["region"])
            start_response(status_line(status), [("Content-Type", "application/json"),
                                                 ("Content-Length", str(len(payload)))])
            return [payload]
        domain = self.emu.edge.wants(environ)
        if domain is not None:
            status, headers, payload = self.emu.edge.serve(environ, domain, body)
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            start_response(status_line(status), headers + [("Content-Length", str(len(payload)))])
            return [payload]
        direct = self.emu.edge.load_balancer(environ, body)
        if direct is not None:
            status, headers, payload = direct
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            start_response(status_line(status), headers + [("Content-Length", str(len(payload)))])
            return [payload]
        environ["wsgi.input"] = io.BytesIO(body)
        call = protocol.Call(environ, body)
        s3_kms.apply_default_encryption(call, environ)
        params = {}
        if call.service == "cloudfront":
            call.operation, params = cloudfront.operation(call)
        account = self.account(call)

        with self.emu.lock:
            fault = (
                self.emu.fault_for(call.service, call.operation, call.region, call.path) if call.operation else None
            )
        if fault is not None and fault.kind == "strip_header":
            start_response = stripping(fault.header, start_response)
        elif fault is not None:
            return self.inject(fault, call, environ, start_response)
        conditional = self.emu.s3_conditional.applies(call)
        # s3_conditional parks its own calls mid-flight.
        if not conditional and self.emu.holds.wait(call):
            return holds.dropped(environ, start_response)
        try:
            answer = self.handle_here(call, account, params)
        except ApiError as e:
            answer = error_answer(call.service, e)
        if answer is None and conditional:
            return self.emu.s3_conditional.serve(call, environ, start_response, self.pass_to_moto)
        if answer is None:
            return self.pass_to_moto(call, environ, start_response)
        status, headers, payload = answer
        self.log(call, status)
        start_response(status_line(status), headers)
        return [payload.encode("utf-8") if isinstance(payload, str) else payload]

    def handle_here(self, call, account, params):
        """An answer for what moto does not model, or None to let moto answer."""
        with self.emu.lock:
            self.emu.strict.check(call)
        unsigned = "authorization" not in call.headers and "X-Amz-Signature" not in call.raw_query
        moved = s3_region.redirect(call)
        if moved is not None:
            return moved
        if call.service is None and unsigned and not call.path.startswith("/datastore/"):
            refused = origins.anonymous_s3_refusal(call.method, call.path)
            if refused is not None:
                return refused
        if call.service == "medical-imaging" or (call.service is None and call.path.startswith("/datastore/")):
            raw_path = call.raw_path.split("?", 1)[0]
            with self.emu.lock:
                return self.emu.healthimaging.handle(call, raw_path)
        if call.service == "cloudfront" and call.operation:
            with self.emu.lock:
                return self.emu.cloudfront.handle(call, account, call.operation, params)
        if call.service == "servicequotas":
            with self.emu.lock:
                return service_quotas.handle(call, account, self.emu.config)
        if call.service == "ecr" and call.operation == "GetDownloadUrlForLayer":
            with self.emu.lock:
                return self.emu.ecr.download_url(call, account)
        if call.service == "lambda" and call.operation == "ListFunctions" and call.q("MasterRegion"):
            with self.emu.lock:
                self.emu.cloudfront.tick()
                return self.emu.replicas.list_functions(call, account)
        if call.service == "lambda" and call.operation == "DeleteFunction":
            with self.emu.lock:
                self.emu.cloudfront.tick()
                blocked = self.emu.replicas.blocked_delete(call, account)
            if blocked is not None:
                raise blocked
        return None

    def account(self, call):
        if call.headers.get("x-moto-account-id"):
            return call.headers["x-moto-account-id"]
        from moto.iam.models import get_account_id_from

        match = ACCESS_KEY.search(call.headers.get("authorization", ""))
        return get_account_id_from(match.group(1)) if match else "123456789012"

    def pass_to_moto(self, call, environ, start_response):
        seen = {}
        # S3 hands bucket policies back normalised (s3_policy.py): moto's
        # answer is held, rewritten, then sent.
        rewrite = call.service == "s3" and call.operation == "GetBucketPolicy"

        def recording_start_response(status, headers, exc_info=None):
            seen["status"] = int(status.split()[0])
            if rewrite:
                seen["line"], seen["headers"] = status, headers
                return lambda _data: None
            return start_response(status, headers, exc_info)

        result = self.moto(environ, recording_start_response)
        self.log(call, seen.get("status", 0))
        if rewrite:
            body, headers = list(result), seen["headers"]
            if seen["status"] == 200:
                body, headers = s3_policy.rewrite_answer(body, headers)
            start_response(seen["line"], headers)
            return body
        return result

    def raw(self, answer, environ, start_response):
        """A plain HTTP answer (status 0: the connection dropped)."""
        status, headers, body = answer
        if status == 0:
            return drop(environ, start_response)
        start_response(status_line(status), headers + [("Content-Length", str(len(body)))])
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]

    def inject(self, fault, call, environ, start_response):
        if fault.kind == "drop":
            self.log(call, 0, fault=fault.kind)
            return drop(environ, start_response)
        if fault.kind == "throttle":
            code, status = protocol.throttle_code(call.service), protocol.throttle_status(call.service)
            message = "Rate exceeded"
        elif fault.kind == "500":
            code, status, message = protocol.internal_code(call.service), 500, "We encountered an internal error. Please try again."
        else:
            code, status, message = fault.code, fault.status, fault.message
        self.log(call, status, fault=fault.kind)
        line, headers, body = protocol.error(call.service, code, message, status)
        start_response(line, headers)
        return [body.encode("utf-8")]

    def log(self, call, status, fault=None):
        if call.service is None and call.operation is None:
            return  # unsigned requests (moto's own dashboard) are not AWS calls
        with self.emu.lock:
            self.emu.record(call.service, call.operation, call.region, status, fault, call.path)

    # ---- control API -----------------------------------------------------------

    def control(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        path = environ.get("PATH_INFO").rstrip("/")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            doc = json.loads(raw) if raw else {}
            result = self.control_call(method, path, doc, environ)
            status = 200
        except (ValueError, TypeError) as e:
            result, status = {"error": str(e)}, 400
        except LookupError as e:
            result, status = {"error": f"no such control endpoint: {method} {path} ({e})"}, 404
        except Exception as e:  # a bug here must show in the test that hit it
            import traceback

            result, status = {"error": repr(e), "traceback": traceback.format_exc()}, 500
        body = json.dumps(result, indent=1).encode("utf-8")
        start_response(status_line(status), [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def control_call(self, method, path, doc, environ):
        emu = self.emu
        with emu.lock:
            if path == "/_ahi/health":
                return {"ok": True}
            if path.startswith("/_ahi/holds"):
                return emu.holds.control(method, path, doc)
            if path == "/_ahi/config" and method == "GET":
                return emu.config.as_json()
            if path == "/_ahi/config" and method == "POST":
                emu.config.update(doc)
                return emu.config.as_json()
            if path == "/_ahi/faults" and method == "GET":
                return [f.as_json() for f in emu.faults.values()]
            if path == "/_ahi/faults" and method == "POST":
                return emu.add_fault(doc).as_json()
            if path == "/_ahi/faults" and method == "DELETE":
                emu.faults.clear()
                return {"cleared": True}
            if path == "/_ahi/calls" and method == "GET":
                return list(emu.calls)
            if path == "/_ahi/calls" and method == "DELETE":
                emu.calls.clear()
                return {"cleared": True}
            if path == "/_ahi/edge/targets" and method == "POST":
                arn, url = doc.get("target_group_arn"), doc.get("url")
                if not arn or not isinstance(url, str) or not url.startswith(("http://127.0.0.1", "http://localhost")):
                    raise ValueError("give target_group_arn and url (http://127.0.0.1:PORT): the local edge "
                                     "delivers only on loopback")
                emu.edge.origins.targets[arn] = url.rstrip("/")
                return dict(emu.edge.origins.targets)
            if path.startswith("/_ahi/ecs/"):
                return emu.tasks.control(method, path, doc)
            if path.startswith("/_ahi/ecr/"):
                return emu.ecr.control(method, path, doc)
            if path == "/_ahi/cognito/pools" and method == "POST":
                from . import cognito

                return cognito.seed(doc.get("account", "123456789012"), doc)
            if path.startswith("/_ahi/oidc/"):
                return emu.oidc.control(method, path, doc)
            if path == "/_ahi/healthimaging/image-sets" and method == "POST":
                return emu.healthimaging.seed(doc)
            if path == "/_ahi/edge/targets" and method == "GET":
                return dict(emu.edge.origins.targets)
            if path == "/_ahi/edge/cache" and method == "DELETE":
                emu.edge.flush()
                return {"flushed": True}
            if path == "/_ahi/edge/logs" and method == "GET":
                return list(emu.edge.logs)
            if path == "/_ahi/edge/stats" and method == "GET":
                return dict(emu.edge.stats)
            if path == "/_ahi/resources" and method == "GET":
                emu.cloudfront.tick()
                return inventory.resources(emu)
            if path == "/_ahi/reset" and method == "POST":
                from moto.moto_api._internal.models import moto_api_backend

                moto_api_backend.reset()
                emu.cloudfront.reset()
                emu.replicas.reset()
                emu.edge.reset()
                emu.healthimaging.reset()
                emu.ecr.reset()
                emu.tasks.reset()
                emu.oidc.reset()
                emu.strict.reset()
                emu.holds.reset()
                emu.s3_conditional.reset()
                emu.config.switches = dict(state.DEFAULT_SWITCHES)
                emu.config.quotas = dict(state.DEFAULT_QUOTAS)
                emu.faults.clear()
                emu.calls.clear()
                return {"reset": True}
        raise LookupError("see docs/testing.md")


def cognito_jwks(pool_id, region):
    """(status, body): moto's signing key for every pool (moto signs every
    pool's tokens with it), 404 for a pool that does not exist."""
    import gzip
    import os

    from moto.cognitoidp import models
    from moto.cognitoidp.models import cognitoidp_backends

    exists = any(pool_id in backend.user_pools for per_region in list(dict.values(cognitoidp_backends))
                 for name, backend in list(dict.items(per_region)) if name == region)
    if not exists:
        return 404, json.dumps({"message": f"User pool {pool_id} does not exist."}).encode()
    path = os.path.join(os.path.dirname(models.__file__), "resources", "jwks-public.json.gz")
    with gzip.open(path) as f:
        return 200, f.read()


def drop(environ, start_response):
    """Closes the connection with no answer at all."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    # Writing to the shut socket fails; the server treats that as a
    # dropped connection and the client sees no response at all.
    start_response("500 Internal Server Error", [("Content-Length", "0")])
    return [b""]


def error_answer(service, e):
    line, headers, body = protocol.error(service or "cloudfront", e.code, e.message, e.status)
    return int(line.split()[0]), headers, body


def stripping(header, start_response):
    """start_response without `header` (a strip_header fault)."""
    def start(status, headers, exc_info=None):
        return start_response(status, [(k, v) for k, v in headers if k.lower() != header.lower()], exc_info)
    return start


def status_line(status):
    return f"{status} {protocol.STATUS_TEXT.get(status, 'OK' if status < 300 else 'Error')}"
