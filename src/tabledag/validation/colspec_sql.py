"""colspec's rules run by the database: a colspec-annotated query output is filtered in SQL.

As pipedag does, the query is written as `_raw_<name>`; colspec's `filter` (on a
pydiverse.transform table over it) gives the valid rows, which become `<name>`, and the
invalid rows with one column per rule, which are counted in the database. Nothing is read
into Python but the counts and, on failure, a few example rows. colspec builds these queries
only with pydiverse.transform and only for the dialects it knows; elsewhere the output is
read back and checked as a polars frame (`tabledag.validation.colspec`).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

from ..errors import DeclarationError
from .kinds import EXAMPLE_ROWS, DatabaseFilter

DIALECTS = ("duckdb", "sqlite", "postgresql", "mssql", "ibm_db_sa")
"""SQLAlchemy dialects colspec writes its filter queries for (as pipedag lists them)."""
INVALID = DatabaseFilter.INVALID


def available(dialect: str) -> bool:
    """Whether pydiverse.transform (0.2.3 or newer, which colspec's SQL path needs) is
    installed and colspec writes queries for `dialect`."""
    if dialect not in DIALECTS or importlib.util.find_spec("pydiverse.transform") is None:
        return False
    import pydiverse.transform as pdt

    return hasattr(pdt, "SqlAlchemy") and hasattr(pdt, "build_query")


def query_input_type() -> Any:
    import pydiverse.transform as pdt

    return pdt.SqlAlchemy


def cast_columns(spec: Any, value: Any) -> Any:
    """A pydiverse.transform query with the spec's columns cast to their types before it is
    written (pipedag casts them at this point too); anything else as it is."""
    import pydiverse.colspec as cs
    import pydiverse.transform as pdt

    if not isinstance(value, pdt.Table):
        return value
    present = {c.name for c in value}
    casts = {
        name: value[name].cast(column.dtype())
        for name, column in spec.columns().items()
        if name in present and not isinstance(column, cs.Enum | cs.Struct)
    }
    return value >> pdt.mutate(**casts) if casts else value


def database_filter(
    spec: Any, raw: Any, scratch: Callable[[Any, str | None], Any] | None, dialect: str
) -> DatabaseFilter:
    import pydiverse.colspec as cs
    import pydiverse.transform as pdt
    from pydiverse.transform.extended import C

    config = cs.config.Config(dialect_name=dialect)
    if scratch is not None:
        config.materialize_hook = scratch
    valid, failure = spec.filter(raw, cast=True, cfg=config)
    rules = tuple(failure.rule_columns)
    if INVALID in rules:
        raise DeclarationError(f"{spec.__name__} has a rule named {INVALID!r}: rename it")
    invalid = failure._invalid_rows

    def failed(rule: str) -> Any:  # T-SQL has no booleans: there colspec writes 0 for a fail
        return C[rule] == 0 if dialect == "mssql" else ~C[rule]

    counts = (  # no rule: nothing can fail (and pdt summarizes no empty list)
        invalid >> pdt.summarize(**{INVALID: pdt.count()}, **{r: failed(r).sum() for r in rules})
        if rules
        else None
    )
    if dialect == "mssql":  # pdt's slice_head writes OFFSET, which T-SQL needs an ORDER for
        invalid = invalid >> pdt.arrange(pdt.lit(True))
    return DatabaseFilter(valid, counts, invalid >> pdt.slice_head(EXAMPLE_ROWS))
