"""Cognito user pools answering lookups as AWS does (tests/test_cognito.py):

- DescribeUserPool / DescribeUserPoolClient with an id outside AWS's pattern
  answer InvalidParameterException "1 validation error detected: Value 'x'
  at 'userPoolId' failed to satisfy constraint: Member must satisfy regular
  expression pattern: [\\w-]+_[0-9a-zA-Z]+" (moto looks the id up instead).
- An unknown app client answers ResourceNotFoundException "User pool client
  <id> does not exist." (moto's message is the bare id).

Pools are per region in moto as in AWS: a pool id asked in another region is
ResourceNotFoundException "User pool <id> does not exist."."""

import functools
import re

# botocore's Cognito model: UserPoolIdType, ClientIdType.
POOL_ID = (re.compile(r"[\w-]+_[0-9a-zA-Z]+"), 55, "userPoolId")
CLIENT_ID = (re.compile(r"[\w+]+"), 128, "clientId")

_DONE = []


def violation(value, rule):
    """AWS's sentence for a value outside its member's constraints, or None."""
    pattern, longest, member = rule
    if not isinstance(value, str):
        return None
    if not pattern.fullmatch(value):
        return (f"Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy regular "
                f"expression pattern: {pattern.pattern}")
    if len(value) > longest:
        return (f"Value '{value}' at '{member}' failed to satisfy constraint: Member must have length less "
                f"than or equal to {longest}")
    return None


def validated(found):
    from moto.cognitoidp.exceptions import InvalidParameterException

    found = [f for f in found if f]
    if found:
        noun = "error" if len(found) == 1 else "errors"
        raise InvalidParameterException(f"{len(found)} validation {noun} detected: " + "; ".join(found))


def install():
    if _DONE:
        return
    _DONE.append(True)
    from moto.cognitoidp.exceptions import ResourceNotFoundError
    from moto.cognitoidp.responses import CognitoIdpResponse

    describe_pool = CognitoIdpResponse.describe_user_pool
    describe_client = CognitoIdpResponse.describe_user_pool_client

    # At the request (not the backend, which moto's other operations reuse
    # with ids it made itself): these two are what a pre-flight calls.
    @functools.wraps(describe_pool)
    def describe_user_pool(self):
        validated([violation(self._get_param("UserPoolId"), POOL_ID)])
        return describe_pool(self)

    @functools.wraps(describe_client)
    def describe_user_pool_client(self):
        pool_id, client_id = self._get_param("UserPoolId"), self._get_param("ClientId")
        validated([violation(pool_id, POOL_ID), violation(client_id, CLIENT_ID)])
        pool = self.backend.describe_user_pool(pool_id)
        if client_id not in pool.clients:
            raise ResourceNotFoundError(f"User pool client {client_id} does not exist.")
        return describe_client(self)

    CognitoIdpResponse.describe_user_pool = describe_user_pool
    CognitoIdpResponse.describe_user_pool_client = describe_user_pool_client
