"""Progress of a run as it happens: one `TaskEvent` per task start and end, handed to the
callback a caller gives `flow.run(progress=...)` (the CLI and notebooks draw them; without a
callback the run logs one line per task)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Counts:
    total: int
    running: int = 0
    done: int = 0
    cached: int = 0
    failed: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class TableLoad:
    """One table a task wrote: rows and bytes where its data passed through this process (a
    frame's), None for a query's; `hit` where it was found kept and nothing was written."""

    name: str
    rows: int | None = None
    bytes: int | None = None
    hit: bool = False


@dataclass(frozen=True)
class TaskEvent:
    task: str
    """`stage.task`"""
    state: str
    """"RUNNING" when the task starts; then COMPLETED, CACHE_VALID, FAILED or SKIPPED."""
    duration: float = 0.0
    counts: Counts = field(default_factory=lambda: Counts(0))
    tables: tuple[TableLoad, ...] = ()
    """At the end of a task that succeeded: the tables it wrote or found kept."""


class Progress(Protocol):
    def __call__(self, event: TaskEvent) -> None: ...
