"""`session.lazy_query_str`: the canonical SQL of a lazy output identifies it, so it must be the
same in every process and run order, and name tables logically."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlglot

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import sys

    import ibis
    import pyarrow as pa

    from tabledag import Flow, Stage, create_basic_config, materialize

    db, mode = sys.argv[1], sys.argv[2]


    @materialize(version="1")
    def orders():
        return pa.table({"id": [1, 2, 3], "amount": [10.0, 250.0, 700.0], "cust": ["a", "b", "a"]})


    @materialize(version="1")
    def customers():
        return pa.table({"cust": ["a", "b"], "region": ["north", "south"]})


    @materialize(lazy=True, input_type=ibis.Table)
    def noise(t):
        # An ibis memtable and some other lazy query, to disturb counters and caches.
        extra = ibis.memtable({"cust": ["z"], "region": ["west"]})
        return t.union(extra)


    def build(stage_order):
        with Flow("demo") as flow:
            for name in stage_order:
                with Stage(name):
                    if name == "raw":
                        refs["orders"] = orders()
                    elif name == "dim":
                        refs["customers"] = customers()
                        noise(refs["customers"])
        return flow


    refs = {}
    config = create_basic_config(f"duckdb:///{db}")
    if mode == "a":
        result = build(["raw", "dim"]).run(config=config)
    else:
        build(["dim", "raw"]).run(config=config)
        result = build(["dim", "raw"]).run(config=config)
    assert result.successful, result.exception

    def read(session, name):
        ref = result.outputs[refs[name].call]
        return session.retrieve(ref, ref.stage, ibis.Table)

    with config.store.session() as session:
        if mode == "b":  # look at the tables in the other order
            c = read(session, "customers")
            o = read(session, "orders")
        else:
            o = read(session, "orders")
            c = read(session, "customers")
        expr = (
            o.filter(o.amount > 50)
            .join(c, "cust")
            .group_by("region")
            .aggregate(total=lambda t: t.amount.sum())
        )
        print("<<<" + session.lazy_query_str(expr) + ">>>")
    """
)


def run_script(tmp_path: Path, mode: str) -> str:
    script = tmp_path / "lazy_query_str_script.py"
    script.write_text(SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / f"{mode}.duckdb"), mode],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    match = re.search(r"<<<(.*)>>>", done.stdout, re.S)
    assert match, done.stdout
    return match.group(1)


@pytest.fixture(scope="module")
def strings(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    tmp = tmp_path_factory.mktemp("lazy_query_str")
    return run_script(tmp, "a"), run_script(tmp, "b")


def test_same_string_in_two_processes_and_run_orders(strings: tuple[str, str]) -> None:
    first, second = strings
    assert first == second


def test_names_logical_tables(strings: tuple[str, str]) -> None:
    sql = strings[0]
    assert re.search(r'"raw"\s*\.\s*"orders"', sql), sql
    assert re.search(r'"dim"\s*\.\s*"customers"', sql), sql
    assert "__data" not in sql


def test_holds_no_generated_names(strings: tuple[str, str]) -> None:
    sql = strings[0]
    assert "memtable" not in sql.lower()
    assert not re.search(r"[0-9a-f]{12,}", sql), sql
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", sql), sql
    assert "__tabledag_arrow" not in sql


def test_parses_as_duckdb_sql(strings: tuple[str, str]) -> None:
    tree = sqlglot.parse_one(strings[0], read="duckdb")
    assert isinstance(tree, sqlglot.exp.Query)
    tables = {(t.db, t.name) for t in tree.find_all(sqlglot.exp.Table)}
    assert tables == {("raw", "orders"), ("dim", "customers")}


def test_in_process_kinds(tmp_path: Path) -> None:
    import ibis
    import pyarrow as pa

    from tabledag import RawSql, create_basic_config

    store = create_basic_config(f"duckdb:///{tmp_path}/k.duckdb").store
    with store.session() as session:
        text = session.lazy_query_str("select a   from x.y where a > 1 -- comment")
        assert text == session.lazy_query_str("SELECT a FROM x.y WHERE a > 1")
        assert "comment" not in text
        sqlglot.parse_one(text, read="duckdb")
        assert session.lazy_query_str(RawSql("  SELECT 1  ")) == "SELECT 1"
        with pytest.raises(TypeError):
            session.lazy_query_str(pa.table({"a": [1]}))
        with pytest.raises(TypeError, match="ibis"):
            session.lazy_query_str(ibis.memtable({"a": [1]}))


CACHED_RERUN = textwrap.dedent(
    """
    import sys
    import ibis
    import pyarrow as pa
    from tabledag import Flow, Stage, create_basic_config, materialize
    from tabledag.hooks import ibis as ibis_hook

    @materialize(version="1")
    def orders():
        return pa.table({"id": [1, 2, 3], "amount": [5.0, 50.0, 500.0]})

    @materialize(lazy=True, input_type=ibis.Table)
    def big(t):
        return t.filter(t.amount > 10).mutate(double=t.amount * 2)

    with Flow("f") as flow:
        with Stage("raw"):
            o = orders()
        with Stage("model"):
            b = big(o)

    result = flow.run(config=create_basic_config(sys.argv[1]))
    assert result.successful, result.exception
    print(result.task_states[b].name, len(ibis_hook._compiled), result.sql(b).count("amount"))
    """
)


def test_cached_rerun_in_a_new_process_compiles_nothing(tmp_path: Path) -> None:
    """The ibis fingerprint finds the kept table: no ibis compilation on a cached rerun."""
    script = tmp_path / "rerun.py"
    script.write_text(CACHED_RERUN)
    url = f"duckdb:///{tmp_path}/db.duckdb"
    outputs = [
        subprocess.run(
            [sys.executable, str(script), url], capture_output=True, text=True, check=True
        ).stdout.split()
        for _ in range(2)
    ]
    assert outputs[0][:2] == ["COMPLETED", "1"]
    assert outputs[1][:2] == ["CACHE_VALID", "0"]
    assert outputs[0][2] == outputs[1][2] != "0"  # the SQL is known without compiling
