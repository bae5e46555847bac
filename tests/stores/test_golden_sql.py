"""Golden SQL: every statement a SQL store sends in one stage's life, for every dialect.

`lifecycle()` calls the dialect and metadata builders as `SQLSession` does, in its order:
metadata setup of a fresh store and an upgrade, beginning a stage, writes (Arrow load with its
bulk-load DDL, CTAS / `SELECT ... INTO` of a query tree, of rendered SQL and of raw SQL with a
CTE, primary key, index), the output corpus (`outputs()`: ibis joins, aggregates, window
functions, casts, dates, order + limit, unions; SQLAlchemy selects; SQL text; `RawSql`, each
compiled as its hook compiles it and written as the session writes it), a commit that changes
two views and removes one, reading, garbage collection, dropping a view and a schema, and the
lock statements where locks are SQL. For each dialect every rendered statement

1. equals its line in `golden/<dialect>.sql` (a `-- step` line, then one statement per line;
   a step without lines sends nothing on that dialect), reviewed by eye for that dialect;
2. parses back with sqlglot in the dialect's own sqlglot dialect to the kind of statement it
   was built as, never to an `exp.Command`, except those listed in `KNOWN_COMMANDS` (a T-SQL
   batch, built as `Verbatim` text, parses to several statements, none a command);
3. quotes every name the store chose (schemas, tables, views, columns such as `key`), in the
   statements the store builds (user queries in the corpus keep their own quoting);
4. runs, on DuckDB (in memory) and on the Postgres server of `tests/conftest.py` (and, with
   `TABLEDAG_TEST_MSSQL_URL` set, on that SQL Server).

A dialect joins by one entry in `URLS` (and in `IBIS` if ibis compiles for it). After a
deliberate change, rewrite the files with `TABLEDAG_REGENERATE_GOLDEN=1` (or the older
`TABLEDAG_UPDATE_GOLDEN=1`) and review the diff by eye in that dialect.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from tabledag.locks.advisory import AdvisoryLocks
from tabledag.stores.base import RunRecord, TableRecord, TaskRecord
from tabledag.stores.sql import metadata, naming
from tabledag.stores.sql.dialect import Dialect, Verbatim, ident, table
from tabledag.stores.sql.dialects import dialect_class

if TYPE_CHECKING:
    from tests.conftest import StoreTarget

GOLDEN = Path(__file__).parent / "golden"
URLS = {
    "duckdb": "duckdb:///x.duckdb",
    "postgres": "postgresql://u@h/db",
    "snowflake": "snowflake://u@acct/db",
    "mssql": "mssql+pyodbc://u@h/db",
    "db2": "db2+ibm_db://u@h:50000/db",
}
IBIS = {"duckdb": "duckdb", "postgres": "postgres", "snowflake": "snowflake", "mssql": "mssql"}
"""The ibis compiler (`ibis.backends.sql.compilers.<name>`) of each dialect that has one; the
corpus of a dialect without one has no ibis outputs."""
PREFIX = "tdg_"
STAGE = "raw"
NOW = "2024-05-06 07:08:09.000010"
"""Metadata rows are stamped with the current time; golden strings carry this one instead."""
SINCE = dt.datetime(2024, 5, 6, 7, 0, tzinfo=dt.UTC)
SOURCE = "__tabledag_arrow_0"
KEYS = {"frame": "a" * 16, "orders": "b" * 16, "totals": "c" * 16, "recent": "d" * 16}
OLD_KEY = "e" * 16
UPGRADE = "setup: upgrade an older metadata schema"

ARROW = pa.schema(
    [
        ("id", pa.int64()),
        ("key", pa.string()),
        ("small", pa.int8()),
        ("count", pa.int32()),
        ("ratio", pa.float32()),
        ("score", pa.float64()),
        ("flag", pa.bool_()),
        ("day", pa.date32()),
        ("at", pa.timestamp("us")),
        ("at_utc", pa.timestamp("us", tz="UTC")),
        ("amount", pa.decimal128(18, 4)),
        ("payload", pa.binary()),
        ("tags", pa.list_(pa.int64())),
    ]
)
UNSUPPORTED = {
    "mssql": [("tags", "list<item: int64>")],
    "db2": [("tags", "list<item: int64>")],
    "snowflake": [("tags", "list<item: int64>")],  # ARRAY values read back as JSON text
}
"""Columns a dialect refuses before any SQL runs (the session raises UnsupportedTypeError)."""

KNOWN_COMMANDS = {
    ("snowflake", 'ALTER SCHEMA "TDG_RAW__NEXT" SWAP WITH "TDG_RAW"'),
    ("db2", """CALL SYSPROC.ADMIN_CMD('REORG TABLE "tdg_raw__data"."orders__bbbbbbbbbbbbbbbb"')"""),
}
"""Statements sqlglot has no tree for (it parses them as `exp.Command`)."""
CATALOGUES = {"information_schema", "pg_catalog", "sys", "syscat"}
PARSED_AS = {("mssql", exp.Create, "IF NOT EXISTS"): exp.IfBlock}
"""Trees a dialect renders as another statement: T-SQL lacks `CREATE SCHEMA IF NOT EXISTS`, so
sqlglot writes `IF NOT EXISTS (...) EXEC('CREATE SCHEMA ...')`."""


@dataclass
class Step:
    label: str
    statements: list[exp.Expression]
    transaction: bool = False
    arrow: bool = False
    user: bool = False
    """A user's query (the corpus): names keep the quoting its library gave them."""
    per_database: bool = False
    """Names the URL's database (lock keys hash it): the run test compares it as rendered for
    the database it runs on."""


