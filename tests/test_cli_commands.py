"""`tabledag run`, `status`, `sql`, `gc` and `delete-schemas` through a real subprocess: exit
codes (0 ok, 1 the flow failed, 2 usage or configuration), what they print, and what they leave
in the store."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
import sqlglot

from .cli_project import tabledag, write_project

GOLDEN = Path(__file__).parent / "golden_cli"

FLOW = """
import ibis
import pyarrow as pa
from tabledag import Flow, Stage, Table, materialize


@materialize(version="1")
def orders():
    return Table(pa.table({"id": [1, 2, 3, 4], "amount": [10.0, 20.0, 30.0, 40.0],
                           "region": ["n", "s", "n", "s"]}), "orders")


@materialize(lazy=True, input_type=str)
def by_region(t):
    return Table(
        f"SELECT region, SUM(amount) AS total, COUNT(*) AS n FROM {t} "
        "WHERE amount > 10 GROUP BY region ORDER BY total DESC LIMIT 5",
        "by_region",
    )


@materialize(lazy=True, input_type=ibis.Table)
def by_region_ibis(t):
    big = t.filter(t.amount > 10)
    return Table(big.group_by("region").aggregate(total=big.amount.sum()), "by_region_ibis")


@materialize(version="1")
def broken():
    raise ValueError("cannot reach postgresql://etl:hunter2@db.internal/warehouse")


with Flow("cli_flow") as flow:
    with Stage("raw"):
        o = orders()
    with Stage("model"):
        by_region(o)
        by_region_ibis(o)

with Flow("failing") as failing:
    with Stage("raw"):
        broken()
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path, FLOW)


def tables_in(project: Path, schema: str) -> set[str]:
    with duckdb.connect(str(project / "db.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema]
        ).fetchall()
    return {r[0] for r in rows}


def test_run_prints_each_task_and_exits_0(project: Path) -> None:
    done = tabledag("run", "pipeline.py:flow", cwd=project)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert any(line.startswith("COMPLETED") and "raw.orders" in line for line in lines), lines
    assert any("(4 rows)" in line for line in lines), lines  # the frame load's rows
    assert lines[-1].startswith("run ") and "successful: 3 completed" in lines[-1]
    again = tabledag("run", "pipeline.py:flow", "--quiet", cwd=project)
    assert again.returncode == 0 and "3 cache_valid" in again.stderr.splitlines()[-1]
    forced = tabledag("run", "pipeline.py:flow", "--ignore-cache", "-e", "threads", cwd=project)
    assert forced.returncode == 0 and "3 completed" in forced.stderr.splitlines()[-1]


def test_run_only_a_stage_or_a_task(project: Path) -> None:
    assert tabledag("run", "pipeline.py:flow", cwd=project).returncode == 0
    stage = tabledag("run", "pipeline.py:flow", "--stage", "model", cwd=project)
    assert stage.returncode == 0, stage.stderr
    assert "model.by_region" in stage.stderr and "raw.orders" not in stage.stderr
    task = tabledag("run", "pipeline.py:flow", "--task", "by_region", cwd=project)
    assert task.returncode == 0, task.stderr
    assert "1 completed" in task.stderr.splitlines()[-1]  # a selected task runs even if cached


def test_run_usage_errors_exit_2(project: Path) -> None:
    stage = tabledag("run", "pipeline.py:flow", "--stage", "nope", cwd=project)
    assert stage.returncode == 2 and "has no stage 'nope' (stages: raw, model)" in stage.stderr
    both = tabledag("run", "pipeline.py:flow", "-s", "raw", "-t", "orders", cwd=project)
    assert both.returncode == 2 and "not both" in both.stderr
    module = tabledag("run", "nomodule:flow", cwd=project)
    assert module.returncode == 2
    assert module.stderr.strip().splitlines() == [
        "tabledag: error: cannot import module 'nomodule': No module named 'nomodule'"
    ]
    engine = tabledag("run", "pipeline.py:flow", "--engine", "warp", cwd=project)
    assert engine.returncode == 2 and "warp" in engine.stderr


def test_a_failed_flow_exits_1_with_one_masked_line(project: Path) -> None:
    done = tabledag("run", "pipeline.py:failing", cwd=project)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("tabledag: error:")]
    assert len(errors) == 1 and "broken" in errors[0] and "ValueError" in errors[0], done.stderr
    assert "Traceback" not in done.stderr
    assert "hunter2" not in done.stderr and "etl:***@db.internal" in done.stderr
    debug = tabledag("--debug", "run", "pipeline.py:failing", cwd=project)
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr


def test_status_lists_tables_rows_and_the_last_run(project: Path) -> None:
    empty = tabledag("status", cwd=project)
    assert empty.returncode == 0, empty.stderr
    assert "no stage has committed yet" in empty.stdout and "no run is recorded" in empty.stdout
    tabledag("run", "pipeline.py:flow", cwd=project)
    failed = tabledag("run", "pipeline.py:failing", cwd=project)
    assert failed.returncode == 1
    done = tabledag("status", "-c", "tabledag.yaml", cwd=project)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines() if " rows " in line}
    assert rows == {"by_region": "2", "by_region_ibis": "2", "orders": "4"}, out
    assert "stage 'raw' (generation" in out and "stage 'model' (generation 1" in out
    assert "last run" in out and "flow 'failing': failed" in out
    assert "error in raw.broken" in out and "hunter2" not in out


