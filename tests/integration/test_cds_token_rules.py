"""CDS Hooks JWTs, hardened: used jti ids shared and kept, lifetimes, claim types, the audience
from EARLYPATH_PUBLIC_URL only, JWK Set fetches cached (failures too) and shared, and a malformed
issuer allow-list refusing the start.
"""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from earlypath.web import create_app
from earlypath.web.config import ConfigError, Settings
from earlypath.web.security import AuthError, JWKSFetcher
from tests.integration.conftest import BASE, ISS, Signer, secure_settings
from tests.integration.fhir_data import eligible_resources, hook_request, prefetch_for
from tests.integration.live_server import live_server

PV = "/cds-services/ng126-progesterone"
URL = BASE + PV


def _call(client, token, **headers):
    return client.post(
        PV,
        json=hook_request("patient-view", prefetch_for(eligible_resources())),
        headers={"Authorization": f"Bearer {token}", **headers},
    )


# 1. Replay across restarts and workers


def test_used_token_is_refused_after_a_restart(make_client, issuers_file, signer, tmp_path):
    settings = secure_settings(issuers_file, tmp_path / "shared.db")
    token = signer.token(URL)
    first = make_client(settings)
    assert _call(first, token).status_code == 200
    first.__exit__(None, None, None)  # the service stops ...
    restarted = make_client(settings)  # ... and starts again on the same database
    assert _call(restarted, token).status_code == 401


def test_used_token_is_refused_by_another_worker(make_client, issuers_file, signer, tmp_path):
    settings = secure_settings(issuers_file, tmp_path / "shared.db")
    worker_1, worker_2 = make_client(settings), make_client(settings)
    token = signer.token(URL)
    assert _call(worker_1, token).status_code == 200
    assert _call(worker_2, token).status_code == 401


