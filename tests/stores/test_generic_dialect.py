"""Unknown dialects: a URL scheme tabledag has no dialect for, that SQLAlchemy can connect to,
is served PostgreSQL-like with one warning; a scheme SQLAlchemy does not know either is an
error (with "did you mean" for a near miss).

Live: MariaDB (`mysql+pymysql`, an unknown dialect for tabledag) at
`$TABLEDAG_TEST_MARIADB_URL` (default `mysql+pymysql://root@127.0.0.1:3306/test`), skipped when
pymysql or the server is missing unless that variable is set; and the generic connection
class on the Postgres server of tests/conftest.py.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import uuid
import warnings
from collections.abc import Iterator
from decimal import Decimal

import pyarrow as pa
import pytest
import sqlalchemy as sa

from tabledag import Flow, Stage, create_basic_config, materialize
from tabledag.errors import ConfigError, StoreConnectionError
from tabledag.stores.sql.dialects import UnknownDialectWarning, dialect_class
from tabledag.stores.sql.dialects.generic import Generic, GenericConnection, generic_dialect

MARIADB_ENV = "TABLEDAG_TEST_MARIADB_URL"
MARIADB_DEFAULT = "mysql+pymysql://root@127.0.0.1:3306/test"


def test_one_warning_naming_the_dialect_and_no_password() -> None:
    url = "mysql+pymysql://root:hunter2@db.example:3306/test"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cls = dialect_class(url)
    assert [w.category for w in caught] == [UnknownDialectWarning]
    message = str(caught[0].message)
    assert message.startswith("tabledag has no dialect for 'mysql' (mysql+pymysql://root:***@")
    assert "hunter2" not in message
    assert "treating it like PostgreSQL" in message and "sqlglot's MySQL dialect" in message
    assert issubclass(cls, Generic) and cls.name == "mysql"
    assert cls.sqlalchemy == ("mysql.pymysql", "mysql")


def test_a_scheme_sqlglot_lacks_renders_as_postgres() -> None:
    cls = generic_dialect("somedb", "somedb")
    assert cls.sqlglot.__name__ == "TabledagPostgres" and cls.sqlalchemy == (
        "postgresql",
        "postgres",
    )


def test_typos_and_unknown_databases_are_errors() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'duckdb'"):
        dialect_class("duckbd:///x.duckdb")
    with pytest.raises(ConfigError, match="Did you mean 'postgres'"):
        dialect_class("postgress://u@h/db")
    with pytest.raises(ConfigError, match="SQLAlchemy has none for 'nosuchdb'") as info:
        dialect_class("nosuchdb://u@h/db")
    assert "Did you mean" not in str(info.value)


def test_a_missing_driver_is_a_connection_error() -> None:
    """SQLAlchemy knows the dialect, but its DB-API driver is not installed."""
    if importlib.util.find_spec("cx_Oracle") is not None:
        pytest.skip("cx_Oracle is installed")
    with pytest.warns(UnknownDialectWarning):
        cls = dialect_class("oracle+cx_oracle://u:pw@127.0.0.1:1/db")
    with pytest.raises(StoreConnectionError, match=r"driver .* is missing") as info:
        cls("oracle+cx_oracle://u:pw@127.0.0.1:1/db").connect()
    assert ":pw@" not in str(info.value)


# -- the generic connection on Postgres --------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("store_kind", ["postgres"], indirect=True)
def test_generic_connection_loads_reads_and_rolls_back(target) -> None:
    """Batched executemany in, fetchmany out, and a transaction that really rolls back."""
    url = target.url.replace("postgresql://", "postgresql+psycopg2://", 1)
    schema = f"{target.schema_prefix}generic"
    d = generic_dialect("postgresql", "postgresql")(url)
    con = d.connect()
    assert isinstance(con, GenericConnection)
    data = pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int64()),
            "s": ["a", None, "größe"],
            "at": pa.array([dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC), None, None]),
            "amount": pa.array([Decimal("1.25"), None, Decimal("-2.50")], pa.decimal128(10, 2)),
        }
    )
    sent: list[str] = []
    try:
        con.execute(f'CREATE SCHEMA "{schema}"')
        create = [d.render(s) for s in d.load_arrow(_table(schema, "t"), data.schema, "src")]
        con.load_arrow(create, "src", (schema, "t"), data, sent.append)
        assert sent == [*create, "INSERT 3 rows"]
        back = con.read_arrow(f'SELECT * FROM "{schema}"."t" ORDER BY "id"')
        assert back.column("id").to_pylist() == [1, 2, 3]
        assert back.column("s").to_pylist() == ["a", None, "größe"]
        assert back.column("amount").to_pylist() == [Decimal("1.25"), None, Decimal("-2.50")]
        assert back.column("at").to_pylist()[0].replace(tzinfo=None) == dt.datetime(2024, 1, 1, 12)
        con.begin()
        con.execute(f'CREATE VIEW "{schema}"."v" AS SELECT * FROM "{schema}"."t"')
        con.rollback()
        tables = f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}'"
        assert con.execute(tables) == [("t",)]
    finally:
        con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        con.close()


def _table(schema: str, name: str) -> object:
    from tabledag.stores.sql.dialect import table

    return table(schema, name)


# -- a whole flow on MariaDB ---------------------------------------------------------------------


@pytest.fixture
def mariadb() -> Iterator[tuple[str, str]]:
    url = os.environ.get(MARIADB_ENV) or MARIADB_DEFAULT
    required = bool(os.environ.get(MARIADB_ENV))
    problem = None
    if importlib.util.find_spec("pymysql") is None:
        problem = "pymysql is not installed"
    else:
        try:
            sa.create_engine(url, connect_args={"connect_timeout": 3}).connect().close()
        except Exception as error:
            problem = f"MariaDB at {url!r} is unreachable ({type(error).__name__})"
    if problem:
        if required:
            pytest.fail(f"{problem} ({MARIADB_ENV} is set)", pytrace=False)
        pytest.skip(f"{problem}; set {MARIADB_ENV} to a reachable MariaDB / MySQL")
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    yield url, prefix
    engine = sa.create_engine(url)
    with engine.connect() as con:
        for (name,) in con.exec_driver_sql("SHOW DATABASES").fetchall():
            if name.startswith(prefix):
                con.exec_driver_sql(f"DROP DATABASE `{name}`")
    engine.dispose()


calls: list[str] = []


@materialize(version="1")
def frame() -> pa.Table:
    calls.append("frame")
    return pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int64()),
            "key": ["a", "b", "größe"],
            "x": [0.5, None, 2.0],
            "day": [dt.date(2024, 5, 6), None, dt.date(2024, 5, 8)],
        }
    )


@materialize(lazy=True, input_type=str)
def from_text(t: str) -> str:
    calls.append("from_text")
    return f"SELECT id, `key` FROM {t} WHERE id > 1"


@materialize(lazy=True, input_type=sa.Table)
def from_sqlalchemy(t: sa.Table) -> sa.Select:
    calls.append("from_sqlalchemy")
    return sa.select(t.c.id, t.c.x).where(t.c.id >= 2).order_by(t.c.id).limit(5)


@materialize(input_type=pa.Table)
def rows(a: pa.Table, b: pa.Table) -> pa.Table:
    return pa.table(
        {"a": [a.num_rows], "b": [b.num_rows], "keys": [",".join(sorted(a["key"].to_pylist()))]}
    )


@pytest.mark.mariadb
def test_a_flow_runs_on_an_unknown_dialect(mariadb: tuple[str, str]) -> None:
    url, prefix = mariadb
    with Flow("generic") as flow:
        with Stage("raw"):
            source = frame()
        with Stage("derived"):
            text = from_text(source)
            query = from_sqlalchemy(source)
            counted = rows(text, query)
    calls.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = flow.run(config=create_basic_config(url, schema_prefix=prefix))
    assert result.successful, result.exception
    assert [str(w.message)[:40] for w in caught] == ["tabledag has no dialect for 'mysql' (mys"]
    assert result.get(counted).to_pylist() == [{"a": 2, "b": 2, "keys": "b,größe"}]
    back = result.get(source)
    assert back.column("key").to_pylist() == ["a", "b", "größe"]
    assert back.column("x").to_pylist() == [0.5, None, 2.0]
    assert back.column("day").to_pylist() == [dt.date(2024, 5, 6), None, dt.date(2024, 5, 8)]
    assert sorted(calls) == ["frame", "from_sqlalchemy", "from_text"]

    tables = _names(url, "tables", f"{prefix}derived__data")
    calls.clear()
    with pytest.warns(UnknownDialectWarning):
        again = flow.run(config=create_basic_config(url, schema_prefix=prefix))
    assert again.successful, again.exception
    assert again.get(counted).to_pylist() == result.get(counted).to_pylist()
    # lazy tasks run to build their query; the same query is a cache hit: no new table
    assert sorted(calls) == ["from_sqlalchemy", "from_text"]
    assert _names(url, "tables", f"{prefix}derived__data") == tables and len(tables) == 3
    assert _names(url, "views", f"{prefix}derived") == ["from_sqlalchemy", "from_text", "rows"]


def _names(url: str, kind: str, schema: str) -> list[str]:
    """Names in information_schema.`kind` of `schema`, read on a connection of our own."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as con:
            found = con.exec_driver_sql(
                f"SELECT table_name FROM information_schema.{kind} "
                f"WHERE table_schema = '{schema}' ORDER BY table_name"
            ).fetchall()
    finally:
        engine.dispose()
    return [row[0] for row in found]