@pytest.mark.parametrize("task", ["by_region", "by_region_ibis"])  # SQL text; ibis's GROUP BY 1
@pytest.mark.parametrize("dialect", ["postgres", "snowflake", "tsql", "db2", "duckdb"])
def test_sql_renders_for_a_dialect_without_its_server(
    project: Path, dialect: str, task: str
) -> None:
    assert tabledag("run", "pipeline.py:flow", cwd=project).returncode == 0
    done = tabledag("sql", "pipeline.py:flow", f"model.{task}", "--dialect", dialect, cwd=project)
    assert done.returncode == 0, done.stderr
    golden = GOLDEN / f"{task}.{dialect}.sql"
    if os.environ.get("TABLEDAG_UPDATE_GOLDEN"):
        golden.write_text(done.stdout)
    assert done.stdout == golden.read_text()
    read = {"tsql": "tsql", "postgres": "postgres", "db2": None}.get(dialect, dialect)
    statements = [s for s in done.stdout.split(";\n") if s.strip() and not s.startswith("--")]
    body = [s.split("\n", 1)[1] if s.startswith("--") else s for s in statements]
    for statement in body:
        if read is not None:
            sqlglot.parse_one(statement, read=read)  # parses back in its own dialect
        else:  # DB2: tabledag's sqlglot dialect for it
            from tabledag.stores.sql.dialects.db2_sqlglot import DB2

            sqlglot.parse_one(statement, read=DB2)
    assert "__data" not in done.stdout  # the stage views, not this store's physical tables


def test_sql_in_the_stores_own_dialect_writes_nothing(project: Path) -> None:
    assert tabledag("run", "pipeline.py:flow", cwd=project).returncode == 0
    before = tables_in(project, "model__data")
    done = tabledag("sql", "pipeline.py:flow", "by_region", cwd=project)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("-- model.by_region (DuckDB, as the store runs it)")
    assert 'FROM "raw"."orders"' in done.stdout
    assert tables_in(project, "model__data") == before
    eager = tabledag("sql", "pipeline.py:flow", "orders", cwd=project)
    assert eager.returncode == 2 and "is not lazy" in eager.stderr
    missing = tabledag("sql", "pipeline.py:flow", "nope", cwd=project)
    assert missing.returncode == 2 and "has no task 'nope'" in missing.stderr


def test_gc_drops_only_unreferenced_tables(project: Path) -> None:
    assert tabledag("run", "pipeline.py:flow", cwd=project).returncode == 0
    kept = tables_in(project, "raw__data")
    with duckdb.connect(str(project / "db.duckdb")) as con:  # what a killed run leaves
        con.execute("CREATE TABLE raw__data.orders__0123456789abcdef AS SELECT 1 AS x")
    dry = tabledag("gc", "--dry-run", cwd=project)
    assert dry.returncode == 0, dry.stderr
    assert "would drop raw: orders__0123456789abcdef" in dry.stdout
    assert "would drop 1 unreferenced" in dry.stdout
    assert tables_in(project, "raw__data") == kept | {"orders__0123456789abcdef"}
    done = tabledag("gc", cwd=project)
    assert done.returncode == 0 and "dropped 1 unreferenced" in done.stdout
    assert tables_in(project, "raw__data") == kept
    again = tabledag("run", "pipeline.py:flow", "-q", cwd=project)
    assert "3 cache_valid" in again.stderr.splitlines()[-1]  # nothing committed was touched


def test_delete_schemas_asks_then_deletes_everything(project: Path) -> None:
    assert tabledag("run", "pipeline.py:flow", cwd=project).returncode == 0
    refused = tabledag("delete-schemas", cwd=project, stdin="n\n")
    assert refused.returncode == 1 and tables_in(project, "raw__data")
    dry = tabledag("delete-schemas", "--dry-run", cwd=project)
    assert dry.returncode == 0 and "stages model, raw" in dry.stdout
    done = tabledag("delete-schemas", "--yes", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "model__data" in done.stdout and "tabledag_metadata" in done.stdout
    with duckdb.connect(str(project / "db.duckdb"), read_only=True) as con:
        schemas = {r[0] for r in con.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()}
    assert not schemas & {"raw", "raw__data", "model", "model__data", "tabledag_metadata"}
    rerun = tabledag("run", "pipeline.py:flow", cwd=project)
    assert rerun.returncode == 0 and "3 completed" in rerun.stderr.splitlines()[-1]


def test_help_lists_every_command(project: Path) -> None:
    done = tabledag("--help", cwd=project)
    assert done.returncode == 0
    for command in ("run", "sql", "status", "graph", "report", "gc", "delete-schemas", "demo"):
        assert f"  {command} " in done.stdout
        sub = tabledag(command, "--help", cwd=project)
        assert sub.returncode == 0 and "Usage: tabledag" in sub.stdout, sub.stderr
