"""SQLTableStore: tables in a SQL database, one schema of views per stage."""

from .store import SQLTableStore

from ...hooks import builtin as _builtin_hooks  # noqa: E402, F401  (registers the built-in hooks)

__all__ = ["SQLTableStore"]
