"""What one recognised annotation does, whatever library it comes from: the frame type its
tables are read as, and the check that casts and validates them.

A `Kind` knows its library (dataframely, colspec); this module names neither, so the plan
that applies kinds, and the core that calls the plan, stay free of them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

EXAMPLE_ROWS = 5
"""Invalid rows shown per table in an error or a warning."""


@dataclass
class TableOutcome:
    """How one table fared: its failed rules with row counts, or a problem with its columns."""

    invalid: int = 0
    total: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    problem: str | None = None
    """A schema-level failure (a missing column, a type that cannot be cast) instead of rows."""
    examples: str = ""

    @property
    def failed(self) -> bool:
        return self.problem is not None or self.invalid > 0


@dataclass
class Outcome:
    """A check's result: the validated (and cast) data, and per table how it fared."""

    valid: Any
    tables: dict[str, TableOutcome]
    """table label (`stage.table`, or a collection member) -> outcome."""
    lenient: Callable[[], Any]
    """The data to go on with when the check failed in `warn` mode: every row, cast where
    the cast succeeds."""

    @property
    def failed(self) -> bool:
        return any(t.failed for t in self.tables.values())


@dataclass
class DatabaseFilter:
    """A check the database runs on a written table (`Kind.database_filter`): the valid rows,
    and how to count and show the invalid ones, each a query object a table hook compiles."""

    INVALID: ClassVar[str] = "tabledag_invalid_rows"

    valid: Any
    counts: Any
    """One row: `INVALID` -> invalid rows, and rule name -> rows failing it (None: there is
    no rule to fail)."""
    invalid: Any
    """The first invalid rows, with one boolean column per rule."""


class Kind(ABC):
    """A recognised annotation: `dy.LazyFrame[S]`, `S`, `SomeCollection`, `SomeColSpec`..."""

    label: str
    """How the annotation is shown in errors, e.g. `dy.LazyFrame[PersonSchema]`."""
    collection: bool = False
    """A collection: its tables arrive (and leave) as a mapping of member name -> table."""

    @abstractmethod
    def input_type(self, declared: Any) -> Any:
        """The frame type the task's input tables are read as, given the task's declared
        `input_type` (None if none); None where the check runs on a polars copy and the task
        gets its declared type; raises `DeclarationError` where they cannot agree."""

    def to_frame(self, value: Any) -> Any:
        """`value` (an output this kind cannot check as it is) as a frame it can check, or
        None: then the output is checked once written, read back from the store."""
        from .frames import to_polars

        return to_polars(value)

    @abstractmethod
    def is_frame(self, value: Any) -> bool:
        """Whether `value` is a frame this kind can check (a polars frame)."""

    @abstractmethod
    def check(self, data: Any, tables: Any, *, cast_to: Any) -> Outcome:
        """Cast and validate `data` (a frame; for a collection a mapping member -> frame).

        `tables` names what is checked (a label; for a collection member -> label); `cast_to`
        is the frame type to hand back (polars DataFrame or LazyFrame), None for as given."""

    def filters_in(self, dialect: str) -> bool:
        """Whether `database_filter` can check a query output on a store of `dialect`
        (SQLAlchemy's name for it)."""
        return False

    def database_filter(
        self, raw: Any, scratch: Callable[[Any, str | None], Any] | None, dialect: str
    ) -> DatabaseFilter:
        """The check as queries over `raw` (the table as written, read as `query_input_type`)
        for the database to run; called only where `filters_in(dialect)`. `scratch` writes a
        subquery as a table of the stage and returns it (None: keep subqueries inline);
        `dialect` is SQLAlchemy's name of the store's dialect."""
        raise NotImplementedError(f"{self.label} checks frames only")

    def query_input_type(self) -> Any:
        """The type `database_filter` reads the written table as."""
        return None

    def prepare_query(self, value: Any) -> Any:
        """A query output before it is written for `database_filter` (e.g. cast columns)."""
        return value

    def members(self, value: Any) -> dict[str, Any] | None:
        """A collection output as member -> frame (None if `value` is not one)."""
        return None

    def wrap(self, valid: Any) -> Any:
        """What a task receives for a checked collection input (the collection itself)."""
        return valid

    def __repr__(self) -> str:
        return self.label


def show_rows(frame: Any) -> str:
    """The first invalid rows of a polars frame, as polars prints them."""
    import polars as pl

    with pl.Config(tbl_cols=15, tbl_width_chars=120):
        return str(frame.head(EXAMPLE_ROWS))


def polars_frame_types() -> tuple[type, type]:
    import polars as pl

    return pl.DataFrame, pl.LazyFrame
