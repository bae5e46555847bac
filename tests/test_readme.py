"""The README's example runs as written after its first command (`pip install -e .`)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"

NOT_IN_CORE = ("polars", "psycopg2", "adbc_driver_postgresql", "adbc_driver_manager")
"""Installed here by `[test]`, but not by `pip install -e .`: the example must not need them."""

WITHOUT_EXTRAS = f"""
import importlib.abc, runpy, sys

class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {NOT_IN_CORE!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
runpy.run_path(sys.argv[1], run_name="__main__")
"""


def first_python_block(text: str) -> str:
    match = re.search(r"^```python\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    assert match, "README.md has no ```python block"
    return match.group(1)


def test_readme_example_runs_with_core_dependencies(tmp_path: Path) -> None:
    script = tmp_path / "readme_example.py"
    script.write_text(first_python_block(README.read_text()))
    proc = subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRAS, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "pipeline" / "pipeline.duckdb").is_file()  # relative to the working dir
    assert "SELECT" in proc.stdout  # result.sql printed the lazy task's SQL
