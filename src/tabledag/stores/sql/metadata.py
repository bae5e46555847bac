"""The metadata tables, as sqlglot trees: one schema of three tables beside the stages.

- `stages`: the committed generation of each stage.
- `tables`: every physical table still kept, with its key, its view name and the last generation
  that showed it. The views of generation G are the rows with `generation = G`; rows of G-1 are
  the previous generation, kept for rollback; older rows are forgotten after a commit, and only
  then are their tables dropped, so a row never names a table that is gone.
- `tasks`: per task and task key, the JSON of its outputs and input keys (cache and lineage).
- `runs`: one row per run (its id, flow, start, outcome) with the JSON document of what each
  task did, written in one INSERT when the run ends (the report reads it). A dialect may keep
  them as files instead (`Dialect.run_records_directory`: a DuckDB file does).

Column types are sqlglot's generic `TEXT`, `BIGINT` and `TIMESTAMP`, which every dialect's
renderer spells its own way; every identifier is quoted, so names like `key` and `tables` are
safe everywhere. Columns are only ever appended (nullable): an older metadata schema is upgraded
by adding what it lacks, found by introspection rather than `IF NOT EXISTS`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlglot import exp

from ..base import CommittedStage, RunRecord, TableRecord, TaskRecord
from .dialect import column_def

TABLES: dict[str, list[tuple[str, str, bool]]] = {
    "stages": [
        ("stage", "TEXT", False),
        ("generation", "BIGINT", False),
        ("committed_at", "TIMESTAMP", True),
    ],
    "tables": [
        ("stage", "TEXT", False),
        ("key", "TEXT", False),
        ("name", "TEXT", False),
        ("view_name", "TEXT", False),
        ("physical", "TEXT", False),
        ("generation", "BIGINT", False),
        ("created_at", "TIMESTAMP", True),
        ("columns", "TEXT", True),
        ("fingerprint", "TEXT", True),
        ("sql", "TEXT", True),
    ],
    "tasks": [
        ("stage", "TEXT", False),
        ("task", "TEXT", False),
        ("task_key", "TEXT", False),
        ("outputs", "TEXT", False),
        ("inputs", "TEXT", False),
        ("generation", "BIGINT", False),
        ("created_at", "TIMESTAMP", True),
    ],
    "runs": [
        ("run_id", "TEXT", False),
        ("flow", "TEXT", False),
        ("started_at", "TIMESTAMP", False),
        ("duration_ms", "BIGINT", False),
        ("outcome", "TEXT", False),
        ("record", "TEXT", False),
    ],
}
"""name -> (column, generic SQL type, nullable); columns are only ever appended."""

_TABLE_COLUMNS = (
    "key",
    "name",
    "view_name",
    "physical",
    "generation",
    "columns",
    "fingerprint",
    "sql",
)
_TASK_COLUMNS = ("task", "task_key", "outputs", "inputs", "generation")
STAGE_TABLES = ("stages", "tables", "tasks")
"""The metadata tables with rows per stage."""
_RUN_COLUMNS = ("run_id", "flow", "duration_ms", "outcome", "record")


def missing_columns(found: Iterable[tuple[str, str]]) -> dict[str, list[tuple[str, str, bool]]]:
    """Per metadata table, the columns that `found` `(table, column)` pairs lack."""
    have = {(table, column) for table, column in found}
    return {
        name: [c for c in columns if (name, c[0]) not in have]
        for name, columns in TABLES.items()
        if any((name, c[0]) not in have for c in columns)
    }


def setup_statements(
    schema: str, missing: dict[str, list[tuple[str, str, bool]]], dialect: Any
) -> list[exp.Expr]:
    """Create what `missing` lacks: whole tables, or appended columns of existing ones."""
    statements: list[exp.Expr] = []
    for name, columns in missing.items():
        target = _table(schema, name)
        defs = [column_def(c, exp.DataType.build(k), nullable=n) for c, k, n in columns]
        if len(columns) == len(TABLES[name]):
            statements += dialect.create_table(target, defs)
        else:
            for d in defs:
                statements += dialect.add_column(target, d.name, d.kind)
    return statements


def select_statements(schema: str, stage: str) -> dict[str, exp.Query]:
    where = _col("stage").eq(exp.Literal.string(stage))
    return {
        "stages": exp.select(_col("generation")).from_(_table(schema, "stages")).where(where),
        "tables": exp.select(*map(_col, _TABLE_COLUMNS))
        .from_(_table(schema, "tables"))
        .where(where),
        "tasks": exp.select(*map(_col, _TASK_COLUMNS)).from_(_table(schema, "tasks")).where(where),
    }


def stages_query(schema: str) -> exp.Query:
    """`(stage, generation)` of every stage that committed."""
    stages = _table(schema, "stages")
    return exp.select(_col("stage"), _col("generation")).from_(stages).order_by(_col("stage"))


def committed_stage(
    stage: str,
    rows: dict[str, list[tuple[Any, ...]]],
    physical: frozenset[str],
) -> CommittedStage:
    """The stage as the metadata describes it, keeping only tables that still exist."""
    generation = max((int(g) for (g,) in rows["stages"]), default=0)
    tables = {}
    for row in rows["tables"]:
        record = TableRecord(row[0], row[1], row[2], row[3], int(row[4]), *row[5:])
        if record.physical in physical:
            tables[record.key] = record
    tasks = {
        (row[0], row[1]): TaskRecord(row[0], row[1], row[2], row[3], int(row[4]))
        for row in rows["tasks"]
    }
    return CommittedStage(stage, generation, tables, tasks, physical)


def commit_statements(
    schema: str,
    stage: str,
    generation: int,
    *,
    new_tables: Sequence[TableRecord],
    kept_keys: Sequence[str],
    new_tasks: Sequence[TaskRecord],
    changed_tasks: Sequence[TaskRecord],
    kept_tasks: Sequence[tuple[str, str]],
) -> list[exp.Expr]:
    """Metadata changes of one commit (run inside the commit transaction)."""
    s, now = exp.Literal.string(stage), _now()
    at_stage = _col("stage").eq(s)
    gen = exp.Literal.number(generation)
    statements: list[exp.Expr] = [
        exp.delete(_table(schema, "stages"), where=at_stage),
        exp.insert(exp.values([(s, gen, now)]), _table(schema, "stages")),
    ]
    if new_tables:  # a row left by a run killed mid-cleanup names the same table: replace it
        keys = exp.and_(at_stage, _col("key").isin(*(_literal(r.key) for r in new_tables)))
        statements.append(exp.delete(_table(schema, "tables"), where=keys))
        rows = [
            (s, *map(_literal, (r.key, r.name, r.view_name, r.physical)), gen, now,
             *map(_literal, (r.columns, r.fingerprint, r.sql)))
            for r in new_tables
        ]  # fmt: skip
        statements.append(exp.insert(exp.values(rows), _table(schema, "tables")))
    if kept_keys:
        keys = exp.and_(at_stage, _col("key").isin(*map(_literal, kept_keys)))
        statements.append(_update(schema, "tables", {"generation": gen}, keys))
    if new_tasks:
        rows = [
            (s, *map(_literal, (t.task, t.task_key, t.outputs, t.inputs)), gen, now)
            for t in new_tasks
        ]
        statements.append(exp.insert(exp.values(rows), _table(schema, "tasks")))
    for t in changed_tasks:  # same key, other outputs (an unversioned task): lineage stays true
        values = {"outputs": _literal(t.outputs), "inputs": _literal(t.inputs), "generation": gen}
        statements.append(_update(schema, "tasks", values, _task_is(at_stage, t.task, t.task_key)))
    if kept_tasks:
        which = exp.or_(*(_task_is(None, task, key) for task, key in kept_tasks))
        statements.append(_update(schema, "tasks", {"generation": gen}, exp.and_(at_stage, which)))
    return statements


def column_statements(schema: str, stage: str, columns: dict[str, str]) -> list[exp.Expr]:
    """Record column types learnt from the catalogue for kept tables (key -> columns JSON)."""
    at_stage = _col("stage").eq(exp.Literal.string(stage))
    return [
        _update(
            schema,
            "tables",
            {"columns": _literal(text)},
            exp.and_(at_stage, _col("key").eq(_literal(key))),
        )
        for key, text in columns.items()
    ]


def forget_statements(schema: str, stage: str, oldest_kept: int) -> list[exp.Expr]:
    """Forget rows older than the previous generation; their tables are dropped afterwards."""
    older = exp.and_(
        _col("stage").eq(exp.Literal.string(stage)),
        _col("generation") < exp.Literal.number(oldest_kept),
    )
    return [
        exp.delete(_table(schema, "tables"), where=older),
        exp.delete(_table(schema, "tasks"), where=older),
    ]


def encode_columns(columns: Sequence[tuple[str, str]]) -> str:
    return json.dumps({"types": [list(c) for c in columns]})


def decode_columns(text: str | None) -> list[tuple[str, str]] | None:
    """Column types recorded for a table, or None (unknown, or recorded by an older version)."""
    if not text:
        return None
    data = json.loads(text)
    if not isinstance(data, dict) or "types" not in data:
        return None
    return [(name, kind) for name, kind in data["types"]]


def _update(schema: str, name: str, values: dict[str, exp.Expr], where: exp.Expr) -> exp.Update:
    sets = [exp.EQ(this=_col(k), expression=v) for k, v in values.items()]
    return exp.Update(this=_table(schema, name), expressions=sets, where=exp.Where(this=where))


def _task_is(at_stage: exp.Expr | None, task: str, key: str) -> exp.Expr:
    condition = exp.and_(_col("task").eq(_literal(task)), _col("task_key").eq(_literal(key)))
    return exp.and_(at_stage, condition) if at_stage is not None else exp.paren(condition)


def _table(schema: str, name: str) -> exp.Table:
    return exp.Table(
        this=exp.to_identifier(name, quoted=True), db=exp.to_identifier(schema, quoted=True)
    )


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _literal(value: str | None) -> exp.Expr:
    return exp.Null() if value is None else exp.Literal.string(value)


def _now() -> exp.Expr:
    return _timestamp(dt.datetime.now(dt.UTC))


def _timestamp(moment: dt.datetime) -> exp.Expr:
    text = moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return exp.cast(exp.Literal.string(text), exp.DataType.build("TIMESTAMP"))


def run_statement(schema: str, record: RunRecord) -> exp.Expr:
    """One INSERT for a whole run."""
    started = dt.datetime.fromtimestamp(record.started_at, dt.UTC)
    row = (
        _literal(record.run_id),
        _literal(record.flow),
        _timestamp(started),
        exp.Literal.number(round(record.duration * 1000)),
        _literal("successful" if record.successful else "failed"),
        _literal(record.document),
    )
    return exp.insert(exp.values([row]), _table(schema, "runs"))


def runs_query(schema: str, run_id: str | None, limit: int) -> exp.Query:
    """The newest runs first; with `run_id`, those whose id starts with it."""
    query = exp.select(*map(_col, _RUN_COLUMNS)).from_(_table(schema, "runs"))
    if run_id is not None:
        query = query.where(_col("run_id").like(exp.Literal.string(run_id.replace("%", "") + "%")))
    return query.order_by(exp.Ordered(this=_col("started_at"), desc=True)).limit(limit)


def run_record(row: tuple[Any, ...]) -> RunRecord:
    """A `runs` row as a record (the start and duration are read from the document, which
    keeps them exactly)."""
    run_id, flow, duration_ms, outcome, document = row
    started = json.loads(document).get("started_at", 0.0)
    successful = outcome == "successful"
    return RunRecord(
        str(run_id), str(flow), float(started), int(duration_ms) / 1000, successful, str(document)
    )


def replace_stage_statements(
    schema: str,
    stage: str,
    generation: int,
    tables: Sequence[TableRecord],
    tasks: Sequence[TaskRecord],
) -> list[exp.Expr]:
    """Make a stage's records exactly these (rebuilding a catalogue from a manifest)."""
    s, now = exp.Literal.string(stage), _now()
    at_stage = _col("stage").eq(s)
    statements: list[exp.Expr] = [
        exp.delete(_table(schema, name), where=at_stage) for name in STAGE_TABLES
    ]
    gen = exp.Literal.number(generation)
    statements.append(exp.insert(exp.values([(s, gen, now)]), _table(schema, "stages")))
    if tables:
        rows = [
            (s, *map(_literal, (r.key, r.name, r.view_name, r.physical)),
             exp.Literal.number(r.generation), now,
             *map(_literal, (r.columns, r.fingerprint, r.sql)))
            for r in tables
        ]  # fmt: skip
        statements.append(exp.insert(exp.values(rows), _table(schema, "tables")))
    if tasks:
        rows = [
            (s, *map(_literal, (t.task, t.task_key, t.outputs, t.inputs)),
             exp.Literal.number(t.generation), now)
            for t in tasks
        ]  # fmt: skip
        statements.append(exp.insert(exp.values(rows), _table(schema, "tasks")))
    return statements
