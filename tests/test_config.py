"""Configuration: `create_basic_config`, `tabledag.yaml` instances, substitution and discovery."""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path

import pyarrow as pa
import pytest

from tabledag import (
    Config,
    ConfigError,
    Flow,
    SQLTableStore,
    Stage,
    create_basic_config,
    materialize,
)


@pytest.fixture(autouse=True)
def no_config_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TABLEDAG_CONFIG", raising=False)


def write_yaml(directory: Path, text: str) -> Path:
    path = directory / "tabledag.yaml"
    path.write_text(textwrap.dedent(text))
    return path


YAML = """
instances:
  __any__:
    instance_id: base
    table_store:
      class: tabledag.SQLTableStore
      args:
        url: "duckdb:///{$TD_TEST_DIR}/{instance_id}.duckdb"
        schema_prefix: "p_"
    lock_timeout: 10
  dev:
    table_store:
      args:
        print_sql: true
    attrs: {"a": 1}
    fail_fast: true
  prod:
    instance_id: production
    table_store:
      args:
        url: "duckdb:///{$TD_TEST_DIR}/prod/{instance_id}.duckdb"
"""


def test_basic_config_substitutes_instance_id(tmp_path: Path) -> None:
    config = create_basic_config(
        f"duckdb:///{tmp_path}/{{instance_id}}.duckdb",
        instance_id="abc",
        schema_prefix="{instance_id}_",
    )
    assert config.instance_id == "abc"
    store = config.store
    assert isinstance(store, SQLTableStore)
    assert store.url == f"duckdb:///{tmp_path}/abc.duckdb"
    assert store.schema_prefix == "abc_"
    assert store.schema_name("raw") == "abc_raw"
    assert create_basic_config("duckdb:///{instance_id}.duckdb").store.url == (
        "duckdb:///pipeline.duckdb"
    )


def test_instance_merges_any_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TD_TEST_DIR", str(tmp_path))
    path = write_yaml(tmp_path, YAML)
    dev = Config.load(path).get("dev")
    assert dev.instance_id == "base"  # inherited from __any__
    args = dev.table_store["args"]
    assert args["url"] == f"duckdb:///{tmp_path}/base.duckdb"
    assert args["schema_prefix"] == "p_"
    assert args["print_sql"] is True
    assert dev.table_store["class"] == "tabledag.SQLTableStore"
    assert (dev.fail_fast, dev.lock_timeout, dev.attrs) == (True, 10.0, {"a": 1})
    assert dev.store.print_sql is True
    assert dev.store.schema_name("raw") == "p_raw"

    prod = Config.load(path).get("prod")
    assert prod.instance_id == "production"
    assert prod.table_store["args"]["url"] == f"duckdb:///{tmp_path}/prod/production.duckdb"
    assert prod.table_store["args"]["schema_prefix"] == "p_"
    assert "print_sql" not in prod.table_store["args"]

    assert (prod.fail_fast, prod.lock_timeout, prod.attrs) == (False, 10.0, {})

    base = Config.load(path).get()
    assert base.instance_id == "base"
    assert "print_sql" not in base.table_store["args"]


def test_instance_id_defaults_to_instance_name(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        f"""
        instances:
          __any__:
            table_store:
              class: tabledag.SQLTableStore
              args: {{url: "duckdb:///{tmp_path}/{{instance_id}}.duckdb"}}
          staging: {{}}
        """,
    )
    config = Config.load(path).get("staging")
    assert config.instance_id == "staging"
    assert config.store.url == f"duckdb:///{tmp_path}/staging.duckdb"


def test_env_var_substitution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TD_TEST_DIR", "/some/where")
    config = Config.load(write_yaml(tmp_path, YAML)).get("dev")
    assert config.table_store["args"]["url"] == "duckdb:////some/where/base.duckdb"


def test_missing_env_var_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TD_TEST_DIR", raising=False)
    with pytest.raises(ConfigError, match="TD_TEST_DIR"):
        Config.load(write_yaml(tmp_path, YAML)).get("dev")


def test_missing_instance_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TD_TEST_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match="nope") as info:
        Config.load(write_yaml(tmp_path, YAML)).get("nope")
    message = str(info.value)
    assert "dev" in message and "prod" in message  # lists what exists
    assert "tabledag.yaml" in message


