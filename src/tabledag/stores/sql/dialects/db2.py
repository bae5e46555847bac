"""IBM Db2 for Linux, UNIX and Windows (11.1 and later), through `ibm_db` (`[db2]` extra).

URL: `db2+ibm_db://db2inst1:password@localhost:50000/testdb` (or `db2://`, `ibm_db_sa://`);
query parameters pass on as CLI keywords (`?SECURITY=SSL`). With `schema_prefix:
"{instance_id}_"` instances share one database.

- SQL is rendered by tabledag's own sqlglot dialect (`db2_sqlglot.py`). SQLAlchemy queries
  are compiled as PostgreSQL and transpiled, so ibm-db-sa is not needed to run a flow.
- `CREATE TABLE ... AS (...)` needs `WITH NO DATA` in Db2, so a lazy output is that, then
  `INSERT INTO ... SELECT`. The copy that defines the columns has its CTEs inlined as derived
  tables (CREATE TABLE takes a fullselect, which has no WITH); the INSERT keeps them.
- DDL is transactional: a stage commit re-points its views (`CREATE OR REPLACE VIEW`) and
  writes the metadata in one transaction.
- Db2 has neither `CREATE SCHEMA IF NOT EXISTS` nor (before 11.5 with Netezza compatibility)
  `DROP ... IF EXISTS`. Statements are sent plain and the connection treats "already exists"
  (SQLSTATE 42710) of a CREATE SCHEMA and "does not exist" (42704) of a DROP as done: one
  round trip, and no race between a check and the statement.
- `DROP SCHEMA` needs an empty schema (`RESTRICT`); the store never drops schemas on a run
  (`SYSPROC.ADMIN_DROP_SCHEMA` needs the SYSTOOLSPACE table space and an error table), tests
  drop the objects first.
- A primary key needs NOT NULL columns, and `SET NOT NULL` leaves the table pending a REORG,
  so a primary key is SET NOT NULL, `REORG TABLE` (through `SYSPROC.ADMIN_CMD`), ADD.
- Text columns are `VARCHAR(32672)` (CLOB cannot be compared or grouped), so a table with
  several needs extended row size (`EXTENDED_ROW_SZ`, on by default for databases created
  by Db2 10.5 and later); a value longer than 32672 bytes is refused by Db2.
- Indexes go to the connecting user's schema (Db2 qualifies index names separately);
  their names carry the physical table's, so they stay unique.
- Catalogue: `SYSCAT.TABLES` / `SYSCAT.COLUMNS`; quoted names are stored as written, so the
  lower-case names tabledag quotes are compared as they are.
- Locks: `NoLocks`, and the rule that one run of an instance (schema prefix) runs at a time.
  Db2 has no session-level advisory locks: `LOCK TABLE ... IN EXCLUSIVE MODE` lasts until its
  transaction ends, so a run-long lease would keep a transaction open for hours on a connection
  of its own, pinning the active log (SQL0964C, log full) - and, with no Db2 server to test a
  lock table against, it would be untested. Schedule one run per instance (one CI job, one
  cron entry); different instance ids (prefixes) run side by side.
- Arrow data is loaded by batched `executemany` (CLI array inserts) in one transaction and
  read through the DB-API cursor in batches (Db2's CLI has no Arrow path). Zoned timestamps
  are stored as UTC (Db2 LUW has no zoned type).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

import sqlglot
from sqlglot import exp

from ....errors import StoreConnectionError, StoreError
from ....util import mask_url
from ..arrow_types import unsupported_columns
from ..dialect import Connection, Dialect, Verbatim, ident, with_verbatim
from .db2_sqlglot import DB2 as DB2Sqlglot

if TYPE_CHECKING:
    import pyarrow as pa

    from ....locks import Locks

_SQLSTATE = re.compile(r"SQLSTATE=(\w{5})")
_BENIGN = (("CREATE SCHEMA", "42710"), ("DROP ", "42704"))
"""(statement start, SQLSTATE): errors that mean the statement's aim holds already."""
_STARTS_WITH_CTE = re.compile(r"\s*with\b", re.IGNORECASE)
_TYPE = (
    "CASE WHEN TYPENAME IN ('VARCHAR', 'CHARACTER', 'VARBINARY', 'BINARY', 'CLOB', 'BLOB', "
    "'GRAPHIC', 'VARGRAPHIC') THEN TRIM(TYPENAME) || '(' || CAST(LENGTH AS VARCHAR(11)) || ')' "
    "WHEN TYPENAME = 'DECIMAL' THEN 'DECIMAL(' || CAST(LENGTH AS VARCHAR(11)) || ', ' || "
    "CAST(SCALE AS VARCHAR(11)) || ')' ELSE TYPENAME END"
)


