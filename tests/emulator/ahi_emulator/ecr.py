"""ECR images with an architecture, and the registry's blob store.

moto models repositories and images (DescribeImages, BatchGetImage answer
with AWS's shapes) but keeps no blob bytes and lacks GetDownloadUrlForLayer.
Here:

- `POST /_ahi/ecr/images` pushes an image as `docker buildx` would: a config
  blob naming the architecture and OS, one layer, a single-platform manifest
  (docker v2 or OCI) and, for `index`, per-platform manifests pushed by
  digest plus a manifest list / OCI index carrying the tag (optionally with
  buildx's `unknown/unknown` attestation manifests).
- GetDownloadUrlForLayer answers a URL on the emulator
  (`/_ahi/ecr/blobs/<digest>`) that serves the blob without signing, as a
  presigned S3 URL does; layers uploaded through the ECR API are kept too.
- BatchGetImage checks `registryId` as DescribeImages does (moto ignores it).
"""

import functools
import gzip
import hashlib
import io
import json
import re
import tarfile

from .xmlutil import ApiError

DEFAULT_ACCOUNT = "123456789012"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
IN_TOTO = "application/vnd.in-toto+json"

BLOB_PATH = "/_ahi/ecr/blobs/"
# AWS's patterns (botocore's ECR model): RepositoryName, LayerDigest.
REPOSITORY = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*")
LAYER_DIGEST = re.compile(r"[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+")
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,299}")
REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d")
ACCOUNT = re.compile(r"\d{12}")
PLATFORM_WORD = re.compile(r"[a-z0-9]+")

_INSTALLED = []


def digest_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def backend(account, region):
    from moto.ecr.models import ecr_backends

    return ecr_backends[account][region]


