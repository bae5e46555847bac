"""User table hooks, registered on a store subclass so the built-in store stays untouched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from tabledag import (
    CanMatResult,
    CanRetResult,
    Config,
    DeclarationError,
    Flow,
    SQLTableStore,
    Stage,
    Table,
    TableHook,
    materialize,
)
from tabledag.hooks import registry
from tabledag.hooks.pandas import PandasTableHook
from tabledag.outputs import TableRef
from tabledag.stores.base import Output, StoreSession

from .dbutil import read_view


class MyFrame:
    """A user's table type: a dict of column lists."""

    def __init__(self, columns: dict[str, list[Any]]) -> None:
        self.columns = columns

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MyFrame) and self.columns == other.columns

    def __repr__(self) -> str:
        return f"MyFrame({self.columns!r})"


class MyStore(SQLTableStore):
    """A store with extra hooks; `SQLTableStore` itself must not see them."""


USED: list[str] = []
"""Which custom hook methods ran, in order."""


@MyStore.register_table()
class MyFrameHook(TableHook[MyStore]):
    materializes = ("tests.MyFrame",)
    retrieves = ("tests.MyFrame",)

    @classmethod
    def can_materialize(cls, type_: type) -> CanMatResult:
        return CanMatResult.new(isinstance(type_, type) and issubclass(type_, MyFrame))

    @classmethod
    def can_retrieve(cls, type_: type) -> CanRetResult:
        return CanRetResult.new(isinstance(type_, type) and issubclass(type_, MyFrame))

    @classmethod
    def materialize(cls, store: StoreSession, table: Table, stage_name: str) -> Output:
        USED.append("materialize MyFrame")
        data = pa.table(table.obj.columns)
        return store.materialize(Table(data, name=table.name), stage_name)

    @classmethod
    def retrieve(
        cls,
        store: StoreSession,
        table: TableRef,
        stage_name: str,
        as_type: Any,
        limit: int | None = None,
    ) -> MyFrame:
        USED.append("retrieve MyFrame")
        return MyFrame(store.retrieve(table, stage_name, pa.Table, limit).to_pydict())


@MyStore.register_table()
class TaggedPandasHook(PandasTableHook):
    """Overrides the built-in pandas hook, on `MyStore` only."""

    @classmethod
    def retrieve(
        cls,
        store: StoreSession,
        table: TableRef,
        stage_name: str,
        as_type: Any,
        limit: int | None = None,
    ) -> pd.DataFrame:
        USED.append("retrieve pandas")
        frame = super().retrieve(store, table, stage_name, as_type, limit)
        frame.attrs["via"] = "TaggedPandasHook"
        return frame

    @classmethod
    def materialize(cls, store: StoreSession, table: Table, stage_name: str) -> Output:
        USED.append("materialize pandas")
        return super().materialize(store, table, stage_name)


@materialize(version="1")
def make_frame() -> MyFrame:
    return MyFrame({"id": [1, 2, 3], "label": ["a", "b", "c"]})


@materialize(input_type=MyFrame)
def double_ids(frame: MyFrame) -> MyFrame:
    assert isinstance(frame, MyFrame), type(frame)
    return MyFrame({**frame.columns, "id": [i * 2 for i in frame.columns["id"]]})


@materialize(input_type=pd.DataFrame)
def pandas_via(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"via": [frame.attrs.get("via", "builtin")]})


def my_config(tmp_path: Path) -> Config:
    url = f"duckdb:///{tmp_path}/custom.duckdb"
    return Config("pipeline", {"class": "tests.test_custom_hooks:MyStore", "args": {"url": url}})


@pytest.fixture(autouse=True)
def clear_used() -> None:
    USED.clear()


def test_config_builds_the_subclass(tmp_path: Path) -> None:
    store = my_config(tmp_path).store
    assert type(store) is MyStore
    assert store.hook_for_materialize(MyFrame) is MyFrameHook
    assert store.hook_for_retrieve(MyFrame) is MyFrameHook


def test_custom_hook_writes_and_reads(tmp_path: Path) -> None:
    config = my_config(tmp_path)
    with Flow("custom") as flow:
        with Stage("raw"):
            frame = make_frame()
        with Stage("model"):
            doubled = double_ids(frame)
    result = flow.run(config=config)
    assert result.successful, repr(result.exception)
    assert "materialize MyFrame" in USED
    assert "retrieve MyFrame" in USED
    assert result.get(doubled) == MyFrame({"id": [2, 4, 6], "label": ["a", "b", "c"]})
    assert result.get(frame, as_type=MyFrame) == MyFrame(
        {"id": [1, 2, 3], "label": ["a", "b", "c"]}
    )
    assert read_view(config, "model", "double_ids", order_by="id") == [(2, "a"), (4, "b"), (6, "c")]


def test_subclass_hook_wins_over_base_hook(tmp_path: Path) -> None:
    config = my_config(tmp_path)
    with Flow("custom") as flow:
        with Stage("raw"):
            frame = make_frame()
        with Stage("model"):
            via = pandas_via(frame)
    result = flow.run(config=config)
    assert result.successful, repr(result.exception)
    assert MyStore.hook_for_retrieve(pd.DataFrame) is TaggedPandasHook
    assert MyStore.hook_for_materialize(pd.DataFrame) is TaggedPandasHook
    assert "retrieve pandas" in USED
    assert "materialize pandas" in USED
    assert result.get(via, as_type=pa.Table).to_pylist() == [{"via": "TaggedPandasHook"}]


def test_base_store_is_not_polluted(tmp_path: Path) -> None:
    assert SQLTableStore.hook_for_retrieve(pd.DataFrame) is PandasTableHook
    assert SQLTableStore.hook_for_materialize(pd.DataFrame) is PandasTableHook
    assert MyFrameHook not in registry.ordered_hooks(SQLTableStore)
    assert "tests.MyFrame" not in registry.supported_names(SQLTableStore, "m")
    assert "tests.MyFrame" in registry.supported_names(MyStore, "m")

    config = Config(
        "pipeline",
        {"class": "tabledag.SQLTableStore", "args": {"url": f"duckdb:///{tmp_path}/b.duckdb"}},
    )
    with Flow("plain") as flow, Stage("raw"):
        make_frame()
    result = flow.run(config=config)
    assert not result.successful
    assert "MyFrame" in str(result.exception)
    assert USED == []


def test_unknown_type_still_fails_at_declaration() -> None:
    class Unknown:
        pass

    with pytest.raises(DeclarationError):
        materialize(input_type=Unknown)(lambda t: t)
