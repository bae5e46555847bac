"""Microsoft SQL Server (T-SQL) over ODBC (pyodbc; arrow-odbc or `bcp` for bulk data).

- `SELECT ... INTO` instead of `CREATE TABLE AS`: a plain SELECT gets the INTO clause itself
  (so a CTE stays at the top and an ORDER BY stays legal); other queries are wrapped as
  `SELECT * INTO t FROM (...) AS q`; text sqlglot cannot parse is spliced in as it is.
- Views are re-pointed with `CREATE OR ALTER VIEW` inside the commit transaction (T-SQL DDL is
  transactional); one statement per call, so each `CREATE VIEW` is alone in its batch.
- Strings are `NVARCHAR(MAX)` and non-ASCII literals `N'...'` (a plain literal is converted to
  the database's code page). A bare `VARBINARY` would hold one byte: created tables get
  `VARBINARY(MAX)`. `(N)VARCHAR(MAX)` cannot be a key column, and `SELECT INTO` copies
  nullability, so a primary key or index first bounds its `MAX` columns (450 characters, 900
  bytes) and makes key columns `NOT NULL`, by a batch reading their types from `sys.columns`.
- Arrow loads go through a load view (`<table>__load`, columns `c0..cN`; see
  loaders/mssql_odbc.py). T-SQL lacks `CREATE SCHEMA IF NOT EXISTS` (sqlglot writes an
  `IF NOT EXISTS (...) EXEC(...)`) and `DROP SCHEMA ... CASCADE` (a schema must be empty).
- The URL's database is `{instance_id}` in the seed's example; `create_database_if_not_exists`
  creates it from `master`. Locks are session-owned `sp_getapplock` locks (locks/applock.py).
- Catalogue views are spelled in capitals (`INFORMATION_SCHEMA.TABLES`), which case-sensitive
  collations require.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import sqlglot
import sqlglot.dialects
from sqlglot import exp

from ....errors import StoreConnectionError
from ....loaders.mssql_odbc import odbc_settings, with_database
from ....util import mask_url
from .. import naming
from ..arrow_types import sql_type, unsupported_columns
from ..dialect import (
    Connection,
    Dialect,
    Verbatim,
    column_def,
    group_by_expressions,
    groups_by_position,
    ident,
    table,
    with_verbatim,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from ....loaders.mssql_odbc import OdbcSession
    from ....locks import Locks

_NVARCHAR_MAX = exp.DataType.build("NVARCHAR(MAX)", dialect="tsql")
_VARBINARY_MAX = exp.DataType.build("VARBINARY(MAX)", dialect="tsql")
_KEY_CHARS = 450
"""A bounded key column: 450 NVARCHAR characters are SQL Server's 900-byte key limit."""
_STARTS_WITH_CTE = re.compile(r"\s*with\b", re.IGNORECASE)
_BULK = ("arrow-odbc", "bcp", "pyodbc")
_FULL_TYPE = (
    "CASE WHEN DATA_TYPE IN ('decimal', 'numeric') THEN DATA_TYPE + '(' + "
    "CAST(NUMERIC_PRECISION AS VARCHAR(3)) + ', ' + CAST(NUMERIC_SCALE AS VARCHAR(3)) + ')' "
    "WHEN DATA_TYPE = 'float' AND NUMERIC_PRECISION = 53 THEN 'double precision' "
    "WHEN DATA_TYPE IN ('text', 'ntext', 'image', 'xml') THEN DATA_TYPE "
    "WHEN CHARACTER_MAXIMUM_LENGTH = -1 THEN DATA_TYPE + '(max)' "
    "WHEN CHARACTER_MAXIMUM_LENGTH IS NOT NULL THEN DATA_TYPE + '(' + "
    "CAST(CHARACTER_MAXIMUM_LENGTH AS VARCHAR(10)) + ')' ELSE DATA_TYPE END"
)


class _Generator(with_verbatim(sqlglot.dialects.TSQL).generator_class):  # type: ignore[misc]
    def select_sql(self, expression: exp.Select) -> str:
        if groups_by_position(expression):  # a tree from another dialect (`tabledag sql`)
            expression = group_by_expressions(expression.copy())  # type: ignore[assignment]
        text: str = super().select_sql(expression)
        return text

    def literal_sql(self, expression: exp.Literal) -> str:
        text: str = super().literal_sql(expression)
        return "N" + text if expression.is_string and not text.isascii() else text

    def national_sql(self, expression: exp.National, prefix: str = "N") -> str:
        text: str = super().literal_sql(exp.Literal.string(expression.name))
        return prefix + text


class _TSQL(with_verbatim(sqlglot.dialects.TSQL)):  # type: ignore[misc]
    Generator = _Generator


