"""Which hook writes or reads which type, for which store.

Hooks register for a store class (`@SQLTableStore.register_table()` is the seed's spelling of
`register(SQLTableStore)`) and apply to its subclasses; the built-in hooks register for the base
`TableStore`, so every store gets them. The registry is a value of its own, not a class
attribute of a store, so the store package never imports hook modules: the built-in ones are
imported on the first lookup.

Lookup walks the store's MRO (a subclass's hooks before its base's) and, within one class, the
newest registration first; a hook whose `requires` the store lacks is passed over. Answers are
cached per (store class, type) where the hook said YES.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import HookError
from .base import CanMatResult, CanRetResult

if TYPE_CHECKING:
    from ..stores.base import TableStore
    from .base import TableHook

BUILTIN = (
    "pyarrow",
    "pandas",
    "polars",
    "sqlalchemy",
    "sql",
    "view",
    "ibis",
    "tidypolars",
    "pydiverse_transform",
)
"""Built-in hook modules under `tabledag.hooks`, registered in this order (later asked first:
tidypolars' tibble is a polars DataFrame, so its hook comes after polars'). The optional ones
register nothing where their library is not installed."""

_hooks: dict[type, list[type[TableHook]]] = {}
_lookup: dict[tuple[type, str, Any], type[TableHook]] = {}
_builtins_loaded = False


def register(
    scope: type[TableStore], *requirements: Any
) -> Callable[[type[TableHook]], type[TableHook]]:
    """Decorator: register a hook for `scope` and its subclasses (skipped if a requirement is
    falsy, e.g. an optional import that resolved to None)."""

    def decorator(hook: type[TableHook]) -> type[TableHook]:
        if all(requirements):
            _hooks.setdefault(scope, []).append(hook)
            _lookup.clear()
        return hook

    return decorator


def ordered_hooks(store: type[TableStore]) -> list[type[TableHook]]:
    """The hooks that apply to `store`, in the order they are asked."""
    _load_builtins()
    hooks: list[type[TableHook]] = []
    for klass in store.__mro__:
        for hook in reversed(_hooks.get(klass, [])):
            if hook.requires <= store.capabilities and hook not in hooks:
                hooks.append(hook)
    return hooks


def hook_for_materialize(store: type[TableStore], type_: type) -> type[TableHook]:
    cached = _lookup.get((store, "m", type_))
    if cached is not None:
        return cached
    for hook in ordered_hooks(store):
        answer = hook.can_materialize(type_)
        if answer is CanMatResult.YES:
            _lookup[(store, "m", type_)] = hook
            return hook
        if answer is CanMatResult.YES_BUT_DONT_CACHE:
            return hook
    raise HookError(
        f"no table hook of {store.__name__} can materialize {_type_name(type_)}; "
        f"supported: {', '.join(supported_names(store, 'm'))}"
    )


def hook_for_retrieve(store: type[TableStore], as_type: Any) -> type[TableHook]:
    key = (store, "r", as_type)
    cached = _lookup.get(key)
    if cached is not None:
        return cached
    base_type = base_input_type(as_type)
    for hook in ordered_hooks(store):
        if hook.can_retrieve(base_type) is CanRetResult.YES:
            _lookup[key] = hook
            return hook
    raise HookError(
        f"no table hook of {store.__name__} can retrieve tables as {_type_name(base_type)}; "
        f"supported input types: {', '.join(supported_names(store, 'r'))}. If the type comes "
        "from an optional library, install it (e.g. pip install 'tabledag[polars]')"
    )


def supported_names(store: type[TableStore], direction: str) -> list[str]:
    names: list[str] = []
    for hook in ordered_hooks(store):
        for name in hook.materializes if direction == "m" else hook.retrieves:
            if name not in names:
                names.append(name)
    return names


def can_any_store_retrieve(as_type: Any) -> bool:
    """Whether a hook registered for any store reads tables as `as_type` (checked when a task
    is declared, before any store exists)."""
    _load_builtins()
    base_type = base_input_type(as_type)
    return any(
        hook.can_retrieve(base_type) is CanRetResult.YES
        for hooks in _hooks.values()
        for hook in hooks
    )


def base_input_type(as_type: Any) -> Any:
    """`(pd.DataFrame, "arrow")` asks for a flavour of `pd.DataFrame`: hooks match the type."""
    return as_type[0] if isinstance(as_type, tuple) else as_type


def _load_builtins() -> None:
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        for name in BUILTIN:
            importlib.import_module(f"tabledag.hooks.{name}")


def _type_name(type_: Any) -> str:
    if isinstance(type_, type):
        return f"{type_.__module__}.{type_.__qualname__}"
    return repr(type_)
