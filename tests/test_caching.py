"""What re-runs and what is reused across runs, and that reuse never copies data."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tabledag import Config, FinalTaskState, Flow, Stage, materialize

from . import tasks
from .conftest import StoreTarget
from .dbutil import physical_tables, read_view, view_target

COMPLETED = FinalTaskState.COMPLETED
CACHE_VALID = FinalTaskState.CACHE_VALID


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(tasks.STATE, "data", 1)
    monkeypatch.setitem(tasks.STATE, "calls", [])
    yield


def set_data(value: int) -> None:
    tasks.STATE["data"] = value


def calls() -> list[str]:
    """Task functions called since the last look (and forget them)."""
    seen = list(tasks.STATE["calls"])
    tasks.STATE["calls"].clear()
    return seen


@dataclass
class Pipeline:
    flow: Flow
    refs: dict[str, Any]

    def run(self, config: Config, **kwargs: Any) -> dict[str, FinalTaskState]:
        result = self.flow.run(config=config, **kwargs)
        assert result.successful, repr(result.exception)
        self.result = result
        return {name: result.states[ref.call] for name, ref in self.refs.items()}


def pipeline(version: str = "1", threshold: int = 1, sql_threshold: int = 1) -> Pipeline:
    """raw: a versioned source and an unversioned one; model: consumers of both kinds."""
    producer = materialize(version=version, name="producer")(tasks.produce)
    with Flow("caching") as flow:
        with Stage("raw"):
            p = producer()
            u = tasks.unversioned_source()
        with Stage("model"):
            refs = {
                "producer": p,
                "unversioned_source": u,
                "versioned_consumer": tasks.versioned_consumer(u),
                "lazy_consumer": tasks.lazy_consumer(u),
                "lazy_threshold": tasks.lazy_threshold(p, threshold),
                "lazy_sql": tasks.lazy_sql(p, sql_threshold),
            }
    return Pipeline(flow, refs)


@pytest.mark.in_process
def test_first_run_completes_everything(config: Config) -> None:
    states = pipeline().run(config)
    assert set(states.values()) == {COMPLETED}
    assert sorted(calls()) == sorted(
        [
            "produce",
            "unversioned_source",
            "versioned_consumer",
            "lazy_consumer",
            "lazy_threshold",
            "lazy_sql",
        ]
    )


@pytest.mark.in_process
def test_versioned_eager_task_is_cache_valid_on_second_run(config: Config) -> None:
    pipeline().run(config)
    calls()
    states = pipeline().run(config)
    assert states["producer"] is CACHE_VALID
    assert "produce" not in calls()
    assert [r[0] for r in read_view(config, "raw", "producer", order_by="id")] == [1, 2]


@pytest.mark.in_process
def test_versioned_eager_task_reruns_when_version_changes(config: Config) -> None:
    pipeline(version="1").run(config)
    calls()
    states = pipeline(version="2").run(config)
    assert states["producer"] is COMPLETED
    assert "produce" in calls()
    # Same data under a new version: the downstream lazy tasks see unchanged inputs.
    assert states["lazy_threshold"] is CACHE_VALID
    assert states["lazy_sql"] is CACHE_VALID


@pytest.mark.in_process
def test_versioned_eager_task_reruns_when_upstream_output_changes(config: Config) -> None:
    pipeline().run(config)
    set_data(2)
    calls()
    states = pipeline().run(config)
    assert states["unversioned_source"] is COMPLETED
    assert states["versioned_consumer"] is COMPLETED
    assert "versioned_consumer" in calls()
    rows = read_view(config, "model", "versioned_consumer", order_by="id")
    assert rows == [(1, 20, 1), (2, 20, 1), (3, 20, 1)]


@pytest.mark.in_process
def test_unversioned_task_always_runs_but_unchanged_data_keeps_downstream_valid(
    config: Config,
) -> None:
    pipeline().run(config)
    calls()
    states = pipeline().run(config)
    assert states["unversioned_source"] is COMPLETED
    assert "unversioned_source" in calls()
    assert states["versioned_consumer"] is CACHE_VALID
    assert states["lazy_consumer"] is CACHE_VALID
    assert "versioned_consumer" not in calls()


@pytest.mark.in_process
def test_unversioned_task_with_changed_data_reruns_downstream(config: Config) -> None:
    pipeline().run(config)
    set_data(3)
    states = pipeline().run(config)
    assert states["unversioned_source"] is COMPLETED
    assert states["versioned_consumer"] is COMPLETED
    assert states["lazy_consumer"] is COMPLETED
    # The versioned source did not change: its consumers stay valid.
    assert states["producer"] is CACHE_VALID
    assert states["lazy_threshold"] is CACHE_VALID
    assert [r[1] for r in read_view(config, "model", "lazy_consumer")] == [30] * 4


def test_lazy_task_unchanged_runs_no_sql(
    target: StoreTarget, caplog: pytest.LogCaptureFixture
) -> None:
    config = target.config(print_sql=True)
    with caplog.at_level(logging.INFO, logger="tabledag.store"):
        pipeline().run(config)
    first = [r.getMessage() for r in caplog.records if r.name == "tabledag.store"]
    assert _physical_writes(first), "the first run's lazy writes should show in the SQL log"
    before = {s: physical_tables(config, s) for s in ("raw", "model")}
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="tabledag.store"):
        states = pipeline().run(config)
    assert states["lazy_consumer"] is CACHE_VALID
    assert states["lazy_threshold"] is CACHE_VALID
    assert states["lazy_sql"] is CACHE_VALID
    statements = [r.getMessage() for r in caplog.records if r.name == "tabledag.store"]
    assert statements, "print_sql=True logged nothing"
    assert not _physical_writes(statements)
    assert {s: physical_tables(config, s) for s in ("raw", "model")} == before


def _physical_writes(statements: list[str]) -> list[str]:
    """Statements that write a physical table: CREATE TABLE AS in a SQL database, COPY TO a
    parquet file, a view over new data in `__data`, or a bulk load."""
    found = []
    for text in statements:
        upper = text.upper()
        if '"."RUNS" VALUES' in upper[:120]:
            continue  # the run record (its document quotes the SQL that ran)
        if (
            "__DATA" in upper
            and (
                upper.startswith(("SQL: CREATE TABLE", "SQL: INSERT", "LOAD"))
                or (upper.startswith("SQL: CREATE OR REPLACE VIEW") and '__DATA"."' in upper[:120])
            )
        ) or upper.startswith("SQL: COPY ("):
            found.append(text)
    return found


def test_lazy_task_reruns_when_its_query_changes(config: Config) -> None:
    pipeline(threshold=1, sql_threshold=1).run(config)
    before = physical_tables(config, "model")
    states = pipeline(threshold=2, sql_threshold=2).run(config)
    assert states["lazy_threshold"] is COMPLETED
    assert states["lazy_sql"] is COMPLETED
    assert states["lazy_consumer"] is CACHE_VALID
    after = physical_tables(config, "model")
    assert len(after - before) == 2
    assert [r[0] for r in read_view(config, "model", "lazy_threshold")] == [2]
    assert [r[0] for r in read_view(config, "model", "lazy_sql")] == [2]


def test_lazy_task_returns_to_an_earlier_query(config: Config) -> None:
    """Going back to the previous query reuses the kept previous-generation table."""
    pipeline(threshold=1).run(config)
    first = view_target(config, "model", "lazy_threshold")
    pipeline(threshold=2).run(config)
    states = pipeline(threshold=1).run(config)
    assert states["lazy_threshold"] is CACHE_VALID
    assert view_target(config, "model", "lazy_threshold") == first
    assert sorted(r[0] for r in read_view(config, "model", "lazy_threshold")) == [1, 2]


@pytest.mark.in_process
def test_ignore_cache_completes_everything(config: Config) -> None:
    pipeline().run(config)
    views = [("raw", "producer"), ("raw", "unversioned_source"), ("model", "lazy_sql")]
    before = {v: view_target(config, *v) for v in views}
    calls()
    states = pipeline().run(config, ignore_cache=True)
    assert set(states.values()) == {COMPLETED}, states
    assert "produce" in calls()
    # Every table is rewritten, eager ones included (a way out of a damaged table).
    after = {v: view_target(config, *v) for v in views}
    assert all(after[v] != before[v] for v in views), (before, after)
    # ... and the next ordinary run is served from the cache again.
    states = pipeline().run(config)
    assert states["producer"] is CACHE_VALID
    assert states["lazy_threshold"] is CACHE_VALID


def test_cached_rerun_copies_no_data(config: Config) -> None:
    views = {
        "raw": ["producer", "unversioned_source"],
        "model": ["versioned_consumer", "lazy_consumer", "lazy_threshold", "lazy_sql"],
    }
    pipeline().run(config)
    before = {(s, v): view_target(config, s, v) for s, vs in views.items() for v in vs}
    tables_before = {s: physical_tables(config, s) for s in views}
    pipeline().run(config)
    after = {(s, v): view_target(config, s, v) for s, vs in views.items() for v in vs}
    assert after == before
    assert {s: physical_tables(config, s) for s in views} == tables_before
    # Every view shows a physical table of its own stage's data schema.
    for (stage, _view), physical in after.items():
        assert physical in tables_before[stage]


@pytest.mark.in_process
def test_old_generations_are_garbage_collected(config: Config) -> None:
    seen: list[str] = []
    for data in (1, 2, 3, 4):
        set_data(data)
        pipeline().run(config)
        seen.append(view_target(config, "raw", "unversioned_source"))
    assert len(set(seen)) == 4
    raw = {t for t in physical_tables(config, "raw") if t.startswith("unversioned_source__")}
    assert raw == {seen[-1], seen[-2]}, "only the current and the previous generation are kept"
    model = {t for t in physical_tables(config, "model") if t.startswith("lazy_consumer__")}
    assert len(model) == 2
    assert [r[1] for r in read_view(config, "raw", "unversioned_source")] == [40] * 5
    # The versioned producer never changed: its one table survives every collection.
    producer = {t for t in physical_tables(config, "raw") if t.startswith("producer__")}
    assert producer == {view_target(config, "raw", "producer")}


def test_removed_task_drops_its_view(config: Config) -> None:
    pipeline().run(config)
    producer = materialize(version="1", name="producer")(tasks.produce)
    with Flow("caching") as smaller:
        with Stage("raw"):
            p = producer()
        with Stage("model"):
            tasks.lazy_threshold(p, 1)
    result = smaller.run(config=config)
    assert result.successful, repr(result.exception)
    assert read_view(config, "model", "lazy_threshold", order_by="id") == [(1, 10), (2, 10)]
    for stage, gone in (("raw", "unversioned_source"), ("model", "lazy_consumer")):
        with pytest.raises(Exception, match=f"(?i){gone}"):  # Snowflake: UNVERSIONED_SOURCE
            read_view(config, stage, gone)
