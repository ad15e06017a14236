"""CloudFront's quotas through Service Quotas, and the account-wide ones
CloudFront enforces on public keys and key groups, driven with boto3."""

import pytest
from botocore.exceptions import ClientError

from test_cf_control import code_of, pem


def test_an_unchanged_quota_has_only_its_default_and_a_raised_one_its_applied_value(control, aws):
    sq = aws("service-quotas")
    with pytest.raises(ClientError) as unchanged:
        sq.get_service_quota(ServiceCode="cloudfront", QuotaCode="L-F432D044")
    assert code_of(unchanged) == "NoSuchResourceException"
    default = sq.get_aws_default_service_quota(ServiceCode="cloudfront", QuotaCode="L-F432D044")["Quota"]
    assert (default["QuotaName"], default["Value"]) == ("Cache behaviors per distribution", 75.0)
    control.config(quotas={"cache_behaviors": 24})
    applied = sq.get_service_quota(ServiceCode="cloudfront", QuotaCode="L-F432D044")["Quota"]
    assert applied["Value"] == 24.0
    assert applied["QuotaArn"].endswith(":cloudfront/L-F432D044")
    for code, value in [("L-B4048FB4", 100.0), ("L-302B5900", 10.0), ("L-D64DA6E2", 10.0), ("L-9EBD26CA", 5.0)]:
        assert sq.get_aws_default_service_quota(ServiceCode="cloudfront", QuotaCode=code)["Quota"]["Value"] == value
    # CloudFront's quotas are read in us-east-1 only.
    with pytest.raises(ClientError) as elsewhere:
        aws("service-quotas", "eu-west-1").get_aws_default_service_quota(ServiceCode="cloudfront", QuotaCode="L-F432D044")
    assert code_of(elsewhere) == "NoSuchResourceException"


def test_public_keys_and_key_groups_per_account_are_enforced(control, aws):
    control.config(quotas={"public_keys": 2, "key_groups": 1})
    cf = aws("cloudfront")
    ids = []
    for i in range(2):
        config = {"CallerReference": f"q{i}", "Name": f"quota-{i}", "EncodedKey": pem()[1]}
        ids.append(cf.create_public_key(PublicKeyConfig=config)["PublicKey"]["Id"])
    with pytest.raises(ClientError) as keys:
        cf.create_public_key(PublicKeyConfig={"CallerReference": "q2", "Name": "quota-2", "EncodedKey": pem()[1]})
    assert code_of(keys) == "TooManyPublicKeys"
    assert "maximum number of CloudFront public keys" in keys.value.response["Error"]["Message"]
    cf.create_key_group(KeyGroupConfig={"Name": "g0", "Items": [ids[0]]})
    with pytest.raises(ClientError) as groups:
        cf.create_key_group(KeyGroupConfig={"Name": "g1", "Items": [ids[1]]})
    assert code_of(groups) == "TooManyKeyGroups"
