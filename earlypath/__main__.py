"""``python -m earlypath``: the ``earlypath`` command (e.g. for ``python -X importtime``)."""

from earlypath.cli import main

main()
