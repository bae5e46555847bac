"""One task, on one session: inputs -> cache check -> call -> write. What an engine runs.

Everything a worker needs travels in a `TaskWork` (the task by import path, its resolved
input references and values, a snapshot of its stage's run) and everything it did comes back
in a `TaskOutcome` (what it stored, its lineage record, its SQL). The worker never changes
the run's state: the driver merges outcomes, so a task may run in the driving thread, in
another thread or on another machine with the same result.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..cache import keys, values
from ..cache.hashing import stable_hash
from ..errors import ConfigError, DuplicateNameError, HookError
from ..outputs import (
    Blob,
    BlobRef,
    ExternalRef,
    ExternalTableReference,
    RawSql,
    Table,
    TableRef,
)
from ..stores import blobs
from ..stores.base import Eager, Stored, TaskRecord
from ..tree import iter_tree, map_tree
from . import imperative
from .auto_version import AUTO_VERSION, traced_version
from .filtered_write import FilteredWrite
from .fresh import CacheValidationMode, FreshInputError, Freshness, cache_value
from .result import FinalTaskState
from .stage_versions import StageVersionsTask

if TYPE_CHECKING:
    from ..hooks.base import TableHook
    from ..stores.base import StageRun, StoreSession, TableStore
    from .task import MaterializingTask


@dataclass
class TaskWork:
    """What crosses to a worker for one task."""

    task: MaterializingTask
    name: str
    stage: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    """Upstream outputs already resolved to `TableRef`s and plain values."""
    force: str | None
    run: StageRun
    """The stage's run as the driver knew it when the task started (read only here)."""
    validation: str = "fail"
    """What a failed annotation check does: `fail`, `warn` or `off` (the config's setting)."""
    keep_validation_subqueries: bool = False
    """A check the database runs keeps its subqueries as tables (`Config`'s setting)."""
    carried_table_names: bool = False
    """A bare output takes the name its object carries (`TableHook.carried_name`)."""
    materialization_details: str | None = None
    """The stage's option set, for tables that name none."""
    freshness: Freshness = field(default_factory=Freshness)
    """The run's cache_validation settings (core/fresh.py)."""
    blobs: Any = None
    """The instance's blob store (`FileBlobStore`), or None."""

    def describe(self) -> str:
        return f"task {self.name!r} in stage {self.stage!r}"


@dataclass
class TaskOutcome:
    state: FinalTaskState
    outputs: Any
    record: TaskRecord
    stored: list[Stored] = field(default_factory=list)
    queries: dict[str, str] = field(default_factory=dict)
    """table name -> SQL as run, for lazy outputs."""
    duration: float = 0.0
    started: float = 0.0
    """When it started, in seconds since the epoch (the run record's timeline)."""


def execute_task(session: StoreSession, work: TaskWork) -> TaskOutcome:
    """Run one task on `session`; raises what the task or its store raised."""
    wall = time.time()
    started = time.perf_counter()
    outcome = _execute(session, work)
    outcome.duration = time.perf_counter() - started
    outcome.started = wall
    return outcome


