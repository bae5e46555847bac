"""The Db2 dialect without a Db2 server: tabledag's sqlglot dialect (ibis and SQLAlchemy output
transpiled to `db2` and parsed back), the store dialect's statements, and the driver where it
can run (connection errors). Where a Db2 rendering has a plain-SQL meaning, it is checked by
running it on DuckDB next to the original (after parsing the Db2 text back)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa
import pytest
import sqlalchemy as sa
import sqlglot
from ibis.backends.sql.compilers import PostgresCompiler
from sqlglot import exp

import tabledag.stores.sql.dialects.db2_sqlglot  # noqa: F401  (registers "db2" with sqlglot)
from tabledag.errors import StoreConnectionError
from tabledag.stores.sql.dialect import Verbatim, table
from tabledag.stores.sql.dialects import dialect_class
from tabledag.stores.sql.dialects.db2 import DB2, dsn, sqlstate, without_ctes

GOLDEN = Path(__file__).parent / "golden" / "db2.sql"
URL = "db2+ibm_db://db2inst1:s3cret-pw@127.0.0.1:1/testdb"

FRAME = ibis.table(
    {
        "id": "int64",
        "key": "string",
        "amount": "decimal(18, 4)",
        "at": "timestamp",
        "day": "date",
        "score": "float64",
    },
    name="frame",
)
OTHER = ibis.table({"id": "int64", "name": "string"}, name="other")
t, u = FRAME, OTHER
QUERIES = {
    "join": t.join(u, "id").select("id", "key", "name"),
    "aggregate": t.group_by("key").aggregate(total=t.amount.sum(), n=t.count(), m=t.score.mean()),
    "window": t.mutate(
        rn=ibis.row_number().over(group_by="key", order_by="id"),
        running=t.score.sum().over(group_by="key", order_by="id"),
        prev=t.score.lag().over(order_by="id"),
    ),
    "casts": t.select(s=t.id.cast("string"), f=t.id.cast("float64"), d=t.at.cast("date")),
    "dates": t.select(
        y=t.at.year(),
        m=t.day.month(),
        trunc=t.at.truncate("M"),
        later=t.day + ibis.interval(days=3),
        dow=t.day.day_of_week.index(),
    ),
    "limit": t.order_by("id").limit(2, offset=1),
    "strings": t.select(c=t.key + "_x", n=t.key.length(), sub=t.key.substr(1, 2)),
    "filter": t.filter((t.amount > 1) & t.key.isin(["a", "b"])).select("id", "key"),
    "distinct": t.select("key").distinct(),
    "literals": t.filter(
        (t.day > dt.date(2024, 5, 5)) & (t.at < dt.datetime(2024, 4, 1, 12)) & t.key.startswith("a")
    ).select("id", made=ibis.date(2024, t.id, 1)),
}


def db2(tree: exp.Expr) -> str:
    return tree.sql(dialect="db2")


@pytest.mark.parametrize("name", QUERIES)
def test_ibis_output_transpiles_to_db2_and_parses_back(name: str) -> None:
    tree = PostgresCompiler().to_sqlglot(QUERIES[name])
    sql = db2(tree)
    parsed = sqlglot.parse_one(sql, read="db2")
    assert isinstance(parsed, exp.Select) and not isinstance(parsed, exp.Command)
    assert db2(parsed) == sql  # a fixed point: what it writes, it reads as the same tree
    words = sql.upper()
    assert "LIMIT" not in words and "INTERVAL" not in words and "::" not in sql
    assert "VARCHAR)" not in words  # every VARCHAR has a length
    if name == "limit":
        assert words.endswith("OFFSET 1 ROWS FETCH FIRST 2 ROWS ONLY")
    if name == "aggregate":
        assert 'GROUP BY "T0"."KEY"' in words  # Db2 groups by expressions, not positions
    if name == "window":
        # no frame for ranking functions (Db2 refuses one), the aggregate keeps its own
        assert 'ROW_NUMBER() OVER (PARTITION BY "t0"."key" ORDER BY "t0"."id" ASC) - 1' in sql
        assert 'UNBOUNDED FOLLOWING) AS "running"' in sql
    if name == "dates":
        assert '"t0"."day" + 3 DAYS' in sql and 'DATE_TRUNC(\'MONTH\', "t0"."at")' in sql
        assert "(DAYOFWEEK(" in sql


def duckdb_with_data() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    frame = pa.table(
        {
            "id": [1, 2, 3, 4],
            "key": ["a", "b", "a", "größe"],
            "amount": pa.array([1, 2, 3, 4], pa.decimal128(18, 4)),
            "at": [dt.datetime(2024, m, 5, 12) for m in (1, 2, 3, 4)],
            "day": [dt.date(2024, 5, d) for d in (5, 6, 7, 8)],  # a Sunday, Monday, ...
            "score": [0.5, 1.5, 2.5, None],
        }
    )
    other = pa.table({"id": [1, 2, 3], "name": ["x", "y", "z"]})
    con.register("frame_data", frame)
    con.register("other_data", other)
    con.execute("CREATE TABLE frame AS SELECT * FROM frame_data")
    con.execute("CREATE TABLE other AS SELECT * FROM other_data")
    return con


SAME_ON_DUCKDB = ["join", "aggregate", "window", "casts", "limit", "filter", "distinct", "literals"]


@pytest.mark.parametrize("name", SAME_ON_DUCKDB)
def test_db2_text_means_what_the_ibis_query_means(name: str) -> None:
    """Db2 text parsed back and run on DuckDB gives the rows of the original query (for the
    constructs both databases share)."""
    con = duckdb_with_data()
    tree = PostgresCompiler().to_sqlglot(QUERIES[name])
    original = con.sql(tree.sql("duckdb")).fetchall()
    through_db2 = sqlglot.parse_one(db2(tree), read="db2").sql("duckdb")
    assert sorted(map(str, con.sql(through_db2).fetchall())) == sorted(map(str, original))
    assert original


def test_db2_spellings_parse_into_portable_trees() -> None:
    """Labelled durations, special registers, CLOB and character-based string functions."""
    sql = (
        "SELECT d + 3 DAYS, d - 2 MONTHS, CURRENT DATE, CURRENT TIMESTAMP, "
        "CAST(c AS CLOB), CHARACTER_LENGTH(s, CODEUNITS32), SUBSTRING(s, 2, 3, CODEUNITS32) FROM t"
    )
    tree = sqlglot.parse_one(sql, read="db2")
    intervals = list(tree.find_all(exp.Interval))
    assert [(i.this.name, i.unit.name) for i in intervals] == [("3", "DAY"), ("2", "MONTH")]
    assert tree.find(exp.CurrentDate) and tree.find(exp.CurrentTimestamp)
    assert tree.find(exp.Length) and tree.find(exp.Substring).args["length"].name == "3"
    assert db2(tree) == sql
    assert sqlglot.transpile(sql, read="db2", write="postgres")[0].startswith(
        "SELECT d + INTERVAL '3 DAY', d - INTERVAL '2 MONTH', CURRENT_DATE, CURRENT_TIMESTAMP"
    )


def test_types_from_postgres() -> None:
    sql = (
        "CREATE TABLE t (a TEXT, b VARCHAR, c VARCHAR(10), d BOOLEAN, e TIMESTAMPTZ, "
        "f BYTEA, g NUMERIC(10, 2), h DOUBLE PRECISION, i REAL, j SMALLINT, k DATE)"
    )
    out = sqlglot.transpile(sql, read="postgres", write="db2")[0]
    assert out == (
        "CREATE TABLE t (a VARCHAR(32672), b VARCHAR(32672), c VARCHAR(10), d BOOLEAN, "
        "e TIMESTAMP, f VARBINARY(32672), g DECIMAL(10, 2), h DOUBLE, i REAL, j SMALLINT, k DATE)"
    )
    assert db2(sqlglot.parse_one(out, read="db2")) == out
    assert sqlglot.transpile("SELECT 1", write="db2") == ["SELECT 1 FROM SYSIBM.SYSDUMMY1"]


def test_sqlalchemy_select_transpiles() -> None:
    """SQLAlchemy output (compiled as PostgreSQL, as the DB2 store does) in Db2 spelling."""
    frame = sa.table("frame", sa.column("id"), sa.column("key"), schema="raw")
    query = (
        sa.select(frame.c.key, sa.func.count().label("n"))
        .where(frame.c.id > 1)
        .group_by(frame.c.key)
        .order_by(frame.c.key)
        .limit(5)
    )
    sa_name, read = DB2.sqlalchemy
    from sqlalchemy.dialects import registry

    text = str(
        query.compile(dialect=registry.load(sa_name)(), compile_kwargs={"literal_binds": True})
    )
    out = db2(sqlglot.parse_one(text, read=read))
    assert out.endswith("ORDER BY raw.frame.key FETCH FIRST 5 ROWS ONLY")
    assert "count(*) AS n" in out.replace("COUNT", "count")
    assert db2(sqlglot.parse_one(out, read="db2")) == out


def test_every_golden_statement_parses_back_as_db2() -> None:
    statements = [
        line.replace("\\n", "\n")  # golden files write a statement's newline as `\n`
        for line in GOLDEN.read_text().splitlines()
        if line and not line.startswith("-- ")
    ]
    assert len(statements) > 30
    for sql in statements:
        tree = sqlglot.parse_one(sql, read="db2")
        if not sql.startswith("CALL ") and "--" not in sql:  # a comment comes back as /* */
            assert not isinstance(tree, exp.Command), sql
            assert db2(tree) == sql


def test_create_table_as_is_create_with_no_data_then_insert() -> None:
    d = DB2(URL)
    target = table("s__data", "t__k")
    query = sqlglot.parse_one('SELECT "id" FROM "s__data"."f" WHERE "id" > 1', read="db2")
    create, insert = (d.render(s) for s in d.create_table_as(target, query))  # type: ignore[arg-type]
    assert create == (
        'CREATE TABLE "s__data"."t__k" AS (SELECT "id" FROM "s__data"."f" WHERE "id" > 1) '
        "WITH NO DATA"
    )
    assert insert == 'INSERT INTO "s__data"."t__k" SELECT "id" FROM "s__data"."f" WHERE "id" > 1'
    text = Verbatim(this='SELECT "id" FROM "s__data"."f" -- trailing comment')
    create, insert = (d.render(s) for s in d.create_table_as(target, text))
    assert create.endswith("-- trailing comment\n) WITH NO DATA")
    assert insert.endswith("-- trailing comment")  # the last line: nothing follows it


def test_ctes_are_inlined_only_where_db2_needs_it() -> None:
    """CREATE TABLE takes a fullselect (no WITH): its copy has the CTEs as derived tables,
    which select the same rows (run on DuckDB); the INSERT keeps the CTEs."""
    con = duckdb_with_data()
    sql = (
        'WITH "a" AS (SELECT "id", "key" FROM "frame" WHERE "id" < 4), '
        '"b" AS (SELECT "key", COUNT(*) AS "n" FROM "a" GROUP BY "key") '
        'SELECT "a"."id", "b"."n" FROM "a" JOIN "b" ON "a"."key" = "b"."key"'
    )
    tree = sqlglot.parse_one(sql, read="db2")
    inlined = without_ctes(tree)  # type: ignore[arg-type]
    assert inlined.find(exp.With) is None and tree.find(exp.With) is not None
    assert sorted(con.sql(inlined.sql("duckdb")).fetchall()) == sorted(con.sql(sql).fetchall())
    create, insert = DB2(URL).create_table_as(table("s", "t"), Verbatim(this=sql))
    assert create.find(exp.With) is None and insert.find(exp.With) is not None


def test_registry_and_url() -> None:
    assert dialect_class("db2+ibm_db://u@h/db") is DB2
    assert dialect_class("ibm_db_sa://u@h/db") is DB2
    assert dsn(URL) == (
        "DATABASE=testdb;HOSTNAME=127.0.0.1;PORT=1;PROTOCOL=TCPIP;UID=db2inst1;PWD=s3cret-pw;"
    )
    assert dsn("db2://u:p%3Bx@h/db?Security=SSL").endswith("PWD=p;x;SECURITY=SSL;")
    assert DB2(URL).unsupported_columns(
        pa.schema([("ok", pa.decimal128(31, 2)), ("wide", pa.decimal128(32, 2))])
    ) == [("wide", "decimal128(32, 2)")]


def test_a_failed_connection_names_the_url_not_the_password() -> None:
    pytest.importorskip("ibm_db", reason="ibm_db is not installed (pip install 'tabledag[db2]')")
    with pytest.raises(StoreConnectionError) as info:
        DB2(URL).connect()
    message = str(info.value)
    assert "127.0.0.1" in message and "s3cret-pw" not in message and "***" in message
    assert sqlstate(info.value) == "08001"  # the CLI driver's "cannot connect"


def test_ibis_inputs_are_refused_with_what_to_do_instead() -> None:
    from tabledag.errors import StoreError

    with pytest.raises(StoreError, match="ibis has no Db2 backend"):
        DB2(URL).ibis_backend(None)  # type: ignore[arg-type]


def test_the_seed_url_and_schema_prefix_make_a_db2_store() -> None:
    """The seed's example, as written (building the store connects to nothing)."""
    from tabledag import create_basic_config

    url = "db2+ibm_db://db2inst1:password@localhost:50000/testdb"
    store = create_basic_config(url, schema_prefix="{instance_id}_").store
    assert isinstance(store.dialect, DB2)
    assert store.schema_name("raw") == "pipeline_raw"
    assert store.data_schema_name("raw") == "pipeline_raw__data"
    assert "password" not in repr(store)


@pytest.mark.parametrize(
    ("postgres", "expected"),
    [
        ("x + INTERVAL '2 weeks'", "x + 14 DAYS"),
        ("x - INTERVAL '3 hours'", "x - 3 HOURS"),
        ("x + INTERVAL '5' MILLISECOND", "x + 5000 MICROSECONDS"),
        ("x + n * INTERVAL '1 day'", "x + (n * 1) DAYS"),
        ("x + INTERVAL '1 quarter'", "x + 3 MONTHS"),
    ],
)
def test_intervals_become_labelled_durations(postgres: str, expected: str) -> None:
    sql = sqlglot.transpile(f"SELECT {postgres} FROM t", read="postgres", write="db2")[0]
    assert sql == f"SELECT {expected} FROM t"
    assert db2(sqlglot.parse_one(sql, read="db2")) == sql
