"""pydiverse.colspec annotations: a `cs.ColSpec` subclass and a `cs.Collection` subclass,
checked on polars frames (colspec's `filter_polars`, which runs dataframely underneath).
Imported only when a task's annotation comes from colspec.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import polars as pl
import pydiverse.colspec as cs
import pydiverse.colspec.exc as cs_exc

from ..errors import DeclarationError
from .frames import as_type, lenient, polars_input_type, row_count, table_outcome
from .kinds import DatabaseFilter, Kind, Outcome, TableOutcome

_POLARS = (pl.DataFrame, pl.LazyFrame)
_COLUMN_ERRORS = (cs_exc.SchemaError, cs_exc.ValidationError, pl.exceptions.PolarsError)


def kind(annotation: Any, where: str) -> Kind:
    """The kind of a colspec annotation; a `DeclarationError` for one tabledag cannot honour."""
    if inspect.isclass(annotation):
        if issubclass(annotation, cs.ColSpec) and annotation is not cs.ColSpec:
            return ColSpecKind(annotation)
        if issubclass(annotation, cs.Collection) and annotation is not cs.Collection:
            return CollectionKind(annotation)
    name = getattr(annotation, "__qualname__", None) or repr(annotation)
    raise DeclarationError(
        f"{where} is annotated with the colspec object {name}, which tabledag cannot validate "
        "tables with; use a cs.ColSpec subclass or a cs.Collection subclass (on polars "
        "frames), or remove the annotation"
    )


def _problem(error: Exception) -> str:
    """The error's first paragraph (polars appends its query plan after a blank line)."""
    return " ".join(str(error).split("\n\n")[0].split()) or type(error).__name__


class ColSpecKind(Kind):
    def __init__(self, spec: type[cs.ColSpec]) -> None:
        self.spec = spec
        self.label = spec.__name__

    def input_type(self, declared: Any) -> Any:
        return polars_input_type(declared, self.label, pl.DataFrame)

    def is_frame(self, value: Any) -> bool:
        return isinstance(value, _POLARS)

    def check(self, data: Any, tables: Any, *, cast_to: Any) -> Outcome:
        cast_to = cast_to or (type(data) if isinstance(data, _POLARS) else None)
        go_on = lambda: lenient(data, self.spec.cast_polars, cast_to)  # noqa: E731
        try:
            valid, failure = self.spec.filter_polars(data, cast=True)
        except _COLUMN_ERRORS as error:
            return Outcome(None, {tables: TableOutcome(problem=_problem(error))}, go_on)
        return Outcome(
            as_type(valid, cast_to), {tables: table_outcome(failure, row_count(valid))}, go_on
        )

    def filters_in(self, dialect: str) -> bool:
        from . import colspec_sql

        return colspec_sql.available(dialect)

    def database_filter(
        self, raw: Any, scratch: Callable[[Any, str | None], Any] | None, dialect: str
    ) -> DatabaseFilter:
        from . import colspec_sql

        return colspec_sql.database_filter(self.spec, raw, scratch, dialect)

    def query_input_type(self) -> Any:
        from . import colspec_sql

        return colspec_sql.query_input_type()

    def prepare_query(self, value: Any) -> Any:
        if type(value).__module__.split(".")[0] != "pydiverse":
            return value
        from . import colspec_sql

        return colspec_sql.cast_columns(self.spec, value)


class CollectionKind(Kind):
    collection = True

    def __init__(self, collection: type[cs.Collection]) -> None:
        self.cls = collection
        self.label = collection.__name__

    def input_type(self, declared: Any) -> Any:
        return polars_input_type(declared, self.label, pl.LazyFrame)

    def is_frame(self, value: Any) -> bool:
        return isinstance(value, _POLARS)

    def members(self, value: Any) -> dict[str, Any] | None:
        if isinstance(value, cs.Collection):
            names = self.cls.members()
            return {m: getattr(value, m) for m in names if getattr(value, m, None) is not None}
        return dict(value) if isinstance(value, Mapping) else None

    def check(self, data: Any, tables: Any, *, cast_to: Any) -> Outcome:
        def go_on() -> Any:
            collected = {k: lenient(v, lambda f: f, cast_to) for k, v in data.items()}
            try:
                return self.cls.cast_polars_data(collected)
            except Exception:
                return collected

        try:
            result, failures = self.cls.filter_polars_data(data, cast=True)
        except _COLUMN_ERRORS as error:
            problem = TableOutcome(problem=_problem(error))
            return Outcome(None, {tables.get(m, m): problem for m in data}, go_on)
        except ValueError as error:  # members missing
            label = ", ".join(tables.values())
            return Outcome(None, {label: TableOutcome(problem=_problem(error))}, go_on)
        outcomes = {}
        for member, label in tables.items():
            failure = failures.get(member)
            frame = getattr(result, member, None)
            rows = 0 if frame is None else frame.lazy().select(pl.len()).collect().item()
            outcomes[label] = (
                table_outcome(failure, rows) if failure is not None else TableOutcome()
            )
        return Outcome(result, outcomes, go_on)
