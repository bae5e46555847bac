"""What tasks return and receive: the `Table` and `RawSql` wrappers, and `TableRef`.

`Table` is the user's wrapper around an output; `TableRef` is the immutable reference to a stored
table that the runner hands around (and that a task with `input_type=None` receives). Both are
plain frozen values, so that tasks and their inputs pickle across processes and no part of a run
can change what another part holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import FrozenInstanceError, dataclass, replace
from typing import Any

from .errors import DeclarationError


@dataclass(eq=False)
class Table:
    """A table output of a task.

    Args:
        obj: the table itself: an ibis / sqlglot / SQLAlchemy expression, SQL text, `RawSql`, or a
            pandas / polars / pyarrow frame.
        name: the table's name in its stage (defaults to the task's name).
        primary_key: column(s) to declare as primary key after writing.
        indexes: lists of columns to index after writing.
        type_map: column -> SQL type the column gets (a type string such as "VARCHAR(20)"
            or "DECIMAL(12, 2)", parsed by sqlglot in the store's dialect, a sqlglot
            `DataType`, or a SQLAlchemy type); columns not named keep the type the store
            chooses.
        nullable: the columns that may hold NULL; every other column is made NOT NULL.
        non_nullable: the columns made NOT NULL; every other column may hold NULL. Given
            together, the two lists must not overlap, and columns in neither may hold NULL.
        materialization_details: the name of an option set in the store's
            `materialization_details` config (e.g. unlogged tables on Postgres); default: the
            store's `default_materialization_details`.

    All of these are part of the output's cache key: changing one writes the table again.
    Only `obj` can be assigned after construction (pipedag's `tbl.obj = ...` before a second
    `materialize()`); the other fields are fixed: `with_name` / `dataclasses.replace` give
    an altered copy.
    """

    obj: Any = None
    name: str | None = None
    primary_key: str | Sequence[str] | None = None
    indexes: Sequence[Sequence[str]] | None = None
    type_map: Mapping[str, Any] | None = None
    nullable: str | Sequence[str] | None = None
    non_nullable: str | Sequence[str] | None = None
    materialization_details: str | None = None

    def __post_init__(self) -> None:
        if self.name is not None:
            object.__setattr__(self, "name", normalize_name(self.name))
        key = self.primary_key
        if key is not None:
            object.__setattr__(self, "primary_key", _column_list(key, self.name, "primary_key"))
        if self.indexes is not None:
            if isinstance(self.indexes, str) or not isinstance(self.indexes, Sequence):
                raise DeclarationError(
                    f"table {self.name!r}: indexes must be a list of column lists, e.g. "
                    f"[['a'], ['b', 'c']], got {self.indexes!r}"
                )
            indexes = tuple(_column_list(i, self.name, "indexes") for i in self.indexes)
            object.__setattr__(self, "indexes", indexes)
        if self.type_map is not None:
            if not isinstance(self.type_map, Mapping) or not all(
                isinstance(c, str) and c for c in self.type_map
            ):
                raise DeclarationError(
                    f"table {self.name!r}: type_map must map column names to SQL types, e.g. "
                    f"{{'id': 'BIGINT'}}, got {self.type_map!r}"
                )
            object.__setattr__(self, "type_map", dict(self.type_map))
        for what in ("nullable", "non_nullable"):
            value = getattr(self, what)
            if value is not None:
                object.__setattr__(self, what, _column_list(value, self.name, what, empty=True))
        if self.nullable is not None and self.non_nullable is not None:
            both = sorted(set(self.nullable) & set(self.non_nullable))
            if both:
                raise DeclarationError(
                    f"table {self.name!r}: column(s) {', '.join(map(repr, both))} are in both "
                    "nullable and non_nullable; name each column in one of them"
                )
        details = self.materialization_details
        if details is not None and (not isinstance(details, str) or not details):
            raise DeclarationError(
                f"table {self.name!r}: materialization_details names an option set of the "
                f"store's config (a string), got {details!r}"
            )
        object.__setattr__(self, "_built", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if name != "obj" and self.__dict__.get("_built"):
            raise FrozenInstanceError(
                f"cannot assign to field {name!r} of a Table (only `obj` can be assigned); "
                f"use table.with_name(...) or dataclasses.replace(table, {name}=...)"
            )
        object.__setattr__(self, name, value)

    def with_name(self, name: str) -> Table:
        """The same output under another name."""
        return replace(self, name=name)

    def materialize(
        self,
        config_context: Any = None,
        schema: Any = None,
        return_as_type: Any = None,
        return_nothing: bool = False,
        clear_table_obj: bool = True,
    ) -> Any:
        """pipedag's imperative materialization: inside a running task, write this table now
        and get it back as the task's `input_type` (or `return_as_type`; a `TableRef` where
        the task names none), e.g. to query a subquery's table. Returned from the task, that
        object stands for the table written here; tables written so and not returned are kept
        in the stage too. Outside a flow (a task called as a function) it hands `obj` back,
        or with `config_context` and `schema` writes it there now (pipedag's interactive
        debugging). `clear_table_obj` is pipedag's and changes nothing here."""
        write = imperative_writer.get()
        if write is not None:
            value = write(self, return_as_type)
        elif config_context is not None:  # interactive debugging (tabledag.pipedag.interactive)
            value = config_context._materialize_interactively(self, schema, return_as_type)
        else:  # a task called as a plain function: its objects pass through
            value = self.obj
        return None if return_nothing else value

    def __repr__(self) -> str:
        kind = (
            "" if self.obj is None else f" of {type(self.obj).__module__}.{type(self.obj).__name__}"
        )
        return f"<Table {self.name!r}{kind}>"


