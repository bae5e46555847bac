"""Golden SQL of per-table options, for four dialects, with `test_golden_sql.py`'s machinery.

`option_steps()` calls the dialect builders as `physical.DatabaseTables` does for a table with
options: a query becomes an empty table (with the option set's properties), altered (a column
type, then NOT NULL), then filled by `INSERT ... SELECT`; raw SQL with a CTE the same way; an
Arrow load gets the properties and is altered after it; then the option set's statements
after the rows (SQL Server's clustered columnstore index). The option sets are each dialect's
own: Postgres `unlogged`, Snowflake `transient`, SQL Server `columnstore`, none on DuckDB.

Each statement equals its line in `golden/table_options_<dialect>.sql`, parses back in its
dialect to the statement it was built as (SQL Server's columnstore index is a command sqlglot
cannot parse whole), and runs on DuckDB and on the Postgres server.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from tabledag.stores.sql import naming
from tabledag.stores.sql.dialect import Dialect, ident, table, with_properties
from tabledag.stores.sql.dialects import dialect_class
from tests.stores.test_golden_sql import (
    ARROW,
    KEYS,
    PREFIX,
    SOURCE,
    STAGE,
    UNSUPPORTED,
    URLS,
    Step,
    frame_data,
    new_dialect,
    read_golden,
    render,
    write_golden,
)

if TYPE_CHECKING:
    from tests.conftest import StoreTarget

DETAILS: dict[str, dict[str, Any]] = {
    "duckdb": {},
    "postgres": {"unlogged": True},
    "snowflake": {"transient": True},
    "mssql": {"columnstore": True},
    "db2": {},  # compression and table spaces: not yet
}
KNOWN_COMMANDS = {
    "mssql": ["CREATE CLUSTERED COLUMNSTORE INDEX"],
    "db2": ["CALL SYSPROC.ADMIN_CMD('REORG TABLE"],  # after SET NOT NULL, once per table
}


def golden_name(dialect: str) -> str:
    return f"table_options_{dialect}"


def option_steps(d: Dialect, prefix: str = PREFIX) -> list[Step]:
    names = naming.Names(prefix, "", d.max_identifier_bytes)
    data = names.data_schema(STAGE)
    phys = {name: names.physical(name, key) for name, key in KEYS.items()}
    target = {name: table(data, p) for name, p in phys.items()}
    details = DETAILS[d.name]
    properties = d.table_properties(details)
    q = d.render
    query = (
        f"SELECT {q(ident('id'))}, {q(ident('key'))}, {q(ident('amount'))} "
        f"FROM {q(target['frame'])} WHERE {q(ident('id'))} > 1"
    )
    cte = (
        f"WITH {q(ident('r'))} AS (SELECT {q(ident('id'))}, {q(ident('key'))} "
        f"FROM {q(target['frame'])} WHERE {q(ident('id'))} < 3) SELECT * FROM {q(ident('r'))}"
    )
    arrow = pa.schema(
        [f for f in ARROW if (f.name, str(f.type)) not in UNSUPPORTED.get(d.name, [])]
    )
    key_type = d.parse_type("VARCHAR(20)")
    return [
        Step(
            "arrow: create the table, with the option set's properties",
            with_properties(d.load_arrow(target["frame"], arrow, SOURCE), properties),
            arrow=True,
        ),
        Step("arrow: a type_map column", d.alter_column_type(target["frame"], "key", key_type)),
        Step("arrow: NOT NULL", d.set_not_null(target["frame"], "id", d.parse_type("BIGINT"))),
        Step(
            "arrow: after the rows",
            d.after_create(target["frame"], details, names.view(f"{phys['frame']}_cci")),
        ),
        Step(
            "query: an empty table, with the option set's properties",
            with_properties(d.empty_table_as(target["orders"], query), properties),
        ),
        Step("query: a type_map column", d.alter_column_type(target["orders"], "key", key_type)),
        Step("query: NOT NULL", d.set_not_null(target["orders"], "id", d.parse_type("BIGINT"))),
        Step("query: the rows", d.insert_from(target["orders"], query)),
        Step(
            "query: after the rows",
            d.after_create(target["orders"], details, names.view(f"{phys['orders']}_cci")),
        ),
        Step(
            "raw SQL with a CTE: an empty table",
            with_properties(d.empty_table_as(target["recent"], cte), properties),
        ),
        Step("raw SQL with a CTE: the rows", d.insert_from(target["recent"], cte)),
    ]


@pytest.mark.parametrize("name", URLS)
def test_golden_table_options(name: str) -> None:
    d = new_dialect(name)
    rendered = render(d, option_steps(d))
    assert all("\n" not in sql for _, sqls in rendered for sql in sqls)
    if os.environ.get("TABLEDAG_UPDATE_GOLDEN") == "1":
        write_golden(golden_name(name), rendered)
    assert rendered == read_golden(golden_name(name))


@pytest.mark.parametrize("name", URLS)
def test_option_statements_parse_back_in_their_dialect(name: str) -> None:
    d = new_dialect(name)
    commands = []
    for step in option_steps(d):
        for tree in step.statements:
            sql = d.render(tree)
            if isinstance(tree, exp.Command):  # built as one: sqlglot cannot parse it whole
                commands.append(sql)
                continue
            parsed = sqlglot.parse_one(sql, read=d.sqlglot)
            assert type(parsed) is type(tree), f"{step.label}: {sql}"
    known = KNOWN_COMMANDS.get(name, [])
    assert len(commands) == 2 * len(known)  # one per table that gets the option set's
    assert all(any(c.startswith(k) for k in known) for c in commands), commands


def test_each_dialect_declares_what_its_option_sets_understand() -> None:
    assert new_dialect("duckdb").materialization_keys == {}
    for name, details in DETAILS.items():
        if not details:
            continue
        d = new_dialect(name)
        d.check_details("fast", details)
        assert bool(d.table_properties(details) or d.after_create(table("s", "t"), details, "i"))
        assert d.table_properties({}) == [] and d.after_create(table("s", "t"), {}, "i") == []


@pytest.mark.parametrize(
    "store_kind", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_golden_table_options_run(store_kind: str, target: StoreTarget) -> None:
    """The golden statements, in order, on a real database; the tables then have the types,
    the NOT NULL and (Postgres) the persistence the statements asked for."""
    if store_kind == "duckdb":
        d, prefix = dialect_class("duckdb:///:memory:")("duckdb:///:memory:"), PREFIX
    else:
        d, prefix = dialect_class(target.url)(target.url), target.schema_prefix
    steps = option_steps(d, prefix)
    golden = [
        (label, [s.replace(PREFIX, prefix) for s in sqls])
        for label, sqls in read_golden(golden_name(d.name))
    ]
    assert render(d, steps) == golden
    names = naming.Names(prefix, "", d.max_identifier_bytes)
    data = names.data_schema(STAGE)
    frame = names.physical("frame", KEYS["frame"])
    con = d.connect()
    try:
        for sql in d.create_schema(data):
            con.execute(d.render(sql))
        for step, (_, sqls) in zip(steps, golden, strict=True):
            if step.arrow:
                con.load_arrow(sqls, SOURCE, (data, frame), frame_data(ARROW), lambda _: None)
                continue
            for sql in sqls:
                con.execute(sql)
        rows = con.execute(
            "SELECT table_name, column_name, is_nullable, character_maximum_length "
            f"FROM information_schema.columns WHERE table_schema = '{data}' "
            "AND column_name IN ('id', 'key') ORDER BY table_name, column_name"
        )
        by_table = {(t.split("__")[0], c): (n, length) for t, c, n, length in rows}
        assert by_table[("frame", "id")][0] == "NO" and by_table[("orders", "id")][0] == "NO"
        assert by_table[("frame", "key")][0] == "YES" and by_table[("recent", "id")][0] == "YES"
        if d.name == "postgres":
            assert by_table[("frame", "key")][1] == 20 and by_table[("orders", "key")][1] == 20
            persistence = con.execute(
                "SELECT c.relname, c.relpersistence FROM pg_class c JOIN pg_namespace n "
                f"ON n.oid = c.relnamespace WHERE n.nspname = '{data}' AND c.relkind = 'r'"
            )
            assert {p for _, p in persistence} == {"u"} and len(persistence) == 3
        for name in ("orders", "recent"):
            physical = names.physical(name, KEYS[name])
            assert con.execute(f'SELECT COUNT(*) FROM "{data}"."{physical}"') == [(2,)]
    finally:
        for sql in d.drop_schema(data):
            con.execute(d.render(sql))
        con.close()
        d.close()