RUN = RunRecord("ab12cd", "flow", 1_700_000_000.25, 1.5, True, '{"tasks": [], "it\'s": 1}')
"""A run record (its document a JSON text with a quote in it)."""


def new_dialect(name: str) -> Dialect:
    return dialect_class(URLS[name])(URLS[name])


def lifecycle(d: Dialect, prefix: str = PREFIX) -> list[Step]:
    """The statements of one stage's life, built as `SQLSession` builds them."""
    names = naming.Names(prefix, "", d.max_identifier_bytes)
    meta, schema = names.schema(naming.METADATA), names.schema(STAGE)
    data = names.data_schema(STAGE)
    phys = {name: names.physical(name, key) for name, key in KEYS.items()}
    target = {name: table(data, p) for name, p in phys.items()}
    old = table(data, names.physical("old", OLD_KEY))
    all_columns = [(t, c[0]) for t, columns in metadata.TABLES.items() for c in columns]
    older = [(t, c) for t, c in all_columns if (t, c) != ("tables", "sql")]
    frame = pa.schema(
        [f for f in ARROW if (f.name, str(f.type)) not in UNSUPPORTED.get(d.name, [])]
    )
    query = (
        exp.select(*(exp.column(c, quoted=True) for c in ("id", "key", "amount")))
        .from_(target["frame"])
        .where(exp.column("id", quoted=True) > 1)
    )
    totals = (
        exp.select(exp.column("key", quoted=True))
        .select(
            exp.alias_(exp.func("SUM", exp.column("amount", quoted=True)), "total", quoted=True)
        )
        .from_(target["frame"])
        .group_by(exp.column("key", quoted=True))
    )
    q = d.render
    raw_sql = (
        f"WITH {q(ident('r'))} AS (SELECT {q(ident('id'))}, {q(ident('key'))} "
        f"FROM {q(target['frame'])} WHERE {q(ident('id'))} < 3) SELECT * FROM {q(ident('r'))}"
    )
    plan = d.commit_views(
        schema,
        {v: target[v] for v in ("frame", "orders")},
        ["old"],
        {v: target[v] for v in sorted(KEYS)},
    )
    clock = d.clock()
    columns = metadata.encode_columns([("id", "BIGINT"), ("key", "VARCHAR")])
    new_tables = [  # an Arrow table's columns are read from the catalogue; a query's are known
        TableRecord(KEYS["frame"], "frame", "frame", phys["frame"], 0, columns),
        TableRecord(KEYS["orders"], "orders", "orders", phys["orders"], 0, columns, None, q(query)),
    ]
    return [
        Step("connect: create the database", create_database(d), per_database=True),
        Step("setup: read the metadata columns", [d.list_columns(meta, list(metadata.TABLES))]),
        Step("setup: create the metadata schema", d.create_schema(meta)),
        Step(
            "setup: create the metadata tables",
            metadata.setup_statements(meta, metadata.missing_columns([]), d),
        ),
        Step(UPGRADE, metadata.setup_statements(meta, metadata.missing_columns(older), d)),
        Step(
            "begin: read the stage metadata", list(metadata.select_statements(meta, STAGE).values())
        ),
        Step("begin: list the physical tables", [d.list_tables(data)]),
        Step("write: create the data schema", d.create_schema(data)),
        Step("write: drop an orphan of a killed run", d.drop_table(target["frame"])),
        Step(
            "write: create a table for Arrow data",
            d.load_arrow(target["frame"], frame, SOURCE),
            arrow=True,
        ),
        Step("write: CTAS of a query", d.create_table_as(target["orders"], query)),
        Step("write: primary key", d.add_primary_key(target["orders"], ["id"])),
        Step(
            "write: index",
            d.create_index(target["orders"], names.view(f"{phys['orders']}_idx0"), ["id", "key"]),
        ),
        Step(
            "write: CTAS of rendered SQL",
            d.create_table_as(target["totals"], Verbatim(this=q(totals))),
        ),
        Step(
            "write: CTAS of raw SQL with a CTE",
            d.create_table_as(target["recent"], Verbatim(this=raw_sql)),
        ),
        *outputs(d, names, data, target["frame"], target["orders"]),
        Step("read: one input's columns", [d.describe(target["totals"])]),
        Step("commit: read new tables' columns", [d.list_columns(data, [phys["frame"]])]),
        Step("commit: create the stage schema", d.create_schema(schema)),
        Step("commit: prepare the views", plan.prepare),
        Step("commit: read the server clock", [clock] if clock else []),
        Step("commit: find older reader snapshots", [d.older_snapshots(SINCE)] if clock else []),
        Step("commit (transaction): views", plan.in_transaction, transaction=True),
        Step(
            "commit (transaction): metadata",
            metadata.commit_statements(
                meta,
                STAGE,
                2,
                new_tables=new_tables,
                kept_keys=[KEYS["recent"], KEYS["totals"]],
                new_tasks=[TaskRecord("load", "k1", '{"tables": ["frame"]}', "[]")],
                changed_tasks=[TaskRecord("orders", "k2", '{"tables": ["orders"]}', '["aaaa"]')],
                kept_tasks=[("totals", "k3"), ("recent", "k4")],
            ),
            transaction=True,
        ),
        Step(
            "commit (transaction): columns learnt from the catalogue",
            metadata.column_statements(meta, STAGE, {KEYS["recent"]: columns}),
            transaction=True,
        ),
        Step("commit: finish the views", plan.finish),
        Step("read: a physical table", [exp.select("*").from_(target["orders"]).limit(10)]),
        Step("cleanup: forget old generations", metadata.forget_statements(meta, STAGE, 1)),
        Step("record the run", [metadata.run_statement(meta, RUN)]),
        Step("read the last runs", [metadata.runs_query(meta, "ab12", 20)]),
        Step("cleanup: drop an unreferenced table", d.drop_table(old)),
        Step(
            "drop the views",  # a T-SQL schema must be empty to be dropped
            [*d.drop_view(table(schema, "frame")), *d.drop_view(table(schema, "orders"))],
        ),
        Step("drop a schema", d.drop_schema(schema)),
        *lock_steps(d),
    ]


