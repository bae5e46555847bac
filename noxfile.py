"""Developer sessions: `nox -s tests`, `nox -s lint`, `nox -s bench`."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True

LINTED = ("src", "tests", "benchmarks", "examples", "notebooks", "noxfile.py")
"""What `ruff` checks here and in `.ci/run` (notebooks included: ruff reads .ipynb)."""


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite on DuckDB, and on PostgreSQL where TABLEDAG_TEST_POSTGRES_URL answers."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """`ruff check` and `ruff format --check`, as CI runs them."""
    session.install("ruff")
    session.run("ruff", "check", *LINTED)
    session.run("ruff", "format", "--check", *LINTED)


@nox.session
def bench(session: nox.Session) -> None:
    """All benchmarks: `-- --quick` a smoke run, `-- --save` writes benchmarks/results/.

    Also `--store duckdb|postgres|both` and `--large`; without `--save` reports only print.
    """
    session.install("-e", ".[test]")
    session.run("python", "-m", "benchmarks.run_all", *session.posargs)
