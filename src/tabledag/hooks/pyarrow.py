"""pyarrow tables and record batches: eager data, loaded through the dialect's bulk path."""

from __future__ import annotations

from typing import Any

from ..outputs import Table
from ..stores.sql.store import SQLTableStore
from .base import CanMatResult, CanRetResult, TableHook, type_is


@SQLTableStore.register_table()
class PyArrowTableHook(TableHook[SQLTableStore]):
    materializes = ("pyarrow.Table", "pyarrow.RecordBatch", "pyarrow.RecordBatchReader")
    retrieves = ("pyarrow.Table",)

    @classmethod
    def can_materialize(cls, type_: type) -> CanMatResult:
        return CanMatResult.new(
            type_is(type_, "pyarrow", "Table")
            or type_is(type_, "pyarrow", "RecordBatch")
            or type_is(type_, "pyarrow", "RecordBatchReader")
        )

    @classmethod
    def can_retrieve(cls, type_: type) -> CanRetResult:
        return CanRetResult.new(type_is(type_, "pyarrow", "Table"))

    @classmethod
    def materialize(cls, store: SQLTableStore, table: Table, stage_name: str) -> None:
        import pyarrow as pa

        data = table.obj
        if isinstance(data, pa.RecordBatch):
            data = pa.Table.from_batches([data])
        elif isinstance(data, pa.RecordBatchReader):
            data = data.read_all()
        store.write_arrow(table, stage_name, data)

    @classmethod
    def retrieve(
        cls,
        store: SQLTableStore,
        table: Table,
        stage_name: str,
        as_type: Any,
        limit: int | None = None,
    ) -> Any:
        return store.read_arrow(table, limit)
