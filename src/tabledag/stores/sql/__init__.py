"""SQLTableStore: tables in a SQL database, one schema of views per stage."""

from ...hooks import builtin as _builtin_hooks  # noqa: F401  (registers the built-in hooks)
from .store import SQLTableStore

__all__ = ["SQLTableStore"]
