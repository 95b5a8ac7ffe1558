"""The generated record reading compiled to a C extension (Cython), built at install time.

`python_reading` writes the reading of a definition as Python source and ``exec``s it. The same
source, compiled by Cython (untyped: Python's semantics, no C types) and gcc, runs the reading
in some 40% less CPU (stop 38, docs/speed-cds.md). Nothing is written by hand: the build
compiles exactly the text the generator writes for the CDS reading (`mapping.READING`).

A build is named by the hash of that text (with this module's format and the interpreter's
extension suffix). At run time `bind` looks for the build of the text it is about to ``exec``:
found, its ``reading`` runs; missing or of another text (a stale build: the definition, the
value sets or the generator changed since), the text is ``exec``ed as before. A build is never
used for a text it was not compiled from.

    python -m earlypath.records.native build      # `make install` runs it
    python -m earlypath.records.native status     # which reading the service would run

`build` also compiles the CDS body's long-number check (`earlypath.web.digit_runs`, a C text
of its own, named by its hash the same way).

Builds go to ``EARLYPATH_NATIVE_DIR``, by default ``<venv>/earlypath-native`` (outside git,
beside the interpreter whose ABI they are built for).
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

# changed when what a build holds or how it is loaded changes: every older build is then stale
# ("2", stop 39: the locals' addresses escape, `escape_locals`)
_FORMAT = "2"
_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
# gcc's optimisation (EARLYPATH_NATIVE_CFLAGS overrides it). -O1's reading ran some 15k
# instructions more (stop 38); -Os's ran slower and was barely smaller (stop 39: the size was
# the error exits' stores, `escape_locals`; docs/speed-cds.md, 32nd and 33rd passes)
_CFLAGS = ("-O2",)
# Always on, whatever the flags: a C int cast to an object pointer is Cython miscompiling the
# text (stop 52: a chain of `or`s, `python_source._chain`), and such a build crashes the
# service. Refused, the build fails with gcc's message and the text is never run from it.
_GUARD_FLAGS = ("-Werror=int-to-pointer-cast", "-Werror=int-conversion")

# A Python local of a compiled function, as Cython declares it at the top of the C function
_LOCAL = re.compile(r"^(  PyObject \*(__pyx_v_\w+) = NULL;)$", re.MULTILINE)

# what `bind` did for each text it was asked about, by hash: "compiled", "no build" or
# "unloadable build" (for `describe`; no patient data)
_seen: dict[str, str] = {}
# the first module loaded for each hash, with the names it was bound to: bound again with the
# same names, the same module serves; with other names, a module of its own (`bind`)
_bound: dict[str, tuple[Any, dict[str, Any]]] = {}


def build_dir() -> Path:
    """Where builds are written and looked for."""
    configured = os.environ.get("EARLYPATH_NATIVE_DIR")
    return Path(configured) if configured else Path(sys.prefix) / "earlypath-native"


def source_hash(text: str) -> str:
    """The name of ``text``'s build: the text, this module's format, the interpreter's ABI."""
    digest = hashlib.sha256()
    for part in (_FORMAT, _SUFFIX, text):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def module_name(digest: str) -> str:
    return f"earlypath_reading_{digest[:20]}"


def module_path(digest: str) -> Path:
    return build_dir() / f"{module_name(digest)}{_SUFFIX}"


def bind(text: str, names: dict[str, Any]) -> Any | None:
    """The compiled ``reading`` of ``text`` with its global ``names`` bound, or None (no build
    of this very text: exec it)."""
    if os.environ.get("EARLYPATH_NATIVE") == "off":
        return None
    digest = source_hash(text)
    loaded = _bound.get(digest)
    if loaded is not None:
        module, bound_names = loaded
        if bound_names is names or bound_names == names:
            return module.reading
    path = module_path(digest)
    if not path.is_file():
        _seen[digest] = "no build"
        return None
    # A module's globals are the values of one binding; the same text bound again with other
    # values (the definition compiled again: another site's value sets, a cache emptied) gets a
    # module of its own, loaded from a copy of the build (the C library keeps one module per
    # file it opens), never the first binding's values.
    module = _load(digest, path) if loaded is None else _load_copy(digest, path)
    if module is None:
        return None
    own = module.__dict__
    for key, value in names.items():
        own.setdefault(key, value)
    if loaded is None:
        _bound[digest] = (module, names)
    _seen[digest] = "compiled"
    return module.reading


