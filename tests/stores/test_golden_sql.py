"""Golden SQL: every statement a SQL store sends in one stage's life, for four dialects.

`lifecycle()` calls the dialect and metadata builders as `SQLSession` does, in its order:
metadata setup of a fresh store and an upgrade, beginning a stage, writes (Arrow load, CTAS of
a query tree, of rendered SQL and of raw SQL with a CTE, primary key, index), a commit that
changes two views and removes one, reading, garbage collection, and dropping a view and a
schema. For each dialect every rendered statement

1. equals its line in `golden/<dialect>.sql` (a `-- step` line, then one statement per line;
   a step without lines sends nothing on that dialect), reviewed by eye for that dialect;
2. parses back with sqlglot in the dialect's own sqlglot dialect to the kind of statement it
   was built as, never to an `exp.Command`, except those listed in `KNOWN_COMMANDS`;
3. quotes every name the store chose (schemas, tables, views, columns such as `key`);
4. runs, on DuckDB (in memory) and on the Postgres server of `tests/conftest.py`.

After a deliberate change, rewrite the files with `TABLEDAG_UPDATE_GOLDEN=1` and review the diff.
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

from tabledag.stores.base import TableRecord, TaskRecord
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
}
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
    "snowflake": [("tags", "list<item: int64>")],  # ARRAY values read back as JSON text
}
"""Columns a dialect refuses before any SQL runs (the session raises UnsupportedTypeError)."""

KNOWN_COMMANDS = {("snowflake", 'ALTER SCHEMA "TDG_RAW__NEXT" SWAP WITH "TDG_RAW"')}
"""Statements sqlglot has no tree for (it parses them as `exp.Command`)."""
CATALOGUES = {"information_schema", "pg_catalog"}
PARSED_AS = {("mssql", exp.Create, "IF NOT EXISTS"): exp.IfBlock}
"""Trees a dialect renders as another statement: T-SQL lacks `CREATE SCHEMA IF NOT EXISTS`, so
sqlglot writes `IF NOT EXISTS (...) EXEC('CREATE SCHEMA ...')`."""


@dataclass
class Step:
    label: str
    statements: list[exp.Expression]
    transaction: bool = False
    arrow: bool = False


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
        Step("cleanup: drop an unreferenced table", d.drop_table(old)),
        Step("drop a view", d.drop_view(table(schema, "frame"))),
        Step("drop a schema", d.drop_schema(schema)),
    ]


def render(d: Dialect, steps: list[Step]) -> list[tuple[str, list[str]]]:
    """(label, statements) with the metadata's timestamps replaced by `NOW`."""
    stamp = re.compile(r"'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}'")
    return [(s.label, [stamp.sub(f"'{NOW}'", d.render(e)) for e in s.statements]) for s in steps]


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
    if os.environ.get("TABLEDAG_UPDATE_GOLDEN") == "1":
        write_golden(name, rendered)
    assert rendered == read_golden(name)


def parsed_statements(name: str) -> list[tuple[str, exp.Expression, str, exp.Expression]]:
    """(step label, tree, rendered SQL, that SQL parsed back) of every statement."""
    d = new_dialect(name)
    rows = []
    for step in lifecycle(d):
        for tree in step.statements:
            sql = d.render(tree)
            rows.append((step.label, tree, sql, sqlglot.parse_one(sql, read=d.sqlglot)))
    return rows


@pytest.mark.parametrize("name", URLS)
def test_statements_parse_back_in_their_dialect(name: str) -> None:
    commands = set()
    for label, tree, sql, parsed in parsed_statements(name):
        if isinstance(parsed, exp.Command):
            commands.add((name, sql))
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
    for label, _, sql, parsed in parsed_statements(name):
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
    "store_kind", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_golden_sql_runs(store_kind: str, target: StoreTarget) -> None:
    """The golden statements, in order, on a real database (through the dialect's own
    connection class, as a session sends them); a commit's transaction as the session's."""
    if store_kind == "duckdb":
        d, prefix = dialect_class("duckdb:///:memory:")("duckdb:///:memory:"), PREFIX
    else:
        d, prefix = dialect_class(target.url)(target.url), target.schema_prefix
    steps = lifecycle(d, prefix)
    golden = [
        (label, [s.replace(PREFIX, prefix) for s in sqls]) for label, sqls in read_golden(d.name)
    ]
    assert render(d, steps) == golden
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
                con.load_arrow(sqls, SOURCE, (data, frame), frame_data(ARROW), sent.append)
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
