"""Developer sessions: `nox -s tests`, `nox -s lint`, `nox -s bench`."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite on DuckDB, and on PostgreSQL where TABLEDAG_TEST_POSTGRES_URL answers."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "src", "tests", "benchmarks")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks")


@nox.session
def bench(session: nox.Session) -> None:
    """All benchmarks (pass --quick for a smoke run); results in benchmarks/results/."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "benchmarks.run_all", *session.posargs)
