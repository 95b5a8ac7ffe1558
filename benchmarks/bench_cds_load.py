"""CDS Hooks under load: 50 concurrent clients POSTing patient-view calls for ~15 s.

Run: .venv/bin/python benchmarks/bench_cds_load.py [--seconds 15] [--clients 50] [--workers 1]
                                                  [--driver httpx|wrk] [--auth] [--no-baseline]
                                                  [--loop uvloop] [--http h11] [--access-log]

The baseline, in the same run and on the same server stack (uvicorn, the same HTTP protocol and
loop, one worker): a hello-world FastAPI route answering a POST of the same body, loaded the same
way. Server CPU per call is the server process's user + system time over the load (from /proc),
divided by the requests answered. The goal (issues 12 and 16): the CDS call's p99 at most 2x the
hello-world route's p99, and at most 0.3 ms of server CPU a call.

The service runs in its own process (uvicorn on a free loopback port); the load comes from
another process (an asyncio httpx driver, or Debian's `wrk` with --driver wrk). Every request
is a full CDS call: prefetched FHIR R4 resources for an eligible woman -> episode -> engine ->
an offer card with a MedicationRequest suggestion. Beside the HTTP figures the script measures,
in this process and in the same run, the engine time per assessment and the in-process service
work per call (FHIR mapping + engine + card), and prints the ratios.

Target: p99 < 50 ms on 2 cores with no errors. Loopback only; bounded in time and count.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVICE = "/cds-services/ng126-progesterone"
MAX_REQUESTS = 2_000_000  # a hard cap on top of the time bound


# Observations a real record holds that the reading does not use (--extra-observations): a
# weight, a blood pressure and a haemoglobin, in turn.
_OTHER_OBSERVATIONS = (
    ("29463-7", "Body weight", 70, "kg"),
    ("8480-6", "Systolic blood pressure", 118, "mm[Hg]"),
    ("718-7", "Hemoglobin [Mass/volume] in Blood", 12.5, "g/dL"),
)


def other_observation(n: int, patient_id: str) -> dict:
    """The n-th Observation of a kind the reading leaves out (all her Observations are sent)."""
    code, display, value, unit = _OTHER_OBSERVATIONS[n % len(_OTHER_OBSERVATIONS)]
    return {
        "resourceType": "Observation",
        "id": f"other-{n}",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": "2024-01-15",
        "valueQuantity": {
            "value": value,
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
    }


# The keys whose dates an EHR writes as instants: when a thing was seen, started or ordered
# (a birthDate, an LMP's valueDateTime and other dates of a day alone stay dates).
_INSTANT_KEYS = frozenset(
    ("effectiveDateTime", "onsetDateTime", "recordedDate", "authoredOn", "issued", "start", "end")
)
# Times of day and how each is written, in turn: UTC "Z" (Epic's API, many servers), with a
# fraction of a second, "+00:00", and the local offset (UK Core's examples: "+01:00" in BST).
# Daytime, so each instant falls on its written day in London, as the plain record's dates.
_INSTANT_FORMS = ("T09:15:00{z}", "T10:42:17.350{z}", "T14:05:09.123456{z}", "T16:30:00{z}")


def _instant(day: str, n: int) -> str:
    """``day`` (YYYY-MM-DD) as the n-th form of `_INSTANT_FORMS`, written with London's offset
    that day as a system in the UK writes it: "Z" or "+00:00" in GMT, "+01:00" in BST."""
    noon = dt.datetime.fromisoformat(day + "T12:00:00").replace(tzinfo=ZoneInfo("Europe/London"))
    zone = "+01:00" if noon.utcoffset() else ("+00:00" if n % 2 else "Z")
    return day + _INSTANT_FORMS[n % len(_INSTANT_FORMS)].format(z=zone)


def with_instants(resources: list[dict]) -> list[dict]:
    """The resources with every date of `_INSTANT_KEYS` written as a timestamp (`_instant`), as
    real EHR records send them; the same day in London, so the same answer."""
    count = 0

    def moved(value: Any, key: str = "") -> Any:
        nonlocal count
        if type(value) is dict:
            return {k: moved(v, k) for k, v in value.items()}
        if type(value) is list:
            return [moved(v, key) for v in value]
        if key in _INSTANT_KEYS and type(value) is str and len(value) == 10:
            count += 1
            return _instant(value, count)
        return value

    return [moved(r) for r in resources]


def request_body(today: dt.date, extra_observations: int = 0, instants: bool = False) -> dict:
    """A patient-view call for an eligible woman, dated relative to the server's today; with
    ``extra_observations`` Observations the reading leaves out, as a real record has; with
    ``instants`` its dates written as timestamps (`with_instants`), as real EHRs send them."""
    from tests.integration import fhir_data as f

    shift = (today - f.TODAY).days

    def moved(resource: dict) -> dict:
        text = json.dumps(resource)
        for key in ("2024-03-04", "2024-03-03", "2024-01-15", "2022-06-01"):
            new = (dt.date.fromisoformat(key) + dt.timedelta(days=shift)).isoformat()
            text = text.replace(key, new)
        return json.loads(text)

    resources = [moved(r) for r in f.eligible_resources()]
    others = [moved(other_observation(n, f.PATIENT_ID)) for n in range(extra_observations)]
    record = resources + others
    if not instants:
        return f.hook_request("patient-view", f.prefetch_for(record))
    prefetch = f.prefetch_for(with_instants(record))
    prefetch["patient"]["birthDate"] = "1994-05-12"  # a date alone, as every system writes it
    return f.hook_request("patient-view", prefetch)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hello_app() -> Any:
    """The baseline: a hello-world FastAPI route (POST, so the same body can be sent)."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.post(SERVICE)
    async def hello() -> dict[str, list[str]]:
        return {"cards": []}

    return app


