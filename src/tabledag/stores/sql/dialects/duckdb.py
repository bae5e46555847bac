"""DuckDB: the embedded default.

Arrow data is loaded by DuckDB's Arrow scan (`CREATE TABLE AS SELECT * FROM <registered arrow>`),
read with `to_arrow_table()`. One process writes a database file at a time (DuckDB's own rule), so a
file lock beside the database is held for a whole run.
"""

from __future__ import annotations

import itertools
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..dialect import Connection, Dialect, quote

if TYPE_CHECKING:
    import pyarrow as pa

_arrow_names = itertools.count()


class DuckDBConnection(Connection):
    def __init__(self, database: str) -> None:
        import duckdb

        self.con = duckdb.connect(database)
        # Zoned timestamps come back labelled with the session zone: make it the same everywhere.
        self.execute("SET TimeZone = 'UTC'")

    def execute(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def write_arrow(self, schema: str, table: str, data: pa.Table) -> None:
        source = f"__tabledag_arrow_{next(_arrow_names)}"
        self.con.register(source, data)
        try:
            self.execute(f"CREATE TABLE {quote(schema)}.{quote(table)} AS SELECT * FROM {source}")
        finally:
            self.con.unregister(source)

    def read_arrow(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def close(self) -> None:
        self.con.close()


class DuckDB(Dialect):
    name = "duckdb"
    sqlglot = "duckdb"
    max_identifier_bytes = 255
    writes_in_stage_transaction = True  # ibis shares our connection; saves a WAL flush per table

    @property
    def database(self) -> str:
        """The file path (or ":memory:") from `duckdb:///path` or `duckdb:////abs/path`."""
        path = self.url.split(":///", 1)[1] if ":///" in self.url else ":memory:"
        return path.split("?", 1)[0] or ":memory:"

    def connect(self) -> DuckDBConnection:
        if self.database != ":memory:":
            Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        return DuckDBConnection(self.database)

    def run_lock(self, instance_id: str) -> AbstractContextManager[Any]:
        if self.database == ":memory:":
            return super().run_lock(instance_id)
        from ....locks import file_lock

        return file_lock(self.database + ".lock")

    def ibis_backend(self, conn: Connection) -> Any:
        import ibis

        assert isinstance(conn, DuckDBConnection)
        return ibis.duckdb.from_connection(conn.con)