def test_config_env_var_points_to_file_or_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TD_TEST_DIR", str(tmp_path))
    elsewhere = tmp_path / "conf"
    elsewhere.mkdir()
    path = write_yaml(elsewhere, YAML)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TABLEDAG_CONFIG", str(path))
    assert Config.load().path == path
    monkeypatch.setenv("TABLEDAG_CONFIG", str(elsewhere))
    assert Config.load().path == path
    assert Config.load().get("prod").instance_id == "production"


def test_config_env_var_to_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLEDAG_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match=r"missing\.yaml"):
        Config.load()


def test_discovery_from_parent_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_yaml(tmp_path, YAML)
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    assert Config.load().path.resolve() == path.resolve()


def test_no_config_file_explains_the_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    if any((d / "tabledag.yaml").is_file() for d in (empty, *empty.parents)):
        pytest.skip("a tabledag.yaml above the temporary directory is in the way")
    with pytest.raises(ConfigError) as info:
        Config.load()
    message = str(info.value)
    assert "tabledag.yaml" in message
    assert "TABLEDAG_CONFIG" in message
    assert "create_basic_config" in message


@pytest.mark.parametrize(
    "text",
    ["instances: [", "other: 1\n", "instances: {}\n"],
    ids=["invalid_yaml", "no_instances", "empty_instances"],
)
def test_malformed_file_is_a_config_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match=r"tabledag\.yaml"):
        Config.load(write_yaml(tmp_path, text))


def test_instance_without_store_is_a_config_error(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "instances:\n  dev:\n    instance_id: x\n")
    with pytest.raises(ConfigError, match="table_store"):
        Config.load(path).get("dev")


def test_unknown_store_class_and_database(tmp_path: Path) -> None:
    config = Config("x", {"class": "tabledag.NoSuchStore", "args": {"url": "duckdb:///:memory:"}})
    with pytest.raises(ConfigError, match="NoSuchStore"):
        _ = config.store
    with pytest.raises(ConfigError, match="Did you mean 'duckdb'"):
        _ = create_basic_config("duckbd:///x.duckdb").store


def test_password_masked_in_reprs() -> None:
    pytest.importorskip(
        "tabledag.stores.sql.dialects.postgres", reason="postgres dialect not available"
    )
    config = create_basic_config("postgresql://u:secret@h/db")
    assert "secret" not in repr(config)
    assert "u:***@h" in repr(config)
    store = config.store  # builds the store; connects to nothing
    assert "secret" not in repr(store)
    assert "u:***@h" in repr(store)


def test_config_pickles_and_rebuilds_its_store(tmp_path: Path) -> None:
    config = create_basic_config(f"duckdb:///{tmp_path}/p.duckdb", schema_prefix="x_")
    store = config.store
    clone = pickle.loads(pickle.dumps(config))
    assert clone == config
    assert "store_object" not in clone.__dict__
    assert clone.store is not store
    assert type(clone.store) is type(store)
    assert clone.store.url == store.url
    assert clone.store.schema_prefix == "x_"
    assert clone.store is clone.store  # built once


def test_store_pickles_by_its_arguments(tmp_path: Path) -> None:
    store = create_basic_config(f"duckdb:///{tmp_path}/s.duckdb", print_sql=True).store
    clone = pickle.loads(pickle.dumps(store))
    assert clone.url == store.url
    assert clone.print_sql is True
    assert clone.dialect.database == store.dialect.database


@materialize(version="1")
def tiny() -> pa.Table:
    return pa.table({"a": [1]})


def test_flow_run_without_config_loads_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TD_TEST_DIR", str(tmp_path))
    write_yaml(tmp_path, YAML)
    monkeypatch.chdir(tmp_path)
    with Flow("f") as flow, Stage("s"):
        ref = tiny()
    result = flow.run()
    assert result.successful, repr(result.exception)
    assert result.config.instance_id == "base"
    assert (tmp_path / "base.duckdb").is_file()
    assert result.get(ref).to_pylist() == [{"a": 1}]


# -- strict checking: unknown keys, store arguments, settings --------------------------------------


class FixedStore:
    """A store whose `__init__` takes no **kwargs: its arguments are checked by name."""

    def __init__(self, url: str, *, instance_id: str = "x", flag: bool = False) -> None:
        if not isinstance(flag, bool):
            raise TypeError(f"flag must be a bool, not {type(flag).__name__}")
        self.url = url
        self.instance_id = instance_id
        self.flag = flag


