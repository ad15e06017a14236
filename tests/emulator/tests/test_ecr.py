"""ECR images with an architecture: pushed with POST /_ahi/ecr/images, read
back as a pre-flight reads them (DescribeImages, BatchGetImage,
GetDownloadUrlForLayer and a plain GET of the blob), with AWS's errors."""

import hashlib
import json
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT

ACCEPTED = [
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
]


def push(control, **doc):
    body = {"region": "us-east-1", "repository": "ahi-regional-proxy", "tag": "0.1.0", "architecture": "amd64"}
    body.update(doc)
    return control.call("POST", "/_ahi/ecr/images", body)


def error(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def manifest_of(ecr, tag, repository="ahi-regional-proxy"):
    got = ecr.batch_get_image(registryId=ACCOUNT, repositoryName=repository, imageIds=[{"imageTag": tag}],
                              acceptedMediaTypes=ACCEPTED)
    assert got["failures"] == []
    (image,) = got["images"]
    return image


def config_of(ecr, manifest, repository="ahi-regional-proxy"):
    """The config blob as a pre-flight reads it: a download URL, then plain HTTP."""
    digest = manifest["config"]["digest"]
    url = ecr.get_download_url_for_layer(registryId=ACCOUNT, repositoryName=repository, layerDigest=digest)
    assert url["layerDigest"] == digest
    with urllib.request.urlopen(url["downloadUrl"]) as resp:  # no signature, as a presigned URL
        data = resp.read()
    assert "sha256:" + hashlib.sha256(data).hexdigest() == digest
    return json.loads(data)


def test_a_pushed_image_reads_back_with_its_manifest_and_architecture(control, aws):
    pushed = push(control, architecture="arm64")
    ecr = aws("ecr")
    (detail,) = ecr.describe_images(registryId=ACCOUNT, repositoryName="ahi-regional-proxy",
                                    imageIds=[{"imageTag": "0.1.0"}])["imageDetails"]
    assert (detail["imageDigest"], detail["imageTags"]) == (pushed["digest"], ["0.1.0"])
    assert detail["imageManifestMediaType"] == "application/vnd.docker.distribution.manifest.v2+json"

    image = manifest_of(ecr, "0.1.0")
    assert image["imageManifestMediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    # The digest is the manifest's own bytes, as a registry computes it.
    assert "sha256:" + hashlib.sha256(image["imageManifest"].encode()).hexdigest() == pushed["digest"]
    manifest = json.loads(image["imageManifest"])
    assert manifest["config"]["mediaType"] == "application/vnd.docker.container.image.v1+json"
    config = config_of(ecr, manifest)
    assert (config["architecture"], config["os"]) == ("arm64", "linux")
    # By digest too (an image given as REPO@sha256:...).
    by_digest = ecr.describe_images(registryId=ACCOUNT, repositoryName="ahi-regional-proxy",
                                    imageIds=[{"imageDigest": pushed["digest"]}])["imageDetails"]
    assert by_digest[0]["imageTags"] == ["0.1.0"]


def test_an_oci_image_has_oci_media_types(control, aws):
    push(control, oci=True, tag="oci")
    image = manifest_of(aws("ecr"), "oci")
    manifest = json.loads(image["imageManifest"])
    assert image["imageManifestMediaType"] == manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert config_of(aws("ecr"), manifest)["architecture"] == "amd64"


def test_an_index_names_each_platform(control, aws):
    pushed = push(control, index=True, platforms=["amd64", "arm64/v8"], tag="multi", attestations=True)
    ecr = aws("ecr")
    image = manifest_of(ecr, "multi")
    assert image["imageId"]["imageDigest"] == pushed["digest"]
    assert image["imageManifestMediaType"] == "application/vnd.docker.distribution.manifest.list.v2+json"
    entries = json.loads(image["imageManifest"])["manifests"]
    platforms = [(e["platform"]["architecture"], e["platform"]["os"], e["platform"].get("variant")) for e in entries]
    # buildx's attestation manifests sit beside each platform as unknown/unknown.
    assert platforms == [("amd64", "linux", None), ("unknown", "unknown", None),
                         ("arm64", "linux", "v8"), ("unknown", "unknown", None)]
    # Each platform's manifest is in the repository by digest, and its config agrees with the index.
    arm = entries[2]
    child = ecr.batch_get_image(repositoryName="ahi-regional-proxy", imageIds=[{"imageDigest": arm["digest"]}],
                                acceptedMediaTypes=ACCEPTED)["images"][0]
    assert config_of(ecr, json.loads(child["imageManifest"]))["architecture"] == "arm64"

    oci = push(control, index=True, oci=True, platforms=["amd64"], tag="oci-multi")
    image = manifest_of(ecr, "oci-multi")
    assert (image["imageManifestMediaType"], oci["mediaType"]) == ("application/vnd.oci.image.index.v1+json",) * 2


def test_pushing_the_same_image_again_changes_nothing_and_a_new_build_moves_the_tag(control, aws):
    first = push(control)
    assert push(control) == first
    moved = push(control, architecture="arm64")
    assert moved["digest"] != first["digest"]
    ecr = aws("ecr")
    (detail,) = ecr.describe_images(repositoryName="ahi-regional-proxy", imageIds=[{"imageTag": "0.1.0"}])[
        "imageDetails"]
    assert detail["imageDigest"] == moved["digest"]


def test_a_missing_tag_is_image_not_found(control, aws):
    push(control)
    ecr = aws("ecr")
    with pytest.raises(ClientError) as e:
        ecr.describe_images(registryId=ACCOUNT, repositoryName="ahi-regional-proxy", imageIds=[{"imageTag": "0.2.0"}])
    assert error(e) == ("ImageNotFoundException",
                        "The image with imageId {imageDigest:'null', imageTag:'0.2.0'} does not exist within the "
                        f"repository with name 'ahi-regional-proxy' in the registry with id '{ACCOUNT}'")
    got = ecr.batch_get_image(registryId=ACCOUNT, repositoryName="ahi-regional-proxy",
                              imageIds=[{"imageTag": "0.2.0"}], acceptedMediaTypes=ACCEPTED)
    assert got["images"] == []
    assert got["failures"] == [{"imageId": {"imageTag": "0.2.0"}, "failureCode": "ImageNotFound",
                                "failureReason": "Requested image not found"}]


def test_a_missing_repository_is_repository_not_found(control, aws):
    ecr = aws("ecr")
    message = f"The repository with name 'nope' does not exist in the registry with id '{ACCOUNT}'"
    with pytest.raises(ClientError) as e:
        ecr.describe_images(registryId=ACCOUNT, repositoryName="nope", imageIds=[{"imageTag": "0.1.0"}])
    assert error(e) == ("RepositoryNotFoundException", message)
    with pytest.raises(ClientError) as e:
        ecr.batch_get_image(registryId=ACCOUNT, repositoryName="nope", imageIds=[{"imageTag": "0.1.0"}])
    assert error(e) == ("RepositoryNotFoundException", message)
    with pytest.raises(ClientError) as e:
        ecr.get_download_url_for_layer(registryId=ACCOUNT, repositoryName="nope", layerDigest="sha256:" + "a" * 64)
    assert error(e) == ("RepositoryNotFoundException", message)


def test_a_repository_in_another_region_or_registry_is_not_found(control, aws):
    push(control, region="eu-west-1")
    assert aws("ecr", "eu-west-1").describe_images(repositoryName="ahi-regional-proxy")["imageDetails"]
    for client, registry in ((aws("ecr", "us-east-1"), ACCOUNT), (aws("ecr", "eu-west-1"), "210987654321")):
        with pytest.raises(ClientError) as e:
            client.describe_images(registryId=registry, repositoryName="ahi-regional-proxy",
                                   imageIds=[{"imageTag": "0.1.0"}])
        assert error(e) == ("RepositoryNotFoundException", "The repository with name 'ahi-regional-proxy' does not "
                                                           f"exist in the registry with id '{registry}'")
        with pytest.raises(ClientError) as e:
            client.batch_get_image(registryId=registry, repositoryName="ahi-regional-proxy",
                                   imageIds=[{"imageTag": "0.1.0"}])
        assert error(e)[0] == "RepositoryNotFoundException"


def test_an_image_pushed_to_another_account_is_not_in_ours(control, aws):
    push(control, account="210987654321")
    with pytest.raises(ClientError) as e:
        aws("ecr").describe_images(registryId="210987654321", repositoryName="ahi-regional-proxy")
    assert error(e)[0] == "RepositoryNotFoundException"


def test_download_url_errors(control, aws):
    pushed = push(control)
    ecr = aws("ecr")
    manifest = json.loads(manifest_of(ecr, "0.1.0")["imageManifest"])
    missing = "sha256:" + "0" * 64
    with pytest.raises(ClientError) as e:
        ecr.get_download_url_for_layer(repositoryName="ahi-regional-proxy", layerDigest=missing)
    assert error(e) == ("LayersNotFoundException", f"The layer with digest {missing} does not exist within the "
                                                   "repository with name 'ahi-regional-proxy' in the registry with "
                                                   f"id '{ACCOUNT}'")
    with pytest.raises(ClientError) as e:
        ecr.get_download_url_for_layer(repositoryName="ahi-regional-proxy", layerDigest="not-a-digest")
    assert error(e)[0] == "InvalidParameterException"
    # A layer no image names any more (its image deleted): inaccessible.
    ecr.batch_delete_image(repositoryName="ahi-regional-proxy", imageIds=[{"imageDigest": pushed["digest"]}])
    with pytest.raises(ClientError) as e:
        ecr.get_download_url_for_layer(repositoryName="ahi-regional-proxy", layerDigest=manifest["layers"][0]["digest"])
    assert error(e) == ("LayerInaccessibleException", "The specified layer is not available because it is not "
                                                      "associated with an image. Unassociated image layers may be "
                                                      "cleaned up at any time.")
    # The blob URL of an unknown digest answers as S3 does.
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(control.endpoint + "/_ahi/ecr/blobs/" + missing)
    assert e.value.code == 404 and b"NoSuchKey" in e.value.read()


def test_a_layer_uploaded_through_the_api_can_be_downloaded(control, aws):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName="pushed-by-api")
    data = b"some layer bytes"
    upload = ecr.initiate_layer_upload(repositoryName="pushed-by-api")["uploadId"]
    ecr.upload_layer_part(repositoryName="pushed-by-api", uploadId=upload, partFirstByte=0,
                          partLastByte=len(data) - 1, layerPartBlob=data)
    digest = ecr.complete_layer_upload(repositoryName="pushed-by-api", uploadId=upload,
                                       layerDigests=["sha256:" + hashlib.sha256(data).hexdigest()])["layerDigest"]
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": len(data),
                           "digest": digest},
                "layers": []}
    ecr.put_image(repositoryName="pushed-by-api", imageManifest=json.dumps(manifest), imageTag="v1")
    url = ecr.get_download_url_for_layer(repositoryName="pushed-by-api", layerDigest=digest)["downloadUrl"]
    with urllib.request.urlopen(url) as resp:
        assert resp.read() == data


def test_the_calls_are_logged_and_bad_pushes_refused(control, aws):
    push(control)
    control.call("DELETE", "/_ahi/calls")
    ecr = aws("ecr")
    manifest = json.loads(manifest_of(ecr, "0.1.0")["imageManifest"])
    ecr.get_download_url_for_layer(repositoryName="ahi-regional-proxy", layerDigest=manifest["config"]["digest"])
    assert [(c["service"], c["operation"], c["status"]) for c in control.calls()] == [
        ("ecr", "BatchGetImage", 200), ("ecr", "GetDownloadUrlForLayer", 200)]
    for bad in ({"repository": "Upper"}, {"tag": ""}, {"architecture": None}, {"platforms": ["amd64", "arm64"]},
                {"region": "moon"}, {"colour": "blue"}):
        with pytest.raises(urllib.error.HTTPError) as e:
            push(control, **bad)
        assert e.value.code == 400, bad
