"""pyarrow tables and record batches: eager data, loaded through the store's bulk path."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..stores.base import Eager, TableStore
from .base import CanMatResult, CanRetResult, TableHook, type_is

if TYPE_CHECKING:
    from ..outputs import Table, TableRef
    from ..stores.base import StoreSession


@TableStore.register_table()
class PyArrowTableHook(TableHook[TableStore]):
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
    def materialize(cls, store: StoreSession, table: Table, stage_name: str) -> Eager:
        import pyarrow as pa

        data = table.obj
        if isinstance(data, pa.RecordBatch):
            data = pa.Table.from_batches([data])
        elif isinstance(data, pa.RecordBatchReader):
            data = data.read_all()
        return Eager(data)

    @classmethod
    def retrieve(
        cls,
        store: StoreSession,
        table: TableRef,
        stage_name: str,
        as_type: Any,
        limit: int | None = None,
    ) -> Any:
        return store.read_arrow(table, limit)