class NoInstanceIdStore:
    def __init__(self, url: str) -> None:
        self.url = url


def fixed_store_yaml(tmp_path: Path, args: str, cls: str = "FixedStore") -> Path:
    return write_yaml(
        tmp_path,
        f"""
        instances:
          dev:
            instance_id: fixed
            table_store:
              class: tests.test_config:{cls}
              args: {args}
        """,
    )


def test_misspelt_instance_key_names_key_file_and_fix(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        f"""
        instances:
          __any__:
            table_store:
              class: tabledag.SQLTableStore
              args: {{url: "duckdb:///{tmp_path}/x.duckdb"}}
          dev:
            fail_fats: true
        """,
    )
    with pytest.raises(ConfigError) as info:
        Config.load(path)
    message = str(info.value)
    assert "'fail_fats'" in message
    assert str(path) in message
    assert "instance 'dev'" in message
    assert "Did you mean 'fail_fast'?" in message


def test_misspelt_table_store_key(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        instances:
          __any__:
            table_store:
              class: tabledag.SQLTableStore
              arg: {url: "duckdb:///x.duckdb"}
        """,
    )
    with pytest.raises(ConfigError) as info:
        Config.load(path)
    message = str(info.value)
    assert "'arg'" in message and "table_store" in message and str(path) in message
    assert "Did you mean 'args'?" in message


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "name: demo\ninstance: {}\ninstances: {a: {}}\n")
    with pytest.raises(ConfigError, match=r"'instance'.*Did you mean 'instances'\?") as info:
        Config.load(path)
    assert str(path) in str(info.value)
    assert Config.load(write_yaml(tmp_path, "name: demo\ninstances: {a: {}}\n")).name == "demo"


def test_misspelt_argument_of_a_fixed_signature_store(tmp_path: Path) -> None:
    path = fixed_store_yaml(tmp_path, "{url: somewhere, flg: true}")
    config_file = Config.load(path)
    with pytest.raises(ConfigError) as info:
        config_file.get("dev")
    message = str(info.value)
    assert "'flg'" in message and str(path) in message and "instance 'dev'" in message
    assert "Did you mean 'flag'?" in message


def test_fixed_signature_store_builds_with_its_arguments(tmp_path: Path) -> None:
    config = Config.load(fixed_store_yaml(tmp_path, "{url: somewhere, flag: true}")).get("dev")
    store = config.store
    assert isinstance(store, FixedStore)
    assert (store.url, store.instance_id, store.flag) == ("somewhere", "fixed", True)
    # a class that takes no instance_id does not get one
    other = Config.load(fixed_store_yaml(tmp_path, "{url: u}", "NoInstanceIdStore")).get("dev")
    assert other.store.url == "u"


def test_missing_required_store_argument(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"needs the argument 'url'"):
        Config.load(fixed_store_yaml(tmp_path, "{flag: true}")).get("dev")


def test_store_type_error_becomes_config_error_with_context(tmp_path: Path) -> None:
    path = fixed_store_yaml(tmp_path, "{url: somewhere, flag: 3}")
    with pytest.raises(ConfigError) as info:
        Config.load(path).get("dev")
    assert "flag must be a bool" in str(info.value)
    assert str(path) in str(info.value)
    assert isinstance(info.value.__cause__, TypeError)


def test_store_config_error_gets_the_file_and_instance(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        instances:
          dev:
            table_store:
              class: tabledag.SQLTableStore
              args: {url: "duckbd:///x.duckdb"}
        """,
    )
    with pytest.raises(ConfigError) as info:
        Config.load(path).get("dev")
    message = str(info.value)
    assert str(path) in message and "instance 'dev'" in message
    assert "Did you mean 'duckdb'" in message
    assert isinstance(info.value.__cause__, ConfigError)


def test_misspelt_sql_store_argument(tmp_path: Path) -> None:
    pytest.importorskip("tabledag.stores.sql.dialects.postgres")
    path = write_yaml(
        tmp_path,
        """
        instances:
          dev:
            table_store:
              class: tabledag.SQLTableStore
              args:
                url: "postgresql://user@127.0.0.1:9/nowhere"  # building the store connects nowhere
                creat_database_if_not_exists: true
        """,
    )
    try:
        Config.load(path).get("dev")
    except ConfigError as error:
        message = str(error)
    else:
        raise AssertionError("the misspelt argument was accepted")
    assert "creat_database_if_not_exists" in message and str(path) in message
    assert "create_database_if_not_exists" in message  # the "did you mean"


