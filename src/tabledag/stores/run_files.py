"""Run records kept as files, one per run, for stores where a file is cheaper than a write to
the database (a DuckDB file) or the only place that lasts (the parquet store's path).

`<directory>/<start in µs, 20 digits>-<run id>.json` holds the record's columns and document, so
that the names sort by time and a run is found by its id's prefix without opening the others.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict
from pathlib import Path

from .base import RunRecord


def file_name(record: RunRecord) -> str:
    return f"{round(record.started_at * 1e6):020d}-{record.run_id}.json"


def dumps(record: RunRecord) -> bytes:
    columns = {k: v for k, v in asdict(record).items() if k != "document"}
    return json.dumps({"columns": columns, "document": record.document}).encode()


def loads(data: bytes) -> RunRecord:
    loaded = json.loads(data)
    return RunRecord(**loaded["columns"], document=loaded["document"])


def matches(name: str, run_id: str | None) -> bool:
    """Whether a file name is a record (of the run whose id starts with `run_id`)."""
    if not name.endswith(".json") or "-" not in name:
        return False
    return run_id is None or name.split("-", 1)[1].startswith(run_id)


def write_local(directory: str, record: RunRecord) -> None:
    """Written to a temporary name and renamed: a reader sees the whole record or none."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{uuid.uuid4().hex}.tmp"
    temporary.write_bytes(dumps(record))
    os.replace(temporary, folder / file_name(record))


def read_local(directory: str, run_id: str | None, limit: int) -> list[RunRecord]:
    folder = Path(directory)
    if not folder.is_dir():
        return []
    names = sorted((n for n in os.listdir(folder) if matches(n, run_id)), reverse=True)
    records = []
    for name in names[:limit]:
        try:
            records.append(loads((folder / name).read_bytes()))
        except FileNotFoundError:  # removed meanwhile
            continue
    return records
