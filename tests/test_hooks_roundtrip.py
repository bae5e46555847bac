"""Every output type is written and read back through every input type, with its content intact.

One flow per store writes all combinations (stage `out`: one producer per output type; stage
`inp`: one consumer per (output type, input type)); the parametrised tests then check each one.
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import sqlalchemy as sa

from tabledag import Config, Flow, Stage

from . import tasks
from .conftest import StoreTarget
from .dbutil import qname, query, read_view

EXPECTED = tasks.canonical_rows(tasks.base_data())


AS_TYPES: dict[str, Any] = {
    "pyarrow": pa.Table,
    "pandas": pd.DataFrame,
    "polars": pl.DataFrame,
    "lazyframe": pl.LazyFrame,
}


class RoundTrip:
    """Stage `src` holds the source; each output type gets its own stages (`out_<type>` with its
    producer, `in_<type>` with one consumer per input type) so one broken hook fails only its
    own combinations."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.outputs = {}
        self.inputs = {}
        with Flow("roundtrip") as flow:
            with Stage("src"):
                source = tasks.src()
            for out, task in tasks.OUTPUT_TASKS.items():
                with Stage(f"out_{out}"):
                    if out == "raw_sql":
                        ref = task(config.store.schema_name("src"), source)
                    elif task.lazy:
                        ref = task(source)
                    else:
                        ref = task()
                    self.outputs[out] = ref
                with Stage(f"in_{out}"):
                    for inp, consumer in tasks.INPUT_TASKS.items():
                        self.inputs[(out, inp)] = consumer.with_name(f"{inp}_from_{out}")(ref)
        self.flow = flow
        self.result = flow.run(config=config)
        self.reads: dict[tuple[Any, Any], Any] = {}
        # `result.get` reads through the store's one reader session (one connection).
        for ref in [*self.outputs.values(), *self.inputs.values()]:
            for as_type in AS_TYPES.values():
                try:
                    value = self.result.get(ref, as_type=as_type)
                except Exception as error:
                    value = error
                self.reads[(ref, as_type)] = value

    def read(self, ref: Any, as_type: Any) -> Any:
        value = self.reads[(ref, as_type)]
        if isinstance(value, Exception):
            cause = self.result.exception.__cause__ if self.result.exception else None
            state = self.result.states.get(ref.call)
            raise AssertionError(
                f"{ref.call.id} ({state}) cannot be read as {as_type}: {value!r}; "
                f"first failure of the run: {cause!r}"
            ) from value
        return value


@pytest.fixture(scope="module")
def roundtrip(module_target: StoreTarget) -> RoundTrip:
    return RoundTrip(module_target.config())


def test_roundtrip_flow_succeeds(roundtrip: RoundTrip) -> None:
    result = roundtrip.result
    assert result.exception is None, repr(result.exception)
    assert result.successful
    assert len(result.states) == 1 + len(tasks.OUTPUT_TASKS) * (1 + len(tasks.INPUT_TASKS))


@pytest.mark.parametrize("out", list(tasks.OUTPUT_TASKS))
def test_output_type_is_written(roundtrip: RoundTrip, out: str) -> None:
    result = roundtrip.result
    ref = roundtrip.outputs[out]
    assert ref.call in result.outputs, f"{out}: {result.states.get(ref.call)} {result.exception!r}"
    assert tasks.canonical_rows(roundtrip.read(ref, pa.Table)) == EXPECTED
    # ... and shown by its stage view, as any SQL client sees it.
    rows = read_view(roundtrip.config, f"out_{out}", ref.call.name, order_by="id")
    assert [r[0] for r in rows] == [1, 2, 3]
    assert [r[1] for r in rows] == ["a", None, "c"]


@pytest.mark.parametrize("inp", list(tasks.INPUT_TASKS))
@pytest.mark.parametrize("out", list(tasks.OUTPUT_TASKS))
def test_output_read_back_as_input_type(roundtrip: RoundTrip, out: str, inp: str) -> None:
    ref = roundtrip.inputs[(out, inp)]
    assert tasks.canonical_rows(roundtrip.read(ref, pa.Table)) == EXPECTED


@pytest.mark.parametrize("as_type", list(AS_TYPES))
@pytest.mark.parametrize("out", list(tasks.OUTPUT_TASKS))
def test_result_get_as_frame_type(roundtrip: RoundTrip, out: str, as_type: str) -> None:
    value = roundtrip.read(roundtrip.outputs[out], AS_TYPES[as_type])
    assert isinstance(value, AS_TYPES[as_type])
    assert tasks.canonical_rows(value) == EXPECTED


@pytest.mark.parametrize("out", ["pandas", "ibis"])
def test_result_get_without_outer_session(roundtrip: RoundTrip, out: str) -> None:
    value = roundtrip.result.get(roundtrip.outputs[out], as_type=pl.DataFrame)
    assert isinstance(value, pl.DataFrame)
    assert tasks.canonical_rows(value) == EXPECTED


@pytest.mark.parametrize("out", ["pyarrow", "ibis"])
def test_result_get_as_str_names_a_readable_table(roundtrip: RoundTrip, out: str) -> None:
    name = roundtrip.result.get(roundtrip.outputs[out], as_type=str)
    assert isinstance(name, str)
    rows = query(roundtrip.config, f"SELECT id FROM {name} ORDER BY id")
    assert [r[0] for r in rows] == [1, 2, 3]