def test_concurrent_replays_are_accepted_once(make_client, issuers_file, signer, tmp_path):
    settings = secure_settings(issuers_file, tmp_path / "shared.db")
    workers = [make_client(settings) for _ in range(2)]
    token = signer.token(URL)
    statuses: list[int] = []

    def call(client):
        statuses.append(_call(client, token).status_code)

    threads = [threading.Thread(target=call, args=(workers[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [401] * 7


# 1. Lifetimes and claim types


def test_long_lived_tokens_are_refused(secure_client, signer):
    now = int(time.time())
    assert _call(secure_client, signer.token(URL, exp_in=300)).status_code == 200
    assert _call(secure_client, signer.token(URL, exp_in=10 * 365 * 86400)).status_code == 401
    assert _call(secure_client, signer.token(URL, exp_in=600)).status_code == 401
    # exp - iat over 5 minutes, even though exp is near
    assert _call(secure_client, signer.token(URL, exp_in=100, iat=now - 400)).status_code == 401


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": "EXP"},  # a numeric string
        {"exp": 1e308},
        {"exp": 10**400},
        {"exp": -(10**400)},
        {"exp": True},
        {"exp": "EXP.0"},
        {"iat": "IAT"},
        {"iat": 1.5e9},
        {"iat": None},
        {"nbf": "IAT"},
        {"nbf": 10**400},
        {"nbf": "FUTURE"},
        {"iat": "FUTURE"},
        {"exp": 0},
    ],
)
def test_time_claims_must_be_whole_numbers_in_range(secure_client, signer, claims):
    now = int(time.time())
    values = {
        "EXP": str(now + 200),
        "EXP.0": float(now + 200),
        "IAT": str(now),
        "FUTURE": now + 120,
    }
    claims = {k: values.get(v, v) if isinstance(v, str) else v for k, v in claims.items()}
    response = _call(secure_client, signer.token(URL, **claims))
    assert response.status_code == 401
    assert response.content == b""


def test_clock_skew_is_a_setting(make_client, issuers_file, signer, tmp_path, monkeypatch):
    ahead = int(time.time()) + 20  # the client's clock runs 20 s fast
    tolerant = make_client(secure_settings(issuers_file, tmp_path / "a.db"))
    assert _call(tolerant, signer.token(URL, iat=ahead, exp_in=200)).status_code == 200
    strict = make_client(secure_settings(issuers_file, tmp_path / "b.db", jwt_clock_skew=0))
    assert _call(strict, signer.token(URL, iat=ahead, exp_in=200)).status_code == 401
    monkeypatch.setenv("EARLYPATH_JWT_CLOCK_SKEW", "5")
    assert Settings.from_env().jwt_clock_skew == 5
    for bad in ("abc", "-1", "100000"):
        monkeypatch.setenv("EARLYPATH_JWT_CLOCK_SKEW", bad)
        with pytest.raises(ConfigError, match="EARLYPATH_JWT_CLOCK_SKEW"):
            Settings.from_env()


# 5. The audience is EARLYPATH_PUBLIC_URL, never the request's own headers


def test_auth_on_without_public_url_refuses_to_start(issuers_file, tmp_path):
    settings = Settings(auth=True, issuers_file=str(issuers_file), feedback_db="sqlite://")
    with pytest.raises(ConfigError, match="EARLYPATH_PUBLIC_URL is required"):
        create_app(settings)
    for bad in ("cds.example.org", "ftp://cds.example.org", "https://cds.example.org/?x=1"):
        with pytest.raises(ConfigError, match="EARLYPATH_PUBLIC_URL"):
            create_app(
                Settings(
                    auth=True,
                    issuers_file=str(issuers_file),
                    public_url=bad,
                    feedback_db="sqlite://",
                )
            )


def test_audience_is_compared_with_the_public_url_only(make_client, issuers_file, signer, tmp_path):
    public = "https://cds.example.org/base"
    client = make_client(secure_settings(issuers_file, tmp_path / "p.db", public_url=public + "/"))
    assert _call(client, signer.token(public + PV)).status_code == 200
    # A token minted for another host, sent with headers naming that host: refused.
    other = "https://other.example.net"
    spoofed = {"Host": "other.example.net", "X-Forwarded-Host": "other.example.net"}
    assert _call(client, signer.token(other + PV), **spoofed).status_code == 401
    assert _call(client, signer.token(URL)).status_code == 401  # the request's own URL
    forwarded = {"X-Forwarded-Proto": "http", "X-Forwarded-Host": "testserver"}
    assert _call(client, signer.token(URL), **forwarded).status_code == 401


# 4. JWK Set fetches: failures cached with back-off, one fetch at a time


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failed_key_set_fetches_are_cached_with_backoff():
    fetches = []

    def down(request):
        fetches.append(1)
        return httpx.Response(503)

    clock = FakeClock()
    fetcher = JWKSFetcher(httpx.MockTransport(down), clock=clock)
    for _ in range(50):
        with pytest.raises(AuthError):
            fetcher.get("https://keys.example.org/jwks")
    assert len(fetches) == 1
    clock.now += 11  # past the first back-off (10 s): one retry, then 20 s of quiet
    for _ in range(50):
        with pytest.raises(AuthError):
            fetcher.get("https://keys.example.org/jwks")
    assert len(fetches) == 2
    clock.now += 15
    with pytest.raises(AuthError, match="backing off"):
        fetcher.get("https://keys.example.org/jwks")
    assert len(fetches) == 2


def test_concurrent_key_set_fetches_are_shared(signer):
    fetches = []

    def slow(request):
        fetches.append(1)
        time.sleep(0.3)
        return httpx.Response(200, json=signer.jwks)

    fetcher = JWKSFetcher(httpx.MockTransport(slow))
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(fetcher.get("https://k.example.org/j")))
        for _ in range(12)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fetches) == 1
    assert results == [signer.jwks] * 12


