"""`tabledag graph` and `tabledag report` through a real subprocess: the files they write and
their exit codes (0 ok, 1 nothing to report, 2 a run id that matches no run)."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .cli_project import tabledag, write_project

FLOW = """
import pyarrow as pa
from tabledag import Flow, GroupNode, Stage, materialize


@materialize(version="1")
def numbers():
    return pa.table({"n": [1, 2, 3]})


@materialize(lazy=True, input_type=str)
def big(t):
    return f"SELECT n FROM {t} WHERE n > 1"


with Flow("cli_flow") as flow:
    with Stage("raw"):
        n = numbers()
    with Stage("model"), GroupNode("models"):
        big(n)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path, FLOW)


def run_flow(project: Path) -> str:
    script = "import pipeline; from tabledag import Config; "
    script += "print(pipeline.flow.run(Config.load('tabledag.yaml').get()).run_id)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(project), *sys.path])}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=project, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[-1]


def test_graph_writes_an_svg(project: Path) -> None:
    done = tabledag("graph", "pipeline.py:flow", "-o", "flow.svg", cwd=project)
    assert done.returncode == 0, done.stderr
    root = ET.parse(project / "flow.svg").getroot()
    keys = {g.get("data-key") for g in root.iter("{http://www.w3.org/2000/svg}g")}
    assert {"raw.numbers", "model.big"} <= keys
    assert "2 stages, 2 tasks" in done.stdout


def test_graph_of_a_missing_flow_is_a_usage_error(project: Path) -> None:
    done = tabledag("graph", "pipeline.py:nothing", cwd=project)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "tabledag: error: pipeline has no attribute 'nothing' (from 'pipeline.py:nothing')"
    ]


def test_report_writes_the_last_run_or_a_chosen_one(project: Path) -> None:
    done = tabledag("report", "-o", "none.html", cwd=project)
    assert done.returncode == 1 and "no run is recorded" in done.stderr
    first, last = run_flow(project), run_flow(project)
    done = tabledag("report", "-o", "last.html", cwd=project)
    assert done.returncode == 0, done.stderr
    assert last in (project / "last.html").read_text() and last in done.stdout
    done = tabledag("report", first[:10], "-o", "first.html", "-c", "tabledag.yaml", cwd=project)
    assert done.returncode == 0, done.stderr
    page = (project / "first.html").read_text()
    assert first in page and "COMPLETED" in page
    done = tabledag("report", "nosuchrun", cwd=project)
    assert done.returncode == 2 and "matches no recorded run" in done.stderr
