"""Microsoft SQL Server (T-SQL): `SELECT ... INTO` instead of `CREATE TABLE AS`, `CREATE OR ALTER
VIEW` to re-point views (transactional, like all T-SQL DDL), one statement per call (`CREATE
VIEW` must be alone in its batch). sqlglot spells what T-SQL lacks: `CREATE SCHEMA IF NOT EXISTS`
becomes `IF NOT EXISTS (...) EXEC('CREATE SCHEMA ...')`, `TEXT` is `VARCHAR(MAX)`. A bare
`VARBINARY` column would hold one byte, so created tables get `VARBINARY(MAX)`. Catalogue views
are spelled in capitals (`INFORMATION_SCHEMA.TABLES`), which case-sensitive collations require.

Golden SQL only so far: connecting (pyodbc, bcp / arrow-odbc loads) comes with the SQL Server
store issue.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlglot
import sqlglot.dialects
from sqlglot import exp

from ..arrow_types import unsupported_columns
from ..dialect import Dialect, Verbatim, ident, with_verbatim

if TYPE_CHECKING:
    import pyarrow as pa

_STARTS_WITH_CTE = re.compile(r"\s*with\b", re.IGNORECASE)
_VARBINARY_MAX = exp.DataType.build("VARBINARY(MAX)", dialect="tsql")


class MSSQL(Dialect):
    name = "mssql"
    sqlglot = with_verbatim(sqlglot.dialects.TSQL)
    sqlalchemy = ("mssql", "tsql")
    max_identifier_bytes = 128
    extra = "mssql"
    drivers = ("pyodbc",)
    args = {"driver": str}
    materialization_keys = {"columnstore": bool}
    """`columnstore: true`: a clustered columnstore index once the rows are in (the table is
    stored by column, compressed: for tables that are scanned, not looked up)."""
    alter_type_using = False
    not_null_needs_type = True

    def create_table(self, target: exp.Table, columns: Sequence[exp.ColumnDef]) -> list[exp.Expr]:
        sized = []
        for column in columns:
            kind = column.args.get("kind")
            if kind is not None and kind.is_type("varbinary") and not kind.expressions:
                column = column.copy()
                column.set("kind", _VARBINARY_MAX.copy())
            sized.append(column)
        return super().create_table(target, sized)

    def create_table_as(self, target: exp.Table, query: exp.Query) -> list[exp.Expr]:
        """`SELECT * INTO target FROM (query) AS q`. SQL text (`Verbatim`) is spliced into the
        parentheses as it is, unless it starts with a CTE, which T-SQL allows only at the top
        of a statement: such text is parsed, so that the CTE moves in front of the SELECT."""
        if isinstance(query, Verbatim) and _STARTS_WITH_CTE.match(query.this):
            query = sqlglot.parse_one(query.this, read=self.sqlglot)  # type: ignore[assignment]
        select = exp.select("*")
        if isinstance(query, Verbatim):
            body = query.this.strip().rstrip(";").rstrip()
            end = "\n" if "--" in body.rsplit("\n", 1)[-1] else ""  # a comment ends at newline
            alias = self.render(ident("q"))
            select.set("from_", exp.From(this=Verbatim(this=f"({body}{end}) AS {alias}")))
        else:
            select = select.from_(query.subquery(exp.TableAlias(this=ident("q"))))
        select.set("into", exp.Into(this=target))
        return [select]

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
        return _capitals(super().list_columns(schema, tables))

    def drop_schema(self, schema: str) -> list[exp.Expr]:
        """T-SQL has no CASCADE: the schema must be empty."""
        return [exp.Drop(tables=[exp.Table(this=ident(schema))], kind="SCHEMA", exists=True)]

    def unsupported_columns(self, schema: pa.Schema) -> list[tuple[str, str]]:
        """T-SQL has no arrays, structs or intervals, and decimals of at most 38 digits."""
        return unsupported_columns(schema, arrays=False)


def _capitals(query: exp.Query) -> exp.Query:
    """`query` with its unquoted (catalogue) names in capitals."""

    def upper(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Identifier) and not node.quoted:
            return exp.to_identifier(node.name.upper())
        return node

    return query.transform(upper)  # type: ignore[return-value]
