"""The progress views a run draws (`tabledag.viz.progress`), fed by a real run's events."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
from rich.console import Console

from tabledag import Flow, Stage, Table, create_basic_config, materialize
from tabledag.core.progress import TableLoad, TaskEvent
from tabledag.viz.progress import LiveProgress, PlainProgress, describe_loads


def flow() -> Flow:
    @materialize(version="1")
    def numbers() -> Table:
        return Table(pa.table({"n": list(range(1000))}), "numbers")

    @materialize(lazy=True, input_type=str)
    def big(t: str) -> Table:
        return Table(f"SELECT n FROM {t} WHERE n > 500", "big")

    @materialize(version="1")
    def broken() -> None:
        raise ValueError("no")

    with Flow("progress") as f:
        with Stage("raw"):
            n = numbers()
            broken()
        with Stage("model"):
            big(n)
    return f


def test_events_carry_counts_and_loads(tmp_path: Path) -> None:
    events: list[TaskEvent] = []
    flow().run(
        config=create_basic_config(f"duckdb:///{tmp_path}/db.duckdb"), progress=events.append
    )
    ended = {e.task: e for e in events if e.state != "RUNNING"}
    assert ended["raw.numbers"].state == "COMPLETED"
    assert ended["raw.numbers"].tables == (
        TableLoad("numbers", 1000, ended["raw.numbers"].tables[0].bytes),
    )
    assert ended["raw.broken"].state == "FAILED" and ended["raw.broken"].tables == ()
    assert ended["model.big"].state == "SKIPPED"  # its stage's input stage did not commit
    last = events[-1].counts
    assert (last.total, last.done, last.failed, last.skipped) == (3, 1, 1, 1)


def test_plain_lines_and_the_live_view(tmp_path: Path) -> None:
    out = io.StringIO()
    config = create_basic_config(f"duckdb:///{tmp_path}/db.duckdb")
    flow().run(config=config, progress=PlainProgress(out))
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and lines[0].startswith("COMPLETED") and "(1,000 rows)" in lines[0]
    assert lines[1].startswith("FAILED") and "raw.broken" in lines[1]

    console = Console(file=io.StringIO(), record=True, width=100, force_terminal=True)
    with LiveProgress(console) as live:
        flow().run(config=config, progress=live)
    shown = console.export_text()
    # (the stage did not commit, so nothing is cached: the second run does it all again)
    assert "3/3 tasks, 1 done, 1 failed, 1 skipped" in shown, shown
    assert "RUNNING" in shown and "raw.numbers" in shown and "1,000 rows" in shown


def test_throughput_only_for_slow_loads() -> None:
    loads = (TableLoad("a", 2_000_000, 16_000_000), TableLoad("b", 5, 40, hit=True))
    assert describe_loads(loads, 0.5) == "2,000,000 rows"
    assert describe_loads(loads, 2.0) == "2,000,000 rows, 8.0 MB/s"
    assert describe_loads((TableLoad("q"),), 3.0) == ""  # a query's table: nothing passed here
