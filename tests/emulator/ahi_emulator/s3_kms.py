"""SSE-KMS objects, as S3 stores them and as CloudFront reads them.

- A PutObject without `x-amz-server-side-encryption` into a bucket whose
  default encryption is SSE-KMS is stored SSE-KMS under the bucket's key
  (S3 User Guide, "Setting default server-side encryption behavior for
  Amazon S3 buckets"); moto 5.2.5 applies no bucket default, so this
  module adds the headers before moto stores the object. No
  `KMSMasterKeyID` means the AWS managed key `aws/s3`.
- Through an origin access control, CloudFront reads such an object only
  when the key's policy lets the service principal
  `cloudfront.amazonaws.com` use `kms:Decrypt` for this distribution
  (`AWS:SourceArn`) (CloudFront Developer Guide, "Restrict access to an
  Amazon S3 origin", SSE-KMS). The AWS managed key `aws/s3` can never be
  used so: its policy, which nobody can edit, admits only principals of
  the account calling through S3. Anything else is 403 `AccessDenied`
  toward the viewer (S3's exact text for a KMS refusal behind CloudFront
  is not documented: docs/testing.md, "Where we had to guess").
"""

import json

AWS_MANAGED_ALIAS = "alias/aws/s3"


def _rule(bucket):
    encryption = getattr(bucket, "encryption", None) or {}
    rule = encryption.get("Rule")
    if isinstance(rule, list):
        rule = rule[0] if rule else None
    return (rule or {}).get("ApplyServerSideEncryptionByDefault") or {}


def apply_default_encryption(call, environ):
    """Gives a PutObject the bucket's default SSE-KMS when it names none."""
    if call.service != "s3" or call.operation != "PutObject":
        return
    if "HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION" in environ or "HTTP_X_AMZ_COPY_SOURCE" in environ:
        return
    from moto.s3.models import s3_backends

    from .origins import find_bucket

    parts = [p for p in call.path.split("/") if p]
    bucket, _ = find_bucket(s3_backends, parts[0]) if parts else (None, None)
    default = _rule(bucket) if bucket is not None else {}
    if default.get("SSEAlgorithm") != "aws:kms":
        return
    environ["HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION"] = "aws:kms"
    environ["HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION_AWS_KMS_KEY_ID"] = default.get("KMSMasterKeyID") or AWS_MANAGED_ALIAS


def readable_by_cloudfront(key, bucket_region, account, dist_arn):
    """Whether CloudFront, signing for `dist_arn`, may decrypt `key`."""
    if getattr(key, "encryption", None) != "aws:kms":
        return True
    if dist_arn is None:  # an unsigned request: KMS admits no anonymous caller
        return False
    key_id = key.kms_key_id or AWS_MANAGED_ALIAS
    if key_id in (AWS_MANAGED_ALIAS, f"arn:aws:kms:{bucket_region}:{account}:{AWS_MANAGED_ALIAS}"):
        return False
    from moto.kms.models import kms_backends

    from .origins import allowed

    region = key_id.split(":")[3] if key_id.startswith("arn:") else bucket_region
    backend = kms_backends[account][region]
    try:
        kms_key = backend.keys[backend.any_id_to_key_id(key_id)]
    except (KeyError, Exception):  # an unknown or deleted key: nothing decrypts
        return False
    if getattr(kms_key, "key_state", "Enabled") != "Enabled":
        return False
    try:
        policy = json.loads(kms_key.policy)
    except ValueError:
        return False
    return allowed(policy, ("service", "cloudfront.amazonaws.com"), "kms:Decrypt", kms_key.arn, dist_arn)