FRAME_COLUMNS = {
    "id": "int64",
    "key": "string",
    "count": "int32",
    "score": "float64",
    "day": "date",
    "at": "timestamp",
    "amount": "decimal(18, 4)",
}
"""The columns of the Arrow table `frame` the corpus reads (as ibis types)."""


def corpus(d: Dialect, frame: exp.Table, orders: exp.Table) -> dict[str, exp.Expr | str]:
    """The fixed outputs, as the hooks turn them into SQL: a sqlglot tree (ibis, SQL text,
    SQLAlchemy: see hooks/ibis.py, hooks/sql.py, hooks/sqlalchemy.py) or raw SQL text."""
    import ibis
    import sqlalchemy as sa

    from tabledag.hooks.sqlalchemy import _sa_dialect

    found: dict[str, exp.Expr | str] = {}
    if d.name in IBIS:
        import importlib

        compiler = importlib.import_module(f"ibis.backends.sql.compilers.{IBIS[d.name]}").compiler
        f = ibis.table(FRAME_COLUMNS, name=frame.name, database=frame.db)
        o = ibis.table({"id": "int64", "key": "string", "amount": "decimal(18, 4)"},
                       name=orders.name, database=orders.db)  # fmt: skip
        joined = f.join(o, f.id == o.id)
        window = ibis.window(group_by=f.key, order_by=f.id)
        exprs = {
            "ibis join + aggregate": joined.group_by(f.key).aggregate(
                n=joined.count(), total=o.amount.sum(), top=f.score.max()
            ),
            "ibis window functions": f.select(
                "id", "key",
                rank=ibis.row_number().over(window),
                previous=f.score.lag().over(window),
                running=f.score.sum().over(window),
            ),
            "ibis casts": f.select(
                id_text=f.id.cast("string"),
                count_big=f["count"].cast("int64"),
                score_dec=f.score.cast("decimal(10, 2)"),
                amount_float=f.amount.cast("float64"),
                day_text=f.day.cast("string"),
            ),
            "ibis dates": f.select(
                "id",
                year=f.at.year(),
                month=f.at.truncate("M"),
                next_day=f.day + ibis.interval(days=1),
                weekday=f.day.day_of_week.index(),
                date_of=f.at.date(),
            ),
            "ibis order + limit": f.order_by(ibis.desc(f.score), f.id).limit(2),
            "ibis union": f.select("key").union(o.select("key"), distinct=True),
        }  # fmt: skip
        found |= {label: compiler.to_sqlglot(e) for label, e in exprs.items()}
    sa_name, read = d.sqlalchemy
    meta = sa.MetaData()
    sf = sa.Table(frame.name, meta, sa.Column("id", sa.BigInteger), sa.Column("key", sa.String),
                  sa.Column("amount", sa.Numeric(18, 4)), schema=frame.db)  # fmt: skip
    so = sa.Table(orders.name, meta, sa.Column("id", sa.BigInteger), schema=orders.db)
    selects = {
        "SQLAlchemy join + group by": sa.select(sf.c.key, sa.func.count().label("n"))
        .join_from(sf, so, sf.c.id == so.c.id)
        .where(sf.c.amount > 0)
        .group_by(sf.c.key)
        .order_by(sf.c.key),
        "SQLAlchemy order + limit": sa.select(sf.c.id, sf.c.key).order_by(sf.c.id.desc()).limit(2),
    }
    for label, select in selects.items():  # as hooks/sqlalchemy.py compiles and parses them
        text = str(
            select.compile(dialect=_sa_dialect(sa_name), compile_kwargs={"literal_binds": True})
        )
        found[label] = sqlglot.parse_one(text, read=read)
    q = d.render
    text = (
        f"SELECT {q(ident('key'))}, COUNT(*) AS {q(ident('n'))} FROM {q(frame)} "
        f"WHERE {q(ident('day'))} >= CAST('2024-01-01' AS DATE) GROUP BY {q(ident('key'))}"
    )
    found["SQL text"] = sqlglot.parse_one(text, read=d.sqlglot)  # hooks/sql.py: parse_sql
    found["RawSql with a comment"] = (
        f"SELECT {q(ident('id'))} FROM {q(frame)} WHERE {q(ident('id'))} IS NOT NULL "
        "-- a trailing comment"
    )
    return found


