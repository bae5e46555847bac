"""pipedag's example programs, migrated by the rule alone, behave on tabledag as on pipedag.

Each program runs twice in a new process: as pipedag ships it, on pipedag (the reference), and
after `migrate.migrate_folder`, on tabledag. Both get the same local URLs. The test compares
what a user sees: the exit code, the printed output (stdout; logs go to stderr) and, for the
programs on Postgres, every table of every stage the run left behind (so a program that prints
nothing but computes wrong numbers fails too).

pipedag is needed for the reference, so the test runs where `pydiverse.pipedag` is importable:
`nox -s pipedag_examples` and the matching `.ci/run` step build that environment (pipedag
0.12.15 requires Python >= 3.11.14). Elsewhere it skips, saying so.

Programs tabledag cannot run yet are strict xfails naming what is missing, so the count of
passing programs is visible and a program that starts passing must be moved out of the list.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..conftest import _postgres_unavailable, postgres_url, required
from .migrate import copy_example, localize, migrate_folder
from .programs import PROGRAMS, Program, examples_root

pytestmark = [
    pytest.mark.pipedag_examples,
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("pydiverse.pipedag") is None and not required("pipedag"),
        reason="the reference run needs pydiverse-pipedag: run `nox -s pipedag_examples`",
    ),
]

_STAGE_LAYOUT = (
    "lists a committed stage's tables with sa.inspect(engine).get_table_names(schema of "
    "`.original`): tabledag's stage schemas hold views over key-named tables in <stage>__data"
)
MISSING: dict[str, str] = {
    "example_postgres/realistic_pipeline_sqa_instances.py": _STAGE_LAYOUT,
    "example_postgres/realistic_pipeline_sqa_instances_date.py": _STAGE_LAYOUT,
}
"""Program id -> what tabledag lacks for it (strict xfail): the first things each stops at."""

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_TEMP = re.compile(r"/tmp/[\w./-]+")
_INTERNAL_SCHEMA = re.compile(r"(^pg_|^information_schema$|^public$|pipedag|tabledag|__\w+$)")
"""Schemas that are the tool's own (metadata, locks, physical tables), not a stage's."""


def normalized(stdout: str) -> list[str]:
    """What a user reads: colour codes, temp paths and trailing spaces do not count."""
    text = _TEMP.sub("<tmp>", _ANSI.sub("", stdout))
    return [line.rstrip() for line in text.strip().splitlines()]


def run_program(folder: Path, program: Program, env: dict[str, str]) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, program.script],
        cwd=folder,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def _connect(database: str | None = None) -> Any:
    import psycopg2

    url = postgres_url()
    if database is not None:
        url = url.rsplit("/", 1)[0] + f"/{database}"
    conn = psycopg2.connect(url)
    conn.autocommit = True
    return conn


def _admin(statements: list[str]) -> list[tuple[Any, ...]]:
    conn = _connect()
    rows: list[tuple[Any, ...]] = []
    try:
        with conn.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
                rows = cursor.fetchall() if cursor.description else []
    finally:
        conn.close()
    return rows


def databases_with(suffix: str) -> list[str]:
    rows = _admin([f"SELECT datname FROM pg_database WHERE datname LIKE '%{suffix}'"])
    return sorted(name for (name,) in rows)


_AUTO_SUFFIX = re.compile(
    r"_[0-9a-z]{6,8}_\d{4}$|(?<=^_t_)[0-9a-z]{6}$|(?<=__primary_key_)[0-9a-z]{6}$"
)
"""Generated table names: pipedag writes `name%%` as `name_<6 characters of its task cache
key>_<counter>` and calls an unnamed output `<task>_<key>_<counter>`; tabledag writes
`name_<hash of the task>_<counter>` and calls an unnamed output after its task. The tables of
a colspec check run in the database are `_t_<6 characters>` and
`_raw_<name>__primary_key_<6 characters>`: random on pipedag, a hash of their query on
tabledag. Tables are compared by what precedes the generated part (and by contents where
several share it); so are columns, which pydiverse.transform's joins name after a table."""


def stage_tables(database: str) -> dict[tuple[str, str], list[list[Any]]]:
    """Every table and view of every stage schema in `database`: its rows, sorted."""
    conn = _connect(database)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema NOT LIKE 'pg_%'"
            )
            names = [(s, t) for s, t in cursor.fetchall() if not _INTERNAL_SCHEMA.search(s)]
            contents: dict[tuple[str, str], list[list[Any]]] = {}
            for schema, table in sorted(names):
                cursor.execute(f'SELECT * FROM "{schema}"."{table}"')
                columns = tuple(_AUTO_SUFFIX.sub("", d.name) for d in cursor.description)
                rows = sorted((_comparable(r) for r in cursor.fetchall()), key=repr)
                stem = (schema, _AUTO_SUFFIX.sub("", table))
                contents.setdefault(stem, []).append([columns, *rows])
            return {stem: sorted(tables, key=repr) for stem, tables in contents.items()}
    finally:
        conn.close()


