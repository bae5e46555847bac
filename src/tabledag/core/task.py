"""`@materialize` tasks and the references that wire them together at declaration time."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import DeclarationError
from ..outputs import RawSql, Table, normalize_name
from ..tree import iter_tree, map_tree

if TYPE_CHECKING:
    from ..validation import Plan
    from .auto_version import AutoVersion
    from .flow import Stage


class MaterializingTask:
    """A function turned into a task by `@materialize`. Called inside a `Flow`, it returns a
    `TaskRef`; called anywhere else, it just runs the function."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        input_type: Any = None,
        version: str | AutoVersion | None = None,
        lazy: bool = False,
        nout: int = 1,
        cache: Callable[..., Any] | None = None,
        allow_fresh_input: bool = False,
    ) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.name = normalize_name(name or fn.__name__)
        self.input_type = input_type
        self.version = version
        self.lazy = lazy
        self.nout = nout
        self.cache = cache
        self.allow_fresh_input = allow_fresh_input
        if input_type is not None:
            from ..hooks.registry import can_any_store_retrieve

            if not can_any_store_retrieve(input_type):
                raise DeclarationError(
                    f"task {self.name!r}: no table hook can provide inputs as {input_type!r}; "
                    "use one of ibis.Table, sqlalchemy.Table, pyarrow.Table, pandas.DataFrame, "
                    "polars.DataFrame, polars.LazyFrame, str, or register a TableHook for it"
                )

    @functools.cached_property
    def validation(self) -> Plan | None:
        """What the task's dataframely / colspec annotations ask for (None if none does):
        read once, when the task is first used in a flow (and again in each worker)."""
        from ..validation import read_annotations

        return read_annotations(self.fn, self.name, self.input_type, self.lazy)

    def settings(self) -> dict[str, Any]:
        """The keyword arguments that make this task again from its function."""
        return {
            "name": self.name,
            "input_type": self.input_type,
            "version": self.version,
            "lazy": self.lazy,
            "nout": self.nout,
            "cache": self.cache,
            "allow_fresh_input": self.allow_fresh_input,
        }

    def with_name(self, name: str) -> MaterializingTask:
        """The same task under another name (to call it twice in one stage)."""
        return type(self)(self.fn, **{**self.settings(), "name": name})

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from .flow import current_flow, current_stage

        stage = current_stage()
        if stage is None:
            if current_flow() is not None:
                raise DeclarationError(
                    f"task {self.name!r} is called inside a Flow but outside any Stage; "
                    "wrap the call in `with Stage(name):`"
                )
            return self.fn(*_unwrap(args), **_unwrap(kwargs))
        earlier = stage.same_call(self, args, kwargs)
        if earlier is not None:  # pipedag's memo: the same task on equal inputs runs once
            call = earlier
        else:
            call = TaskCall(self, stage, args, kwargs, name=stage.free_name(self))
            stage.add(call)
        ref = TaskRef(call)
        return tuple(ref[i] for i in range(self.nout)) if self.nout > 1 else ref

    def __repr__(self) -> str:
        return f"<task {self.name!r}>"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by import path: the function (or the task decorating it) is found by its
        module and qualified name, and the task's settings travel with it."""
        kind = type(self)
        return (_import_task, (self.fn.__module__, self.fn.__qualname__, self.settings(), kind))


def _import_task(
    module: str,
    qualname: str,
    settings: dict[str, Any],
    kind: type[MaterializingTask] | None = None,
) -> MaterializingTask:
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    if isinstance(target, MaterializingTask):
        if target.settings() == settings:
            return target
        target = target.fn
    return (kind or MaterializingTask)(target, **settings)


def materialize(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    input_type: Any = None,
    version: str | AutoVersion | None = None,
    lazy: bool = False,
    nout: int = 1,
    cache: Callable[..., Any] | None = None,
    allow_fresh_input: bool = False,
) -> Any:
    """Turn a function into a task whose table outputs tabledag stores and caches.

    Args:
        name: the task's name (default: the function's); also the default output table name.
        input_type: the form input tables arrive in: `ibis.Table`, `sqlalchemy.Table`, `str`,
            `pyarrow.Table`, `pandas.DataFrame`, `polars.DataFrame`, `polars.LazyFrame`.
            With `None` the task receives `Table` references.
        version: for eager tasks, skip the task while the version and its inputs are unchanged.
            `None` runs it every time; its outputs are then keyed by a hash of their data.
            `AUTO_VERSION`: the version is the plan the task builds on empty inputs (polars
            LazyFrame and pydiverse.transform outputs; see `tabledag.core.auto_version`).
        lazy: the task returns a query; it is always called (cheaply) and its SQL is run only
            when the query or its inputs changed.
        nout: number of outputs to unpack when the task returns a tuple.
        cache: for input tabledag does not store (files, tables others fill): called with the
            task's arguments before the cache check; a new value runs the task again (a lazy
            one's query too). See `CacheValidationMode` for runs that ignore or force it.
        allow_fresh_input: the task may run under `ASSERT_NO_FRESH_INPUT`.
    """

    def decorate(f: Callable[..., Any]) -> MaterializingTask:
        return MaterializingTask(
            f,
            name=name,
            input_type=input_type,
            version=version,
            lazy=lazy,
            nout=nout,
            cache=cache,
            allow_fresh_input=allow_fresh_input,
        )

    return decorate(fn) if fn is not None else decorate


