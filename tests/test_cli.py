"""The `tabledag` command: one line per user error, `--debug` for the traceback, no temp dirs."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tabledag import __version__
from tabledag.cli.main import main

BAD_URL = "nosuchdb://user:secret@host/x"


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private temp root, so the test sees exactly what the command left behind."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def run_cli(*args: str, temp: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TMPDIR": str(temp)}
    return subprocess.run(
        [sys.executable, "-m", "tabledag.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )


def test_user_error_is_one_line(temp_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--url", BAD_URL]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tabledag: error: ")
    assert len(err.strip().splitlines()) == 1, err
    assert "'nosuchdb'" in err
    assert "Traceback" not in err
    assert "secret" not in err
    assert list(temp_root.iterdir()) == []  # the demo's temp directory is gone after a failure


def test_debug_shows_the_traceback(temp_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--debug", "demo", "--url", BAD_URL]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert "ConfigError" in err and "'nosuchdb'" in err
    assert list(temp_root.iterdir()) == []


def test_subprocess_user_error(tmp_path: Path) -> None:
    proc = run_cli("demo", "--url", BAD_URL, temp=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("tabledag: error: ") and "'nosuchdb'" in lines[0]
    assert "secret" not in proc.stderr
    assert proc.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_subprocess_debug_traceback(tmp_path: Path) -> None:
    proc = run_cli("--debug", "demo", "--url", BAD_URL, temp=tmp_path)
    assert proc.returncode == 2
    assert "Traceback (most recent call last):" in proc.stderr
    assert "tabledag.errors.ConfigError" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == __version__


def test_demo_runs_and_removes_its_temp_dir(
    temp_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "== second run (nothing changed)" in out
    assert "revenue by segment:" in out
    assert list(temp_root.iterdir()) == []
