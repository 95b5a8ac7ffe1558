"""The Spark JVM's class-data archive (issue 16): written by one run, used by the next."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from earlypath.audit.spark_jvm import CLASS_ARCHIVE_ENV, class_archive_option

pytest.importorskip("pyspark")


def _written_at_exit(option: str) -> Path:
    assert option.startswith("-XX:ArchiveClassesAtExit="), option
    return Path(option.split()[0].split("=", 1)[1])


def test_the_first_run_writes_the_archive_under_a_name_of_its_own(tmp_path: Path) -> None:
    part = _written_at_exit(class_archive_option(tmp_path))
    assert part.name.endswith(f".jsa.{os.getpid()}.part")
    assert part.parent == tmp_path / "earlypath"


def test_a_later_run_uses_the_archive_once_its_writer_has_ended(tmp_path: Path) -> None:
    part = _written_at_exit(class_archive_option(tmp_path))
    part.write_bytes(b"an archive")  # as our own JVM would at exit: we are still running
    assert class_archive_option(tmp_path).startswith("-XX:ArchiveClassesAtExit=")
    ended = part.with_name(part.name.replace(f".{os.getpid()}.", ".999999999."))
    part.rename(ended)
    option = class_archive_option(tmp_path)
    archive = Path(option.split()[0].removeprefix("-XX:SharedArchiveFile="))
    assert option.startswith("-XX:SharedArchiveFile=") and archive.read_bytes() == b"an archive"
    assert not ended.exists()
    assert class_archive_option(tmp_path) == option  # and the next run too


def test_the_archive_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CLASS_ARCHIVE_ENV, "off")
    assert class_archive_option(tmp_path) == ""


def test_no_writable_cache_folder_means_no_archive(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert class_archive_option(blocked) == ""


def _spark_home(folder: Path, jars: dict[str, bytes]) -> Path:
    (folder / "jars").mkdir(parents=True)
    for name, content in jars.items():
        (folder / "jars" / name).write_bytes(content)
    return folder


def _archive_for(cache: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SPARK_HOME", str(home))
    return _written_at_exit(class_archive_option(cache)).with_suffix("").with_suffix("")


def test_other_jars_get_an_archive_of_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The JVM refuses, without a word, an archive written with jars other than its class path's
    (another virtual environment's, or these reinstalled): each set of jars is keyed apart, so a
    session never takes an archive it cannot map (stop 27's 100k-row regression)."""
    cache = tmp_path / "cache"
    one = _spark_home(tmp_path / "one", {"spark-core.jar": b"core", "slf4j.jar": b"log"})
    other = _spark_home(tmp_path / "other", {"spark-core.jar": b"core", "slf4j.jar": b"log"})
    first = _archive_for(cache, one, monkeypatch)
    assert _archive_for(cache, one, monkeypatch) == first  # the same jars: the same archive
    assert _archive_for(cache, other, monkeypatch) != first  # the same files elsewhere
    jar = one / "jars" / "slf4j.jar"
    built = jar.stat().st_mtime_ns
    os.utime(jar, ns=(built, built + 1_000_000_000))
    assert _archive_for(cache, one, monkeypatch) != first  # installed again: a new time
    jar.write_bytes(b"log, another build")
    os.utime(jar, ns=(built, built))
    assert _archive_for(cache, one, monkeypatch) != first  # another size, the same time


def test_a_new_archive_deletes_those_of_jars_gone_or_reinstalled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each environment writes its own archive (some 170 MB): when a new one is written, those
    written for jars since removed (a deleted clone) or reinstalled in the same folder go; an
    archive of jars still there stays."""
    cache = tmp_path / "cache"
    kept = _spark_home(tmp_path / "kept", {"spark-core.jar": b"core"})
    removed = _spark_home(tmp_path / "removed", {"spark-core.jar": b"core"})
    home = _spark_home(tmp_path / "home", {"spark-core.jar": b"core"})
    archives = {}
    for name, folder in (("kept", kept), ("removed", removed), ("home", home)):
        archives[name] = _archive_for(cache, folder, monkeypatch)
        archives[name].write_bytes(b"an archive")
    (removed / "jars" / "spark-core.jar").unlink()
    (removed / "jars").rmdir()
    jar = home / "jars" / "spark-core.jar"
    os.utime(jar, ns=(jar.stat().st_atime_ns, jar.stat().st_mtime_ns + 1_000_000_000))
    new = _archive_for(cache, home, monkeypatch)  # (home installed again: a new archive)
    assert new not in archives.values()
    assert archives["kept"].exists()
    assert not archives["removed"].exists() and not archives["home"].exists()
    assert sorted(p.name for p in (cache / "earlypath").glob("*.jars")) == sorted(
        p.with_suffix(".jars").name for p in (archives["kept"], new)
    )


def test_finished_parts_left_beside_the_archive_are_deleted(tmp_path: Path) -> None:
    """Two sessions started together each write a part; the first adopted is the archive, the
    other (some 170 MB) is deleted, not left in the cache for good."""
    part = _written_at_exit(class_archive_option(tmp_path))
    for pid in ("999999998", "999999999"):
        part.with_name(part.name.replace(f".{os.getpid()}.", f".{pid}.")).write_bytes(b"a")
    option = class_archive_option(tmp_path)
    assert option.startswith("-XX:SharedArchiveFile=")
    assert list((tmp_path / "earlypath").glob("*.part")) == []


def test_a_part_finished_after_the_archive_was_taken_is_deleted(tmp_path: Path) -> None:
    part = _written_at_exit(class_archive_option(tmp_path))
    part.with_name(part.name.replace(f".{os.getpid()}.", ".999999998.")).write_bytes(b"a")
    assert class_archive_option(tmp_path).startswith("-XX:SharedArchiveFile=")
    late = part.with_name(part.name.replace(f".{os.getpid()}.", ".999999999."))
    late.write_bytes(b"a")  # (its session started before the archive was taken)
    assert class_archive_option(tmp_path).startswith("-XX:SharedArchiveFile=")
    assert not late.exists()
