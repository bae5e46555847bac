"""Fresh input: `@materialize(cache=fn)` and pipedag's `CacheValidationMode`.

A task that reads something tabledag does not store (a file, a table another system fills)
names a cache function: it is called with the task's arguments before the cache check, and its
value joins the task's cache key, so a new value runs the task again (a lazy task's query is
re-run even though its SQL did not change: that is the rule for queries over user-managed
tables, see docs/pipedag.md). The value is kept in the task's record; the modes decide what
it counts for:

- NORMAL: a new value runs the task.
- IGNORE_FRESH_INPUT: the values are ignored: a task runs only if its code or inputs changed.
- ASSERT_NO_FRESH_INPUT: as IGNORE_FRESH_INPUT, and a task with a cache function that would
  run anyway is an error (`FreshInputError`), unless it says `allow_fresh_input=True`: for
  runs that must not pull new data in.
- FORCE_FRESH_INPUT: every task with a cache function runs.
- FORCE_CACHE_INVALID: every task runs (`flow.run(ignore_cache=True)`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from ..cache import values
from ..cache.hashing import stable_hash
from ..errors import ConfigError, TabledagError


class CacheValidationMode(enum.Enum):
    NORMAL = "normal"
    ASSERT_NO_FRESH_INPUT = "assert_no_fresh_input"
    IGNORE_FRESH_INPUT = "ignore_fresh_input"
    FORCE_FRESH_INPUT = "force_fresh_input"
    FORCE_CACHE_INVALID = "force_cache_invalid"

    @classmethod
    def of(cls, value: Any, where: str = "cache_validation.mode") -> CacheValidationMode:
        if isinstance(value, cls):
            return value
        try:
            return cls(str(value).lower())
        except ValueError:
            known = ", ".join(m.value for m in cls)
            raise ConfigError(f"{where}: unknown mode {value!r}; use one of {known}") from None


class FreshInputError(TabledagError):
    """A task with a cache function would run under ASSERT_NO_FRESH_INPUT."""


@dataclass(frozen=True)
class Freshness:
    """How a run treats cache functions and versions (what crosses to workers)."""

    mode: CacheValidationMode = CacheValidationMode.NORMAL
    disable_cache_function: bool = False
    ignore_task_version: bool = False

    @classmethod
    def of(cls, settings: Any, **given: Any) -> Freshness:
        """From the config's `cache_validation` mapping, overridden by `flow.run`'s words."""
        merged = {**dict(settings or {}), **{k: v for k, v in given.items() if v is not None}}
        return cls(
            CacheValidationMode.of(merged.get("mode", "normal")),
            bool(merged.get("disable_cache_function", False)),
            bool(merged.get("ignore_task_version", False)),
        )

    @property
    def counts_values(self) -> bool:
        return self.mode not in (
            CacheValidationMode.IGNORE_FRESH_INPUT,
            CacheValidationMode.ASSERT_NO_FRESH_INPUT,
        )


def cache_value(fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The digest of what the cache function returns for these arguments."""
    return stable_hash("cache_fn", values.dumps(fn(*args, **kwargs), strict=False))
