"""`@input_stage_versions`: a task that sees this run's tables of its stage and the ones the
stage last committed, on DuckDB and Postgres; a failed check keeps the stage uncommitted."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from tabledag import Flow, Stage, Table, input_stage_versions, materialize

from .conftest import StoreTarget, on_duckdb_and_postgres
from .dbutil import read_view

seen: list[tuple[dict[str, list[int]], dict[str, list[int]]]] = []


def build(values: list[int], limit: int = 100) -> Flow:
    @materialize(name="numbers")
    def numbers() -> Table:
        return Table(pa.table({"n": values}), "numbers")

    @input_stage_versions(input_type=pa.Table, name="compare")
    def compare(now: dict[str, Any], before: dict[str, Any]) -> Table:
        seen.append(
            (
                {k: v.column("n").to_pylist() for k, v in now.items()},
                {k: v.column(0).to_pylist() for k, v in before.items()},
            )
        )
        assert max(now["numbers"].column("n").to_pylist()) <= limit, "too big"
        return Table(pa.table({"tables": sorted(now)}), "checked")

    with Flow("versions") as flow, Stage("s"):
        numbers()
        compare()
    return flow


@on_duckdb_and_postgres
def test_the_task_sees_this_run_and_the_committed_stage(target: StoreTarget) -> None:
    config = target.config()
    seen.clear()
    assert build([1, 2]).run(config=config).successful
    assert seen[-1] == ({"numbers": [1, 2]}, {})  # nothing committed yet; not its own output
    assert build([3]).run(config=config).successful
    now, before = seen[-1]
    assert now == {"numbers": [3]}
    assert before["numbers"] == [1, 2] and set(before) == {"numbers", "checked"}

    failed = build([500], limit=100).run(config=config)
    assert not failed.successful and "too big" in str(failed.exception)
    assert read_view(config, "s", "numbers") == [(3,)]  # the stage did not commit


@pytest.mark.postgres
@pytest.mark.parametrize("store_kind", ["postgres"])
def test_another_instance_feeds_a_sample(target: StoreTarget) -> None:
    import dataclasses

    import sqlalchemy as sa

    full = target.config()
    args = {**full.table_store["args"], "schema_prefix": f"{target.schema_prefix}mini_"}
    mini = dataclasses.replace(full, table_store={**full.table_store, "args": args})
    assert build([1, 2, 3]).run(config=full).successful

    @input_stage_versions(input_type=sa.Table, lazy=True, name="sample")
    def sample(now: dict[str, Any], source: dict[str, Any], source_cfg: Any) -> Any:
        assert source_cfg is not None and not now
        return {name: Table(sa.select(t).limit(2), name) for name, t in source.items()}

    with Flow("versions") as flow, Stage("s"):
        sampled = sample(full)
    result = flow.run(config=mini)
    assert result.successful, repr(result.exception)
    assert result.get(sampled["numbers"], as_type=pa.Table).num_rows == 2


@input_stage_versions(input_type=pa.Table, pass_args=["limit"])
def module_level_compare(now: dict[str, Any], before: dict[str, Any], limit: int = 0) -> None:
    return None


def test_a_stage_versions_task_pickles_as_itself() -> None:
    import pickle

    from tabledag.core.stage_versions import StageVersionsTask

    for task in (module_level_compare, module_level_compare.with_name("other")):
        back = pickle.loads(pickle.dumps(task))  # what the process and Dask engines send
        assert isinstance(back, StageVersionsTask)
        assert back.settings() == task.settings()
