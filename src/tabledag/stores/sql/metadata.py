"""The metadata tables, kept in one schema of the same database.

- `stages`: the committed generation of each stage.
- `tables`: every physical table still kept, with its key, its view name and the last generation
  that showed it. The views of generation G are the rows with `generation = G`; rows of G-1 are
  the previous generation, kept for rollback; anything older is dropped after a commit.
- `tasks`: per task and task key, the JSON of its outputs and input keys (cache and lineage).

The statements are fixed, portable SQL written as text: they run on every dialect unchanged and
skip sqlglot rendering on the hot path of every stage.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

from .dialect import quote

SCHEMA = "tabledag_metadata"

TABLES: dict[str, list[str]] = {
    "stages": ["stage VARCHAR NOT NULL", "generation INTEGER NOT NULL", "committed_at TIMESTAMP"],
    "tables": [
        "stage VARCHAR NOT NULL",
        "key VARCHAR NOT NULL",
        "name VARCHAR NOT NULL",
        "view_name VARCHAR NOT NULL",
        "physical VARCHAR NOT NULL",
        "generation INTEGER NOT NULL",
        "created_at TIMESTAMP",
        "columns VARCHAR",
        "fingerprint VARCHAR",
        "sql VARCHAR",
    ],
    "tasks": [
        "stage VARCHAR NOT NULL",
        "task VARCHAR NOT NULL",
        "task_key VARCHAR NOT NULL",
        "outputs VARCHAR NOT NULL",
        "inputs VARCHAR NOT NULL",
        "generation INTEGER NOT NULL",
        "created_at TIMESTAMP",
    ],
}
"""Columns are only ever appended, with a NULL default: an older metadata schema is upgraded in
place by `ADD COLUMN IF NOT EXISTS` (see `create_statements`)."""

COLUMN_COUNT = sum(len(columns) for columns in TABLES.values())


@dataclass
class TableRow:
    key: str
    name: str
    view_name: str
    physical: str
    generation: int
    columns: str | None = None
    """JSON [[name, ibis dtype], ...] where known: builds ibis inputs without a catalog query."""
    fingerprint: str | None = None
    """Key of the lazy object that produced it, where it has a stable fingerprint (see
    `hooks/ibis_fingerprint.py`): finds the table again without compiling the object."""
    sql: str | None = None
    """Canonical SQL of a lazy output."""


@dataclass
class StageState:
    """What the metadata says about one stage, loaded when the stage starts."""

    generation: int = 0
    tables: dict[str, TableRow] = field(default_factory=dict)
    """key -> row, for every kept physical table."""
    tasks: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    """(task, task_key) -> (outputs JSON, generation)."""

    @functools.cached_property
    def by_fingerprint(self) -> dict[str, TableRow]:
        return {r.fingerprint: r for r in self.tables.values() if r.fingerprint}

    @property
    def views(self) -> dict[str, TableRow]:
        """view name -> row, for the committed generation."""
        return {r.view_name: r for r in self.tables.values() if r.generation == self.generation}


def create_statements(schema: str, *, upgrade: bool) -> list[str]:
    """Create the metadata schema; with `upgrade`, also add columns an older one lacks."""
    q = quote
    statements = [f"CREATE SCHEMA IF NOT EXISTS {q(schema)}"]
    for name, columns in TABLES.items():
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {q(schema)}.{q(name)} ({', '.join(columns)})"
        )
        statements += [
            f"ALTER TABLE {q(schema)}.{q(name)} ADD COLUMN IF NOT EXISTS {column}"
            for column in columns
            if upgrade and "NOT NULL" not in column
        ]
    return statements


def exists_statement(schema: str) -> str:
    """Counts the metadata columns that exist: a read, cheaper than idempotent DDL every run."""
    names = ", ".join(_literal(name) for name in TABLES)
    return (
        "SELECT count(*) FROM information_schema.columns "
        f"WHERE table_schema = {_literal(schema)} AND table_name IN ({names})"
    )


def select_statements(schema: str, stage: str) -> dict[str, str]:
    q, s = quote, _literal(stage)
    return {
        "stages": f"SELECT generation FROM {q(schema)}.stages WHERE stage = {s}",
        "tables": (
            f"SELECT key, name, view_name, physical, generation, columns, fingerprint, sql "
            f"FROM {q(schema)}.{q('tables')} "
            f"WHERE stage = {s}"
        ),
        "tasks": (
            f"SELECT task, task_key, outputs, generation FROM {q(schema)}.tasks WHERE stage = {s}"
        ),
    }


def commit_statements(
    schema: str,
    stage: str,
    generation: int,
    new_tables: list[TableRow],
    kept_keys: list[str],
    new_tasks: list[tuple[str, str, str, str]],
    kept_tasks: list[tuple[str, str]],
) -> list[str]:
    """Metadata changes of one commit (run inside the commit transaction)."""
    q, s, now = quote, _literal(stage), _literal(dt.datetime.now(dt.UTC).replace(tzinfo=None))
    statements = [
        f"DELETE FROM {q(schema)}.stages WHERE stage = {s}",
        f"INSERT INTO {q(schema)}.stages VALUES ({s}, {generation}, CAST({now} AS TIMESTAMP))",
    ]
    if new_tables:
        rows = ", ".join(
            f"({s}, {_literal(r.key)}, {_literal(r.name)}, {_literal(r.view_name)}, "
            f"{_literal(r.physical)}, {generation}, CAST({now} AS TIMESTAMP), "
            f"{_nullable(r.columns)}, {_nullable(r.fingerprint)}, {_nullable(r.sql)})"
            for r in new_tables
        )
        statements.append(f"INSERT INTO {q(schema)}.{q('tables')} VALUES {rows}")
    if kept_keys:
        keys = ", ".join(_literal(k) for k in kept_keys)
        statements.append(
            f"UPDATE {q(schema)}.{q('tables')} SET generation = {generation} "
            f"WHERE stage = {s} AND key IN ({keys})"
        )
    if new_tasks:
        rows = ", ".join(
            f"({s}, {_literal(task)}, {_literal(key)}, {_literal(outputs)}, {_literal(inputs)}, "
            f"{generation}, CAST({now} AS TIMESTAMP))"
            for task, key, outputs, inputs in new_tasks
        )
        statements.append(f"INSERT INTO {q(schema)}.tasks VALUES {rows}")
    if kept_tasks:
        pairs = " OR ".join(
            f"(task = {_literal(t)} AND task_key = {_literal(k)})" for t, k in kept_tasks
        )
        statements.append(
            f"UPDATE {q(schema)}.tasks SET generation = {generation} "
            f"WHERE stage = {s} AND ({pairs})"
        )
    return statements


def forget_statements(schema: str, stage: str, oldest_kept: int) -> list[str]:
    """Drop metadata rows older than the previous generation (after their tables are gone)."""
    q, s = quote, _literal(stage)
    return [
        f"DELETE FROM {q(schema)}.{q('tables')} WHERE stage = {s} AND generation < {oldest_kept}",
        f"DELETE FROM {q(schema)}.tasks WHERE stage = {s} AND generation < {oldest_kept}",
    ]


def _nullable(value: object) -> str:
    return "NULL" if value is None else _literal(value)


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"
