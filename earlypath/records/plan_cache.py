"""The compiled SQL of a record reading, kept on disk between processes.

Rendering the definition to SQL takes about a second (ibis builds and renders a large plan) and
depends only on what goes in: the definition, the value sets, the backend, the input tables'
schemas and the code that compiles them. Each CLI audit is a fresh process, so the statements
are kept in a folder of the user's temp dir, under a SHA-256 of all of that (the source of the
whole ``earlypath`` package stands for "the code"); any change gives a new key. Only SQL text is
kept (no patient data). ``EARLYPATH_PLAN_CACHE`` names another folder, or ``off`` to not keep.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cache
from pathlib import Path
from typing import Any

from earlypath.env_settings import number_setting

__all__ = [
    "LOCK_WAIT_SETTING",
    "canonical",
    "compiling",
    "load_plan",
    "package_digest",
    "plan_key",
    "save_plan",
]


def canonical(value: Any) -> str:
    """A text for ``value`` that is the same in every process (sets sorted, dataclasses by
    field), unlike ``repr`` of a frozenset of strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        inner = ", ".join(
            f"{f.name}={canonical(getattr(value, f.name))}" for f in dataclasses.fields(value)
        )
        return f"{type(value).__qualname__}({inner})"
    if isinstance(value, dict):
        items = sorted((canonical(k), canonical(v)) for k, v in value.items())
        return "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"
    if isinstance(value, set | frozenset):
        return "set(" + ", ".join(sorted(canonical(v) for v in value)) + ")"
    if isinstance(value, tuple | list):
        return "(" + ", ".join(canonical(v) for v in value) + ",)"
    return repr(value)


@cache
def _source_digest() -> str:
    return package_digest(Path(__file__).resolve().parent.parent)


def package_digest(root: Path) -> str:
    """A SHA-256 of every ``.py`` and ``.json`` file under ``root`` (none in a ``__pycache__``):
    each one's path from ``root`` and its bytes, in the order of their paths' parts.

    Walked with ``os.scandir`` (0.6 ms for the package, where ``Path.rglob`` and an ``is_file``
    on every entry took 7.7 ms on every start): the same files, in the same order, as that walk
    (folders linked in are not entered, files linked in are read), so the same digest."""
    found: list[tuple[tuple[str, ...], str]] = []
    _source_files(str(root), (), found)
    found.sort()  # by the tuple of parts, as sorting the paths does
    digest = hashlib.sha256()
    for parts, path in found:
        digest.update("/".join(parts).encode())
        with open(path, "rb") as source:
            digest.update(source.read())
    return digest.hexdigest()


def _source_files(folder: str, parts: tuple[str, ...], found: list[Any]) -> None:
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    _source_files(entry.path, (*parts, entry.name), found)
            elif os.path.splitext(entry.name)[1] in (".py", ".json") and entry.is_file():
                found.append(((*parts, entry.name), entry.path))


def plan_key(*parts: Any) -> str:
    """The key of a plan compiled from ``parts`` by this package's code."""
    import duckdb
    import ibis

    texts = [canonical(p) for p in (_source_digest(), ibis.__version__, duckdb.__version__)]
    texts += [_canonical_once(p) for p in parts]
    text = "(" + ", ".join(texts) + ",)"  # canonical() of the tuple of them, written so
    return hashlib.sha256(text.encode()).hexdigest()


# canonical() of a frozen dataclass, by identity: a reading asks for the key of one definition
# several times (its kept counts, its plan), and its text (421k characters for the audit's
# reading) took about 30 ms each time. The object is kept with its text: its id is not reused.
_TEXTS: dict[int, tuple[Any, str]] = {}


def _canonical_once(value: Any) -> str:
    params = getattr(type(value), "__dataclass_params__", None)
    if params is None or not params.frozen:
        return canonical(value)
    kept = _TEXTS.get(id(value))
    if kept is None or kept[0] is not value:
        kept = _TEXTS[id(value)] = (value, canonical(value))
    return kept[1]


def _folder() -> Path | None:
    chosen = os.environ.get("EARLYPATH_PLAN_CACHE", "")
    if chosen.lower() == "off":
        return None
    folder = (
        Path(chosen) if chosen else Path(tempfile.gettempdir()) / f"earlypath-plans-{os.getuid()}"
    )
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
    except OSError:
        return None
    # SQL is run as read: only a folder of this user that no one else can write is trusted
    if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return None
    return folder


def load_plan(key: str) -> dict[str, Any] | None:
    """The plan kept under ``key``, or None (none kept, or unreadable)."""
    folder = _folder()
    if folder is None:
        return None
    try:
        return json.loads((folder / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def save_plan(key: str, plan: dict[str, Any]) -> None:
    """Keep ``plan`` under ``key`` (written whole, then renamed: a reader never sees half)."""
    folder = _folder()
    if folder is None:
        return
    try:
        handle, temp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(plan, out)
        os.replace(temp, folder / f"{key}.json")
    except OSError:
        return


LOCK_WAIT_SETTING = "EARLYPATH_PLAN_LOCK_WAIT"
# a cold reading's plan is 20-35 CPU s; on a loaded machine its wall time is minutes. Past this,
# the waiting process compiles the plan itself (as it did before locks): a lost lock costs time
# once, never the reading.
_DEFAULT_LOCK_WAIT_S = 900.0
_POLL_S = 0.25


def _lock_wait_s() -> float:
    return number_setting(
        LOCK_WAIT_SETTING, _DEFAULT_LOCK_WAIT_S, float, "a number of seconds (0 or more)", 0.0
    )


def _holder_alive(lock: Path) -> bool:
    """Is the process named in ``lock`` still running? A lock that cannot be read, or names no
    process, or a process that has ended, is stale."""
    try:
        pid = int(lock.read_text(encoding="ascii").strip() or "0")
    except (OSError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # (it exists, but is not ours to signal)
        return True
    return True


def _take(lock: Path) -> bool:
    """Make ``lock`` holding this process's id, unless it exists (another holds it)."""
    try:
        handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(handle, "w", encoding="ascii") as out:
        out.write(str(os.getpid()))
    return True


@contextmanager
def compiling(key: str) -> Iterator[None]:
    """Hold the plan folder's lock of ``key`` while this process compiles it, so another process
    that wants the same plan cold (two test workers, two audits started together) waits for its
    file instead of compiling it a second time.

    Entered when the plan was not kept: if another live process holds the lock, this waits
    until the lock is gone (its plan is then kept, or its compile failed) or for
    ``EARLYPATH_PLAN_LOCK_WAIT`` seconds (default 900), then goes on; the caller looks for the
    plan again before compiling. A lock whose process has ended is stale and taken over. No
    folder (``off``), or a lock that cannot be made: no lock, as before."""
    folder = _folder()
    if folder is None:
        yield
        return
    lock = folder / f"{key}.lock"
    deadline = time.monotonic() + _lock_wait_s()
    held = False
    try:
        while True:
            try:
                held = _take(lock)
            except OSError:
                break  # (a folder we cannot write: compile unlocked)
            if held or (folder / f"{key}.json").exists():
                break
            if not _holder_alive(lock):
                # (a holder that ended without removing its lock: remove it, then try again)
                with suppress(OSError):
                    lock.unlink()
                continue
            if time.monotonic() >= deadline:
                break
            time.sleep(_POLL_S)
        yield
    finally:
        if held:
            with suppress(OSError):
                lock.unlink()
