"""A class-data archive for the audit's Spark JVM (the JDK's application class-data sharing).

A fresh JVM loads and verifies some 20,000 classes of Spark's jars, during the session start
and again during the first queries (their classes load on first use). The JVM can map them
instead from an archive it wrote at the exit of an earlier run (``-XX:ArchiveClassesAtExit``,
then ``-XX:SharedArchiveFile``). Measured on a 100k-row audit on the shared 2-core machine
(load 9): the session start 15-17 s -> 5.5-8.9 s, the audit's CPU 17.2-18.8 s -> 13.3-15.1 s.

The archive (about 170 MB) is kept in the user's cache folder, one per PySpark version, Java
binary and set of Spark jars (`_class_path_stamp`: each virtual environment has its own; the
archives of removed or reinstalled environments are deleted when a new one is written,
`_drop_replaced`). A JVM writes it under a name of its own (``.<pid>.part``); a later session
takes it as the archive once that process has ended. An archive the JVM cannot use (a partial
write, another JDK, other jars) is ignored by the JVM without a word: the session then simply
starts as without one.
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
        jars = _jars_folder()
        target = _archive_path(cache, jars)
        if target is None:
            return ""
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            _drop_replaced(target, jars)
        _adopt_finished_part(target)
    except OSError:
        return ""
    if target.exists():
        return f"-XX:SharedArchiveFile={target} {QUIET}"
    part = target.with_name(f"{target.name}.{os.getpid()}.part")
    return f"-XX:ArchiveClassesAtExit={part} {QUIET}"


# The JVM warns on stderr of each old class it leaves out of the archive (Hadoop ships some).
QUIET = "-Xlog:cds*=off"


def _archive_path(cache: Path | None, jars: Path) -> Path | None:
    import pyspark

    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if java is None:
        return None
    java_file = Path(java).resolve()
    stamp = f"{java_file}:{java_file.stat().st_mtime_ns}:{_class_path_stamp(jars)}"
    key = hashlib.sha256(stamp.encode()).hexdigest()[:12]
    folder = cache or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return folder / "earlypath" / f"spark-{pyspark.__version__}-{key}.jsa"


def _jars_folder() -> Path:
    """Spark's jars, the JVM's class path (``SPARK_HOME``, else PySpark's own)."""
    from pyspark.find_spark_home import _find_spark_home

    return Path(_find_spark_home(), "jars").resolve()


def _class_path_stamp(jars: Path) -> str:
    """Where Spark's jars are and, for each, its name, size and modification time: what the JVM
    checks of every class path entry before it maps an archive. An archive written with other
    jars (another virtual environment, or this one installed again) is refused by the JVM without
    a word, and was never written again: every session then started without one (the 100k-row
    audit's regression of stop 27, docs/speed.md, Spark eleventh round). Keyed on the jars, each
    environment writes and keeps an archive of its own."""
    try:
        entries = sorted(
            (e.name, e.stat().st_size, e.stat().st_mtime_ns)
            for e in os.scandir(jars)
            if e.name.endswith(".jar")
        )
    except OSError:  # no jars folder here: the path alone
        entries = []
    return f"{jars}:{entries}"


def _drop_replaced(target: Path, jars: Path) -> None:
    """Before a new archive is taken or written for ``jars``: note which jars it is for (a
    ``.jars`` file beside it), and delete the archives (some 170 MB each) written for jars that
    are gone (a removed clone's environment) or for these jars' folder before (installed again:
    the JVM would refuse them; or with another Java: one archive an environment). A running JVM
    that maps one keeps its pages."""
    for note in target.parent.glob("spark-*.jars"):
        if note == target.with_suffix(".jars"):
            continue
        folder = Path(note.read_text(encoding="utf-8", errors="replace").strip())
        if folder == jars or not folder.is_dir():
            archive = note.with_suffix(".jsa")
            for gone in (archive, *_finished_parts(archive), note):
                gone.unlink(missing_ok=True)
    target.with_suffix(".jars").write_text(f"{jars}\n", encoding="utf-8")


def _adopt_finished_part(target: Path) -> None:
    """Take as the archive a part written by a JVM whose Python process has ended, if there is
    no archive yet; other finished parts (sessions started together, each writing one) are
    deleted."""
    for part in _finished_parts(target):
        if target.exists():
            part.unlink(missing_ok=True)
        else:
            os.replace(part, target)


def _finished_parts(target: Path) -> list[Path]:
    """The parts of ``target`` written by JVMs whose Python process has ended."""
    parts = []
    for part in sorted(target.parent.glob(f"{target.name}.*.part")):
        pid = part.name[len(target.name) + 1 : -len(".part")]
        if pid.isdigit() and not _alive(int(pid)):
            parts.append(part)
    return parts


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
