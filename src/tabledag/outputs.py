"""What tasks return (and receive): `Table` and `RawSql`.

A `Table` is both the wrapper a task returns around its output (`obj` set) and, once stored,
the reference to the stored table that the runner hands around (`stage` and `key` set, `obj`
empty). Both are plain values so that tasks and their inputs pickle across processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass
class Table:
    """A table output of a task, or a reference to a stored one.

    Args:
        obj: the table itself: an ibis / sqlglot / SQLAlchemy expression, SQL text, `RawSql`, or a
            pandas / polars / pyarrow frame.
        name: the table's name in its stage (defaults to the task's name).
        primary_key: column(s) to declare as primary key after writing.
        indexes: lists of columns to index after writing.
    """

    obj: Any = None
    name: str | None = None
    primary_key: str | Sequence[str] | None = None
    indexes: Sequence[Sequence[str]] | None = None
    stage: str | None = field(default=None, compare=False)
    key: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.name is not None:
            self.name = normalize_name(self.name)
        if isinstance(self.primary_key, str):
            self.primary_key = [self.primary_key]

    @property
    def is_stored(self) -> bool:
        return self.key is not None

    def stored(self, stage: str, key: str) -> Table:
        """The reference to this table once written: no object, just where it lives."""
        return replace(self, obj=None, stage=stage, key=key)

    def __repr__(self) -> str:
        where = f" in {self.stage!r} key={self.key[:12]}" if self.key else ""
        kind = (
            "" if self.obj is None else f" of {type(self.obj).__module__}.{type(self.obj).__name__}"
        )
        return f"<Table {self.name!r}{where}{kind}>"


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
        raise ValueError(f"a table or stage name must be a non-empty string, got {name!r}")
    return name.strip().casefold()
