"""Keep patient ids, resource ids, tokens and query strings out of every log line.

Our own log lines are written data-free. Libraries are not: httpx logs each request URL at INFO
(`GET .../Condition?patient=<id>`), httpcore traces connections and headers at DEBUG, uvicorn's
ASGI trace logs whole request scopes (headers, so the bearer token), and uvicorn's access log
writes the path with its query string (form values on the pages). This module quietens the
first three (warnings and errors only, which carry no URL) and strips query strings from the
access log. It is applied by the app factory, so it holds however the service is started
(`earlypath serve`, `uvicorn --factory` at any log level, or a test client).
"""

from __future__ import annotations

import logging

# Libraries whose INFO/DEBUG lines carry URLs, headers or bodies.
CHATTY_LOGGERS = ("httpx", "httpcore", "hpack", "uvicorn.asgi", "python_multipart", "multipart")


class StripQueryString(logging.Filter):
    """uvicorn access lines: `client - "GET /path?query HTTP/1.1" 200` -> the path only."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        elif "?" in str(record.msg):
            record.msg = str(record.msg).split("?", 1)[0] + " (query string not logged)"
            record.args = None
        return True


def keep_ids_out_of_logs() -> None:
    """Quieten the chatty libraries and redact the access log (idempotent)."""
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, StripQueryString) for f in access.filters):
        access.addFilter(StripQueryString())
