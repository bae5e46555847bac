"""Runs and readers at once, on a real PostgreSQL: two runs of one flow, readers during commits
(in both lock orders, at READ COMMITTED and REPEATABLE READ), a run killed at a known point,
and a run whose input tables other runs' cleanups would drop.

A run that must be caught somewhere signals it through the `fault_point` seam (tests/faults.py)
by creating a file; tests wait for that file or for a lock wait visible in `pg_locks`, never
for a length of time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]

FLOW = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    import pyarrow as pa
    import ibis
    from tabledag import Flow, Stage, materialize
    from tests.faults import faulty_config

    ROWS = int(os.environ.get("ROWS", "1000"))
    VALUE = int(os.environ.get("VALUE", "1"))
    ONLY_RAW = os.environ.get("ONLY_RAW") == "1"
    GATE = os.environ.get("GATE")

    @materialize()
    def numbers():
        return pa.table({"i": pa.array(range(ROWS), pa.int64()),
                         "v": pa.array([VALUE] * ROWS, pa.int64())})

    @materialize()
    def other():
        return pa.table({"w": pa.array([VALUE], pa.int64())})

    @materialize(lazy=True, input_type=ibis.Table)
    def total(t):
        return t.aggregate(n=t.count(), s=t.v.sum())

    @materialize(lazy=True, input_type=str)
    def gated(t):
        # Returns only when the test opens the gate; its SQL then reads the input table.
        if GATE:
            Path(GATE + ".waiting").touch()
            while not Path(GATE).exists():
                time.sleep(0.01)
        return f"SELECT count(*) AS n, sum(v) AS s FROM {t}"

    with Flow("f") as flow:
        with Stage("raw"):
            n = numbers()
            other()
        if not ONLY_RAW:
            with Stage("model"):
                total(n)
                gated(n)

    args = json.loads(os.environ.get("FAULTS", "{}"))
    config = faulty_config(os.environ["URL"], schema_prefix=os.environ["PREFIX"], **args)
    result = flow.run(config=config)
    print("OK" if result.successful else f"FAILED {result.exception!r}")
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
    env = {**os.environ, "URL": url, "PREFIX": prefix, "PYTHONPATH": str(ROOT)}
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
        cwd=ROOT,
    )


def _finish(process: subprocess.Popen) -> None:
    out, err = process.communicate(timeout=180)
    assert out.strip() == "OK", (out, err[-3000:])


def _until(condition: Callable[[], bool], what: str, process: subprocess.Popen) -> None:
    """Wait for `condition`; fail (not hang) if the run ends first or never gets there."""
    deadline = time.monotonic() + 120
    while not condition():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the run ended before {what}: {out} {err[-2000:]}")
        if time.monotonic() > deadline:
            process.kill()
            out, err = process.communicate()
            pytest.fail(f"the run never got to {what}: {out} {err[-3000:]}")
        time.sleep(0.01)


def _total(con, prefix: str) -> tuple:
    with con.cursor() as cur:
        cur.execute(f'SELECT n, s FROM "{prefix}model".total')
        return cur.fetchone()


def _waits_for_a_lock(monitor) -> Callable[[], bool]:
    """True once some tabledag session waits for a relation lock (the commit, blocked).

    `monitor` must be in autocommit: statistics views are a snapshot per transaction."""

    def check() -> bool:
        with monitor.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                "WHERE NOT l.granted AND l.locktype = 'relation' "
                "AND a.application_name = 'tabledag'"
            )
            return cur.fetchone()[0] > 0

    return check


def test_two_processes_running_one_flow_agree(pg) -> None:
    con, script, env, prefix = pg
    runs = [_run(script, env, ROWS="20000"), _run(script, env, ROWS="20000")]
    for process in runs:
        _finish(process)
    assert _total(con, prefix) == (20000, 20000)
    with con.cursor() as cur:  # one generation of each table, not two competing ones
        cur.execute(
            f"SELECT count(*) FROM \"{prefix}tabledag_metadata\".tables WHERE stage = 'raw'"
        )
        assert cur.fetchone()[0] == 2


def test_reader_never_sees_a_half_committed_stage(pg) -> None:
    """READ COMMITTED: every statement sees one generation, old or new."""
    con, script, env, prefix = pg
    _finish(_run(script, env, VALUE="1"))
    seen: set[tuple] = set()
    writer = _run(script, env, VALUE="2")
    reader = con.cursor()
    while writer.poll() is None:
        reader.execute(f'SELECT n, s FROM "{prefix}model".total')  # must never fail
        seen.add(reader.fetchone())
    _finish(writer)
    assert seen <= {(1000, 1000), (1000, 2000)}
    assert _total(con, prefix) == (1000, 2000)


@pytest.mark.parametrize("first", ["numbers", "other"])
def test_a_commit_never_deadlocks_with_a_reader(pg, first: str) -> None:
    import psycopg2

    """A reader holding one view of the stage, then asking for the other, in either order:
    the commit gives way (it never waits long while holding a lock) and then succeeds."""
    con, script, env, prefix = pg
    _finish(_run(script, env, VALUE="1", ONLY_RAW="1"))
    second = "other" if first == "numbers" else "numbers"
    con.autocommit = False
    reader = con.cursor()
    reader.execute(f'SELECT count(*) FROM "{prefix}raw".{first}')  # holds its view's lock
    writer = _run(script, env, VALUE="2", ONLY_RAW="1")
    monitor = psycopg2.connect(env["URL"])
    monitor.autocommit = True
    try:
        _until(_waits_for_a_lock(monitor), "waiting for the reader's lock", writer)
    finally:
        monitor.close()
    reader.execute(f'SELECT count(*) FROM "{prefix}raw".{second}')  # the other order
    assert reader.fetchone()[0] in (1, 1000)
    con.commit()
    con.autocommit = True
    _finish(writer)
    with con.cursor() as cur:
        cur.execute(f'SELECT DISTINCT v FROM "{prefix}raw".numbers')
        assert cur.fetchall() == [(2,)]


def test_repeatable_read_sees_one_generation_while_it_lasts(pg, tmp_path: Path) -> None:
    """REPEATABLE READ: a transaction whose snapshot is older than the new tables keeps seeing
    the old generation, whole and non-empty: the commit waits for it to end."""
    con, script, env, prefix = pg
    _finish(_run(script, env, VALUE="1"))
    con.autocommit = False
    con.set_session(isolation_level="REPEATABLE READ")
    reader = con.cursor()
    reader.execute("SELECT 1")  # the snapshot starts here, before the next run writes
    waiting = tmp_path / "waiting"
    faults = f'{{"signal_at": ["wait", "{waiting}"]}}'
    writer = _run(script, env, VALUE="2", FAULTS=faults)
    _until(waiting.exists, "waiting for the older snapshot", writer)
    reader.execute(f'SELECT n, s FROM "{prefix}model".total')
    assert reader.fetchone() == (1000, 1000)
    reader.execute(f'SELECT count(*), sum(v) FROM "{prefix}raw".numbers')
    assert reader.fetchone() == (1000, 1000)
    con.commit()
    con.set_session(isolation_level="READ COMMITTED")
    con.autocommit = True
    _finish(writer)
    assert _total(con, prefix) == (1000, 2000)


def test_killed_run_leaves_the_committed_stage_intact(pg) -> None:
    """SIGKILL right after the new source table is created, before its rows are loaded."""
    con, script, env, prefix = pg
    _finish(_run(script, env, VALUE="1"))
    killed = _run(script, env, VALUE="3", FAULTS='{"kill_at": ["write", 1]}')
    killed.communicate(timeout=120)
    assert killed.returncode == -9
    assert _total(con, prefix) == (1000, 1000)
    with con.cursor() as cur:
        cur.execute(f'SELECT count(*), sum(v) FROM "{prefix}raw".numbers')
        assert cur.fetchone() == (1000, 1000)
    # the next run with the same data replaces the half-written table and commits
    _finish(_run(script, env, VALUE="3"))
    assert _total(con, prefix) == (1000, 3000)


def test_cleanup_spares_tables_another_run_still_reads(pg, tmp_path: Path) -> None:
    """Run A holds its input from generation 1 while runs B and C commit generations 2 and 3
    of that stage: their cleanups must not drop A's input."""
    con, script, env, prefix = pg
    gate = tmp_path / "gate"
    a = _run(script, env, VALUE="1", GATE=str(gate))
    _until(Path(str(gate) + ".waiting").exists, "the gated task", a)
    _finish(_run(script, env, VALUE="2", ONLY_RAW="1"))
    _finish(_run(script, env, VALUE="3", ONLY_RAW="1"))
    gate.touch()
    _finish(a)  # its gated query read generation 1's table, which had to survive
    with con.cursor() as cur:
        cur.execute(f'SELECT n, s FROM "{prefix}model".gated')
        assert cur.fetchone() == (1000, 1000)
    # once no other run is active, a cleanup drops what is no longer recorded
    _finish(_run(script, env, VALUE="4", ONLY_RAW="1"))
    with con.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s",
            (f"{prefix}raw__data",),
        )
        assert cur.fetchone()[0] == 4  # numbers and other, of generations 3 and 4