class Registry:
    """Blob bytes by digest (content-addressed, so shared by every
    repository); which repository holds which digest is moto's
    `repository.layers`."""

    def __init__(self, emulator):
        self.emu = emulator
        self.blobs = {}

    def reset(self):
        self.blobs.clear()

    # ---- control: pushing an image ---------------------------------------------

    def control(self, method, path, doc):
        if path == "/_ahi/ecr/images" and method == "POST":
            return self.push(doc)
        raise LookupError("see docs/testing.md, ECR images")

    def push(self, doc):
        if not isinstance(doc, dict):
            raise ValueError("send a JSON object: {\"region\", \"repository\", \"tag\", \"architecture\", ...}")
        unknown = set(doc) - {"region", "account", "repository", "tag", "architecture", "os", "variant", "index",
                              "platforms", "oci", "attestations"}
        if unknown:
            raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
        region = doc.get("region", "us-east-1")
        account = doc.get("account", DEFAULT_ACCOUNT)
        repository, tag = doc.get("repository"), doc.get("tag")
        if not isinstance(region, str) or not REGION.fullmatch(region):
            raise ValueError(f"region must be a region name such as us-east-1, not {region!r}")
        if not isinstance(account, str) or not ACCOUNT.fullmatch(account):
            raise ValueError(f"account must be 12 digits, not {account!r}")
        if not isinstance(repository, str) or not REPOSITORY.fullmatch(repository) or not 2 <= len(repository) <= 256:
            raise ValueError(f"repository must be an ECR repository name (lower case), not {repository!r}")
        if not isinstance(tag, str) or not TAG.fullmatch(tag):
            raise ValueError(f"tag must be an image tag such as 0.1.0, not {tag!r}")
        oci = doc.get("oci", False)
        index = doc.get("index", False)
        attestations = doc.get("attestations", False)
        for name, value in (("oci", oci), ("index", index), ("attestations", attestations)):
            if not isinstance(value, bool):
                raise ValueError(f"{name} is true or false")
        os_name = doc.get("os", "linux")
        platforms = doc.get("platforms")
        if platforms is None:
            architecture = doc.get("architecture")
            platforms = [architecture + ("/" + doc["variant"] if doc.get("variant") else "")] \
                if isinstance(architecture, str) else None
        if not isinstance(platforms, list) or not platforms or not all(isinstance(p, str) for p in platforms):
            raise ValueError("give architecture (amd64, arm64, ...), or platforms: [\"amd64\", \"arm64\"] with index")
        if len(platforms) > 1 and not index:
            raise ValueError("several platforms need \"index\": true (a manifest list / OCI index)")
        if attestations and not index:
            raise ValueError("attestations go in an index: give \"index\": true")
        parsed = [platform(p, os_name) for p in platforms]

        repo = self.repository(account, region, repository)
        if not index:
            media_type, manifest = self.single(repo, tag, parsed[0], oci)
        else:
            entries = []
            for arch in parsed:
                child_type, child = self.single(repo, tag, arch, oci)
                self.put(account, region, repository, child, child_type, None)
                entries.append({"mediaType": child_type, "size": len(child), "digest": digest_of(child),
                                "platform": arch})
                if attestations:
                    entries.append(self.attestation(repo, digest_of(child), oci))
            media_type = OCI_INDEX if oci else DOCKER_LIST
            manifest = dumps({"schemaVersion": 2, "mediaType": media_type, "manifests": entries})
        self.put(account, region, repository, manifest, media_type, tag)
        return {"digest": digest_of(manifest), "mediaType": media_type,
                "image": f"{account}.dkr.ecr.{region}.amazonaws.com/{repository}:{tag}"}

    def repository(self, account, region, name):
        ecr = backend(account, region)
        if name not in ecr.repositories:
            ecr.create_repository(name, None, None, None, None, [])
        return ecr.repositories[name]

    def store(self, repo, data):
        digest = digest_of(data)
        self.blobs[digest] = data
        repo.layers[digest] = len(data)
        return digest

    def single(self, repo, tag, arch, oci):
        """A single-platform manifest (bytes as pushed) and its media type.
        The tag is a label of the config, so different tags are different
        images and pushing the same one again changes nothing."""
        layer = layer_bytes(f"{repo.name}:{tag} {arch['os']}/{arch['architecture']}")
        config = {
            "architecture": arch["architecture"], "os": arch["os"],
            "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                       "Labels": {"org.opencontainers.image.version": tag}},
            "created": "1970-01-01T00:00:00Z",
            "rootfs": {"type": "layers", "diff_ids": [digest_of(gzip.decompress(layer))]},
            "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "ahi-edge emulator"}],
        }
        if arch.get("variant"):
            config["variant"] = arch["variant"]
        config_bytes = dumps(config)
        media_type = OCI_MANIFEST if oci else DOCKER_MANIFEST
        manifest = dumps({
            "schemaVersion": 2, "mediaType": media_type,
            "config": {"mediaType": OCI_CONFIG if oci else DOCKER_CONFIG, "size": len(config_bytes),
                       "digest": self.store(repo, config_bytes)},
            "layers": [{"mediaType": OCI_LAYER if oci else DOCKER_LAYER, "size": len(layer),
                        "digest": self.store(repo, layer)}],
        })
        return media_type, manifest

    def attestation(self, repo, subject, oci):
        """What buildx adds beside each platform (provenance): an OCI
        manifest whose platform is unknown/unknown."""
        statement = dumps({"_type": "https://in-toto.io/Statement/v0.1", "subject": [{"digest": subject}]})
        config = dumps({"architecture": "unknown", "os": "unknown", "config": {}, "rootfs": {"type": "layers",
                                                                                            "diff_ids": []}})
        manifest = dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "size": len(config), "digest": self.store(repo, config)},
            "layers": [{"mediaType": IN_TOTO, "size": len(statement), "digest": self.store(repo, statement),
                        "annotations": {"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"}}],
        })
        account, region = repo.registry_id, repo.region_name
        self.put(account, region, repo.name, manifest, OCI_MANIFEST, None)
        return {"mediaType": OCI_MANIFEST, "size": len(manifest), "digest": digest_of(manifest),
                "platform": {"architecture": "unknown", "os": "unknown"},
                "annotations": {"vnd.docker.reference.digest": subject,
                                "vnd.docker.reference.type": "attestation-manifest"}}

    def put(self, account, region, repository, manifest, media_type, tag):
        from moto.ecr.exceptions import ImageAlreadyExistsException

        text = manifest.decode("utf-8")
        ecr = backend(account, region)
        existing = [i for i in ecr.repositories[repository].images if i.image_manifest == text]
        if existing and (tag is None or tag in existing[0].image_tags):
            return  # the same bytes pushed again: nothing changes, as on a registry
        try:
            ecr.put_image(repository, text, tag, media_type, digest_of(manifest))
        except ImageAlreadyExistsException:
            pass

    # ---- GetDownloadUrlForLayer ---------------------------------------------------

    def download_url(self, call, account):
        try:
            params = json.loads(call.body or b"{}")
        except ValueError:
            raise ApiError("SerializationException", "Start of structure or map found where not expected.") from None
        name, digest = params.get("repositoryName"), params.get("layerDigest")
        for field, value in (("repositoryName", name), ("layerDigest", digest)):
            if not isinstance(value, str) or not value:
                raise ApiError("InvalidParameterException",
                               f"1 validation error detected: Value null at '{field}' failed to satisfy "
                               f"constraint: Member must not be null")
        if not LAYER_DIGEST.fullmatch(digest):
            raise ApiError("InvalidParameterException",
                           f"Invalid parameter at 'layerDigest' failed to satisfy constraint: 'must satisfy "
                           f"regular expression '{LAYER_DIGEST.pattern}''")
        repo = moto_call(lambda: backend(account, call.region)._get_repository(name, params.get("registryId")))
        if digest not in repo.layers or digest not in self.blobs:
            raise ApiError("LayersNotFoundException",
                           f"The layer with digest {digest} does not exist within the repository with name "
                           f"'{name}' in the registry with id '{repo.registry_id}'")
        if digest not in referenced(repo):
            raise ApiError("LayerInaccessibleException",
                           "The specified layer is not available because it is not associated with an image. "
                           "Unassociated image layers may be cleaned up at any time.")
        host = call.headers.get("host", "127.0.0.1")
        body = json.dumps({"downloadUrl": f"http://{host}{BLOB_PATH}{digest}", "layerDigest": digest})
        return 200, [("Content-Type", "application/x-amz-json-1.1")], body

    def blob(self, environ):
        """(status, headers, body) for a GET of a blob URL, else None."""
        path = environ.get("PATH_INFO", "")
        if not path.startswith(BLOB_PATH) or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return None
        with self.emu.lock:
            data = self.blobs.get(path[len(BLOB_PATH):])
        if data is None:
            body = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code>'
                    b'<Message>The specified key does not exist.</Message></Error>')
            return 404, [("Content-Type", "application/xml")], body
        return 200, [("Content-Type", "application/octet-stream")], data


