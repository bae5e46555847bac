"""The parquet examples run as a user runs them: in a new process, twice, the second time from
the files alone (examples/parquet_local needs nothing; examples/parquet_s3 runs against moto's
S3 server, as its docstring tells users without Docker to do)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .s3server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(path: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, str(path), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def summaries(stdout: str) -> list[str]:
    return [block for block in stdout.split("\n\n") if "raw.readings" in block]


def test_parquet_local_example(tmp_path: Path) -> None:
    data = tmp_path / "data dir"
    first = run_example(EXAMPLES / "parquet_local" / "run_pipeline.py", str(data))
    assert "CACHE_VALID" in summaries(first)[1]  # its own second run
    again = run_example(EXAMPLES / "parquet_local" / "run_pipeline.py", str(data))
    runs = summaries(again)
    assert "CACHE_VALID" in runs[0] and "model.by_zone" in runs[0]  # a new process, from files
    assert "'zone': '0'" in again
    assert list(data.rglob("_manifest.json"))


@pytest.mark.s3
def test_parquet_s3_example(s3) -> None:
    env = {
        "EXAMPLE_BUCKET": s3.name,
        "EXAMPLE_S3_ENDPOINT": s3.store_args["s3_endpoint_url"],
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": REGION,
    }
    stdout = run_example(EXAMPLES / "parquet_s3" / "run_pipeline.py", env=env)
    assert "CACHE_VALID" in summaries(stdout)[1]
    assert "'zone': '0'" in stdout
    assert SECRET_ACCESS_KEY not in stdout
    assert s3.fs.find(s3.path("pipelines"))  # the files are in the bucket


SERVER_EXAMPLES = {
    "mssql": ("TABLEDAG_TEST_MSSQL_URL", "MSSQL_URL"),
    "db2": ("TABLEDAG_TEST_DB2_URL", "DB2_URL"),
    "snowflake": ("TABLEDAG_TEST_SNOWFLAKE_URL", "SNOWFLAKE_URL"),
}
"""Examples for servers these machines lack: run when the test variable names one (e.g. a
docker compose service), skipped otherwise. (examples/postgres runs in
tests/stores/test_postgres_store.py against the suite's Postgres.)"""


@pytest.mark.parametrize(
    "name",
    [pytest.param("mssql", marks=pytest.mark.mssql), "db2", "snowflake"],
)
def test_server_example(name: str) -> None:
    test_env, example_env = SERVER_EXAMPLES[name]
    url = os.environ.get(test_env)
    if not url:
        pytest.skip(f"no {name} server: set {test_env} to run examples/{name}")
    stdout = run_example(EXAMPLES / name / "run_pipeline.py", env={example_env: url})
    assert "CACHE_VALID" in stdout.split("\n\n")[1]  # the second run: all cache hits
    assert "revenue" in stdout


@pytest.mark.parametrize("name", ["postgres", *SERVER_EXAMPLES, "parquet_s3"])
def test_every_database_has_an_example_reading_its_url_from_the_environment(name: str) -> None:
    text = "\n".join(p.read_text() for p in (EXAMPLES / name).iterdir() if p.is_file())
    assert "run_pipeline" in " ".join(p.name for p in (EXAMPLES / name).iterdir())
    assert "{$" in text or "os.environ" in text
