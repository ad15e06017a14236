"""Bucket policies come back normalised, as S3 may hand them back
(tests/emulator/ahi_emulator/s3_policy.py), never as the literal text sent."""

import json

import pytest

from conftest import ACCOUNT


@pytest.fixture
def s3(control, aws):
    client = aws("s3")
    client.create_bucket(Bucket="norm")
    return client


def put_and_read(s3, doc, indent=2):
    s3.put_bucket_policy(Bucket="norm", Policy=json.dumps(doc, indent=indent))
    return s3.get_bucket_policy(Bucket="norm")["Policy"]


def test_one_element_arrays_collapse_actions_sort_and_every_statement_gets_a_sid(s3):
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["cloudfront.amazonaws.com"]},
                "Action": ["s3:ListBucket", "s3:GetObject"],
                "Resource": ["arn:aws:s3:::norm/*"],
            },
            {
                "Sid": "Tls",
                "Effect": "Deny",
                "Principal": "*",
                "NotAction": ["s3:GetObject"],
                "Resource": ["arn:aws:s3:::norm", "arn:aws:s3:::norm/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }
    text = put_and_read(s3, doc)
    assert " " not in text and "\n" not in text
    got = json.loads(text)
    first, second = got["Statement"]
    assert first["Sid"] == ""
    assert first["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert first["Action"] == ["s3:GetObject", "s3:ListBucket"]
    assert first["Resource"] == "arn:aws:s3:::norm/*"
    assert second["Sid"] == "Tls"
    assert second["NotAction"] == "s3:GetObject"
    assert second["Resource"] == ["arn:aws:s3:::norm", "arn:aws:s3:::norm/*"]
    assert second["Principal"] == "*"
    assert got["Version"] == "2012-10-17"


def test_an_account_id_principal_comes_back_as_the_accounts_root_arn(s3):
    doc = {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "Acct",
            "Effect": "Allow",
            "Principal": {"AWS": [ACCOUNT]},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::norm/*",
        }],
    }
    got = json.loads(put_and_read(s3, doc))
    assert got["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}


def test_a_policy_already_in_s3s_form_comes_back_unchanged(s3):
    doc = {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "Read",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::norm/*",
        }],
    }
    sent = json.dumps(doc, separators=(",", ":"))
    s3.put_bucket_policy(Bucket="norm", Policy=sent)
    assert s3.get_bucket_policy(Bucket="norm")["Policy"] == sent