@pytest.mark.parametrize(
    ("setting", "fragment"),
    [
        ("lock_timeout: -1", "lock_timeout"),
        ("lock_timeout: '10'", "lock_timeout"),
        ("fail_fast: 'yes'", "fail_fast"),
        ("attrs: [1, 2]", "attrs"),
    ],
)
def test_bad_instance_settings(tmp_path: Path, setting: str, fragment: str) -> None:
    path = write_yaml(
        tmp_path,
        f"""
        instances:
          dev:
            {setting}
            table_store:
              class: tabledag.SQLTableStore
              args: {{url: "duckdb:///{tmp_path}/x.duckdb"}}
        """,
    )
    with pytest.raises(ConfigError, match=rf"instance 'dev'.*`{fragment}` must be") as info:
        Config.load(path).get("dev")
    assert str(path) in str(info.value)


def test_config_fields_in_code() -> None:
    config = create_basic_config("duckdb:///x.duckdb", fail_fast=True, lock_timeout=3, print_sql=1)
    assert (config.fail_fast, config.lock_timeout, config.attrs) == (True, 3.0, {})
    assert isinstance(config.lock_timeout, float)
    assert "lock_timeout" not in config.table_store["args"]
    assert config.table_store["args"]["print_sql"] == 1
    plain = create_basic_config("duckdb:///x.duckdb")
    assert (plain.fail_fast, plain.lock_timeout, plain.attrs) == (False, None, {})
    assert plain != config
    with pytest.raises(ConfigError, match="lock_timeout"):
        create_basic_config("duckdb:///x.duckdb", lock_timeout=float("nan"))
    with pytest.raises(ConfigError, match="fail_fast"):
        Config("x", {"class": "tabledag.SQLTableStore"}, fail_fast=1)


def test_config_from_file_pickles_with_its_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TD_TEST_DIR", str(tmp_path))
    config = Config.load(write_yaml(tmp_path, YAML)).get("dev")
    assert "store_object" in config.__dict__  # built while reading, to check the arguments
    clone = pickle.loads(pickle.dumps(config))
    assert "store_object" not in clone.__dict__
    assert clone == config
    assert (clone.fail_fast, clone.lock_timeout, clone.attrs) == (True, 10.0, {"a": 1})
    assert clone.store.url == config.store.url


def test_misspelt_instance_name_suggests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TD_TEST_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match=r"no instance 'prd'\. Did you mean 'prod'\?"):
        Config.load(write_yaml(tmp_path, YAML)).get("prd")


def test_missing_env_var_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TD_TEST_DIR", raising=False)
    path = write_yaml(tmp_path, YAML)
    with pytest.raises(ConfigError, match=r"TD_TEST_DIR is not set") as info:
        Config.load(path).get("dev")
    assert str(path) in str(info.value)


# -- naming the config file ------------------------------------------------------------------------


def test_load_of_a_missing_file_names_that_file(tmp_path: Path) -> None:
    missing = tmp_path / "conf" / "mine.yaml"
    with pytest.raises(ConfigError) as info:
        Config.load(missing)
    message = str(info.value)
    assert f"{missing} (passed to Config.load) does not exist" in message
    assert "upwards" not in message


def test_env_var_naming_a_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "gone.yaml"
    monkeypatch.setenv("TABLEDAG_CONFIG", str(missing))
    with pytest.raises(ConfigError) as info:
        Config.load()
    message = str(info.value)
    assert f"{missing} (named by $TABLEDAG_CONFIG) does not exist" in message
    assert "upwards" not in message


def test_directory_without_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"has no tabledag\.yaml") as info:
        Config.load(tmp_path)
    assert str(tmp_path) in str(info.value) and "upwards" not in str(info.value)
    monkeypatch.setenv("TABLEDAG_CONFIG", str(tmp_path))
    with pytest.raises(ConfigError, match=r"\(named by \$TABLEDAG_CONFIG\) has no tabledag\.yaml"):
        Config.load()
