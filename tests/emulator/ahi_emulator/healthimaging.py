"""A minimal HealthImaging data plane, so the whole chain runs locally
(viewer -> local edge -> authorizer -> ALB -> regional proxy -> here):
GetImageFrame, GetImageSetMetadata and GetImageSet on the runtime host's
paths, for image sets seeded with `POST /_ahi/healthimaging/image-sets`.

Every call must carry a valid SigV4 signature for the signing name
`medical-imaging`, made with a secret the emulator knows
(`/_ahi/config` `signing_secrets`, access key id -> secret): an unknown
key is UnrecognizedClientException, a wrong signature
InvalidSignatureException, as AWS answers."""

import base64
import datetime
import gzip
import hashlib
import hmac
import json
import re
from urllib.parse import parse_qsl, quote

from .xmlutil import ApiError

ID = re.compile(r"^[0-9a-z]{32}$")
AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<signed>[^,]+),\s*Signature=(?P<signature>[0-9a-f]{64})$")
ROUTES = [
    (re.compile(r"^/datastore/(?P<ds>[^/]+)/imageSet/(?P<is>[^/]+)/getImageFrame$"), "GetImageFrame"),
    (re.compile(r"^/datastore/(?P<ds>[^/]+)/imageSet/(?P<is>[^/]+)/getImageSetMetadata$"), "GetImageSetMetadata"),
    (re.compile(r"^/datastore/(?P<ds>[^/]+)/imageSet/(?P<is>[^/]+)/getImageSet$"), "GetImageSet"),
]


def operation(path):
    for pattern, name in ROUTES:
        match = pattern.match(path)
        if match:
            return name, match["ds"], match["is"]
    return None, None, None


class ImageSet:
    def __init__(self, doc):
        self.region = doc.get("region", "us-east-1")
        self.datastore = doc.get("datastore_id", "")
        self.image_set = doc.get("image_set_id", "")
        for name, value in (("datastore_id", self.datastore), ("image_set_id", self.image_set)):
            if not ID.match(value):
                raise ValueError(f"{name} must be 32 lower-case letters or digits, as HealthImaging's ids are")
        self.version = str(doc.get("version", "1"))
        self.metadata = doc.get("metadata") or {}
        frames = doc.get("frames") or {}
        if not isinstance(frames, dict):
            raise ValueError("frames maps an imageFrameId to its bytes in base64")
        self.frames = {frame_id: base64.b64decode(data) for frame_id, data in frames.items()}


class HealthImaging:
    def __init__(self, emulator):
        self.emu = emulator
        self.image_sets = {}  # (region, datastore, image set) -> ImageSet

    def reset(self):
        self.image_sets.clear()

    def seed(self, doc):
        image_set = ImageSet(doc)
        self.image_sets[(image_set.region, image_set.datastore, image_set.image_set)] = image_set
        return {"region": image_set.region, "datastore_id": image_set.datastore, "image_set_id": image_set.image_set,
                "frames": sorted(image_set.frames), "version": image_set.version}

    def handle(self, call, raw_path):
        name, datastore, image_set_id = operation(call.path)
        if name is None or call.method != "POST":
            raise ApiError("UnknownOperationException", "The requested operation is not recognized by the service.", 404)
        call.operation = name
        self.check_signature(call, raw_path)
        image_set = self.image_sets.get((call.region, datastore, image_set_id))
        if image_set is None:
            raise ApiError("ResourceNotFoundException", f"Image set {image_set_id} does not exist in data store {datastore}.", 404)
        if name == "GetImageFrame":
            try:
                frame_id = json.loads(call.body or b"{}").get("imageFrameId")
            except ValueError:
                raise ApiError("ValidationException", "The request body is not JSON.") from None
            frame = image_set.frames.get(frame_id)
            if frame is None:
                raise ApiError("ResourceNotFoundException", f"Image frame {frame_id} does not exist.", 404)
            return 200, [("Content-Type", "application/octet-stream")], frame
        version = call.q("version")
        if version is not None and version != image_set.version:
            raise ApiError("ResourceNotFoundException", f"Version {version} of image set {image_set_id} does not exist.", 404)
        if name == "GetImageSetMetadata":
            body = gzip.compress(json.dumps(image_set.metadata).encode(), mtime=0)
            return 200, [("Content-Type", "application/json"), ("Content-Encoding", "gzip")], body
        doc = {"datastoreId": datastore, "imageSetId": image_set_id, "versionId": image_set.version,
               "imageSetState": "ACTIVE", "imageSetWorkflowStatus": "CREATED"}
        return 200, [("Content-Type", "application/json")], json.dumps(doc)

    # ---- SigV4 -------------------------------------------------------------

    def check_signature(self, call, raw_path):
        match = AUTH.match(call.headers.get("authorization", ""))
        if match is None:
            raise ApiError("MissingAuthenticationTokenException", "Missing Authentication Token", 403)
        secret = self.emu.config.signing_secrets.get(match["key"])
        if secret is None:
            raise ApiError("UnrecognizedClientException", "The security token included in the request is invalid.", 403)
        if match["service"] != "medical-imaging":
            raise ApiError("InvalidSignatureException",
                           f"Credential should be scoped to correct service: 'medical-imaging'.", 403)
        amz_date = call.headers.get("x-amz-date", "")
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            raise ApiError("IncompleteSignatureException", "X-Amz-Date is missing or malformed.", 403) from None
        if abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) > 900:
            raise ApiError("InvalidSignatureException", "Signature expired: the request time is more than 15 minutes "
                                                        "from the server's.", 403)
        expected = signature(secret, match, call, raw_path, amz_date)
        if not hmac.compare_digest(expected, match["signature"]):
            raise ApiError("InvalidSignatureException",
                           "The request signature we calculated does not match the signature you provided. "
                           "Check your AWS Secret Access Key and signing method.", 403)


def signature(secret, match, call, raw_path, amz_date):
    signed = match["signed"].split(";")
    canonical_headers = "".join(f"{h}:{' '.join((call.headers.get(h) or '').split())}\n" for h in signed)
    pairs = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~"))
                   for k, v in parse_qsl(call.raw_query, keep_blank_values=True))
    payload = call.headers.get("x-amz-content-sha256") or hashlib.sha256(call.body or b"").hexdigest()
    canonical = "\n".join([
        call.method, quote(raw_path or "/", safe="/~"), "&".join(f"{k}={v}" for k, v in pairs),
        canonical_headers, match["signed"], payload,
    ])
    scope = f"{match['date']}/{match['region']}/{match['service']}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (match["date"], match["region"], match["service"], "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
