"""dataframely annotations: `dy.LazyFrame[S]`, `dy.DataFrame[S]`, a bare `dy.Schema` subclass
and `dy.Collection` subclasses. Imported only when a task's annotation comes from dataframely.

Checks use `Schema.filter(cast=True)` / `Collection.filter(cast=True)`, whose `FailureInfo`
counts the failed rows per rule; a failed check never hands filtered rows to a task.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Mapping
from typing import Any

import dataframely as dy
import polars as pl

from ..errors import DeclarationError
from .frames import as_type, lenient, polars_input_type, row_count, table_outcome
from .kinds import Kind, Outcome, TableOutcome

_SUPPORTED = (
    "dy.LazyFrame[Schema], dy.DataFrame[Schema], a dy.Schema subclass or a dy.Collection subclass"
)
_POLARS = (pl.DataFrame, pl.LazyFrame)


def kind(annotation: Any, where: str) -> Kind:
    """The kind of a dataframely annotation; a `DeclarationError` for one tabledag cannot honour."""
    origin = typing.get_origin(annotation)
    if origin is not None and inspect.isclass(origin) and issubclass(origin, dy.LazyFrame):
        return SchemaKind(_schema_arg(annotation, where, "dy.LazyFrame"), pl.LazyFrame)
    if origin is not None and inspect.isclass(origin) and issubclass(origin, dy.DataFrame):
        return SchemaKind(_schema_arg(annotation, where, "dy.DataFrame"), pl.DataFrame)
    if inspect.isclass(annotation):
        if annotation in (dy.LazyFrame, dy.DataFrame):
            raise DeclarationError(
                f"{where} is annotated {annotation.__module__}.{annotation.__name__} without a "
                "schema, which gives nothing to validate; write "
                f"dy.{annotation.__name__}[YourSchema]"
            )
        if issubclass(annotation, dy.Schema) and annotation is not dy.Schema:
            return SchemaKind(annotation, None)
        if issubclass(annotation, dy.Collection) and annotation is not dy.Collection:
            return CollectionKind(annotation)
    name = getattr(annotation, "__qualname__", None) or repr(annotation)
    raise DeclarationError(
        f"{where} is annotated with the dataframely object {name}, which tabledag cannot "
        f"validate tables with; use {_SUPPORTED}, or remove the annotation"
    )


def _schema_arg(annotation: Any, where: str, spelling: str) -> type[dy.Schema]:
    args = typing.get_args(annotation)
    schema = args[0] if len(args) == 1 else None
    if not (inspect.isclass(schema) and issubclass(schema, dy.Schema) and schema is not dy.Schema):
        raise DeclarationError(
            f"{where} is annotated {spelling}[{', '.join(map(_name, args))}]; tabledag "
            f"validates with {spelling}[S] where S is a dy.Schema subclass (a collection is "
            "annotated with the dy.Collection subclass itself)"
        )
    return schema


def _name(value: Any) -> str:
    return getattr(value, "__qualname__", None) or repr(value)


class SchemaKind(Kind):
    def __init__(self, schema: type[dy.Schema], frame: Any) -> None:
        self.schema = schema
        self.frame = frame
        """pl.LazyFrame / pl.DataFrame as the annotation says, None for a bare schema."""
        spelling = {pl.LazyFrame: "dy.LazyFrame", pl.DataFrame: "dy.DataFrame"}.get(frame)
        self.label = f"{spelling}[{schema.__name__}]" if spelling else schema.__name__

    def input_type(self, declared: Any) -> Any:
        return polars_input_type(declared, self.label, pl.DataFrame, self.frame)

    def is_frame(self, value: Any) -> bool:
        return isinstance(value, _POLARS)

    def check(self, data: Any, tables: Any, *, cast_to: Any) -> Outcome:
        cast_to = cast_to or (type(data) if isinstance(data, _POLARS) else None)
        go_on = lambda: lenient(data, self.schema.cast, cast_to)  # noqa: E731
        try:
            result = self.schema.filter(data, cast=True)
            if isinstance(data, pl.LazyFrame):
                result = result.collect_all()
        except (dy.exc.SchemaError, dy.exc.ValidationError, pl.exceptions.PolarsError) as error:
            return Outcome(None, {tables: TableOutcome(problem=_problem(error))}, go_on)
        outcome = table_outcome(result.failure, row_count(result.result))
        return Outcome(as_type(result.result, cast_to), {tables: outcome}, go_on)


def _problem(error: Exception) -> str:
    """The error's first paragraph (polars appends its query plan after a blank line)."""
    return " ".join(str(error).split("\n\n")[0].split()) or type(error).__name__


class CollectionKind(Kind):
    collection = True

    def __init__(self, collection: type[dy.Collection]) -> None:
        self.cls = collection
        self.label = collection.__name__

    def input_type(self, declared: Any) -> Any:
        return polars_input_type(declared, self.label, pl.LazyFrame)

    def is_frame(self, value: Any) -> bool:
        return isinstance(value, _POLARS)

    def members(self, value: Any) -> dict[str, Any] | None:
        if isinstance(value, dy.Collection):
            return dict(value.to_dict())
        return dict(value) if isinstance(value, Mapping) else None

    def check(self, data: Any, tables: Any, *, cast_to: Any) -> Outcome:
        def go_on() -> Any:
            collected = {k: lenient(v, lambda f: f, cast_to) for k, v in data.items()}
            try:
                return self.cls.cast(collected)
            except Exception:
                return collected

        try:
            result, failures = self.cls.filter(data, cast=True)
        except (dy.exc.SchemaError, dy.exc.ValidationError, pl.exceptions.PolarsError) as error:
            problem = TableOutcome(problem=_problem(error))
            return Outcome(None, {tables.get(m, m): problem for m in data}, go_on)
        except ValueError as error:  # members missing
            label = ", ".join(tables.values())
            return Outcome(None, {label: TableOutcome(problem=_problem(error))}, go_on)
        valid = result.to_dict()
        outcomes = {}
        for member, label in tables.items():
            failure = failures.get(member)
            rows = valid[member].select(pl.len()).collect().item() if member in valid else 0
            outcomes[label] = table_outcome(failure, rows) if failure is not None else None
        return Outcome(result, {k: v or TableOutcome() for k, v in outcomes.items()}, go_on)

    def wrap(self, valid: Any) -> Any:
        return valid