def outputs(
    d: Dialect, names: naming.Names, data: str, frame: exp.Table, orders: exp.Table
) -> list[Step]:
    """The corpus written as `SQLSession.write` writes it: rendered once, then CTAS'd."""
    steps = []
    for i, (label, query) in enumerate(corpus(d, frame, orders).items()):
        sql = query if isinstance(query, str) else d.render(query)
        target = table(data, names.physical(f"out{i}", f"{i:016x}"))
        steps.append(
            Step(f"output: {label}", d.create_table_as(target, Verbatim(this=sql)), user=True)
        )
    return steps


def create_database(d: Dialect) -> list[exp.Expr]:
    """What `create_database_if_not_exists` sends, where the dialect builds it as SQL."""
    build = getattr(d, "create_database", None)
    return build() if build is not None else []


def lock_steps(d: Dialect) -> list[Step]:
    """Lock statements, where locks are SQL (rendered by the lock SQL of the dialect)."""
    locks = d.locks(("pipeline", f"{PREFIX}{naming.METADATA}"), 5.0)
    if not isinstance(locks, AdvisoryLocks):
        return []
    return [
        Step(
            f"lock: {label}",
            [Verbatim(this=s) for s in locks.statements(name, shared=shared)],
            per_database=True,
        )
        for label, name, shared in (
            ("run lease (shared)", "__run__", True),
            ("stage", f"stage:{STAGE}", False),
        )
    ]


