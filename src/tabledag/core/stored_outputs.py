"""A task's outputs as its stage last committed them, read without running anything.

Two callers: a run of part of a flow (`flow.run(stage_or_task)`), whose selected tasks read the
outputs of unselected upstream tasks from the store, and `task_ref.get_output_from_store()`
(pipedag's spelling), which reads one task's committed output directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..cache import values
from ..errors import StoreError
from .imperative import split

if TYPE_CHECKING:
    from ..stores.base import CommittedStage, StoreSession
    from .task import TaskCall


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
