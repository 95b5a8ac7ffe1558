"""A class-data archive for the audit's Spark JVM (the JDK's application class-data sharing).

A fresh JVM loads and verifies some 20,000 classes of Spark's jars, during the session start
and again during the first queries (their classes load on first use). The JVM can map them
instead from an archive it wrote at the exit of an earlier run (``-XX:ArchiveClassesAtExit``,
then ``-XX:SharedArchiveFile``). Measured on a 100k-row audit on the shared 2-core machine
(load 9): the session start 15-17 s -> 5.5-8.9 s, the audit's CPU 17.2-18.8 s -> 13.3-15.1 s.

The archive (about 170 MB) is kept in the user's cache folder, one per PySpark version and Java
binary. A JVM writes it under a name of its own (``.<pid>.part``); a later session takes it as
the archive once that process has ended. An archive the JVM cannot use (a partial write, another
JDK) is ignored by the JVM without a word: the session then simply starts as without one.
``EARLYPATH_SPARK_CLASS_ARCHIVE=off`` leaves it out.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

__all__ = ["CLASS_ARCHIVE_ENV", "class_archive_option"]

CLASS_ARCHIVE_ENV = "EARLYPATH_SPARK_CLASS_ARCHIVE"


def class_archive_option(cache: Path | None = None) -> str:
    """The JVM option that uses the class-data archive, or writes it at exit when there is none
    yet; "" when it is turned off or no cache folder can be written."""
    if os.environ.get(CLASS_ARCHIVE_ENV, "").lower() == "off":
        return ""
    try:
        target = _archive_path(cache)
        if target is None:
            return ""
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            _adopt_finished_part(target)
    except OSError:
        return ""
    if target.exists():
        return f"-XX:SharedArchiveFile={target} {QUIET}"
    part = target.with_name(f"{target.name}.{os.getpid()}.part")
    return f"-XX:ArchiveClassesAtExit={part} {QUIET}"


# The JVM warns on stderr of each old class it leaves out of the archive (Hadoop ships some).
QUIET = "-Xlog:cds*=off"


def _archive_path(cache: Path | None) -> Path | None:
    import pyspark

    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if java is None:
        return None
    java_file = Path(java).resolve()
    stamp = f"{java_file}:{java_file.stat().st_mtime_ns}"
    key = hashlib.sha256(stamp.encode()).hexdigest()[:12]
    folder = cache or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return folder / "earlypath" / f"spark-{pyspark.__version__}-{key}.jsa"


def _adopt_finished_part(target: Path) -> None:
    """Take as the archive a part written by a JVM whose Python process has ended."""
    for part in sorted(target.parent.glob(f"{target.name}.*.part")):
        pid = part.name[len(target.name) + 1 : -len(".part")]
        if pid.isdigit() and not _alive(int(pid)):
            os.replace(part, target)
            return


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