@pytest.mark.parametrize("out", ["pyarrow", "sql_str"])
def test_result_get_as_sqlalchemy_table(roundtrip: RoundTrip, out: str) -> None:
    alias = roundtrip.result.get(roundtrip.outputs[out], as_type=sa.Table)
    # As in pipedag: an alias by the logical name, of the physical table (`.original`).
    assert isinstance(alias, sa.Alias) and alias.name == f"out_{out}"
    table = alias.original
    assert isinstance(table, sa.Table)
    assert [c.name for c in table.columns] == ["id", "name", "x"]
    assert isinstance(table.c.id.type, sa.BigInteger)
    assert isinstance(table.c.name.type, sa.String)
    assert isinstance(table.c.x.type, sa.Double | sa.Float)
    assert table.schema == roundtrip.config.store.data_schema_name(f"out_{out}")


@pytest.mark.parametrize("out", ["pyarrow", "ibis"])
def test_result_get_as_ibis_table_is_usable(roundtrip: RoundTrip, out: str) -> None:
    expr = roundtrip.result.get(roundtrip.outputs[out], as_type=ibis.Table)
    assert isinstance(expr, ibis.Table)
    assert expr.columns == ("id", "name", "x")
    assert tasks.canonical_rows(expr.to_pyarrow()) == EXPECTED


def test_result_get_default_is_pyarrow_or_input_type(roundtrip: RoundTrip) -> None:
    result = roundtrip.result
    assert isinstance(result.get(roundtrip.outputs["pyarrow"]), pa.Table)
    # A task's own input_type is the default form of its output.
    assert isinstance(result.get(roundtrip.inputs[("pyarrow", "pandas")]), pd.DataFrame)


# -- type fidelity ---------------------------------------------------------------------------------


def _run_single(config: Config, task: Any) -> Any:
    with Flow("single") as flow, Stage("s"):
        ref = task()
    result = flow.run(config=config)
    assert result.successful, repr(result.exception)
    return result, ref


WIDENED = {"postgres": {"i8": pa.int16()}}
"""Arrow types a database cannot hold, and what they come back as (Postgres has no 1-byte int;
see `tabledag.loaders.postgres_types`)."""


def test_arrow_types_round_trip(config: Config) -> None:
    result, ref = _run_single(config, tasks.typed)
    original = tasks.typed_data()
    back = result.get(ref, as_type=pa.Table)
    assert back.column_names == original.column_names
    for name in original.column_names:
        expected, got = original[name], back[name]
        if name in WIDENED.get(config.store.dialect.name, {}):
            # The database has no such type: the dialect documents the wider one it stores.
            assert got.type == WIDENED[config.store.dialect.name][name], (name, got.type)
            assert got.to_pylist() == expected.to_pylist(), name
            continue
        if name == "ts_utc":
            # A zone-aware timestamp stays zone-aware, with the same instants.
            assert pa.types.is_timestamp(got.type) and got.type.unit == "us", got.type
            assert got.type.tz is not None, got.type
            assert got.cast(pa.timestamp("us", tz="UTC")).equals(expected), name
            continue
        assert got.type == expected.type, (name, got.type, expected.type)
        assert got.to_pylist() == expected.to_pylist(), name
        assert got.null_count == 1, name


def test_arrow_types_survive_a_lazy_copy(config: Config) -> None:
    with Flow("typed_lazy") as flow:
        with Stage("s"):
            ref = tasks.typed()
        with Stage("t"):
            copied = tasks.in_str.with_name("copy")(ref)
    result = flow.run(config=config)
    assert result.successful, repr(result.exception)
    original = result.get(ref, as_type=pa.Table)
    back = result.get(copied, as_type=pa.Table)
    assert back.schema == original.schema
    assert back.equals(original)


def test_unicode_and_mixed_case_column_names_preserved(config: Config) -> None:
    result, ref = _run_single(config, tasks.typed)
    back = result.get(ref, as_type=pl.DataFrame)
    assert "größe" in back.columns
    assert "名前" in back.columns
    assert "MixedCase" in back.columns
    assert "mixedcase" not in back.columns
    store = config.store
    rows = query(
        config,
        f'SELECT "MixedCase", "größe", "名前" FROM {qname(store.schema_name("s"), "typed")} '
        'ORDER BY "MixedCase" NULLS LAST',
    )
    assert rows == [(1, 1, "a"), (3, 3, "c"), (None, None, None)]


def test_table_names_are_lowercased(config: Config) -> None:
    result, ref = _run_single(config, tasks.named_upper)
    outputs = result.outputs[ref.call]
    assert outputs["t"].name == "mytable"
    assert outputs["u"].name == "other_name"
    assert [r[0] for r in read_view(config, "s", "mytable", order_by="id")] == [1, 2]
    assert [r[0] for r in read_view(config, "s", "other_name")] == [3]
    assert tasks.canonical_rows(result.get(ref["t"], as_type=pa.Table)) == [{"id": 1}, {"id": 2}]
