"""pipedag's spellings, as a migrated program uses them (tabledag.pipedag: thin adapters)."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa

import tabledag
from tabledag import (
    ConfigContext,
    ConfigError,
    Flow,
    Stage,
    StageLockContext,
    Table,
    TaskFailedError,
    create_basic_pipedag_config,
    materialize,
)

from .conftest import StoreTarget, on_duckdb_and_postgres


@materialize(version="1", nout=2)
def two_frames() -> tuple[Table, Table]:
    names = pd.DataFrame({"id": [1, 2], "name": ["a", "b"]})
    ages = pd.DataFrame({"id": [1, 2], "age": [20, 40]})
    return Table(names, "names_%%"), Table(ages, "ages_%%")


@materialize(lazy=True, input_type=sa.Table)
def joined(names: sa.Alias, ages: sa.Alias) -> sa.Select:
    return sa.select(names.c.id, names.c.name, ages.c.age).join_from(
        names, ages, names.c.id == ages.c.id
    )


@materialize(lazy=True, input_type=sa.Table)
def physical(t: sa.Alias) -> sa.TextClause:
    # pipedag programs reach the physical table through `.original`
    return sa.text(f"SELECT * FROM {t.original.schema}.{t.original.name}")


@materialize(version="1")
def seen_config() -> dict[str, str]:
    return {"instance_id": ConfigContext.get().instance_id}


@materialize(version="1")
def broken() -> pa.Table:
    raise ValueError("broken on purpose")


def _pipedag_config(target: StoreTarget) -> ConfigContext:
    args = {"schema_prefix": target.schema_prefix} if target.schema_prefix else {}
    base = create_basic_pipedag_config(target.url, disable_stage_locking=True).get("default")
    # The basic config takes no schema prefix; the test's own keeps tests apart on Postgres.
    table_store = {**base.table_store, "args": {**base.table_store["args"], **args}}
    return ConfigContext(base.instance_id, table_store, fail_fast=base.fail_fast)


@on_duckdb_and_postgres
def test_with_cfg_runs_the_flow_and_aliases_name_the_physical_table(
    target: StoreTarget,
) -> None:
    with Flow() as flow:
        with Stage("inputs"):
            names, ages = two_frames()
        with Stage("features"):
            both = joined(names, ages)
            copied = physical(both)
    cfg = _pipedag_config(target)
    with cfg, StageLockContext():
        result = flow.run()
        assert result.successful
        frame = result.get(copied, as_type=pd.DataFrame).sort_values("id")
        assert frame["age"].tolist() == [20, 40]
        assert frame["name"].tolist() == ["a", "b"]
        again = flow.run()
    assert again.task_states[both.call].name == "CACHE_VALID"
    table_names = [ref.name for ref in result.outputs[names.call]]
    # `%%` became a suffix unique to the task and the table's place, the same in both runs
    assert table_names[0].startswith("names_") and "%" not in table_names[0]
    assert table_names[0][-4:] == "0000" and table_names[1][-4:] == "0001"
    assert [ref.name for ref in again.outputs[names.call]] == table_names


@on_duckdb_and_postgres
def test_config_context_get_is_the_entered_config(target: StoreTarget) -> None:
    with Flow() as flow, Stage("s"):
        seen = seen_config()
    cfg = _pipedag_config(target)
    with pytest.raises(ConfigError, match="no config is active"):
        ConfigContext.get()
    with cfg:
        assert ConfigContext.get() is cfg
        result = flow.run()
    assert result.get(seen) == {"instance_id": "pipeline"}


@on_duckdb_and_postgres
def test_basic_pipedag_config_fails_fast_as_pipedag_does(target: StoreTarget) -> None:
    with Flow() as flow, Stage("s"):
        broken()
    cfg = _pipedag_config(target)
    assert cfg.fail_fast is True
    with cfg, pytest.raises(TaskFailedError, match="broken on purpose"):
        flow.run()


def test_pipedag_names_are_exported() -> None:
    for name in ("create_basic_pipedag_config", "ConfigContext", "StageLockContext"):
        assert name in tabledag.__all__


@materialize(version="1")
def scaled(factor: int) -> pa.Table:
    return pa.table({"v": [factor, 2 * factor]})


@on_duckdb_and_postgres
def test_the_same_task_twice_in_a_stage_runs_once_per_distinct_input(target: StoreTarget) -> None:
    with Flow() as flow, Stage("s"):
        a, a_again, b = scaled(1), scaled(1), scaled(3)
    config = target.config()
    result = flow.run(config=config)
    assert result.successful, repr(result.exception)
    assert a_again.call is a.call and len(result.states) == 2  # one run for equal inputs
    assert result.get(a, as_type=pa.Table).column("v").to_pylist() == [1, 2]
    assert result.get(b, as_type=pa.Table).column("v").to_pylist() == [3, 6]
    assert [ref.name for ref in (result.outputs[a.call], result.outputs[b.call])] == [
        "scaled",
        "scaled_2",
    ]
    again = flow.run(config=config)
    assert {s.name for s in again.states.values()} == {"CACHE_VALID"}