class MSSQL(Dialect):
    """Args (from the store's `args`):
    create_database_if_not_exists: create the URL's database (connecting to `master`).
    driver: bulk loads through "arrow-odbc", "bcp" or "pyodbc" (`fast_executemany`); default:
        arrow-odbc if installed, else bcp if on PATH, else pyodbc.
    lock_timeout: seconds to wait for another run's stage lock (default 600).
    """

    name = "mssql"
    sqlglot = _TSQL
    sqlalchemy = ("mssql", "tsql")
    max_identifier_bytes = 128
    extra = "mssql"
    drivers = ("pyodbc",)
    args = {"create_database_if_not_exists": bool, "driver": _BULK, "lock_timeout": float}
    materialization_keys = {"columnstore": bool}
    """`columnstore: true`: a clustered columnstore index once the rows are in (the table is
    stored by column, compressed: for tables that are scanned, not looked up)."""
    alter_type_using = False
    not_null_needs_type = True

    def __init__(self, url: str, **args: Any) -> None:
        super().__init__(url, **args)
        self.odbc, self.database, self.bcp_args = odbc_settings(url)

    # -- connections ----------------------------------------------------------------------------

    def _session(self, database: str | None = None, **options: Any) -> OdbcSession:
        self.require_driver()
        from ....loaders import mssql_odbc

        odbc = self.odbc if database is None else with_database(self.odbc, database)
        try:
            return mssql_odbc.OdbcSession(odbc, bcp=self.bcp_args, **options)
        except ImportError as error:
            raise StoreConnectionError(
                f"the ODBC driver manager for SQL Server is missing ({error}); install unixODBC "
                "and the Microsoft ODBC driver (see docs/odbc.md), then "
                "pip install 'tabledag[mssql]'"
            ) from error
        except Exception as error:
            raise StoreConnectionError(
                f"cannot connect to {mask_url(self.url)}: {mask_url(str(error).strip())} "
                "(see docs/odbc.md: is the driver in pyodbc.drivers()? use 127.0.0.1, "
                "encrypt=no or TrustServerCertificate=yes for a local server)"
            ) from error

    def connect(self) -> Connection:
        if self.args.get("create_database_if_not_exists"):
            self._create_database()
        from ....loaders.mssql_odbc import bcp_path, has_arrow_odbc

        bulk = self.args.get("driver") or (
            "arrow-odbc" if has_arrow_odbc() else "bcp" if bcp_path() else "pyodbc"
        )
        return MSSQLConnection(self._session(bulk=bulk))

    def create_database(self) -> list[exp.Expr]:
        """Run on `master`: T-SQL has no `CREATE DATABASE IF NOT EXISTS`."""
        name = exp.Literal.string(self.database).sql("tsql")
        return [Verbatim(this=f"IF DB_ID(N{name}) IS NULL CREATE DATABASE {_q(self.database)}")]

    def _create_database(self) -> None:
        session = self._session("master", bulk="pyodbc")
        try:
            for statement in self.create_database():
                session.execute(self.render(statement))
        except Exception as error:
            if not re.search(r"\(1801\)", str(error)):  # exists: another process was first
                raise StoreConnectionError(
                    f"cannot create database {self.database!r}: {mask_url(str(error))}"
                ) from error
        finally:
            session.close()
        self.args["create_database_if_not_exists"] = False

    def locks(self, scope: tuple[str, ...], timeout: float) -> Locks:
        from ....locks.applock import app_locks

        def connect() -> OdbcSession:
            if self.args.get("create_database_if_not_exists"):
                self._create_database()  # the lock connection is the first a run opens
            return self._session(bulk="pyodbc", setup=("SET NOCOUNT ON",))

        return app_locks(connect, (self.database, *scope), timeout)

    def ibis_backend(self, conn: Connection) -> Any:
        import ibis

        assert isinstance(conn, MSSQLConnection)
        return ibis.mssql.from_connection(conn.session.con)  # one session for SQL and ibis

    # -- statements -----------------------------------------------------------------------------

    def create_table(self, target: exp.Table, columns: Sequence[exp.ColumnDef]) -> list[exp.Expr]:
        return super().create_table(target, [_sized(c) for c in columns])

    def add_column(self, target: exp.Table, name: str, kind: exp.DataType) -> list[exp.Expr]:
        return super().add_column(target, name, _sized_type(kind))

    def create_table_as(self, target: exp.Table, query: exp.Query) -> list[exp.Expr]:
        """`SELECT ... INTO target`; see the module docstring."""
        if isinstance(query, Verbatim):
            try:
                parsed = sqlglot.parse_one(query.this, read=self.sqlglot)
            except sqlglot.errors.SqlglotError:
                parsed = None
            if not isinstance(parsed, exp.Query):
                return [_splice_into(target, query.this, self.render(ident("q")))]
            query = parsed
        if isinstance(query, exp.Select):
            select = query.copy()
        else:
            inner = query.copy()
            if not inner.args.get("limit") and not inner.args.get("offset"):
                inner.set("order", None)  # T-SQL refuses ORDER BY in a derived table
            select = exp.select("*").from_(inner.subquery(exp.TableAlias(this=ident("q"))))
        select.set("into", exp.Into(this=target))
        return [select]

    def load_arrow(self, target: exp.Table, schema: pa.Schema, source: str) -> list[exp.Expr]:
        """The table, then its load view: `[c0]..[cN]` over the table's columns."""
        columns = [column_def(f.name, sql_type(f.type)) for f in schema]
        view = table(target.db, load_view(target.name, self.max_identifier_bytes))
        select = exp.select(
            *(exp.alias_(exp.column(f.name, quoted=True), f"c{i}", quoted=True)
              for i, f in enumerate(schema))
        ).from_(target)  # fmt: skip
        create = exp.Create(this=view, kind="VIEW", expression=select, replace=True)
        return [*self.create_table(target, columns), create]

    def add_primary_key(self, target: exp.Table, columns: list[str]) -> list[exp.Expr]:
        return [self._bound_columns(target, columns, not_null=True),
                *super().add_primary_key(target, columns)]  # fmt: skip

    def create_index(
        self, target: exp.Table, index_name: str, columns: list[str]
    ) -> list[exp.Expr]:
        return [self._bound_columns(target, columns, not_null=False),
                *super().create_index(target, index_name, columns)]  # fmt: skip

    def _bound_columns(self, target: exp.Table, columns: list[str], *, not_null: bool) -> Verbatim:
        """A batch altering `columns` of `target` to bounded types (and NOT NULL for a key),
        their types read from `sys.columns`."""
        name = _lit(self.render(target))
        names = ", ".join("N" + exp.Literal.string(c).sql("tsql") for c in columns)
        max_n, max_b = str(_KEY_CHARS), str(2 * _KEY_CHARS)
        nullable = "N' NOT NULL'" if not_null else (
            "CASE WHEN c.is_nullable = 1 THEN N' NULL' ELSE N' NOT NULL' END"
        )  # fmt: skip
        only = "" if not_null else " AND c.max_length = -1"
        return Verbatim(
            this="DECLARE @sql NVARCHAR(MAX) = N''; "
            f"SELECT @sql = @sql + N'ALTER TABLE ' + N{name} + "
            "N' ALTER COLUMN ' + QUOTENAME(c.[name]) + N' ' + TYPE_NAME(c.user_type_id) + "
            "CASE WHEN TYPE_NAME(c.user_type_id) IN ('nvarchar', 'nchar') THEN N'(' + CASE WHEN "
            f"c.max_length = -1 THEN N'{max_n}' ELSE CAST(c.max_length / 2 AS NVARCHAR(10)) END "
            "+ N')' WHEN TYPE_NAME(c.user_type_id) IN ('varchar', 'char', 'varbinary', 'binary') "
            f"THEN N'(' + CASE WHEN c.max_length = -1 THEN N'{max_b}' ELSE CAST(c.max_length AS "
            "NVARCHAR(10)) END + N')' WHEN TYPE_NAME(c.user_type_id) IN ('decimal', 'numeric') "
            "THEN N'(' + CAST(c.precision AS NVARCHAR(10)) + N', ' + CAST(c.scale AS NVARCHAR(10)) "
            "+ N')' WHEN TYPE_NAME(c.user_type_id) IN ('datetime2', 'datetimeoffset', 'time') "
            "THEN N'(' + CAST(c.scale AS NVARCHAR(10)) + N')' ELSE N'' END + "
            f"{nullable} + N'; ' FROM sys.columns AS c WHERE c.object_id = OBJECT_ID(N{name}) "
            f"AND c.[name] IN ({names}){only}; EXEC sp_executesql @sql"
        )

    def empty_table_as(self, target: exp.Table, sql: str) -> list[exp.Expr]:
        """`SELECT * INTO target FROM (... WHERE 1 = 0)`; a CTE is parsed, as in
        `create_table_as`, so that it moves in front."""
        if not _STARTS_WITH_CTE.match(sql):
            return super().empty_table_as(target, sql)
        query = sqlglot.parse_one(sql, read=self.sqlglot)
        assert isinstance(query, exp.Query)
        empty = exp.select("*").from_(query.subquery(exp.TableAlias(this=ident("q"))))
        return self.create_table_as(target, empty.where("1 = 0"))

    def insert_from(self, target: exp.Table, sql: str) -> list[exp.Expr]:
        """A CTE is parsed: T-SQL wants it in front of the INSERT."""
        if not _STARTS_WITH_CTE.match(sql):
            return super().insert_from(target, sql)
        query = sqlglot.parse_one(sql, read=self.sqlglot)
        return [exp.Insert(this=target, expression=query)]

    def after_create(
        self, target: exp.Table, details: dict[str, Any], index_name: str
    ) -> list[exp.Expr]:
        """sqlglot parses `CREATE CLUSTERED COLUMNSTORE INDEX` but drops `COLUMNSTORE`, so it
        is a command here."""
        if not details.get("columnstore"):
            return []
        name, on = self.render(ident(index_name)), self.render(target)
        index = f"CLUSTERED COLUMNSTORE INDEX {name} ON {on}"
        return [exp.Command(this="CREATE", expression=index)]

    def list_tables(self, schema: str) -> exp.Query:
        return _capitals(super().list_tables(schema))

    def list_columns(self, schema: str, tables: Sequence[str]) -> exp.Query:
        """With sizes, precision and scale (`DATA_TYPE` alone says `numeric`, `nvarchar`); a
        T-SQL `float` (53 bits) as `double precision`, which ibis reads as float64."""
        query = super().list_columns(schema, tables)
        query.expressions[2].replace(sqlglot.parse_one(_FULL_TYPE, read="tsql"))
        return _capitals(query)

    def drop_schema(self, schema: str) -> list[exp.Expr]:
        """T-SQL has no CASCADE: the schema must be empty."""
        return [exp.Drop(tables=[exp.Table(this=ident(schema))], kind="SCHEMA", exists=True)]

    def unsupported_columns(self, schema: pa.Schema) -> list[tuple[str, str]]:
        """T-SQL has no arrays, structs or intervals, and decimals of at most 38 digits."""
        return unsupported_columns(schema, arrays=False)

    def is_lock_conflict(self, error: BaseException) -> bool:
        """Deadlock victim (1205) or lock request timeout (1222): the commit is retried."""
        return re.search(r"\((?:1205|1222)\)", str(error)) is not None


