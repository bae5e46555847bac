"""Golden SQL of the DuckDB dialect's statement builders, each proven to run on DuckDB."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest
from sqlglot import exp

from tabledag.stores.sql.dialect import table
from tabledag.stores.sql.dialects.duckdb import DuckDB

DATA = table("raw__data", "orders__0123456789abcdef")
SOURCE = table("raw__data", "src__fedcba9876543210")
VIEW = table("raw", "orders")
QUERY = exp.select("*").from_(SOURCE).where("id > 1")


@pytest.fixture
def dialect() -> DuckDB:
    return DuckDB("duckdb:///:memory:")


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(":memory:")
    yield con
    con.close()


def render(dialect: DuckDB, statements: list[exp.Expression]) -> list[str]:
    return [dialect.render(s) for s in statements]


def run(con: duckdb.DuckDBPyConnection, sqls: list[str]) -> None:
    for sql in sqls:
        con.execute(sql)


def test_create_schema(dialect: DuckDB, con: duckdb.DuckDBPyConnection) -> None:
    sqls = render(dialect, dialect.create_schema("raw__data"))
    assert sqls == ['CREATE SCHEMA IF NOT EXISTS "raw__data"']
    run(con, sqls)
    run(con, sqls)  # idempotent
    schemas = con.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()
    assert ("raw__data",) in schemas


def test_create_table_as(dialect: DuckDB, con: duckdb.DuckDBPyConnection) -> None:
    sqls = render(dialect, dialect.create_table_as(DATA, QUERY))
    assert sqls == [
        'CREATE TABLE "raw__data"."orders__0123456789abcdef" AS '
        'SELECT * FROM "raw__data"."src__fedcba9876543210" WHERE id > 1'
    ]
    con.execute('CREATE SCHEMA "raw__data"')
    con.execute(
        'CREATE TABLE "raw__data"."src__fedcba9876543210" AS SELECT range AS id FROM range(4)'
    )
    run(con, sqls)
    rows = con.execute('SELECT id FROM "raw__data"."orders__0123456789abcdef" ORDER BY id')
    assert rows.fetchall() == [(2,), (3,)]


def test_point_view(dialect: DuckDB, con: duckdb.DuckDBPyConnection) -> None:
    sqls = render(dialect, dialect.point_view(VIEW, DATA))
    assert sqls == [
        'CREATE OR REPLACE VIEW "raw"."orders" AS '
        'SELECT * FROM "raw__data"."orders__0123456789abcdef"'
    ]
    con.execute('CREATE SCHEMA "raw"')
    con.execute('CREATE SCHEMA "raw__data"')
    con.execute('CREATE TABLE "raw__data"."orders__0123456789abcdef" AS SELECT 1 AS a')
    run(con, sqls)
    assert con.execute('SELECT * FROM "raw"."orders"').fetchall() == [(1,)]
    # Re-pointing onto a table with other columns replaces the view in place.
    other = table("raw__data", "orders__1111111111111111")
    con.execute('CREATE TABLE "raw__data"."orders__1111111111111111" AS SELECT 2 AS a, 3 AS b')
    run(con, render(dialect, dialect.point_view(VIEW, other)))
    assert con.execute('SELECT * FROM "raw"."orders"').fetchall() == [(2, 3)]


def test_drop_table(dialect: DuckDB, con: duckdb.DuckDBPyConnection) -> None:
    sqls = render(dialect, dialect.drop_table(DATA))
    assert sqls == ['DROP TABLE IF EXISTS "raw__data"."orders__0123456789abcdef"']
    con.execute('CREATE SCHEMA "raw__data"')
    con.execute('CREATE TABLE "raw__data"."orders__0123456789abcdef" AS SELECT 1 AS a')
    run(con, sqls)
    run(con, sqls)  # a missing table is fine
    count = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw__data'"
    ).fetchone()
    assert count == (0,)


def test_drop_view(dialect: DuckDB, con: duckdb.DuckDBPyConnection) -> None:
    sqls = render(dialect, dialect.drop_view(VIEW))
    assert sqls == ['DROP VIEW IF EXISTS "raw"."orders"']
    con.execute('CREATE SCHEMA "raw"')
    con.execute('CREATE VIEW "raw"."orders" AS SELECT 1 AS a')
    run(con, sqls)
    run(con, sqls)


def test_constraints_and_listing(dialect: DuckDB, con: duckdb.DuckDBPyConnection) -> None:
    pk = render(dialect, dialect.add_primary_key(DATA, ["id"]))
    index = render(dialect, dialect.create_index(DATA, "orders_idx0", ["id", "Name"]))
    listing = dialect.render(dialect.list_tables("raw__data"))
    assert pk == ['ALTER TABLE "raw__data"."orders__0123456789abcdef" ADD PRIMARY KEY ("id")']
    assert index == [
        'CREATE INDEX "orders_idx0" ON "raw__data"."orders__0123456789abcdef"("id", "Name")'
    ]
    assert listing == "SELECT table_name FROM DUCKDB_TABLES() WHERE schema_name = 'raw__data'"
    con.execute('CREATE SCHEMA "raw__data"')
    con.execute(
        'CREATE TABLE "raw__data"."orders__0123456789abcdef" AS SELECT 1 AS id, \'x\' AS "Name"'
    )
    run(con, pk + index)
    assert con.execute(listing).fetchall() == [("orders__0123456789abcdef",)]


def test_identifiers_are_quoted(dialect: DuckDB, con: duckdb.DuckDBPyConnection) -> None:
    odd = table('we"ird schema', "Größe Table")
    sqls = render(dialect, dialect.create_schema('we"ird schema'))
    sqls += render(dialect, dialect.create_table_as(odd, exp.select("1 AS a")))
    sqls += render(dialect, dialect.drop_table(odd))
    assert sqls == [
        'CREATE SCHEMA IF NOT EXISTS "we""ird schema"',
        'CREATE TABLE "we""ird schema"."Größe Table" AS SELECT 1 AS a',
        'DROP TABLE IF EXISTS "we""ird schema"."Größe Table"',
    ]
    run(con, sqls)


def test_database_path_from_url() -> None:
    assert DuckDB("duckdb:///:memory:").database == ":memory:"
    assert DuckDB("duckdb:///rel/db.duckdb").database == "rel/db.duckdb"
    assert DuckDB("duckdb:////abs/db.duckdb").database == "/abs/db.duckdb"
    assert DuckDB("duckdb:///x.duckdb?threads=1").database == "x.duckdb"
    assert DuckDB("duckdb://").database == ":memory:"
