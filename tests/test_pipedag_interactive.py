"""pipedag's interactive debugging: a table written by hand into a schema, outside any stage,
read back as a SQLAlchemy alias or a frame, and `materialize_table` (Postgres, whose SQLAlchemy
dialect is installed with tabledag's own driver)."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from tabledag import ConfigContext, Schema, Table, materialize, materialize_table

from .conftest import StoreTarget

on_postgres = pytest.mark.parametrize(
    "store_kind", [pytest.param("postgres", marks=pytest.mark.postgres)]
)


@materialize(lazy=True, input_type=sa.Table)
def doubled(t: sa.Alias) -> Table:
    return Table(sa.select((t.c.x * 2).label("x2")), "doubled").materialize()


@on_postgres
def test_tables_written_by_hand_feed_tasks_called_by_hand(target: StoreTarget) -> None:
    cfg = ConfigContext.of(target.config())
    schema = Schema("debugging", prefix=target.schema_prefix)
    frame = pd.DataFrame({"x": [1, 2]})
    alias, back = Table(frame, "points").materialize(
        cfg, schema, return_as_type=[None, pd.DataFrame]
    )
    assert alias.original.name == "points" and alias.original.schema == schema.get()
    assert back["x"].tolist() == [1, 2]
    query = doubled(alias)  # a task called as a function: its Table(...).materialize() is obj
    assert isinstance(query, sa.Select)
    written = Table(query, "doubled").materialize(cfg, schema, return_as_type=pd.DataFrame)
    assert written["x2"].tolist() == [2, 4]
    name = materialize_table(Table(query, "doubled"), cfg, schema, debug_suffix="_debug")
    assert name == "doubled_debug"
    with cfg.store.table_store.engine_connect() as conn:
        rows = conn.execute(sa.text(f'SELECT x2 FROM "{schema.get()}"."{name}" ORDER BY 1'))
        assert [r[0] for r in rows] == [2, 4]
        conn.execute(sa.text(f'DROP SCHEMA "{schema.get()}" CASCADE'))


@pytest.mark.parametrize("store_kind", ["duckdb", "parquet"])
def test_a_duckdb_engine_shares_the_database_tabledag_holds(target: StoreTarget) -> None:
    # duckdb-engine's own connect would open the file with another configuration, which
    # DuckDB refuses while tabledag holds it
    pytest.importorskip("duckdb_engine", reason="SQLAlchemy needs duckdb-engine for DuckDB")
    from tabledag import Flow, Stage

    @materialize(version="1")
    def numbers() -> Table:
        return Table(pd.DataFrame({"x": [1, 2, 3]}), "numbers")

    with Flow("engine") as flow, Stage("s"):
        numbers()
    cfg = ConfigContext.of(target.config())
    result = flow.run(config=cfg)
    assert result.successful
    with result, cfg.store.table_store.engine_connect() as conn:  # while the Result reads
        schema = cfg.store.schema_name("s")
        rows = conn.execute(sa.text(f'SELECT SUM(x) FROM "{schema}"."numbers"')).fetchall()
    assert rows == [(6,)]
