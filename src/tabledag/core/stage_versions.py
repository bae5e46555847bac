"""`@input_stage_versions` (pipedag's): a task that compares two versions of its own stage.

The task runs after every task declared before it in its stage (an ordering barrier) and is
called with two dicts, table name -> table as its `input_type`: the tables this run has
written to the stage so far, and the tables the stage showed when it last committed (what
the commit would replace). Called with table references, it gets those tables only; called
with another instance's config, the second dict holds that instance's committed tables of the
same stage (and the config follows), e.g. to copy a sample of a full instance. It runs in
every run (a comparison is only as fresh as the run), and its outputs go to the stage like
any task's, so a failed check keeps the stage from committing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..errors import DeclarationError
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

    def settings(self) -> dict[str, Any]:
        return {
            **super().settings(),
            "pass_args": self.pass_args,
            "ordering_barrier": self.ordering_barrier,
        }

    def call_arguments(
        self,
        session: StoreSession,
        work: TaskWork,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        as_refs: bool = False,
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """`(this run's tables, the committed ones[, the other config])` and the pass-through
        keyword arguments. A config among the arguments (another instance, as in pipedag)
        gives the committed tables of the same stage in that instance's store."""
        from ..config import Config

        run = work.run
        chosen = {r.name for r in iter_tree((args, kwargs), lambda v: isinstance(v, TableRef))}
        others = [a for a in (*args, *kwargs.values()) if isinstance(a, Config)]
        if len(others) > 1:
            raise DeclarationError(f"{work.describe()}: give at most one other instance's config")
        as_type = None if as_refs else self.input_type

        def read(on: StoreSession, records: dict[str, TableRecord]) -> dict[str, Any]:
            found = {}
            for view, record in sorted(records.items()):
                if chosen and view not in chosen:
                    continue
                ref = record.ref(run.stage)
                found[view] = ref if as_type is None else on.retrieve(ref, run.stage, as_type)
            return found

        passed = {k: v for k, v in kwargs.items() if k in self.pass_args}
        if not others:
            return (read(session, run.views), read(session, run.committed.views)), passed
        other = others[0]
        with other.store_object.session() as elsewhere:
            committed = read(elsewhere, dict(elsewhere.begin_stage(run.stage).committed.views))
        return (read(session, run.views), committed, other), passed


def input_stage_versions(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    input_type: Any = None,
    lazy: bool = False,
    nout: int = 1,
    ordering_barrier: bool = True,
    pass_args: Iterable[str] = (),
    cache: Callable[..., Any] | None = None,
    **ignored: Any,
) -> Any:
    """Decorate `fn(this_run: dict, committed: dict, **pass_args)` as a stage-versions task
    (it always runs; `cache` is called with the same arguments, table references in the
    dicts, and re-runs a lazy one's queries when it changes; pipedag's `version` and
    `include_views` are accepted)."""

    def decorate(f: Callable[..., Any]) -> StageVersionsTask:
        return StageVersionsTask(
            f,
            name=name,
            input_type=input_type,
            lazy=lazy,
            nout=nout,
            pass_args=pass_args,
            ordering_barrier=ordering_barrier,
            cache=cache,
        )

    return decorate(fn) if fn is not None else decorate