_CALL_NUMBER = re.compile(r"_\d+$")


def merge_repeated_calls(
    got: dict[tuple[str, str], list[list[Any]]], expected: dict[tuple[str, str], list[Any]]
) -> dict[tuple[str, str], list[list[Any]]]:
    """tabledag names a repeated call of a task in one stage `<task>_2`, `<task>_3`... and its
    unnamed output after it; pipedag gives both calls' outputs `<task>_<key>_<counter>`. A
    table `<x>_<n>` whose stem `<x>` pipedag has and tabledag's name is not, joins `<x>`."""
    merged: dict[tuple[str, str], list[list[Any]]] = {}
    for (schema, table), tables in got.items():
        stem = (schema, _CALL_NUMBER.sub("", table))
        if (schema, table) not in expected and stem in expected:
            merged.setdefault(stem, []).extend(tables)
        else:
            merged.setdefault((schema, table), []).extend(tables)
    return {stem: sorted(tables, key=repr) for stem, tables in merged.items()}


def _comparable(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(round(v, 6) if isinstance(v, float) and math.isfinite(v) else v for v in row)


@pytest.fixture
def run_tag() -> Iterator[str]:
    """A suffix naming this test's databases; they are dropped afterwards."""
    tag = uuid.uuid4().hex[:6]
    yield tag
    if _postgres_unavailable() is None:
        for side in "pt":
            names = databases_with(f"_{side}{tag}")
            _admin([f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in names])


def prepare(program: Program, tmp: Path, side: str, tag: str) -> tuple[Path, dict[str, str]]:
    folder = copy_example(examples_root() / program.folder, tmp / side / Path(program.folder).name)
    if side == "tabledag":
        migrate_folder(folder)
    names = localize(folder, tmp / side / "work", f"_{side[0]}{tag}")
    if program.store == "postgres":
        _admin([f'CREATE DATABASE "{n}"' for n in sorted(names)])
    return folder, {}


def _ensure_compose_role() -> None:
    """The examples log in as the compose file's `sa`; the local server trusts any password."""
    exists = _admin(["SELECT 1 FROM pg_roles WHERE rolname = 'sa'"])
    if not exists:
        try:
            _admin(["CREATE ROLE sa LOGIN SUPERUSER"])
        except Exception as error:  # another worker created it meanwhile
            if "already exists" not in str(error):
                raise


@pytest.mark.parametrize(
    "program",
    [
        pytest.param(p, id=p.id, marks=[pytest.mark.xfail(reason=MISSING[p.id], strict=True)])
        if p.id in MISSING
        else pytest.param(p, id=p.id)
        for p in PROGRAMS
    ],
)
def test_a_migrated_example_behaves_as_on_pipedag(
    program: Program, tmp_path: Path, run_tag: str
) -> None:
    if program.store == "postgres":
        if problem := _postgres_unavailable():
            pytest.skip(problem)
        _ensure_compose_role()
    folder, env = prepare(program, tmp_path, "pipedag", run_tag)
    expected = run_program(folder, program, env)
    assert expected[0] == program.exit_code, (
        f"the reference run on pipedag exited {expected[0]}, not {program.exit_code}: the "
        f"harness is broken, not tabledag\n{expected[2][-4000:]}"
    )
    folder, env = prepare(program, tmp_path, "tabledag", run_tag)
    got = run_program(folder, program, env)
    assert got[0] == expected[0], (
        f"exit code {got[0]} on tabledag, {expected[0]} on pipedag\n--- tabledag stderr:\n"
        f"{got[2][-4000:]}"
    )
    if program.failure:
        assert re.search(program.failure, expected[2]), "pipedag failed for another reason"
        assert re.search(program.failure, got[2]), (
            f"tabledag failed, but not with {program.failure!r}:\n{got[2][-4000:]}"
        )
    assert normalized(got[1]) == normalized(expected[1]), got[2][-4000:]
    if program.store == "postgres":
        reference = databases_with(f"_p{run_tag}")
        assert reference, "the reference run left no database to compare with"
        ours = databases_with(f"_t{run_tag}")
        assert [n[:-8] for n in ours] == [n[:-8] for n in reference]
        for ref_db, our_db in zip(reference, ours, strict=True):
            expected_tables = stage_tables(ref_db)
            got_tables = merge_repeated_calls(stage_tables(our_db), expected_tables)
            assert sorted(got_tables) == sorted(expected_tables), f"stage tables in {our_db}"
            for name, rows in expected_tables.items():
                assert got_tables[name] == rows, f"{our_db}: {name[0]}.{name[1]} differs"
