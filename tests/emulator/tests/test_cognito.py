"""Cognito lookups as a pre-flight makes them (DescribeUserPool in the region
the pool id names, DescribeUserPoolClient per client), with AWS's errors."""

import pytest
from botocore.exceptions import ClientError


def error(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def pool_with_client(aws, region="us-east-1"):
    idp = aws("cognito-idp", region)
    pool = idp.create_user_pool(PoolName="ahi-users")["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="viewer")["UserPoolClient"]["ClientId"]
    return pool, client


def test_an_existing_pool_and_client_answer(control, aws):
    pool, client = pool_with_client(aws)
    assert pool.startswith("us-east-1_")
    idp = aws("cognito-idp")
    assert idp.describe_user_pool(UserPoolId=pool)["UserPool"]["Id"] == pool
    found = idp.describe_user_pool_client(UserPoolId=pool, ClientId=client)["UserPoolClient"]
    assert (found["ClientId"], found["UserPoolId"]) == (client, pool)


def test_an_unknown_pool_is_resource_not_found(control, aws):
    with pytest.raises(ClientError) as e:
        aws("cognito-idp").describe_user_pool(UserPoolId="us-east-1_Nope12345")
    assert error(e) == ("ResourceNotFoundException", "User pool us-east-1_Nope12345 does not exist.")
    with pytest.raises(ClientError) as e:
        aws("cognito-idp").describe_user_pool_client(UserPoolId="us-east-1_Nope12345", ClientId="abc123")
    assert error(e) == ("ResourceNotFoundException", "User pool us-east-1_Nope12345 does not exist.")


def test_a_pool_lives_in_its_own_region_only(control, aws):
    pool, client = pool_with_client(aws, "us-east-1")
    west = aws("cognito-idp", "us-west-2")
    # The profile names the pool with another region's prefix: asked there, it is not found.
    other = "us-west-2_" + pool.split("_", 1)[1]
    with pytest.raises(ClientError) as e:
        west.describe_user_pool(UserPoolId=other)
    assert error(e) == ("ResourceNotFoundException", f"User pool {other} does not exist.")
    # And the real id asked in the wrong region is not found either.
    with pytest.raises(ClientError) as e:
        west.describe_user_pool(UserPoolId=pool)
    assert error(e) == ("ResourceNotFoundException", f"User pool {pool} does not exist.")
    with pytest.raises(ClientError) as e:
        west.describe_user_pool_client(UserPoolId=pool, ClientId=client)
    assert error(e) == ("ResourceNotFoundException", f"User pool {pool} does not exist.")


def test_an_unknown_client_in_an_existing_pool_is_resource_not_found(control, aws):
    pool, _ = pool_with_client(aws)
    with pytest.raises(ClientError) as e:
        aws("cognito-idp").describe_user_pool_client(UserPoolId=pool, ClientId="4b5v0s2b1g9nunknownclient")
    assert error(e) == ("ResourceNotFoundException", "User pool client 4b5v0s2b1g9nunknownclient does not exist.")


def test_a_malformed_id_is_invalid_parameter(control, aws):
    idp = aws("cognito-idp")
    with pytest.raises(ClientError) as e:
        idp.describe_user_pool(UserPoolId="YOUR_USER_POOL_ID!")
    assert error(e) == ("InvalidParameterException",
                        "1 validation error detected: Value 'YOUR_USER_POOL_ID!' at 'userPoolId' failed to satisfy "
                        "constraint: Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+")
    with pytest.raises(ClientError) as e:
        idp.describe_user_pool_client(UserPoolId="no-underscore", ClientId="bad client")
    assert error(e) == ("InvalidParameterException",
                        "2 validation errors detected: Value 'no-underscore' at 'userPoolId' failed to satisfy "
                        "constraint: Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+; "
                        "Value 'bad client' at 'clientId' failed to satisfy constraint: Member must satisfy regular "
                        "expression pattern: [\\w+]+")


def test_cognito_faults_are_json_errors(control, aws):
    control.fault(operation="cognito-idp:DescribeUserPool", kind="throttle", nth=1)
    with pytest.raises(ClientError) as e:
        aws("cognito-idp").describe_user_pool(UserPoolId="us-east-1_Abc")
    assert e.value.response["Error"]["Code"] == "TooManyRequestsException"


def test_a_seeded_pool_and_clients_keep_the_ids_asked_for(control, aws):
    ask = {"id": "eu-west-1_Seed0001", "client_ids": ["seedclient0001", "seedclient0002"]}
    assert control.call("POST", "/_ahi/cognito/pools", ask)["client_ids"] == ["seedclient0001", "seedclient0002"]
    idp = aws("cognito-idp", "eu-west-1")
    pool = idp.describe_user_pool(UserPoolId="eu-west-1_Seed0001")["UserPool"]
    assert pool["Id"] == "eu-west-1_Seed0001"
    assert pool["Arn"].endswith(":userpool/eu-west-1_Seed0001")
    client = idp.describe_user_pool_client(UserPoolId="eu-west-1_Seed0001", ClientId="seedclient0002")
    assert client["UserPoolClient"]["ClientId"] == "seedclient0002"
    # Seeding again changes nothing; the pool is only in its own region.
    assert control.call("POST", "/_ahi/cognito/pools", ask)["client_ids"] == ["seedclient0001", "seedclient0002"]
    with pytest.raises(ClientError) as e:
        aws("cognito-idp", "us-east-1").describe_user_pool(UserPoolId="eu-west-1_Seed0001")
    assert error(e)[0] == "ResourceNotFoundException"
