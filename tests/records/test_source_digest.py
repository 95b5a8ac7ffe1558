"""The plans' key holds a digest of the package's source (`plan_cache.package_digest`): a changed
.py or .json file under the package gives a new key, nothing else does, and the quick walk
gives the digest the path-by-path walk gave (the same files in the same order)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from earlypath.records import plan_cache


def _as_walked_by_pathlib(root: Path) -> str:
    """The digest as the package computed it up to stop 23 (`Path.rglob`), the reference."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".json") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A small package whose names sort differently as text and as parts ("a-b/..." before
    "a/..." as text, after it by parts), with files the digest must skip."""
    root = tmp_path / "pkg"
    files = {
        "__init__.py": "",
        "a/b.py": "x = 1\n",
        "a-b/c.py": "y = 2\n",
        "a/sets/codes.json": '{"codes": []}',
        "a/.hidden.py": "z = 3\n",
        "a/notes.txt": "not source",
        "a/__pycache__/b.cpython-311.pyc": "bytecode",
        "a/__pycache__/stray.py": "not source either",
        "templates/page.html": "<p></p>",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "linked_in.py").write_text("w = 4\n", encoding="utf-8")
    os.symlink(elsewhere, root / "linked_folder")  # not entered, as rglob did not
    os.symlink(elsewhere / "linked_in.py", root / "linked_file.py")  # read, as rglob did
    return root


def test_the_quick_walk_gives_the_digest_of_the_path_walk(package: Path) -> None:
    assert plan_cache.package_digest(package) == _as_walked_by_pathlib(package)
    installed = Path(plan_cache.__file__).resolve().parent.parent
    assert plan_cache.package_digest(installed) == _as_walked_by_pathlib(installed)


@pytest.mark.parametrize(
    ("name", "changes_the_key"),
    [
        ("a/b.py", True),
        ("a/sets/codes.json", True),
        ("a-b/new_module.py", True),
        ("a/notes.txt", False),
        ("a/__pycache__/b.cpython-311.pyc", False),
        ("templates/page.html", False),
    ],
)
def test_a_changed_source_file_changes_the_key(
    package: Path, name: str, changes_the_key: bool
) -> None:
    before = plan_cache.package_digest(package)
    path = package / name
    path.write_text(
        path.read_text(encoding="utf-8") + "# changed\n" if path.exists() else "v = 5\n"
    )
    assert (plan_cache.package_digest(package) != before) is changes_the_key, name


def test_a_renamed_source_file_changes_the_key(package: Path) -> None:
    before = plan_cache.package_digest(package)
    (package / "a" / "b.py").rename(package / "a" / "b2.py")
    assert plan_cache.package_digest(package) != before
