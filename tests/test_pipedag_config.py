"""pipedag's config layout and config objects (issue 17, items 1, 2, 10 and 14).

A pipedag.yaml renamed to tabledag.yaml (class paths `tabledag.<Name>`) must configure the same
instances; `PipedagConfig` / `ConfigContext` must behave as pipedag programs use them; and a
flow runs in parts as pipedag's `flow.run(*components)` does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import types
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa
import yaml

from tabledag import (
    ConfigContext,
    ConfigError,
    Flow,
    IgnoredConfigWarning,
    PipedagConfig,
    Stage,
    StoreError,
    Table,
    create_basic_pipedag_config,
    materialize,
)

from .conftest import StoreTarget, on_duckdb_and_postgres


def _layout(url: str, **extra: Any) -> dict[str, Any]:
    """pipedag's multi-instance layout (as in its docs' example), migrated."""
    return {
        "name": "analytics",
        "table_store_connections": {
            "main": {"args": {"url": url, "schema_prefix": "{instance_id}_"}},
        },
        "technical_setups": {
            "default": {
                "network_interface": "127.0.0.1",
                "auto_table": ["pandas.DataFrame"],
                "fail_fast": True,
                "instance_id": "pipedag_default",
                "cache_validation": {"mode": "normal"},
                "table_store": {
                    "class": "tabledag.SQLTableStore",
                    "table_store_connection": "main",
                    "args": {"print_materialize": True},
                    "hook_args": {"sql": {"cleanup_annotation_action_on_success": False}},
                },
                "lock_manager": {"class": "tabledag.DatabaseLockManager"},
                "orchestration": {"class": "tabledag.SequentialEngine"},
            }
        },
        "instances": {
            "__any__": {"technical_setup": "default", "attrs": {"copy": False, "n": 1}},
            "full": {"instance_id": "full"},
            "mini": {"instance_id": "mini", "attrs": {"copy": True, "nested": {"k": 2}}},
        },
        "flows": {
            "__any__": {"attrs": {"flow_default": "any"}},
            "nightly": {"fail_fast": False, "instances": {"mini": {"attrs": {"n": 3}}}},
        },
        **extra,
    }


def _quiet_get(config: PipedagConfig, *args: Any, **kwargs: Any) -> ConfigContext:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IgnoredConfigWarning)
        return config.get(*args, **kwargs)


def test_instances_merge_technical_setups_connections_and_flows(tmp_path: Path) -> None:
    config = PipedagConfig(_layout(f"duckdb:///{tmp_path}/{{name}}.duckdb"))
    mini = _quiet_get(config, "mini")
    assert mini.instance_id == "mini"
    assert mini.fail_fast is True  # from the technical setup
    assert mini.attrs == {"copy": True, "n": 1, "nested": {"k": 2}, "flow_default": "any"}
    assert mini.attrs.nested.k == 2 and mini.attrs["copy"] is True  # pipedag's Box reads
    args = mini.table_store["args"]
    assert args["url"] == f"duckdb:///{tmp_path}/analytics.duckdb"  # {name}
    assert args["schema_prefix"] == "mini_"  # {instance_id}, from the connection
    assert "print_materialize" not in args and "hook_args" not in mini.table_store
    assert mini.store.table_store.schema_prefix == "mini_"
    nightly = _quiet_get(config, "mini", flow="nightly")
    assert nightly.fail_fast is False and nightly.attrs.n == 3 and nightly.flow_name == "nightly"
    assert _quiet_get(config).instance_id == "pipedag_default"  # __any__ alone


def test_ignored_pipedag_keys_warn_once_and_name_themselves(tmp_path: Path) -> None:
    config = PipedagConfig(_layout(f"duckdb:///{tmp_path}/x.duckdb"))
    with pytest.warns(IgnoredConfigWarning) as caught:
        config.get("full")
    message = str(caught[0].message)
    for key in ("network_interface", "lock_manager", "sql.cleanup_annotation_action_on_success"):
        assert key in message
    assert "auto_table" not in message  # read: it sets carried_table_names
    assert "table_store.args.print_materialize" in message
    assert len([w for w in caught if w.category is IgnoredConfigWarning]) == 1


def test_auto_table_and_hook_args_set_what_pipedag_does_with_them(tmp_path: Path) -> None:
    layout = _layout(f"duckdb:///{tmp_path}/x.duckdb")
    plain = _quiet_get(PipedagConfig(layout), "full")
    assert plain.carried_table_names is False and plain.keep_validation_subqueries is False
    setup = layout["technical_setups"]["default"]
    setup["auto_table"] = ["pandas.DataFrame", "pydiverse.transform.Table"]
    setup["table_store"]["hook_args"] = {
        "sql": {"cleanup_annotation_action_intermediate_state": False},
        "pandas": {"dtype_backend": "arrow"},
    }
    pipedag_like = _quiet_get(PipedagConfig(layout), "full")
    assert pipedag_like.carried_table_names is True
    assert pipedag_like.keep_validation_subqueries is True
    assert "hook_args" not in pipedag_like.table_store
    setup["table_store"]["hook_args"] = {"sql": {"cleanup_annotation_action_intermediat": 1}}
    with pytest.raises(ConfigError, match=r"hook_args.sql`: 'cleanup_annotation_action_inter"):
        _quiet_get(PipedagConfig(layout), "full")
    setup["table_store"]["hook_args"] = {"arrow": {"x": 1}}
    with pytest.raises(ConfigError, match="unknown hook in `hook_args`: 'arrow'"):
        _quiet_get(PipedagConfig(layout), "full")
    setup["table_store"].pop("hook_args")
    setup["auto_table"] = "pydiverse.transform.Table"
    with pytest.raises(ConfigError, match="`auto_table` must be a list of type paths"):
        _quiet_get(PipedagConfig(layout), "full")


def test_unknown_keys_are_errors_naming_the_key(tmp_path: Path) -> None:
    bad = _layout(f"duckdb:///{tmp_path}/x.duckdb")
    bad["technical_setups"]["default"]["fail_fsat"] = True
    with pytest.raises(ConfigError, match=r"fail_fsat.*Did you mean 'fail_fast'"):
        PipedagConfig(bad)
    with pytest.raises(ConfigError, match="unknown top-level key 'flow'"):
        PipedagConfig({**_layout("duckdb://"), "flow": {}})
    with pytest.raises(ConfigError, match="names no entry of `table_store_connections`"):
        layout = _layout("duckdb://")
        layout["instances"]["full"]["table_store"] = {"table_store_connection": "nope"}
        _quiet_get(PipedagConfig(layout), "full")


def test_strict_instance_lookup(tmp_path: Path) -> None:
    layout = _layout(f"duckdb:///{tmp_path}/x.duckdb")
    with pytest.raises(ConfigError, match=r"no instance 'ful'.*Did you mean 'full'"):
        _quiet_get(PipedagConfig(layout), "ful")
    lenient = PipedagConfig({**layout, "strict_instance_lookup": False})
    assert _quiet_get(lenient, "ful").instance_id == "pipedag_default"


def test_url_attrs_file_and_environment_fill_the_url_without_showing_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "password.yaml"
    secrets.write_text(yaml.safe_dump({"username": "ann", "password": "s3cret!", "host": "h"}))
    monkeypatch.setenv("TD_SECRETS", str(secrets))
    url = "postgresql://{username}:{password}@{host}:5432/db_{instance_id}"
    layout = _layout(url)
    layout["table_store_connections"]["main"]["args"]["url_attrs_file"] = "{$TD_SECRETS}"
    cfg = _quiet_get(PipedagConfig(layout), "full")  # building a store connects to nothing
    assert cfg.table_store["args"]["url"] == "postgresql://ann:s3cret!@h:5432/db_full"
    assert "s3cret!" not in repr(cfg) and "ann" in repr(cfg)
    layout["table_store_connections"]["main"]["args"]["url_attrs_file"] = str(tmp_path / "no")
    with pytest.raises(ConfigError, match="cannot read url_attrs_file"):
        _quiet_get(PipedagConfig(layout), "full")


def test_url_attrs_are_substituted(tmp_path: Path) -> None:
    secrets = tmp_path / "where.yaml"
    secrets.write_text(yaml.safe_dump({"dir": str(tmp_path), "file": "from_attrs"}))
    layout = _layout("duckdb:///{dir}/{file}_{instance_id}.duckdb")
    layout["table_store_connections"]["main"]["args"]["url_attrs_file"] = str(secrets)
    mini = _quiet_get(PipedagConfig(layout), "mini")
    assert mini.table_store["args"]["url"] == f"duckdb:///{tmp_path}/from_attrs_mini.duckdb"
    assert "url_attrs_file" not in mini.table_store["args"]


def test_per_user_instance_ids(tmp_path: Path) -> None:
    import getpass

    layout = _layout(f"duckdb:///{tmp_path}/x.duckdb")
    assert _quiet_get(PipedagConfig(layout), "mini", per_user=True).instance_id == (
        f"mini_{getpass.getuser()}"
    )
    layout["instances"]["__any__"]["per_user_template"] = "{username}-{id}"
    assert _quiet_get(PipedagConfig(layout), "mini", per_user=True).instance_id == (
        f"{getpass.getuser()}-mini"
    )


def test_pipedag_config_default_finds_tabledag_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tabledag.yaml").write_text(
        yaml.safe_dump(_layout(f"duckdb:///{tmp_path}/x.duckdb"))
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TABLEDAG_CONFIG", raising=False)
    assert _quiet_get(PipedagConfig.default, "full").instance_id == "full"
    assert PipedagConfig.default.name == "analytics"


def test_evolve_merges_mappings_and_keeps_the_store(tmp_path: Path) -> None:
    cfg = _quiet_get(PipedagConfig(_layout(f"duckdb:///{tmp_path}/x.duckdb")), "mini")
    store = cfg.store_object
    evolved = cfg.evolve(attrs={"n": 7}, fail_fast=False)
    assert evolved.attrs == {**cfg.attrs, "n": 7}
    assert evolved.fail_fast is False and cfg.fail_fast is True
    assert evolved.store_object is store
    with pytest.raises(ConfigError, match="no setting colour"):
        cfg.evolve(colour="red")


def test_repr_masks_the_password() -> None:
    cfg = create_basic_pipedag_config("postgresql://u:hunter2@127.0.0.1:1/db").get("x")
    assert "hunter2" not in repr(cfg) and "hunter2" not in str(cfg)


# -- ConfigContext.store.table_store ------------------------------------------------------------


@materialize(version="1")
def numbers(n: int) -> Table:
    return Table(pd.DataFrame({"x": list(range(n))}), "numbers")


@materialize(lazy=True, input_type=sa.Table)
def doubled(t: sa.Alias) -> Table:
    return Table(sa.select((t.c.x * 2).label("x")), "doubled")


def _flow(n: int = 3) -> tuple[Flow, Any, Any]:
    with Flow("f") as flow:
        with Stage("raw"):
            source = numbers(n)
        with Stage("derived"):
            twice = doubled(source)
    return flow, source, twice


def _cfg(target: StoreTarget) -> ConfigContext:
    args = {"url": target.url, **target.store_args}
    settings = {"table_store": {"class": "tabledag.SQLTableStore", "args": args}}
    raw = {"instances": {"__any__": {"instance_id": "pipeline", **settings}}}
    return PipedagConfig(raw).get()


@pytest.mark.postgres
@pytest.mark.parametrize("store_kind", ["postgres"])
def test_table_store_gives_sqlalchemy_access_and_a_stage_hash(target: StoreTarget) -> None:
    cfg = _cfg(target)
    table_store = cfg.store.table_store
    flow, _, _ = _flow(3)
    first = flow.run(config=cfg)
    hash_1 = table_store.get_stage_hash(flow.get_stage("raw"))
    assert table_store.get_stage_hash("raw") == hash_1
    schema = f"{target.schema_prefix}raw"
    assert "numbers" in sa.inspect(table_store.engine).get_view_names(schema=schema)
    with table_store.engine_connect() as conn:
        count = conn.execute(sa.text(f"SELECT count(*) FROM {schema}.numbers")).scalar()
    assert count == 3
    table_store.execute(f"CREATE TABLE {schema}_side (a int)")
    table_store.execute(f"DROP TABLE {schema}_side")
    # pipedag programs pass a Table whose `.stage` they set
    wanted = types.SimpleNamespace(name="numbers", stage=flow.get_stage("raw"))
    frame = table_store.retrieve_table_obj(wanted, as_type=pd.DataFrame)
    assert sorted(frame["x"]) == [0, 1, 2]
    assert first.config_context is cfg
    _flow(3)[0].run(config=cfg)
    assert table_store.get_stage_hash("raw") == hash_1  # nothing changed
    _flow(4)[0].run(config=cfg)
    assert table_store.get_stage_hash("raw") != hash_1
    assert table_store.get_stage_hash("never_ran") == table_store.get_stage_hash("other")


def test_no_sqlalchemy_engine_without_a_dialect_package_is_a_clear_error(tmp_path: Path) -> None:
    cfg = create_basic_pipedag_config(f"duckdb:///{tmp_path}/x.duckdb").get()
    try:
        import duckdb_engine  # noqa: F401
    except ImportError:
        with pytest.raises(StoreError, match="duckdb-engine"):
            _ = cfg.store.table_store.engine
    else:
        assert cfg.store.table_store.engine.dialect.name == "duckdb"


# -- running parts of a flow ---------------------------------------------------------------------


@on_duckdb_and_postgres
def test_run_one_stage_reads_the_rest_as_committed(target: StoreTarget) -> None:
    config = target.config()
    flow, source, twice = _flow(3)
    flow.run(config)
    flow, source, twice = _flow(5)  # a changed upstream, not selected: not run
    result = flow.run(flow.get_stage("derived"), config=config)
    assert result.successful
    assert source.call not in result.task_states
    assert sorted(result.get(twice, as_type=pd.DataFrame)["x"]) == [0, 2, 4]
    assert "derived" in result.committed and "raw" not in result.committed
    result = flow.run(flow["raw"], config=config)
    assert sorted(result.get(source, as_type=pd.DataFrame)["x"]) == [0, 1, 2, 3, 4]
    assert sorted(twice.get_output_from_store(as_type=pd.DataFrame, config=config)["x"]) == [
        0,
        2,
        4,
    ]


@on_duckdb_and_postgres
def test_run_tasks_runs_them_even_when_cached_and_commits_nothing(target: StoreTarget) -> None:
    config = target.config()
    flow, source, twice = _flow(3)
    flow.run(config)
    flow, source, twice = _flow(4)
    result = flow.run(source, twice, config=config)
    assert result.task_states[source].name == "COMPLETED"
    assert result.task_states[twice].name == "COMPLETED"
    assert sorted(result.get(twice, as_type=pd.DataFrame)["x"]) == [0, 2, 4, 6]
    assert result.committed == set()
    # the stages still show the last committed run
    assert sorted(source.get_output_from_store(as_type=pd.DataFrame, config=config)["x"]) == [
        0,
        1,
        2,
    ]
    assert flow.run(config).task_states[source].name == "COMPLETED"  # the real run commits


@on_duckdb_and_postgres
def test_run_part_before_anything_committed_says_what_to_run(target: StoreTarget) -> None:
    flow, _, twice = _flow(3)
    with pytest.raises(StoreError, match=r"task 'numbers' of stage 'raw' has no committed"):
        flow.run(twice, config=target.config())


def test_run_rejects_what_is_not_part_of_the_flow(tmp_path: Path) -> None:
    flow, _, _ = _flow(3)
    _, _, other_task = _flow(3)
    config = create_basic_pipedag_config(f"duckdb:///{tmp_path}/x.duckdb").get()
    with pytest.raises(Exception, match="not in flow"):
        flow.run(other_task, config=config)
    with pytest.raises(Exception, match="either stages or tasks"):
        flow.run(flow["raw"], flow["derived"].tasks[0], config=config)
    with pytest.raises(Exception, match="runs stages or tasks"):
        flow.run("raw", config=config)
    assert flow.get_stage("raw") is flow["raw"]


# -- fail_fast and exit codes ---------------------------------------------------------------------

_FAILING = """
import tabledag as dag
from tabledag import Flow, Stage, materialize

