"""Atomic output: write to a temporary file beside the target, then os.replace it into place.

After a crash or Ctrl-C the folder holds either the previous file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["atomic_path", "staged_outputs"]


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``target``, on failure it is removed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@contextlib.contextmanager
def staged_outputs(folder: Path, names: Sequence[str]) -> Iterator[dict[str, Path]]:
    """A path beside each named output to write it to. When the block ends without an error,
    every output is made durable and then moved into place, one after another; after an error
    (or Ctrl-C) they are all removed. The folder then holds the previous run's outputs or this
    run's, never some of each."""
    folder.mkdir(parents=True, exist_ok=True)
    staged = {name: folder / f".{name}.{os.getpid()}.staged" for name in names}
    try:
        yield staged
        for path in staged.values():
            with open(path, "rb+") as handle:
                os.fsync(handle.fileno())
        for name, path in staged.items():
            os.replace(path, folder / name)
    finally:
        for path in staged.values():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