def _load(digest: str, path: Path) -> Any | None:
    """The module built for ``digest`` loaded from ``path``, or None (recorded in `_seen`)."""
    name = module_name(digest)
    spec = importlib.util.spec_from_file_location(
        name, path, loader=importlib.machinery.ExtensionFileLoader(name, str(path))
    )
    if spec is None or spec.loader is None:
        _seen[digest] = "no build"
        return None
    try:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except ImportError:  # built for another interpreter, or renamed: exec the text
        _seen[digest] = "unloadable build"
        return None
    if getattr(module, "SOURCE_HASH", None) != digest:  # a file renamed by hand: not ours
        _seen[digest] = "no build"
        return None
    return module


def _load_copy(digest: str, path: Path) -> Any | None:
    """A second module of the same build: loaded from a copy, removed once loaded (the loaded
    library stays mapped)."""
    with tempfile.TemporaryDirectory(prefix="earlypath-native-") as tmp:
        copy = Path(tmp) / path.name
        shutil.copyfile(path, copy)
        return _load(digest, copy)


def describe(text: str) -> str:
    """Which reading runs for ``text``: 'compiled (<hash>)' or 'exec (<why>)'."""
    digest = source_hash(text)
    how = _seen.get(digest)
    if how is None:
        how = "compiled" if module_path(digest).is_file() else "no build"
    if how == "compiled":
        return f"compiled ({digest[:12]})"
    return f"exec ({how}, {digest[:12]})"


def cds_source() -> str:
    """The source the generator writes for the CDS reading (`mapping.READING`)."""
    from earlypath.fhir import mapping
    from earlypath.records import python as records

    generated = records.generated_reading(mapping.READING)
    if generated is None:
        raise RuntimeError("the CDS reading has no generated function to compile")
    return str(getattr(generated, "source"))  # noqa: B009 - set on the function by the generator


def escape_locals(c_text: str) -> str:
    """Cython's C with each Python local's address passed to an empty asm statement.

    Cython frees every local on a function's one error exit; a local not yet assigned is NULL
    there. gcc keeps an unaddressed local in a register and, for each of the some 2,300 places
    the reading's function can fail, writes NULL into every local not assigned on that path
    before the jump: 426k of its 553k instructions at -O2, 3.4 of its 4.3 MB (stop 39). A local
    whose address escapes lives in its stack slot from the start, so that exit needs no stores.
    The asm emits nothing."""
    return _LOCAL.sub(r'\1 __asm__("" : : "r"(&\2));', c_text)


def build(text: str, out: Path | None = None) -> Path:
    """Compile ``text`` (Cython, then gcc) into its build; nothing is done when it exists."""
    digest = source_hash(text)
    out = out or build_dir()
    target = out / f"{module_name(digest)}{_SUFFIX}"
    if target.is_file():
        return target
    from Cython.Compiler import Errors, Options
    from Cython.Compiler.Main import CompilationOptions, compile_single, default_options

    # the source's constants are globals bound at load (`bind`), not names Cython can see
    Options.error_on_unknown_names = False
    Errors.LEVEL = 3  # nor a warning for each of them (some 900)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        name = module_name(digest)
        py = Path(tmp) / f"{name}.py"
        py.write_text(f"{text}\nSOURCE_HASH = {digest!r}\n")
        c = Path(tmp) / f"{name}.c"
        options = CompilationOptions(default_options, language_level=3, output_file=str(c))
        result = compile_single(str(py), options, name)
        if result.num_errors:
            raise RuntimeError(f"Cython could not compile the reading ({result.num_errors} errors)")
        c.write_text(escape_locals(c.read_text()))
        flags = os.environ.get("EARLYPATH_NATIVE_CFLAGS", " ".join(_CFLAGS)).split()
        built = Path(tmp) / target.name
        include = sysconfig.get_paths()["include"]
        gcc = ["gcc", *flags, *_GUARD_FLAGS, "-shared", "-fPIC", f"-I{include}", str(c)]
        done = subprocess.run([*gcc, "-o", str(built)], check=False)
        if done.returncode:
            raise RuntimeError(
                f"gcc could not compile the reading's C (exit {done.returncode}; its message is "
                "above): a C int cast to an object pointer is Cython miscompiling the text"
            )
        built.replace(target)  # whole or not at all: a reader never sees half a file
    return target


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "status"
    text = cds_source()
    # the CDS body's long-number check is built beside the reading (a C text of its own)
    from earlypath.web import digit_runs

    if command == "build":
        print(f"earlypath: compiled reading {build(text)}")
        print(f"earlypath: compiled long-number check {digit_runs.build()}")
        return 0
    if command == "status":
        print(f"earlypath: CDS record reading {describe(text)} in {build_dir()}")
        print(f"earlypath: CDS body's long-number check {digit_runs.describe()}")
        return 0
    print("usage: python -m earlypath.records.native [build|status]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
