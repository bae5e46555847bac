"""PostgreSQL: ADBC (binary COPY) for bulk load and read, psycopg2 COPY where ADBC is missing.

- DDL is transactional, so a stage commit is one transaction. Views bind to their tables and
  `CREATE OR REPLACE VIEW` needs identical columns, so re-pointing a view is `DROP VIEW` +
  `CREATE VIEW` (https://www.postgresql.org/docs/current/sql-createview.html).
- A commit cannot deadlock with readers: it waits for a view lock at most `COMMIT_LOCK_WAIT`
  (below the server's 1 s `deadlock_timeout`), then rolls back, releasing what it held so the
  reader proceeds, and retries until `lock_timeout` (see `is_lock_conflict`).
- What readers see: a READ COMMITTED statement sees one generation, old or new, never a mix (it
  locks every view it reads; the commit holds all changed views until it ends). A REPEATABLE
  READ transaction sees one generation for its whole life: before moving views, the commit
  waits (up to `snapshot_wait`) until no other session holds a snapshot taken before the new
  tables were written, because such a snapshot would see the new views' tables as empty.
- Runs of one instance share a lease and serialise per stage through advisory locks on a
  connection of their own; physical tables are dropped only by a run that is alone.
- Identifiers are cut at 63 bytes by the server; `naming.fit_identifier` keeps them unique.
- Sessions run with `synchronous_commit = off`; only the stage commit waits for its WAL flush.
  That is safe: WAL is sequential, so a durable commit implies every physical table written
  before it is durable too, and a table lost in a crash before any commit is just an orphan.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import sqlglot.dialects
from sqlglot import exp

from ....errors import StoreConnectionError
from ....util import mask_url
from ..dialect import CommitPlan, Connection, Dialect, column_def, with_verbatim

if TYPE_CHECKING:
    import datetime as dt

    import pyarrow as pa

    from ....locks import Locks

APPLICATION_NAME = "tabledag"
"""Set on every connection; other tabledag sessions are not readers a commit waits for."""

COMMIT_LOCK_WAIT = "250ms"
"""How long a commit statement waits for a view lock before the commit is retried."""


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

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        return _rows(self.con, sql)

    def begin(self) -> None:
        self.execute("BEGIN")
        self.execute("SET LOCAL synchronous_commit = on")

    @functools.cached_property
    def _loader(self) -> Any:
        """The loader module for `bulk_driver`: `connect`, `append` and `read`."""
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

    def load_arrow(
        self,
        statements: list[str],
        source: str,
        target: tuple[str, str],
        data: pa.Table,
        checkpoint: Callable[[str], None],
    ) -> None:
        for sql in statements:
            self.execute(sql)
            checkpoint(sql)
        self._loader.append(self.bulk, target[0], target[1], data)
        checkpoint(f"COPY {len(data)} rows")

    def read_arrow(self, sql: str) -> pa.Table:
        return cast("pa.Table", self._loader.read(self.bulk, sql))  # the loader module is Any

    def close(self) -> None:
        try:
            if self._bulk is not None:
                self._bulk.close()
                self._bulk = None
        finally:
            self.con.close()


def _rows(con: Any, sql: str) -> list[tuple[Any, ...]]:
    """Run one statement on a psycopg / psycopg2 connection; its rows (none for DDL)."""
    cursor = con.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall() if cursor.description else []
    finally:
        cursor.close()


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


class PostgresLockSql:
    """Advisory-lock statements (session level: they outlive transactions)."""

    def lock(self, key: int, *, shared: bool, timeout: float) -> list[str]:
        fn = "pg_advisory_lock_shared" if shared else "pg_advisory_lock"
        return [
            f"SET lock_timeout = {max(1, int(timeout * 1000))}",  # 0 would wait forever
            f"SELECT {fn}({key})",
            "SET lock_timeout = 0",
        ]

    def try_lock(self, key: int, *, shared: bool = False) -> str:
        fn = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
        return f"SELECT {fn}({key})"

    def holders(self, key: int) -> str:
        """Who holds `key`: a bigint advisory key is (classid, objid) = (high, low) 32 bits."""
        high, low = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
        return (
            "SELECT a.pid, a.application_name, a.client_addr, a.client_hostname, "
            "a.backend_start FROM pg_catalog.pg_locks AS l "
            "JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid "
            f"WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
            f"AND l.classid::bigint = {high} AND l.objid::bigint = {low} "
            "AND l.database = (SELECT oid FROM pg_catalog.pg_database "
            "WHERE datname = current_database())"
        )

    def unlock(self, key: int, *, shared: bool) -> str:
        fn = "pg_advisory_unlock_shared" if shared else "pg_advisory_unlock"
        return f"SELECT {fn}({key})"

    def is_timeout(self, error: BaseException) -> bool:
        return _sqlstate(error) == "55P03"  # lock_not_available


class Postgres(Dialect):
    """Args (from the store's `args`):
    create_database_if_not_exists: create the URL's database on first connect.
    driver: bulk transfer through "adbc" or "psycopg2" (COPY); default: ADBC if installed.
    lock_timeout: seconds to wait for another run's stage lock (default 600).
    snapshot_wait: seconds a commit waits for older reader snapshots to end (default 60).
    """

    name = "postgres"
    sqlglot = with_verbatim(sqlglot.dialects.Postgres)
    sqlalchemy = ("postgresql", "postgres")
    max_identifier_bytes = 63
    supports_batches = True
    extra = "postgres"
    drivers = ("psycopg", "psycopg2")
    args = {
        "create_database_if_not_exists": bool,
        "driver": ("adbc", "psycopg2"),
        "lock_timeout": float,
        "snapshot_wait": float,
    }
    materialization_keys = {"unlogged": bool}
    """`unlogged: true`: `CREATE UNLOGGED TABLE`: no WAL, so faster writes; but a server crash
    empties the table while the metadata still calls it valid, so only for data a forced run
    (`ignore_cache=True`) can rebuild."""

    def __init__(self, url: str, **args: Any) -> None:
        super().__init__(url, **args)
        parts = urlsplit(url)
        scheme = parts.scheme.split("+", 1)[0]
        query = dict(parse_qsl(parts.query))
        query.setdefault("application_name", APPLICATION_NAME)
        self.uri = urlunsplit(
            ("postgresql" if scheme == "postgres" else scheme, parts.netloc, parts.path,
             urlencode(query), parts.fragment)
        )  # fmt: skip
        self.database = parts.path.lstrip("/") or "postgres"

    # -- connections ----------------------------------------------------------------------------

    def connect(self) -> Connection:
        self.require_driver()
        if self.args.get("create_database_if_not_exists"):
            self._create_database()
        driver = self.args.get("driver") or ("adbc" if _has_adbc() else "psycopg2")
        try:
            return PostgresConnection(self.uri, driver)
        except ImportError as error:
            raise StoreConnectionError(
                f"the {driver} driver for PostgreSQL is missing ({error}); run "
                "pip install 'tabledag[postgres]'"
            ) from error
        except Exception as error:  # drivers raise their own types; say where we tried
            raise StoreConnectionError(
                f"cannot connect to {mask_url(self.uri)}: {mask_url(str(error).strip())}"
            ) from error

    def _create_database(self) -> None:
        parts = urlsplit(self.uri)
        admin = urlunsplit((*parts[:2], "/postgres", *parts[3:]))
        try:
            con = _statement_connection(admin)
        except Exception as error:
            raise StoreConnectionError(
                f"cannot connect to {mask_url(admin)} to create database {self.database!r}: "
                f"{mask_url(str(error).strip())}"
            ) from error
        try:
            cursor = con.cursor()
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,))
            if cursor.fetchone() is None:
                cursor.execute(
                    f"CREATE DATABASE {self.render(exp.to_identifier(self.database, quoted=True))}"
                )
        except Exception as error:
            if _sqlstate(error) != "42P04":  # duplicate_database: another process was first
                raise StoreConnectionError(
                    f"cannot create database {self.database!r}: {error}"
                ) from error
        finally:
            con.close()
        self.args["create_database_if_not_exists"] = False

    def locks(self, scope: tuple[str, ...], timeout: float) -> Locks:
        from ....locks.advisory import AdvisoryLocks

        def connect() -> PostgresLockConnection:
            self.require_driver()
            if self.args.get("create_database_if_not_exists"):
                self._create_database()  # the lock connection is the first a run opens
            try:
                return PostgresLockConnection(self.uri)
            except Exception as error:
                raise StoreConnectionError(
                    f"cannot connect to {mask_url(self.uri)}: {mask_url(str(error).strip())}"
                ) from error

        return AdvisoryLocks(connect, PostgresLockSql(), (self.database, *scope), timeout)

    def ibis_backend(self, conn: Connection) -> Any:
        import ibis

        assert isinstance(conn, PostgresConnection)
        if type(conn.con).__module__.split(".")[0] == "psycopg":
            return ibis.postgres.from_connection(conn.con)  # one session for SQL and ibis
        return ibis.connect(self.uri)  # psycopg2 only: ibis needs psycopg 3 of its own

    # -- statements -----------------------------------------------------------------------------

    def point_view(self, view: exp.Table, target: exp.Table) -> list[exp.Expr]:
        select = exp.select("*").from_(target)
        return [
            exp.Drop(tables=[view], kind="VIEW", exists=True),
            exp.Create(this=view, kind="VIEW", expression=select),
        ]

    def commit_views(
        self,
        schema: str,
        changed: dict[str, exp.Table],
        removed: list[str],
        shown: dict[str, exp.Table],
    ) -> CommitPlan:
        plan = super().commit_views(schema, changed, removed, shown)
        wait = sqlglot.parse_one(f"SET LOCAL lock_timeout = '{COMMIT_LOCK_WAIT}'", read="postgres")
        return CommitPlan(in_transaction=[wait, *plan.in_transaction])

    def load_arrow(self, target: exp.Table, schema: pa.Schema, source: str) -> list[exp.Expr]:
        from ....loaders.postgres_types import column_type_names

        columns = [
            column_def(name, self.parse_type(kind)) for name, kind in column_type_names(schema)
        ]
        return self.create_table(target, columns)

    def table_properties(self, details: dict[str, Any]) -> list[exp.Expr]:
        return [exp.UnloggedProperty()] if details.get("unlogged") else []

    def unsupported_columns(self, schema: pa.Schema) -> list[tuple[str, str]]:
        from ....loaders.postgres_types import unsupported_columns

        return unsupported_columns(schema)

    def list_columns(self, schema: str, tables: Any) -> exp.Query:
        """From the catalogue with `format_type`: information_schema drops numeric precision
        and calls every array `ARRAY`."""
        names = ", ".join(_literal(t) for t in tables)
        return sqlglot.parse_one(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) "
            "FROM pg_catalog.pg_attribute AS a "
            "JOIN pg_catalog.pg_class AS c ON a.attrelid = c.oid "
            "JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid "
            f"WHERE n.nspname = {_literal(schema)} "
            f"AND c.relname IN ({names}) AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY c.relname, a.attnum",
            read="postgres",
        )  # type: ignore[return-value]

    def table_size(self, target: exp.Table) -> exp.Query:
        name = exp.Literal.string(target.sql("postgres", identify=True))  # coerced to regclass
        return exp.select(exp.func("pg_total_relation_size", name))

    def clock(self) -> exp.Query:
        return exp.select(exp.func("clock_timestamp"))

    def older_snapshots(self, since: dt.datetime) -> exp.Query:
        """Other sessions (not tabledag's) holding a snapshot since before `since`."""
        return sqlglot.parse_one(
            "SELECT pid FROM pg_catalog.pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_xmin IS NOT NULL "
            f"AND application_name <> {_literal(APPLICATION_NAME)} "
            f"AND xact_start < CAST({_literal(since.isoformat())} AS TIMESTAMPTZ)",
            read="postgres",
        )  # type: ignore[return-value]

    def is_lock_conflict(self, error: BaseException) -> bool:
        return _sqlstate(error) in ("55P03", "40P01")  # lock_not_available, deadlock_detected


class PostgresLockConnection:
    """A plain autocommit connection for advisory locks."""

    def __init__(self, uri: str) -> None:
        self.con = _statement_connection(uri)

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        return _rows(self.con, sql)

    @property
    def closed(self) -> bool:
        """Whether the connection is gone (the server released its advisory locks then)."""
        return bool(self.con.closed)

    def close(self) -> None:
        self.con.close()


def _sqlstate(error: BaseException | None) -> str | None:
    """The SQLSTATE of a psycopg / psycopg2 error, also when wrapped by tabledag."""
    while error is not None:
        code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if code:
            return str(code)
        error = error.__cause__
    return None


def _literal(value: str) -> str:
    return exp.Literal.string(value).sql("postgres")


def _has_adbc() -> bool:
    return importlib.util.find_spec("adbc_driver_postgresql") is not None
