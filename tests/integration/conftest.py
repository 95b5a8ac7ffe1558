"""Fixtures for the HTTP service tests: an app on fixed 'today', keys and tokens for JWT tests."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient

from earlypath.web import create_app
from earlypath.web.config import Settings
from tests.integration.fhir_data import TODAY

BASE = "http://testserver"
ISS = "https://ehr.example.org"


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(settings: Settings | None = None, **kwargs: Any) -> TestClient:
        settings = settings or Settings(
            auth=False, feedback_db=f"sqlite:///{tmp_path / 'fb.sqlite3'}"
        )
        client = TestClient(create_app(settings, today=lambda: TODAY, **kwargs))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


class Signer:
    """A CDS client's keys (EC P-384) and a way to mint its JWTs."""

    def __init__(self, kid: str = "ehr-key-1", alg: str = "ES384"):
        self.kid = kid
        self.alg = alg
        if alg.startswith("ES"):
            curve = ec.SECP256R1() if alg == "ES256" else ec.SECP384R1()
            self.private = ec.generate_private_key(curve)
        else:
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(
            jwt.algorithms.get_default_algorithms()[alg].to_jwk(self.private.public_key())
        )
        jwk.update({"kid": kid, "alg": alg, "use": "sig"})
        self.jwks = {"keys": [jwk]}

    def token(
        self,
        aud: str | list[str],
        *,
        iss: str = ISS,
        exp_in: int = 300,
        jti: str | None = None,
        headers: dict[str, Any] | None = None,
        drop: tuple[str, ...] = (),
        **claim_values: Any,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": iss,
            "aud": aud,
            "exp": now + exp_in,
            "iat": now,
            "jti": jti or str(uuid.uuid4()),
            **claim_values,
        }
        for name in drop:
            claims.pop(name, None)
        return jwt.encode(
            claims,
            self.private,
            algorithm=self.alg,
            headers={"kid": self.kid, "typ": "JWT", **(headers or {})},
        )


# One key pair each per session: making an RSA key costs ~40 ms of CPU, and every secure-client
# test made one. Tokens stay per test (a fresh jti each); no test changes a signer's keys.
@pytest.fixture(scope="session")
def signer() -> Signer:
    return Signer()


@pytest.fixture(scope="session")
def rsa_signer() -> Signer:
    return Signer(kid="ehr-rsa", alg="RS384")


@pytest.fixture
def issuers_file(tmp_path: Path, signer: Signer, rsa_signer: Signer) -> Path:
    (tmp_path / "ehr-jwks.json").write_text(json.dumps(signer.jwks))
    path = tmp_path / "issuers.json"
    path.write_text(
        json.dumps(
            {
                "issuers": [
                    {
                        "iss": ISS,
                        "jwks_file": "ehr-jwks.json",
                        "jku": ["https://ehr.example.org/jwks.json"],
                    },
                    {"iss": "https://rsa-ehr.example.org", "jwks": rsa_signer.jwks},
                ]
            }
        )
    )
    return path


@pytest.fixture
def secure_client(
    make_client: Callable[..., TestClient], issuers_file: Path, tmp_path: Path
) -> TestClient:
    return make_client(secure_settings(issuers_file, tmp_path / "fb2.sqlite3"))


def secure_settings(issuers_file: Path, db: Path, **changes: Any) -> Settings:
    """Auth on, the test issuers, the test server's public URL (the JWT audience)."""
    return Settings(
        auth=True,
        issuers_file=str(issuers_file),
        feedback_db=f"sqlite:///{db}",
        **{"public_url": BASE, **changes},
    )
