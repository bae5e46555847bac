"""Walking the containers users pass to and return from tasks.

Task arguments and outputs nest references in lists, tuples (named or not), dicts, sets and
dataclass instances; every part of tabledag that looks for references (wiring, input resolution,
output collection, stored outputs) walks them with these two functions, so they all agree on
what a container is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any


def map_tree(value: Any, fn: Callable[[Any], Any], leaf: Callable[[Any], bool]) -> Any:
    """`value` rebuilt with `fn` applied to every part for which `leaf` is true.

    Containers without a leaf inside come back as the same object, so walking a large value
    that holds no reference costs no copy.
    """
    if leaf(value):
        return fn(value)
    if isinstance(value, list):
        items = [map_tree(v, fn, leaf) for v in value]
        return value if _same(items, value) else items
    if isinstance(value, tuple):
        items = [map_tree(v, fn, leaf) for v in value]
        if _same(items, value):
            return value
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, dict):
        mapped = {k: map_tree(v, fn, leaf) for k, v in value.items()}
        return value if _same(list(mapped.values()), list(value.values())) else mapped
    if isinstance(value, set | frozenset):
        items = [map_tree(v, fn, leaf) for v in value]
        return value if _same(items, list(value)) else type(value)(items)
    if _user_dataclass(value):
        changes = {}
        for f in dataclasses.fields(value):
            if f.init:
                old = getattr(value, f.name)
                new = map_tree(old, fn, leaf)
                if new is not old:
                    changes[f.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    return value


def iter_tree(value: Any, leaf: Callable[[Any], bool]) -> Iterator[Any]:
    """Every part of `value` for which `leaf` is true, depth first."""
    if leaf(value):
        yield value
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from iter_tree(item, leaf)
    elif isinstance(value, dict):
        for item in value.values():
            yield from iter_tree(item, leaf)
    elif _user_dataclass(value):
        for f in dataclasses.fields(value):
            if f.init:
                yield from iter_tree(getattr(value, f.name), leaf)


def _user_dataclass(value: Any) -> bool:
    """A dataclass instance of the user's (tabledag's own values are leaves, not containers)."""
    return (
        dataclasses.is_dataclass(value)
        and not isinstance(value, type)
        and not type(value).__module__.startswith("tabledag.")
    )


def _same(new: list[Any], old: Any) -> bool:
    return all(a is b for a, b in zip(new, old, strict=True))
