"""Microsoft SQL Server (T-SQL): `SELECT ... INTO` instead of `CREATE TABLE AS`, `CREATE OR ALTER
VIEW` to re-point views (transactional, like all T-SQL DDL), one statement per call (`CREATE
VIEW` must be alone in its batch).

Golden SQL only so far: connecting (pyodbc, bcp / arrow-odbc loads) comes with the SQL Server
store issue.
"""

from __future__ import annotations

import sqlglot.dialects
from sqlglot import exp

from ..dialect import Dialect, ident, with_verbatim


class MSSQL(Dialect):
    name = "mssql"
    sqlglot = with_verbatim(sqlglot.dialects.TSQL)
    sqlalchemy = ("mssql", "tsql")
    max_identifier_bytes = 128
    extra = "mssql"
    drivers = ("pyodbc",)
    args = {"driver": str}

    def create_table_as(self, target: exp.Table, query: exp.Query) -> list[exp.Expression]:
        source = exp.Subquery(this=query, alias=exp.TableAlias(this=ident("q")))
        return [exp.select("*").into(target).from_(source)]
