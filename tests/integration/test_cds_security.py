"""CDS Hooks security: a signed JWT on every call (iss allow-list, aud, exp, jti); 401 otherwise.

Keys are generated in the test. Logs never hold the token, its claims or patient data.
"""

from __future__ import annotations

import logging

import httpx
import jwt
import pytest

from earlypath.web.config import Settings
from tests.integration.conftest import BASE, ISS, Signer, secure_settings
from tests.integration.fhir_data import PATIENT_ID, eligible_resources, hook_request, prefetch_for

PV = "/cds-services/ng126-progesterone"
URL = BASE + PV


def _call(client, token, path=PV, body=None):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if path == "/cds-services":
        return client.get(path, headers=headers)
    return client.post(
        path,
        json=body or hook_request("patient-view", prefetch_for(eligible_resources())),
        headers=headers,
    )


def test_valid_token_is_accepted(secure_client, signer):
    assert _call(secure_client, signer.token(URL)).status_code == 200
    assert (
        _call(secure_client, signer.token(BASE + "/cds-services"), "/cds-services").status_code
        == 200
    )
    assert _call(secure_client, signer.token([URL, "https://other"])).status_code == 200


def test_rs384_issuer_is_accepted(secure_client, rsa_signer):
    token = rsa_signer.token(URL, iss="https://rsa-ehr.example.org")
    assert _call(secure_client, token).status_code == 200


def _refused(response):
    assert response.status_code == 401
    assert response.content == b""
    assert response.headers["www-authenticate"] == "Bearer"


def test_no_token_is_401(secure_client):
    _refused(_call(secure_client, None))
    _refused(secure_client.post(PV, json={}, headers={"Authorization": "Bearer "}))
    _refused(secure_client.post(PV, json={}, headers={"Authorization": "Basic abc"}))
    _refused(secure_client.get("/cds-services"))


def test_wrong_audience_is_401(secure_client, signer):
    _refused(_call(secure_client, signer.token(BASE + "/cds-services/other-service")))
    _refused(
        _call(
            secure_client, signer.token("https://cds.example.org/cds-services/ng126-progesterone")
        )
    )


def test_expired_token_is_401(secure_client, signer):
    _refused(_call(secure_client, signer.token(URL, exp_in=-120)))


def test_replayed_jti_is_401(secure_client, signer):
    token = signer.token(URL, jti="once-only")
    assert _call(secure_client, token).status_code == 200
    _refused(_call(secure_client, token))
    _refused(_call(secure_client, signer.token(URL, jti="once-only")))


def test_unknown_issuer_is_401(secure_client, signer):
    _refused(_call(secure_client, signer.token(URL, iss="https://evil.example.org")))


def test_missing_claims_are_401(secure_client, signer):
    for claim in ("jti", "exp", "iat", "iss", "aud"):
        _refused(_call(secure_client, signer.token(URL, drop=(claim,))))


def test_wrong_key_or_algorithm_is_401(secure_client, signer):
    impostor = Signer(kid=signer.kid)  # same kid, other key
    _refused(_call(secure_client, impostor.token(URL)))
    _refused(_call(secure_client, Signer(kid="unknown-kid").token(URL)))
    hs = jwt.encode(
        {"iss": ISS, "aud": URL, "exp": 9999999999, "iat": 1, "jti": "h"},
        "secret" * 8,
        algorithm="HS384",
        headers={"kid": signer.kid},
    )
    _refused(_call(secure_client, hs))
    es256 = Signer(kid=signer.kid, alg="ES256")
    _refused(_call(secure_client, es256.token(URL)))
    _refused(_call(secure_client, "not-a-jwt"))


def test_jku_must_be_allow_listed(make_client, issuers_file, signer, tmp_path):
    fetched = []

    def jwks_server(request):
        fetched.append(str(request.url))
        return httpx.Response(200, json=signer.jwks)

    settings = secure_settings(issuers_file, tmp_path / "j.db")
    client = make_client(settings, jwks_transport=httpx.MockTransport(jwks_server))
    ok = signer.token(URL, headers={"jku": "https://ehr.example.org/jwks.json"})
    assert _call(client, ok).status_code == 200
    assert fetched == ["https://ehr.example.org/jwks.json"]
    bad = signer.token(URL, headers={"jku": "https://attacker.example.org/jwks.json"})
    _refused(_call(client, bad))
    assert len(fetched) == 1