def platform(text, os_name):
    parts = text.split("/")
    if len(parts) > 2 or not all(PLATFORM_WORD.fullmatch(p) for p in parts) or not PLATFORM_WORD.fullmatch(os_name):
        raise ValueError(f"a platform is an architecture with an optional variant (amd64, arm64, arm64/v8), "
                         f"not {text!r}; os is a word such as linux, not {os_name!r}")
    found = {"architecture": parts[0], "os": os_name}
    if len(parts) == 2:
        found["variant"] = parts[1]
    return found


def referenced(repo):
    """Every blob digest an image in the repository's manifests names."""
    digests = set()
    for image in repo.images:
        try:
            manifest = json.loads(image.image_manifest)
        except ValueError:
            continue
        for entry in [manifest.get("config") or {}] + list(manifest.get("layers") or []):
            if isinstance(entry, dict) and entry.get("digest"):
                digests.add(entry["digest"])
    return digests


def moto_call(function):
    """Runs a moto backend call, its errors as ours (same code and message)."""
    from moto.core.exceptions import ServiceException

    try:
        return function()
    except ServiceException as e:
        raise ApiError(e.code, e.message, 400) from None


def dumps(value):
    return json.dumps(value, indent=3).encode("utf-8")


def layer_bytes(label):
    """A real gzipped tar holding one file, the same bytes every time."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        content = f"built by the ahi-edge emulator for {label}\n".encode()
        info = tarfile.TarInfo("etc/ahi-emulator-image")
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0)


def install(emulator):
    """BatchGetImage checks the registry id; layers uploaded through the API
    keep their bytes so GetDownloadUrlForLayer can serve them."""
    if _INSTALLED:
        _INSTALLED[0] = emulator
        return
    _INSTALLED.append(emulator)
    from moto.ecr.models import ECRBackend

    batch_get, complete = ECRBackend.batch_get_image, ECRBackend.complete_layer_upload

    @functools.wraps(batch_get)
    def batch_get_image(self, repository_name, registry_id=None, image_ids=None):
        if repository_name in self.repositories:
            self._get_repository(repository_name, registry_id)
        return batch_get(self, repository_name, registry_id, image_ids)

    @functools.wraps(complete)
    def complete_layer_upload(self, repository_name, upload_id, layer_digests, registry_id=None):
        upload = self._get_repository(repository_name, registry_id).uploads.get(upload_id)
        data = bytes(upload.layer_parts) if upload is not None else None
        result = complete(self, repository_name, upload_id, layer_digests, registry_id)
        if data is not None:
            _INSTALLED[0].ecr.blobs[result["layerDigest"]] = data
        return result

    ECRBackend.batch_get_image = batch_get_image
    ECRBackend.complete_layer_upload = complete_layer_upload
