"""ParquetTableStore beyond the behaviour suite: the files are the truth.

A second catalogue (a new DuckDB file, or none) attaches to `parquet_base_path` alone and gets
the committed stages and their cache hits; old files are deleted after commits; odd paths work;
frame inputs read the files themselves; two processes share one path; a run killed between
its catalogue commit and its manifest leaves every reader a whole generation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import ibis
import polars as pl
import pyarrow as pa

from tabledag import Config, FinalTaskState, Flow, ParquetTableStore, Stage, Table, materialize

ROOT = Path(__file__).resolve().parents[2]
STATE: dict[str, Any] = {"value": 1}


@materialize()
def numbers() -> pa.Table:
    return pa.table({"i": list(range(5)), "v": [STATE["value"]] * 5})


@materialize(version="1")
def labels() -> pl.DataFrame:
    return pl.DataFrame({"i": [0, 1, 2], "label": ["zero", "one", "two"]})


@materialize(lazy=True, input_type=ibis.Table)
def labelled(n: ibis.Table, l: ibis.Table) -> ibis.Table:  # noqa: E741
    return n.join(l, "i").select("i", "v", "label")


@materialize(lazy=True, input_type=str)
def total(t: str) -> str:
    return f"SELECT count(*) AS n, sum(v) AS s FROM {t}"


@materialize(input_type=pl.LazyFrame, version="1")
def plan_of(t: pl.LazyFrame) -> Table:
    return Table(pl.DataFrame({"plan": [t.explain()]}), name="plan")


def flow() -> tuple[Flow, dict[str, Any]]:
    with Flow("files") as f:
        with Stage("raw"):
            n = numbers()
            lab = labels()
        with Stage("model"):
            both = labelled(n, lab)
            tot = total(both)
            plan = plan_of(both)
    return f, {"numbers": n, "labels": lab, "labelled": both, "total": tot, "plan": plan}


def config(base: Path, catalogue: str | None) -> Config:
    args: dict[str, Any] = {"parquet_base_path": str(base)}
    if catalogue is not None:
        args["url"] = f"duckdb:///{catalogue}"
    return Config("pipeline", {"class": "tabledag.ParquetTableStore", "args": args})


def files(base: Path) -> set[str]:
    return {str(p.relative_to(base)) for p in base.rglob("*.parquet")}


def test_a_new_catalogue_attaches_to_the_files_and_gets_cache_hits(tmp_path: Path) -> None:
    base = tmp_path / "files"
    STATE["value"] = 1
    f, refs = flow()
    first = f.run(config=config(base, str(tmp_path / "a.duckdb")))
    assert first.successful, repr(first.exception)
    written = files(base)
    # a colleague with only the files: an in-memory catalogue, and another DuckDB file
    for catalogue in (None, str(tmp_path / "b.duckdb")):
        f, refs = flow()
        again = f.run(config=config(base, catalogue))
        assert again.successful, repr(again.exception)
        states = again.task_states
        assert states[refs["labels"]] is FinalTaskState.CACHE_VALID
        assert states[refs["labelled"]] is FinalTaskState.CACHE_VALID
        assert states[refs["total"]] is FinalTaskState.CACHE_VALID
        assert states[refs["plan"]] is FinalTaskState.CACHE_VALID
        assert again.get(refs["total"], as_type=pa.Table).to_pylist() == [{"n": 3, "s": 3}]
        assert files(base) == written  # nothing was written again
        again.close()


def test_reads_without_running_after_sync(tmp_path: Path) -> None:
    import duckdb

    base = tmp_path / "files"
    STATE["value"] = 2
    f, _ = flow()
    assert f.run(config=config(base, str(tmp_path / "a.duckdb"))).successful
    store = ParquetTableStore(f"duckdb:///{tmp_path}/b.duckdb", parquet_base_path=str(base))
    assert sorted(store.sync()) == ["model", "raw"]
    store.close()
    con = duckdb.connect(str(tmp_path / "b.duckdb"))  # another client of the new catalogue
    try:
        assert con.execute('SELECT n, s FROM "model"."total"').fetchall() == [(3, 6)]
        rows = con.execute('SELECT i, label FROM "model"."labelled" ORDER BY i').fetchall()
        assert rows == [(0, "zero"), (1, "one"), (2, "two")]
    finally:
        con.close()


def test_old_files_are_deleted_after_commits(tmp_path: Path) -> None:
    base = tmp_path / "files"
    seen = []
    for value in (1, 2, 3):
        STATE["value"] = value
        f, _ = flow()
        assert f.run(config=config(base, str(tmp_path / "a.duckdb"))).successful
        seen.append({p for p in files(base) if "numbers__" in p})
    assert len(seen[0]) == 1
    assert seen[1] > seen[0]  # the previous generation stays, for rollback
    assert seen[0].isdisjoint(seen[2])  # the one before is gone
    manifest = json.loads((base / "pipeline" / "raw" / "_manifest.json").read_text())
    assert manifest["generation"] == 3
    kept = {r["physical"] for r in manifest["tables"]}
    assert {Path(p).stem for p in files(base) if p.startswith("pipeline/raw/")} == kept
    assert not list(base.rglob("*.tmp"))


def test_paths_with_spaces_and_unicode(tmp_path: Path) -> None:
    base = tmp_path / "a dir" / "ünï cødé 名前"
    STATE["value"] = 4
    f, refs = flow()
    result = f.run(config=config(base, str(tmp_path / "cat alog ü.duckdb")))
    assert result.successful, repr(result.exception)
    assert result.get(refs["total"], as_type=pa.Table).to_pylist() == [{"n": 3, "s": 12}]
    frame = result.get(refs["labelled"], as_type=pl.DataFrame).sort("i")
    assert frame["label"].to_list() == ["zero", "one", "two"]
    result.close()


def test_frame_inputs_read_the_files_directly(tmp_path: Path) -> None:
    STATE["value"] = 5
    f, refs = flow()
    result = f.run(config=config(tmp_path / "files", None))
    assert result.successful, repr(result.exception)
    (plan,) = result.get(refs["plan"], as_type=pl.DataFrame)["plan"].to_list()
    assert "parquet" in plan.lower(), plan  # a scan of the file, not of data read into memory
    result.close()


TWO = textwrap.dedent(
    """
    import sys
    from tests.stores.test_parquet_store import STATE, config, flow
    STATE["value"] = int(sys.argv[3])
    f, refs = flow()
    result = f.run(config=config(sys.argv[1], sys.argv[2]))
    print("OK" if result.successful else f"FAILED {result.exception!r}")
    """
)


def _spawn(tmp_path: Path, *args: str, **env: str) -> subprocess.Popen:
    script = tmp_path / "two.py"
    script.write_text(TWO)
    return subprocess.Popen(
        [sys.executable, str(script), *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_on_one_path(tmp_path: Path) -> None:
    base = str(tmp_path / "files")
    runs = [
        _spawn(tmp_path, base, str(tmp_path / f"{name}.duckdb"), value)
        for name, value in (("a", "6"), ("b", "7"))
    ]
    for run in runs:
        out, err = run.communicate(timeout=180)
        assert out.strip() == "OK", err[-3000:]
    # whichever ran last committed; a third catalogue sees one whole generation of it
    import duckdb

    catalogue = tmp_path / "c.duckdb"
    store = ParquetTableStore(f"duckdb:///{catalogue}", parquet_base_path=base)
    assert store.sync() == ["model", "raw"]
    store.close()
    con = duckdb.connect(str(catalogue))
    try:
        ((value,),) = con.execute('SELECT DISTINCT v FROM "raw"."numbers"').fetchall()
        assert value in (6, 7)
        assert con.execute('SELECT n, s FROM "model"."total"').fetchall() == [(3, 3 * value)]
    finally:
        con.close()


def test_killed_between_catalogue_commit_and_manifest(tmp_path: Path) -> None:
    """SIGKILL right after the raw stage's catalogue commit, before its manifest: readers of
    the files still see the previous generation, whole; the next run repairs the manifest."""
    base = tmp_path / "files"
    STATE["value"] = 1
    f, refs = flow()
    assert f.run(config=config(base, str(tmp_path / "a.duckdb"))).successful
    script = tmp_path / "killed.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from tabledag import Config
            from tests.stores.test_parquet_store import STATE, flow
            STATE["value"] = 8
            args = {{"url": "duckdb:///{tmp_path}/a.duckdb", "parquet_base_path": "{base}",
                     "kill_at": ["commit", 1]}}
            f, refs = flow()
            f.run(config=Config("pipeline", {{"class": "tests.faults:FaultyParquetStore",
                                              "args": args}}))
            """
        )
    )
    killed = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert killed.returncode == -9, killed.stderr[-3000:]
    manifest = json.loads((base / "pipeline" / "raw" / "_manifest.json").read_text())
    assert manifest["generation"] == 1  # the new generation never reached the files
    f, refs = flow()
    outside = f.run(config=config(base, None))  # attaches from the files: generation 1
    assert outside.successful, repr(outside.exception)
    assert outside.get(refs["total"], as_type=pa.Table).to_pylist() == [{"n": 3, "s": 3}]
    outside.close()
    STATE["value"] = 8
    f, refs = flow()
    repaired = f.run(config=config(base, str(tmp_path / "a.duckdb")))
    assert repaired.successful, repr(repaired.exception)
    assert repaired.get(refs["total"], as_type=pa.Table).to_pylist() == [{"n": 3, "s": 24}]
    repaired.close()
    manifest = json.loads((base / "pipeline" / "raw" / "_manifest.json").read_text())
    assert manifest["generation"] >= 2
