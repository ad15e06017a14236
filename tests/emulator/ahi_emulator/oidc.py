"""OpenID Connect issuers, for the pre-flight of `[auth.oidc] issuer`.

A client pointed at the emulator sends its https fetches here as plain HTTP
with the original Host header kept (the convention edge_runtime.js uses for
*.amazonaws.com). A request whose Host is a registered issuer's host is
answered by that issuer before anything else sees it:

- `GET <issuer path>/.well-known/openid-configuration`: the discovery
  document (`issuer` = `advertised_issuer`, `jwks_uri` = issuer + jwks_path,
  `id_token_signing_alg_values_supported` = algorithms, ...);
- `GET <issuer path><jwks_path>`: one public key per asymmetric algorithm
  (RSA 2048 for RS*/PS*, P-256/384/521 for ES*, Ed25519 for EdDSA); HS*
  algorithms are advertised but have no public key, as on a real issuer;
- `discovery_status` / `jwks_status` other than 200 answer that status, and
  0 closes the connection without an answer (an issuer that is down).

Every answer is logged (`GET /_ahi/oidc/requests`)."""

import base64
import hashlib
import json
from urllib.parse import urlsplit

RSA_ALGORITHMS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
EC_ALGORITHMS = {"ES256": ("P-256", 32), "ES384": ("P-384", 48), "ES512": ("P-521", 66)}
SYMMETRIC = {"HS256", "HS384", "HS512"}
KNOWN = RSA_ALGORITHMS | set(EC_ALGORITHMS) | SYMMETRIC | {"EdDSA"}
DISCOVERY = "/.well-known/openid-configuration"
DEFAULT_PORTS = {"http": "80", "https": "443"}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def uint(number, size=None):
    size = size or (number.bit_length() + 7) // 8
    return b64url(number.to_bytes(size, "big"))


