"""polars DataFrames and LazyFrames, through Arrow, or straight from a store's parquet files.

`to_arrow()` copies string columns into classic Arrow strings (~25 ms per 1M rows); the
zero-copy `compat_level=newest` form (string views) measured slower for DuckDB to scan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..stores.base import Capability, Eager, TableStore
from .base import CanMatResult, CanRetResult, TableHook, type_is

if TYPE_CHECKING:
    from ..outputs import Table, TableRef
    from ..stores.base import StoreSession


@TableStore.register_table()
class PolarsTableHook(TableHook[TableStore]):
    """A LazyFrame output is collected (polars plans are not SQL). A LazyFrame input is a scan
    of the table's files where the store keeps files, else of the table read into memory."""

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
    def plan_fingerprint(cls, obj: Any) -> str | None:
        import polars as pl

        return obj.explain(optimized=False) if isinstance(obj, pl.LazyFrame) else None

    @classmethod
    def materialize(cls, store: StoreSession, table: Table, stage_name: str) -> Eager:
        import polars as pl

        frame = table.obj
        if isinstance(frame, pl.LazyFrame):
            frame = frame.collect()
        return Eager(frame.to_arrow(), frame=frame)

    @classmethod
    def retrieve(
        cls,
        store: StoreSession,
        table: TableRef,
        stage_name: str,
        as_type: Any,
        limit: int | None = None,
    ) -> Any:
        import polars as pl

        lazy = as_type is pl.LazyFrame
        if Capability.ARROW_FILES in store.capabilities:
            files = store.table_files(table)
            scan = pl.scan_parquet(list(files.paths), storage_options=files.storage_options or None)
            scan = scan if limit is None else scan.head(limit)
            return scan if lazy else scan.collect()
        frame = pl.from_arrow(store.read_arrow(table, limit))
        assert isinstance(frame, pl.DataFrame)
        return frame.lazy() if lazy else frame