def render(d: Dialect, steps: list[Step]) -> list[tuple[str, list[str]]]:
    """(label, statements) with the metadata's timestamps replaced by `NOW`, and a newline
    (which closes a line comment where a dialect wraps SQL text in parentheses) written `\\n`,
    so that each statement is one line of its golden file."""
    stamp = re.compile(r"'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}'")
    return [
        (s.label, [stamp.sub(f"'{NOW}'", d.render(e)).replace("\n", "\\n") for e in s.statements])
        for s in steps
    ]


def read_golden(name: str) -> list[tuple[str, list[str]]]:
    steps: list[tuple[str, list[str]]] = []
    for line in (GOLDEN / f"{name}.sql").read_text().splitlines():
        if line.startswith("-- "):
            steps.append((line[3:], []))
        elif line:
            steps[-1][1].append(line)
    return steps


def write_golden(name: str, steps: list[tuple[str, list[str]]]) -> None:
    GOLDEN.mkdir(exist_ok=True)
    text = "".join(f"-- {label}\n" + "".join(f"{s}\n" for s in sqls) for label, sqls in steps)
    (GOLDEN / f"{name}.sql").write_text(text)


@pytest.mark.parametrize("name", URLS)
def test_golden_sql(name: str) -> None:
    d = new_dialect(name)
    rendered = render(d, lifecycle(d))
    assert all("\n" not in sql for _, sqls in rendered for sql in sqls)
    if "1" in (
        os.environ.get("TABLEDAG_REGENERATE_GOLDEN"),
        os.environ.get("TABLEDAG_UPDATE_GOLDEN"),
    ):
        write_golden(name, rendered)
    assert rendered == read_golden(name)


def parsed_statements(
    name: str, *, user: bool = True
) -> list[tuple[str, exp.Expression, str, exp.Expression]]:
    """(step label, tree, rendered SQL, that SQL parsed back) of every statement (of every
    part of a batch); without `user`, not of the corpus's queries."""
    d = new_dialect(name)
    rows = []
    for step in lifecycle(d):
        if step.user and not user:
            continue
        for tree in step.statements:
            sql = d.render(tree)
            parts = [p for p in sqlglot.parse(sql, read=d.sqlglot) if p is not None]
            assert len(parts) == 1 or isinstance(tree, Verbatim), f"{step.label}: {sql}"
            rows += [(step.label, tree, sql, part) for part in parts]
    return rows


@pytest.mark.parametrize("name", URLS)
def test_statements_parse_back_in_their_dialect(name: str) -> None:
    commands = set()
    for label, tree, sql, parsed in parsed_statements(name):
        if isinstance(parsed, exp.Command):
            commands.add((name, sql))
            continue
        if isinstance(tree, Verbatim):  # text built as text (a batch, a raw query)
            continue
        expected = next(
            (kind for (n, t, start), kind in PARSED_AS.items()
             if (n, t) == (name, type(tree)) and sql.startswith(start)),
            type(tree),
        )  # fmt: skip
        assert type(parsed) is expected, f"{label}: {sql}"
    assert commands == {c for c in KNOWN_COMMANDS if c[0] == name}


