"""Tasks for the engine tests: module-level (so they pickle to worker processes), meeting
through the database or a barrier, never through timing."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import pyarrow as pa

from tabledag import materialize

MEET_TIMEOUT = 60.0
"""Seconds a task waits for its partners before failing: a guard against a hang, not a
measurement (tasks that run at once meet at once)."""

_barriers: dict[str, threading.Barrier] = {}
_barriers_lock = threading.Lock()


def meet_in_process(name: str, parties: int) -> None:
    """Return once `parties` callers (threads of this process) have arrived."""
    with _barriers_lock:
        barrier = _barriers.setdefault(name, threading.Barrier(parties, timeout=MEET_TIMEOUT))
    barrier.wait()


def meet_in_database(url: str, table: str, me: str, parties: int) -> None:
    """Return once `parties` callers (anywhere) have written their name into `table` (a
    qualified, quoted name of a table the test made)."""
    import psycopg2

    con = psycopg2.connect(url)
    try:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f"INSERT INTO {table} VALUES (%s)", (me,))
            deadline = time.monotonic() + MEET_TIMEOUT
            while True:
                cur.execute(f"SELECT count(*) FROM {table}")
                (count,) = cur.fetchone()
                if count >= parties:
                    return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{me}: only {count} of {parties} tasks ever ran at once")
                cur.execute("SELECT pg_sleep(0.05)")
    finally:
        con.close()


def meet(where: dict[str, Any], me: str) -> None:
    if where["kind"] == "process":
        meet_in_process(where["name"], where["parties"])
    else:
        meet_in_database(where["url"], where["name"], me, where["parties"])


@materialize(version="1")
def rows(n: int) -> pa.Table:
    return pa.table({"i": list(range(n))})


@materialize
def meeting(where: dict[str, Any], me: str, data: Any = None) -> pa.Table:
    """Writes one row after meeting its partners."""
    meet(where, me)
    return pa.table({"who": [me], "pid": [os.getpid()]})


@materialize(input_type=pa.Table)
def count_rows(data: pa.Table) -> pa.Table:
    return pa.table({"n": [data.num_rows]})


@materialize(input_type=pa.Table)
def explode_on(data: pa.Table) -> pa.Table:
    raise ValueError("this task fails on purpose")


@materialize
def die() -> pa.Table:
    """Kills the process it runs in, as the OOM killer would."""
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


@materialize
def pid_table() -> pa.Table:
    return pa.table({"pid": [os.getpid()]})


@materialize(lazy=True, input_type=str)
def lazy_double(table: str) -> str:
    return f"SELECT i * 2 AS i FROM {table}"
