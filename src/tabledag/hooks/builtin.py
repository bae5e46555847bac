"""Importing this module registers every built-in hook on SQLTableStore.

Order matters: later registrations are asked first.
"""

from . import pandas, polars, pyarrow, sql, sqlalchemy  # noqa: F401
from . import ibis  # noqa: F401  (last: asked first)
