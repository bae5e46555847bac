"""`version=AUTO_VERSION` (pipedag's): the version of an eager task is the plan it builds.

Before the cache check, the task's function runs on placeholder inputs (its tables read as its
input type with no rows: an empty polars LazyFrame keeps the columns and their types), and the
plans of the lazy frames it returns are hashed (each table hook says how: `plan_fingerprint`).
A change to the code changes the plan and so the task key: the task runs; no change, no run.
Tasks whose outputs have no plan (a collected frame, a model) cannot be traced: that is an
`AutoVersionError` naming the task, with what to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..cache import values
from ..cache.hashing import stable_hash
from ..cache.keys import Key
from ..errors import AutoVersionError, HookError
from ..outputs import Table, TableRef
from . import imperative

if TYPE_CHECKING:
    from ..stores.base import StoreSession
    from .execute import TaskWork


class AutoVersion:
    """The one `AUTO_VERSION` value (it pickles to itself, for process and Dask engines)."""

    _one: AutoVersion | None = None

    def __new__(cls) -> AutoVersion:
        if cls._one is None:
            cls._one = super().__new__(cls)
        return cls._one

    def __repr__(self) -> str:
        return "AUTO_VERSION"

    def __reduce__(self) -> tuple[Any, ...]:
        return (AutoVersion, ())


AUTO_VERSION = AutoVersion()


class _Tracer(imperative.Imperative):
    """While tracing, `Table(obj).materialize()` writes nothing and hands `obj` back."""

    def __call__(self, table: Table, as_type: Any = None) -> Any:
        return table.obj


def traced_version(
    session: StoreSession, work: TaskWork, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> str:
    """The version of `work`'s task: a digest of the plans it builds on empty inputs."""
    from .execute import read_inputs

    where = work.describe()
    try:
        args, kwargs = read_inputs(session, work, args, kwargs, limit=0)
        with imperative.writing(_Tracer(session, work, Key(""))):
            returned = work.task.fn(*args, **kwargs)
    except Exception as error:
        raise AutoVersionError(
            f"{where} has version=AUTO_VERSION but failed on placeholder inputs (its tables "
            f"with no rows): {type(error).__name__}: {error}. Give it an explicit version="
        ) from error
    parts: list[Any] = []

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            for key in sorted(value, key=repr):
                parts.append(repr(key))
                visit(value[key])
        elif isinstance(value, list | tuple):
            parts.append(type(value).__name__)
            for item in value:
                visit(item)
        elif isinstance(value, TableRef):
            parts.append(("ref", value.stage, value.name, value.key))
        elif isinstance(value, Table):
            options = {k: v for k, v in vars(value).items() if k != "obj"}
            parts.append(("table", values.dumps(options, strict=False)))
            visit(value.obj)
        elif value is None or isinstance(value, str | bool | int | float):
            parts.append(value)
        else:
            parts.append(plan_of(session, value, where))

    visit(returned)
    return "auto:" + stable_hash("auto_version", parts)


def plan_of(session: StoreSession, obj: Any, where: str) -> str:
    try:
        hook = session.store.hook_for_materialize(type(obj))
    except HookError as error:
        raise AutoVersionError(f"{where} has version=AUTO_VERSION and returned {error}") from None
    plan = hook.plan_fingerprint(obj)
    if plan is None:
        raise AutoVersionError(
            f"{where} has version=AUTO_VERSION but returned a {type(obj).__module__}."
            f"{type(obj).__qualname__}, which has no plan to trace (AUTO_VERSION needs lazy "
            "outputs, e.g. a polars LazyFrame or a pydiverse.transform table on Polars). Give "
            "it an explicit version="
        )
    return plan
