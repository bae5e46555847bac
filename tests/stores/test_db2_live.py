"""On a live Db2 server (`$TABLEDAG_TEST_DB2_URL`, e.g. the compose service): the golden
statements in order, and a flow of Arrow, SQL-text and SQLAlchemy tasks run twice. Skipped
with a reason when the variable is not set (no Db2 server on these machines)."""

from __future__ import annotations

import os
import uuid

import pyarrow as pa
import pytest
import sqlalchemy as sa

from tabledag import Flow, Stage, create_basic_config, materialize
from tabledag.stores.sql import naming
from tabledag.stores.sql.dialects.db2 import DB2
from tests.conftest import DB2_ENV, drop_db2_schemas
from tests.stores.test_golden_sql import (
    ARROW,
    KEYS,
    PREFIX,
    SOURCE,
    STAGE,
    UPGRADE,
    frame_data,
    lifecycle,
    read_golden,
    render,
)

pytestmark = pytest.mark.db2


@pytest.fixture
def db2_url() -> str:
    url = os.environ.get(DB2_ENV)
    if not url:
        pytest.skip(f"no Db2 server: set {DB2_ENV} to run")
    pytest.importorskip("ibm_db", reason="ibm_db is not installed (pip install 'tabledag[db2]')")
    return url


def test_golden_statements_run_on_db2(db2_url: str) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    d = DB2(db2_url)
    steps = lifecycle(d, prefix)
    golden = [
        (label, [s.replace(PREFIX, prefix) for s in sqls]) for label, sqls in read_golden("db2")
    ]
    assert render(d, steps) == golden
    names = naming.Names(prefix, "", d.max_identifier_bytes)
    data, frame = names.data_schema(STAGE), names.physical("frame", KEYS["frame"])
    schema = ARROW.remove(ARROW.get_field_index("tags"))
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
                meta = f'"{names.schema(naming.METADATA)}"."tables"'
                con.execute(f'ALTER TABLE {meta} DROP COLUMN "sql"')
                con.execute(f"CALL SYSPROC.ADMIN_CMD('REORG TABLE {meta}')")
            if step.arrow:
                sent: list[str] = []
                con.load_arrow(sqls, SOURCE, (data, frame), frame_data(schema), sent.append)
                assert sent[: len(sqls)] == sqls
                continue
            rows = [con.execute(sql) for sql in sqls]
            if label == "read: a physical table":
                assert sorted(r[:2] for r in rows[0]) == [(2, "b"), (3, "größe")]
                view = f'SELECT "id" FROM "{names.schema(STAGE)}"."orders" ORDER BY "id"'
                assert con.execute(view) == [(2,), (3,)]
        back = con.read_arrow(f'SELECT * FROM "{data}"."{frame}" ORDER BY "id"')
        assert back.column("key").to_pylist() == ["a", "b", "größe"]
    finally:
        con.close()
        drop_db2_schemas(db2_url, prefix)


calls: list[str] = []


@materialize(version="1")
def source() -> pa.Table:
    calls.append("source")
    return pa.table({"id": [1, 2, 3], "key": ["a", "b", "größe"], "x": [0.5, None, 2.0]})


@materialize(lazy=True, input_type=str)
def from_text(t: str) -> str:
    calls.append("from_text")
    return f'WITH r AS (SELECT "id", "key" FROM {t} WHERE "id" > 1) SELECT * FROM r'


@materialize(lazy=True, input_type=sa.Table)
def from_sqlalchemy(t: sa.Table) -> sa.Select:
    calls.append("from_sqlalchemy")
    return sa.select(t.c.id, t.c.x).where(t.c.id >= 2).order_by(t.c.id).limit(5)


@materialize(input_type=pa.Table)
def counts(a: pa.Table, b: pa.Table) -> pa.Table:
    return pa.table({"a": [a.num_rows], "b": [b.num_rows]})


def test_a_flow_runs_twice_on_db2(db2_url: str) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    with Flow("db2") as flow:
        with Stage("raw"):
            frame = source()
        with Stage("derived"):
            counted = counts(from_text(frame), from_sqlalchemy(frame))
    try:
        calls.clear()
        result = flow.run(config=create_basic_config(db2_url, schema_prefix=prefix))
        assert result.successful, result.exception
        assert result.get(counted).to_pylist() == [{"a": 2, "b": 2}]
        assert result.get(frame).column("key").to_pylist() == ["a", "b", "größe"]
        calls.clear()
        again = flow.run(config=create_basic_config(db2_url, schema_prefix=prefix))
        assert again.successful, again.exception
        assert sorted(calls) == ["from_sqlalchemy", "from_text"]  # source is a cache hit
    finally:
        drop_db2_schemas(db2_url, prefix)