class MSSQLConnection(Connection):
    """The store's `Connection` over one `OdbcSession` (loaders/mssql_odbc.py)."""

    def __init__(self, session: OdbcSession) -> None:
        self.session = session
        self.con = session.con  # what ibis shares (see SQLSession.close)

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        return self.session.execute(sql)

    def begin(self) -> None:
        self.session.begin()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def load_arrow(
        self,
        statements: list[str],
        source: str,
        target: tuple[str, str],
        data: pa.Table,
        checkpoint: Callable[[str], None],
    ) -> None:
        view = (target[0], load_view(target[1], MSSQL.max_identifier_bytes))
        self.session.load(statements, view, data, checkpoint)

    def read_arrow(self, sql: str) -> pa.Table:
        return self.session.read_arrow(sql)

    def close(self) -> None:
        self.session.close()


def load_view(physical: str, max_bytes: int) -> str:
    """The name of the view a load of `physical` inserts through (unique per table, so
    workers loading at once never share one)."""
    return naming.fit_identifier(f"{physical}__load", max_bytes)


def _q(name: str) -> str:
    return "[" + name.replace("]", "]]") + "]"


def _lit(text: str) -> str:
    return exp.Literal.string(text).sql("tsql")


def _splice_into(target: exp.Table, sql: str, alias: str) -> exp.Expr:
    """`SELECT * INTO target FROM (sql) AS q` with `sql` as it is (ending a trailing comment)."""
    body = sql.strip().rstrip(";").rstrip()
    end = "\n" if "--" in body.rsplit("\n", 1)[-1] else ""
    select = exp.select("*")
    select.set("from_", exp.From(this=Verbatim(this=f"({body}{end}) AS {alias}")))
    select.set("into", exp.Into(this=target))
    return select


def _sized(column: exp.ColumnDef) -> exp.ColumnDef:
    kind = column.args.get("kind")
    if kind is None:
        return column
    column = column.copy()
    column.set("kind", _sized_type(kind))
    return column


def _sized_type(kind: exp.DataType) -> exp.DataType:
    """TEXT and unsized (N)VARCHAR as `NVARCHAR(MAX)`, unsized VARBINARY as `VARBINARY(MAX)`."""
    text = (exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR, exp.DataType.Type.NVARCHAR)
    if kind.this in text and not kind.expressions:
        return _NVARCHAR_MAX.copy()
    if kind.is_type("varbinary") and not kind.expressions:
        return _VARBINARY_MAX.copy()
    return kind


def _capitals(query: exp.Query) -> exp.Query:
    """`query` with its unquoted (catalogue) names in capitals."""

    def upper(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Identifier) and not node.quoted:
            return exp.to_identifier(node.name.upper())
        return node

    return query.transform(upper)  # type: ignore[return-value]
