"""Running a flow: the one scheduling core. It decides which task is ready, hands it to the
engine, merges what comes back and commits each stage; engines only execute (see
`tabledag.engines`).

The runner owns the run's state: each `StageRun`, the `Result`, which stages committed. It
talks to the store only through the contract in `stores/base.py`, so it works with every
store and never names a dialect or a frame library.

Rules, whatever the engine:
- a task starts as soon as its inputs' physical tables exist, even before their stage commits
  (with the sequential engine a stage commits before any later task starts);
- a stage commits once all its tasks succeeded and the stages before it are decided, in flow
  order, and only if every stage it reads from committed; a task whose input failed, or whose
  input's stage did not commit, is SKIPPED, so nothing committed ever shows data another stage
  did not publish;
- stage locks are taken in flow order and held while the stage's tasks run and it commits.

Every failure ends in the `Result` (a task's) or in a `TabledagError` (the store's), never in a
raw driver exception; with `fail_fast` the first one is raised.
"""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
import logging
import os
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import TYPE_CHECKING, Any

from ..engines import Engine, Executor, SequentialEngine, engine_from_spec
from ..errors import CommitError, DeclarationError, StoreError, TabledagError, TaskFailedError
from ..tree import map_tree
from ..util import mask_url
from .execute import TaskOutcome, TaskWork, execute_task
from .fresh import CacheValidationMode, Freshness
from .progress import Counts, Progress, TableLoad, TaskEvent
from .records import RunLog
from .result import FinalTaskState, Result
from .task import TaskCall, TaskRef

if TYPE_CHECKING:
    from ..config import Config
    from ..locks import Locks
    from ..stores.base import StageRun, StoreSession
    from .flow import Flow, Stage

logger = logging.getLogger("tabledag.run")

DONE = (FinalTaskState.COMPLETED, FinalTaskState.CACHE_VALID)


def run_flow(
    flow: Flow,
    config: Config,
    *,
    ignore_cache: bool = False,
    fail_fast: bool | None = None,
    engine: Engine | str | dict[str, Any] | None = None,
    progress: Progress | None = None,
    components: tuple[Any, ...] = (),
    freshness: Freshness | None = None,
) -> Result:
    """Run `flow` (or only `components`: stages, or tasks, see `Selection`) with `config`."""
    selection = Selection.of(flow, components)
    if freshness is None:
        freshness = Freshness.of(getattr(config, "cache_validation", None))
    if freshness.mode is CacheValidationMode.FORCE_CACHE_INVALID:
        ignore_cache = True
    if selection.tasks_only:
        ignore_cache = True  # selected tasks run even when their cache is valid (pipedag's rule)
    if fail_fast is None:
        fail_fast = bool(getattr(config, "fail_fast", False))
    spec = engine if engine is not None else getattr(config, "orchestration", None)
    chosen = SequentialEngine() if spec is None else engine_from_spec(spec)
    force = os.urandom(16).hex() if ignore_cache else None  # uuid would import platform
    runner = _Runner(flow, Result(config), force, fail_fast, selection)
    runner.progress = progress
    runner.freshness = freshness
    runner.validation = str(getattr(config, "validation", "fail"))
    runner.keep_validation_subqueries = bool(getattr(config, "keep_validation_subqueries", False))
    runner.carried_table_names = bool(getattr(config, "carried_table_names", False))
    instance = str(getattr(config, "instance_id", ""))
    runner.log = RunLog(os.urandom(16).hex(), flow.name, instance, type(chosen).__name__)
    runner.result.run_id = runner.log.run_id
    runner.result.flow = flow
    from ..config import active

    token = active.enter(config)  # tasks on this thread read it (`ConfigContext.get()`)
    try:
        store = config.store_object
        chosen.check(config)
        locks = store.locks(getattr(config, "lock_timeout", None))
        try:
            with locks.run(), store.session() as session:
                session.setup(locks)
                try:
                    # Leaving: running tasks finish and stage locks go first, then the engine
                    # closes.
                    with chosen.open(config, session) as executor, contextlib.ExitStack() as held:
                        runner.run(locks, session, executor, held)
                finally:
                    runner.record(session)
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
    finally:
        active.leave(token)
    return runner.result


