"""Attaching a catalogue to parquet files: adopt every stage whose manifest is newer than what
the catalogue records, in one DuckDB transaction per stage."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from ...errors import StoreError
from ..sql import metadata
from ..sql.dialect import table
from . import manifest
from .files import file_stem

if TYPE_CHECKING:
    from ..base import TableRecord, TaskRecord
    from ..sql.session import SQLSession
    from .files import ParquetFiles


def sync(session: SQLSession, files: ParquetFiles) -> list[str]:
    """Adopt newer manifests; the stages adopted."""
    fs, root = files.fs, files.location.root
    fs.invalidate_cache(root)
    try:
        entries = fs.ls(root, detail=True)
    except FileNotFoundError:
        return []
    adopted = []
    for entry in entries:
        if entry.get("type") != "directory":
            continue
        directory = entry["name"].rstrip("/")
        path = f"{directory}/{manifest.NAME}"
        data = manifest.read(fs, path)
        if data is None:
            continue
        try:
            stage, generation, tables, tasks = manifest.loads(data)
        except (ValueError, KeyError, TypeError) as error:
            raise StoreError(
                f"the manifest {path} cannot be read ({type(error).__name__}: {error}); it was "
                "not written by this version of tabledag, or was changed by hand"
            ) from error
        if file_stem(session.names.schema(stage)) != directory.rsplit("/", 1)[-1]:
            continue  # written under another schema prefix or suffix
        if _recorded_generation(session, stage) >= generation:
            continue
        adopt(session, files, stage, generation, tables, tasks)
        adopted.append(stage)
    return adopted


def _recorded_generation(session: SQLSession, stage: str) -> int:
    query = metadata.select_statements(session.catalogue.metadata_schema, stage)["stages"]
    return max((int(g) for (g,) in session.execute(query)), default=0)


def adopt(
    session: SQLSession,
    files: ParquetFiles,
    stage: str,
    generation: int,
    tables: list[TableRecord],
    tasks: list[TaskRecord],
) -> None:
    """The stage's views and records become the manifest's, atomically."""
    names, dialect = session.names, session.dialect
    schema, data_schema = names.schema(stage), names.data_schema(stage)
    statements: list[exp.Expr] = [
        *dialect.create_schema(data_schema),
        *dialect.drop_schema(schema),
        *dialect.create_schema(schema),
    ]
    for record in tables:
        target = table(data_schema, record.physical)
        scan = exp.select("*").from_(files.scan(session, stage, record.physical))
        statements.append(exp.Create(this=target, kind="VIEW", replace=True, expression=scan))
        if record.generation == generation:
            statements += dialect.point_view(table(schema, record.view_name), target)
    meta = session.catalogue.metadata_schema
    statements += metadata.replace_stage_statements(meta, stage, generation, tables, tasks)
    with session.transaction("sync"):
        session.execute(statements, phase="sync")
