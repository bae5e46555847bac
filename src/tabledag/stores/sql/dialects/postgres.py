"""PostgreSQL: ADBC (binary COPY) for bulk load and read, psycopg2 COPY where ADBC is missing.

- DDL is transactional, so a stage commit is one transaction; a reader of the stage schema waits
  on the view's lock and then sees the new generation, never half of it.
- Views bind to their tables and `CREATE OR REPLACE VIEW` needs identical columns, so re-pointing
  a view is `DROP VIEW` + `CREATE VIEW` inside that transaction
  (https://www.postgresql.org/docs/current/sql-createview.html).
- Identifiers are cut at 63 bytes by the server; `naming.fit_identifier` keeps them unique.
- Two runs of one instance serialise per stage through session-level advisory locks.
- Sessions run with `synchronous_commit = off`; only the stage commit waits for its WAL flush.
  That is safe: WAL is sequential, so a durable commit implies every physical table written
  before it is durable too, and a table lost in a crash before any commit is just an orphan.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from sqlglot import exp

from ....errors import LockError, StoreError
from ....util import mask_url
from ..dialect import Connection, Dialect, quote

if TYPE_CHECKING:
    import pyarrow as pa


class PostgresConnection(Connection):
    """Statements go through psycopg (shared with ibis: one session, simple round trips);
    Arrow data through a second, bulk connection opened on first use: ADBC's binary COPY, or
    psycopg2's COPY where ADBC is not installed. Both run in autocommit mode, so a table one
    writes is visible to the other; `begin()` opens the stage-commit transaction explicitly."""

    def __init__(self, uri: str, bulk_driver: str) -> None:
        self.uri = uri
        self.bulk_driver = bulk_driver
        self.con = _statement_connection(uri)
        self._bulk: Any = None
        self.execute("SET synchronous_commit = off")

    def execute(self, sql: str) -> list[tuple]:
        cursor = self.con.cursor()
        try:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else []
        finally:
            cursor.close()

    def begin(self) -> None:
        self.execute("BEGIN")
        self.execute("SET LOCAL synchronous_commit = on")

    @functools.cached_property
    def _loader(self) -> Any:
        """The loader module for `bulk_driver`: `connect`, `ingest` and `read`."""
        if self.bulk_driver == "adbc":
            from ....loaders import adbc_postgres

            return adbc_postgres
        from ....loaders import psycopg2_copy

        return psycopg2_copy

    @property
    def bulk(self) -> Any:
        """The bulk connection, opened on first use with the loader's own driver."""
        if self._bulk is None:
            self._bulk = self._loader.connect(self.uri, autocommit=True)
            cursor = self._bulk.cursor()
            cursor.execute("SET synchronous_commit = off")
            cursor.close()
        return self._bulk

    def write_arrow(self, schema: str, table: str, data: pa.Table) -> None:
        self._loader.ingest(self.bulk, schema, table, data)

    def read_arrow(self, sql: str) -> pa.Table:
        return self._loader.read(self.bulk, sql)

    def close(self) -> None:
        if self._bulk is not None:
            self._bulk.close()
            self._bulk = None
        self.con.close()


def _statement_connection(uri: str) -> Any:
    """psycopg 3 (what ibis uses) if installed, else psycopg2; autocommit either way."""
    try:
        import psycopg
    except ImportError:
        import psycopg2

        con = psycopg2.connect(uri)
        con.autocommit = True
        return con
    return psycopg.connect(uri, autocommit=True)


class Postgres(Dialect):
    """Args (from the store's `args`):
    create_database_if_not_exists: create the URL's database on first connect.
    driver: bulk transfer through "adbc" or "psycopg2" (COPY); default: ADBC if installed.
    lock_timeout: seconds to wait for another run's stage lock (default 600).
    """

    name = "postgres"
    sqlglot = "postgres"
    max_identifier_bytes = 63

    def __init__(self, url: str, **args: Any) -> None:
        super().__init__(url, **args)
        parts = urlsplit(url)
        scheme = parts.scheme.split("+", 1)[0]
        self.uri = urlunsplit(("postgresql" if scheme == "postgres" else scheme, *parts[1:]))
        self.database = parts.path.lstrip("/") or "postgres"

    def connect(self) -> Connection:
        if self.args.get("create_database_if_not_exists"):
            self._create_database()
        driver = self.args.get("driver") or ("adbc" if _has_adbc() else "psycopg2")
        try:
            return PostgresConnection(self.uri, driver)
        except Exception as error:  # drivers raise their own types; say where we tried
            raise StoreError(
                f"cannot connect to {mask_url(self.uri)}: {mask_url(str(error))}"
            ) from None

    def _create_database(self) -> None:
        import psycopg2

        parts = urlsplit(self.uri)
        admin = urlunsplit((*parts[:2], "/postgres", *parts[3:]))
        con = psycopg2.connect(admin)
        try:
            con.autocommit = True
            with con.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,))
                if cursor.fetchone() is None:
                    cursor.execute(f"CREATE DATABASE {quote(self.database)}")
        except psycopg2.errors.UniqueViolation:
            pass  # another process created it first
        finally:
            con.close()
        self.args["create_database_if_not_exists"] = False

    @contextmanager
    def stage_lock(self, conn: Connection, instance_id: str, stage: str) -> Iterator[None]:
        """A session-level advisory lock on (database, instance, stage)."""
        key = _lock_key(self.database, instance_id, stage)
        timeout_ms = int(float(self.args.get("lock_timeout", 600)) * 1000)
        conn.execute(f"SET lock_timeout = {timeout_ms}")
        try:
            conn.execute(f"SELECT pg_advisory_lock({key})")
        except Exception as error:
            raise LockError(
                f"stage {stage!r} of instance {instance_id!r} stayed locked by another run for "
                f"{timeout_ms / 1000:.0f}s; wait for it or raise lock_timeout"
            ) from error
        finally:
            conn.execute("SET lock_timeout = 0")
        try:
            yield
        finally:
            conn.execute(f"SELECT pg_advisory_unlock({key})")

    def ibis_backend(self, conn: Connection) -> Any:
        import ibis

        assert isinstance(conn, PostgresConnection)
        if type(conn.con).__module__.startswith("psycopg."):
            return ibis.postgres.from_connection(conn.con)  # one session for SQL and ibis
        return ibis.connect(self.uri)

    def point_view(self, view: exp.Table, target: exp.Table) -> list[exp.Expression]:
        select = exp.select("*").from_(target)
        return [
            exp.Drop(tables=[view], kind="VIEW", exists=True),
            exp.Create(this=view, kind="VIEW", expression=select),
        ]

    def prepare_arrow(self, data: pa.Table) -> pa.Table:
        from ....loaders.postgres_types import prepare_arrow

        return prepare_arrow(data)


def _has_adbc() -> bool:
    import importlib.util

    return importlib.util.find_spec("adbc_driver_postgresql") is not None


def _lock_key(*parts: str) -> int:
    """A signed 64-bit advisory-lock key from names (stable across processes)."""
    digest = hashlib.blake2b("\x00".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
