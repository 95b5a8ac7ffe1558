"""Engines evaluate rules. `python` is the reference; batch engines must agree with it."""

from earlypath.engines.python import assess

__all__ = ["assess"]
