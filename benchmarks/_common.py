"""Shared plumbing: command line, fresh databases, interleaved timing, and report tables."""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


# -- command line ----------------------------------------------------------------------------------


def parser(
    description: str, stores: tuple[str, ...] = ("duckdb", "postgres")
) -> argparse.ArgumentParser:
    """The options every benchmark takes; the report always goes to stdout. `stores`: the
    `--store` choices (the first is the default)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--store",
        choices=list(stores),
        default=stores[0],
        help="the store to measure on (Postgres: $TABLEDAG_BENCH_POSTGRES_URL; parquet: a "
        "ParquetTableStore in a temporary directory, its catalogue a DuckDB file there)",
    )
    p.add_argument("--quick", action="store_true", help="small sizes, few repetitions (smoke run)")
    p.add_argument("--reps", type=int, default=None, help="timed repetitions (after a warm-up)")
    p.add_argument("--json", default=None, help="also write the report as JSON to this path")
    p.add_argument(
        "--save",
        action="store_true",
        help="write result files into benchmarks/results/ (default: print only)",
    )
    return p


# -- reports ---------------------------------------------------------------------------------------


@dataclass
class Section:
    heading: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Report:
    title: str
    store: str
    params: dict[str, Any] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)
    """Preformatted text (profiles) printed after the tables."""
    skipped: str | None = None

    def section(self, heading: str, headers: list[str]) -> Section:
        s = Section(heading, headers)
        self.sections.append(s)
        return s

    def text(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in self.params.items())
        out = [f"== {self.title} [{self.store}] {params}".rstrip()]
        if self.skipped:
            out.append(f"skipped: {self.skipped}")
        for s in self.sections:
            out += ["", f"-- {s.heading}", *_aligned(s.headers, s.rows)]
        if self.notes:
            out += ["", *(f"note: {n}" for n in self.notes)]
        for block in self.blocks:
            out += ["", block]
        return "\n".join(out)

    def markdown(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in self.params.items())
        out = [f"## {self.title} — {self.store}", ""]
        if params:
            out += [f"_{params}_", ""]
        if self.skipped:
            out += [f"**skipped:** {self.skipped}", ""]
        for s in self.sections:
            out += [f"**{s.heading}**", ""]
            out.append("| " + " | ".join(s.headers) + " |")
            out.append("|" + "|".join("---" for _ in s.headers) + "|")
            out += ["| " + " | ".join(r) + " |" for r in s.rows]
            out.append("")
        out += [f"- {n}" for n in self.notes]
        for block in self.blocks:
            out += ["", "```", block, "```"]
        return "\n".join(out).rstrip() + "\n"

    def emit(self, json_path: str | None) -> None:
        print(self.text(), flush=True)
        if json_path:
            Path(json_path).write_text(json.dumps(asdict(self), indent=1))


def _aligned(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]
    line = lambda cells: "  ".join(  # noqa: E731
        str(c).ljust(w) if i == 0 else str(c).rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=False))
    )
    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def ms(seconds: float, digits: int = 1) -> str:
    return f"{seconds * 1e3:.{digits}f}"


def ratio(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}x"


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


# -- timing ----------------------------------------------------------------------------------------


@dataclass
class Timings:
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")

    @property
    def best(self) -> float:
        return min(self.samples) if self.samples else float("nan")

    @property
    def spread(self) -> str:
        """min..max relative to the median, e.g. "-4%/+9%"."""
        if len(self.samples) < 2:
            return "-"
        m = self.median
        return f"-{(m - min(self.samples)) / m:.0%}/+{(max(self.samples) - m) / m:.0%}"


@dataclass
class Case:
    """One timed thing. `setup()` (untimed) returns a state for `run(state)` (timed; if it
    returns a float, that is the time); `teardown(state)` (untimed) cleans up."""

    name: str
    run: Callable[[Any], Any]
    setup: Callable[[], Any] = lambda: None
    teardown: Callable[[Any], None] = lambda state: None


def interleaved(cases: list[Case], reps: int, warmup: int = 1) -> dict[str, Timings]:
    """Run every case once per round, round after round (warm-up rounds discarded), so slow
    drifts of a noisy machine hit all cases alike. Returns per-case timings."""
    timings = {c.name: Timings() for c in cases}
    for round_ in range(warmup + reps):
        for case in cases:
            state = case.setup()
            try:
                gc.collect()
                started = time.perf_counter()
                measured = case.run(state)
                elapsed = time.perf_counter() - started
                if isinstance(measured, float):  # the case timed itself (e.g. in a child process)
                    elapsed = measured
            finally:
                case.teardown(state)
            if round_ >= warmup:
                timings[case.name].samples.append(elapsed)
    return timings


# -- databases -------------------------------------------------------------------------------------


class Target:
    """Where a benchmark's databases live; `fresh()` gives a new empty database each time."""

    kind: str

    @staticmethod
    def create(kind: str) -> Target:
        targets = {"duckdb": DuckDBTarget, "postgres": PostgresTarget, "parquet": ParquetTarget}
        return targets[kind]()

    def check(self) -> str | None:
        """None if usable, else why not (printed as "skipped: ...")."""
        return None

    @contextmanager
    def fresh(self) -> Iterator[FreshDb]:
        raise NotImplementedError

    def close(self) -> None:
        pass


