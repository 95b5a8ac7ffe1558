"""The SQL a reading sends, recorded as it goes (for tests and benchmarks that read its plan)."""

from __future__ import annotations

from typing import Any


def sql_sent(con: Any) -> list[str]:
    """From now on every SQL text sent through ``con.raw_sql``, in order; each still runs."""
    sent: list[str] = []
    send = con.raw_sql

    def raw_sql(sql: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(sql)
        return send(sql, *args, **kwargs)

    con.raw_sql = raw_sql
    return sent
