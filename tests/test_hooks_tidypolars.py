"""tidypolars tibbles as task outputs and inputs, on every store.

tidypolars is in the `test` extra where it installs (Python < 3.12) and in `nox -s
tests_compat`; elsewhere these tests skip.
"""

from __future__ import annotations

import importlib
from typing import Any

import pyarrow as pa
import pytest

from tabledag import Config, Flow, Stage, materialize

from . import tasks
from .conftest import StoreTarget, required
from .dbutil import read_view

tidypolars = (
    importlib.import_module("tidypolars")  # a missing library fails where it is required
    if required("tidypolars")
    else pytest.importorskip(
        "tidypolars",
        reason="tidypolars is not installed (pip install 'tabledag[tidypolars]'; Python < 3.12)",
    )
)
import polars as pl  # noqa: E402  # after the skip: only where tidypolars installs

Tibble: Any = getattr(tidypolars, "Tibble", None) or tidypolars.tibble
"""The tibble class: `tibble` since tidypolars 0.3, `Tibble` before."""

EXPECTED = tasks.canonical_rows(tasks.base_data())


def rows(value: Any) -> list[dict[str, Any]]:
    """Canonical rows of a tibble (it hides `to_arrow`) or any other frame."""
    if isinstance(value, Tibble):
        value = value.as_polars() if hasattr(value, "as_polars") else value.to_polars()
    return tasks.canonical_rows(value)


@materialize(version="1")
def out_tibble() -> Any:
    return tidypolars.from_polars(pl.from_arrow(tasks.base_data()))


@materialize(input_type=Tibble)
def tibble_filter(t: Any) -> Any:
    assert isinstance(t, Tibble), type(t)
    # tidypolars verbs, so the object stays a tibble through the task
    return t.filter(tidypolars.col("id") >= 1).arrange("id")


@materialize(input_type=Tibble)
def tibble_rows(t: Any) -> Any:
    assert isinstance(t, Tibble), type(t)
    return t


class TibbleFlow:
    def __init__(self, config: Config) -> None:
        self.config = config
        with Flow("tibbles") as flow:
            with Stage("src"):
                source = tasks.src()
            with Stage("out"):
                self.out = {"tibble": out_tibble(), "from_tibble_input": tibble_filter(source)}
            with Stage("inp"):
                self.inp = {
                    (out, kind): task.with_name(f"{kind}_from_{out}")(ref)
                    for out, ref in self.out.items()
                    for kind, task in (
                        ("tibble", tibble_rows),
                        ("pyarrow", tasks.in_pyarrow),
                        ("polars", tasks.in_polars),
                        ("sql", tasks.in_str),
                    )
                }
        self.result = flow.run(config=config)


@pytest.fixture(scope="module")
def tibbles(module_target: StoreTarget) -> TibbleFlow:
    return TibbleFlow(module_target.config())


def test_tibble_flow_succeeds(tibbles: TibbleFlow) -> None:
    assert tibbles.result.successful, repr(tibbles.result.exception)


@pytest.mark.parametrize("out", ["tibble", "from_tibble_input"])
def test_tibble_output_is_written(tibbles: TibbleFlow, out: str) -> None:
    ref = tibbles.out[out]
    assert rows(tibbles.result.get(ref, as_type=pa.Table)) == EXPECTED
    # ... and shown by its stage view, as any SQL client sees it.
    shown = read_view(tibbles.config, "out", ref.call.name, order_by="id")
    assert [r[0] for r in shown] == [1, 2, 3]
    assert [r[1] for r in shown] == ["a", None, "c"]


@pytest.mark.parametrize("kind", ["tibble", "pyarrow", "polars", "sql"])
@pytest.mark.parametrize("out", ["tibble", "from_tibble_input"])
def test_tibble_output_read_back_as_input_type(tibbles: TibbleFlow, out: str, kind: str) -> None:
    assert rows(tibbles.result.get(tibbles.inp[(out, kind)], as_type=pa.Table)) == EXPECTED


def test_result_get_as_tibble(tibbles: TibbleFlow) -> None:
    value = tibbles.result.get(tibbles.out["tibble"], as_type=Tibble)
    assert isinstance(value, Tibble)
    assert rows(value) == EXPECTED
    # A tibble input task's output reads back as a tibble by default (its input_type).
    assert isinstance(tibbles.result.get(tibbles.inp[("tibble", "tibble")]), Tibble)
