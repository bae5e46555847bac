"""A file lock keeps two processes from writing one DuckDB database at once: the second waits."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

FLOW = textwrap.dedent(
    """
    import sys, time
    import pyarrow as pa
    from tabledag import Flow, Stage, materialize, create_basic_config

    @materialize()
    def slow():
        time.sleep(1.0)
        return pa.table({"x": [1, 2, 3]})

    with Flow("f") as flow:
        with Stage("raw"):
            slow()

    result = flow.run(config=create_basic_config(sys.argv[1]))
    print("OK" if result.successful else f"FAILED {result.exception}")
    """
)


def test_two_processes_share_one_duckdb_file(tmp_path: Path) -> None:
    script = tmp_path / "flow.py"
    script.write_text(FLOW)
    url = f"duckdb:///{tmp_path}/db.duckdb"
    runs = [
        subprocess.Popen(
            [sys.executable, str(script), url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert out.strip() == "OK", err
    assert (tmp_path / "db.duckdb.lock").exists()
