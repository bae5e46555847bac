"""Snowflake through snowflake-connector-python (the `[snowflake]` extra).

URL: `snowflake://user:password@account/database?warehouse=...&role=...` (the seed's form);
every other query parameter is passed to `snowflake.connector.connect` as is (`host`, `port`,
`protocol`, `authenticator`, `private_key_file`, ...). Args: `create_database_if_not_exists`,
and `commit` (see below).

- Names fold to upper case the way unquoted Snowflake names do (`snowflake.names`): the
  renderer writes every lower-case quoted name upper case, catalogue queries compare folded
  names and report them unfolded, and result columns read back lower case.
- A commit cannot be one transaction (each DDL statement commits on its own). With
  `commit: schema_swap` (default) the new generation's views are built in `<schema>__next`,
  `ALTER SCHEMA <schema>__next SWAP WITH <schema>` exchanges the two schemas in one atomic step
  (it needs OWNERSHIP of both), then the metadata commits. `commit: replace_views` re-points
  each changed view with `CREATE OR REPLACE VIEW` before the metadata commit: each view moves
  atomically, the stage as a whole does not (a reader may see a mix of generations for a
  moment); it serves where SWAP is unavailable (fakesnow lacks it).
- Locks: Snowflake has no advisory or session locks, and no enforced unique constraint to
  build a lock table on, so the dialect takes none (`NoLocks`): one run per instance at a
  time is the caller's rule (a scheduler running flows one after another). Two runs at once
  could drop each other's unreferenced tables during cleanup.
- Loads: parquet `PUT` + `COPY INTO` (see `snowflake.connection`). Reads: Arrow batches.
- A bare `TIMESTAMP` means whatever the account's `TIMESTAMP_TYPE_MAPPING` says, so created
  tables spell naive timestamps `TIMESTAMPNTZ` (a synonym of `TIMESTAMP_NTZ`).
- Standard tables have no secondary indexes (only hybrid tables do): `create_index` is a no-op.
- Arrays and structs are refused in frames: Snowflake returns ARRAY/OBJECT values as JSON text,
  so they would not read back as they were written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

import sqlglot
import sqlglot.dialects
from sqlglot import exp

from .....errors import ConfigError, StoreConnectionError
from .....util import mask_url
from ... import naming
from ...arrow_types import unsupported_columns
from ...dialect import CommitPlan, Connection, Dialect, ident, table, with_verbatim
from .names import UPPER_PATTERN, fold

if TYPE_CHECKING:
    import pyarrow as pa

    from .....locks import Locks


def _folding(base: type[sqlglot.Dialect]) -> type[sqlglot.Dialect]:
    """`base` whose renderer writes quoted names as Snowflake folds them (`snowflake.names`)."""
    generator_class = base.generator_class

    def identifier_sql(self: Any, expression: exp.Identifier) -> str:
        if expression.quoted:
            folded = fold(expression.name)
            if folded != expression.name:
                expression = exp.Identifier(this=folded, quoted=True)
        return str(generator_class.identifier_sql(self, expression))

    generator = type("Generator", (generator_class,), {"identifier_sql": identifier_sql})
    return type(base.__name__, (base,), {"Generator": generator})


class Snowflake(Dialect):
    name = "snowflake"
    sqlglot = _folding(with_verbatim(sqlglot.dialects.Snowflake))
    max_identifier_bytes = 255
    transactional_ddl = False
    extra = "snowflake"
    drivers = ("snowflake.connector",)
    args = {
        "create_database_if_not_exists": bool,
        "commit": ("schema_swap", "replace_views"),
    }
    materialization_keys = {"transient": bool}
    """`transient: true`: `CREATE TRANSIENT TABLE` (no fail-safe period: cheaper storage)."""
    alter_type_using = False

    def __init__(self, url: str, **args: Any) -> None:
        super().__init__(url, **args)
        self.connect_kwargs, self.database = _parse_url(url)

    # -- connections ----------------------------------------------------------------------------

    def connect(self) -> Connection:
        self.require_driver()
        from .connection import SnowflakeConnection
        from .connection import connect as open_connection

        where = mask_url(self.url)
        try:
            con = open_connection(self.connect_kwargs)
        except Exception as error:  # the connector raises its own types; say where we tried
            raise StoreConnectionError(
                f"cannot connect to {where}: {mask_url(str(error).strip())}"
            ) from error
        connection = SnowflakeConnection(con, lambda name: self.render(ident(name)))
        database = self.render(ident(self.database))
        try:
            if self.args.get("create_database_if_not_exists"):
                connection.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
            connection.execute(f"USE DATABASE {database}")
        except Exception as error:
            connection.close()
            hint = (
                ""
                if self.args.get("create_database_if_not_exists")
                else ("; create it, or set the store argument create_database_if_not_exists: true")
            )
            raise StoreConnectionError(
                f"cannot use database {self.database!r} at {where}: "
                f"{mask_url(str(error).strip())}{hint}"
            ) from error
        return connection

    def locks(self, scope: tuple[str, ...], timeout: float) -> Locks:
        """None: see the module docstring (one run per instance at a time)."""
        from .....locks import NoLocks

        return NoLocks()

    def ibis_backend(self, conn: Connection) -> Any:
        import ibis

        from .connection import SnowflakeConnection

        assert isinstance(conn, SnowflakeConnection)
        return ibis.snowflake.from_connection(conn.con, create_object_udfs=False)

    # -- statements -----------------------------------------------------------------------------

    def create_table(self, target: exp.Table, columns: Sequence[exp.ColumnDef]) -> list[exp.Expr]:
        return super().create_table(target, [_naive_timestamps(c) for c in columns])

    def add_column(self, target: exp.Table, name: str, kind: exp.DataType) -> list[exp.Expr]:
        return super().add_column(target, name, _ntz(kind))

    def table_properties(self, details: dict[str, Any]) -> list[exp.Expr]:
        return [exp.TransientProperty()] if details.get("transient") else []

    def create_index(
        self, target: exp.Table, index_name: str, columns: list[str]
    ) -> list[exp.Expr]:
        return []

    def unsupported_columns(self, schema: pa.Schema) -> list[tuple[str, str]]:
        """No interval type, decimals of at most 38 digits, arrays and structs as JSON text."""
        return unsupported_columns(schema, arrays=False)

    def commit_views(
        self,
        schema: str,
        changed: dict[str, exp.Table],
        removed: list[str],
        shown: dict[str, exp.Table],
    ) -> CommitPlan:
        """schema_swap: every view of the new generation goes into `<schema>__next`, which then
        swaps places with the stage schema; the old views leave with the swapped-out schema.
        replace_views: changed views are re-pointed, removed ones dropped.

        Both move the views before the metadata commits: the session skips a commit whose
        records are unchanged, so views left behind a committed record (a crash between the
        two) would never move again. This order's crash leaves views over tables the records
        do not name yet: the next run writes them again (same keys) and commits."""
        if self.args.get("commit") == "replace_views":
            plan = super().commit_views(schema, changed, removed, shown)
            return CommitPlan(prepare=plan.in_transaction)
        staging = naming.fit_identifier(f"{schema}__next", self.max_identifier_bytes)
        prepare = [*self.drop_schema(staging), *self.create_schema(staging)]
        for name, target in sorted(shown.items()):
            prepare += self.point_view(table(staging, name), target)
        new, old = self.render(ident(staging)), self.render(ident(schema))
        swap = exp.Command(this="ALTER", expression=f"SCHEMA {new} SWAP WITH {old}")
        return CommitPlan(prepare=[*prepare, swap, *self.drop_schema(staging)])

    # -- introspection: folded names in, unfolded names out --------------------------------------

    def list_tables(self, schema: str) -> exp.Query:
        return self._parse(
            f"SELECT {_unfolded('table_name')} FROM information_schema.tables "
            f"WHERE table_schema = {_literal(fold(schema))} AND table_type = 'BASE TABLE'"
        )

    def list_columns(self, schema: str, tables: Sequence[str]) -> exp.Query:
        names = ", ".join(_literal(fold(t)) for t in tables)
        return self._parse(
            f"SELECT {_unfolded('table_name')}, {_unfolded('column_name')}, data_type "
            f"FROM information_schema.columns WHERE table_schema = {_literal(fold(schema))} "
            f"AND table_name IN ({names}) ORDER BY table_name, ordinal_position"
        )

    def _parse(self, sql: str) -> exp.Query:
        tree = sqlglot.parse_one(sql, read=self.sqlglot)
        assert isinstance(tree, exp.Query)
        return tree


def _unfolded(column: str) -> str:
    """SQL for `names.unfold(column)`."""
    return f"IFF(REGEXP_LIKE({column}, '{UPPER_PATTERN}'), LOWER({column}), {column}) AS {column}"


def _literal(value: str) -> str:
    return exp.Literal.string(value).sql("snowflake")


_INTEGERS = {"port", "network_timeout", "login_timeout", "socket_timeout"}


def _parse_url(url: str) -> tuple[dict[str, Any], str]:
    """Connector arguments and the database name of a `snowflake://` URL.

    The user info is split at its last `@`, so a password substituted from `{$ENV}` may hold
    `@` or `:`; percent-escapes are decoded."""
    rest = url.split("://", 1)[1] if "://" in url else ""
    rest, _, query = rest.partition("?")
    userinfo, at, location = rest.rpartition("@")
    account, _, path = location.partition("/")
    database = unquote(path.split("/", 1)[0])
    if not at or not account or not database:
        raise ConfigError(
            f"the Snowflake URL {mask_url(url)!r} needs the form snowflake://user:password@"
            "account/database?warehouse=...&role=..."
        )
    user, _, password = userinfo.partition(":")
    kwargs: dict[str, Any] = {"user": unquote(user), "account": unquote(account)}
    if password:
        kwargs["password"] = unquote(password)
    for key, value in parse_qsl(query, keep_blank_values=True):
        kwargs[key] = int(value) if key in _INTEGERS and value.isdigit() else value
    return kwargs, database


def _naive_timestamps(column: exp.ColumnDef) -> exp.ColumnDef:
    kind = column.args.get("kind")
    if kind is None:
        return column
    column = column.copy()
    column.set("kind", _ntz(kind))
    return column


def _ntz(kind: exp.DataType) -> exp.DataType:
    """`kind` with every bare TIMESTAMP (also inside arrays and structs) made TIMESTAMP_NTZ."""
    return kind.transform(
        lambda node: (
            exp.DataType.build("TIMESTAMPNTZ")
            if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.TIMESTAMP
            else node
        )
    )
