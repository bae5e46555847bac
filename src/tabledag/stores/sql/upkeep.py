"""Inspecting and cleaning an instance of a SQL store: what `tabledag status`, `gc` and
`delete-schemas` ask of a session (the `StoreSession` methods of that name delegate here).

Garbage is what the metadata names nowhere: a physical table a run created and was killed
before committing, or one a cleanup could not drop because another run was active. It is found
per stage as "present minus recorded" and rechecked just before dropping; the caller holds the
run's `cleanup()` lock (alone) and the stage's lock, so no run is writing or reading it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlglot import exp

from ..base import TableStats
from . import metadata
from .dialect import table

if TYPE_CHECKING:
    from .session import SQLSession


def committed_stages(session: SQLSession) -> dict[str, int]:
    schema = session.catalogue.metadata_schema
    if not session.catalogue.is_setup and not session.execute(
        session.dialect.list_columns(schema, ["stages"])
    ):
        return {}  # nothing ever ran here
    rows = session.execute(metadata.stages_query(schema))
    return {str(stage): int(generation) for stage, generation in rows}


def stage_tables(session: SQLSession, stage: str) -> list[TableStats]:
    committed = session.begin_stage(stage).committed
    data_schema = session.names.data_schema(stage)
    stats = []
    for view, record in sorted(committed.views.items()):
        rows, size = session.physical.stats(session, stage, table(data_schema, record.physical))
        stats.append(TableStats(view, record.physical, record.key, rows, size))
    return stats


def garbage(session: SQLSession, stage: str) -> list[str]:
    """Physical tables of `stage` that exist and that no metadata row names (any generation:
    `begin_stage` keeps only rows whose table exists, so the rows are read here in full)."""
    query = metadata.select_statements(session.catalogue.metadata_schema, stage)["tables"]
    recorded = {str(row[3]) for row in session.execute(query)}
    return sorted(session.physical.present(session, stage) - recorded)


def drop_garbage(session: SQLSession, stage: str, physical: Sequence[str]) -> None:
    still = set(garbage(session, stage))
    data_schema = session.names.data_schema(stage)
    for name in physical:
        if name in still:
            session.physical.drop(session, stage, table(data_schema, name), "cleanup")


def delete_instance(session: SQLSession) -> list[str]:
    """Per stage its views (which depend on the tables), its tables and their schema; then
    the metadata schema."""
    dropped: list[str] = []
    for stage in committed_stages(session):
        views, data_schema = session.names.schema(stage), session.names.data_schema(stage)
        session.execute(session.dialect.drop_schema(views), phase="delete")
        for name in sorted(session.physical.present(session, stage)):
            session.physical.drop(session, stage, table(data_schema, name), "delete")
        session.execute(session.dialect.drop_schema(data_schema), phase="delete")
        session.physical.forget_stage(session, stage)
        dropped += [views, data_schema]
    schema = session.catalogue.metadata_schema
    if session.execute(session.dialect.list_columns(schema, list(metadata.TABLES))):
        session.execute(session.dialect.drop_schema(schema), phase="delete")
        dropped.append(schema)
    session.forget_schemas()
    return dropped


def count_rows(session: SQLSession, target: exp.Table) -> int:
    (count,) = session.execute(exp.select(exp.Count(this=exp.Star())).from_(target))[0]
    return int(count)
