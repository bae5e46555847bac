"""`Blob(obj, name)` outputs in a `FileBlobStore`, on DuckDB and Postgres: downstream tasks and
`Result.get` receive the object, a versioned task's blob is a cache hit, and a blob store that
is missing is a clear error."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pyarrow as pa

from tabledag import Blob, ConfigError, FinalTaskState, Flow, Stage, Table, materialize

from .conftest import StoreTarget, on_duckdb_and_postgres

fits: list[int] = []


@dataclasses.dataclass
class Model:
    slope: float

    def predict(self, x: list[float]) -> list[float]:
        return [self.slope * v for v in x]


def build(version: str) -> tuple[Flow, Any, Any]:
    @materialize(version=version, input_type=pa.Table, name="fit")
    def fit(points: pa.Table) -> Any:
        fits.append(1)
        xs, ys = points.column("x").to_pylist(), points.column("y").to_pylist()
        return Blob(Model(sum(ys) / sum(xs)), "model")

    @materialize(input_type=pa.Table, name="predict")
    def predict(model: Model, points: pa.Table) -> Table:
        assert isinstance(model, Model)
        return Table(pa.table({"p": model.predict(points.column("x").to_pylist())}), "pred")

    @materialize(version="1")
    def points() -> Table:
        return Table(pa.table({"x": [1.0, 2.0], "y": [2.0, 4.0]}), "points")

    with Flow("blobs") as flow:
        with Stage("data"):
            p = points()
        with Stage("model"):
            model = fit(p)
            pred = predict(model, p)
    return flow, model, pred


@on_duckdb_and_postgres
def test_a_blob_flows_to_tasks_and_results(target: StoreTarget, tmp_path: Path) -> None:
    spec = {"class": "tabledag.FileBlobStore", "args": {"base_path": str(tmp_path / "blobs")}}
    config = dataclasses.replace(target.config(), blob_store=spec)
    fits.clear()
    flow, model, pred = build("1")
    result = flow.run(config=config)
    assert result.successful, repr(result.exception)
    assert result.get(model) == Model(2.0)
    assert result.get(pred, as_type=pa.Table).column("p").to_pylist() == [2.0, 4.0]
    files = sorted(p.name for p in (tmp_path / "blobs").rglob("*.pkl"))
    assert len(files) == 1 and files[0].startswith("model__")

    again = build("1")[0].run(config=config)
    assert again.states[next(c for c in again.states if c.name == "fit")] is (
        FinalTaskState.CACHE_VALID
    )
    assert fits == [1]  # not fitted again
    changed = build("2")[0]
    assert changed.run(config=config).successful and fits == [1, 1]
    assert len(list((tmp_path / "blobs").rglob("*.pkl"))) == 2  # a new version, a new file


def test_a_blob_without_a_blob_store_is_a_clear_error(tmp_path: Path) -> None:
    from tabledag import create_basic_config

    result = build("1")[0].run(config=create_basic_config(f"duckdb:///{tmp_path}/db.duckdb"))
    assert not result.successful
    cause = result.exception.__cause__
    assert isinstance(cause, ConfigError) and "blob_store" in str(cause), repr(cause)