def _execute(session: StoreSession, work: TaskWork) -> TaskOutcome:
    task, run = work.task, work.run
    args, kwargs = work.args, work.kwargs
    fresh, force = work.freshness, work.force
    has_cache_fn = task.cache is not None and not fresh.disable_cache_function
    if task.cache is None and force is None and any(iter_tree((args, kwargs), _is_external)):
        force = "external:" + os.urandom(8).hex()  # its content is outside every key: run
    if has_cache_fn and fresh.mode is CacheValidationMode.FORCE_FRESH_INPUT and force is None:
        force = "fresh:" + os.urandom(8).hex()  # fresh input is wanted: this task runs
    version: str | None
    if task.version is AUTO_VERSION:  # the plan it builds is its version (auto_version.py)
        version = None if task.lazy or force else traced_version(session, work, args, kwargs)
    elif fresh.ignore_task_version:
        version = None
    else:
        version = task.version  # type: ignore[assignment]  # (AUTO_VERSION handled above)
    task_key = keys.task_key(work.name, version, args, kwargs, force)
    inputs = values.dumps([ref.key for ref in iter_tree((args, kwargs), _is_ref)])
    wanted = (version is not None and not task.lazy) or (has_cache_fn and not fresh.counts_values)
    committed = session.cached_task(run, work.name, task_key) if force is None and wanted else None
    recorded = values.loads(committed.outputs) if committed is not None else None
    cache: str | None = None
    if has_cache_fn:
        if fresh.counts_values or committed is None:
            cache_args, cache_kwargs = args, kwargs
            if isinstance(task, StageVersionsTask):  # its cache function sees what it sees
                cache_args, cache_kwargs = task.call_arguments(
                    session, work, args, kwargs, as_refs=True
                )
            cache = _user(cache_value, task.cache, cache_args, cache_kwargs)
        else:  # the fresh input is ignored: the value the committed run had stands
            cache = imperative.split(recorded)[2]

    if committed is not None and version is not None and not task.lazy:
        outputs, _, was = imperative.split(recorded)
        if cache == was and _blobs_kept(work, recorded):
            stored = []
            for ref in values.table_refs(recorded):  # with tables it wrote but did not return
                if ref.stage == run.stage:
                    run.claim(ref.name, work.name)
                    stored.append(session.reuse(run, ref))
            record = TaskRecord(work.name, task_key, committed.outputs, inputs)
            return TaskOutcome(FinalTaskState.CACHE_VALID, outputs, record, stored)
    if (
        has_cache_fn
        and fresh.mode is CacheValidationMode.ASSERT_NO_FRESH_INPUT
        and not task.allow_fresh_input
        and not task.lazy
    ):
        raise FreshInputError(
            f"{work.describe()} has a cache function and would run, but the run's "
            "cache_validation mode is ASSERT_NO_FRESH_INPUT (it must not read new input); "
            "run it in mode NORMAL, or mark the task allow_fresh_input=True"
        )
    write_key = task_key if cache is None else keys.Key(stable_hash(task_key, cache))

    def retrieve(ref: TableRef, as_type: Any) -> Any:
        return _user(session.retrieve, ref, ref.stage, as_type)

    plan = task.validation
    if isinstance(task, StageVersionsTask):  # two versions of its stage (stage_versions.py)
        args, kwargs = task.call_arguments(session, work, *_with_blobs(work, args, kwargs))
    else:
        args, kwargs = read_inputs(session, work, args, kwargs)
    writer = imperative.Imperative(session, work, write_key, force)
    with imperative.writing(writer):  # Table(...).materialize() inside the task
        returned = _user(task.fn, *args, **kwargs)
    writer.check_untainted()
    pending: dict[int, Any] = {}
    if plan is not None:
        returned, pending = _user(
            plan.outputs,
            returned,
            stage=work.stage,
            mode=work.validation,
            where=work.describe(),
            name_of=lambda value: bare_name(session.store, work, value),
        )
    structure, tables = collect_tables(session.store, work, returned, writer.known)
    structure = _store_blobs(work, structure, write_key if version is not None else None)
    values.dumps(map_tree(structure, lambda t: TableRef("", "", ""), _is_table))  # storable?

    outcome = TaskOutcome(FinalTaskState.COMPLETED, None, TaskRecord(work.name, "", "", ""))
    outcome.stored.extend(writer.written)
    for written in writer.written:
        if written.record.sql is not None:
            outcome.queries[written.ref.name] = written.record.sql
    by_table: dict[int, TableRef] = {}
    filtered = FilteredWrite(session, run, work, write_key, force)
    to_check: list[tuple[Any, TableRef]] = []  # queries: checked as the database wrote them
    for table in tables:
        assert table.name is not None
        run.claim(table.name, work.name)  # the driver claims again when it merges
        stored_as = table
        if table.materialization_details is None and work.materialization_details is not None:
            stored_as = replace(table, materialization_details=work.materialization_details)
        kind = pending.get(id(table.obj))
        try:
            output = _user(session.materialize, stored_as, work.stage)
            if kind is not None and filtered.applies(kind, output):
                assert plan is not None
                written = _user(filtered.write, plan, kind, stored_as)
            else:
                written = session.write(run, stored_as, output, write_key, force)
                if kind is not None and not written.hit:
                    to_check.append((kind, written.ref))
        except Exception as error:
            _note_table(error, table.name)
            raise
        outcome.stored.append(written)
        by_table[id(table)] = written.ref
        if written.record.sql is not None and not isinstance(output, Eager):
            outcome.queries[table.name] = written.record.sql
    outcome.stored.extend(filtered.stored)
    if plan is not None and to_check:
        _user(
            plan.check_written,
            to_check,
            retrieve=retrieve,
            mode=work.validation,
            where=work.describe(),
        )
    outcome.outputs = map_tree(structure, lambda t: by_table[id(t)], _is_table)
    returned_refs = set(values.table_refs(outcome.outputs))
    written_besides = [*writer.written, *filtered.stored]
    also = [s.ref for s in written_besides if s.ref not in returned_refs]
    recorded = imperative.recorded(outcome.outputs, also, cache)
    outcome.record = TaskRecord(work.name, task_key, values.dumps(recorded), inputs)
    if task.lazy and outcome.stored and all(s.hit for s in outcome.stored):
        outcome.state = FinalTaskState.CACHE_VALID
    return outcome