@dataclasses.dataclass(frozen=True)
class Selection:
    """What part of a flow a run runs (pipedag's `flow.run(*components)`).

    No components: every task, every stage commits. Stages: their tasks run and the stages
    commit. Tasks: they run even when cache-valid, and nothing commits (their tables exist
    and `Result.get` reads them, but no stage shows them). Either way, an upstream task
    outside the selection is not run: its output is read as its stage last committed it.
    """

    calls: frozenset[TaskCall] | None = None
    tasks_only: bool = False

    @classmethod
    def of(cls, flow: Flow, components: tuple[Any, ...]) -> Selection:
        from .flow import Stage

        if not components:
            return cls()
        calls: set[TaskCall] = set()
        kinds = set()
        for component in components:
            if isinstance(component, Stage):
                if component.flow is not flow:
                    raise DeclarationError(f"stage {component.name!r} is not in flow {flow.name!r}")
                calls.update(component.tasks)
                kinds.add("stage")
            elif isinstance(component, TaskRef | TaskCall):
                call = component.call if isinstance(component, TaskRef) else component
                if call.stage.flow is not flow:
                    raise DeclarationError(f"task {call.id!r} is not in flow {flow.name!r}")
                calls.add(call)
                kinds.add("task")
            else:
                raise DeclarationError(
                    f"flow.run() runs stages or tasks of the flow, not {component!r}; pass the "
                    "config as flow.run(config=...)"
                )
        if len(kinds) > 1:
            raise DeclarationError("flow.run() takes either stages or tasks, not both")
        return cls(frozenset(calls), tasks_only=kinds == {"task"})

    def includes(self, call: TaskCall) -> bool:
        return self.calls is None or call in self.calls


