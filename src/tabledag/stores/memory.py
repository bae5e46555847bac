"""ArrowTableStore: tables kept in memory as Arrow, for tests and notebooks (one process, nothing
on disk).

The same lifecycle as every catalogue store (`SQLSession`: keys, cache hits, atomic commits,
cleanup) over an in-memory DuckDB catalogue; a physical table is an Arrow table held by the
store and registered with DuckDB, and `<stage>__data.<name>__<key>` is a view onto it, so lazy
queries, ibis and SQLAlchemy inputs work as elsewhere while frame inputs get the Arrow table
itself, without a copy. DuckDB registrations belong to one connection, so all sessions share
one, taking turns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ..locks import NoLocks
from .base import Capability
from .sql.catalogue import Catalogue, CatalogueStore
from .sql.dialect import ident
from .sql.dialects.duckdb import DuckDB, DuckDBConnection
from .sql.physical import PhysicalTables, view_over
from .sql.session import SQLSession
from .sql.table_options import NO_OPTIONS, TableOptions

if TYPE_CHECKING:
    import pyarrow as pa

    from ..locks import Locks
    from ..outputs import Table


class ArrowTableStore(CatalogueStore):
    """Tables in memory as Arrow; gone with the store object.

    Args:
        instance_id, schema_prefix, schema_suffix, print_sql: as for `SQLTableStore`.
    """

    capabilities = frozenset({Capability.SQL, Capability.IBIS})

    concurrent_sessions = False  # one DuckDB connection holds the Arrow tables; it serves one call

    def __init__(
        self,
        *,
        instance_id: str = "pipeline",
        schema_prefix: str = "",
        schema_suffix: str = "",
        print_sql: bool = False,
    ) -> None:
        self._init_args = {
            "instance_id": instance_id,
            "schema_prefix": schema_prefix,
            "schema_suffix": schema_suffix,
            "print_sql": print_sql,
        }
        self.instance_id = instance_id
        self.url = "duckdb:///:memory:"
        self.catalogue = Catalogue(DuckDB(self.url), schema_prefix, schema_suffix, print_sql)
        self.tables: dict[tuple[str, str], pa.Table] = {}
        """(data schema, physical name) -> data."""
        self._connection: _SharedConnection | None = None
        self._guard = threading.RLock()

    def __repr__(self) -> str:
        return f"ArrowTableStore(instance_id={self.instance_id!r})"

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("an ArrowTableStore lives in one process; it cannot be pickled")

    def open_session(self) -> SQLSession:
        with self._guard:
            if self._connection is None:
                cursor = self.dialect.connect()
                assert isinstance(cursor, DuckDBConnection)  # the catalogue's DuckDB dialect
                self._connection = _SharedConnection(cursor, self._guard)
        return SQLSession(self, self.catalogue, ArrowTables(self), self._connection)

    def locks(self, timeout: float | None = None) -> Locks:
        return NoLocks()

    def close(self) -> None:
        with self._guard:
            connection, self._connection = self._connection, None
            self.tables.clear()
        if connection is not None:
            connection.shared.close()
        self.dialect.close()


class _SharedConnection(DuckDBConnection):
    """One DuckDB connection for every session of the store, used by one at a time."""

    def __init__(self, shared: DuckDBConnection, guard: threading.RLock) -> None:
        super().__init__(shared.con, lambda: None)
        self.shared = shared
        self.guard = guard

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        with self.guard:
            return super().execute(sql)

    def load_arrow(
        self,
        statements: list[str],
        source: str,
        target: tuple[str, str],
        data: pa.Table,
        checkpoint: Callable[[str], None],
    ) -> None:
        with self.guard:
            super().load_arrow(statements, source, target, data, checkpoint)

    def read_arrow(self, sql: str) -> pa.Table:
        with self.guard:
            return super().read_arrow(sql)

    def close(self) -> None:
        """Sessions come and go; the shared connection closes with the store."""


class ArrowTables(PhysicalTables):
    def __init__(self, store: ArrowTableStore) -> None:
        self.store = store

    def present(self, session: SQLSession, stage: str) -> frozenset[str]:
        schema = session.names.data_schema(stage)
        return frozenset(name for s, name in self.store.tables if s == schema)

    def create_from_query(
        self,
        session: SQLSession,
        stage: str,
        target: exp.Table,
        sql: str,
        table_: Table,
        options: TableOptions = NO_OPTIONS,
    ) -> None:
        self.create_from_arrow(session, stage, target, session.connection.read_arrow(sql), table_)

    def create_from_arrow(
        self,
        session: SQLSession,
        stage: str,
        target: exp.Table,
        data: pa.Table,
        table_: Table,
        frame: Any = None,
        options: TableOptions = NO_OPTIONS,
    ) -> None:
        name = _registered_name(target)
        connection = session.connection
        assert isinstance(connection, DuckDBConnection)
        with self.store._guard:
            connection.con.register(name, data)
            self.store.tables[(target.db, target.name)] = data
        view = view_over(target, exp.Table(this=ident(name)))
        view.set("replace", True)
        session.execute(view, phase="write")

    def drop(self, session: SQLSession, stage: str, target: exp.Table, phase: str) -> None:
        session.execute(session.dialect.drop_view(target), phase=phase)
        connection = session.connection
        assert isinstance(connection, DuckDBConnection)
        with self.store._guard:
            if self.store.tables.pop((target.db, target.name), None) is not None:
                connection.con.unregister(_registered_name(target))

    def stats(
        self, session: SQLSession, stage: str, target: exp.Table
    ) -> tuple[int | None, int | None]:
        data = self.store.tables[(target.db, target.name)]
        return data.num_rows, data.nbytes

    def read_arrow(
        self, session: SQLSession, stage: str, target: exp.Table, limit: int | None
    ) -> pa.Table:
        data = self.store.tables[(target.db, target.name)]
        return data if limit is None else data.slice(0, limit)


def _registered_name(target: exp.Table) -> str:
    return f"__tabledag_{target.db}__{target.name}"
