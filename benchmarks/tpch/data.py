"""TPC-H data from `tpchgen-cli` (PyPI), generated once per scale factor and cached.

The parquet files go to `~/.cache/tabledag-bench/tpch/sf<SF>/` (`$TABLEDAG_BENCH_CACHE`
overrides the root); `tables(sf)` reads them as Arrow with plain `string` columns
(tpchgen writes `string_view`, which not every driver takes) and keeps decimals as decimals.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

TABLES = ("region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem")

KEYS: dict[str, dict[str, Any]] = {
    # What a PostgreSQL user declares: primary keys and the join columns' indexes (without
    # lineitem(l_partkey, l_suppkey) Q20 on Postgres at SF 0.1 runs for minutes).
    "region": {"primary_key": ["r_regionkey"], "indexes": []},
    "nation": {"primary_key": ["n_nationkey"], "indexes": [["n_regionkey"]]},
    "supplier": {"primary_key": ["s_suppkey"], "indexes": [["s_nationkey"]]},
    "customer": {"primary_key": ["c_custkey"], "indexes": [["c_nationkey"]]},
    "part": {"primary_key": ["p_partkey"], "indexes": []},
    "partsupp": {"primary_key": ["ps_partkey", "ps_suppkey"], "indexes": [["ps_suppkey"]]},
    "orders": {"primary_key": ["o_orderkey"], "indexes": [["o_custkey"]]},
    "lineitem": {
        "primary_key": ["l_orderkey", "l_linenumber"],
        "indexes": [["l_partkey", "l_suppkey"], ["l_suppkey"]],
    },
}


def cache_root() -> Path:
    root = os.environ.get("TABLEDAG_BENCH_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "tabledag-bench"


def sf_label(sf: float) -> str:
    return f"{sf:g}"


def tpchgen_beside_python() -> str | None:
    """`tpchgen-cli` in this Python's bin directory (a venv not activated), if there."""
    beside = Path(sys.executable).parent / "tpchgen-cli"
    return str(beside) if beside.exists() else None


def tpchgen() -> str:
    """The `tpchgen-cli` executable: beside this Python, else on PATH."""
    beside = tpchgen_beside_python()
    if beside is not None:
        return beside
    found = shutil.which("tpchgen-cli")
    if found is None:
        raise RuntimeError(
            "tpchgen-cli is not installed: pip install tpchgen-cli (it is in the [test] extra)"
        )
    return found


def directory(sf: float) -> Path:
    """The parquet files of scale factor `sf`, generated on first use."""
    target = cache_root() / "tpch" / f"sf{sf_label(sf)}"
    if all((target / f"{t}.parquet").exists() for t in TABLES):
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    cmd = [tpchgen(), "parquet", "-s", sf_label(sf), "-o", str(partial)]
    subprocess.run(cmd, check=True, capture_output=True)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def tables(sf: float) -> dict[str, Any]:
    """The 8 tables of scale factor `sf` as pyarrow tables (string_view cast to string)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = directory(sf)
    out = {}
    for name in TABLES:
        table = pq.read_table(root / f"{name}.parquet")
        schema = pa.schema(
            [
                f.with_type(pa.string()) if pa.types.is_string_view(f.type) else f
                for f in table.schema
            ]
        )
        out[name] = table.cast(schema).combine_chunks()
    return out
