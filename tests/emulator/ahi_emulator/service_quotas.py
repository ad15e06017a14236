"""CloudFront's quotas as Service Quotas tells them (moto 5.2.5 answers only
`vpc`): the values the emulator's CloudFront enforces (`config.quotas`).

- Service code `cloudfront`, called in us-east-1 (a global service's quotas
  are read there). Quota codes as ListServiceQuotas lists them (collected in
  docs/testing.md, "Where we had to guess", with their sources).
- `GetServiceQuota` answers an applied value only for a quota the account
  has had changed (an increase, here: a value other than the default); for
  the others it answers `NoSuchResourceException`, which the API reference
  allows ("for some quotas, only the default values are available"), and
  `GetAWSDefaultServiceQuota` answers the default.
- Another region, or another service code: `NoSuchResourceException`, as
  moto answers.
"""

import json

from . import state
from .xmlutil import ApiError

# Quota code -> (the emulator's quota, Service Quotas' name).
CLOUDFRONT = {
    "L-F432D044": ("cache_behaviors", "Cache behaviors per distribution"),
    "L-B4048FB4": ("origins", "Origins per distribution"),
    "L-302B5900": ("public_keys", "Public keys per AWS account"),
    "L-D64DA6E2": ("key_groups", "Key groups per AWS account"),
    "L-9EBD26CA": ("public_keys_per_key_group", "Public keys in a single key group"),
}

NO_SUCH = ("NoSuchResourceException",
           "This service is not available in the current Region. Choose a different Region or a different service.")


def _quota(code, account, value):
    return {
        "ServiceCode": "cloudfront",
        "ServiceName": "Amazon CloudFront",
        "QuotaArn": f"arn:aws:servicequotas:us-east-1:{account}:cloudfront/{code}",
        "QuotaCode": code,
        "QuotaName": CLOUDFRONT[code][1],
        "Value": float(value),
        "Unit": "None",
        "Adjustable": True,
        "GlobalQuota": False,
    }


def handle(call, account, config):
    """An answer for Service Quotas' CloudFront quotas, or None for moto."""
    if call.operation not in ("GetServiceQuota", "GetAWSDefaultServiceQuota"):
        return None
    doc = json.loads(call.body or b"{}")
    if doc.get("ServiceCode") != "cloudfront":
        return None
    code = doc.get("QuotaCode")
    if call.region != "us-east-1" or code not in CLOUDFRONT:
        raise ApiError(*NO_SUCH, 400)
    name = CLOUDFRONT[code][0]
    if call.operation == "GetAWSDefaultServiceQuota":
        value = state.DEFAULT_QUOTAS[name]
    elif config.quotas[name] != state.DEFAULT_QUOTAS[name]:
        value = config.quotas[name]
    else:
        raise ApiError(*NO_SUCH, 400)
    body = json.dumps({"Quota": _quota(code, account, value)})
    return 200, [("Content-Type", "application/x-amz-json-1.1")], body
