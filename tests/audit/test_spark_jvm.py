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
