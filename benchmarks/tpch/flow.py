"""TPC-H as a tabledag flow: stage `tpch_raw` loads the 8 tables (eager Arrow or polars
outputs with primary keys and indexes), stage `tpch_sql` runs the 22 queries as SQL text and
stage `tpch_ibis` the same 22 as ibis expressions (lazy tasks)."""

from __future__ import annotations

from typing import Any

import ibis

from tabledag import Flow, Stage, Table, materialize

from . import queries_ibis, queries_sql
from .data import KEYS, TABLES

STAGES = ("tpch_raw", "tpch_sql", "tpch_ibis")
QUERY_NAMES = tuple(queries_sql.QUERIES)

_frames: dict[str, Any] = {}
"""name -> the frame its load task returns (set by `build`)."""


@materialize(version="1")
def load(name: str, sf: str) -> Table:
    """One TPC-H table with the keys a PostgreSQL user declares (`sf` keys the cache)."""
    return Table(
        _frames[name], primary_key=KEYS[name]["primary_key"], indexes=KEYS[name]["indexes"]
    )


@materialize(lazy=True, input_type=str)
def sql_query(query: str, **tables: str) -> str:
    return queries_sql.render(query, tables)


@materialize(lazy=True, input_type=ibis.Table)
def ibis_query(query: str, **tables: Any) -> Any:
    return queries_ibis.QUERIES[query](**tables)


def build(
    frames: dict[str, Any],
    sf: float,
    variants: tuple[str, ...] = ("sql", "ibis"),
    name: str = "tpch",
) -> Flow:
    """The flow over `frames` (name -> pyarrow table or polars frame); `variants`: which
    query stages to include."""
    _frames.clear()
    _frames.update(frames)
    with Flow(name) as flow:
        with Stage("tpch_raw"):
            raw = {t: load.with_name(t)(t, f"{sf:g}") for t in TABLES}
        if "sql" in variants:
            with Stage("tpch_sql"):
                for q in QUERY_NAMES:
                    needed = queries_sql.tables_of(q)
                    sql_query.with_name(q)(q, **{t: raw[t] for t in needed})
        if "ibis" in variants:
            with Stage("tpch_ibis"):
                for q in QUERY_NAMES:
                    needed = queries_ibis.tables_of(q)
                    ibis_query.with_name(q)(q, **{t: raw[t] for t in needed})
    return flow


def stage_seconds(result: Any, stage: str) -> float:
    """The summed task durations of one stage in a run."""
    return sum(d for call, d in result.durations.items() if call.stage.name == stage)
