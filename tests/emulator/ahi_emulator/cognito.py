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


def seed(account, doc):
    """A user pool with the id the caller names, and its app clients with
    theirs (POST /_ahi/cognito/pools): the templates' example pool and
    client, so tests that deploy a template's profile unchanged pass the
    pre-flight's DescribeUserPool / DescribeUserPoolClient as a user's real
    pool would. moto makes random ids; this re-keys what it made."""
    from moto.cognitoidp.models import cognitoidp_backends

    pool_id, clients = doc.get("id"), doc.get("client_ids", [])
    if not isinstance(pool_id, str) or violation(pool_id, POOL_ID):
        raise ValueError("give id: a user pool id such as us-east-1_Ab12Cd34E")
    if not isinstance(clients, list) or any(not isinstance(c, str) or violation(c, CLIENT_ID) for c in clients):
        raise ValueError("client_ids: a list of app client ids")
    region = pool_id.split("_", 1)[0]
    backend = cognitoidp_backends[account][region]
    pool = backend.user_pools.get(pool_id)
    if pool is None:
        pool = backend.create_user_pool(doc.get("name", pool_id), {})
        del backend.user_pools[pool.id]
        pool.id = pool_id
        pool.arn = f"arn:aws:cognito-idp:{region}:{account}:userpool/{pool_id}"
        backend.user_pools[pool_id] = pool
    for client_id in clients:
        if client_id not in pool.clients:
            client = backend.create_user_pool_client(pool_id, False, {"ClientName": client_id})
            del pool.clients[client.id]
            client.id = client_id
            pool.clients[client_id] = client
    return {"id": pool_id, "arn": pool.arn, "client_ids": sorted(pool.clients)}