# How `earlypath serve` ran uvicorn before issue 16 (for --before with a checkout that has no
# `uvicorn_options`).
_SERVE_OPTIONS_BEFORE = {
    "loop": "asyncio",
    "http": "earlypath.web.protocol:GuardedHttpToolsProtocol",
    "access_log": False,
}


def _as_server() -> None:
    """Serve `earlypath` or the hello-world app with the options `earlypath serve` uses."""
    which, port, workers, code = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    sys.path.insert(0, code)  # the checkout whose earlypath is served (this one, or --before)
    import uvicorn

    from earlypath.web.config import Settings
    from earlypath.web.log_privacy import keep_ids_out_of_logs

    keep_ids_out_of_logs()
    settings = Settings.from_env()
    try:
        from earlypath.web.serve import uvicorn_options
    except ImportError:
        options: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": port,
            "workers": workers,
            "timeout_keep_alive": settings.keep_alive_timeout,
            "limit_concurrency": settings.max_concurrency,
            **_SERVE_OPTIONS_BEFORE,
        }
    else:
        options = uvicorn_options(settings, "127.0.0.1", port, workers)
    options["log_level"] = "warning"
    if os.environ.get("BENCH_LOOP"):
        options["loop"] = os.environ["BENCH_LOOP"]  # --loop: try another event loop
    if os.environ.get("BENCH_HTTP"):
        options["http"] = os.environ["BENCH_HTTP"]  # --http: another HTTP protocol
    if os.environ.get("BENCH_ACCESS_LOG"):
        options["access_log"] = True  # --access-log: uvicorn's access log on (to stderr)
        options["log_level"] = "info"
    _count_collections(os.environ.get("BENCH_GC_FILE"), os.environ.get("BENCH_PROFILE"), which)
    if which == "hello":
        uvicorn.run(
            "bench_cds_load:hello_app", factory=True, app_dir=str(ROOT / "benchmarks"), **options
        )
    else:
        uvicorn.run("earlypath.web.app:create_app", factory=True, **options)


def _count_collections(out: str | None, profile_to: str | None, which: str) -> None:
    """Count the collector's runs per generation, and their seconds, over the load: from SIGUSR1
    (`load` sends it as the load starts) to SIGUSR2 (as it ends: the counts are written to
    ``out``). With ``profile_to``, cProfile runs over the same span and its stats are written
    there (uvicorn ends a stopped server by raising the signal again, so nothing is left to
    write at exit)."""
    import gc

    counts: dict[str, list[float]] = {"runs": [0, 0, 0], "seconds": [0.0, 0.0, 0.0]}
    started = [0.0]
    profiler: list[Any] = []

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            counts["runs"][info["generation"]] += 1
            counts["seconds"][info["generation"]] += time.perf_counter() - started[0]

    def begin(*_: Any) -> None:
        counts["runs"], counts["seconds"] = [0, 0, 0], [0.0, 0.0, 0.0]
        if profile_to:
            import cProfile

            profiler.append(cProfile.Profile())
            profiler[0].enable()

    def end(*_: Any) -> None:
        if profiler:
            profiler[0].disable()
            profiler[0].dump_stats(f"{profile_to}/{which}-{os.getpid()}.prof")
        if out:
            Path(out).write_text(json.dumps(counts))

    gc.callbacks.append(callback)
    signal.signal(signal.SIGUSR1, begin)
    signal.signal(signal.SIGUSR2, end)


