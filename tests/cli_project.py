"""A project directory for CLI tests (a flow module and a tabledag.yaml on a DuckDB file) and
the `tabledag` command run on it as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def write_project(root: Path, flow_source: str) -> Path:
    (root / "pipeline.py").write_text(flow_source)
    (root / "tabledag.yaml").write_text(
        textwrap.dedent(
            f"""\
            instances:
              __any__:
                instance_id: cli
                table_store:
                  class: tabledag.SQLTableStore
                  args:
                    url: duckdb:///{root}/db.duckdb
            """
        )
    )
    return root


def tabledag(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-m", "tabledag", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        input=stdin,
        check=False,
        timeout=300,
    )