class DB2Connection(Connection):
    """An `ibm_db_dbi` connection in autocommit mode; `begin()` switches autocommit off until
    the commit (Db2 has no BEGIN statement)."""

    def __init__(self, dsn: str) -> None:
        import ibm_db_dbi

        self.con = ibm_db_dbi.connect(dsn, "", "")
        self.con.set_autocommit(True)

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        cursor = self.con.cursor()
        try:
            cursor.execute(sql)
            return [tuple(r) for r in cursor.fetchall()] if cursor.description else []
        except Exception as error:
            if any(sql.startswith(s) and sqlstate(error) == c for s, c in _BENIGN):
                return []
            raise
        finally:
            cursor.close()

    def begin(self) -> None:
        self.con.set_autocommit(False)

    def commit(self) -> None:
        self.con.commit()
        self.con.set_autocommit(True)

    def rollback(self) -> None:
        self.con.rollback()
        self.con.set_autocommit(True)

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
        from ....loaders import dbapi

        insert = insert_sql(target, data.column_names)
        self.begin()
        try:
            cursor = self.con.cursor()
            try:
                for batch in dbapi.parameter_rows(data):
                    cursor.executemany(insert, batch)
            finally:
                cursor.close()
        except BaseException:
            self.rollback()
            raise
        self.commit()
        checkpoint(f"INSERT {len(data)} rows")

    def read_arrow(self, sql: str) -> pa.Table:
        from ....loaders import dbapi

        cursor = self.con.cursor()
        try:
            return dbapi.read(cursor, sql)
        finally:
            cursor.close()

    def close(self) -> None:
        self.con.close()


def insert_sql(target: tuple[str, str], columns: Sequence[str]) -> str:
    """`INSERT INTO "schema"."table" ("a", ...) VALUES (?, ...)` for `executemany`."""
    render = DB2.sqlglot
    names = ", ".join(ident(c).sql(render) for c in columns)
    into = exp.Table(this=ident(target[1]), db=ident(target[0])).sql(render)
    return f"INSERT INTO {into} ({names}) VALUES ({', '.join('?' * len(columns))})"


def sqlstate(error: BaseException | None) -> str | None:
    """The SQLSTATE in an ibm_db error message, also when wrapped by tabledag."""
    while error is not None:
        found = _SQLSTATE.search(str(error))
        if found:
            return found.group(1)
        error = error.__cause__
    return None


def dsn(url: str) -> str:
    """A CLI connection string for a `db2+ibm_db://user:password@host:port/database` URL."""
    parts = urlsplit("db2://" + url.split("://", 1)[-1])  # `ibm_db_sa` is no valid scheme
    keywords = {
        "DATABASE": unquote(parts.path.lstrip("/")),
        "HOSTNAME": parts.hostname or "localhost",
        "PORT": str(parts.port or 50000),
        "PROTOCOL": "TCPIP",
        "UID": unquote(parts.username or ""),
        "PWD": unquote(parts.password or ""),
    }
    keywords.update((k.upper(), v) for k, v in parse_qsl(parts.query))
    return "".join(f"{k}={v};" for k, v in keywords.items() if v)