def start_server(
    which: str, port: int, workers: int, auth: bool, data: Path, code: Path = ROOT
) -> subprocess.Popen:
    env = {
        **os.environ,
        "EARLYPATH_CDS_AUTH": "on" if auth else "off",
        "EARLYPATH_FEEDBACK_DB": f"sqlite:///{data / 'feedback.sqlite3'}",
        "PYTHONPATH": os.pathsep.join([str(code), os.environ.get("PYTHONPATH", "")]),
    }
    if auth:
        env["EARLYPATH_CDS_ISSUERS"] = str(data / "issuers.json")
        env["EARLYPATH_PUBLIC_URL"] = f"http://127.0.0.1:{port}"  # the JWT audience's base
    cmd = [sys.executable, __file__, "--as-server", which, str(port), str(workers), str(code)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU of the server process and its worker processes (Linux /proc)."""
    return sum(server_cpu_split(pid))


def server_cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of the server process and its worker processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    user = system = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:  # fields[1]: the parent pid
            user += int(fields[11])
            system += int(fields[12])
    return user / ticks, system / ticks


# --- the driver (runs in its own process) ----------------------------------------------------


async def _drive(
    url: str, body: bytes, clients: int, seconds: float, tokens: list[str] | None
) -> dict:
    import httpx

    latencies: list[float] = []
    errors = 0
    count = 0
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"Content-Type": "application/json"}
    async with httpx.AsyncClient(limits=limits, timeout=10.0) as client:

        async def worker() -> None:
            nonlocal errors, count
            while time.perf_counter() < stop_at and count < MAX_REQUESTS:
                count += 1
                h = headers
                if tokens:
                    h = {**headers, "Authorization": f"Bearer {tokens.pop()}"}
                start = time.perf_counter()
                try:
                    response = await client.post(url, content=body, headers=h)
                    ok = response.status_code == 200 and b'"cards"' in response.content
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - start)
                if not ok:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "elapsed": elapsed,
        "latencies": latencies,
    }


def drive_httpx(
    url: str, body: bytes, clients: int, seconds: float, tokens_file: str | None
) -> dict:
    """Run the asyncio driver in a child process; returns its figures."""
    args = [sys.executable, __file__, "--as-driver", url, str(clients), str(seconds)]
    if tokens_file:
        args.append(tokens_file)
    out = subprocess.run(args, input=body, capture_output=True, check=True, timeout=seconds + 120)
    return json.loads(out.stdout)


def drive_wrk(url: str, body: bytes, clients: int, seconds: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        lua = Path(tmp) / "post.lua"
        lua.write_text(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = {json.dumps(body.decode())}\n"
            "done = function(summary, latency, requests)\n"
            '  io.write(string.format("JSON {\\"requests\\": %d, \\"errors\\": %d, \\"p50\\": %f, \\"p90\\": %f, \\"p99\\": %f, \\"p999\\": %f, \\"max\\": %f, \\"elapsed\\": %f}\\n",'
            " summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read +"
            " summary.errors.write + summary.errors.timeout, latency:percentile(50) / 1e6,"
            " latency:percentile(90) / 1e6, latency:percentile(99) / 1e6,"
            " latency:percentile(99.9) / 1e6, latency.max / 1e6, summary.duration / 1e6))\n"
            "end\n"
        )
        # One wrk thread drives 50 connections easily; a second thread would only take CPU
        # from the server on this 2-core machine (measured: p99 60 ms with -t2, 38 ms with -t1).
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{clients}",
                f"-d{int(seconds)}s",
                "--timeout",
                "10s",
                "-s",
                str(lua),
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        )
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("JSON "))
    return json.loads(line.removeprefix("JSON "))


# --- in-process baselines (same run) ----------------------------------------------------------


def engine_time(body: dict, today: dt.date, n: int = 3000) -> tuple[float, float]:
    """Seconds per assessment (engine only, the progesterone section the service asks for) and
    per in-process CDS call without HTTP (mapping + engine + card + JSON)."""
    from earlypath import assess, parse_episode
    from earlypath.fhir.cards import decision_card
    from earlypath.fhir.mapping import flatten, map_resources
    from earlypath.json_text import dumps_bytes

    sections = ("progesterone",)

    resources = flatten(list(body["prefetch"].values()))
    mapped = map_resources(resources, today)
    episode = parse_episode(mapped.episode)
    for _ in range(200):
        assess(episode, sections=sections)
    start = time.process_time()
    for _ in range(n):
        assess(episode, sections=sections)
    per_assess = (time.process_time() - start) / n
    start = time.process_time()
    for _ in range(n // 3):
        m = map_resources(resources, today)
        a = assess(m.episode, sections=sections)
        dumps_bytes({"cards": [decision_card(a, "p", m.problems, m.evidence)]})
    per_call = (time.process_time() - start) / (n // 3)
    return per_assess, per_call


def make_tokens(data: Path, url: str, count: int) -> str:
    """Keys for a test issuer, its allow-list file, and `count` single-use tokens."""
    import uuid

    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP384R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "bench", "alg": "ES384"})
    (data / "issuers.json").write_text(
        json.dumps({"issuers": [{"iss": "https://bench.local", "jwks": {"keys": [jwk]}}]})
    )
    now = int(time.time())
    tokens = [
        jwt.encode(
            {
                "iss": "https://bench.local",
                "aud": url,
                "iat": now,
                "exp": now + 300,  # the service refuses lifetimes over 5 minutes
                "jti": str(uuid.uuid4()),
            },
            key,
            algorithm="ES384",
            headers={"kid": "bench", "typ": "JWT"},
        )
        for _ in range(count)
    ]
    path = data / "tokens.json"
    path.write_text(json.dumps(tokens))
    return str(path)


# the latency percentiles reported, by the name wrk's figures carry ("999": the 99.9th)
_PERCENTILES = {"50": 50.0, "90": 90.0, "99": 99.0, "999": 99.9}


def pct(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def load(
    which: str,
    args: argparse.Namespace,
    driver: str,
    body: bytes,
    data: Path,
    code: Path = ROOT,
) -> dict[str, Any]:
    """Serve one app, load it for `args.seconds`, and return its figures."""
    port = free_port()
    url = f"http://127.0.0.1:{port}{SERVICE}"
    auth = args.auth and which == "cds"
    tokens_file = (
        # Enough for ~1,500 calls/s; all minted (and used) within the 5-minute lifetime.
        make_tokens(data, url, int(args.seconds * 1_500) + 1_000) if auth else None
    )
    gc_file = data / f"gc-{which}-{port}.json"
    os.environ["BENCH_GC_FILE"] = str(gc_file)
    if args.server_profile:
        os.environ["BENCH_PROFILE"] = str(Path(args.server_profile).resolve())
    server = start_server(which, port, args.workers, auth, data, code)
    try:
        import httpx

        warm = httpx.post(
            url, content=body, headers={"Content-Type": "application/json"}, timeout=10
        )
        if which == "cds" and not auth:
            card = warm.json()["cards"][0]
            assert "Offer" in card["summary"], card["summary"]
        server.send_signal(signal.SIGUSR1)  # count the collector's runs from here
        user_before, system_before = server_cpu_split(server.pid)
        load_before = os.getloadavg()[0]
        if driver == "wrk":
            result = drive_wrk(url, body, args.clients, args.seconds)
            spread = {name: result[f"p{name}"] for name in _PERCENTILES}
            spread["max"] = result["max"]
        else:
            result = drive_httpx(url, body, args.clients, args.seconds, tokens_file)
            lat = result.pop("latencies")
            spread = {name: pct(lat, q) for name, q in _PERCENTILES.items()}
            spread["max"] = lat[-1] if lat else float("nan")
        p50, p99 = spread["50"], spread["99"]
        user_after, system_after = server_cpu_split(server.pid)
        user, system = user_after - user_before, system_after - system_before
        cpu = user + system
        load_after = os.getloadavg()[0]
        server.send_signal(signal.SIGUSR2)  # the collector's counts (and the profile) written
        deadline = time.monotonic() + 30
        while not gc_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(10)
    calls = max(1, result["requests"])
    collections = json.loads(gc_file.read_text()) if gc_file.exists() else None
    return {
        "requests": result["requests"],
        "errors": result["errors"],
        "seconds": round(result["elapsed"], 1),
        "throughput_rps": round(result["requests"] / result["elapsed"], 1),
        "p50_ms": round(p50 * 1e3, 2),
        "p99_ms": round(p99 * 1e3, 2),
        # the latencies' spread, not only the p99: p90, p99.9 and the longest, and p99 / p50
        # (at 50 connections p50 is about 50 calls' CPU: every request waits for the others
        # once, in turn; the tail above it is the variation of those calls)
        "p90_ms": round(spread["90"] * 1e3, 2),
        "p99_9_ms": round(spread["999"] * 1e3, 2),
        "max_ms": round(spread["max"] * 1e3, 2),
        "p99_over_p50": round(p99 / p50, 2) if p50 else None,
        "server_cpu_ms_per_call": round(cpu / max(1, result["requests"]) * 1e3, 4),
        "server_user_ms_per_call": round(user / calls * 1e3, 4),
        "server_system_ms_per_call": round(system / calls * 1e3, 4),
        # the collector's runs during the load, per generation, and their milliseconds
        "gc_runs": collections and collections["runs"],
        "gc_ms": collections and [round(t * 1e3, 2) for t in collections["seconds"]],
        "load_average": [round(load_before, 1), round(load_after, 1)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--driver", choices=("httpx", "wrk", "auto"), default="auto")
    parser.add_argument("--auth", action="store_true", help="check a fresh ES384 JWT on every call")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the hello-world route's run"
    )
    parser.add_argument(
        "--loop",
        choices=("asyncio", "uvloop"),
        help="serve every app with this event loop instead of earlypath serve's "
        "(uvloop: pip install it first)",
    )
    parser.add_argument(
        "--before",
        metavar="CHECKOUT",
        help="also load the service from another checkout (e.g. `git worktree add` of main), "
        "for before/after figures from the same run",
    )
    parser.add_argument(
        "--http",
        choices=("h11", "httptools"),
        help="serve every app with uvicorn's plain protocol instead of earlypath serve's "
        "guarded httptools one",
    )
    parser.add_argument(
        "--access-log", action="store_true", help="serve every app with the access log on"
    )
    parser.add_argument(
        "--server-profile",
        metavar="DIR",
        help="run each server under cProfile and write its stats to DIR (the CPU figures then "
        "include the profiler's own cost: read the shares, not the times)",
    )
    args = parser.parse_args()
    driver = args.driver
    if driver == "auto":
        driver = "wrk" if shutil.which("wrk") and not args.auth else "httpx"
    if driver == "wrk" and args.auth:
        raise SystemExit("--auth needs the httpx driver (one fresh token per call)")

    if args.loop:
        os.environ["BENCH_LOOP"] = args.loop
    if args.http:
        os.environ["BENCH_HTTP"] = args.http
    if args.access_log:
        os.environ["BENCH_ACCESS_LOG"] = "1"
    today = dt.datetime.now(dt.UTC).date()
    body_dict = request_body(today)
    body = json.dumps(body_dict).encode()
    with tempfile.TemporaryDirectory() as tmp:
        before = None
        if args.before:
            before = load("cds", args, driver, body, Path(tmp), Path(args.before).resolve())
        cds = load("cds", args, driver, body, Path(tmp))
        hello = None if args.no_baseline else load("hello", args, driver, body, Path(tmp))
    per_assess, per_call = engine_time(body_dict, today)
    report: dict[str, Any] = {
        "driver": driver,
        "clients": args.clients,
        "workers": args.workers,
        "loop": args.loop or "as earlypath serve",
        "http": args.http or "as earlypath serve",
        "access_log": args.access_log,
        "auth": args.auth,
        "cpus": os.cpu_count(),
        "cds_before": before,
        "cds": cds,
        "hello_world": hello,
        "engine_ms_per_assessment": round(per_assess * 1e3, 4),
        "in_process_ms_per_cds_call": round(per_call * 1e3, 4),
    }
    if hello is not None:
        report["ratio_p99_to_hello_world"] = round(cds["p99_ms"] / hello["p99_ms"], 2)
        report["ratio_cpu_to_hello_world"] = round(
            cds["server_cpu_ms_per_call"] / hello["server_cpu_ms_per_call"], 2
        )
        report["goal_p99_at_most_2x_hello_world"] = report["ratio_p99_to_hello_world"] <= 2
        if before is not None:
            report["before_ratio_p99_to_hello_world"] = round(before["p99_ms"] / hello["p99_ms"], 2)
            report["before_ratio_cpu_to_hello_world"] = round(
                before["server_cpu_ms_per_call"] / hello["server_cpu_ms_per_call"], 2
            )
    report["goal_cpu_at_most_0.3ms"] = cds["server_cpu_ms_per_call"] <= 0.3
    report["no_errors"] = cds["errors"] == 0
    print(json.dumps(report, indent=2))


def _as_driver() -> None:
    url, clients, seconds = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    tokens = json.loads(Path(sys.argv[5]).read_text()) if len(sys.argv) > 5 else None
    body = sys.stdin.buffer.read()
    print(json.dumps(asyncio.run(_drive(url, body, clients, seconds, tokens))))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--as-driver":
        _as_driver()
    elif len(sys.argv) > 1 and sys.argv[1] == "--as-server":
        _as_server()
    else:
        main()