def test_a_refresh_in_flight_does_not_hold_calls(signer):
    fetches = []
    slow = threading.Event()

    def host(request):
        fetches.append(1)
        if slow.is_set():
            time.sleep(1.0)
        return httpx.Response(200, json=signer.jwks)

    clock = FakeClock()
    fetcher = JWKSFetcher(httpx.MockTransport(host), clock=clock)
    assert fetcher.get("https://k.example.org/j") == signer.jwks
    clock.now += 301  # the keys are due for a refresh, and the key host has become slow
    slow.set()
    refresher = threading.Thread(target=fetcher.get, args=("https://k.example.org/j",))
    refresher.start()
    time.sleep(0.2)
    started = time.perf_counter()
    assert fetcher.get("https://k.example.org/j") == signer.jwks  # the keys being replaced
    assert time.perf_counter() - started < 0.5
    refresher.join()
    assert len(fetches) == 2


def test_a_burst_waits_for_one_fetch_in_bounded_numbers():
    fetches = []

    def slow_and_down(request):
        fetches.append(1)
        time.sleep(1.0)
        return httpx.Response(503)

    fetcher = JWKSFetcher(httpx.MockTransport(slow_and_down))
    quick: list[float] = []

    def call():
        started = time.perf_counter()
        with pytest.raises(AuthError):
            fetcher.get("https://k.example.org/j")
        quick.append(time.perf_counter() - started)

    threads = [threading.Thread(target=call) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fetches) == 1
    # one fetching, at most 16 waiting for it; the rest refused at once
    assert sum(1 for t in quick if t < 0.5) >= 40 - 1 - 16


def test_forged_burst_for_a_slow_key_host_does_not_delay_other_clients(
    make_client, tmp_path, signer
):
    def slow_and_down(request):
        time.sleep(3.0)
        return httpx.Response(500)

    (tmp_path / "ehr-jwks.json").write_text(json.dumps(signer.jwks))
    path = tmp_path / "issuers.json"
    path.write_text(
        json.dumps(
            {
                "issuers": [
                    {"iss": ISS, "jwks_file": "ehr-jwks.json"},
                    {"iss": "https://slow.example.org", "jwks_url": "https://slow.example.org/k"},
                ]
            }
        )
    )
    settings = Settings(
        auth=True,
        issuers_file=str(path),
        feedback_db=f"sqlite:///{tmp_path / 'f.db'}",
        public_url=BASE,
    )
    client = make_client(settings, jwks_transport=httpx.MockTransport(slow_and_down))
    forger = Signer(kid="k")
    forged = [forger.token(URL, iss="https://slow.example.org") for _ in range(60)]
    threads = [threading.Thread(target=_call, args=(client, token)) for token in forged]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    started = time.perf_counter()
    assert _call(client, signer.token(URL)).status_code == 200
    assert time.perf_counter() - started < 2.0  # not queued behind the forged calls
    for thread in threads:
        thread.join()


def test_forged_tokens_cause_one_key_fetch_per_interval(make_client, tmp_path, signer):
    fetches = []

    def slow_and_down(request):
        fetches.append(1)
        time.sleep(0.2)
        return httpx.Response(500)

    path = tmp_path / "issuers.json"
    path.write_text(
        json.dumps({"issuers": [{"iss": ISS, "jwks_url": "https://ehr.example.org/jwks"}]})
    )
    settings = Settings(
        auth=True,
        issuers_file=str(path),
        feedback_db=f"sqlite:///{tmp_path / 'f.db'}",
        public_url=BASE,
    )
    client = make_client(settings, jwks_transport=httpx.MockTransport(slow_and_down))
    forger = Signer(kid=signer.kid)
    started = time.perf_counter()
    statuses = [_call(client, forger.token(URL)).status_code for _ in range(60)]
    assert statuses == [401] * 60
    assert len(fetches) == 1
    assert time.perf_counter() - started < 5  # not 60 slow fetches


