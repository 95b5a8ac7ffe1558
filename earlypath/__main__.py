"""``python -m earlypath``: the ``earlypath`` command (e.g. for ``python -X importtime``)."""

from earlypath.cli import main

if __name__ == "__main__":  # not when a tool imports every module of the package
    main()
