"""Two runs at once, a reader during commits, and a run killed mid-load, on a real PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres

FLOW = textwrap.dedent(
    """
    import os, sys, time
    import pyarrow as pa
    import ibis
    from tabledag import Flow, Stage, materialize, create_basic_config

    ROWS = int(os.environ.get("ROWS", "1000"))
    VALUE = int(os.environ.get("VALUE", "1"))

    @materialize()
    def numbers():
        return pa.table({"i": pa.array(range(ROWS), pa.int64()),
                         "v": pa.array([VALUE] * ROWS, pa.int64())})

    @materialize(lazy=True, input_type=ibis.Table)
    def total(t):
        return t.aggregate(n=t.count(), s=t.v.sum())

    with Flow("f") as flow:
        with Stage("raw"):
            n = numbers()
        with Stage("model"):
            total(n)

    config = create_basic_config(os.environ["URL"], schema_prefix=os.environ["PREFIX"])
    result = flow.run(config=config)
    print("OK" if result.successful else f"FAILED {result.exception}")
    """
)


@pytest.fixture
def pg(tmp_path: Path):
    psycopg2 = pytest.importorskip("psycopg2")
    url = os.environ.get(
        "TABLEDAG_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    try:
        con = psycopg2.connect(url, connect_timeout=3)
    except psycopg2.OperationalError as error:
        if os.environ.get("TABLEDAG_REQUIRE_SERVICES") == "1":
            pytest.fail(f"PostgreSQL at TABLEDAG_TEST_POSTGRES_URL is required: {error}")
        pytest.skip(f"no PostgreSQL at TABLEDAG_TEST_POSTGRES_URL ({error})")
    con.autocommit = True
    prefix = f"c{uuid.uuid4().hex[:8]}_"
    script = tmp_path / "flow.py"
    script.write_text(FLOW)
    env = {**os.environ, "URL": url, "PREFIX": prefix}
    yield con, script, env, prefix
    with con.cursor() as cur:
        cur.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (prefix + "%",))
        for (schema,) in cur.fetchall():
            cur.execute(f'DROP SCHEMA "{schema}" CASCADE')
    con.close()


def _run(script: Path, env: dict, **extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(script)],
        env={**env, **extra},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _total(con, prefix: str) -> tuple:
    with con.cursor() as cur:
        cur.execute(f'SELECT n, s FROM "{prefix}model".total')
        return cur.fetchone()


def test_two_processes_running_one_flow_agree(pg) -> None:
    con, script, env, prefix = pg
    runs = [_run(script, env, ROWS="20000"), _run(script, env, ROWS="20000")]
    outputs = [p.communicate(timeout=120) for p in runs]
    for out, err in outputs:
        assert out.strip() == "OK", err
    assert _total(con, prefix) == (20000, 20000)
    with con.cursor() as cur:  # one generation of each table, not two competing ones
        cur.execute(
            f"SELECT count(*) FROM \"{prefix}tabledag_metadata\".tables WHERE stage = 'raw'"
        )
        assert cur.fetchone()[0] == 1


def test_reader_never_sees_a_half_committed_stage(pg) -> None:
    con, script, env, prefix = pg
    first = _run(script, env, VALUE="1")
    assert first.communicate(timeout=120)[0].strip() == "OK"
    seen: set[tuple] = set()
    writer = _run(script, env, VALUE="2")
    deadline = time.monotonic() + 120
    reader = con.cursor()
    while writer.poll() is None and time.monotonic() < deadline:
        reader.execute(f'SELECT n, s FROM "{prefix}model".total')  # must never fail
        seen.add(reader.fetchone())
    out, err = writer.communicate(timeout=60)
    assert out.strip() == "OK", err
    assert seen <= {(1000, 1000), (1000, 2000)}
    assert _total(con, prefix) == (1000, 2000)


def test_killed_run_leaves_the_committed_stage_intact(pg) -> None:
    con, script, env, prefix = pg
    assert _run(script, env, VALUE="1").communicate(timeout=120)[0].strip() == "OK"
    big = _run(script, env, VALUE="3", ROWS="3000000")
    time.sleep(2.5)  # inside the 3M-row load of a new physical table
    assert big.poll() is None, "the run finished before it could be killed; load more rows"
    big.send_signal(signal.SIGKILL)
    big.communicate(timeout=30)
    assert _total(con, prefix) == (1000, 1000)
    with con.cursor() as cur:
        cur.execute(f'SELECT count(*), sum(v) FROM "{prefix}raw".numbers')
        assert cur.fetchone() == (1000, 1000)
    # the next run cleans up whatever the killed one left and commits normally
    again = _run(script, env, VALUE="4")
    out, err = again.communicate(timeout=120)
    assert out.strip() == "OK", err
    assert _total(con, prefix) == (1000, 4000)
