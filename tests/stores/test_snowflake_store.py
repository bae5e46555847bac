"""The Snowflake dialect: the seed's URL, a missing driver, identifier folding, and (on the
`snowflake` target: fakesnow's server, or $TABLEDAG_TEST_SNOWFLAKE_URL) what another client sees."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from tabledag import Flow, Stage, Table, materialize
from tabledag.config import Config
from tabledag.errors import StoreConnectionError
from tabledag.stores.sql import SQLTableStore
from tabledag.stores.sql.dialect import ident, table
from tabledag.stores.sql.dialects.snowflake import Snowflake
from tabledag.stores.sql.dialects.snowflake.names import fold, unfold
from tests.conftest import SNOWFLAKE_ENV, StoreTarget
from tests.dbutil import query

SEED_URL = (
    "snowflake://{$SNOWFLAKE_USER}:{$SNOWFLAKE_PASSWORD}@{$SNOWFLAKE_ACCOUNT}/database_name"
    "?warehouse=warehouse_name&role=access_role"
)


def test_the_seed_url_works_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNOWFLAKE_USER", "loader")
    monkeypatch.setenv("SNOWFLAKE_PASSWORD", "p@ss:w/rd%")  # characters a URL would escape
    monkeypatch.setenv("SNOWFLAKE_ACCOUNT", "xy12345.eu-central-1")
    (tmp_path / "tabledag.yaml").write_text(
        "instances:\n  __any__:\n    table_store:\n"
        "      class: tabledag.SQLTableStore\n"
        f"      args:\n        url: {SEED_URL!r}\n"
        "        create_database_if_not_exists: true\n"
    )
    store = Config.load(tmp_path).get().store
    dialect = store.dialect
    assert isinstance(dialect, Snowflake)
    assert dialect.connect_kwargs == {
        "user": "loader",
        "password": "p@ss:w/rd%",
        "account": "xy12345.eu-central-1",
        "warehouse": "warehouse_name",
        "role": "access_role",
    }
    assert dialect.database == "database_name"
    assert "p@ss" not in repr(store)


def test_a_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snowflake.connector", None)  # import fails as if absent
    store = SQLTableStore("snowflake://u:secret@acct/db")
    with pytest.raises(StoreConnectionError, match=r"pip install 'tabledag\[snowflake\]'") as e:
        store.open_session()
    assert "secret" not in str(e.value)


@pytest.mark.parametrize(
    ("name", "stored"),
    [("orders", "ORDERS"), ("raw__data", "RAW__DATA"), ("Orders", "Orders"), ("my col", "my col"),
     ("größe", "größe"), ("ID", "ID")],
)  # fmt: skip
def test_names_fold_as_unquoted_snowflake_names_do(name: str, stored: str) -> None:
    assert fold(name) == stored
    assert unfold(fold(name)) == (name.lower() if name == "ID" else name)
    rendered = Snowflake("snowflake://u@a/db").render(table("raw", name))
    assert rendered == f'"RAW"."{stored}"'


def test_hand_written_sql_keeps_its_meaning() -> None:
    """Unquoted names stay unquoted (Snowflake folds them itself); quoted ones fold."""
    d = Snowflake("snowflake://u@a/db")
    tree = sqlglot.parse_one('SELECT id, "Name", "x" FROM raw.frame', read=d.sqlglot)
    assert d.render(tree) == 'SELECT id, "Name", "X" FROM raw.frame'
    assert d.render(exp.select("*").from_(exp.Table(this=ident("t")))) == 'SELECT * FROM "T"'


SNOWFLAKE = pytest.mark.parametrize(
    "store_kind", [pytest.param("snowflake", marks=pytest.mark.snowflake)], indirect=True
)


@materialize(version="1")
def frame() -> Table:
    return Table(pa.table({"id": [1, 2, 3], "Name": ["a", "b", "c"]}), name="frame")


@materialize(lazy=True, input_type=str)
def bigger(frame: str) -> Table:
    return Table(f'SELECT id, "Name" FROM {frame} WHERE id > 1', name="bigger")


def _flow() -> Flow:
    with Flow("sf") as flow, Stage("raw"):
        bigger(frame())
    return flow


@SNOWFLAKE
def test_another_client_reads_the_stage_with_unquoted_names(target: StoreTarget) -> None:
    config = target.config()
    assert _flow().run(config=config).successful
    schema = config.store.schema_name("raw")
    rows = query(config, f'SELECT id, "Name" FROM {schema}.bigger ORDER BY id')
    assert rows == [(2, "b"), (3, "c")]
    assert _flow().run(config=config).successful  # all cached: the same rows
    assert query(config, f"SELECT COUNT(*) FROM {schema}.frame") == [(3,)]


@SNOWFLAKE
def test_a_missing_database_is_a_clear_error(target: StoreTarget) -> None:
    head, _, query_part = target.url.partition("?")
    url = f"{head.rsplit('/', 1)[0]}/tabledag_no_such_database?{query_part}"
    args = {k: v for k, v in target.store_args.items() if k != "create_database_if_not_exists"}
    store = SQLTableStore(url, **args)
    with pytest.raises(StoreConnectionError, match="create_database_if_not_exists"):
        store.open_session()


@SNOWFLAKE
@pytest.mark.xfail(
    not os.environ.get(SNOWFLAKE_ENV),
    strict=True,
    reason="fakesnow: ALTER SCHEMA ... SWAP WITH is not supported (parser error)",
)
def test_schema_swap_commit(target: StoreTarget) -> None:
    config = target.config(commit="schema_swap")
    result = _flow().run(config=config)
    assert result.successful, repr(result.exception)
    schema = config.store.schema_name("raw")
    assert query(config, f"SELECT COUNT(*) FROM {schema}.frame") == [(3,)]
