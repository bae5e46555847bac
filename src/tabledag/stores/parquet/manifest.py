"""A stage's manifest: the records of its committed generation (and the one before), beside
its files, so that the files alone are enough to attach to a store.

Written so that a reader sees the old manifest or the new one, never half of one: on local disk
to a temporary file in the same directory, then renamed over the old one; on object stores in
one PUT, which is atomic there (a move would be a copy and a delete, two requests).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from dataclasses import asdict
from typing import Any

from ..base import TableRecord, TaskRecord

NAME = "_manifest.json"
FORMAT = 1


def dumps(stage: str, generation: int, tables: list[TableRecord], tasks: list[TaskRecord]) -> bytes:
    document = {
        "format": FORMAT,
        "stage": stage,
        "generation": generation,
        "committed_at": dt.datetime.now(dt.UTC).isoformat(),
        "tables": [asdict(r) for r in sorted(tables, key=lambda r: (r.view_name, r.key))],
        "tasks": [asdict(t) for t in sorted(tasks, key=lambda t: (t.task, t.task_key))],
    }
    return json.dumps(document, indent=1, sort_keys=True).encode()


def loads(data: bytes) -> tuple[str, int, list[TableRecord], list[TaskRecord]]:
    document = json.loads(data)
    if document.get("format") != FORMAT:
        raise ValueError(f"unknown manifest format {document.get('format')!r}")
    tables = [TableRecord(**r) for r in document["tables"]]
    tasks = [TaskRecord(**t) for t in document["tasks"]]
    return document["stage"], int(document["generation"]), tables, tasks


def write(fs: Any, path: str, data: bytes, *, local: bool) -> None:
    """Put `data` at `path` so that no reader sees it half-written."""
    if not local:
        fs.pipe_file(path, data)
        return
    directory, _, name = path.rpartition("/")
    temporary = f"{directory}/.{name}.{uuid.uuid4().hex}.tmp"
    fs.pipe_file(temporary, data)
    try:
        os.replace(temporary, path)
    except BaseException:
        fs.rm(temporary)
        raise


def read(fs: Any, path: str) -> bytes | None:
    try:
        data: bytes = fs.cat_file(path)
    except FileNotFoundError:
        return None
    return data
