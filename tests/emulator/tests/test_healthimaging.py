"""The minimal HealthImaging data plane: seeded image sets answered to
SigV4-signed calls (boto3's own medical-imaging client), as AWS answers."""

import base64
import gzip
import json

import boto3
import pytest
from botocore.config import Config

DATASTORE = "a" * 32
IMAGE_SET = "b" * 32


def client(endpoint, key="testing", secret="testing"):
    # The runtime calls carry the host prefix "runtime-"; against one local
    # endpoint it is left out.
    return boto3.client("medical-imaging", region_name="us-east-1", endpoint_url=endpoint,
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(inject_host_prefix=False, retries={"total_max_attempts": 1}))


@pytest.fixture
def seeded(control):
    return control.call("POST", "/_ahi/healthimaging/image-sets", {
        "region": "us-east-1", "datastore_id": DATASTORE, "image_set_id": IMAGE_SET, "version": "1",
        "metadata": {"Patient": {"DICOM": {"PatientName": "Doe^J"}}},
        "frames": {"f" * 32: base64.b64encode(b"\x00frame-bytes").decode()},
    })


def test_frames_and_metadata_answer_signed_calls(seeded, endpoint, control):
    ahi = client(endpoint)
    frame = ahi.get_image_frame(datastoreId=DATASTORE, imageSetId=IMAGE_SET,
                                imageFrameInformation={"imageFrameId": "f" * 32})
    assert frame["imageFrameBlob"].read() == b"\x00frame-bytes"
    assert frame["contentType"] == "application/octet-stream"
    metadata = ahi.get_image_set_metadata(datastoreId=DATASTORE, imageSetId=IMAGE_SET, versionId="1")
    assert metadata["contentEncoding"] == "gzip"
    assert json.loads(gzip.decompress(metadata["imageSetMetadataBlob"].read()))["Patient"]["DICOM"]["PatientName"] == "Doe^J"
    assert ahi.get_image_set(datastoreId=DATASTORE, imageSetId=IMAGE_SET)["imageSetState"] == "ACTIVE"
    assert [c["operation"] for c in control.calls() if c["service"] == "medical-imaging"] == [
        "GetImageFrame", "GetImageSetMetadata", "GetImageSet"]


@pytest.mark.parametrize("key, secret, code", [
    ("testing", "wrong", "InvalidSignatureException"),
    ("nobody", "testing", "UnrecognizedClientException"),
])
def test_a_bad_signature_or_an_unknown_key_is_refused(seeded, endpoint, key, secret, code):
    with pytest.raises(Exception) as e:
        client(endpoint, key, secret).get_image_set(datastoreId=DATASTORE, imageSetId=IMAGE_SET)
    assert e.value.response["Error"]["Code"] == code
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_missing_frames_and_image_sets_are_not_found(seeded, endpoint):
    ahi = client(endpoint)
    for call in (
        lambda: ahi.get_image_frame(datastoreId=DATASTORE, imageSetId=IMAGE_SET,
                                    imageFrameInformation={"imageFrameId": "0" * 32}),
        lambda: ahi.get_image_set_metadata(datastoreId=DATASTORE, imageSetId="c" * 32),
        lambda: ahi.get_image_set_metadata(datastoreId=DATASTORE, imageSetId=IMAGE_SET, versionId="2"),
    ):
        with pytest.raises(ahi.exceptions.ResourceNotFoundException):
            call()


def test_seeding_checks_the_ids(control):
    with pytest.raises(Exception) as e:
        control.call("POST", "/_ahi/healthimaging/image-sets", {"datastore_id": "short", "image_set_id": IMAGE_SET})
    assert e.value.code == 400