class DB2(Dialect):
    """Args (from the store's `args`):
    lock_timeout: seconds a stage commit retries after losing a lock wait (default 600).
    """

    name = "db2"
    sqlglot = with_verbatim(DB2Sqlglot)
    alter_type_using = False  # Db2 has SET DATA TYPE, without USING
    sqlalchemy = ("postgresql", "postgres")
    max_identifier_bytes = 128
    extra = "db2"
    drivers = ("ibm_db",)
    args = {"lock_timeout": float}

    def connect(self) -> Connection:
        self.require_driver()
        try:
            return DB2Connection(dsn(self.url))
        except Exception as error:  # ibm_db raises its own types; say where we tried
            raise StoreConnectionError(
                f"cannot connect to {mask_url(self.url)}: {_masked(error, self.url)}"
            ) from error

    def locks(self, scope: tuple[str, ...], timeout: float) -> Locks:
        from ....locks import NoLocks

        return NoLocks()  # one run per instance: see the module docstring

    def ibis_backend(self, conn: Connection) -> Any:
        raise StoreError(
            "ibis has no Db2 backend: on a Db2 store, return SQL text, a sqlglot or SQLAlchemy "
            "query or a frame, and ask for inputs as one of those (not ibis.Table)"
        )

    # -- statements -----------------------------------------------------------------------------

    def create_schema(self, schema: str) -> list[exp.Expr]:
        return [exp.Create(this=exp.Table(db=ident(schema)), kind="SCHEMA")]

    def create_table_as(self, target: exp.Table, query: exp.Query) -> list[exp.Expr]:
        if isinstance(query, Verbatim) and _STARTS_WITH_CTE.match(query.this):
            query = sqlglot.parse_one(query.this, read=self.sqlglot)  # type: ignore[assignment]
        shape: exp.Expr
        if isinstance(query, Verbatim):
            body = query.this.strip().rstrip(";").rstrip()
            end = "\n" if "--" in body.rsplit("\n", 1)[-1] else ""  # a comment ends at newline
            shape = query = Verbatim(this=f"{body}{end}")
        else:
            shape = without_ctes(query)
        properties = exp.Properties(expressions=[exp.WithDataProperty(no=True)])
        create = exp.Create(
            this=target, kind="TABLE", expression=exp.Subquery(this=shape), properties=properties
        )
        return [create, exp.Insert(this=target.copy(), expression=query)]

    def unsupported_columns(self, schema: pa.Schema) -> list[tuple[str, str]]:
        """Db2 has no arrays, structs or intervals in tables, and decimals of at most 31
        digits."""
        return unsupported_columns(schema, arrays=False, max_decimal_digits=31)

    def drop_table(self, target: exp.Table) -> list[exp.Expr]:
        return [exp.Drop(tables=[target], kind="TABLE")]

    def drop_view(self, target: exp.Table) -> list[exp.Expr]:
        return [exp.Drop(tables=[target], kind="VIEW")]

    def drop_schema(self, schema: str) -> list[exp.Expr]:
        """Only an empty schema: Db2 has no CASCADE (see the module docstring)."""
        return [exp.Drop(tables=[exp.Table(this=ident(schema))], kind="SCHEMA", restrict=True)]

    def add_primary_key(self, target: exp.Table, columns: list[str]) -> list[exp.Expr]:
        not_null = exp.Alter(
            this=target,
            kind="TABLE",
            actions=[exp.AlterColumn(this=ident(c), allow_null=False) for c in columns],
        )
        return [not_null, self._reorg(target), *super().add_primary_key(target, columns)]

    def empty_table_as(self, target: exp.Table, sql: str) -> list[exp.Expr]:
        """`CREATE TABLE ... AS (sql) WITH NO DATA` is already empty (table options)."""
        return self.create_table_as(target, Verbatim(this=sql))[:1]

    def set_not_null(
        self, target: exp.Table, column: str, kind: exp.DataType | None
    ) -> list[exp.Expr]:
        """SET NOT NULL leaves the table pending a REORG before it takes rows."""
        return [*super().set_not_null(target, column, kind), self._reorg(target)]

    def _reorg(self, target: exp.Table) -> exp.Expr:
        reorg = f"REORG TABLE {self.render(target)}"
        return exp.Command(
            this="CALL", expression=f"SYSPROC.ADMIN_CMD({exp.Literal.string(reorg).sql()})"
        )

    def render(self, expression: exp.Expr) -> str:
        return super().render(_keep_case(expression, copy=True))

    def render_owned(self, expression: exp.Expr) -> str:
        return super().render_owned(_keep_case(expression, copy=False))

    def renderer(self) -> Callable[[exp.Expr], str]:
        render = super().renderer()
        return lambda expression: render(_keep_case(expression, copy=False))

    # -- introspection --------------------------------------------------------------------------

    def list_tables(self, schema: str) -> exp.Query:
        return _parse(
            f"SELECT TABNAME FROM SYSCAT.TABLES WHERE TABSCHEMA = {_literal(schema)} AND TYPE = 'T'"
        )

    def list_columns(self, schema: str, tables: Sequence[str]) -> exp.Query:
        names = ", ".join(map(_literal, tables))
        return _parse(
            f"SELECT TABNAME, COLNAME, {_TYPE} FROM SYSCAT.COLUMNS "
            f"WHERE TABSCHEMA = {_literal(schema)} AND TABNAME IN ({names}) "
            "ORDER BY TABNAME, COLNO"
        )

    def is_lock_conflict(self, error: BaseException) -> bool:
        return sqlstate(error) in ("40001", "57033")  # deadlock or lock timeout


def without_ctes(query: exp.Query) -> exp.Query:
    """`query` with each (non-recursive) CTE inlined as a derived table where it is used."""
    with_ = query.args.get("with_")
    if not with_ or with_.args.get("recursive"):
        return query
    query = query.copy()
    query.set("with_", None)
    ctes: dict[str, exp.CTE] = {}

    def inline(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table) and not node.db and node.name in ctes:
            cte = ctes[node.name]
            alias = exp.TableAlias(
                this=ident(node.alias_or_name), columns=[ident(c) for c in cte.alias_column_names]
            )
            return exp.Subquery(this=cte.this.copy(), alias=alias)
        return node

    for cte in with_.expressions:
        ctes[cte.alias] = exp.CTE(this=cte.this.transform(inline), alias=cte.args["alias"])
    return query.transform(inline)  # type: ignore[return-value]


def _parse(sql: str) -> exp.Query:
    return sqlglot.parse_one(sql, read=DB2.sqlglot)  # type: ignore[return-value]


def _literal(value: str) -> str:
    return exp.Literal.string(value).sql()


def _masked(error: BaseException, url: str) -> str:
    text = str(error).strip()
    password = urlsplit("db2://" + url.split("://", 1)[-1]).password
    if password:
        text = text.replace(unquote(password), "***")
    return mask_url(text)


def _keep_case(expression: exp.Expr, *, copy: bool) -> exp.Expr:
    """Trees reaching the store come from us (quoted), ibis or Postgres-flavoured SQL
    (SQLAlchemy's), where an unquoted lower-case name means itself: quoted, Db2 keeps it
    instead of folding it to upper case."""

    def quote(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Identifier) and not node.quoted and node.this != node.this.upper():
            return exp.Identifier(this=node.this, quoted=True)
        return node

    return expression.transform(quote, copy=copy)