def read_inputs(
    session: StoreSession,
    work: TaskWork,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    limit: int | None = None,
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The task's arguments with their tables read as it asks (annotated parameters as their
    annotation says, and checked; the others as its `input_type`); `limit` rows at most.
    External tables (`ExternalTableReference`, bare or in a `Table`) are read where they are;
    blobs arrive as their objects, whatever the input type."""
    task = work.task
    args, kwargs = _with_blobs(work, args, kwargs)
    if task.input_type is not None:
        args, kwargs = (map_tree(v, _external_ref, _is_external) for v in (args, kwargs))

    def retrieve(ref: TableRef, as_type: Any) -> Any:
        return _user(session.retrieve, ref, ref.stage, as_type, limit)

    plan = task.validation
    if plan is not None:
        return _user(  # type: ignore[no-any-return]
            plan.inputs,
            args,
            kwargs,
            retrieve=retrieve,
            default=task.input_type,
            mode=work.validation,
            where=work.describe(),
        )
    if task.input_type is None:
        return args, kwargs
    as_type = task.input_type
    read = (map_tree(v, lambda ref: retrieve(ref, as_type), _is_ref) for v in (args, kwargs))
    return tuple(next(read)), dict(next(read))


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


def _note_table(error: Exception, name: str) -> None:
    """Remember which table failed to be written (the run record names it)."""
    with contextlib.suppress(AttributeError, TypeError):
        if getattr(error, "tabledag_table", None) is None:
            error.tabledag_table = name  # type: ignore[attr-defined]


def _is_ref(value: Any) -> bool:
    return isinstance(value, TableRef)


def _is_external(value: Any) -> bool:
    return isinstance(value, ExternalTableReference) or (
        isinstance(value, Table) and isinstance(value.obj, ExternalTableReference)
    )


def _external_ref(value: Any) -> ExternalRef:
    ref = value.obj if isinstance(value, Table) else value
    return ExternalRef("", ref.name, "", ref.schema)


def _is_blob_ref(value: Any) -> bool:
    return isinstance(value, BlobRef)


def _with_blobs(
    work: TaskWork, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if work.blobs is None:
        return args, kwargs
    loaded = (map_tree(v, work.blobs.get, _is_blob_ref) for v in (args, kwargs))
    return tuple(next(loaded)), dict(next(loaded))


def _store_blobs(work: TaskWork, structure: Any, task_key: str | None) -> Any:
    """Each `Blob` in what the task returned, kept in the blob store and replaced by its
    reference; keyed by the task key where the task is versioned, else by its content."""
    if not any(iter_tree(structure, lambda v: isinstance(v, Blob))):
        return structure
    if work.blobs is None:
        raise ConfigError(
            f"{work.describe()} returned a Blob, but the instance has no blob store: add "
            "`blob_store: {class: tabledag.FileBlobStore, args: {base_path: ...}}`"
        )
    names: set[str] = set()

    def keep(blob: Blob) -> BlobRef:
        name = blob.name or work.name
        if name in names:
            raise DuplicateNameError(f"{work.describe()} returned two blobs named {name!r}")
        names.add(name)
        data = blobs.dumps(blob.obj, f"{work.describe()}, blob {name!r}")
        key = (
            stable_hash("blob", task_key, name)
            if task_key is not None
            else hashlib.blake2b(data, digest_size=16).hexdigest()
        )
        ref = BlobRef(work.stage, name, key)
        work.blobs.put(ref, data)
        return ref

    return map_tree(structure, keep, lambda v: isinstance(v, Blob))


def _blobs_kept(work: TaskWork, recorded: Any) -> bool:
    refs = list(iter_tree(recorded, _is_blob_ref))
    return not refs or (work.blobs is not None and all(work.blobs.exists(r) for r in refs))


def bare_name(store: TableStore, work: TaskWork, value: Any) -> str | None:
    """The name an object a task returned bare gets from itself (a pdt alias; with
    `carried_table_names` any name it carries); None: it is named after the task."""
    try:
        hook = store.hook_for_materialize(type(value))
    except HookError:
        return None
    return _name_from(hook, work, value)


def _name_from(hook: type[TableHook[Any]], work: TaskWork, value: Any) -> str | None:
    return hook.carried_name(value) if work.carried_table_names else hook.auto_name(value)


def _is_table(value: Any) -> bool:
    return isinstance(value, Table)


def collect_tables(
    store: TableStore,
    work: TaskWork,
    returned: Any,
    written: Callable[[Any], TableRef | None] = lambda value: None,
) -> tuple[Any, list[Table]]:
    """Find the table outputs in what a task returned, wrapping bare objects and naming them.

    Returns the output structure rebuilt with a named `Table` for every table, and those tables.
    `written` gives the table an object stands for that `Table.materialize()` handed back.
    """
    tables: list[Table] = []

    def visit(value: Any, path: tuple[Any, ...]) -> Any:
        if isinstance(value, TableRef):  # an input passed through unchanged
            return value
        ref = written(value)
        if ref is not None:  # written already, by Table(...).materialize()
            return ref
        if isinstance(value, Blob):  # kept by _store_blobs
            return value
        if _is_external(value):  # a table tabledag does not manage: handed on, never copied
            return value.obj if isinstance(value, Table) else value
        if isinstance(value, Table):
            if value.name is None:
                value = value.with_name("_".join([work.name, *(str(p) for p in path)]))
            elif value.name.endswith("%%"):
                value = value.with_name(unique_name(value.name[:-2], work.name, len(tables)))
            tables.append(value)
            return value
        if isinstance(value, dict):
            return {k: visit(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list | tuple) and not hasattr(value, "_fields"):
            items = [visit(v, (*path, i)) for i, v in enumerate(value)]
            return items if isinstance(value, list) else tuple(items)
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, str) and not work.task.lazy:
            return value  # an eager task's strings are values; a lazy task's are SQL
        if isinstance(value, RawSql):
            return visit(Table(value, name=value.name), path)
        try:
            hook = store.hook_for_materialize(type(value))
        except HookError as error:
            if _plain(value):
                return value
            raise HookError(
                f"{work.describe()} returned a {type(value).__module__}."
                f"{type(value).__qualname__} at {_path(path)}, which no table hook can store. "
                f"{error}. Return a supported table type, or a plain JSON value"
            ) from None
        return visit(Table(value, name=_name_from(hook, work, value)), path)

    structure = visit(returned, ())
    names: set[str] = set()
    for table in tables:
        assert table.name is not None
        if table.name in names:
            raise DuplicateNameError(
                f"task {work.name!r} returned two tables named {table.name!r}: name one with "
                "Table(obj, name=...), or end the name in '%%' for a unique suffix"
            )
        names.add(table.name)
    return structure, tables


def unique_name(prefix: str, task: str, position: int) -> str:
    """pipedag's `name%%`: the `%%` becomes a suffix unique to the task and the table's place
    among its outputs, and the same in every run (the name is part of the cache key)."""
    digest = hashlib.blake2s(task.encode(), digest_size=4).hexdigest()
    return f"{prefix}{digest}_{position:04d}"


def _plain(value: Any) -> bool:
    """A value the metadata can keep as it is (dates, decimals, dataclasses, enums, ...)."""
    try:
        values.to_json(value)
    except TypeError:
        return False
    return True


def _path(path: tuple[Any, ...]) -> str:
    return "the top level" if not path else "output " + "".join(f"[{p!r}]" for p in path)