def test_no_issuers_configured_refuses_everything(make_client, signer, tmp_path):
    client = make_client(
        Settings(
            auth=True,
            issuers_file=None,
            feedback_db=f"sqlite:///{tmp_path / 'n.db'}",
            public_url=BASE,
        )
    )
    _refused(_call(client, signer.token(URL)))


def test_feedback_needs_a_token_too(secure_client, signer):
    body = {
        "feedback": [
            {"card": "c", "outcome": "overridden", "outcomeTimestamp": "2020-12-11T00:00:00Z"}
        ]
    }
    _refused(secure_client.post(PV + "/feedback", json=body))
    token = signer.token(URL + "/feedback")
    assert (
        secure_client.post(
            PV + "/feedback", json=body, headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 200
    )


def test_pages_and_api_do_not_need_a_token(secure_client):
    assert secure_client.get("/").status_code == 200
    assert secure_client.get("/api/schema").status_code == 200


def test_cors_preflight_and_headers(secure_client, signer):
    preflight = secure_client.options(
        PV,
        headers={
            "Origin": "https://ehr.example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] in ("*", "https://ehr.example.org")
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    response = secure_client.post(
        PV,
        json=hook_request("patient-view", prefetch_for(eligible_resources())),
        headers={
            "Authorization": f"Bearer {signer.token(URL)}",
            "Origin": "https://ehr.example.org",
        },
    )
    assert response.headers["access-control-allow-origin"] in ("*", "https://ehr.example.org")


def test_no_patient_data_or_token_in_logs(secure_client, signer, caplog, make_client):
    caplog.set_level(logging.DEBUG)
    good = signer.token(URL)
    secrets = [PATIENT_ID, good, "tok-SECRET-991", "2024-01-15", "Utrogestan"]
    _call(secure_client, good)  # 200
    _call(secure_client, good)  # replay: 401
    _call(secure_client, signer.token(URL, iss="https://evil.example.org"))

    def unreachable(request):
        raise httpx.ConnectError("unreachable")

    open_client = make_client(fhir_transport=httpx.MockTransport(unreachable))
    body = hook_request("patient-view", None)
    body["fhirServer"] = "https://fhir.example.org/r4"
    body["fhirAuthorization"] = {
        "access_token": "tok-SECRET-991",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "x",
        "subject": "y",
    }
    assert open_client.post(PV, json=body).status_code == 412  # logged: the kind of failure only
    broken = prefetch_for(eligible_resources())
    broken["observations"]["entry"].append(
        {"resource": {"resourceType": "Observation", "id": PATIENT_ID}}
    )
    open_client.post(PV, json=hook_request("patient-view", broken))
    open_client.post(
        "/api/assess", content='{"assessed_on": "2024-03-04", "lmp": "2024-01-15", "x": 1}'
    )
    assert caplog.records, "expected some log lines (auth refusals, 412)"
    for secret in secrets:
        assert secret not in caplog.text


@pytest.mark.parametrize("value", ["off", "OFF", "0", "false"])
def test_auth_off_by_environment(monkeypatch, value):
    monkeypatch.setenv("EARLYPATH_CDS_AUTH", value)
    assert Settings.from_env().auth is False


def test_auth_off_warns_loudly(make_client, caplog):
    caplog.set_level(logging.WARNING)
    client = make_client()
    assert "EARLYPATH_CDS_AUTH=off" in caplog.text
    assert "CDS Hooks security is OFF" in client.get("/").text


# The specification's own JWT example (CDS Hooks 2.0, "Trusting CDS Clients"): an ES384 token with
# a jku header, its JWK Set, and a payload that expired in 2015.
SPEC_JWT = (
    "eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCIsImtpZCI6ImV4YW1wbGUta2lkIiwiamt1IjoiaHR0cHM6Ly9maGlyLWVoci5leGFtcGxlLmNvbS9qd2tfdXJpIn0"
    ".eyJpc3MiOiJodHRwczovL2ZoaXItZWhyLmV4YW1wbGUuY29tLyIsInN1YiI6ImNsaWVudF9pZCIsImF1ZCI6Imh0dHBzOi8vY2RzLmV4YW1wbGUub3JnL2Nkcy1zZXJ2aWNlcy9zb21lLXNlcnZpY2UiLCJleHAiOjE0MjI1Njg4NjAsImlhdCI6MTMxMTI4MDk3MCwianRpIjoiZWUyMmIwMjEtZTFiNy00NjExLWJhNWItOGVlYzZhMzNhYzFlIiwidGVuYW50IjoiMmRkZDZjM2EtOGU5YS00NGM2LWEzMDUtNTIxMTFhZDMwMmEyIn0"
    ".CUFPkplnWd6YGIvzoHolWCQBDsCL8QtTWKGg_QFpS169WrqDGzktRi-_we6-6rVzbjerU27ZKww_SW0-b9RTz-dPJNcqsueMio8r6EqXUXhbLm_ch3XFSbDlGHDl_tqo"
)
SPEC_JWKS = {
    "keys": [
        {
            "kty": "EC",
            "use": "sig",
            "crv": "P-384",
            "kid": "example-kid",
            "x": "46SDH7Znh821wblCBglA61sNE9ZrHYKKt3qRtRTmSXyOI_FIGBLWrWa0GPUkDCEk",
            "y": "XMcRuuoGW7CXjQdy-F5i3FeBE0x9hPLdeFdSoDd3ELmx404tLX0VRRcqzAsPhXcI",
            "alg": "ES384",
        }
    ]
}


def test_spec_jwt_example_signature_verifies_then_expires():
    from earlypath.web.security import AuthError, Issuer, IssuerRegistry, Verifier

    # The spec's key verifies the spec's token (the key handling the verifier uses).
    key = jwt.PyJWK(SPEC_JWKS["keys"][0], algorithm="ES384").key
    claims = jwt.decode(
        SPEC_JWT, key, algorithms=["ES384"], options={"verify_exp": False, "verify_aud": False}
    )
    assert claims["jti"] == "ee22b021-e1b7-4611-ba5b-8eec6a33ac1e"
    fetched = []

    def jku_server(request):
        fetched.append(str(request.url))
        return httpx.Response(200, json=SPEC_JWKS)

    registry = IssuerRegistry(
        {
            "https://fhir-ehr.example.com/": Issuer(
                "https://fhir-ehr.example.com/", jku=("https://fhir-ehr.example.com/jwk_uri",)
            )
        }
    )
    verifier = Verifier(registry, jwks_transport=httpx.MockTransport(jku_server))
    with pytest.raises(AuthError) as refused:
        verifier.verify(SPEC_JWT, ["https://cds.example.org/cds-services/some-service"])
    # It expired in 2015: refused on its times, before any key is fetched for it.
    assert refused.value.kind == "expired"
    assert fetched == []


def test_unexpected_errors_are_500_without_data_in_logs(make_client, caplog, monkeypatch):
    from earlypath.web import api, cds

    def explode(*args, **kwargs):
        raise ValueError(f"boom for {PATIENT_ID} lmp 2024-01-15")

    monkeypatch.setattr(cds, "cards_assessment", explode)
    monkeypatch.setattr(api, "assess_json", explode)
    client = make_client()
    caplog.set_level(logging.DEBUG)
    response = client.post(
        PV, json=hook_request("patient-view", prefetch_for(eligible_resources()))
    )
    assert response.status_code == 500
    assert response.json() == {"errors": [{"field": "(server)", "message": "internal error"}]}
    assert client.post("/api/assess", content='{"assessed_on": "2024-03-04"}').status_code == 500
    assert "internal error (ValueError)" in caplog.text
    assert PATIENT_ID not in caplog.text and "2024-01-15" not in caplog.text
