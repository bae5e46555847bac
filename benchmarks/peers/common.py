"""What every peer script shares: arguments, fresh databases, the raw ceilings and the figures.

Only the standard library, duckdb, psycopg2, pyarrow and ADBC are used here (every peer venv
has them); the chain's statements are `benchmarks.tiny_tasks`'s, the figures
`benchmarks.figures`' records.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import figures as fig
from ..tiny_tasks import raw_statements, source_sql

PG_BASE = os.environ.get(
    "TABLEDAG_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def changed_at(tasks: int) -> int:
    """The chain model whose filter changes in the one-change run (as benchmarks.overhead):
    the middle one, so half the chain runs again."""
    return tasks // 2


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--store", choices=["duckdb", "postgres"], required=True)
    p.add_argument("--tasks", type=int, default=200)
    p.add_argument("--frame", required=True, help="the parquet file of the frame load")
    p.add_argument("--reps", type=int, default=1)
    p.add_argument("--json", default=None)
    return p


def progress(tool: str, message: str) -> None:
    print(f"  [{tool}] {message}", flush=True)


def write_frame(path: Path, rows: int) -> None:
    """The frame load's data (benchmarks.data's mixed table) as one parquet file."""
    import pyarrow.parquet as pq

    from ..data import mixed_table

    pq.write_table(mixed_table(rows), path)


def chain_sql(tasks: int, changed: bool) -> list[tuple[str, str]]:
    """(model name, SELECT over `{prev}`) for the chain, in order."""
    out = []
    for n in range(tasks):
        name = f"t{n // (tasks // 5)}_{n % (tasks // 5):02d}"
        if n == 0:
            out.append((name, source_sql()))
        else:
            low = -2.0 if changed and n == changed_at(tasks) else -1.0
            out.append((name, "SELECT id, v, s FROM {prev} WHERE v > " + repr(low)))
    return out


@dataclass
class Db:
    store: str
    url: str
    """SQLAlchemy-style URL (duckdb:///path or postgresql://...)."""
    path: str = ""
    """DuckDB file, or the Postgres database name."""


@contextlib.contextmanager
def fresh_db(store: str, root: Path) -> Iterator[Db]:
    if store == "duckdb":
        path = root / f"db_{uuid.uuid4().hex[:8]}.duckdb"
        try:
            yield Db(store, f"duckdb:///{path}", str(path))
        finally:
            for suffix in ("", ".wal"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        return
    import psycopg2

    name = f"bench_peer_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(PG_BASE)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = PG_BASE.rpartition("/")
    try:
        yield Db(store, f"{base}/{name}", name)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def raw_chain(db: Db, tasks: int) -> float:
    """The ceiling of the chain: the same CREATE TABLE AS statements sent directly."""
    statements = raw_statements(5, tasks // 5)
    gc.collect()
    t0 = time.perf_counter()
    if db.store == "duckdb":
        import duckdb

        con = duckdb.connect(db.path)
        for sql in statements:
            con.execute(sql)
        con.close()
    else:
        import psycopg2

        con = psycopg2.connect(db.url)
        con.autocommit = True
        with con.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
        con.close()
    return time.perf_counter() - t0


def raw_frame_load(db: Db, frame: str) -> float:
    """The ceiling of the frame load: read the parquet file with pyarrow, then DuckDB's CREATE
    TABLE AS from Arrow / ADBC `adbc_ingest` (binary COPY)."""
    import pyarrow.parquet as pq

    gc.collect()
    t0 = time.perf_counter()
    table = pq.read_table(frame)
    if db.store == "duckdb":
        import duckdb

        con = duckdb.connect(db.path)
        con.register("src", table)
        con.execute("CREATE TABLE frame AS SELECT * FROM src")
        con.close()
    else:
        import adbc_driver_postgresql.dbapi as adbc

        con = adbc.connect(db.url)
        with con.cursor() as cur:
            cur.adbc_ingest("frame", table, mode="create")
        con.commit()
        con.close()
    return time.perf_counter() - t0


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    """Seconds `fn(*args, **kwargs)` takes (after a garbage collection)."""
    gc.collect()
    t0 = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - t0


class Figures:
    """Collects one tool's figures on one store; medians over repetitions."""

    def __init__(self, tool: str, store: str, version: str) -> None:
        self.tool = tool
        self.store = store
        self.version = version
        self.samples: dict[str, list[float]] = {}
        self.collector = fig.Collector()
        self.collector.extra["peer_versions"] = {tool: version}

    def sample(self, key: str, seconds: float) -> None:
        self.samples.setdefault(key, []).append(seconds)

    def median(self, key: str) -> float | None:
        values = self.samples.get(key)
        return statistics.median(values) if values else None

    def emit(self, tasks: int, notes: dict[str, str] | None = None) -> None:
        notes = notes or {}
        raw = self.median("raw_chain")
        chain_ceiling = f"{tasks} CREATE TABLE AS sent directly"
        for key, name in (
            ("fresh", "chain: fresh"),
            ("no_change", "chain: no change"),
            ("one_change", "chain: one change"),
        ):
            seconds = self.median(key)
            if seconds is not None:
                self.collector.add(
                    part="peers",
                    store=self.store,
                    tool=self.tool,
                    name=name,
                    seconds=seconds,
                    ceiling=chain_ceiling,
                    ceiling_seconds=raw,
                    count=tasks,
                    note=notes.get(key),
                )
            elif key in notes:
                self.collector.skip("peers", self.store, f"{name}: {notes[key]}", self.tool)
        frame = self.median("frame")
        if frame is not None:
            self.collector.add(
                part="peers",
                store=self.store,
                tool=self.tool,
                name="frame load",
                seconds=frame,
                ceiling="pyarrow read + "
                + ("CREATE TABLE AS from Arrow" if self.store == "duckdb" else "ADBC ingest"),
                ceiling_seconds=self.median("raw_frame"),
                note=notes.get("frame"),
            )
        elif "frame" in notes:
            self.collector.skip("peers", self.store, f"frame load: {notes['frame']}", self.tool)

    def write(self, path: str | None) -> None:
        self.collector.write(path)


@contextlib.contextmanager
def workdir(tool: str) -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix=f"bench_{tool}_"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)
