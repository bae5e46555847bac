"""Importing this module registers every built-in hook on SQLTableStore.

Order matters: later registrations are asked first.
"""

from . import (  # noqa: F401
    ibis,
    pandas,
    polars,
    pyarrow,
    sql,
    sqlalchemy,
)
