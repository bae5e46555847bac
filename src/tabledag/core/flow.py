"""`Flow` and `Stage`: the declaration contexts. The only ambient state in tabledag is "the stage
being declared", read by `MaterializingTask.__call__`."""

from __future__ import annotations

import functools
import os
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from ..errors import DeclarationError, DuplicateNameError
from ..outputs import normalize_name
from .group import Groups

if TYPE_CHECKING:
    from ..config import Config
    from ..viz.graph import SVG
    from .result import Result
    from .task import MaterializingTask, TaskCall

_flow: ContextVar[Flow | None] = ContextVar("tabledag_flow", default=None)
_stage: ContextVar[Stage | None] = ContextVar("tabledag_stage", default=None)


def current_stage() -> Stage | None:
    return _stage.get()


def current_flow() -> Flow | None:
    return _flow.get()


class _Declaring:
    """Holds the context-variable token while a `with` block is open; never pickled."""

    _token: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_token"}


class Flow(_Declaring):
    """A pipeline: stages of tasks, declared inside `with Flow(name) as flow:`."""

    def __init__(self, name: str = "default") -> None:
        self.name = name
        self.stages: list[Stage] = []
        self.groups = Groups()
        """Its `GroupNode`s (drawing, ordering barriers)."""

    def __enter__(self) -> Flow:
        if _flow.get() is not None:
            raise DeclarationError("flows cannot be nested")
        self._token = _flow.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _flow.reset(self._token)

    def add_stage(self, stage: Stage) -> None:
        if any(s.name == stage.name for s in self.stages):
            raise DuplicateNameError(f"flow {self.name!r} already has a stage {stage.name!r}")
        stage.position = len(self.stages)
        stage.flow = self
        self.stages.append(stage)
        self.groups.declare_stage(stage)

    @property
    def tasks(self) -> list[TaskCall]:
        return [call for stage in self.stages for call in stage.tasks]

    def __getitem__(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == normalize_name(name):
                return stage
        raise KeyError(name)

    def get_stage(self, name: str) -> Stage:
        """The stage called `name` (pipedag's spelling of `flow[name]`)."""
        return self[name]

    def run(
        self,
        *components: Any,
        config: Config | None = None,
        ignore_cache: bool = False,
        fail_fast: bool | None = None,
        engine: Any = None,
        progress: Any = None,
        orchestration_engine: Any = None,
        cache_validation_mode: Any = None,
        disable_cache_function: bool | None = None,
        ignore_task_version: bool | None = None,
    ) -> Result:
        """Run the flow, or only some of its stages or tasks; returns a `Result` (raises only
        with `fail_fast`, or a `TabledagError` where the store itself cannot be used).

        Args:
            components: stages or tasks (what calling a task returned) to run instead of the
                whole flow. Selected stages run all their tasks and commit; selected tasks run
                even when cache-valid and commit nothing. Outputs of unselected upstream tasks
                are read as their stage last committed them. (A `Config` given first, as in
                `flow.run(config)`, is the config.)
            config: where tables go; default the config of an enclosing `with cfg:` block
                (pipedag's spelling), else `Config.load().get()` (tabledag.yaml).
            ignore_cache: run every task and rewrite every table.
            fail_fast: re-raise the first failure instead of reporting it (default: the
                instance's `fail_fast` setting, else False).
            engine: where tasks run: a `tabledag.engines.Engine` (`ThreadEngine(4)`,
                `DaskEngine("tcp://scheduler:8786")`, ...) or its short name; default the
                instance's `orchestration`, else one after another. (`orchestration_engine`
                is pipedag's name for it.)
            progress: called with a `TaskEvent` as each task starts and ends.
            cache_validation_mode: a `CacheValidationMode` (or its name) for this run;
                `disable_cache_function` and `ignore_task_version` as pipedag's; defaults:
                the instance's `cache_validation`.
        """
        from ..config import Config, active
        from .run import run_flow

        if components and isinstance(components[0], Config):
            if config is not None:
                raise DeclarationError("flow.run() got the config twice")
            config, components = components[0], components[1:]
        if config is None:
            config = active.current() or Config.load().get()
        from .fresh import Freshness

        freshness = Freshness.of(
            getattr(config, "cache_validation", None),
            mode=cache_validation_mode,
            disable_cache_function=disable_cache_function,
            ignore_task_version=ignore_task_version,
        )
        return run_flow(
            self,
            config,
            freshness=freshness,
            ignore_cache=ignore_cache,
            fail_fast=fail_fast,
            engine=engine if engine is not None else orchestration_engine,
            progress=progress,
            components=components,
        )

    def visualize(
        self,
        result: Result | None = None,
        visualization_tag: str | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        styles: dict[str, Any] | None = None,
    ) -> SVG:
        """The flow drawn as SVG, locally (no network service): stages and group nodes as boxes,
        tasks as nodes coloured by their state in `result`. A notebook shows it inline; `path`
        also writes it to a file. `visualization_tag` is accepted for pipedag's signature;
        `styles` maps a group's `style_tag` to its `VisualizationStyle`."""
        from ..viz.graph import draw

        return draw(self, result, path=path, styles=styles)

    def visualize_url(
        self, result: Result | None = None, visualization_tag: str | None = None
    ) -> str:
        """The drawing as a `data:` URL (pipedag sends the graph to a kroki server; here
        nothing leaves the machine)."""
        return self.visualize(result, visualization_tag).url()

    def __repr__(self) -> str:
        return f"<Flow {self.name!r}: {len(self.stages)} stages, {len(self.tasks)} tasks>"


class Stage(_Declaring):
    """A group of tasks that commits together, as one database schema.

    `materialization_details`: the option set (of the store's `materialization_details`
    config) for this stage's tables that name none themselves.
    """

    def __init__(self, name: str, materialization_details: str | None = None) -> None:
        self.name = normalize_name(name)
        if materialization_details is not None and (
            not isinstance(materialization_details, str) or not materialization_details
        ):
            raise DeclarationError(
                f"stage {self.name!r}: materialization_details names an option set of the "
                f"store's config (a string), got {materialization_details!r}"
            )
        self.materialization_details = materialization_details
        self.tasks: list[TaskCall] = []
        self._by_arguments: dict[tuple[Any, Any], TaskCall] = {}
        """(task, argument key) -> its first call here (`same_call`)."""
        self.position = -1
        self.flow: Flow | None = None

    def __enter__(self) -> Stage:
        flow = _flow.get()
        if flow is None:
            raise DeclarationError(f"stage {self.name!r} must be declared inside a Flow")
        if _stage.get() is not None:
            raise DeclarationError(
                f"stage {self.name!r} is inside stage {_stage.get().name!r}: nested stages "  # type: ignore[union-attr]
                "are not supported; declare stages one after another"
            )
        if self.flow is None:
            flow.add_stage(self)
        elif self.flow is not flow:
            raise DeclarationError(f"stage {self.name!r} belongs to another flow")
        self._token = _stage.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _stage.reset(self._token)

    def same_call(
        self, task: MaterializingTask, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> TaskCall | None:
        """An earlier call of `task` in this stage with equal arguments (same upstream outputs,
        equal plain values), which a repeated call stands for, as in pipedag."""
        wanted = _argument_key((args, kwargs))
        return None if wanted is None else self._by_arguments.get((task, wanted))

    def free_name(self, task: MaterializingTask) -> str:
        """`task.name`, or for a further call of the same task `name_2`, `name_3`, ..."""
        taken = {c.name for c in self.tasks}
        if task.name not in taken or not any(c.task is task for c in self.tasks):
            return task.name
        n = 2
        while f"{task.name}_{n}" in taken:
            n += 1
        return f"{task.name}_{n}"

    def add(self, call: TaskCall) -> None:
        if any(c.name == call.name for c in self.tasks):
            raise DuplicateNameError(
                f"stage {self.name!r} already has a task {call.name!r}; its default output "
                f"table would collide. Use {call.name}.with_name('other_name')(...) or "
                "@materialize(name=...)"
            )
        self.tasks.append(call)
        key = _argument_key((call.args, call.kwargs))
        if key is not None:
            self._by_arguments.setdefault((call.task, key), call)
        if self.flow is not None:
            self.flow.groups.declare_task(call)

    def __repr__(self) -> str:
        return f"<Stage {self.name!r}: {len(self.tasks)} tasks>"


@functools.cache
def _plain_types() -> tuple[type, ...]:
    """Argument values compared by value (others, e.g. frames, are never taken as equal)."""
    import datetime as dt
    import decimal
    import enum
    import pathlib

    return (
        str,
        bytes,
        bool,
        int,
        float,
        dt.date,
        dt.time,
        decimal.Decimal,
        enum.Enum,
        pathlib.PurePath,
    )


def _argument_key(value: Any) -> Any:
    """A comparable stand-in for a call's arguments (upstream outputs by task and path), or
    None where a value cannot be compared (a frame, say): then no call is taken for another."""
    from .task import TaskRef

    def key(v: Any) -> Any:
        if isinstance(v, TaskRef):
            return ("$ref", v.call.key, v.path)
        if isinstance(v, dict):
            return ("$dict", tuple(sorted(((k, key(x)) for k, x in v.items()), key=repr)))
        if isinstance(v, list | tuple):
            return (type(v).__name__, tuple(key(x) for x in v))
        if v is None or isinstance(v, _plain_types()):
            return (type(v).__name__, v)
        raise TypeError

    try:
        found = key(value)
        hash(found)  # (a path part that cannot be a dict key is never taken as equal)
    except TypeError:
        return None
    return found
