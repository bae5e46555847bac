"""A task's outputs as its stage last committed them, read without running anything.

Three callers: a run of part of a flow (`flow.run(stage_or_task)`), whose selected tasks read
the outputs of unselected upstream tasks from the store, `task_ref.get_output_from_store()`
(pipedag's spelling), which reads one task's committed output directly, and `tabledag sql`,
which calls a lazy task on its committed inputs. `read_refs` turns the references in an
output into tables and objects (also for `Result.get`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..cache import values
from ..errors import StoreError
from ..outputs import BlobRef, TableRef
from ..tree import map_tree
from .imperative import split

if TYPE_CHECKING:
    from ..stores.base import CommittedStage, StoreSession
    from .task import TaskCall, TaskRef


def committed_outputs(session: StoreSession, call: TaskCall, stages: dict[str, Any]) -> Any:
    """The outputs (`TableRef`s and plain values) of `call`'s latest committed run.

    `stages` caches each stage's committed state for the caller (stage name -> state).
    """
    stage = call.stage.name
    if stage not in stages:
        stages[stage] = session.begin_stage(stage).committed
    committed: CommittedStage = stages[stage]
    candidates = [r for (task, _), r in committed.tasks.items() if task == call.name]
    for record in sorted(candidates, key=lambda r: r.generation, reverse=True):
        recorded = values.loads(record.outputs)
        refs = values.table_refs(recorded)
        if all(ref.key in committed.tables for ref in refs if ref.stage == stage):
            return split(recorded)[0]
    raise StoreError(
        f"task {call.name!r} of stage {stage!r} has no committed output in the store: run its "
        "stage (or the whole flow) once before running only the tasks that read it"
    )


def committed_value(session: StoreSession, ref: TaskRef, stages: dict[str, Any]) -> Any:
    """The part of a task's committed outputs `ref` points at (`ref["key"]`)."""
    value = committed_outputs(session, ref.call, stages)
    for part in ref.path:
        value = value[part]
    return value


def read_refs(session: StoreSession, value: Any, as_type: Any, blobs: Any) -> Any:
    """`value` with its tables read as `as_type` and its blobs loaded (where a blob store is
    configured)."""
    value = map_tree(
        value,
        lambda ref: session.retrieve(ref, ref.stage, as_type),
        lambda v: isinstance(v, TableRef),
    )
    if blobs is None:
        return value
    return map_tree(value, blobs.get, lambda v: isinstance(v, BlobRef))