def public_jwk(algorithm):
    """A new key pair's public half as a JWK (kid = its RFC 7638 thumbprint)."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if algorithm in RSA_ALGORITHMS:
        numbers = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_numbers()
        required = {"e": uint(numbers.e), "kty": "RSA", "n": uint(numbers.n)}
    elif algorithm in EC_ALGORITHMS:
        curve, size = EC_ALGORITHMS[algorithm]
        curves = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}
        numbers = ec.generate_private_key(curves[curve]).public_key().public_numbers()
        required = {"crv": curve, "kty": "EC", "x": uint(numbers.x, size), "y": uint(numbers.y, size)}
    else:  # EdDSA
        from cryptography.hazmat.primitives import serialization

        raw = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        required = {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw)}
    thumbprint = b64url(hashlib.sha256(json.dumps(required, separators=(",", ":"), sort_keys=True).encode())
                        .digest())
    return dict(required, kid=thumbprint, alg=algorithm, use="sig")


def authority(scheme, netloc):
    """host[:port] as a Host header names it, default port left out."""
    host, _, port = netloc.lower().rpartition(":") if ":" in netloc else (netloc.lower(), "", "")
    return host if not port or port == DEFAULT_PORTS.get(scheme) else f"{host}:{port}"


class Issuer:
    def __init__(self, doc):
        unknown = set(doc) - {"issuer", "advertised_issuer", "jwks_status", "discovery_status", "algorithms",
                              "jwks_path"}
        if unknown:
            raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
        self.issuer = doc.get("issuer")
        parts = urlsplit(self.issuer) if isinstance(self.issuer, str) else None
        if parts is None or parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment \
                or parts.username or parts.password:
            raise ValueError(f"issuer must be an https URL with no query or fragment, such as "
                             f"https://login.example.com, not {self.issuer!r}")
        self.host = authority("https", parts.netloc)
        # OpenID Connect Discovery 1.0 section 4: a trailing slash is removed
        # before /.well-known/openid-configuration is appended.
        self.base = parts.path.rstrip("/")
        self.advertised = doc.get("advertised_issuer", self.issuer)
        self.jwks_path = doc.get("jwks_path", "/.well-known/jwks.json")
        if not isinstance(self.jwks_path, str) or not self.jwks_path.startswith("/"):
            raise ValueError(f"jwks_path is a path starting with /, not {self.jwks_path!r}")
        self.statuses = {}
        for name in ("discovery_status", "jwks_status"):
            status = doc.get(name, 200)
            if not isinstance(status, int) or isinstance(status, bool) or not (status == 0 or 100 <= status <= 599):
                raise ValueError(f"{name} is an HTTP status (or 0 for no answer at all), not {status!r}")
            self.statuses[name] = status
        self.algorithms = doc.get("algorithms", ["RS256"])
        if not isinstance(self.algorithms, list) or not self.algorithms or \
                not all(a in KNOWN for a in self.algorithms):
            raise ValueError(f"algorithms is a list of JWS algorithms from {', '.join(sorted(KNOWN))}, "
                             f"not {self.algorithms!r}")
        self.keys = [public_jwk(a) for a in self.algorithms if a not in SYMMETRIC]

    def discovery(self):
        return {
            "issuer": self.advertised,
            "authorization_endpoint": self.issuer.rstrip("/") + "/oauth2/authorize",
            "token_endpoint": self.issuer.rstrip("/") + "/oauth2/token",
            "userinfo_endpoint": self.issuer.rstrip("/") + "/oauth2/userInfo",
            "jwks_uri": self.issuer.rstrip("/") + self.jwks_path,
            "response_types_supported": ["code", "token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": list(self.algorithms),
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def answer(self, path):
        """(status, body) for a path of this issuer, or None when not its own."""
        if path == self.base + DISCOVERY:
            return self.statuses["discovery_status"], self.discovery()
        if path == self.base + self.jwks_path:
            return self.statuses["jwks_status"], {"keys": self.keys}
        return None


class Issuers:
    def __init__(self, emulator):
        self.emu = emulator
        self.issuers = {}  # issuer URL -> Issuer
        self.requests = []

    def reset(self):
        self.issuers.clear()
        self.requests.clear()

    def control(self, method, path, doc):
        if path == "/_ahi/oidc/issuers" and method == "POST":
            if not isinstance(doc, dict):
                raise ValueError("send a JSON object: {\"issuer\": \"https://login.example.com\", ...}")
            issuer = Issuer(doc)
            self.issuers[issuer.issuer] = issuer
            return {"issuer": issuer.issuer, "kid": issuer.keys[0]["kid"] if issuer.keys else None,
                    "kids": {k["alg"]: k["kid"] for k in issuer.keys},
                    "discovery_url": issuer.issuer.rstrip("/") + DISCOVERY,
                    "jwks_uri": issuer.discovery()["jwks_uri"]}
        if path == "/_ahi/oidc/issuers" and method == "GET":
            return [{"issuer": i.issuer, "advertised_issuer": i.advertised, "algorithms": i.algorithms,
                     "discovery_status": i.statuses["discovery_status"], "jwks_status": i.statuses["jwks_status"],
                     "kids": [k["kid"] for k in i.keys]} for i in self.issuers.values()]
        if path == "/_ahi/oidc/issuers" and method == "DELETE":
            self.issuers.clear()
            return {"cleared": True}
        if path == "/_ahi/oidc/requests" and method == "GET":
            return list(self.requests)
        if path == "/_ahi/oidc/requests" and method == "DELETE":
            self.requests.clear()
            return {"cleared": True}
        raise LookupError("see docs/testing.md, OIDC issuers")

    def answer(self, environ):
        """(status, headers, body) when the request is for a registered
        issuer's host (status 0: drop the connection), else None."""
        if not self.issuers:
            return None  # the usual case: every request passes here
        host = authority("http", environ.get("HTTP_HOST", ""))
        with self.emu.lock:
            mine = [i for i in self.issuers.values() if i.host in (host, authority("https", host))]
            if not mine:
                return None
            path = environ.get("PATH_INFO", "/")
            found = None
            if environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
                # The longest issuer path first: https://idp/realms/a/x before https://idp/realms/a.
                for issuer in sorted(mine, key=lambda i: len(i.base), reverse=True):
                    found = issuer.answer(path)
                    if found is not None:
                        break
            if found is None and host.endswith(".amazonaws.com"):
                return None  # an issuer on an AWS host (Cognito's) shares it with the rest of the emulator
            status, doc = found if found is not None else (404, {"error": "not_found"})
            self.requests.append({"host": host, "path": path, "status": status})
        if status == 0:
            return 0, [], b""
        body = json.dumps(doc if status == 200 else {"error": f"the issuer answered {status}"}).encode("utf-8")
        return status, [("Content-Type", "application/json"), ("Cache-Control", "max-age=300")], body
