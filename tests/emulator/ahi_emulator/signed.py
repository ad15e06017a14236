"""CloudFront signed URLs and signed cookies, checked against the public keys
of the key groups a cache behaviour trusts: canned policies (`Expires`) and
custom ones (`Policy`: resource wildcards, DateLessThan, DateGreaterThan,
IpAddress), RSA-SHA1 with CloudFront's URL-safe base64 (`+=/` -> `-_~`).

Returns None when the request may pass, or (code, message) for CloudFront's
403 answer."""

import base64
import ipaddress
import json
import re
import time
from urllib.parse import parse_qsl, unquote

SIGNING_PARAMS = ("Expires", "Policy", "Signature", "Key-Pair-Id")


def cf_b64decode(value):
    value = value.replace("-", "+").replace("_", "=").replace("~", "/")
    return base64.b64decode(value + "=" * (-len(value) % 4))


def strip_signing(query):
    """The query string without the signing parameters, order kept."""
    kept = [p for p in query.split("&") if p and p.split("=", 1)[0] not in SIGNING_PARAMS]
    return "&".join(kept)


def canned_policy(resource, expires):
    return json.dumps(
        {"Statement": [{"Resource": resource, "Condition": {"DateLessThan": {"AWS:EpochTime": int(expires)}}}]},
        separators=(",", ":"),
    )


def _verify(key, signature, message):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA1())
        return True
    except InvalidSignature:
        return False


def _resource_matches(pattern, url):
    # `*` matches any run of characters and `?` one, across `/` too.
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, url) is not None


def check(keys, domain, path, query, cookies, viewer_ip, now=None):
    """keys: public key id -> key object; path as requested; query raw."""
    now = time.time() if now is None else now
    params = dict(parse_qsl(query, keep_blank_values=True))
    if "Signature" in params or "Key-Pair-Id" in params:
        source = {"Expires": params.get("Expires"), "Policy": params.get("Policy"),
                  "Signature": params.get("Signature"), "Key-Pair-Id": params.get("Key-Pair-Id")}
    else:
        source = {"Expires": cookies.get("CloudFront-Expires"), "Policy": cookies.get("CloudFront-Policy"),
                  "Signature": cookies.get("CloudFront-Signature"), "Key-Pair-Id": cookies.get("CloudFront-Key-Pair-Id")}
    if not source["Key-Pair-Id"]:
        return "MissingKey", "Missing Key-Pair-Id query parameter or cookie value"
    if not source["Signature"]:
        return "MissingKey", "Missing Signature query parameter or cookie value"
    key = keys.get(source["Key-Pair-Id"])
    if key is None:
        return "InvalidKey", "Unknown Key"
    try:
        signature = cf_b64decode(source["Signature"])
    except ValueError:
        return "MalformedSignature", "Could not decode signature"
    remaining = strip_signing(query)
    urls = [f"{scheme}://{domain}{path}" + (f"?{remaining}" if remaining else "") for scheme in ("https", "http")]
    if source["Policy"]:
        try:
            policy_bytes = cf_b64decode(source["Policy"])
            policy = json.loads(policy_bytes)
            statement = policy["Statement"][0]
        except (ValueError, KeyError, IndexError, TypeError):
            return "MalformedPolicy", "Malformed Policy"
        if not _verify(key, signature, policy_bytes):
            return "AccessDenied", "Access denied"
        resource = statement.get("Resource", "*")
        if not any(_resource_matches(resource, url) for url in urls):
            return "AccessDenied", "Access denied"
        condition = statement.get("Condition", {})
        less = condition.get("DateLessThan", {}).get("AWS:EpochTime")
        if less is None or now >= int(less):
            return "AccessDenied", "Access denied"
        greater = condition.get("DateGreaterThan", {}).get("AWS:EpochTime")
        if greater is not None and now < int(greater):
            return "AccessDenied", "Access denied"
        cidr = condition.get("IpAddress", {}).get("AWS:SourceIp")
        if cidr is not None and ipaddress.ip_address(viewer_ip) not in ipaddress.ip_network(cidr, strict=False):
            return "AccessDenied", "Access denied"
        return None
    if not source["Expires"] or not source["Expires"].isdigit():
        return "MissingKey", "Missing Expires query parameter or cookie value"
    if not any(_verify(key, signature, canned_policy(url, source["Expires"]).encode()) for url in urls):
        return "AccessDenied", "Access denied"
    if now >= int(source["Expires"]):
        return "AccessDenied", "Access denied"
    return None


def cookies_of(header):
    out = {}
    for part in (header or "").split(";"):
        if "=" in part:
            name, value = part.strip().split("=", 1)
            out[name] = unquote(value)
    return out