@dataclass
class FreshDb:
    url: str
    """tabledag store URL."""
    raw_url: str
    """What the raw driver connects to (a file path for DuckDB, a libpq URI for Postgres)."""

    def config(self, **store_args: Any) -> Any:
        from tabledag import create_basic_config

        return create_basic_config(self.url, **store_args)


@dataclass
class ParquetDb(FreshDb):
    """A ParquetTableStore's instance: files under `parquet_base_path`, the catalogue at `url`;
    `raw_url` is a DuckDB file beside them for raw references."""

    directory: Path
    parquet_base_path: str

    def config(self, **store_args: Any) -> Any:
        from tabledag import Config

        args = {"parquet_base_path": self.parquet_base_path, "url": self.url, **store_args}
        return Config("pipeline", {"class": "tabledag.ParquetTableStore", "args": args})


class DuckDBTarget(Target):
    kind = "duckdb"

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="tabledag_bench_"))
        self._n = itertools.count()

    @contextmanager
    def fresh(self) -> Iterator[FreshDb]:
        path = self.root / f"db{next(self._n)}.duckdb"
        try:
            yield FreshDb(f"duckdb:///{path}", str(path))
        finally:
            for suffix in ("", ".wal", ".lock"):
                Path(str(path) + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class ParquetTarget(Target):
    """A ParquetTableStore on local disk: each `fresh()` is a new temporary directory holding
    the parquet files (`files/`), the DuckDB catalogue (`catalogue.duckdb`; `memory=True`: in
    memory) and a DuckDB file for raw references (`raw.duckdb`)."""

    kind = "parquet"

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="tabledag_bench_parquet_"))
        self._n = itertools.count()

    @contextmanager
    def fresh(self, memory: bool = False) -> Iterator[ParquetDb]:
        directory = self.root / f"instance{next(self._n)}"
        directory.mkdir()
        catalogue = "duckdb:///:memory:" if memory else f"duckdb:///{directory}/catalogue.duckdb"
        try:
            yield ParquetDb(
                catalogue, str(directory / "raw.duckdb"), directory, str(directory / "files")
            )
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class PostgresTarget(Target):
    kind = "postgres"

    def __init__(self) -> None:
        self.base = os.environ.get("TABLEDAG_BENCH_POSTGRES_URL", DEFAULT_PG_URL)
        self._n = itertools.count()
        self._tag = uuid.uuid4().hex[:6]

    def check(self) -> str | None:
        try:
            import tabledag.stores.sql.dialects.postgres  # noqa: F401
        except Exception as error:
            return f"tabledag.stores.sql.dialects.postgres cannot be imported ({error})"
        try:
            con = self._admin()
            con.close()
        except Exception as error:
            return f"cannot connect to {self.base}: {str(error).strip()}"
        return None

    def _admin(self) -> Any:
        import psycopg2

        con = psycopg2.connect(self.base)
        con.autocommit = True
        return con

    def url_for(self, database: str) -> str:
        parts = urlsplit(self.base)
        return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))

    @contextmanager
    def fresh(self) -> Iterator[FreshDb]:
        name = f"tdbench_{self._tag}_{next(self._n)}"
        admin = self._admin()
        try:
            with admin.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
            url = self.url_for(name)
            try:
                yield FreshDb(url, url)
            finally:
                with admin.cursor() as cur:
                    cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            admin.close()


# -- running a benchmark ---------------------------------------------------------------------------


def main_wrapper(
    title: str,
    args: argparse.Namespace,
    body: Callable[[Report, Target], None],
    params: dict[str, Any],
) -> int:
    """Run `body` against the chosen store; a missing or failing Postgres gives "skipped: ..."."""
    report = Report(title, args.store, params)
    target = Target.create(args.store)
    try:
        problem = target.check()
        if problem:
            report.skipped = problem
        else:
            try:
                body(report, target)
            except Exception as error:
                if args.store != "postgres":
                    raise
                report.skipped = f"the Postgres run failed: {type(error).__name__}: {error}"
                traceback.print_exc(file=sys.stderr)
    finally:
        target.close()
    report.emit(args.json)
    return 0


def silence_tabledag_logging() -> None:
    import logging

    logging.getLogger("tabledag").setLevel(logging.WARNING)
