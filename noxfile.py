"""Developer sessions: `nox -s tests`, `nox -s tests_compat`, `nox -s tests_snowflake`,
`nox -s pipedag_examples`, `nox -s browser`, `nox -s notebooks`, `nox -s lint`,
`nox -s typecheck`, `nox -s bench` (which starts `bench_snowflake` and the `bench_peer-*`
sessions itself)."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True

LINTED = ("src", "tests", "benchmarks", "examples", "notebooks", "noxfile.py")
"""What `ruff` checks here and in `.ci/run` (notebooks included: ruff reads .ipynb)."""


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite on DuckDB, and on PostgreSQL where TABLEDAG_TEST_POSTGRES_URL answers."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
@nox.parametrize("engine", ["threads", "processes", "dask"])
def tests_engine(session: nox.Session, engine: str) -> None:
    """The behaviour suite on a parallel engine (processes and Dask: PostgreSQL only)."""
    session.install("-e", ".[test]")
    suite = ["tests/test_caching.py", "tests/test_failures.py", "tests/test_hooks_roundtrip.py"]
    marks = [] if engine == "threads" else ["-m", "postgres and not in_process"]
    session.run("pytest", *marks, *suite, *session.posargs, env={"TABLEDAG_TEST_ENGINE": engine})


COMPAT_TESTS = (
    "tests/test_hooks_transform.py",
    "tests/test_hooks_tidypolars.py",
    "tests/test_hooks_roundtrip.py",
    "tests/test_optional_hooks.py",
)
"""The hook tests `tests_compat` runs (and .ci/run's compat step)."""


@nox.session(python="3.11")
def tests_compat(session: nox.Session) -> None:
    """The hook tests beside pydiverse-transform and tidypolars, on the versions they require.

    The `test-compat` extra: pydiverse-transform (polars < 2, pandas < 3, pyarrow < 23; on
    Python 3.11.7 pip picks 0.6.x, releases from 0.7 need 3.11.14), tidypolars (Python < 3.12)
    and duckdb 1, so the older majors of tabledag's ranges are tested here and the newest ones
    in `tests`.
    """
    session.install("-e", ".[test-compat]")
    session.run(
        "pytest",
        *COMPAT_TESTS,
        *session.posargs,
        env={"TABLEDAG_REQUIRE_LIBRARIES": "transform,tidypolars"},
    )


PYTHON_312 = "3.12"
"""pipedag 0.12.15 (the reference of tests/pipedag_examples) requires Python >= 3.11.14."""


@nox.session(python=PYTHON_312)
def pipedag_examples(session: nox.Session) -> None:
    """pipedag's own examples, migrated by the rule alone, against pipedag itself."""
    session.install("-e", ".[test]", "-r", "tests/pipedag_examples/requirements.txt")
    session.run(
        "pytest",
        *("-m", "pipedag_examples", "tests/pipedag_examples"),
        *session.posargs,
        env={"TABLEDAG_REQUIRE_LIBRARIES": "pipedag"},
    )
    # pipedag's SQLAlchemy surface on DuckDB (duckdb-engine), and colspec checks run in the
    # database (pydiverse.transform 0.7 beside colspec), which only this venv has
    session.run("pytest", "tests/test_pipedag_interactive.py", "tests/test_colspec_in_database.py")


@nox.session
def tests_snowflake(session: nox.Session) -> None:
    """The `snowflake` store target against fakesnow's server (the real connector over
    loopback), in an environment of its own: fakesnow pins duckdb and sqlglot."""
    session.install("-e", ".[test-snowflake]")
    session.run(
        "pytest",
        *("-m", "snowflake"),
        *session.posargs,
        env={"TABLEDAG_REQUIRE_LIBRARIES": "snowflake"},
    )


@nox.session
def browser(session: nox.Session) -> None:
    """The report and the graph in headless Chromium (Debian's `chromium`, installed if
    missing); screenshots go to test-artifacts/."""
    session.run(
        "bash",
        "-c",
        "command -v chromium > /dev/null || "
        "(apt-get update -qq && apt-get install -y -qq chromium)",
        external=True,
    )
    session.install("-e", ".[test]")
    session.run("pytest", "tests/test_browser.py", *session.posargs, env={"CI": "true"})


@nox.session
def notebooks(session: nox.Session) -> None:
    """Execute every notebook in notebooks/ (tests/test_notebooks.py): outputs are not kept,
    cell ids are checked, nothing is left behind."""
    session.install("-e", ".[test]")
    session.run("pytest", "tests/test_notebooks.py", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """`ruff check`, `ruff format --check` and the import contracts, as CI runs them."""
    session.install("ruff", "import-linter>=2.16,<3")
    session.run("ruff", "check", *LINTED)
    session.run("ruff", "format", "--check", *LINTED)
    # The contracts ([tool.importlinter]) are read from the source: no install of tabledag.
    session.run("lint-imports", "--no-cache", env={"PYTHONPATH": "src"})


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy over src/ ([tool.mypy]: strict for core, stores and cache), as CI runs it.

    The `test` extra brings the pinned mypy and stubs, and the typed libraries themselves.
    """
    session.install("-e", ".[test]")
    session.run("mypy", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmark run (benchmarks/__main__.py): TPC-H as a flow and the orchestration
    overhead on every store, and the peers, against raw ceilings measured in the same run.

    `nox -s bench -- --save` (SF 0.1) writes benchmarks/results/<date>-<machine>.json,
    benchmarks/RESULTS.md and the plots; `-- --quick` is a smoke run; see `python -m benchmarks
    --help` (scale factor, stores, parts, repetitions). The Snowflake and peer parts run in the
    sessions below, which the run starts itself. The older per-topic reports:
    `python -m benchmarks.run_all`.
    """
    session.install("-e", ".[bench]")
    session.run("python", "-m", "benchmarks", *session.posargs)


def _python_312() -> str:
    """pipedag 0.12.15 needs Python >= 3.11.14: $TABLEDAG_PYTHON_312, pyenv's 3.12.1, or 3.12."""
    import os
    from pathlib import Path

    pyenv = Path.home() / ".pyenv/versions/3.12.1/bin/python3.12"
    return os.environ.get("TABLEDAG_PYTHON_312") or (str(pyenv) if pyenv.exists() else "3.12")


PEER_COMMON = ("duckdb", "psycopg2-binary", "pyarrow", "adbc-driver-postgresql", "polars", "pandas")
"""What every peer script needs beside the peer (benchmarks/peers/common.py)."""
PEERS = {
    "pipedag": ("-r", "tests/pipedag_examples/requirements.txt"),
    "sqlmesh": ("sqlmesh[postgres]==0.236.4",),
    # dbt-core 1.12 builds a parser wheel downloaded from outside PyPI: 1.11 installs offline
    "dbt": ("dbt-core>=1.11,<1.12", "dbt-duckdb>=1.9,<1.12", "dbt-postgres>=1.9,<1.12"),
}


@nox.session(name="bench_peer-pipedag", python=_python_312())
def bench_peer_pipedag(session: nox.Session) -> None:
    """pydiverse-pipedag on the benchmark's work (started by `python -m benchmarks`); never
    imports tabledag. Posargs: the module and its arguments."""
    session.install(*PEERS["pipedag"], *PEER_COMMON)
    session.run("python", "-m", *session.posargs)


@nox.session(name="bench_peer-sqlmesh")
def bench_peer_sqlmesh(session: nox.Session) -> None:
    """SQLMesh on the benchmark's work (see bench_peer-pipedag)."""
    session.install(*PEERS["sqlmesh"], *PEER_COMMON)
    session.run("python", "-m", *session.posargs)


@nox.session(name="bench_peer-dbt")
def bench_peer_dbt(session: nox.Session) -> None:
    """dbt with dbt-duckdb and dbt-postgres on the benchmark's work (see bench_peer-pipedag)."""
    session.install(*PEERS["dbt"], *PEER_COMMON)
    session.run("python", "-m", *session.posargs)


@nox.session
def bench_snowflake(session: nox.Session) -> None:
    """The benchmark's Snowflake parts against fakesnow (its pins need a venv of their own)."""
    session.install("-e", ".[test-snowflake]")
    session.run("python", "-m", *session.posargs)
