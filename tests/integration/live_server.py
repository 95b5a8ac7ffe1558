"""`earlypath serve` in a subprocess on a free loopback port, for tests that need real sockets."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    base: str
    log: Path  # the server's stderr

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def live_server(
    env: dict[str, str], *, workers: int = 1, public_url: bool = False
) -> Iterator[Server]:
    """Start the service with these environment settings; yields it (base URL, log); stops it.

    `public_url`: set EARLYPATH_PUBLIC_URL to the server's own loopback URL (auth on needs it).
    """
    port = free_port()
    if public_url:
        env = {**env, "EARLYPATH_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    log_dir = Path(tempfile.mkdtemp(prefix="earlypath-serve-"))
    log = log_dir / "stderr.log"
    log_file = log.open("wb")
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **env}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from earlypath.cli import app; app()",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=log_file,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                httpx.get(base + "/api/schema", timeout=1.0)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield Server(base, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_file.close()
