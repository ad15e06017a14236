"""OIDC issuers registered with POST /_ahi/oidc/issuers, fetched as a client
pointed at the emulator fetches them: plain HTTP to the endpoint with the
issuer's Host header."""

import http.client
import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest


def fetch(endpoint, host, path):
    """(status, JSON body or None) of a GET sent to the emulator with this Host."""
    req = urllib.request.Request(endpoint + path, headers={"Host": host})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        body = e.read()
        try:
            return e.code, json.loads(body)
        except ValueError:
            return e.code, None


def register(control, **doc):
    return control.call("POST", "/_ahi/oidc/issuers", doc)


def test_discovery_and_jwks_answer_for_a_registered_issuer(control, endpoint):
    made = register(control, issuer="https://login.example.com")
    status, discovery = fetch(endpoint, "login.example.com", "/.well-known/openid-configuration")
    assert status == 200
    assert discovery["issuer"] == "https://login.example.com"
    assert discovery["jwks_uri"] == "https://login.example.com/.well-known/jwks.json"
    assert discovery["id_token_signing_alg_values_supported"] == ["RS256"]
    status, jwks = fetch(endpoint, "login.example.com", urlsplit(discovery["jwks_uri"]).path)
    assert status == 200
    (key,) = jwks["keys"]
    assert (key["kty"], key["alg"], key["use"], key["kid"], key["e"]) == ("RSA", "RS256", "sig", made["kid"], "AQAB")
    assert len(key["n"]) == 342  # a 2048-bit modulus, base64url without padding
    # The Host header may carry https's default port.
    assert fetch(endpoint, "login.example.com:443", "/.well-known/openid-configuration")[0] == 200
    assert [r["path"] for r in control.call("GET", "/_ahi/oidc/requests")] == [
        "/.well-known/openid-configuration", "/.well-known/jwks.json", "/.well-known/openid-configuration"]


def test_an_issuer_with_a_path_and_several_algorithms(control, endpoint):
    register(control, issuer="https://idp.example.com/realms/ahi", algorithms=["RS256", "ES256", "PS384", "HS256"],
             jwks_path="/protocol/openid-connect/certs")
    register(control, issuer="https://idp.example.com/realms/other")
    status, discovery = fetch(endpoint, "idp.example.com", "/realms/ahi/.well-known/openid-configuration")
    assert status == 200
    assert discovery["issuer"] == "https://idp.example.com/realms/ahi"
    assert discovery["jwks_uri"] == "https://idp.example.com/realms/ahi/protocol/openid-connect/certs"
    assert discovery["id_token_signing_alg_values_supported"] == ["RS256", "ES256", "PS384", "HS256"]
    status, jwks = fetch(endpoint, "idp.example.com", "/realms/ahi/protocol/openid-connect/certs")
    assert status == 200
    # One public key per asymmetric algorithm; HS256 has none to publish.
    assert [(k["alg"], k["kty"]) for k in jwks["keys"]] == [("RS256", "RSA"), ("ES256", "EC"), ("PS384", "RSA")]
    assert jwks["keys"][1]["crv"] == "P-256" and len({k["kid"] for k in jwks["keys"]}) == 3
    other = fetch(endpoint, "idp.example.com", "/realms/other/.well-known/openid-configuration")[1]
    assert other["issuer"] == "https://idp.example.com/realms/other"
    # The host's root is not an issuer here.
    assert fetch(endpoint, "idp.example.com", "/.well-known/openid-configuration")[0] == 404


def test_a_trailing_slash_issuer_keeps_its_spelling(control, endpoint):
    register(control, issuer="https://login.example.com/")
    status, discovery = fetch(endpoint, "login.example.com", "/.well-known/openid-configuration")
    assert (status, discovery["issuer"]) == (200, "https://login.example.com/")


def test_jwks_down_answers_its_status(control, endpoint):
    register(control, issuer="https://login.example.com", jwks_status=503)
    assert fetch(endpoint, "login.example.com", "/.well-known/openid-configuration")[0] == 200
    assert fetch(endpoint, "login.example.com", "/.well-known/jwks.json")[0] == 503


def test_discovery_down_answers_its_status(control, endpoint):
    register(control, issuer="https://login.example.com", discovery_status=500)
    assert fetch(endpoint, "login.example.com", "/.well-known/openid-configuration")[0] == 500


def test_status_zero_drops_the_connection(control, endpoint):
    register(control, issuer="https://login.example.com", jwks_status=0)
    parts = urlsplit(endpoint)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("GET", "/.well-known/jwks.json", headers={"Host": "login.example.com"})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        connection.getresponse()
    connection.close()


def test_an_advertised_issuer_may_differ(control, endpoint):
    register(control, issuer="https://login.example.com", advertised_issuer="https://login.example.com/tenant")
    discovery = fetch(endpoint, "login.example.com", "/.well-known/openid-configuration")[1]
    assert discovery["issuer"] == "https://login.example.com/tenant"
    assert discovery["jwks_uri"] == "https://login.example.com/.well-known/jwks.json"


def test_an_unregistered_host_is_not_answered_by_the_issuer_model(control, endpoint):
    register(control, issuer="https://login.example.com")
    status, body = fetch(endpoint, "other.example.com", "/.well-known/openid-configuration")
    assert status != 200 and not (isinstance(body, dict) and "issuer" in body)
    assert control.call("GET", "/_ahi/oidc/requests") == []
    # Nor after DELETE, nor after a reset.
    control.call("DELETE", "/_ahi/oidc/issuers")
    assert fetch(endpoint, "login.example.com", "/.well-known/openid-configuration")[0] != 200
    register(control, issuer="https://login.example.com")
    control.call("POST", "/_ahi/reset")
    assert control.call("GET", "/_ahi/oidc/issuers") == []


def test_bad_registrations_are_refused(control):
    for bad in ({"issuer": "http://login.example.com"}, {"issuer": "login.example.com"},
                {"issuer": "https://login.example.com?x=1"}, {"issuer": "https://a.example", "algorithms": ["none"]},
                {"issuer": "https://a.example", "jwks_status": "down"}, {"issuer": "https://a.example", "x": 1}):
        with pytest.raises(urllib.error.HTTPError) as e:
            register(control, **bad)
        assert e.value.code == 400, bad
