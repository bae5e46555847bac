"""Run records: what one run did, per task, kept by the store (`StoreSession.record_run`).

The runner notes each task as it ends (`RunLog.task`) and hands the store one `RunRecord` when
the run ends: one write per run, whatever its size. Its document is JSON:

```
{"format": 1, "run_id", "flow", "instance", "started_at" (epoch s), "duration" (s),
 "successful", "engine",
 "tasks": [{"stage", "task", "state", "start" (s after the run's start), "duration",
            "tables": [{"name", "rows", "bytes", "hit"}], "sql": {table: SQL as run},
            "error": {"type", "message", "table"} | null}],
 "errors": [{"stage", "task", "table", "type", "message"}]}
```

`rows` and `bytes` are known for tables written from frames (the data passed through this
process); a lazy query's table reports neither (counting would cost a query per table).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..stores.base import RunRecord
from ..util import mask_url

if TYPE_CHECKING:
    from ..stores.base import Stored
    from .task import TaskCall

FORMAT = 1


@dataclass(frozen=True)
class TableRun:
    name: str
    rows: int | None = None
    bytes: int | None = None
    hit: bool = False
    """The table was found kept under the same key: no data was written."""


@dataclass(frozen=True)
class ErrorRun:
    message: str
    type: str = ""
    stage: str | None = None
    task: str | None = None
    table: str | None = None
    """The table being written when it failed, where the failure was in writing one."""


@dataclass(frozen=True)
class TaskRun:
    stage: str
    task: str
    state: str
    start: float = 0.0
    """Seconds after the run started."""
    duration: float = 0.0
    tables: tuple[TableRun, ...] = ()
    sql: dict[str, str] = field(default_factory=dict)
    error: ErrorRun | None = None

    @property
    def id(self) -> str:
        return f"{self.stage}.{self.task}"


@dataclass(frozen=True)
class RunDetails:
    """A run record's document, read back."""

    run_id: str
    flow: str
    started_at: float
    duration: float
    successful: bool
    tasks: tuple[TaskRun, ...]
    errors: tuple[ErrorRun, ...] = ()
    instance: str = ""
    engine: str = ""

    @staticmethod
    def of(record: RunRecord) -> RunDetails:
        data = json.loads(record.document)
        tasks = tuple(
            TaskRun(
                t["stage"],
                t["task"],
                t["state"],
                float(t.get("start", 0.0)),
                float(t.get("duration", 0.0)),
                tuple(TableRun(**table) for table in t.get("tables", ())),
                dict(t.get("sql") or {}),
                ErrorRun(**t["error"]) if t.get("error") else None,
            )
            for t in data.get("tasks", ())
        )
        return RunDetails(
            record.run_id,
            record.flow,
            record.started_at,
            record.duration,
            record.successful,
            tasks,
            tuple(ErrorRun(**e) for e in data.get("errors", ())),
            str(data.get("instance", "")),
            str(data.get("engine", "")),
        )


class RunLog:
    """Collects a run's task entries as they end; `record()` makes the one document."""

    def __init__(self, run_id: str, flow: str, instance: str, engine: str) -> None:
        self.run_id = run_id
        self.flow = flow
        self.instance = instance
        self.engine = engine
        self.started_at = time.time()
        self.submitted: dict[TaskCall, float] = {}
        self.tasks: dict[TaskCall, dict[str, Any]] = {}

    def start(self, call: TaskCall) -> None:
        self.submitted[call] = time.time()

    def task(
        self,
        call: TaskCall,
        state: str,
        *,
        started: float | None = None,
        duration: float | None = None,
        stored: list[Stored] | None = None,
        sql: dict[str, str] | None = None,
        error: BaseException | None = None,
    ) -> None:
        submitted = self.submitted.get(call)
        if started is None:
            started = submitted if submitted is not None else time.time()
        if duration is None:
            duration = time.time() - started if submitted is not None else 0.0
        entry: dict[str, Any] = {
            "stage": call.stage.name,
            "task": call.name,
            "state": state,
            "start": round(max(started - self.started_at, 0.0), 6),
            "duration": round(duration, 6),
        }
        if stored:
            entry["tables"] = [
                {"name": s.ref.name, "rows": s.rows, "bytes": s.bytes, "hit": s.hit} for s in stored
            ]
        if sql:
            entry["sql"] = sql  # as run; a query holds no connection URL to mask
        if error is not None:
            entry["error"] = describe(error)
        self.tasks[call] = entry

    def record(
        self, successful: bool, stage_errors: dict[str, BaseException], calls: list[TaskCall]
    ) -> RunRecord:
        duration = time.time() - self.started_at
        tasks = [self.tasks[c] for c in calls if c in self.tasks]
        errors = [
            {"stage": t["stage"], "task": t["task"], **t["error"]} for t in tasks if t.get("error")
        ]
        errors += [{"stage": s, **describe(e)} for s, e in stage_errors.items()]
        document = {
            "format": FORMAT,
            "run_id": self.run_id,
            "flow": self.flow,
            "instance": self.instance,
            "engine": self.engine,
            "started_at": self.started_at,
            "duration": round(duration, 6),
            "successful": successful,
            "tasks": tasks,
            "errors": errors,
        }
        text = json.dumps(document, separators=(",", ":"), default=str)
        return RunRecord(self.run_id, self.flow, self.started_at, duration, successful, text)


def describe(error: BaseException) -> dict[str, Any]:
    """An error as the record keeps it: the original's type, the message, the table."""
    cause = error.__cause__ or error
    table = getattr(error, "tabledag_table", None) or getattr(cause, "tabledag_table", None)
    return {"type": type(cause).__name__, "message": mask_url(str(error)), "table": table}
