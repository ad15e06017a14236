"""Bucket policies as S3 hands them back: normalised, not as sent.

moto returns a bucket policy byte for byte as it was put. S3 does not
promise that, and has been seen to rewrite it (aws-cli issue #849: a
policy without `Sid` comes back with `"Sid": ""` and without whitespace;
hashicorp/terraform pull request #4278: a one-element `Action` array comes
back as a string and several actions come back sorted; terraform-provider-
aws compares bucket policies by meaning, `verify.PolicyStringsEquivalent`,
for that reason). Account-id principals are documented to be rewritten to
the account's root ARN (IAM User Guide, "AWS JSON policy elements:
Principal": "123456789012" is stored as "arn:aws:iam::123456789012:root").

The emulator answers GetBucketPolicy with every one of those rewrites at
once, so a tool that compares the text it sent with the text it reads back
shows drift on every run here, as it may on AWS:

- no whitespace;
- every statement has a `Sid` (`""` when it had none);
- `Action`, `NotAction`, `Resource`, `NotResource` and each `Principal`
  value: a one-element array becomes its element, several `Action` and
  `NotAction` entries are sorted;
- a 12-digit account id in `Principal.AWS` becomes `arn:aws:iam::ID:root`.
"""

import json
import re

ACCOUNT_ID = re.compile(r"^\d{12}$")


def _one_or_many(value, sort=False):
    if isinstance(value, list):
        if len(value) == 1:
            return value[0]
        return sorted(value) if sort and all(isinstance(v, str) for v in value) else value
    return value


def _principal(value):
    if not isinstance(value, dict):
        return value
    out = {}
    for kind, names in value.items():
        if kind == "AWS":
            names = [f"arn:aws:iam::{n}:root" if isinstance(n, str) and ACCOUNT_ID.match(n) else n
                     for n in (names if isinstance(names, list) else [names])]
        out[kind] = _one_or_many(names)
    return out


def _statement(statement):
    if not isinstance(statement, dict):
        return statement
    out = {"Sid": statement.get("Sid", "")}
    for key, value in statement.items():
        if key in ("Action", "NotAction"):
            value = _one_or_many(value, sort=True)
        elif key in ("Resource", "NotResource"):
            value = _one_or_many(value)
        elif key in ("Principal", "NotPrincipal"):
            value = _principal(value)
        out[key] = value
    return out


def normalised(text):
    """The policy `text` as S3 may return it; unparseable text unchanged."""
    try:
        doc = json.loads(text)
    except ValueError:
        return text
    if isinstance(doc, dict):
        statements = doc.get("Statement")
        if isinstance(statements, list):
            doc["Statement"] = [_statement(s) for s in statements]
        elif isinstance(statements, dict):
            doc["Statement"] = _statement(statements)
    return json.dumps(doc, separators=(",", ":"))


def rewrite_answer(result, headers):
    """moto's GetBucketPolicy answer (body chunks, headers) normalised."""
    body = b"".join(result)
    try:
        text = normalised(body.decode("utf-8")).encode("utf-8")
    except UnicodeDecodeError:
        text = body
    headers = [(k, v) for k, v in headers if k.lower() not in ("content-length", "content-md5", "etag")]
    return [text], headers + [("Content-Length", str(len(text)))]
