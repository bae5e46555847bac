"""What a run reports: each task's final state and time, its outputs, and the first failure."""

from __future__ import annotations

import enum
import os
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ..stores.base import arrow_table_type
from .task import TaskCall, TaskRef

if TYPE_CHECKING:
    from ..config import Config
    from ..stores.base import RunRecord, StoreSession
    from ..viz.graph import SVG
    from .flow import Flow

V = TypeVar("V")


class FinalTaskState(enum.Enum):
    COMPLETED = "completed"
    """The task ran and its outputs were written (or found unchanged)."""
    CACHE_VALID = "cache_valid"
    """Nothing was written: the task was skipped, or its lazy query was unchanged."""
    FAILED = "failed"
    SKIPPED = "skipped"
    """An input failed, or its stage did not commit, so the task did not run."""


class TaskMap(Mapping[TaskCall, V]):
    """A mapping keyed by task; accepts a `TaskRef`, the task call, or `"stage.task"`."""

    def __init__(self, data: dict[TaskCall, V]) -> None:
        self._data = data

    def _key(self, key: Any) -> TaskCall:
        if isinstance(key, TaskRef):
            return key.call
        if isinstance(key, str):
            for call in self._data:
                if key in (call.id, call.name):
                    return call
        return cast(TaskCall, key)  # a call, or a key that is then not found

    def __getitem__(self, key: Any) -> V:
        return self._data[self._key(key)]

    def __iter__(self) -> Iterator[TaskCall]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{c.id}: {v!r}" for c, v in self._data.items()) + "}"


@dataclass
class Result:
    """The outcome of `Flow.run`."""

    config: Config
    states: dict[TaskCall, FinalTaskState] = field(default_factory=dict)
    outputs: dict[TaskCall, Any] = field(default_factory=dict)
    durations: dict[TaskCall, float] = field(default_factory=dict)
    queries: dict[TaskCall, dict[str, str]] = field(default_factory=dict)
    """The SQL of each lazy output as it ran, per task and table name (see `sql()`)."""
    committed: set[str] = field(default_factory=set)
    """Stages whose commit succeeded in this run (or that were already up to date)."""
    stage_errors: dict[str, BaseException] = field(default_factory=dict)
    """Stages whose commit failed, with the error."""
    exception: BaseException | None = None
    run_id: str = ""
    """Names this run's record in the store (`tabledag report RUN_ID`)."""
    record: RunRecord | None = None
    """What the store keeps of this run (see `tabledag.core.records`)."""
    flow: Flow | None = None

    def visualize(
        self,
        visualization_tag: str | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        styles: dict[str, Any] | None = None,
    ) -> SVG:
        """The flow drawn as SVG with each task coloured by its final state in this run (see
        `Flow.visualize`)."""
        if self.flow is None:
            raise KeyError("this Result belongs to no flow")
        return self.flow.visualize(self, visualization_tag, path=path, styles=styles)

    def visualize_url(self, visualization_tag: str | None = None) -> str:
        """The drawing as a `data:` URL (local; see `Flow.visualize_url`)."""
        return self.visualize(visualization_tag).url()

    def report(self, path: str | os.PathLike[str] | None = None) -> str:
        """This run as one self-contained HTML page (`tabledag.viz.report`); `path` also
        writes it to a file."""
        from ..viz.report import render_report

        if self.record is None:
            raise KeyError("this run left no record")
        return render_report(self.record, path=path)

    @property
    def successful(self) -> bool:
        return (
            self.exception is None
            and not self.stage_errors
            and all(
                s in (FinalTaskState.COMPLETED, FinalTaskState.CACHE_VALID)
                for s in self.states.values()
            )
        )

    @property
    def task_states(self) -> TaskMap[FinalTaskState]:
        return TaskMap(self.states)

    @property
    def task_durations(self) -> TaskMap[float]:
        return TaskMap(self.durations)

    @property
    def task_values(self) -> TaskMap[Any]:
        """Each task's output as the run recorded it (`TableRef`s for tables; `get` reads
        them), pipedag's `Result.task_values`."""
        return TaskMap(self.outputs)

    @property
    def config_context(self) -> Config:
        """The config the run used (pipedag's name)."""
        return self.config

    def get(self, task: TaskRef | TaskCall | str, as_type: Any = None) -> Any:
        """A task's output, with its tables read as `as_type` (default: the task's
        `input_type`, else `pyarrow.Table`); `task` may also be `"stage.task"`."""
        call = TaskMap(self.states)._key(task)
        if not isinstance(call, TaskCall):
            raise KeyError(f"no task {task!r} in this run")
        if call not in self.outputs:
            state = self.states.get(call)
            raise KeyError(f"task {call.id!r} has no output (state: {state})")
        value = self.outputs[call]
        for part in task.path if isinstance(task, TaskRef) else ():
            value = value[part]
        if as_type is None:
            as_type = call.task.input_type or arrow_table_type()
        from .stored_outputs import read_refs

        return read_refs(self._reader(), value, as_type, self.config.blob_store_object)

    def _reader(self) -> StoreSession:
        """One session serves every `get`: repeated reads cost no new connection, and ibis
        tables keep the connection they are bound to. It closes with `close()`, or when the
        Result is garbage-collected."""
        session: StoreSession | None = self.__dict__.get("_session")
        if session is None:
            session = self.__dict__["_session"] = self.config.store_object.open_session()
            self.__dict__["_finalizer"] = weakref.finalize(self, session.close)
        return session

    def close(self) -> None:
        """Close the session `get` reads through (tables it returned stop working)."""
        finalizer = self.__dict__.pop("_finalizer", None)
        self.__dict__.pop("_session", None)
        if finalizer is not None:
            finalizer()

    def __enter__(self) -> Result:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sql(self, task: TaskRef | TaskCall) -> str:
        """The SQL of a lazy task's output(s), with logical table names: runnable as printed."""
        call = task.call if isinstance(task, TaskRef) else task
        queries = self.queries.get(call, {})
        if not queries:
            raise KeyError(f"task {call.id!r} wrote no lazy output in this run")
        canonical = self.config.store_object.canonical_sql
        return "\n\n".join(
            canonical(sql) if len(queries) == 1 else f"-- {name}\n{canonical(sql)}"
            for name, sql in queries.items()
        )

    def summary(self) -> str:
        """One line per task: state, time and name."""
        lines = []
        for call, state in self.states.items():
            ms = self.durations.get(call, 0.0) * 1000
            lines.append(f"{state.name:<12} {ms:9.1f} ms  {call.id}")
        return "\n".join(lines)