@dataclass(eq=False)
class TaskCall:
    """One use of a task in a flow: the task, its stage and its (wired) arguments.

    Equal, and hashed, by `key` (flow, stage, task name), which a stage keeps unique: a task
    call that travelled through pickle is still found in a run's results.
    """

    task: MaterializingTask
    stage: Stage
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    name: str = ""
    """The task's name, or `name_2`, `name_3`... for further calls of the same task in the
    stage on other inputs (the name keys its cache and names its unnamed tables)."""
    upstream: list[TaskCall] = field(init=False)

    def __post_init__(self) -> None:
        self.name = self.name or self.task.name
        _ = self.task.validation  # an annotation tabledag cannot honour fails here
        self.upstream = []
        for ref in iter_refs((self.args, self.kwargs)):
            if ref.call.stage.flow is not self.stage.flow:
                raise DeclarationError(
                    f"task {self.name!r} in stage {self.stage.name!r} uses {ref.call.name!r} "
                    "from another flow; pass data between flows through tables, not references"
                )
            if ref.call.stage.position > self.stage.position:
                raise DeclarationError(
                    f"task {self.name!r} in stage {self.stage.name!r} uses {ref.call.name!r} "
                    f"from the later stage {ref.call.stage.name!r}; a task may use outputs of "
                    "its own stage and of earlier stages only"
                )
            if ref.call not in self.upstream:
                self.upstream.append(ref.call)

    @property
    def id(self) -> str:
        return f"{self.stage.name}.{self.name}"

    @property
    def key(self) -> tuple[str, str, str]:
        flow = self.stage.flow
        return (flow.name if flow is not None else "", self.stage.name, self.name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TaskCall) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"<TaskCall {self.id}>"


@dataclass(frozen=True, eq=False)
class TaskRef:
    """What calling a task inside a flow returns: its output, or a part of it via `ref[key]`."""

    call: TaskCall
    path: tuple[Any, ...] = ()

    def __getitem__(self, item: Any) -> TaskRef:
        return TaskRef(self.call, (*self.path, item))

    def __iter__(self) -> Iterator[TaskRef]:
        raise TypeError(
            f"cannot unpack the output of task {self.call.name!r}; "
            "declare it with @materialize(nout=N) to unpack N outputs"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TaskRef) and (self.call, self.path) == (other.call, other.path)

    def __hash__(self) -> int:
        return hash((self.call, self.path))

    def __repr__(self) -> str:
        path = "".join(f"[{p!r}]" for p in self.path)
        return f"<TaskRef {self.call.id}{path}>"

    def get_output_from_store(self, as_type: Any = None, config: Any = None) -> Any:
        """This output as its stage last committed it, without running anything; tables
        come as `as_type` (default the task's `input_type`, else `pyarrow.Table`). `config`
        defaults to the one of an enclosing `with cfg:` block, else `tabledag.yaml`."""
        from ..config import Config, active
        from ..stores.base import arrow_table_type
        from .stored_outputs import committed_value, read_refs

        config = config or active.current() or Config.load().get()
        if as_type is None:
            as_type = self.call.task.input_type or arrow_table_type()
        with config.store_object.session() as session:
            value = committed_value(session, self, {})
            return read_refs(session, value, as_type, config.blob_store_object)


Task = TaskRef
"""pipedag's name for what calling a task in a flow returns (for annotations)."""
TaskGetItem = TaskRef
"""pipedag's name for a part of a task's output (`task_ref["key"]`): also a `TaskRef`."""


def iter_refs(value: Any) -> Iterator[TaskRef]:
    """Every `TaskRef` inside the containers users pass (see `tabledag.tree`)."""
    return iter_tree(value, lambda v: isinstance(v, TaskRef))


def _unwrap(value: Any) -> Any:
    """Outside a flow, `Table` and `RawSql` wrappers give way to what they hold."""
    return map_tree(
        value,
        lambda v: v.obj if isinstance(v, Table) else v.sql,
        lambda v: isinstance(v, Table | RawSql),
    )