@pytest.mark.parametrize("name", URLS)
def test_names_the_store_chose_are_quoted(name: str) -> None:
    ours = {naming.METADATA, STAGE, *KEYS, "old", *metadata.TABLES, *ARROW.names, "total", "r"}
    ours |= {c[0] for columns in metadata.TABLES.values() for c in columns}
    for label, _, sql, parsed in parsed_statements(name, user=False):
        catalogue = {
            id(i)
            for t in parsed.find_all(exp.Table)
            if t.db.lower() in CATALOGUES
            for i in t.find_all(exp.Identifier)
        }
        for node in parsed.find_all(exp.Identifier):
            chosen = node.name in ours or node.name.startswith(PREFIX) or "__" in node.name
            if chosen and id(node) not in catalogue:
                assert node.quoted, f"{label}: {node.name!r} unquoted in {sql}"


@pytest.mark.parametrize("name", URLS)
def test_unsupported_columns_are_refused_before_any_sql(name: str) -> None:
    assert new_dialect(name).unsupported_columns(ARROW) == UNSUPPORTED.get(name, [])


def frame_data(schema: pa.Schema) -> pa.Table:
    day, at = dt.date(2024, 1, 1), dt.datetime(2024, 1, 1, 12, 30)
    columns = {
        "id": [1, 2, 3],
        "key": ["a", "b", "größe"],
        "small": [-128, 0, 127],
        "count": [1, None, 3],
        "ratio": [0.5, 1.5, None],
        "score": [0.25, 2.5, -1.0],
        "flag": [True, False, None],
        "day": [day, day, None],
        "at": [at, None, at],
        "at_utc": [at.replace(tzinfo=dt.UTC), None, None],
        "amount": [Decimal("1.2500"), Decimal("-2.0001"), None],
        "payload": [b"\x00\x01", b"", None],
        "tags": [[1, 2], [], None],
    }
    return pa.table({f.name: columns[f.name] for f in schema}, schema=schema)


@pytest.mark.parametrize(
    "store_kind",
    [
        "duckdb",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mssql", marks=pytest.mark.mssql),
    ],
)
def test_golden_sql_runs(store_kind: str, target: StoreTarget) -> None:
    """The golden statements, in order, on a real database (through the dialect's own
    connection class, as a session sends them); a commit's transaction as the session's.
    Lock keys hash the database's name, so lock statements are compared as rendered for it."""
    if store_kind == "duckdb":
        d, prefix = dialect_class("duckdb:///:memory:")("duckdb:///:memory:"), PREFIX
    else:
        d, prefix = dialect_class(target.url)(target.url), target.schema_prefix
    steps = lifecycle(d, prefix)
    rendered = render(d, steps)
    golden = [
        mine if step.per_database else (label, [s.replace(PREFIX, prefix) for s in sqls])
        for step, mine, (label, sqls) in zip(steps, rendered, read_golden(d.name), strict=True)
    ]
    assert rendered == golden
    names = naming.Names(prefix, "", d.max_identifier_bytes)
    data, frame = names.data_schema(STAGE), names.physical("frame", KEYS["frame"])
    con = d.connect()
    try:
        in_transaction = False
        for step, (label, sqls) in zip(steps, golden, strict=True):
            if step.transaction and not in_transaction:
                con.begin()
            elif in_transaction and not step.transaction:
                con.commit()
            in_transaction = step.transaction
            if label == UPGRADE:  # as an older tabledag left it
                con.execute(
                    f'ALTER TABLE "{names.schema(naming.METADATA)}"."tables" DROP COLUMN "sql"'
                )
            if step.arrow:
                sent: list[str] = []
                unsupported = UNSUPPORTED.get(d.name, [])
                schema = pa.schema([f for f in ARROW if (f.name, str(f.type)) not in unsupported])
                con.load_arrow(sqls, SOURCE, (data, frame), frame_data(schema), sent.append)
                assert sent[: len(sqls)] == sqls
                continue
            rows = [con.execute(sql) for sql in sqls]
            if label == "read: a physical table":
                assert sorted(r[:2] for r in rows[0]) == [(2, "b"), (3, "größe")]
                view = f'SELECT "id" FROM "{names.schema(STAGE)}"."orders" ORDER BY "id"'
                assert con.execute(view) == [(2,), (3,)]
    finally:
        con.close()
        d.close()
