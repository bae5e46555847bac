"""SQLTableStore: tables in a SQL database, one schema of views per stage."""

from .store import SQLTableStore

__all__ = ["SQLTableStore"]
