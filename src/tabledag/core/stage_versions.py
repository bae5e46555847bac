"""`@input_stage_versions` (pipedag's): a task that compares two versions of its own stage.

The task runs after every task declared before it in its stage (an ordering barrier) and is
called with two dicts, table name -> table as its `input_type`: the tables this run has
written to the stage so far, and the tables the stage showed when it last committed (what
the commit would replace). Called with table references, it gets those tables only. It runs in
every run (a comparison is only as fresh as the run), and its outputs go to the stage like
any task's, so a failed check keeps the stage from committing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..outputs import TableRef
from ..tree import iter_tree
from .group import GroupNode
from .task import MaterializingTask

if TYPE_CHECKING:
    from ..stores.base import StoreSession, TableRecord
    from .execute import TaskWork


class StageVersionsTask(MaterializingTask):
    """A task made by `@input_stage_versions`."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        pass_args: Iterable[str] = (),
        ordering_barrier: bool = True,
        **settings: Any,
    ) -> None:
        super().__init__(fn, **settings)
        self.pass_args = frozenset(pass_args)
        self.ordering_barrier = ordering_barrier

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.ordering_barrier:
            return super().__call__(*args, **kwargs)
        with GroupNode(self.name, ordering_barrier=True):
            return super().__call__(*args, **kwargs)

    def with_name(self, name: str) -> MaterializingTask:
        return StageVersionsTask(
            self.fn,
            name=name,
            input_type=self.input_type,
            lazy=self.lazy,
            nout=self.nout,
            pass_args=self.pass_args,
            ordering_barrier=self.ordering_barrier,
        )

    def call_arguments(
        self, session: StoreSession, work: TaskWork, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """`(this run's tables, the committed ones)` and the pass-through keyword arguments."""
        run = work.run
        chosen = {r.name for r in iter_tree((args, kwargs), lambda v: isinstance(v, TableRef))}

        def read(records: dict[str, TableRecord]) -> dict[str, Any]:
            found = {}
            for view, record in sorted(records.items()):
                if chosen and view not in chosen:
                    continue
                ref = record.ref(run.stage)
                found[view] = (
                    ref
                    if self.input_type is None
                    else session.retrieve(ref, run.stage, self.input_type)
                )
            return found

        passed = {k: v for k, v in kwargs.items() if k in self.pass_args}
        return (read(run.views), read(run.committed.views)), passed


def input_stage_versions(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    input_type: Any = None,
    lazy: bool = False,
    nout: int = 1,
    ordering_barrier: bool = True,
    pass_args: Iterable[str] = (),
    **ignored: Any,
) -> Any:
    """Decorate `fn(this_run: dict, committed: dict, **pass_args)` as a stage-versions task
    (pipedag's `version`, `cache` and `include_views` are accepted: it always runs)."""

    def decorate(f: Callable[..., Any]) -> StageVersionsTask:
        return StageVersionsTask(
            f,
            name=name,
            input_type=input_type,
            lazy=lazy,
            nout=nout,
            pass_args=pass_args,
            ordering_barrier=ordering_barrier,
        )

    return decorate(fn) if fn is not None else decorate