@materialize(version="1")
def broken():
    raise ValueError("broken on purpose")

cfg = dag.create_basic_pipedag_config("duckdb:///{path}", fail_fast={fail_fast}).get("default")
with cfg:
    with Flow() as flow, Stage("s"):
        broken()
    result = flow.run()
    print("successful:", result.successful)
"""


@pytest.mark.parametrize(("fail_fast", "code"), [(True, 1), (False, 0)])
def test_a_failing_pipedag_program_exits_as_on_pipedag(
    tmp_path: Path, fail_fast: bool, code: int
) -> None:
    script = tmp_path / "program.py"
    db = tmp_path / "x.duckdb"
    script.write_text(textwrap.dedent(_FAILING.format(path=db, fail_fast=fail_fast)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == code, done.stderr[-2000:]
    if fail_fast:
        assert "broken on purpose" in done.stderr
    else:
        assert "successful: False" in done.stdout


def test_task_values_are_the_outputs(tmp_path: Path) -> None:
    config = create_basic_pipedag_config(f"duckdb:///{tmp_path}/x.duckdb").get()
    with Flow() as flow, Stage("s"):
        out = numbers(2)
    result = flow.run(config)
    assert result.task_values[out].name == "numbers"
    assert isinstance(result.get(out), pa.Table)