class _Runner:
    def __init__(
        self,
        flow: Flow,
        result: Result,
        force: str | None,
        fail_fast: bool,
        selection: Selection | None = None,
    ) -> None:
        self.selection = selection or Selection()
        self.result = result
        self.force = force
        """None, or a token unique to this run that changes every cache key (ignore_cache)."""
        self.fail_fast = fail_fast
        self.progress: Progress | None = None
        self.freshness = Freshness()
        self.stored: dict[TaskCall, list[Any]] = {}
        """What merged tasks wrote, until their end event shows it (with `progress` only)."""
        self.log: RunLog | None = None
        self.validation = "fail"
        """What a failed annotation check does (the config's `validation`)."""
        self.keep_validation_subqueries = False
        self.carried_table_names = False
        chosen = self.selection.includes
        self.stages = [s for s in flow.stages if any(chosen(c) for c in s.tasks)]
        self.calls = [c for s in self.stages for c in s.tasks if chosen(c)]
        self.outside = sorted(
            {up for c in self.calls for up in c.upstream if not chosen(up)},
            key=lambda c: (c.stage.position, c.stage.tasks.index(c)),
        )
        """Upstream tasks not selected: their committed outputs are read, not recomputed."""
        self.available = {c.stage.name for c in self.outside}
        """Stages whose tables selected tasks may read although this run does not commit
        them (stages outside the selection; with a task selection, every decided stage)."""
        self.position = {c: i for i, c in enumerate(self.calls)}
        self.pending = set(self.calls)
        """Tasks not started yet (nor skipped)."""
        self.dependents: dict[TaskCall, list[TaskCall]] = {c: [] for c in self.calls}
        self.waiting: dict[TaskCall, int] = {}
        """task -> how many of its inputs are not done yet."""
        for call in self.calls:
            inputs = {up for up in call.upstream if chosen(up)}
            self.waiting[call] = len(inputs)
            for up in inputs:
                self.dependents[up].append(call)
        self.followers: dict[TaskCall, list[TaskCall]] = {c: [] for c in self.calls}
        """task -> tasks that wait for it to end, whatever its state (ordering barriers)."""
        for call, before in flow.groups.ordering().items():
            for earlier in before - set(call.upstream):
                if earlier in self.followers and call in self.waiting:
                    self.waiting[call] += 1
                    self.followers[earlier].append(call)
        self.ready = [self.position[c] for c in self.calls if not self.waiting[c]]
        """A heap of flow positions: what may start, earliest first."""
        self.running: dict[Future[Any], TaskCall] = {}
        self.runs: dict[str, StageRun] = {}
        self.locked: dict[str, contextlib.ExitStack] = {}
        self.decided: set[str] = set()
        self.doomed: set[str] = set()
        """Stages that can no longer commit (a task failed or was skipped)."""

    # -- the loop -------------------------------------------------------------------------------

    def run(
        self, locks: Locks, session: StoreSession, executor: Executor, held: contextlib.ExitStack
    ) -> None:
        self.locks, self.session, self.executor = locks, session, executor
        self.width = executor.workers if session.store.concurrent_sessions else 1
        held.callback(self._release_all)
        if self.outside:
            from .stored_outputs import committed_outputs

            committed: dict[str, Any] = {}
            for call in self.outside:
                self.result.outputs[call] = committed_outputs(session, call, committed)
        while self.ready or self.running or len(self.decided) < len(self.stages):
            self._decide_stages()
            if self._dispatch():
                continue
            if not self.running:
                if self.pending or len(self.decided) < len(self.stages):  # pragma: no cover
                    raise StoreError(f"the run is stuck: {sorted(map(repr, self.pending))}")
                break
            done, _ = wait(list(self.running), return_when=FIRST_COMPLETED)
            for future in done:
                self._finish(self.running.pop(future), future)

    def _dispatch(self) -> bool:
        """Start what is ready (in flow order) up to the engine's width; whether anything
        changed. Returns early when a stage finished, so that it commits before more starts."""
        changed = False
        while self.ready and len(self.running) < self.width:
            call = self.calls[heapq.heappop(self.ready)]
            if call not in self.pending:
                continue
            changed = True
            blocker = self._blocker(call)
            if blocker is not None:
                self._skip(call, blocker)
                continue
            self.pending.discard(call)
            if self._start(call) and self._finished(call.stage):
                break
        return changed

    def _start(self, call: TaskCall) -> bool:
        """Submit `call`; whether it already finished (the sequential engine)."""
        run = self._begin(call.stage)
        try:
            work = TaskWork(
                call.task,
                call.name,
                call.stage.name,
                self._resolve(call.args),
                self._resolve(call.kwargs),
                self.force,
                run if self.executor.inline else _snapshot(run),
                validation=self.validation,
                keep_validation_subqueries=self.keep_validation_subqueries,
                carried_table_names=self.carried_table_names,
                materialization_details=call.stage.materialization_details,
                freshness=self.freshness,
                blobs=self.result.config.blob_store_object,
            )
            self._event(call, "RUNNING")
            if self.log is not None:
                self.log.start(call)
            future = self.executor.submit(execute_task, work)
        except Exception as error:
            future = Future()
            future.set_exception(error)
        if future.done():
            self._finish(call, future)
            return True
        self.running[future] = call
        return False

    def _finish(self, call: TaskCall, future: Future[Any]) -> None:
        result = self.result
        error = future.exception()
        if error is not None and not isinstance(error, Exception):
            raise error  # an interrupt (or a process told to stop) stops the run
        if error is None:
            try:
                self._merge(call, future.result())
            except Exception as merge_error:
                error = merge_error
        if error is not None:
            self._fail(call, error)
        logger.info(
            "%-11s %7.1f ms  %s", result.states[call].name, result.durations[call] * 1e3, call.id
        )
        loads = tuple(
            TableLoad(s.ref.name, s.rows, s.bytes, s.hit) for s in self.stored.pop(call, ())
        )
        self._event(call, result.states[call].name, result.durations[call], loads)
        if self.fail_fast and result.exception is not None:
            raise result.exception

    def _merge(self, call: TaskCall, outcome: TaskOutcome) -> None:
        run = self.runs[call.stage.name]
        for stored in outcome.stored:
            run.claim(stored.ref.name, call.name)
        for stored in outcome.stored:
            run.add(stored)
            if not self.executor.inline:  # the driver's own session wrote it and knows it
                self.session.adopt(run, stored)
        run.tasks[call.name] = outcome.record
        if self.progress is not None:
            self.stored[call] = outcome.stored
        if outcome.queries:
            self.result.queries[call] = outcome.queries
        self.result.states[call] = outcome.state
        self.result.outputs[call] = outcome.outputs
        self.result.durations[call] = outcome.duration
        if self.log is not None:
            self.log.task(
                call,
                outcome.state.name,
                started=outcome.started or None,
                duration=outcome.duration,
                stored=outcome.stored,
                sql=outcome.queries,
            )
        for later in self.dependents[call]:
            self.waiting[later] -= 1
            if not self.waiting[later]:
                heapq.heappush(self.ready, self.position[later])
        self._release(call)

    def _release(self, call: TaskCall) -> None:
        """`call` ended: tasks ordered after it (not fed by it) may start."""
        for later in self.followers[call]:
            self.waiting[later] -= 1
            if not self.waiting[later] and later in self.pending:
                heapq.heappush(self.ready, self.position[later])

    def _fail(self, call: TaskCall, error: BaseException) -> None:
        result = self.result
        if isinstance(error, TaskFailedError) and error.task is None:  # from the engine
            failure: TaskFailedError = type(error)(
                str(error), task=call.name, stage=call.stage.name
            )
        else:
            failure = TaskFailedError(
                f"task {call.name!r} in stage {call.stage.name!r} failed: "
                f"{type(error).__name__}: {mask_url(str(error))}",
                task=call.name,
                stage=call.stage.name,
            )
        failure.__cause__ = error
        logger.error("%s", failure)
        result.states[call] = FinalTaskState.FAILED
        result.durations.setdefault(call, 0.0)
        if self.log is not None:
            self.log.task(call, FinalTaskState.FAILED.name, error=failure)
        self.doomed.add(call.stage.name)
        if result.exception is None:
            result.exception = failure
        self._skip_dependents(call)
        self._release(call)

    def _skip(self, call: TaskCall, why: str) -> None:
        self.pending.discard(call)
        self.result.states[call] = FinalTaskState.SKIPPED
        self.result.durations[call] = 0.0
        if self.log is not None:
            self.log.task(call, FinalTaskState.SKIPPED.name, duration=0.0)
        self.doomed.add(call.stage.name)
        logger.info("SKIPPED     %s: %s", call.id, why)
        self._event(call, "SKIPPED")
        self._skip_dependents(call)
        self._release(call)

    def _skip_dependents(self, call: TaskCall) -> None:
        state = self.result.states[call].name
        for later in self.dependents[call]:
            if later in self.pending:
                self._skip(later, f"its input {call.id} is {state}")

    # -- readiness ------------------------------------------------------------------------------

    def _blocker(self, call: TaskCall) -> str | None:
        """Why `call` can never run, or None."""
        for up in call.upstream:
            state = self.result.states.get(up)
            if state is not None and state not in DONE:
                return f"its input {up.id} is {state.name}"
            stage = up.stage.name
            if stage == call.stage.name:
                continue
            if stage in self.doomed or (
                stage in self.decided
                and stage not in self.result.committed
                and stage not in self.available
            ):
                return f"stage {stage!r}, which its input {up.id} belongs to, did not commit"
        return None

    def _finished(self, stage: Stage) -> bool:
        return all(c in self.result.states for c in stage.tasks if c in self.position)

    # -- stages ---------------------------------------------------------------------------------

    def _begin(self, stage: Stage) -> StageRun:
        """The stage's run, taking stage locks in flow order up to it."""
        for earlier in self.stages:
            name = earlier.name
            if name not in self.runs and name not in self.decided:
                stack = contextlib.ExitStack()
                stack.enter_context(self.locks.stage(name))
                self.locked[name] = stack
                try:
                    self.runs[name] = self.session.begin_stage(name)
                    if not self.executor.inline:
                        self.session.prepare_writers(self.runs[name])
                except BaseException:
                    self.locked.pop(name).close()
                    raise
            if earlier is stage:
                break
        return self.runs[stage.name]

    def _decide_stages(self) -> None:
        """Commit (or give up on) finished stages, in flow order."""
        for stage in self.stages:
            if stage.name in self.decided:
                continue
            if not self._finished(stage):
                return
            try:
                self._decide(stage)
            finally:
                self.decided.add(stage.name)
                stack = self.locked.pop(stage.name, None)
                if stack is not None:
                    stack.close()

    def _decide(self, stage: Stage) -> None:
        result = self.result
        ran = [c for c in stage.tasks if c in self.position]
        if stage.name in self.doomed or not all(result.states[c] in DONE for c in ran):
            logger.warning("stage %r not committed: not every task succeeded", stage.name)
            return
        if self.selection.tasks_only:
            logger.info("stage %r not committed: only some of its tasks ran", stage.name)
            self.available.add(stage.name)
            return
        read = {up.stage.name for c in stage.tasks for up in c.upstream} - {stage.name}
        missing = sorted(read - result.committed - self.available)
        if missing:
            logger.warning(
                "stage %r not committed: it reads from %s, which did not commit",
                stage.name,
                ", ".join(map(repr, missing)),
            )
            return
        run = self.runs[stage.name]
        try:
            generation = self.session.commit_stage(run)
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
            self._collect_garbage(stage, run, generation)

    def _collect_garbage(self, stage: Stage, run: StageRun, generation: int) -> None:
        """After a commit: the commit stands whatever happens here; a failure only leaves old
        tables for the next run to drop."""
        try:
            with self.locks.cleanup() as alone:
                self.session.collect_garbage(run, generation, drop=alone)
                if not alone:
                    logger.info("stage %r: another run is active; old tables stay", stage.name)
        except StoreError as error:
            logger.warning("stage %r committed, but cleaning up failed: %s", stage.name, error)

    def _release_all(self) -> None:
        """On the way out (also after a failure): wait for running tasks, release stage locks."""
        if self.running:
            wait(list(self.running))
        for name in reversed(list(self.locked)):
            self.locked.pop(name).close()

    def record(self, session: StoreSession) -> None:
        """Hand the store this run's record, in one write; a failure to keep it is logged and
        changes nothing else (the run's own outcome stands)."""
        if self.log is None:
            return
        result = self.result
        record = self.log.record(result.successful, result.stage_errors, self.calls)
        result.record = record
        try:
            session.record_run(record)
        except Exception as error:
            logger.warning("run %s: its record could not be kept: %s", record.run_id, error)

    # -- helpers --------------------------------------------------------------------------------

    def _event(
        self, call: TaskCall, state: str, duration: float = 0.0, loads: tuple[TableLoad, ...] = ()
    ) -> None:
        if self.progress is None:
            return
        states = list(self.result.states.values())
        counts = Counts(
            total=len(self.calls),
            running=len(self.running) + (state == "RUNNING"),
            done=sum(s is FinalTaskState.COMPLETED for s in states),
            cached=sum(s is FinalTaskState.CACHE_VALID for s in states),
            failed=sum(s is FinalTaskState.FAILED for s in states),
            skipped=sum(s is FinalTaskState.SKIPPED for s in states),
        )
        self.progress(TaskEvent(call.id, state, duration, counts, loads))

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


def _snapshot(run: StageRun) -> StageRun:
    """A copy a worker may read (and claim in) while the driver merges into the original."""
    return dataclasses.replace(
        run, views=dict(run.views), created=dict(run.created), tasks={}, owners=dict(run.owners)
    )
