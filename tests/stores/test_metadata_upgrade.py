"""A metadata schema written by an older tabledag (fewer columns) is upgraded in place."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from tabledag import Flow, Stage, create_basic_config, materialize


@materialize(version="1")
def numbers() -> pa.Table:
    return pa.table({"x": [1, 2, 3]})


def test_older_metadata_columns_are_added(tmp_path: Path) -> None:
    path = tmp_path / "db.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA tabledag_metadata")
    con.execute(
        "CREATE TABLE tabledag_metadata.tables (stage VARCHAR NOT NULL, key VARCHAR NOT NULL, "
        "name VARCHAR NOT NULL, view_name VARCHAR NOT NULL, physical VARCHAR NOT NULL, "
        "generation INTEGER NOT NULL, created_at TIMESTAMP)"
    )
    con.close()
    with Flow("f") as flow, Stage("raw"):
        out = numbers()
    config = create_basic_config(f"duckdb:///{path}")
    assert flow.run(config=config).successful
    again = flow.run(config=config)
    assert again.task_states[out].name == "CACHE_VALID"
    con = duckdb.connect(str(path))
    columns = {
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'tabledag_metadata' AND table_name = 'tables'"
        ).fetchall()
    }
    con.close()
    assert {"columns", "fingerprint", "sql"} <= columns
