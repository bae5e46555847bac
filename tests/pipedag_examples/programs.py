"""pipedag's own example programs: fetched from its sdist on PyPI (cached), never committed.

`pydiverse-pipedag==0.12.15` ships them in `example*/` and `docs/source/examples/**/*.zip`. The
sdist is a registry package like any other: `pip download` fetches it once into the test cache
(`TABLEDAG_TEST_CACHE`, default `~/.cache/tabledag-tests`), where it is unpacked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import filelock

PIPEDAG_VERSION = "0.12.15"
SDIST = f"pydiverse_pipedag-{PIPEDAG_VERSION}"


@dataclass(frozen=True)
class Program:
    """One example program: its directory (copied whole, config and data beside it) and file."""

    folder: str
    """The example's directory, relative to the unpacked examples."""
    script: str
    store: str
    """What it runs on: "duckdb" (a basic config in a temp dir) or "postgres" (its yaml)."""
    exit_code: int = 0
    """What it exits with on pipedag (the failing examples fail on purpose)."""
    failure: str = ""
    """For those: a pattern the error must match on both sides (failing for the intended
    reason, not for a missing name)."""

    @property
    def id(self) -> str:
        return f"{self.folder}/{self.script}"


PROGRAMS = [
    Program("example", "simple_pipeline.py", "duckdb"),
    Program("example", "run_pipeline.py", "duckdb"),
    Program("example", "stage_validation.py", "duckdb"),
    Program("example", "visualization.py", "duckdb"),
    Program("example", "visualization_legend.py", "duckdb"),
    Program("example_imperative", "run_pipeline.py", "duckdb"),
    Program(
        "example_imperative",
        "failing_example.py",
        "duckdb",
        exit_code=1,
        failure=r"(?i)syntax error",
    ),
    Program("example_interactive", "run_tasks_interactively.py", "duckdb"),
    Program(
        "example_interactive",
        "failing_flow_after_successful_debugging.py",
        "duckdb",
        exit_code=1,
        failure=r"interactive debugging",
    ),
    Program("example_postgres", "run_pipeline.py", "postgres"),
    Program("example_postgres", "run_pipeline_small.py", "postgres"),
    Program("example_postgres", "realistic_pipeline.py", "postgres"),
    Program("example_postgres", "realistic_pipeline_sqa.py", "postgres"),
    Program("example_postgres", "realistic_pipeline_sqa_instances.py", "postgres"),
    Program("example_postgres", "realistic_pipeline_sqa_instances_date.py", "postgres"),
    Program("docs/multi_instance_pipeline", "multi_instance_pipeline.py", "postgres"),
    Program("docs/realistic_pipeline", "realistic_pipeline.py", "duckdb"),
]
"""The 17 programs that need no SQL Server, DB2, Snowflake or S3 (`raw_sql` is SQL Server
scripts; `example_mssql`, `example_ibm_db2`, `example_snowflake`, `example_parquet_s3` need
their servers)."""


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "tabledag-tests"
    return Path(os.environ.get("TABLEDAG_TEST_CACHE", default))


def examples_root() -> Path:
    """The unpacked examples (downloaded on first use; one download across xdist workers)."""
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    root = cache / f"{SDIST}-examples"
    with filelock.FileLock(str(cache / f"{SDIST}.lock")):
        if not (root / ".complete").exists():
            _unpack(_download(cache), root)
    return root


def _download(cache: Path) -> Path:
    archive = cache / f"{SDIST}.tar.gz"
    if not archive.exists():
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"),
                *("--no-binary", ":all:", f"pydiverse-pipedag=={PIPEDAG_VERSION}"),
                *("-d", str(cache)),
            ],
            check=True,
        )
    return archive


def _unpack(archive: Path, root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
    staging = root.with_name(root.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(archive) as tar:
        members = [
            m for m in tar.getmembers() if m.name.split("/")[1:2][0:1] != ["src"] and m.isfile()
        ]
        tar.extractall(staging, members=members, filter="data")
    top = staging / SDIST
    for zip_path in sorted((top / "docs" / "source" / "examples").glob("*.zip")):
        with zipfile.ZipFile(zip_path) as archive_zip:
            archive_zip.extractall(top / "docs")
    (top / ".complete").touch()
    top.rename(root)
    shutil.rmtree(staging, ignore_errors=True)
