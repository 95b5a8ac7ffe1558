"""The CDS body's byte checks: 19 or more ASCII digits in a row (`cds.parse_json`'s question),
and JSON nesting deeper than a limit (`limits._nesting`'s, `nests_deeper` below).

An integer of 19 digits or more may be beyond 64 bits, where orjson gives a float and
`json.loads` an int, so such a body is parsed by `json.loads`. The rule looks at the text only:
a run in a string or a key counts too (it costs a slower parse, never another answer).

`has_long_digit_run` is the C pass of ``digit_runs.c`` when its build is there (built with the
CDS reading: ``python -m earlypath.records.native build``, which `make install` runs), named by
the hash of that C text as the reading's build is; otherwise, or with ``EARLYPATH_NATIVE=off``,
the same question in Python. The C pass reads about one byte in 19 of a usual body; the Python
one turns every digit into 0 and looks for 19 zeros (about 12 instructions a byte: 25k of a
2 kB call's 0.95M, stop 42).

`nests_deeper` is the C text's scan of a parsed body's brackets outside strings, or None
without the build (or with ``EARLYPATH_NATIVE=off``): `limits` then walks orjson's value.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import subprocess
import sysconfig
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from earlypath.records.native import build_dir

LONG_RUN = 19
_SOURCE = Path(__file__).with_name("digit_runs.c")
# changed when how a build is made or loaded changes: every older build is then stale
_FORMAT = "1"
_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
_MODULE = "earlypath_digit_runs"  # the name its C text gives the module (PyInit_<name>)

_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_ZEROS = b"0" * LONG_RUN


def python_has_long_digit_run(raw: bytes) -> bool:
    """The question in Python (a regular expression took 10x longer)."""
    return _LONG_ZEROS in raw.translate(_DIGITS_AS_ZERO)


def source_hash() -> str:
    """The name of the C text's build: the text, this module's format, the interpreter's ABI."""
    digest = hashlib.sha256()
    for part in (_FORMAT, _SUFFIX, _SOURCE.read_text()):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def build_path(out: Path | None = None) -> Path:
    return (out or build_dir()) / f"{_MODULE}_{source_hash()[:20]}{_SUFFIX}"


def build(out: Path | None = None) -> Path:
    """Compile the C text (gcc, -O2) into its build; nothing is done when it exists."""
    target = build_path(out)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    include = sysconfig.get_paths()["include"]
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        built = Path(tmp) / target.name
        subprocess.run(
            [
                "gcc",
                "-O2",
                "-shared",
                "-fPIC",
                f"-I{include}",
                f'-DEARLYPATH_SOURCE_HASH="{source_hash()}"',
                str(_SOURCE),
                "-o",
                str(built),
            ],
            check=True,
        )
        built.replace(target)  # whole or not at all: a reader never sees half a file
    return target


def load_module(path: Path) -> ModuleType | None:
    """The build at ``path``, or None (missing, unloadable, or of another text)."""
    if not path.is_file():
        return None
    loader = importlib.machinery.ExtensionFileLoader(_MODULE, str(path))
    spec = importlib.util.spec_from_file_location(_MODULE, path, loader=loader)
    if spec is None:
        return None
    try:
        module = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
    except ImportError:  # built for another interpreter: the Python pass
        return None
    if getattr(module, "SOURCE_HASH", None) != source_hash():
        return None
    return module


def load(path: Path) -> Callable[[bytes], bool] | None:
    """The C long-number pass of the build at ``path``, or None."""
    module = load_module(path)
    found: Callable[[bytes], bool] | None = module.has_long_digit_run if module else None
    return found


def load_nesting(path: Path) -> Callable[[bytes, int], bool] | None:
    """The C nesting scan of the build at ``path``, or None."""
    module = load_module(path)
    found: Callable[[bytes, int], bool] | None = module.nests_deeper if module else None
    return found


_BUILD = None if os.environ.get("EARLYPATH_NATIVE") == "off" else load_module(build_path())
has_long_digit_run: Callable[[bytes], bool] = (
    _BUILD.has_long_digit_run if _BUILD else python_has_long_digit_run
)
# True if valid JSON bytes nest deeper than the limit; None: no build, walk the parsed value
nests_deeper: Callable[[bytes, int], bool] | None = _BUILD.nests_deeper if _BUILD else None


def describe() -> str:
    """Which pass `has_long_digit_run` is: 'compiled (<hash>)' or 'python'."""
    if has_long_digit_run is python_has_long_digit_run:
        return "python"
    return f"compiled ({source_hash()[:12]})"
