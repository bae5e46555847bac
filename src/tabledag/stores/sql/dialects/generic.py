"""Databases tabledag has no dialect for, treated like PostgreSQL, connected through SQLAlchemy.

The statements are the base `Dialect`'s, which are PostgreSQL's: `information_schema`
introspection, `CREATE SCHEMA IF NOT EXISTS`, `CREATE TABLE ... AS SELECT`, views re-pointed
with `CREATE OR REPLACE VIEW` in the commit transaction (that assumes transactional DDL: on a
database without it, a commit is not atomic). They are rendered in sqlglot's dialect of the
same name where sqlglot has one (`mysql` quotes with backticks), else as PostgreSQL.

The connection is SQLAlchemy's DB-API connection for the URL (any installed SQLAlchemy
dialect): statements commit one by one except inside `begin()`; Arrow data is loaded with
batched `executemany` and read with `fetchmany` (loaders/dbapi.py). No locks: one run of an
instance at a time. `generic_dialect(url)` builds the class for one URL scheme.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlglot
import sqlglot.dialects

from ....errors import StoreConnectionError, StoreError
from ....util import mask_url
from ..arrow_types import unsupported_columns
from ..dialect import Connection, Dialect, ident, with_verbatim

if TYPE_CHECKING:
    import pyarrow as pa


class GenericConnection(Connection):
    """A DB-API connection from SQLAlchemy's pool: each statement commits unless a
    transaction was begun."""

    def __init__(self, url: str, dialect: type[sqlglot.Dialect]) -> None:
        import sqlalchemy as sa

        self.dialect = dialect
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.paramstyle: str = self.engine.dialect.paramstyle
        self.con = self.engine.raw_connection()
        self._in_transaction = False

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        cursor = self.con.cursor()
        try:
            cursor.execute(sql)
            rows = [tuple(r) for r in cursor.fetchall()] if cursor.description else []
        except BaseException:
            if not self._in_transaction:
                self.con.rollback()
            raise
        finally:
            cursor.close()
        if not self._in_transaction:
            self.con.commit()
        return rows

    def begin(self) -> None:
        self._in_transaction = True

    def commit(self) -> None:
        self._in_transaction = False
        self.con.commit()

    def rollback(self) -> None:
        self._in_transaction = False
        self.con.rollback()

    def load_arrow(
        self,
        statements: list[str],
        source: str,
        target: tuple[str, str],
        data: pa.Table,
        checkpoint: Callable[[str], None],
    ) -> None:
        from ....loaders import dbapi

        for sql in statements:
            self.execute(sql)
            checkpoint(sql)

        def render(node: Any) -> str:
            return str(node.sql(dialect=self.dialect))

        into = f"{render(ident(target[0]))}.{render(ident(target[1]))}"
        names = ", ".join(render(ident(c)) for c in data.column_names)
        values = dbapi.markers(self.paramstyle, data.num_columns)
        insert = f"INSERT INTO {into} ({names}) VALUES ({values})"
        named = self.paramstyle == "named"
        cursor = self.con.cursor()
        try:
            for batch in dbapi.parameter_rows(data):
                if named:
                    keys = _names(data.num_columns)
                    cursor.executemany(insert, [dict(zip(keys, r, strict=True)) for r in batch])
                else:
                    cursor.executemany(insert, batch)
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise
        finally:
            cursor.close()
        checkpoint(f"INSERT {len(data)} rows")

    def read_arrow(self, sql: str) -> pa.Table:
        from ....loaders import dbapi

        cursor = self.con.cursor()
        try:
            table = dbapi.read(cursor, sql)
        finally:
            cursor.close()
        if not self._in_transaction:
            self.con.commit()  # end the read's implicit transaction
        return table

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            self.engine.dispose()


def _names(count: int) -> list[str]:
    return [f"p{i}" for i in range(count)]


class Generic(Dialect):
    """A database with no tabledag dialect: see the module docstring."""

    name = "generic"
    sqlglot = with_verbatim(sqlglot.dialects.Postgres)
    transactional_ddl = True

    def connect(self) -> Connection:
        try:
            return GenericConnection(self.url, self.sqlglot)
        except ImportError as error:
            raise StoreConnectionError(
                f"the driver for {mask_url(self.url)} is missing ({error}); install the "
                "SQLAlchemy dialect and DB-API driver for your database"
            ) from error
        except Exception as error:
            raise StoreConnectionError(
                f"cannot connect to {mask_url(self.url)}: {mask_url(str(error).strip())}"
            ) from error

    def ibis_backend(self, conn: Connection) -> Any:
        raise StoreError(
            f"ibis is not wired up for {self.name} (no tabledag dialect): return SQL text, a "
            "sqlglot or SQLAlchemy query or a frame, and ask for inputs as one of those"
        )

    def unsupported_columns(self, schema: pa.Schema) -> list[tuple[str, str]]:
        """What a database without arrays or intervals cannot hold (the safe assumption)."""
        return unsupported_columns(schema, arrays=False)


def generic_dialect(scheme: str, sqlalchemy_name: str) -> type[Dialect]:
    """The `Generic` class for one URL scheme, rendering in sqlglot's dialect of that name if
    sqlglot has one, else PostgreSQL's."""
    base = sqlglot.Dialect.get(scheme)
    if base is None:
        return type(f"Generic_{scheme}", (Generic,), {"name": scheme})
    attrs = {
        "name": scheme,
        "sqlglot": with_verbatim(base),
        "sqlalchemy": (sqlalchemy_name, scheme),
    }
    return type(f"Generic_{scheme}", (Generic,), attrs)
