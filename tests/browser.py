"""Headless Chromium for the browser tests, and the showcase run whose report and graph the
README shows (`python -m tests.browser docs/images` rewrites those screenshots).

Chromium is Debian's `chromium` package (`.ci/run` and `nox -s browser` install it). Outside CI
a machine without it skips the browser tests, saying so; in CI (CI=true) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import pyarrow as pa

from tabledag import (
    Flow,
    GroupNode,
    Stage,
    ThreadEngine,
    VisualizationStyle,
    create_basic_config,
    materialize,
)

ARTIFACTS = Path(
    os.environ.get(
        "TABLEDAG_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts"
    )
)
"""Where the browser tests keep their screenshots (git-ignored)."""


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _args(binary: str, *extra: str) -> list[str]:
    profile = tempfile.mkdtemp(prefix="tabledag-chromium-")
    return [
        binary,
        "--headless",
        "--no-sandbox",  # root in CI's container
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *extra,
    ]


def dump_dom(page: Path) -> str:
    """The DOM as Chromium built it from the file (what it would show)."""
    binary = chromium()
    assert binary is not None
    done = subprocess.run(
        [*_args(binary, "--dump-dom"), page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def screenshot(page: Path, target: Path, size: tuple[int, int] = (1100, 900)) -> Path:
    binary = chromium()
    assert binary is not None
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            *_args(binary, f"--screenshot={target}", f"--window-size={size[0]},{size[1]}"),
            page.resolve().as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return target


# -- the showcase run ----------------------------------------------------------------------------

_meet = threading.Barrier(2, timeout=60)


@materialize  # unversioned: runs every time; its table is kept while its data is the same
def customers() -> pa.Table:
    _meet.wait()  # runs beside `orders`: the timeline shows them side by side
    return pa.table({"id": [1, 2, 3], "segment": ["retail", "retail", "business"]})


@materialize
def orders() -> pa.Table:
    _meet.wait()
    n = 5_000
    return pa.table(
        {"customer": [i % 3 + 1 for i in range(n)], "amount": [float(i % 97) for i in range(n)]}
    )


THRESHOLD = [50]
"""The showcase's second run raises it: that query changes, the others do not."""


@materialize(lazy=True, input_type=str)
def big_orders(orders: str) -> str:
    return f"SELECT customer, amount FROM {orders} WHERE amount > {THRESHOLD[0]}"


@materialize(lazy=True, input_type=str)
def revenue(orders: str, customers: str) -> str:
    return (
        f"SELECT c.segment, SUM(o.amount) AS revenue FROM {orders} AS o "
        f"JOIN {customers} AS c ON o.customer = c.id GROUP BY c.segment"
    )


@materialize(input_type=pa.Table)
def export(revenue: pa.Table) -> pa.Table:
    raise PermissionError("cannot write /exports/revenue.csv: read-only file system")


def showcase_flow() -> Flow:
    with Flow("shop") as flow:
        with Stage("raw"):
            c = customers()
            o = orders()
        with Stage("model"):
            big_orders(o)
            with GroupNode("reporting", style=VisualizationStyle(box_color_always="#e3ecff")):
                r = revenue(o, c)
        with Stage("publish"):
            export(r)
    return flow


def showcase(directory: Path) -> tuple[Path, Path]:
    """Run the showcase flow twice on 2 threads, the second time with one query changed (so it
    finds the other tables kept); write the second run's report and graph; their paths."""
    config = create_basic_config(f"duckdb:///{directory}/shop.duckdb", instance_id="shop")
    flow = showcase_flow()
    result: Any = None
    for threshold in (50, 60):
        THRESHOLD[0] = threshold
        _meet.reset()
        result = flow.run(config=config, engine=ThreadEngine(2))
    report, graph = directory / "run.html", directory / "flow.svg"
    result.report(report)
    result.visualize(path=graph)
    config.store.close()
    return report, graph


def main(target: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        report, graph = showcase(Path(scratch))
        screenshot(report, Path(target) / "report.png", (1100, 1000))
        screenshot(graph, Path(target) / "graph.png", (420, 520))
    print(f"wrote {target}/report.png and {target}/graph.png")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/images")
