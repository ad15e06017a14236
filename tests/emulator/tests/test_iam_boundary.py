"""IAM permissions boundaries (strict.py): a role holds the boundary it was
created or repaired with and returns it from GetRole; a boundary naming a
policy the account does not hold is refused with AWS's code and message."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT

TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
})
DOC = json.dumps({"Version": "2012-10-17",
                  "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]})


def error(e):
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def boundary_of(iam, name):
    return iam.get_role(RoleName=name)["Role"].get("PermissionsBoundary")


def test_create_role_with_a_missing_boundary_policy_is_refused_and_creates_nothing(control, aws):
    iam = aws("iam")
    missing = f"arn:aws:iam::{ACCOUNT}:policy/ahi-edge/nobody-boundary"
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName="b-missing", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=missing)
    assert error(e) == ("NoSuchEntity", f"Scope ARN: {missing} does not exist or is not attachable.")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as e:
        iam.get_role(RoleName="b-missing")
    assert error(e)[0] == "NoSuchEntity"


def test_a_role_holds_and_returns_its_boundary_and_a_repair_replaces_it(control, aws):
    iam = aws("iam")
    arn = iam.create_policy(PolicyName="s1-boundary", Path="/ahi-edge/", PolicyDocument=DOC)["Policy"]["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:policy/ahi-edge/s1-boundary"
    other = iam.create_policy(PolicyName="wide", PolicyDocument=DOC)["Policy"]["Arn"]

    created = iam.create_role(RoleName="b-role", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=arn)
    expected = {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn}
    assert created["Role"]["PermissionsBoundary"] == expected
    assert boundary_of(iam, "b-role") == expected

    # Drift by hand: another boundary, then none; each read back as it is.
    iam.put_role_permissions_boundary(RoleName="b-role", PermissionsBoundary=other)
    assert boundary_of(iam, "b-role")["PermissionsBoundaryArn"] == other
    iam.delete_role_permissions_boundary(RoleName="b-role")
    assert boundary_of(iam, "b-role") is None

    missing = f"arn:aws:iam::{ACCOUNT}:policy/ahi-edge/gone-boundary"
    with pytest.raises(ClientError) as e:
        iam.put_role_permissions_boundary(RoleName="b-role", PermissionsBoundary=missing)
    assert error(e) == ("NoSuchEntity", f"Scope ARN: {missing} does not exist or is not attachable.")
    assert boundary_of(iam, "b-role") is None

    iam.put_role_permissions_boundary(RoleName="b-role", PermissionsBoundary=arn)
    assert boundary_of(iam, "b-role") == expected


def test_a_role_without_a_boundary_still_creates(control, aws):
    iam = aws("iam")
    iam.create_role(RoleName="b-plain", AssumeRolePolicyDocument=TRUST)
    assert boundary_of(iam, "b-plain") is None
