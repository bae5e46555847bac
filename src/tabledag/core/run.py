"""Running a flow: stage by stage, each task's inputs -> cache check -> call -> write, then commit.

The runner owns the run's state: each `StageRun`, the `Result`, which stages committed. It
talks to the store only through the contract in `stores/base.py` (locks, a session, stage
lifecycle, `materialize` + `write`, `retrieve`), so it works with every store and never names a
dialect or a frame library. A stage commits only when all its tasks succeeded; a task whose
input comes from a stage that did not commit in this run is SKIPPED, so nothing committed ever
shows data another stage did not publish.

Every failure ends in the `Result` (a task's) or in a `TabledagError` (the store's), never in a
raw driver exception; with `fail_fast` the first one is raised.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..cache import keys, values
from ..errors import (
    CommitError,
    DeclarationError,
    DuplicateNameError,
    HookError,
    StoreError,
    TabledagError,
    TaskFailedError,
)
from ..outputs import RawSql, Table, TableRef
from ..stores.base import Eager, TaskRecord
from ..tree import iter_tree, map_tree
from ..util import mask_url
from .result import FinalTaskState, Result
from .task import TaskCall, TaskRef

if TYPE_CHECKING:
    from ..config import Config
    from ..locks import Locks
    from ..stores.base import StageRun, StoreSession, TableStore
    from .flow import Flow, Stage

logger = logging.getLogger("tabledag.run")

DONE = (FinalTaskState.COMPLETED, FinalTaskState.CACHE_VALID)


def run_flow(
    flow: Flow, config: Config, *, ignore_cache: bool = False, fail_fast: bool | None = None
) -> Result:
    if fail_fast is None:
        fail_fast = bool(getattr(config, "fail_fast", False))
    runner = _Runner(Result(config), uuid.uuid4().hex if ignore_cache else None, fail_fast)
    try:
        store = config.store
        locks = store.locks(getattr(config, "lock_timeout", None))
        try:
            with locks.run(), store.session() as session:
                session.setup(locks)
                for stage in flow.stages:
                    if stage.tasks:
                        runner.run_stage(stage, locks, session)
        finally:
            locks.close()
    except Exception as error:
        earlier = runner.result.exception  # the Result is lost with this error: keep its failure
        if earlier is not None and earlier is not error:
            error.add_note(f"an earlier failure in this run: {mask_url(str(earlier))}")
        if isinstance(error, TabledagError):
            raise
        after = "" if earlier is None else f" (after an earlier failure: {mask_url(str(earlier))})"
        raise StoreError(
            f"running flow {flow.name!r} failed: {type(error).__name__}: "
            f"{mask_url(str(error).strip())}{after}"
        ) from error
    return runner.result


class _Runner:
    def __init__(self, result: Result, force: str | None, fail_fast: bool) -> None:
        self.result = result
        self.force = force
        """None, or a token unique to this run that changes every cache key (ignore_cache)."""
        self.fail_fast = fail_fast

    # -- stages ---------------------------------------------------------------------------------

    def run_stage(self, stage: Stage, locks: Locks, session: StoreSession) -> None:
        result = self.result
        with locks.stage(stage.name):
            run = session.begin_stage(stage.name)
            for call in stage.tasks:
                self.run_call(session, run, call)
                if self.fail_fast and result.exception is not None:
                    raise result.exception
            if not all(result.states[c] in DONE for c in stage.tasks):
                logger.warning("stage %r not committed: not every task succeeded", stage.name)
                return
            try:
                generation = session.commit_stage(run)
            except StoreError as error:
                failure = error if isinstance(error, CommitError) else CommitError(str(error))
                failure.__cause__ = error.__cause__ or error
                result.stage_errors[stage.name] = failure
                result.exception = result.exception or failure
                logger.error("%s", failure)
                if self.fail_fast:
                    raise failure from error
                return
            result.committed.add(stage.name)
            if generation is not None:
                self._collect_garbage(stage, locks, session, run, generation)

    def _collect_garbage(
        self, stage: Stage, locks: Locks, session: StoreSession, run: StageRun, generation: int
    ) -> None:
        """After a commit: the commit stands whatever happens here; a failure only leaves old
        tables for the next run to drop."""
        try:
            with locks.cleanup() as alone:
                session.collect_garbage(run, generation, drop=alone)
                if not alone:
                    logger.info("stage %r: another run is active; old tables stay", stage.name)
        except StoreError as error:
            logger.warning("stage %r committed, but cleaning up failed: %s", stage.name, error)

    # -- tasks ----------------------------------------------------------------------------------

    def run_call(self, session: StoreSession, run: StageRun, call: TaskCall) -> None:
        result = self.result
        started = time.perf_counter()
        blocker = self._blocker(call)
        if blocker is not None:
            result.states[call] = FinalTaskState.SKIPPED
            logger.info("SKIPPED     %s: %s", call.id, blocker)
            return
        try:
            state, outputs = self._run_task(session, run, call)
        except Exception as error:
            failure = TaskFailedError(
                f"task {call.name!r} in stage {call.stage.name!r} failed: "
                f"{type(error).__name__}: {mask_url(str(error))}",
                task=call.name,
                stage=call.stage.name,
            )
            failure.__cause__ = error
            logger.error("%s", failure)
            result.states[call] = FinalTaskState.FAILED
            if result.exception is None:
                result.exception = failure
        else:
            result.states[call] = state
            result.outputs[call] = outputs
        finally:
            result.durations[call] = time.perf_counter() - started
        logger.info(
            "%-11s %7.1f ms  %s", result.states[call].name, result.durations[call] * 1e3, call.id
        )

    def _blocker(self, call: TaskCall) -> str | None:
        """Why `call` cannot run, or None."""
        for up in call.upstream:
            state = self.result.states.get(up)
            if state not in DONE:
                return f"its input {up.id} is {state.name if state else 'not run'}"
            if up.stage.name != call.stage.name and up.stage.name not in self.result.committed:
                return (
                    f"stage {up.stage.name!r}, which its input {up.id} belongs to, did not commit"
                )
        return None

    def _run_task(
        self, session: StoreSession, run: StageRun, call: TaskCall
    ) -> tuple[FinalTaskState, Any]:
        task = call.task
        args = self._resolve(call.args)
        kwargs = self._resolve(call.kwargs)
        task_key = keys.task_key(call.name, task.version, args, kwargs, self.force)
        inputs = values.dumps([ref.key for ref in iter_tree((args, kwargs), _is_ref)])

        if task.version is not None and not task.lazy and self.force is None:
            record = session.cached_task(run, call.name, task_key)
            if record is not None:
                outputs = values.loads(record.outputs)
                for ref in values.table_refs(outputs):
                    if ref.stage == run.stage:
                        run.claim(ref.name, call.name)
                        run.add(session.reuse(run, ref))
                run.tasks[call.name] = TaskRecord(call.name, task_key, record.outputs, inputs)
                return FinalTaskState.CACHE_VALID, outputs

        if task.input_type is not None:
            as_type = task.input_type
            args, kwargs = (
                map_tree(v, lambda ref: _user(session.retrieve, ref, ref.stage, as_type), _is_ref)
                for v in (args, kwargs)
            )
        returned = _user(task.fn, *args, **kwargs)
        structure, tables = _collect_tables(session.store, call, returned)
        values.dumps(map_tree(structure, lambda t: TableRef("", "", ""), _is_table))  # storable?

        stored: dict[int, TableRef] = {}
        hits = []
        for table in tables:
            assert table.name is not None
            run.claim(table.name, call.name)
            output = _user(session.materialize, table, call.stage.name)
            written = session.write(run, table, output, task_key, self.force)
            run.add(written)
            stored[id(table)] = written.ref
            hits.append(written.hit)
            if written.record.sql is not None and not isinstance(output, Eager):
                self.result.queries.setdefault(call, {})[table.name] = written.record.sql
        outputs = map_tree(structure, lambda t: stored[id(t)], _is_table)
        run.tasks[call.name] = TaskRecord(call.name, task_key, values.dumps(outputs), inputs)
        lazy_hit = task.lazy and hits and all(hits)
        return (FinalTaskState.CACHE_VALID if lazy_hit else FinalTaskState.COMPLETED), outputs

    def _resolve(self, value: Any) -> Any:
        """Replace references to upstream outputs by those outputs (`TableRef`s or values)."""

        def lookup(ref: TaskRef) -> Any:
            found = self.result.outputs[ref.call]
            for part in ref.path:
                try:
                    found = found[part]
                except (KeyError, IndexError, TypeError) as error:
                    raise DeclarationError(
                        f"task {ref.call.name!r} returned no output {part!r} "
                        f"(it returned {type(found).__name__})"
                    ) from error
            return found

        return map_tree(value, lookup, lambda v: isinstance(v, TaskRef))


class _Panicked(Exception):
    """A task or a frame library raised a `BaseException` that is not an interrupt (e.g.
    polars' `PanicException`): a task failure like any other."""


def _user(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call user or frame-library code, which may raise more than `Exception`."""
    try:
        return fn(*args, **kwargs)
    except (Exception, KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as error:
        raise _Panicked(f"{type(error).__module__}.{type(error).__name__}: {error}") from error


def _is_ref(value: Any) -> bool:
    return isinstance(value, TableRef)


def _is_table(value: Any) -> bool:
    return isinstance(value, Table)


def _collect_tables(store: TableStore, call: TaskCall, returned: Any) -> tuple[Any, list[Table]]:
    """Find the table outputs in what a task returned, wrapping bare objects and naming them.

    Returns the output structure rebuilt with a named `Table` for every table, and those tables.
    """
    tables: list[Table] = []

    def visit(value: Any, path: tuple[Any, ...]) -> Any:
        if isinstance(value, TableRef):  # an input passed through unchanged
            return value
        if isinstance(value, Table):
            if value.name is None:
                value = value.with_name(_default_name(call, path))
            tables.append(value)
            return value
        if isinstance(value, dict):
            return {k: visit(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list | tuple) and not hasattr(value, "_fields"):
            items = [visit(v, (*path, i)) for i, v in enumerate(value)]
            return items if isinstance(value, list) else tuple(items)
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, str) and not call.task.lazy:
            return value  # an eager task's strings are values; a lazy task's are SQL
        if isinstance(value, RawSql):
            return visit(Table(value, name=value.name), path)
        try:
            store.hook_for_materialize(type(value))
        except HookError as error:
            if _plain(value):
                return value
            raise HookError(
                f"task {call.name!r} in stage {call.stage.name!r} returned a "
                f"{type(value).__module__}.{type(value).__qualname__} at {_path(path)}, which "
                f"no table hook can store. {error}. Return a supported table type, or a plain "
                "JSON value"
            ) from None
        return visit(Table(value), path)

    structure = visit(returned, ())
    names: set[str] = set()
    for table in tables:
        assert table.name is not None
        if table.name in names:
            raise DuplicateNameError(f"task {call.name!r} returned two tables named {table.name!r}")
        names.add(table.name)
    return structure, tables


def _plain(value: Any) -> bool:
    """A value the metadata can keep as it is (dates, decimals, dataclasses, enums, ...)."""
    try:
        values.to_json(value)
    except TypeError:
        return False
    return True


def _default_name(call: TaskCall, path: tuple[Any, ...]) -> str:
    return "_".join([call.name, *(str(p) for p in path)])


def _path(path: tuple[Any, ...]) -> str:
    return "the top level" if not path else "output " + "".join(f"[{p!r}]" for p in path)