# 12. A malformed issuer allow-list refuses the start, naming what is wrong


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not valid JSON"),
        ('["https://ehr.example.org"]', '"issuers"'),
        ('{"issuers": [{"jwks": {"keys": []}}]}', "issuers[0].iss is required"),
        ('{"issuers": [{"iss": "x"}]}', "has no keys"),
        ('{"issuers": [{"iss": "x", "jwks": {"keys": "none"}}]}', "must be a JWK Set"),
        ('{"issuers": [{"iss": "x", "jwks": {"keys": [{"kid": "k", "kty": "EC"}]}}]}', "usable"),
        ('{"issuers": [{"iss": "x", "jwks_uri": "https://a/j"}]}', "unknown field"),
        ('{"issuers": [{"iss": "x", "jwks_url": "http://keys.example.org/j"}]}', "https"),
        ('{"issuers": [{"iss": "x", "jku": "https://a/j"}]}', "jku must be a list"),
        ('{"issuers": [{"iss": "x", "jwks_file": "missing.json"}]}', "cannot read"),
    ],
)
def test_malformed_issuer_config_refuses_to_start(tmp_path, content, reason):
    path = tmp_path / "issuers.json"
    path.write_text(content)
    settings = Settings(auth=True, issuers_file=str(path), feedback_db="sqlite://", public_url=BASE)
    with pytest.raises(ConfigError, match="EARLYPATH_CDS_ISSUERS") as refused:
        create_app(settings)
    assert reason in str(refused.value)


def test_missing_issuer_file_refuses_to_start(tmp_path):
    settings = Settings(
        auth=True,
        issuers_file=str(tmp_path / "nope.json"),
        feedback_db="sqlite://",
        public_url=BASE,
    )
    with pytest.raises(ConfigError, match="cannot read"):
        create_app(settings)


def test_serve_with_two_workers_accepts_a_token_once(tmp_path, signer):
    (tmp_path / "jwks.json").write_text(json.dumps(signer.jwks))
    issuers = tmp_path / "issuers.json"
    issuers.write_text(json.dumps({"issuers": [{"iss": ISS, "jwks_file": "jwks.json"}]}))
    env = {
        "EARLYPATH_CDS_AUTH": "on",
        "EARLYPATH_CDS_ISSUERS": str(issuers),
        "EARLYPATH_FEEDBACK_DB": f"sqlite:///{tmp_path / 'fb.sqlite3'}",
    }
    body = hook_request("patient-view", prefetch_for(eligible_resources()))
    with live_server(env, workers=2, public_url=True) as server:
        token = signer.token(server.base + PV)
        statuses: list[int] = []

        def call() -> None:
            # a new connection each time: the two workers share the listening socket
            with httpx.Client(base_url=server.base, timeout=30) as client:
                response = client.post(PV, json=body, headers={"Authorization": f"Bearer {token}"})
                statuses.append(response.status_code)

        threads = [threading.Thread(target=call) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        log = server.log_text()
    assert sorted(statuses) == [200] + [401] * 11
    assert log.count("replayed jti") == 11


def test_token_with_deeply_nested_claims_is_401_not_500(secure_client):
    import base64

    def part(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = part(b'{"alg": "ES384", "kid": "ehr-key-1"}')
    payload = part(b'{"iss": ' + b"[" * 20_000 + b"]" * 20_000 + b"}")
    for token in (f"{header}.{payload}.c2ln", f"{payload}.{header}.c2ln"):
        response = _call(secure_client, token)
        assert response.status_code in (401, 431), response.status_code


def test_unavailable_used_token_store_fails_closed(secure_client, signer, caplog):
    from sqlalchemy import text

    with secure_client.app.state.feedback.engine.begin() as connection:
        connection.execute(text("DROP TABLE cds_used_jwt_ids"))  # the store breaks
    response = _call(secure_client, signer.token(URL))
    assert response.status_code == 503  # never accepted without the replay check
    assert response.json()["errors"][0]["message"] == "authentication store unavailable"
    assert "used-token store unavailable (OperationalError)" in caplog.text
