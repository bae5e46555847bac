"""The table-hook contract and the per-store hook registry.

A hook converts one kind of table object. Writing, it turns the object into one of two things and
hands it to the store: a lazy sqlglot query (`store.write_query`) or eager Arrow data
(`store.write_arrow`). Reading, it asks the store for Arrow data, an ibis table or a SQLAlchemy
table and converts. Hooks never touch a database connection or a dialect themselves.

Hook modules import their library inside methods, and `type_is` checks types by module name,
so registering the built-in hooks imports neither pandas, polars nor ibis.
"""

from __future__ import annotations

import enum
import sys
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from ..errors import HookError

if TYPE_CHECKING:
    from ..outputs import Table

StoreT = TypeVar("StoreT")


class CanMatResult(enum.Enum):
    NO = 0
    YES = 1
    YES_BUT_DONT_CACHE = 2
    """Yes, but decide again for the next object of this type."""

    @staticmethod
    def new(value: bool) -> CanMatResult:
        return CanMatResult.YES if value else CanMatResult.NO


class CanRetResult(enum.Enum):
    NO = 0
    YES = 1

    @staticmethod
    def new(value: bool) -> CanRetResult:
        return CanRetResult.YES if value else CanRetResult.NO


class TableHook(Generic[StoreT]):
    """Base class of table hooks; every method is a classmethod, hooks hold no state."""

    needs_connection: ClassVar[bool] = False
    """Whether retrieved objects keep using the store's connection (e.g. ibis tables)."""

    @classmethod
    def can_materialize(cls, type_: type) -> CanMatResult:
        return CanMatResult.NO

    @classmethod
    def can_retrieve(cls, type_: type) -> CanRetResult:
        return CanRetResult.NO

    @classmethod
    def materialize(cls, store: StoreT, table: Table, stage_name: str) -> None:
        raise NotImplementedError(f"{cls.__name__} cannot materialize tables")

    @classmethod
    def retrieve(
        cls, store: StoreT, table: Table, stage_name: str, as_type: type, limit: int | None = None
    ) -> Any:
        raise NotImplementedError(f"{cls.__name__} cannot retrieve tables")

    @classmethod
    def lazy_query_str(cls, store: StoreT, obj: Any) -> str:
        """Canonical SQL of a lazy object; `TypeError` where the object is not lazy."""
        raise TypeError(f"{cls.__name__} produces no query for {type(obj).__name__}")


def type_is(type_: type, module: str, qualname: str) -> bool:
    """`issubclass(type_, module.qualname)` without importing `module`.

    If the module was never imported, no object of its types can exist yet.
    """
    mod = sys.modules.get(module)
    if mod is None or not isinstance(type_, type):
        return False
    target: Any = mod
    for part in qualname.split("."):
        target = getattr(target, part, None)
        if target is None:
            return False
    return issubclass(type_, target)


_LOOKUP: dict[tuple, type[TableHook]] = {}
"""(store class, direction, type) -> hook; cleared whenever a hook is registered."""


class HookRegistry:
    """Mixin for stores: `@Store.register_table()` registers a hook on that store class.

    Lookup walks the store's MRO (a subclass's hooks before its base's) and, within one class,
    the newest registration first. Results are cached per type where the hook said YES.
    """

    _hooks: ClassVar[list[type[TableHook]]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._hooks = []

    @classmethod
    def register_table(cls, *requirements: Any):
        """Decorator registering a `TableHook` on this store class.

        A falsy requirement (an optional import that resolved to `None`) skips the registration.
        """

        def decorator(hook: type[TableHook]) -> type[TableHook]:
            if all(requirements):
                cls._hooks.append(hook)
                _LOOKUP.clear()
            return hook

        return decorator

    @classmethod
    def _ordered_hooks(cls) -> list[type[TableHook]]:
        hooks: list[type[TableHook]] = []
        for klass in cls.__mro__:
            if issubclass(klass, HookRegistry) and "_hooks" in klass.__dict__:
                hooks.extend(reversed(klass.__dict__["_hooks"]))
        return hooks

    @classmethod
    def hook_for_materialize(cls, type_: type) -> type[TableHook]:
        cache = _LOOKUP
        cached = cache.get((cls, "m", type_))
        if cached is not None:
            return cached
        for hook in cls._ordered_hooks():
            answer = hook.can_materialize(type_)
            if answer is CanMatResult.YES:
                cache[(cls, "m", type_)] = hook
                return hook
            if answer is CanMatResult.YES_BUT_DONT_CACHE:
                return hook
        raise HookError(
            f"no table hook of {cls.__name__} can materialize {_type_name(type_)}; "
            f"supported: {', '.join(cls.supported_names('m'))}"
        )

    @classmethod
    def hook_for_retrieve(cls, as_type: Any) -> type[TableHook]:
        key = (cls, "r", as_type)
        cache = _LOOKUP
        cached = cache.get(key)
        if cached is not None:
            return cached
        base_type = _base_type(as_type)
        for hook in cls._ordered_hooks():
            if hook.can_retrieve(base_type) is CanRetResult.YES:
                cache[key] = hook
                return hook
        raise HookError(
            f"no table hook of {cls.__name__} can retrieve tables as {_type_name(base_type)}; "
            f"supported input types: {', '.join(cls.supported_names('r'))}. If the type comes "
            "from an optional library, install it (e.g. pip install 'tabledag[polars]')"
        )

    @classmethod
    def supported_names(cls, direction: str) -> list[str]:
        names: list[str] = []
        for hook in cls._ordered_hooks():
            for name in getattr(hook, "materializes" if direction == "m" else "retrieves", ()):
                if name not in names:
                    names.append(name)
        return names


def _base_type(as_type: Any) -> Any:
    """`(pd.DataFrame, "arrow")` asks for a flavour of `pd.DataFrame`: hooks match the type."""
    return as_type[0] if isinstance(as_type, tuple) else as_type


def _type_name(type_: Any) -> str:
    if isinstance(type_, type):
        return f"{type_.__module__}.{type_.__qualname__}"
    return repr(type_)


def can_any_store_retrieve(as_type: Any) -> bool:
    """Whether some store class has a hook for `as_type` (a declaration-time check)."""
    import importlib

    importlib.import_module("tabledag.stores.sql")  # registers the built-in hooks
    base_type = _base_type(as_type)
    pending = list(HookRegistry.__subclasses__())
    while pending:
        store = pending.pop()
        pending.extend(store.__subclasses__())
        if any(h.can_retrieve(base_type) is CanRetResult.YES for h in store._ordered_hooks()):
            return True
    return False
