"""polars DataFrames and LazyFrames, through Arrow.

`to_arrow()` copies string columns into classic Arrow strings (~25 ms per 1M rows); the
zero-copy `compat_level=newest` form (string views) measured slower for DuckDB to scan.
"""

from __future__ import annotations

from typing import Any

from ..outputs import Table
from ..stores.sql.store import SQLTableStore
from .base import CanMatResult, CanRetResult, TableHook, type_is


@SQLTableStore.register_table()
class PolarsTableHook(TableHook[SQLTableStore]):
    """A LazyFrame output is collected (polars plans are not SQL); a LazyFrame input is a scan
    of the table read into memory."""

    materializes = ("polars.DataFrame", "polars.LazyFrame")
    retrieves = ("polars.DataFrame", "polars.LazyFrame")

    @classmethod
    def can_materialize(cls, type_: type) -> CanMatResult:
        return CanMatResult.new(
            type_is(type_, "polars", "DataFrame") or type_is(type_, "polars", "LazyFrame")
        )

    @classmethod
    def can_retrieve(cls, type_: type) -> CanRetResult:
        return CanRetResult.new(cls.can_materialize(type_) is CanMatResult.YES)

    @classmethod
    def materialize(cls, store: SQLTableStore, table: Table, stage_name: str) -> None:
        import polars as pl

        frame = table.obj
        if isinstance(frame, pl.LazyFrame):
            frame = frame.collect()
        store.write_arrow(table, stage_name, frame.to_arrow())

    @classmethod
    def retrieve(
        cls,
        store: SQLTableStore,
        table: Table,
        stage_name: str,
        as_type: Any,
        limit: int | None = None,
    ) -> Any:
        import polars as pl

        frame = pl.from_arrow(store.read_arrow(table, limit))
        assert isinstance(frame, pl.DataFrame)
        return frame.lazy() if as_type is pl.LazyFrame else frame
