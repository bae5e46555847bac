"""Running a flow: stage by stage, each task's inputs -> cache check -> call -> write, then commit.

The runner talks to the store only through its contract (`session`, `stage`,
`cached_task_outputs`, `reuse_output`, `store_output`, `record_task`, `commit_stage`, `retrieve`,
`hook_for_materialize`), so it works with every store and never names a dialect.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from ..cache.hashing import encode, stable_hash
from ..errors import DuplicateNameError, HookError, TabledagError, TaskFailedError
from ..outputs import RawSql, Table
from .result import FinalTaskState, Result
from .task import TaskCall, TaskRef, map_values

if TYPE_CHECKING:
    from ..config import Config
    from .flow import Flow

logger = logging.getLogger("tabledag.run")

_DONE = (FinalTaskState.COMPLETED, FinalTaskState.CACHE_VALID)


def run_flow(
    flow: Flow, config: Config, *, ignore_cache: bool = False, fail_fast: bool = False
) -> Result:
    result = Result(config)
    store = config.store
    salt = uuid.uuid4().hex if ignore_cache else None
    with store.session():
        for stage in flow.stages:
            if not stage.tasks:
                continue
            with store.stage(stage.name) as run:
                for call in stage.tasks:
                    _run_call(store, run, call, result, salt)
                    if fail_fast and result.exception is not None:
                        raise result.exception
                if all(result.states[c] in _DONE for c in stage.tasks):
                    store.commit_stage(run)
                else:
                    logger.warning("stage %r not committed: a task failed", stage.name)
    return result


def _run_call(store: Any, run: Any, call: TaskCall, result: Result, salt: str | None) -> None:
    started = time.perf_counter()
    if any(result.states.get(up) not in _DONE for up in call.upstream):
        result.states[call] = FinalTaskState.SKIPPED
        return
    try:
        state, outputs = _run_task(store, run, call, result, salt)
    except Exception as error:
        failure = TaskFailedError(
            f"task {call.name!r} in stage {call.stage.name!r} failed: "
            f"{type(error).__name__}: {error}",
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


def _run_task(
    store: Any, run: Any, call: TaskCall, result: Result, salt: str | None
) -> tuple[FinalTaskState, Any]:
    task = call.task
    args = _resolve(call.args, result)
    kwargs = _resolve(call.kwargs, result)
    input_key = stable_hash("inputs", call.name, task.version, args, kwargs, salt)
    input_tables = [ref.key for ref in _tables_in((args, kwargs))]

    if task.version is not None and not task.lazy and salt is None:
        cached = store.cached_task_outputs(run, call.name, input_key)
        if cached is not None:
            outputs = _decode(json.loads(cached), call.stage.name)
            for ref in _tables_in(outputs):
                store.reuse_output(run, ref)
            store.record_task(run, call.name, input_key, cached, json.dumps(input_tables))
            return FinalTaskState.CACHE_VALID, outputs

    if task.input_type is not None:
        args, kwargs = (
            map_values(v, lambda ref: store.retrieve(ref, ref.stage, task.input_type), _is_table)
            for v in (args, kwargs)
        )
    returned = task.fn(*args, **kwargs)

    returned, tables = _collect_tables(store, call, returned)
    hits = []
    stored: dict[int, Table] = {}
    for table in tables:
        written = store.store_output(run, table, input_key, force=salt is not None)
        stored[id(table)] = written.ref
        hits.append(written.hit)
        if written.sql is not None:
            result.queries.setdefault(call, {})[written.ref.name] = written.sql
    outputs = map_values(returned, lambda t: stored[id(t)], lambda v: id(v) in stored)
    outputs_json = json.dumps(_encode_outputs(call, outputs), sort_keys=True)
    store.record_task(run, call.name, input_key, outputs_json, json.dumps(input_tables))
    lazy_hit = task.lazy and hits and all(hits)
    return (FinalTaskState.CACHE_VALID if lazy_hit else FinalTaskState.COMPLETED), outputs


def _resolve(value: Any, result: Result) -> Any:
    """Replace references to upstream outputs by those outputs (stored `Table` refs)."""

    def lookup(ref: TaskRef) -> Any:
        value = result.outputs[ref.call]
        for part in ref.path:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError) as error:
                raise TabledagError(
                    f"task {ref.call.name!r} returned no output {part!r} "
                    f"(it returned {type(value).__name__})"
                ) from error
        return value

    return map_values(value, lookup, lambda v: isinstance(v, TaskRef))


def _is_table(value: Any) -> bool:
    return isinstance(value, Table) and value.is_stored


def _tables_in(value: Any) -> list[Table]:
    found: list[Table] = []
    map_values(value, found.append, _is_table)
    return found


def _collect_tables(store: Any, call: TaskCall, returned: Any) -> tuple[Any, list[Table]]:
    """Find the table outputs in what a task returned, wrapping bare objects and naming them.

    Returns the output structure rebuilt with a `Table` for every table, and those tables.
    """
    tables: list[Table] = []

    def visit(value: Any, path: tuple[Any, ...]) -> Any:
        if isinstance(value, Table):
            if value.is_stored:  # an input passed through unchanged
                return value
            if value.name is None:
                value.name = _default_name(call, path)
            tables.append(value)
            return value
        if isinstance(value, dict):
            return {k: visit(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            items = [visit(v, (*path, i)) for i, v in enumerate(value)]
            return items if isinstance(value, list) else tuple(items)
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, str) and not call.task.lazy:
            return value  # an eager task's strings are values; a lazy task's are SQL
        if isinstance(value, RawSql):
            table = Table(value, name=value.name)
            return visit(table, path)
        try:
            store.hook_for_materialize(type(value))
        except HookError as error:
            raise HookError(
                f"task {call.name!r} in stage {call.stage.name!r} returned a "
                f"{type(value).__module__}.{type(value).__qualname__} at {_path(path)}, which "
                f"no table hook can store. {error}. Return a supported table type, or a plain "
                "JSON value"
            ) from None
        return visit(Table(value), path)

    structure = visit(returned, ())
    names: dict[str, Table] = {}
    for table in tables:
        assert table.name is not None
        if table.name in names:
            raise DuplicateNameError(f"task {call.name!r} returned two tables named {table.name!r}")
        names[table.name] = table
    return structure, tables


def _default_name(call: TaskCall, path: tuple[Any, ...]) -> str:
    return "_".join([call.name, *(str(p) for p in path)])


def _path(path: tuple[Any, ...]) -> str:
    return "the top level" if not path else "output " + "".join(f"[{p!r}]" for p in path)


def _encode_outputs(call: TaskCall, outputs: Any) -> Any:
    def table(ref: Table) -> dict:
        return {"$table": {"name": ref.name, "key": ref.key}}

    try:
        return json.loads(json.dumps(map_values(outputs, table, _is_table), default=encode))
    except TypeError as error:
        raise TabledagError(
            f"task {call.name!r} returned a value that is not JSON: {error}"
        ) from None


def _decode(value: Any, stage: str) -> Any:
    if isinstance(value, dict):
        if "$table" in value:
            spec = value["$table"]
            return Table(name=spec["name"]).stored(stage, spec["key"])
        return {k: _decode(v, stage) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, stage) for v in value]
    return value