@dataclass(frozen=True)
class TableRef:
    """A stored table: where it is shown (`stage`, `name`) and which data it holds (`key`)."""

    stage: str
    name: str
    key: str

    def __repr__(self) -> str:
        return f"<TableRef {self.stage}.{self.name} key={self.key[:12]}>"


@dataclass(frozen=True)
class RawSql:
    """A SELECT statement passed to the database verbatim, never parsed or rewritten.

    For SQL that sqlglot cannot parse (vendor extensions). Its text is its cache identity.
    Reference inputs through the stage schemas (`stage.table`): the text cannot be rewritten.
    """

    sql: str
    name: str | None = None


def normalize_name(name: str) -> str:
    """Stage and table names are case-insensitive, as unquoted SQL names are."""
    if not isinstance(name, str) or not name.strip():
        raise DeclarationError(f"a table or stage name must be a non-empty string, got {name!r}")
    return name.strip().casefold()


def _column_list(
    columns: Any, table: str | None, what: str, *, empty: bool = False
) -> tuple[str, ...]:
    if isinstance(columns, str):
        columns = [columns]
    if not isinstance(columns, Sequence) or not (columns or empty):
        raise DeclarationError(f"table {table!r}: {what} needs column names, got {columns!r}")
    if not all(isinstance(c, str) and c for c in columns):
        raise DeclarationError(
            f"table {table!r}: {what} must name columns as strings, got {columns!r}"
        )
    return tuple(columns)


imperative_writer: ContextVar[Callable[[Table, Any], Any] | None] = ContextVar(
    "tabledag_imperative_writer", default=None
)
"""Set by the runner while a task's function runs (tabledag.core.imperative)."""


@dataclass(frozen=True, eq=False)
class Blob:
    """An object output kept whole (pickled) in the instance's blob store, not as a table:
    a model, a fitted encoder (pipedag's `Blob`). Downstream tasks receive the object."""

    obj: Any = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.name is not None:
            object.__setattr__(self, "name", normalize_name(self.name))

    def __repr__(self) -> str:
        return f"<Blob {self.name!r} of {type(self.obj).__qualname__}>"


@dataclass(frozen=True)
class BlobRef:
    """A stored blob: its stage, name and the key of its content (its file's name)."""

    stage: str
    name: str
    key: str


@dataclass(frozen=True)
class ExternalTableReference:
    """A table tabledag does not manage (another system fills it): `schema.name` in the
    store's database (pipedag's). As a task argument, bare or as `Table(ref)`, the task reads
    it as its input type, where it is. Its content is outside tabledag's keys: a task reading
    one runs in every run, unless it names a cache function (`@materialize(cache=...)`, e.g.
    the table's row count and last change) whose value says when it changed."""

    name: str
    schema: str
    shared_lock_allowed: bool = False


@dataclass(frozen=True)
class ExternalRef(TableRef):
    """How a task's input names an `ExternalTableReference` to the store (no stage, no key)."""

    schema: str = ""
