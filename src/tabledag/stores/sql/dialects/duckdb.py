"""DuckDB: the embedded default.

- One database object per process and store (`duckdb.connect(path)`); every session is a cursor
  of it, so threads get independent connections to one database.
- Arrow data is loaded by DuckDB's Arrow scan (`CREATE TABLE AS SELECT * FROM <registered>`)
  and read with `to_arrow_table()`.
- Each write commits on its own: DuckDB has no savepoints, so a failing statement inside a
  shared transaction would abort every table written before it.
- One process writes a database file at a time (DuckDB's own rule), so a file lock beside the
  database is held for a whole run. `duckdb:///:memory:` (or `duckdb://`) is a database of this
  store object alone: it lives until `store.close()`, one process, no lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import sqlglot.dialects

from ....errors import ConfigError, StoreConnectionError
from ..dialect import Connection, Dialect, ident, with_verbatim

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    from sqlglot import exp

    from ....locks import Locks

MEMORY = ":memory:"


class DuckDBConnection(Connection):
    """A cursor of the shared database; closing it leaves the database open."""

    def __init__(self, con: duckdb.DuckDBPyConnection, release: Callable[[], None]) -> None:
        self.con = con
        self._release = release

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()

    def load_arrow(
        self,
        statements: list[str],
        source: str,
        target: tuple[str, str],
        data: pa.Table,
        checkpoint: Callable[[str], None],
    ) -> None:
        self.con.register(source, data)
        try:
            for sql in statements:
                self.con.execute(sql)
                checkpoint(sql)
        finally:
            self.con.unregister(source)

    def read_arrow(self, sql: str) -> pa.Table:
        return cast("pa.Table", self.con.sql(sql).to_arrow_table())  # typed Any by duckdb

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            self._release()


class DuckDB(Dialect):
    name = "duckdb"
    sqlglot = with_verbatim(sqlglot.dialects.DuckDB)
    sqlalchemy = ("postgresql", "postgres")  # duckdb_engine speaks PostgreSQL's SQLAlchemy SQL
    max_identifier_bytes = 255
    supports_batches = True
    one_process = "DuckDB admits one writing process per database file"
    drivers = ("duckdb",)

    def __init__(self, url: str, **args: Any) -> None:
        super().__init__(url, **args)
        self.database = database_path(url)
        self._db: duckdb.DuckDBPyConnection | None = None
        self._users = 0
        self._guard = threading.Lock()

    # -- the shared database --------------------------------------------------------------------

    def run_records_directory(self) -> str | None:
        """Beside the file (`<file>.runs/`): a write to a file database that is otherwise only
        read (a cached rerun) makes closing it checkpoint, ~20 ms, where a small file costs
        ~0.1 ms. An in-memory database keeps them in its `runs` table."""
        return None if self.database == MEMORY else f"{self.database}.runs"

    def connect(self) -> DuckDBConnection:
        with self._guard:
            if self._db is None:
                self._db = self._open()
            self._users += 1
            try:
                cursor = self._db.cursor()
                cursor.execute("SET TimeZone = 'UTC'")  # zoned timestamps read the same everywhere
            except Exception:
                self._users -= 1
                raise
        return DuckDBConnection(cursor, self._release)

    def _open(self) -> duckdb.DuckDBPyConnection:
        import duckdb

        try:
            if self.database != MEMORY:
                Path(self.database).parent.mkdir(parents=True, exist_ok=True)
            return duckdb.connect(self.database)
        except (duckdb.Error, OSError) as error:
            raise StoreConnectionError(
                f"cannot open the DuckDB database {self.database!r}: {error}; the URL needs a "
                "file path in a writable directory (duckdb:///relative/path.duckdb or "
                "duckdb:////absolute/path.duckdb)"
            ) from error

    def _release(self) -> None:
        """Close the database when its last session ends, so other processes may open the
        file; an in-memory database stays until `close()`."""
        with self._guard:
            self._users -= 1
            if self._users == 0 and self.database != MEMORY and self._db is not None:
                db, self._db = self._db, None
                db.close()

    def close(self) -> None:
        with self._guard:
            if self._db is not None and self._users == 0:
                db, self._db = self._db, None
                db.close()

    def sqlalchemy_engine(self, url: str) -> Any | None:
        """Connections that are cursors of this process's database object: duckdb-engine's
        own connect would open the file again with another configuration, which DuckDB
        refuses while tabledag holds it; an in-memory database has no outside (None)."""
        if self.database == MEMORY:
            return None
        try:
            from duckdb_engine import ConnectionWrapper  # type: ignore[import-not-found]
        except ImportError:
            return None  # SQLAlchemy needs duckdb-engine for DuckDB
        import sqlalchemy as sa

        dialect = self

        class Wrapper(ConnectionWrapper):  # type: ignore[misc]
            def __init__(self) -> None:
                self._tabledag = dialect.connect()
                super().__init__(self._tabledag.con)

            def close(self) -> None:
                self._tabledag.close()
                self.closed = True

        return sa.create_engine("duckdb://", creator=Wrapper, poolclass=sa.pool.NullPool)

    def locks(self, scope: tuple[str, ...], timeout: float) -> Locks:
        from ....locks import FileLocks, NoLocks

        if self.database == MEMORY:
            return NoLocks()
        return FileLocks(self.database + ".lock", timeout)

    def ibis_backend(self, conn: Connection) -> Any:
        import ibis

        assert isinstance(conn, DuckDBConnection)
        return ibis.duckdb.from_connection(conn.con)

    # -- statements -----------------------------------------------------------------------------

    def load_arrow(self, target: exp.Table, schema: pa.Schema, source: str) -> list[exp.Expr]:
        from sqlglot import exp

        select = exp.select("*").from_(exp.Table(this=ident(source)))
        return [exp.Create(this=target, kind="TABLE", expression=select)]

    def list_tables(self, schema: str) -> exp.Query:
        """From `duckdb_tables()`: information_schema is a view over it, several times slower."""
        from sqlglot import exp

        return (
            exp.select(exp.column("table_name"))
            .from_(exp.Table(this=exp.func("duckdb_tables")))
            .where(exp.column("schema_name").eq(exp.Literal.string(schema)))
        )

    def list_columns(self, schema: str, tables: Sequence[str]) -> exp.Query:
        from sqlglot import exp

        return (
            exp.select(exp.column("table_name"), exp.column("column_name"), exp.column("data_type"))
            .from_(exp.Table(this=exp.func("duckdb_columns")))
            .where(exp.column("schema_name").eq(exp.Literal.string(schema)))
            .where(exp.column("table_name").isin(*(exp.Literal.string(t) for t in tables)))
            .order_by(exp.column("table_name"), exp.column("column_index"))
        )

    def describe(self, target: exp.Table) -> exp.Query:
        """`pragma_table_info`: one table's columns, the cheapest question DuckDB answers."""
        from sqlglot import exp

        info = exp.func("pragma_table_info", exp.Literal.string(self.render(target)))
        columns = (exp.column("name", quoted=True), exp.column("type", quoted=True))
        return exp.select(*columns).from_(exp.Table(this=info))

    def unsupported_columns(self, schema: pa.Schema) -> list[tuple[str, str]]:
        import pyarrow as pa

        return [
            (f.name, str(f.type))
            for f in schema
            if pa.types.is_decimal(f.type) and f.type.precision > 38
        ]


def database_path(url: str) -> str:
    """The file path (or ":memory:") in a DuckDB URL, refusing forms that would silently mean
    something else."""
    parts = urlsplit(url)
    if parts.netloc:
        raise ConfigError(
            f"the DuckDB URL {url!r} has a host part ({parts.netloc!r}); a file path needs three "
            f"slashes: duckdb:///{parts.netloc}{parts.path} (relative) or "
            f"duckdb:////absolute/path.duckdb"
        )
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    if path in ("", MEMORY):
        return MEMORY
    if path.endswith("/") or Path(path).is_dir():
        raise ConfigError(f"the DuckDB URL {url!r} names a directory; name a file in it")
    return path
