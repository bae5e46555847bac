"""The ODBC session of the SQL Server store against a real ODBC driver: SQLite's (there is no
SQL Server here). Statements, transactions, loads through a load view with each bulk path
(arrow-odbc's `insert_into_table`, pyodbc's `executemany`) and Arrow reads (arrow-odbc and
the pyodbc fallback) all go through unixODBC as they do to SQL Server; only the SQL differs
(SQLite needs an INSTEAD OF trigger where a SQL Server view is insertable as it is).

Skipped without unixODBC and the SQLite3 ODBC driver (`apt-get install libsqliteodbc`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from tabledag.loaders import mssql_odbc


def _sqlite_odbc() -> str | None:
    try:
        import arrow_odbc  # noqa: F401
        import pyodbc
    except (ImportError, OSError) as error:
        return f"pyodbc / arrow-odbc cannot load ({error}); pip install 'tabledag[mssql]'"
    if "SQLite3" not in pyodbc.drivers():
        return "no SQLite3 ODBC driver registered (apt-get install libsqliteodbc)"
    return None


pytestmark = pytest.mark.skipif(_sqlite_odbc() is not None, reason=str(_sqlite_odbc()))

DATA = pa.table(
    {
        "id": pa.array([1, 2, 3], pa.int64()),
        "by": ["a", None, "größe"],  # a reserved word: the load view renames it c1
        "score": [0.5, None, -2.0],
        "day": [dt.date(2024, 1, 1), None, dt.date(2024, 12, 31)],
    }
)
SETUP = [
    'CREATE TABLE "t" ("id" INTEGER, "by" TEXT, "score" REAL, "day" DATE)',
    'CREATE VIEW "t__load" AS SELECT "id" AS c0, "by" AS c1, "score" AS c2, "day" AS c3 FROM "t"',
    'CREATE TRIGGER "t__load_insert" INSTEAD OF INSERT ON "t__load" BEGIN '
    'INSERT INTO "t" VALUES (NEW.c0, NEW.c1, NEW.c2, NEW.c3); END',
]


def session(path: Path, bulk: str) -> mssql_odbc.OdbcSession:
    """SQLite's driver crashes on parameter arrays, so the pyodbc path runs without
    `fast_executemany` here (it is on against SQL Server)."""
    return mssql_odbc.OdbcSession(
        f"Driver={{SQLite3}};Database={path}", bulk=bulk, setup=(), fast_executemany=False
    )


@pytest.mark.parametrize("bulk", ["arrow-odbc", "pyodbc"])
def test_load_through_the_load_view_and_read_back(tmp_path: Path, bulk: str) -> None:
    s = session(tmp_path / "db.sqlite", bulk)
    try:
        sent: list[str] = []
        s.load(SETUP, ("main", "t__load"), DATA, sent.append)
        assert sent[:3] == SETUP
        assert sent[3] == f"LOAD 3 rows via {bulk}"
        assert sent[4] == "DROP VIEW IF EXISTS [main].[t__load]"
        rows = s.execute('SELECT "id", "by", "score" FROM "t" ORDER BY "id"')
        assert rows == [(1, "a", 0.5), (2, None, None), (3, "größe", -2.0)]
        assert s.execute("SELECT name FROM sqlite_master WHERE type = 'view'") == []
        read = s.read_arrow('SELECT "id", "by" FROM "t" ORDER BY "id"')
        assert read.column_names == ["id", "by"]
        assert read.column("by").to_pylist() == ["a", None, "größe"]
    finally:
        s.close()


def test_a_rolled_back_transaction_leaves_nothing(tmp_path: Path) -> None:
    s = session(tmp_path / "db.sqlite", "pyodbc")
    try:
        s.execute('CREATE TABLE "k" ("v" INTEGER)')
        s.begin()
        s.execute('INSERT INTO "k" VALUES (1)')
        s.rollback()
        s.begin()
        s.execute('INSERT INTO "k" VALUES (2)')
        s.commit()
        assert s.execute('SELECT "v" FROM "k"') == [(2,)]
        assert s.con.autocommit  # back in autocommit after either
    finally:
        s.close()
    assert s.closed


def test_the_pyodbc_read_path_builds_the_same_arrow(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    plain, arrow = session(path, "pyodbc"), session(path, "arrow-odbc")
    try:
        plain.execute('CREATE TABLE "r" ("i" INTEGER, "x" TEXT)')
        plain.execute("INSERT INTO \"r\" VALUES (1, 'a'), (2, NULL)")
        query = 'SELECT "i", "x" FROM "r" ORDER BY "i"'
        expected = [{"i": 1, "x": "a"}, {"i": 2, "x": None}]
        assert plain.read_arrow(query).to_pylist() == arrow.read_arrow(query).to_pylist()
        assert plain.read_arrow(query).to_pylist() == expected
        assert arrow._bulk is not None and plain._bulk is None  # each read its own way
    finally:
        plain.close()
        arrow.close()
